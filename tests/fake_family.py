"""A fake family for the tests of sweeps, reports and the CLI (importable by worker processes).

Importing this module registers the algorithm ``fake_gd`` (gradient descent with a noisy
start, R replicates batched) and the theorems ``fake.gd`` (deterministic: gradient descent
on a diagonal quadratic contracts at (1 − γμ)^{2t}), ``fake.mc`` (a Monte-Carlo mean of a
fixed-seed sample against a bound, with its confidence interval) and ``fake.bad`` (a bound
that fails).
:func:`unregister` removes them, :func:`register` puts them back.
"""

import numpy as np
from mastbench.theory import Evidence, FieldBag, NegativeControl, Theorem, _registry

from mastbench import theory
from mastbench.algorithms import AlgorithmSpec, register_algorithm
from mastbench.algorithms import _registry as _algorithms
from mastbench.trace import TraceRecorder


def fake_gd(problem, x0, *, step, iters, rng, replicates=1):
    """Gradient descent x_{t+1} = x_t − γ∇f(x_t) from x0 + 0.1·N(0, I), R replicates."""
    xp = problem.xp
    x = x0[None, :] + 0.1 * rng.normal((replicates, x0.shape[0]))
    x_star = problem.x_star
    recorder = TraceRecorder(
        "fake_gd",
        iters,
        {
            "subopt": lambda z: problem.value(z) - problem.f_star,
            "dist2": lambda z: xp.sum((z - x_star) ** 2, axis=1),
        },
        params={"step": step},
    )
    for t in range(iters + 1):
        recorder.record(t, x, grad_evals=t)
        if t < iters:
            x = x - step * problem.grad(x)
    return recorder.finish(x)


ALGORITHM = AlgorithmSpec("fake_gd", "fake", fake_gd, "textbook", True)


def _gd(instance, params):
    a = np.asarray(instance.eigs, dtype=float)
    step, iters = params["step"], params["iters"]
    t = np.arange(iters + 1)
    dist2 = ((1 - step * a[None, :]) ** (2 * t[:, None])).sum(axis=1)
    bound = (1 - step * a.min()) ** (2 * t) * a.size
    return Evidence(t, dist2, bound, atol=1e-15)


def _mc(instance, params):
    rng = np.random.default_rng(instance.seed)
    t = np.arange(1, params["iters"] + 1)
    samples = rng.exponential(1.0 / t[:, None], size=(t.size, 400))
    mean = samples.mean(axis=1)
    half = 1.96 * samples.std(axis=1, ddof=1) / np.sqrt(samples.shape[1])
    return Evidence(t, mean, 1.5 / t, lower=mean - half, upper=mean + half)


GD = Theorem(
    id="fake.gd",
    paper="textbook",
    label="GD contraction",
    tag="D",
    statement="‖x_t − x*‖² ≤ (1 − γμ)^{2t}‖x_0 − x*‖² for γ ≤ 1/L",
    algorithm="gd",
    measure="||x_t - x*||^2",
    method="deterministic",
    measurement=_gd,
    instances=lambda quick: [
        FieldBag("diag-2", eigs=[1.0, 4.0]),
        FieldBag("diag-3", eigs=[1.0, 2.0, 4.0]),
        FieldBag("singular", eigs=[0.0, 4.0]),
        FieldBag("diag-4", eigs=[0.5, 1.0, 2.0, 4.0]),
    ][: 3 if quick else 4],
    assumptions=lambda inst: [] if min(inst.eigs) > 0 else ["A ≻ 0"],
    default_params=lambda inst: {"step": 1 / max(inst.eigs), "iters": 12},
    step_size=lambda inst: 1 / max(inst.eigs),
    controls=(
        NegativeControl("step x 2.2", params=lambda inst, p: {**p, "step": 2.2 * p["step"]}),
        NegativeControl("bound x 0.5", bound_scale=0.5),
    ),
)

MC = Theorem(
    id="fake.mc",
    paper="textbook",
    label="Exponential mean",
    tag="C",
    statement="E[X_t] ≤ 1.5/t for X_t ~ Exp(t)",
    algorithm=None,
    measure="E[X_t]",
    method="montecarlo",
    measurement=_mc,
    instances=lambda quick: [FieldBag("seed-1", seed=1)],
    default_params=lambda inst: {"iters": 10},
    controls=(NegativeControl("bound x 0.3", bound_scale=0.3),),
)

BAD = Theorem(
    id="fake.bad",
    paper="nowhere",
    label="False claim",
    tag="U",
    statement="1/t ≤ 0.5/t",
    algorithm=None,
    measure="1/t",
    method="exact",
    measurement=lambda inst, params: Evidence(
        np.arange(1, 5), 1 / np.arange(1, 5), 0.5 / np.arange(1, 5)
    ),
    instances=lambda quick: [FieldBag("any")],
)

THEOREMS = (GD, MC)


def register() -> None:
    """Register the fake algorithm and theorems (idempotent)."""
    register_algorithm(ALGORITHM)
    for thm in (GD, MC, BAD):
        theory.register(thm)


register()


def unregister() -> None:
    """Remove the fake theorems and algorithm from the registries."""
    for thm in (GD, MC, BAD):
        _registry._REGISTRY.pop(thm.id, None)
    _algorithms._ALGORITHMS.pop(ALGORITHM.name, None)
