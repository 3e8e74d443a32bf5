"""A fake theorem family for the tests of sweeps and reports (importable by worker processes).

Importing this module registers ``fake.gd`` (deterministic: gradient descent on a diagonal
quadratic contracts at (1 − γμ)^{2t}) and ``fake.mc`` (a Monte-Carlo mean of a fixed-seed
sample against a bound, with its confidence interval).  :func:`unregister` removes them.
"""

import numpy as np

import theory
from theory import Evidence, Instance, NegativeControl, Theorem, _registry


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
    evaluate=_gd,
    instances=lambda quick: [
        Instance("diag-2", eigs=[1.0, 4.0]),
        Instance("diag-3", eigs=[1.0, 2.0, 4.0]),
        Instance("singular", eigs=[0.0, 4.0]),
        Instance("diag-4", eigs=[0.5, 1.0, 2.0, 4.0]),
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
    evaluate=_mc,
    instances=lambda quick: [Instance("seed-1", seed=1)],
    default_params=lambda inst: {"iters": 10},
    controls=(NegativeControl("bound x 0.3", bound_scale=0.3),),
)

THEOREMS = (GD, MC)
for _thm in THEOREMS:
    theory.register(_thm)


def unregister() -> None:
    """Remove the fake theorems from the registry."""
    for thm in THEOREMS:
        _registry._REGISTRY.pop(thm.id, None)
