"""Frank-Wolfe and its active-set variants (away-step, pairwise) as :class:`Method` values.

Each method is a frozen dataclass of hyperparameters over an explicit state batched over the
R rows of the start; :func:`mastbench.algorithms.driver.run` runs it.  The metrics shared by the
family (:func:`fw_metrics`) are

* ``subopt``: f(x_k) − f*, with f* over the set from
  :func:`mastbench.problems.constraints.constrained_minimum` (certified by the FW gap) unless
  given;
* ``gap``: the Frank-Wolfe gap g(x_k) = max_{s ∈ D} ⟨∇f(x_k), x_k − s⟩ (exact LMO, full
  gradient), an upper bound on f(x_k) − f*;
* ``support``: the number of atoms of x_k (nonzeros, nonzero groups, or rank).

The LMO convention is s = lmo(∇f) = argmin_{s ∈ D} ⟨∇f, s⟩ (copt/chop pass −∇f and return
s − x; ``frank_wolfe.md`` §9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from mastbench.algorithms._fw_steps import RuleState, StepRule, row_dot
from mastbench.algorithms.method import MethodBase
from mastbench.backend import array_namespace
from mastbench.validation import check_real

__all__ = [
    "ActiveSetState",
    "AwayFrankWolfe",
    "FWState",
    "FrankWolfe",
    "PairwiseFrankWolfe",
    "check_f_star",
    "check_feasible",
    "fw_metrics",
]


#: The default rules of :class:`FrankWolfe` and of the active-set variants.
OPEN_LOOP, LINE_SEARCH = StepRule("open-loop"), StepRule("line-search")


def check_feasible(problem: Any, constraint: Any, x: Any) -> None:
    """Refuse a constraint that is not a set of the problem's dimension, and a start ``x``
    (R, d) outside it by more than max(1e-10, d·eps) of the radius, eps that of the dtype of
    ``x`` (the rounding of a length-d sum: a float32 point on the boundary is inside)."""
    from mastbench.problems.constraints import check_constraint

    check_constraint(problem, constraint)
    eps = float(array_namespace(x).finfo(x.dtype).eps)
    if not constraint.contains(x, atol=max(1e-10, x.shape[-1] * eps)):
        raise ValueError(f"x0 must lie in the constraint set {constraint!r}")


def fw_metrics(
    problem: Any, constraint: Any, f_star: float | None
) -> dict[str, Callable[[Any], Any]]:
    """``subopt``, ``gap`` and ``support`` of an (R, d) batch (module docstring)."""
    if f_star is None:
        from mastbench.problems.constraints import constrained_minimum

        f_star = constrained_minimum(problem, constraint).f_star
    return {
        "subopt": lambda x: problem.value(x) - f_star,
        "gap": lambda x: constraint.gap(problem.grad(x), x),
        "support": constraint.support,
    }


def _check_rule(rule: Any) -> StepRule:
    if not isinstance(rule, StepRule):
        raise TypeError(f"rule must be a StepRule, got {type(rule).__name__}")
    return rule


def _rule_diagnostics(kind: str, rule: RuleState) -> dict[str, Any]:
    out = {"step_size": rule.gamma}
    if kind == "backtracking":
        out["L_est"] = rule.L
        out["sufficient_decrease"] = rule.excess
    return out


def check_f_star(f_star: float | None) -> float | None:
    """``f_star`` as a finite float (``None``: computed later by the method)."""
    return None if f_star is None else check_real("f_star", f_star)


class FWState(NamedTuple):
    """State of :class:`FrankWolfe`: iterates x_k (R, d), their gradients ∇f(x_k), the step
    rule's state and the number of gradient evaluations."""

    x: Any
    grad: Any
    rule: RuleState
    grad_evals: int


@dataclass(frozen=True)
class FrankWolfe(MethodBase):
    """Frank-Wolfe with a step rule (Jaggi 2013, Alg. 1; see
    :func:`~mastbench.algorithms.frank_wolfe.frank_wolfe`).

    Parameters
    ----------
    constraint : Constraint
        The set D.
    rule : StepRule
        The step-size rule (and the backtracking rule's initial L).
    lmo : callable or None
        ``lmo(g, k) -> s``, an inexact oracle used instead of ``constraint.lmo``.
    f_star : float or None
        The constrained minimum value (computed when ``None``).
    """

    name: ClassVar[str] = "frank_wolfe"
    stochastic: ClassVar[bool] = False

    constraint: Any
    rule: StepRule = OPEN_LOOP
    lmo: Callable[[Any, int], Any] | None = None
    f_star: float | None = None

    def __post_init__(self) -> None:
        _check_rule(self.rule)
        object.__setattr__(self, "f_star", check_f_star(self.f_star))

    def init(self, problem: Any, x0: Any, rng: Any) -> FWState:
        check_feasible(problem, self.constraint, x0)
        g = problem.grad(x0)
        return FWState(x0, g, self.rule.init(problem, x0, self.constraint.lmo(g) - x0), 0)

    def step(self, problem: Any, state: FWState, k: int, rng: Any) -> FWState:
        xp = problem.xp
        x, g = state.x, state.grad
        s = self.constraint.lmo(g) if self.lmo is None else self.lmo(g, k)
        d = s - x
        ones = xp.ones(x.shape[0], dtype=x.dtype, device=problem.device)
        gamma, rule = self.rule(problem, state.rule, k, x, g, d, ones)
        x = x + gamma[:, None] * d
        return FWState(x, problem.grad(x), rule, state.grad_evals + 1)

    def output(self, state: FWState) -> Any:
        return state.x

    def metrics(self, problem: Any, x0: Any) -> dict[str, Any]:
        return fw_metrics(problem, self.constraint, self.f_star)

    def diagnostics(self, state: FWState) -> dict[str, Any]:
        return _rule_diagnostics(self.rule.kind, state.rule)

    def counters(self, state: FWState) -> dict[str, float]:
        return {"grad_evals": state.grad_evals}


class ActiveSetState(NamedTuple):
    """State of the active-set variants.

    Attributes
    ----------
    x : array, shape (R, d)
        Iterates x_k = λ_k V.
    weights : array, shape (R, V)
        Convex weights λ_k over the vertex list (the active set S_k is where λ > 0).
    vertices : array, shape (V, d)
        The polytope's vertex list V (constant).
    drops : array, shape (R,)
        Cumulative number of drop steps (steps that removed a vertex from S_k).
    rule : RuleState
        The step rule's state.
    grad_evals : int
        Number of gradient evaluations.
    """

    x: Any
    weights: Any
    vertices: Any
    drops: Any
    rule: RuleState
    grad_evals: int


@dataclass(frozen=True)
class _ActiveSetFrankWolfe(MethodBase):
    """Shared part of away-step and pairwise FW (Lacoste-Julien & Jaggi 2015, Alg. 1–2).

    Parameters
    ----------
    constraint : L1Ball or Simplex
        A polytope with ``vertex_list`` and ``decompose``.
    rule : StepRule
        Step rule on [0, γ_max]: "short", "line-search" or "backtracking".
    f_star : float or None
        The constrained minimum value (computed when ``None``).
    """

    stochastic: ClassVar[bool] = False
    variant: ClassVar[str]

    constraint: Any
    rule: StepRule = LINE_SEARCH
    f_star: float | None = None

    def __post_init__(self) -> None:
        if _check_rule(self.rule).kind == "open-loop":
            raise ValueError(
                f"{self.variant} FW needs step in ('short', 'line-search', 'backtracking')"
            )
        if not getattr(self.constraint, "polytope", False):
            raise TypeError(
                f"{self.variant} FW needs a polytope with a vertex list, got {self.constraint!r}"
            )
        object.__setattr__(self, "f_star", check_f_star(self.f_star))

    def init(self, problem: Any, x0: Any, rng: Any) -> ActiveSetState:
        check_feasible(problem, self.constraint, x0)
        xp = problem.xp
        V = self.constraint.vertex_list(problem.d, xp, problem.device, x0.dtype)
        weights = self.constraint.decompose(x0)
        x = weights @ V
        rule = self.rule.init(problem, x, self.constraint.lmo(problem.grad(x)) - x)
        drops = xp.zeros(x.shape[0], dtype=x.dtype, device=problem.device)
        return ActiveSetState(x, weights, V, drops, rule, 0)

    def step(self, problem: Any, state: ActiveSetState, k: int, rng: Any) -> ActiveSetState:
        xp = problem.xp
        x, weights, V = state.x, state.weights, state.vertices
        g = problem.grad(x)
        scores = g @ V.T
        i_s = xp.argmin(scores, axis=1)
        i_v = xp.argmax(xp.where(weights > 0, scores, -xp.inf), axis=1)
        cols = xp.arange(V.shape[0], device=problem.device)
        hit_s = cols[None, :] == i_s[:, None]
        hit_v = cols[None, :] == i_v[:, None]
        s = xp.take(V, i_s, axis=0)
        v = xp.take(V, i_v, axis=0)
        lam_v = xp.sum(xp.where(hit_v, weights, 0.0), axis=1)
        rest = xp.sum(xp.where(hit_v, 0.0, weights), axis=1)
        d, gamma_max, toward = self._direction(xp, g, x, s, v, lam_v, rest)
        gamma, rule = self.rule(problem, state.rule, k, x, g, d, gamma_max)
        drop = (gamma >= gamma_max) & (gamma_max > 0)
        weights, drop = self._reweight(xp, weights, hit_s, hit_v, gamma, drop, toward)
        weights = xp.maximum(weights, 0.0)
        drops = state.drops + xp.astype(drop, x.dtype)
        return ActiveSetState(weights @ V, weights, V, drops, rule, state.grad_evals + 1)

    def _direction(
        self, xp: Any, g: Any, x: Any, s: Any, v: Any, lam_v: Any, rest: Any
    ) -> tuple[Any, Any, Any]:
        """The direction d, its maximal step γ_max and whether it is a FW (toward) step;
        ``lam_v`` is the weight of the away vertex v, ``rest`` the total weight of the others."""
        raise NotImplementedError

    def _reweight(
        self, xp: Any, weights: Any, hit_s: Any, hit_v: Any, gamma: Any, drop: Any, toward: Any
    ) -> tuple[Any, Any]:
        """The new weights after a step γ, and which rows dropped a vertex."""
        raise NotImplementedError

    def output(self, state: ActiveSetState) -> Any:
        return state.x

    def metrics(self, problem: Any, x0: Any) -> dict[str, Any]:
        return fw_metrics(problem, self.constraint, self.f_star)

    def diagnostics(self, state: ActiveSetState) -> dict[str, Any]:
        xp = array_namespace(state.x)
        active = xp.sum(xp.astype(state.weights > 0, state.x.dtype), axis=1)
        return {
            **_rule_diagnostics(self.rule.kind, state.rule),
            "drop_steps": state.drops,
            "active_size": active,
        }

    def counters(self, state: ActiveSetState) -> dict[str, float]:
        return {"grad_evals": state.grad_evals}


@dataclass(frozen=True)
class AwayFrankWolfe(_ActiveSetFrankWolfe):
    """Away-step FW (Lacoste-Julien & Jaggi 2015, Alg. 1; see
    :func:`~mastbench.algorithms.frank_wolfe.away_frank_wolfe`); parameters of
    :class:`_ActiveSetFrankWolfe`."""

    name: ClassVar[str] = "away_frank_wolfe"
    variant: ClassVar[str] = "away"

    def _direction(
        self, xp: Any, g: Any, x: Any, s: Any, v: Any, lam_v: Any, rest: Any
    ) -> tuple[Any, Any, Any]:
        gx = row_dot(xp, g, x)
        toward = gx - row_dot(xp, g, s) >= row_dot(xp, g, v) - gx
        d = xp.where(toward[:, None], s - x, x - v)
        # γ_max = λ_v/(1 − λ_v), with 1 − λ_v read as the others' total weight: for λ_v within
        # rounding of 1, 1 − λ_v and that total differ relatively, and (1 + γ_max)·w would
        # leave the simplex.
        away_max = lam_v / xp.where(rest > 0, rest, 1.0)
        gamma_max = xp.where(toward, 1.0, xp.where(rest > 0, away_max, 0.0))
        return d, gamma_max, toward

    def _reweight(
        self, xp: Any, weights: Any, hit_s: Any, hit_v: Any, gamma: Any, drop: Any, toward: Any
    ) -> tuple[Any, Any]:
        fw_w = (1 - gamma[:, None]) * weights + xp.where(hit_s, gamma[:, None], 0.0)
        away_w = (1 + gamma[:, None]) * weights - xp.where(hit_v, gamma[:, None], 0.0)
        away_w = xp.where(hit_v & drop[:, None], 0.0, away_w)
        return xp.where(toward[:, None], fw_w, away_w), drop & ~toward


@dataclass(frozen=True)
class PairwiseFrankWolfe(_ActiveSetFrankWolfe):
    """Pairwise FW (Lacoste-Julien & Jaggi 2015, Alg. 2; see
    :func:`~mastbench.algorithms.frank_wolfe.pairwise_frank_wolfe`); parameters of
    :class:`_ActiveSetFrankWolfe`."""

    name: ClassVar[str] = "pairwise_frank_wolfe"
    variant: ClassVar[str] = "pairwise"

    def _direction(
        self, xp: Any, g: Any, x: Any, s: Any, v: Any, lam_v: Any, rest: Any
    ) -> tuple[Any, Any, Any]:
        return s - v, lam_v, xp.ones_like(lam_v) > 0

    def _reweight(
        self, xp: Any, weights: Any, hit_s: Any, hit_v: Any, gamma: Any, drop: Any, toward: Any
    ) -> tuple[Any, Any]:
        weights = weights + xp.where(hit_s, gamma[:, None], 0.0)
        weights = weights - xp.where(hit_v, gamma[:, None], 0.0)
        return xp.where(hit_v & drop[:, None], 0.0, weights), drop
