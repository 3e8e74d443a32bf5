"""T-ABC of MAST: DSGD option II (data minibatches, optional compressor), strongly convex f.

Reference: Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
Sparsified Training", ICLR 2025, arXiv 2311.16086; ``shared/theory/mast.md`` §3.1, §4 "T-ABC".
The per-sketch ABC constants of minibatching are computed exactly by enumeration and the rate
is measured exactly by moment propagation over sketch × minibatch (:mod:`mastbench.exact`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mastbench import exact
from mastbench.backend import rng
from mastbench.sketches import Bernoulli, RandK
from problems.mast_objective import MASTObjective
from theory import Evidence, Instance, NegativeControl, theorem
from theory._mast_common import (
    PAPER,
    STEP_CONTROL,
    atol,
    quadratic_instance,
    sc_assumptions,
    setting,
    sketch_support,
)


# -- T-ABC --
def _restricted_inf(A: np.ndarray, b: np.ndarray, c0: float, v: np.ndarray, S: np.ndarray) -> float:
    """inf_z q(v + Sz) for q(x) = ½xᵀAx − bᵀx + c0 (convex, bounded below)."""
    H = S.T @ A @ S
    g = S.T @ (A @ v - b)
    return float(0.5 * v @ A @ v - b @ v + c0 - 0.5 * g @ np.linalg.pinv(H, hermitian=True) @ g)


def _abc_constants(inst: Instance) -> dict[str, float]:
    """A', C' of mast.md §4 T-ABC for minibatches of size b drawn with replacement.

    Per sketch S (f_{i,S} is L_iL_S-smooth, L_S = λ_max(SᵀS)): ABC(A_S, B, C_S) holds for the
    minibatch gradient with A_S = L_maxL_S/b, B = 1 − 1/b,
    C_S = (2L_maxL_S/b)(f_S^inf − (1/n)Σ_i f_{i,S}^inf).  An unbiased diagonal compressor
    Q = Diag(c) (``inst.compressor``) multiplies all three by 1 + ω = max_i E[c_i²], since
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
    compressor = getattr(inst, "compressor", None)
    omega1 = 1.0 if compressor is None else float(np.max(np.diag(compressor.second_moment())))
    B = omega1 * (1.0 - 1.0 / b)
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
        C_mean += p * omega1 * (2 * L_max * L_S / b) * (f_S_inf - comp)
        A_prime = max(A_prime, omega1 * L_max * L_S / b + B * L_f * L_S)
    objective = MASTObjective(problem, inst.sketch, problem.asarray(v))
    delta_prime = max(float(objective.minima_gap_sketchwise), 0.0)
    return {
        "A_prime": A_prime,
        "C_prime": C_mean + 2 * A_prime * delta_prime,
        "Delta_prime": delta_prime,
        "1+omega": omega1,
    }


def _abc_instance(
    name: str, seed: int, sketch: Any, batch: int, iters: int, compressor: Any = None
) -> Instance:
    from problems.random import least_squares

    problem = least_squares(4, sketch.d, rng(seed), l2=0.5)
    return quadratic_instance(
        name, problem, sketch, seed=seed, iters=iters, batch=batch, compressor=compressor
    )


def _abc_step(inst: Instance) -> float:
    return 1.0 / _abc_constants(inst)["A_prime"]


@theorem(
    id="mast.abc",
    paper=PAPER,
    label="T-ABC (DSGD option II, data minibatch, strongly convex)",
    tag="R/D",
    statement=(
        "If g_S satisfies ABC(A, B, C) w.r.t. f_S, f_D satisfies ABC(A', 0, C') with "
        "A' = A + B L_fL_S^max, C' = C + 2A'Δ'; then E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T‖x^0 − "
        "x_D*‖² + γC'/(μ_fμ_D) for 0 < γ ≤ 1/A'"
    ),
    algorithm="dsgd",
    measure="E||x_t - x_D*||^2 with data minibatches (exact, sketch x minibatch enumeration)",
    method="exact",
    instances=lambda quick: [
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
    ],
    assumptions=sc_assumptions,
    default_params=lambda inst: {"step": _abc_step(inst), "iters": inst.iters},
    step_size=_abc_step,
    controls=(STEP_CONTROL, NegativeControl("bound x 0.5", bound_scale=0.5)),
    strategy=lambda: _abc_strategy(),
)
def abc(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-ABC: DSGD option II (data minibatches with replacement) on a strongly convex f.

    Statement.  If E[g_S | S] = ∇f_S and E‖g_S‖² ≤ 2A(f_S − f_S^inf) + B‖∇f_S‖² + C, then
    E‖g‖² ≤ 2A'(f_D − f_D*) + C' with A' = A + B L_fL_S^max, C' = C + 2A'Δ' (Δ' ≤ Δ), and
    for 0 < γ ≤ 1/A': E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T ‖x^0 − x_D*‖² + γC'/(μ_fμ_D).
    The per-sketch ABC constants of minibatching with replacement (Khaled–Richtárik) are
    computed exactly by enumeration (see ``_abc_constants``; C enters as its mean over S).

    Assumptions.  f = (1/n)Σf_i, each f_i convex and L_i-smooth, f μ_f-strongly convex;
    E[S] = I, finite support.

    Reference.  arXiv 2311.16086, inexact/ABC theorem (Theorem 4.3, Eqs. (8)–(9)); mast.md
    §3.1, §4 "T-ABC".  Tag R/D: existence reported, constants derived.
    """
    problem = inst.problem
    s = setting(inst)
    step, iters = float(params["step"]), int(params["iters"])
    dist2 = exact.dsgd_minibatch_moments(
        problem,
        inst.sketch,
        batch_size=inst.batch,
        replacement=True,
        compressor=getattr(inst, "compressor", None),
        x0=inst.x0,
        step=step,
        iters=iters,
        shift=inst.shift,
    ).dist2
    constants = _abc_constants(inst)
    mu = s.mu_f * s.mu_D
    t = np.arange(iters + 1)
    bound = (1 - step * mu) ** t * dist2[0] + step * constants["C_prime"] / mu
    return Evidence(t, dist2, bound, atol=atol(dist2[0]), extra=constants)


# -- hypothesis strategy of the instances (falsify) --
def _abc_strategy() -> Any:
    from mastbench.strategies import mast_least_squares_cases

    return mast_least_squares_cases().map(
        lambda case: quadratic_instance(
            "hypothesis",
            case["problem"],
            case["sketch"],
            seed=case["seed"],
            iters=60,
            batch=case["batch"],
        )
    )
