"""Step-size rules of the Frank-Wolfe family, as a value with an explicit per-row state.

A :class:`StepRule` chooses γ ∈ [0, γ_max] along a direction d with slope g = ⟨−∇f(x), d⟩ ≥ 0,
for every row of an (R, d) batch at once.  What it remembers between steps (the last γ, the
backtracking estimate L_k, f at the previous step, the sufficient-decrease excess) is a
:class:`RuleState`, returned anew by every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from mastbench.backend import to_numpy
from mastbench.validation import check_positive

__all__ = ["ETA", "STEP_RULES", "TAU", "RuleState", "StepRule", "row_dot"]

#: Step-size rules of :func:`~mastbench.algorithms.frank_wolfe.frank_wolfe`.
STEP_RULES = ("open-loop", "short", "line-search", "backtracking")

#: AdaFW backtracking constants (Pedregosa et al. 2020; copt and pflacg defaults).
TAU, ETA = 2.0, 0.9

_MAX_BACKTRACK = 100


def row_dot(xp: Any, a: Any, b: Any) -> Any:
    """⟨a_r, b_r⟩ for every row r of two (R, d) arrays."""
    return xp.sum(a * b, axis=1)


class RuleState(NamedTuple):
    """What a step rule carries from one step to the next, one entry per row.

    Attributes
    ----------
    gamma : array, shape (R,)
        The last step size γ_{k−1} (0 before the first step).
    L : array, shape (R,) or None
        Backtracking: the estimate L_{k−1} accepted at the last step (L_0 before the first).
    f_prev : array, shape (R,) or None
        Backtracking: f at the start of the last step (f(x_0) before the first step, so the
        first warm start sees no decrease and keeps L_0).
    excess : array, shape (R,)
        Backtracking: f(x_k) − Q_{k−1}(γ_{k−1}, L_{k−1}), ≤ round-off at accepted steps
        (0 for the other rules).
    """

    gamma: Any
    L: Any
    f_prev: Any
    excess: Any


@dataclass(frozen=True)
class StepRule:
    """A step-size rule of the FW family.

    Parameters
    ----------
    kind : {"open-loop", "short", "line-search", "backtracking"}
        γ_k = 2/(k+2); the Demyanov–Rubinov short step min(g_k/(L‖d_k‖²), γ_max); exact line
        search (quadratic problems); AdaFW backtracking (τ = :data:`TAU`, η = :data:`ETA`).
    L_init : float or None
        Initial L estimate of the backtracking rule; when ``None`` it is estimated as
        ‖∇f(x + εd) − ∇f(x)‖ / (ε‖d‖), ε = 1e-3 (copt).
    """

    kind: str = "open-loop"
    L_init: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in STEP_RULES:
            raise ValueError(f"step must be one of {STEP_RULES}, got {self.kind!r}")
        if self.L_init is not None:
            object.__setattr__(self, "L_init", check_positive("L_init", self.L_init))

    def init(self, problem: Any, x: Any, d: Any) -> RuleState:
        """The state before the first step from the batch ``x`` and a first direction ``d``.

        Raises
        ------
        ValueError
            For ``"line-search"`` on a problem that is not a quadratic form.
        """
        from mastbench.problems.quadratic import QuadraticForm

        if self.kind == "line-search" and not isinstance(problem, QuadraticForm):
            raise ValueError("step='line-search' is exact for quadratic problems only")
        xp = problem.xp
        zeros = xp.zeros(x.shape[0], dtype=x.dtype, device=problem.device)
        if self.kind != "backtracking":
            return RuleState(zeros, None, None, zeros)
        if self.L_init is not None:
            L = xp.full((x.shape[0],), self.L_init, dtype=x.dtype, device=problem.device)
        else:
            L = _finite_difference_L(problem, x, d)
        return RuleState(zeros, L, problem.value(x), zeros)

    def __call__(
        self, problem: Any, state: RuleState, k: int, x: Any, g: Any, d: Any, gamma_max: Any
    ) -> tuple[Any, RuleState]:
        """γ_k for the rows of ``x`` along ``d`` from their gradients g = ∇f(x) (slope
        −⟨g, d⟩), capped at γ_max, and the new state."""
        xp = problem.xp
        slope = -row_dot(xp, g, d)
        if self.kind == "open-loop":
            gamma = xp.minimum(xp.full_like(slope, 2.0 / (k + 2)), gamma_max)
        elif self.kind == "short":
            dd = row_dot(xp, d, d)
            gamma = slope / xp.where(dd > 0, problem.L * dd, 1.0)
            gamma = xp.maximum(xp.where(dd > 0, gamma, 0.0), 0.0)
            gamma = xp.minimum(gamma, gamma_max)
        elif self.kind == "line-search":
            curv = row_dot(xp, d, problem.grad(x + d) - g)
            unconstrained = slope / xp.where(curv > 0, curv, 1.0)
            gamma = xp.where(curv > 0, unconstrained, xp.where(slope > 0, gamma_max, 0.0))
            gamma = xp.minimum(xp.maximum(gamma, 0.0), gamma_max)
        else:
            return _backtrack(problem, state, x, d, slope, gamma_max, row_dot(xp, d, d))
        return gamma, state._replace(gamma=gamma)


def _finite_difference_L(problem: Any, x: Any, d: Any, eps: float = 1e-3) -> Any:
    """L_0 = ‖∇f(x + εd) − ∇f(x)‖ / (ε‖d‖) per row of ``x`` (1 where it is 0), ε = 1e-3 (copt).

    The difference amplifies the rounding of ∇f by about 1/ε (10⁴ ulps in float32), so data
    narrower than float64 are differenced on the host by the float64 oracle
    ``problem.grad_host``, one row at a time (once per run): a float32 run starts from the L_0
    of its data, as a float64 run does, in the problem's dtype.
    """
    xp = problem.xp
    if x.dtype == xp.float64:
        diff = problem.grad(x + eps * d) - problem.grad(x)
        norm_d = xp.sqrt(row_dot(xp, d, d))
        est = xp.sqrt(row_dot(xp, diff, diff)) / xp.where(norm_d > 0, eps * norm_d, 1.0)
        return xp.where(est > 0, est, xp.ones_like(est))
    x_host, d_host = (np.asarray(to_numpy(a), dtype=np.float64) for a in (x, d))
    diff = np.stack(
        [
            problem.grad_host(a + eps * b) - problem.grad_host(a)
            for a, b in zip(x_host, d_host, strict=True)
        ]
    )
    norm_d = np.linalg.norm(d_host, axis=1)
    est = np.linalg.norm(diff, axis=1) / np.where(norm_d > 0, eps * norm_d, 1.0)
    return problem.asarray(np.where(est > 0, est, 1.0))


def _backtrack(
    problem: Any, state: RuleState, x: Any, d: Any, slope: Any, gamma_max: Any, dd: Any
) -> tuple[Any, RuleState]:
    """AdaFW (Pedregosa et al. 2020, Alg. 1 with copt's warm start).

    Warm start L ← max(min(g²/(2(f_{t−1} − f_t)‖d‖²), L), ηL); then γ = min(g/(L‖d‖²), γ_max)
    is accepted when f(x + γd) ≤ Q(γ, L) = f(x) − γg + ½γ²L‖d‖² (+ round-off slack
    10·eps·max(1, |f(x)|)), else L ← τL.
    """
    xp = problem.xp
    fx = problem.value(x)
    drop = state.f_prev - fx
    ok = (drop > 0) & (dd > 0)
    warm = slope**2 / xp.where(ok, 2 * drop * dd, 1.0)
    warm = xp.where(ok, xp.minimum(warm, state.L), state.L)
    L = xp.maximum(warm, ETA * state.L)
    slack = 10 * float(xp.finfo(fx.dtype).eps) * xp.maximum(xp.abs(fx), xp.ones_like(fx))
    pending = dd > 0
    gamma = xp.zeros_like(fx)
    model = fx
    for _ in range(_MAX_BACKTRACK):
        trial = xp.minimum(slope / xp.where(dd > 0, L * dd, 1.0), gamma_max)
        trial = xp.where(dd > 0, xp.maximum(trial, 0.0), 0.0)
        q = fx - trial * slope + 0.5 * trial**2 * L * dd
        f_new = problem.value(x + trial[:, None] * d)
        accept = f_new <= q + slack
        newly = pending & accept
        gamma = xp.where(newly, trial, gamma)
        model = xp.where(newly, q, model)
        pending = pending & ~accept
        if not bool(xp.any(pending)):
            break
        L = xp.where(pending, TAU * L, L)
    else:
        raise RuntimeError("AdaFW backtracking did not accept a step in 100 trials")
    excess = problem.value(x + gamma[:, None] * d) - model
    return gamma, RuleState(gamma, L, fx, excess)
