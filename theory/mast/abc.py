"""T-ABC of MAST: DSGD option II (data minibatches, optional compressor), strongly convex f.

Reference: Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
Sparsified Training", ICLR 2025, arXiv 2311.16086; ``shared/theory/mast.md`` §3.1, §4 "T-ABC".
The per-sketch ABC constants of minibatching are computed exactly by enumeration and the rate
is measured exactly by moment propagation over sketch × minibatch (:mod:`mastbench.exact`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.mast_objective import MASTObjective
from mastbench.theory import Measurement, NegativeControl
from mastbench.theory.mast.common import (
    atol,
    fixed_step_theorem,
    quadratic_instance,
    sc_assumptions,
    setting,
    sketch_support,
    start_distance2,
)
from mastbench.theory.mast.instances import MinibatchInstance

from mastbench import exact
from mastbench.algorithms.mast import DSGD
from mastbench.backend import rng
from mastbench.sketches import Bernoulli, RandK

__all__ = ["SAMPLING_CONTROL", "abc", "minibatch_variance_factor"]


# -- T-ABC --
def _restricted_inf(A: np.ndarray, b: np.ndarray, c0: float, v: np.ndarray, S: np.ndarray) -> float:
    """inf_z q(v + Sz) for q(x) = ½xᵀAx − bᵀx + c0 (convex, bounded below)."""
    H = S.T @ A @ S
    g = S.T @ (A @ v - b)
    return float(0.5 * v @ A @ v - b @ v + c0 - 0.5 * g @ np.linalg.pinv(H, hermitian=True) @ g)


def minibatch_variance_factor(n: int, b: int, replacement: bool) -> float:
    """θ with E_B‖(1/b)Σ_{i∈B} a_i‖² = ‖ā‖² + θ·(1/n)Σ_i‖a_i − ā‖² for a uniform minibatch B.

    θ = 1/b for b i.i.d. uniform draws (with replacement); θ = (n − b)/(b(n − 1)) for a
    uniform b-subset of [n] (without replacement; θ = 0 when b = n, also for n = 1).

    Derivation (without replacement) [D].  With u_i := a_i − ā (Σ_i u_i = 0) and the
    inclusion probabilities P(i ∈ B) = b/n, P(i, j ∈ B) = b(b − 1)/(n(n − 1)) for i ≠ j,
    E‖Σ_{i∈B} u_i‖² = (b/n)Σ_i‖u_i‖² + (b(b−1)/(n(n−1)))Σ_{i≠j}⟨u_i, u_j⟩, and
    Σ_{i≠j}⟨u_i, u_j⟩ = ‖Σ_i u_i‖² − Σ_i‖u_i‖² = −Σ_i‖u_i‖²; so
    E‖(1/b)Σ_{i∈B} u_i‖² = (1/b²)(b/n)(1 − (b−1)/(n−1))Σ_i‖u_i‖² = θ·(1/n)Σ_i‖u_i‖²,
    and the cross term with ā vanishes since E(1/b)Σ_{i∈B} u_i = 0.
    """
    if replacement:
        return 1.0 / b
    if n == 1:
        return 0.0
    return (n - b) / (b * (n - 1))


def _abc_method(inst: MinibatchInstance, params: dict[str, Any]) -> DSGD:
    """DSGD option II as the instance and ``params`` run it (step, minibatch mode)."""
    return DSGD(
        sketch=inst.sketch,
        gamma=float(params["step"]),
        shift=inst.shift,
        option="II",
        batch_size=inst.batch,
        replace=bool(params.get("run_replacement", inst.replacement)),
        compressor=inst.compressor,
    )


def _abc_constants(inst: MinibatchInstance) -> dict[str, float]:
    """A', C' of mast.md §4 T-ABC for minibatches of size b, with or without replacement.

    Per sketch S, f_S = (1/n)Σ_i f_{i,S} with f_{i,S}(x) = f_i(v + S(x − v)) convex and
    L_iL_S-smooth (L_S = λ_max(SᵀS)).  The minibatch gradient g_S = (1/b)Σ_{i∈B}∇f_{i,S} has
    E‖g_S‖² = (1 − θ)‖∇f_S‖² + θ(1/n)Σ_i‖∇f_{i,S}‖² with θ = ``minibatch_variance_factor``
    (1/b with replacement, (n − b)/(b(n − 1)) without), and ‖∇f_{i,S}‖² ≤
    2L_maxL_S(f_{i,S} − f_{i,S}^inf), so ABC(A_S, B, C_S) holds with A_S = θL_maxL_S,
    B = 1 − θ, C_S = 2θL_maxL_S(f_S^inf − (1/n)Σ_i f_{i,S}^inf) [D; with replacement these
    are Khaled–Richtárik's minibatch constants, without replacement the same derivation with
    θ = (n − b)/(b(n − 1)) in place of 1/b].  An unbiased diagonal compressor Q = Diag(c)
    (``inst.compressor``) multiplies all three by 1 + ω = max_i E[c_i²], since
    E‖Q(g)‖² = Σ_i E[c_i²] g_i² ≤ (1 + ω)‖g‖².  Then f_D satisfies ABC(A', 0, C') with
    A' = max_S(A_S + B·L_fL_S) and C' = E_S C_S + 2A'Δ'.
    """
    problem, b = inst.problem, inst.batch
    X = np.asarray(problem.X, float)
    y = np.asarray(problem.y, float)
    n, d = X.shape
    l2 = problem.l2
    A, bb, c0 = problem.quadratic_form()
    v = inst.shift
    S_all, probs = sketch_support(inst.sketch)
    L_max, L_f = problem.L_max, problem.L
    compressor = inst.compressor
    omega1 = 1.0 if compressor is None else float(np.max(np.diag(compressor.second_moment())))
    theta = minibatch_variance_factor(n, b, inst.replacement)
    B = omega1 * (1.0 - theta)
    A_prime, C_mean = 0.0, 0.0
    for S, p in zip(S_all, probs, strict=True):
        L_S = float(np.linalg.eigvalsh(S.T @ S)[-1])
        f_S_inf = _restricted_inf(A, bb, c0, v, S)
        comp = np.mean(
            [
                _restricted_inf(
                    np.outer(X[i], X[i]) + l2 * np.eye(d), y[i] * X[i], 0.5 * y[i] ** 2, v, S
                )
                for i in range(n)
            ]
        )
        C_mean += p * omega1 * 2 * theta * L_max * L_S * (f_S_inf - comp)
        A_prime = max(A_prime, omega1 * theta * L_max * L_S + B * L_f * L_S)
    objective = MASTObjective(problem, inst.sketch, problem.asarray(v))
    delta_prime = max(float(objective.minima_gap_sketchwise), 0.0)
    return {
        "A_prime": A_prime,
        "C_prime": C_mean + 2 * A_prime * delta_prime,
        "Delta_prime": delta_prime,
        "1+omega": omega1,
        "theta": theta,
        "replacement": inst.replacement,
    }


def _abc_instance(
    name: str,
    seed: int,
    sketch: Any,
    batch: int,
    iters: int,
    compressor: Any = None,
    *,
    replacement: bool = True,
) -> MinibatchInstance:
    from mastbench.problems.random import least_squares

    problem = least_squares(4, sketch.d, rng(seed), l2=0.5)
    return quadratic_instance(
        name,
        problem,
        sketch,
        kind=MinibatchInstance,
        seed=seed,
        iters=iters,
        batch=batch,
        compressor=compressor,
        replacement=replacement,
    )


def _abc_instances(quick: bool) -> list[MinibatchInstance]:
    return [
        _abc_instance(
            "lstsq-n4-d3 bernoulli b=1", 11, Bernoulli(np.array([0.5, 0.7, 0.9])), 1, 120
        ),
        _abc_instance("lstsq-n4-d3 randk-2 b=2", 12, RandK(3, 2), 2, 120),
        _abc_instance(
            "lstsq-n4-d3 bernoulli b=1 + Rand-2 compressor",
            13,
            Bernoulli(np.array([0.6, 0.8, 0.9])),
            1,
            120,
            compressor=RandK(3, 2),
        ),
        _abc_instance(
            "lstsq-n4-d3 randk-2 b=2 without replacement",
            12,
            RandK(3, 2),
            2,
            120,
            replacement=False,
        ),
        _abc_instance(
            "lstsq-n4-d3 bernoulli b=3 without replacement",
            14,
            Bernoulli(np.array([0.4, 0.7, 0.9])),
            3,
            120,
            replacement=False,
        ),
    ]


def _abc_assumptions(inst: MinibatchInstance) -> list[str]:
    out = sc_assumptions(inst)
    n = inst.problem.n
    if not inst.replacement and not 1 <= inst.batch <= n:
        out.append(f"a minibatch drawn without replacement needs 1 ≤ b ≤ n = {n}")
    return out


def _abc_step(inst: MinibatchInstance) -> float:
    return 1.0 / _abc_constants(inst)["A_prime"]


def _full_batch_identity(inst: MinibatchInstance) -> MinibatchInstance:
    """The instance's data with S = I and b = n drawn without replacement: C' = 0, plain GD."""
    from mastbench.sketches import Identity

    return inst.replace(
        name=inst.name + ", S = I, b = n without replacement",
        sketch=Identity(inst.problem.d),
        batch=inst.problem.n,
        compressor=None,
        replacement=False,
    )


#: Sampling-mode control: the run draws its minibatches with replacement, the constants are
#: those of sampling without replacement (θ = 0 at b = n, so C' = 0 with S = I): the data
#: noise the run has is missing from the bound, which decays geometrically below the run's
#: floor (40 steps: the bound stays above the round-off tolerance).
SAMPLING_CONTROL = NegativeControl(
    "run with replacement, constants without (S = I, b = n)",
    instance=_full_batch_identity,
    params=lambda inst, p: {**p, "run_replacement": True, "iters": 40},
    expect="measured",
)


@fixed_step_theorem(
    _abc_step,
    id="mast.abc",
    optional_params=("run_replacement",),
    label="T-ABC (DSGD option II, data minibatch, strongly convex)",
    tag="R/D",
    algorithm="dsgd",
    measure="E||x_t - x_D*||^2 with data minibatches (exact, sketch x minibatch enumeration)",
    instances=_abc_instances,
    assumptions=_abc_assumptions,
    bound=lambda inst, params, t: _abc_bound(inst, params, t),
    controls=(SAMPLING_CONTROL,),
    strategy=lambda: _abc_strategy(),
    implementation=lambda inst, params: (_abc_method(inst, params), inst.problem, inst.x0),
)
def abc(inst: MinibatchInstance, params: dict[str, Any]) -> Measurement:
    """T-ABC: DSGD option II (data minibatches, optional compressor) on a strongly convex f.

    Statement.  If g_S satisfies ABC(A, B, C) w.r.t. f_S (E[g_S | S] = ∇f_S,
    E‖g_S‖² ≤ 2A(f_S − f_S^inf) + B‖∇f_S‖² + C), then f_D satisfies ABC(A', 0, C') with
    A' = A + B L_fL_S^max, C' = C + 2A'Δ' (Δ' ≤ Δ), and for 0 < γ ≤ 1/A':
    E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T ‖x^0 − x_D*‖² + γC'/(μ_fμ_D).  For a minibatch of b of
    the n components, A_S = θL_maxL_S, B = 1 − θ, C_S = 2θL_maxL_S(f_S^inf − (1/n)Σ_i f_{i,S}^inf)
    with θ = 1/b with replacement and θ = (n − b)/(b(n − 1)) without.

    The sampling mode is the instance field ``replacement``; the constants are computed
    exactly by enumeration (``_abc_constants``; C enters as its mean over S).

    Assumptions.  f = (1/n)Σf_i, each f_i convex and L_i-smooth, f μ_f-strongly convex;
    E[S] = I, finite support; b ≤ n without replacement.

    Reference.  arXiv 2311.16086, inexact/ABC theorem (Theorem 4.3, Eqs. (8)–(9)); mast.md
    §3.1, §4 "T-ABC".  Tag R/D: existence reported [R]; constants derived [D], the
    without-replacement factor θ = (n − b)/(b(n − 1)) included (derived in
    ``minibatch_variance_factor``).  The run samples as the instance says; the
    ``params["run_replacement"]`` override (negative control only) makes the run sample
    otherwise than the constants assume.
    """
    iters = int(params["iters"])
    dist2 = exact.moments(_abc_method(inst, params), inst.problem, inst.x0, iters).dist2
    return Measurement(np.arange(iters + 1), dist2, atol=atol(dist2[0]), extra=_abc_constants(inst))


def _abc_bound(inst: MinibatchInstance, params: dict[str, Any], t: np.ndarray) -> np.ndarray:
    """(1 − γμ_fμ_D)^t ‖x^0 − x_D*‖² + γC'/(μ_fμ_D)."""
    s = setting(inst)
    step = float(params["step"])
    mu = s.mu_f * s.mu_D
    C_prime = _abc_constants(inst)["C_prime"]
    return (1 - step * mu) ** t * start_distance2(inst) + step * C_prime / mu


# -- hypothesis strategy of the instances (falsify) --
def _abc_strategy() -> Any:
    from hypothesis import strategies as st

    from mastbench.strategies import mast_least_squares_cases

    return st.tuples(mast_least_squares_cases(), st.booleans()).map(
        lambda pair: quadratic_instance(
            "hypothesis",
            pair[0]["problem"],
            pair[0]["sketch"],
            kind=MinibatchInstance,
            seed=pair[0]["seed"],
            iters=60,
            batch=pair[0]["batch"],
            replacement=pair[1],
        )
    )
