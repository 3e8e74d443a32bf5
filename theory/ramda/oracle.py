"""The minibatch gradient of the RAMDA family, as implemented: unbiased, with variance σ²/b.

* ``ramda.minibatch-gradient`` — assumption (C-2) of Theorem 4 (ProxGen) and the stochastic
  setting of RAMDA's Theorem 2: the minibatch gradient G of b indices drawn uniformly with
  replacement satisfies E G = ∇f(W) and E‖G − ∇f(W)‖² = σ²(W)/b, with
  σ² = (1/n)Σ_i ‖∇f_i(W) − ∇f(W)‖².  Checked on the gradients the methods actually draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from mastbench.problems.composite import Composite
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.regularizers import L1
from mastbench.theory._core import Measurement, NegativeControl

from mastbench import algorithms
from mastbench.backend import rng as make_rng
from mastbench.montecarlo import estimate

from .common import ramda_theorem
from .instances import CompositeInstance
from .strategies import gradient_instances

__all__ = ["minibatch_gradient"]


def _instances(quick: bool) -> list[CompositeInstance]:
    X = np.array([[1.0, 0.0, 2.0], [0.0, 2.0, -1.0], [1.0, 1.0, 0.0], [3.0, -1.0, 1.0]])
    y = np.array([1.0, -1.0, 2.0, 0.5])
    problem = Composite(LeastSquares(X, y, l2=0.1), L1(0.0))
    return [
        CompositeInstance(
            "least squares n=4 d=3, W = (0.5, -1, 0.25)",
            problem=problem,
            x0=np.array([0.5, -1.0, 0.25]),
        )
    ]


def _component_gradients(instance: CompositeInstance) -> np.ndarray:
    """∇f_i(W) for every sample i, shape (n, d), from the data."""
    f, W = instance.problem.f, instance.x0
    return np.array([x * (x @ W - t) + f.l2 * W for x, t in zip(f.X, f.y, strict=True)])


def _roundoff(instance: CompositeInstance, centred: np.ndarray) -> float:
    """The rounding of the points, from the scale of the data: each recovered G_j = W_j − W¹_j
    is a sum of d + 3 products of size at most s = max|W| + max_i ‖x_i‖∞(‖x_i‖₁‖W‖∞ + |y_i|) +
    l2‖W‖∞, so it is off by δ ≤ 4(d + 4)·eps·s; a squared norm of the centred G by at most
    2δ‖G − ∇f‖₁ + dδ², and σ² by d·eps·s².  Where σ² = 0 (one sample) the points are 0 in exact
    arithmetic and only this rounding is left."""
    f, W = instance.problem.f, instance.x0
    X, y = np.asarray(f.X), np.asarray(f.y)
    d = W.size
    size = float(
        np.abs(W).max()
        + np.max(np.abs(X).max(axis=1) * (np.abs(X).sum(axis=1) * np.abs(W).max() + np.abs(y)))
        + f.l2 * np.abs(W).max()
    )
    eps = float(np.finfo(float).eps)
    delta = 4 * (d + 4) * eps * size
    squared = 2 * delta * float(np.abs(centred).sum(axis=1).max()) + d * delta**2
    return max(delta, squared + 4 * d * eps * size**2)


def _bound(instance: CompositeInstance, params: Mapping[str, Any], t: np.ndarray) -> np.ndarray:
    """sd_j (both signs) per coordinate, then σ²/b twice."""
    var = _component_gradients(instance).var(axis=0) / int(params["batch_size"])
    return np.concatenate([np.sqrt(var), np.sqrt(var), [var.sum(), var.sum()]])


def _measure(instance: CompositeInstance, params: Mapping[str, Any]) -> Measurement:
    problem, W = instance.problem, instance.x0
    b, R = int(params["batch_size"]), int(params["replicates"])
    drawn = int(params.get("drawn_batch_size", b))
    trace = algorithms.prox_sgd(
        problem,
        problem.asarray(W),
        iters=1,
        lr=1.0,
        rho=1.0,
        batch_size=drawn,
        rng=make_rng(int(params["seed"])),
        replicates=R,
        track_optimum=False,
    )
    G = W[None, :] - np.asarray(trace.x)  # prox_{η·0} = id, η = ρ = 1: W¹ = W − G
    per_sample = _component_gradients(instance)
    grad = per_sample.mean(axis=0)
    sd = np.sqrt(per_sample.var(axis=0) / b)
    sigma2_b = float(np.sum(per_sample.var(axis=0)) / b)
    centred = G - grad
    spread = np.sum(centred**2, axis=1)
    rows = np.concatenate(
        [sd[:, None] + centred.T, sd[:, None] - centred.T, [spread], [2 * sigma2_b - spread]]
    )
    est = estimate(rows, level=instance.level, method="t", simultaneous=True)
    return Measurement(
        t=np.arange(rows.shape[0]),
        measured=est.mean,
        lower=est.lower,
        upper=est.upper,
        atol=_roundoff(instance, centred),
        extra={
            "interval": est.interval(),
            "points": "per coordinate j: sd_j ± (E G_j − ∇f_j) ≤ sd_j (both signs), then "
            "E‖G − ∇f‖² ≤ σ²/b and 2σ²/b − E‖G − ∇f‖² ≤ σ²/b",
            "gradient": grad.tolist(),
            "mean_G": G.mean(axis=0).tolist(),
            "sigma2_over_b": sigma2_b,
        },
    )


@ramda_theorem(
    id="ramda.minibatch-gradient",
    rate="none",
    x_axis="check",
    label="Theorem 4, assumption (C-2); Theorem 2 (stochastic gradients)",
    tag="C",
    algorithm="prox_sgd",
    measure="E G_j − ∇f_j (both signs, shifted by sd_j) and E‖G − ∇f‖² (both sides of σ²/b)",
    method="montecarlo",
    instances=_instances,
    bound=_bound,
    default_params=lambda inst: {
        "batch_size": inst.batch_size or 2,
        "replicates": 4000,
        "seed": 0,
    },
    strategy=gradient_instances,
    controls=(
        NegativeControl(
            "gradients drawn with b = 1, compared with σ²/2",
            params=lambda i, p: {**p, "drawn_batch_size": 1},
            expect="measured",
        ),
    ),
)
def minibatch_gradient(instance: CompositeInstance, params: Mapping[str, Any]) -> Measurement:
    """Unbiased minibatch gradients with variance σ²/b (arXiv 2403.14398, (C-2)).

    Statement.
        Theorem 4 (ProxGen with inexact PG) assumes unbiased stochastic gradients with
        E‖G^t − ∇f‖² ≤ σ²/b_t (C-2), and RAMDA's Theorem 2 samples f_ξ uniformly.  For the
        minibatch mean of b component gradients ∇f_i, i uniform on {1..n} with replacement,
        E G = ∇f(W) and E‖G − ∇f(W)‖² = σ²(W)/b exactly, σ² = (1/n)Σ_i‖∇f_i − ∇f‖².

    Check
        The gradients every method of the family draws (one shared oracle) are read off one
        ProxSGD step with η = ρ = 1 and ψ = 0 (W¹ = W − G) on R = 4000 replicates, b = 2, of
        a 4-sample least-squares instance; ∇f_i, ∇f and σ² are computed here from the data.
        The equalities are checked as two one-sided points each, shifted so the bounds are
        positive: sd_j ± (E G_j − ∇f_j) ≤ sd_j (sd_j the exact standard deviation of G_j) and
        E‖G − ∇f‖² ≤ σ²/b, 2σ²/b − E‖G − ∇f‖² ≤ σ²/b; a violation is reported only when the
        lower end of a simultaneous Student-t interval at the instance's level (99 %)
        exceeds its bound.  The ratio is
        ≈ 1 by design (an equality).
    Control
        Gradients drawn with b = 1 while compared with σ²/2: E‖G − ∇f‖² = σ² > σ²/2.
    Reference
        arXiv 2403.14398, Theorem 4 and (C-2) (App. B.1), Theorem 2; ramda.md §5, §9.  Tag C.
    """
    return _measure(instance, params)
