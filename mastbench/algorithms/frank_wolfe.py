"""Frank-Wolfe methods: vanilla FW with four step rules, away/pairwise FW, stochastic FW.

All methods run a batch of R replicates as one (R, d) array in the namespace of the problem
and return a :class:`~mastbench.trace.Trace` with the metrics

* ``subopt``: f(x_k) − f*, with f* over the set from
  :func:`problems.constraints.constrained_minimum` (certified by the FW gap);
* ``gap``: the Frank-Wolfe gap g(x_k) = max_{s ∈ D} ⟨∇f(x_k), x_k − s⟩ (exact LMO, full
  gradient), an upper bound on f(x_k) − f*;
* ``support``: the number of atoms of x_k (nonzeros, nonzero groups, or rank), which from a
  zero start grows by at most one per FW step;

plus rule-specific metrics documented on each function.  The LMO convention is s = lmo(∇f)
= argmin_{s ∈ D} ⟨∇f, s⟩ (copt/chop pass −∇f and return s − x; ``frank_wolfe.md`` §9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.backend import Generator, array_namespace, device_of, scatter_add_rows
from mastbench.problems.design import row_inner_products, take_rows, weighted_row_sum
from mastbench.trace import Trace, TraceRecorder
from mastbench.validation import (
    check_generator,
    check_int,
    check_positive,
    check_real,
    check_real_floating,
)

__all__ = [
    "SFW_VARIANTS",
    "STEP_RULES",
    "away_frank_wolfe",
    "frank_wolfe",
    "pairwise_frank_wolfe",
    "stochastic_frank_wolfe",
]

#: Step-size rules of :func:`frank_wolfe`.
STEP_RULES = ("open-loop", "short", "line-search", "backtracking")

#: Variants of :func:`stochastic_frank_wolfe`.
SFW_VARIANTS = ("SAG", "SAGA", "MHK", "LF")

#: AdaFW backtracking constants (Pedregosa et al. 2020; copt and pflacg defaults).
TAU, ETA = 2.0, 0.9

_MAX_BACKTRACK = 100


# -- input checks -------------------------------------------------------------------------------


def _start(problem: Any, constraint: Any, x0: Any) -> Any:
    """x0 as an (R, d) batch in the problem's namespace, checked to be feasible."""
    from mastbench.problems.constraints import check_constraint

    check_constraint(problem, constraint)
    xp = problem.xp
    if not hasattr(x0, "shape") or array_namespace(x0) is not xp:
        raise TypeError(f"x0 must be an array of the problem's namespace {xp.__name__}")
    check_real_floating("x0", x0)
    if x0.ndim not in (1, 2) or x0.shape[-1] != problem.d:
        raise ValueError(f"x0 must have shape (d,) or (R, d) with d={problem.d}, got {x0.shape}")
    x = xp.reshape(x0, (1, problem.d)) if x0.ndim == 1 else x0
    x = xp.astype(x, problem.dtype, copy=True)
    if not constraint.contains(x, atol=1e-10):
        raise ValueError(f"x0 must lie in the constraint set {constraint!r}")
    return x


def _f_star(problem: Any, constraint: Any, f_star: float | None) -> float:
    if f_star is not None:
        return check_real("f_star", f_star)
    from mastbench.problems.constraints import constrained_minimum

    return constrained_minimum(problem, constraint).f_star


def _dot(xp: Any, a: Any, b: Any) -> Any:
    return xp.sum(a * b, axis=1)


class _StepRule:
    """Step size γ ∈ [0, γ_max] along d with slope g = ⟨−∇f(x), d⟩ ≥ 0, batched over rows.

    Parameters
    ----------
    rule : str
        One of :data:`STEP_RULES`.
    problem : Problem
        Gives f, ∇f and L (short step), or the quadratic form (line search).
    L_init : float or None
        Initial Lipschitz estimate of the backtracking rule (estimated when None).
    """

    def __init__(self, rule: str, problem: Any, L_init: float | None):
        from mastbench.problems.quadratic import QuadraticForm

        if rule not in STEP_RULES:
            raise ValueError(f"step must be one of {STEP_RULES}, got {rule!r}")
        if rule == "line-search" and not isinstance(problem, QuadraticForm):
            raise ValueError("step='line-search' is exact for quadratic problems only")
        self.rule = rule
        self.problem = problem
        self.L_init = None if L_init is None else check_positive("L_init", L_init)
        self.L: Any = None
        self.f_prev: Any = None
        self.excess: Any = None
        self.last_gamma: Any = None

    def initialize(self, x: Any, d: Any) -> None:
        """Reset the per-row state; backtracking starts from L_init or the estimate
        ‖∇f(x + εd) − ∇f(x)‖ / (ε‖d‖), ε = 1e-3 (copt)."""
        xp = self.problem.xp
        R = x.shape[0]
        self.excess = xp.zeros(R, dtype=x.dtype, device=device_of(x))
        self.last_gamma = xp.zeros(R, dtype=x.dtype, device=device_of(x))
        if self.rule != "backtracking":
            return
        if self.L_init is not None:
            self.L = xp.full((R,), self.L_init, dtype=x.dtype, device=device_of(x))
            return
        eps = 1e-3
        diff = self.problem.grad(x + eps * d) - self.problem.grad(x)
        norm_d = xp.sqrt(_dot(xp, d, d))
        est = xp.sqrt(_dot(xp, diff, diff)) / xp.where(norm_d > 0, eps * norm_d, 1.0)
        self.L = xp.where(est > 0, est, xp.ones_like(est))

    def __call__(self, k: int, x: Any, d: Any, slope: Any, gamma_max: Any) -> Any:
        """γ_k for the rows of x along d (slope = −⟨∇f(x), d⟩), capped at γ_max."""
        xp = self.problem.xp
        dd = _dot(xp, d, d)
        if self.rule == "open-loop":
            gamma = xp.minimum(xp.full_like(slope, 2.0 / (k + 2)), gamma_max)
        elif self.rule == "short":
            L = self.problem.L
            gamma = slope / xp.where(dd > 0, L * dd, 1.0)
            gamma = xp.clip(xp.where(dd > 0, gamma, 0.0), 0.0, None)
            gamma = xp.minimum(gamma, gamma_max)
        elif self.rule == "line-search":
            curv = _dot(xp, d, self.problem.grad(x + d) - self.problem.grad(x))
            unconstrained = slope / xp.where(curv > 0, curv, 1.0)
            gamma = xp.where(curv > 0, unconstrained, xp.where(slope > 0, gamma_max, 0.0))
            gamma = xp.minimum(xp.clip(gamma, 0.0, None), gamma_max)
        else:
            gamma = self._backtrack(x, self.problem.value(x), d, slope, gamma_max, dd)
        self.last_gamma = gamma
        return gamma

    def _backtrack(self, x: Any, fx: Any, d: Any, slope: Any, gamma_max: Any, dd: Any) -> Any:
        """AdaFW (Pedregosa et al. 2020, Alg. 1 with copt's warm start).

        Warm start L ← max(min(g²/(2(f_{t−1} − f_t)‖d‖²), L), ηL); then γ = min(g/(L‖d‖²),
        γ_max) is accepted when f(x + γd) ≤ Q(γ, L) = f(x) − γg + ½γ²L‖d‖² (+ round-off
        slack 10·eps·max(1, |f(x)|)), else L ← τL.
        """
        xp = self.problem.xp
        if self.f_prev is not None:
            drop = self.f_prev - fx
            ok = (drop > 0) & (dd > 0)
            warm = slope**2 / xp.where(ok, 2 * drop * dd, 1.0)
            warm = xp.where(ok, xp.minimum(warm, self.L), self.L)
            self.L = xp.maximum(warm, ETA * self.L)
        slack = 10 * float(np.finfo(float).eps) * xp.maximum(xp.abs(fx), xp.ones_like(fx))
        L = self.L
        pending = dd > 0
        gamma = xp.zeros_like(fx)
        model = fx
        for _ in range(_MAX_BACKTRACK):
            trial = xp.minimum(slope / xp.where(dd > 0, L * dd, 1.0), gamma_max)
            trial = xp.where(dd > 0, xp.clip(trial, 0.0, None), 0.0)
            q = fx - trial * slope + 0.5 * trial**2 * L * dd
            f_new = self.problem.value(x + trial[:, None] * d)
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
        self.L = L
        self.f_prev = fx
        self.excess = self.problem.value(x + gamma[:, None] * d) - model
        return gamma


def _metrics(problem: Any, constraint: Any, f_star: float) -> dict[str, Callable[[Any], Any]]:
    return {
        "subopt": lambda x: problem.value(x) - f_star,
        "gap": lambda x: constraint.gap(problem.grad(x), x),
        "support": constraint.support,
    }


def _rule_metrics(rule: _StepRule) -> dict[str, Callable[[Any], Any]]:
    out: dict[str, Callable[[Any], Any]] = {"step_size": lambda x: rule.last_gamma}
    if rule.rule == "backtracking":
        out["L_est"] = lambda x: rule.L
        out["sufficient_decrease"] = lambda x: rule.excess
    return out


def frank_wolfe(
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    step: str = "open-loop",
    iters: int = 100,
    checkpoints: Iterable[int] | None = None,
    L_init: float | None = None,
    lmo: Callable[[Any, int], Any] | None = None,
    f_star: float | None = None,
    keep_iterates: bool = False,
) -> Trace:
    """Frank-Wolfe (conditional gradient) over a compact convex set, batched over rows of x0.

    Update (Jaggi 2013, Alg. 1)::

        s_k = argmin_{s ∈ D} ⟨∇f(x_k), s⟩,   d_k = s_k − x_k,   g_k = −⟨∇f(x_k), d_k⟩
        x_{k+1} = x_k + γ_k d_k

    Parameters
    ----------
    problem : Problem
        Smooth convex objective (its namespace is the run's).
    constraint : Constraint
        The set D (:mod:`problems.constraints`).
    x0 : array, shape (d,) or (R, d)
        Feasible starting point(s).
    step : {"open-loop", "short", "line-search", "backtracking"}
        γ_k = 2/(k+2); the Demyanov–Rubinov short step min(g_k/(L‖d_k‖²), 1); exact line
        search (quadratics: γ = min(g_k/d_kᵀAd_k, 1)); AdaFW backtracking (τ = 2, η = 0.9).
    iters : int
        Number of FW steps.
    checkpoints : iterable of int, optional
        Iterations recorded (default log-spaced, see :func:`mastbench.trace.checkpoints`).
    L_init : float, optional
        Initial L estimate of the backtracking rule (estimated from a gradient difference
        when omitted).
    lmo : callable, optional
        ``lmo(g, k) -> s``, an inexact oracle replacing ``constraint.lmo`` (for Jaggi's
        δ-approximate LMO); it must return feasible points.
    f_star : float, optional
        The constrained minimum value (computed by projected FISTA when omitted).
    keep_iterates : bool
        Keep host copies of the iterates at the checkpoints.

    Returns
    -------
    Trace
        Metrics ``subopt``, ``gap``, ``support``, ``step_size`` (γ_{k−1}); with backtracking
        also ``L_est`` (L_{k−1}) and ``sufficient_decrease`` (f(x_k) − Q_{k−1}(γ_{k−1},
        L_{k−1}), ≤ round-off at accepted steps).

    References
    ----------
    M. Jaggi, "Revisiting Frank-Wolfe: Projection-Free Sparse Convex Optimization", ICML
    2013, Algorithm 1 and Theorems 1–2.  F. Pedregosa, G. Négiar, A. Askari, M. Jaggi,
    "Linearly Convergent Frank-Wolfe with Backtracking Line-Search", AISTATS 2020, Algorithm 1
    (AdaFW).  ``shared/theory/frank_wolfe.md`` §1–4.
    """
    x = _start(problem, constraint, x0)
    iters = check_int("iters", iters, low=0)
    xp = problem.xp
    rule = _StepRule(step, problem, L_init)
    oracle = (lambda g, k: constraint.lmo(g)) if lmo is None else lmo
    fs = _f_star(problem, constraint, f_star)
    g = problem.grad(x)
    rule.initialize(x, constraint.lmo(g) - x)
    recorder = TraceRecorder(
        "frank_wolfe",
        iters,
        {**_metrics(problem, constraint, fs), **_rule_metrics(rule)},
        checkpoints=checkpoints,
        params={"step": step, "constraint": repr(constraint), "f_star": fs},
        keep_iterates=keep_iterates,
    )
    ones = xp.ones(x.shape[0], dtype=x.dtype, device=device_of(x))
    recorder.record(0, x, grad_evals=0)
    for k in range(iters):
        d = oracle(g, k) - x
        slope = -_dot(xp, g, d)
        gamma = rule(k, x, d, slope, ones)
        x = x + gamma[:, None] * d
        g = problem.grad(x)
        recorder.record(k + 1, x, grad_evals=k + 1)
    return recorder.finish(x)


# -- away-step and pairwise FW ------------------------------------------------------------------


def _active_set_fw(
    variant: str,
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    step: str,
    iters: int,
    checkpoints: Iterable[int] | None,
    L_init: float | None,
    f_star: float | None,
) -> Trace:
    x = _start(problem, constraint, x0)
    xp = problem.xp
    iters = check_int("iters", iters, low=0)
    if step == "open-loop":
        raise ValueError(f"{variant} FW needs step in ('short', 'line-search', 'backtracking')")
    if not getattr(constraint, "polytope", False):
        raise TypeError(f"{variant} FW needs a polytope with a vertex list, got {constraint!r}")
    V = constraint.vertex_list(problem.d, xp, device_of(x))
    V = xp.astype(V, x.dtype)
    weights = constraint.decompose(x)
    x = weights @ V
    rule = _StepRule(step, problem, L_init)
    fs = _f_star(problem, constraint, f_star)
    state = {"drops": xp.zeros(x.shape[0], dtype=x.dtype, device=device_of(x))}
    cols = xp.arange(V.shape[0], device=device_of(x))

    def vertex_step(k: int, x: Any, weights: Any) -> tuple[Any, Any]:
        g = problem.grad(x)
        scores = g @ V.T
        i_s = xp.argmin(scores, axis=1)
        active = weights > 0
        i_v = xp.argmax(xp.where(active, scores, -xp.inf), axis=1)
        hit_s = cols[None, :] == i_s[:, None]
        hit_v = cols[None, :] == i_v[:, None]
        s = xp.take(V, i_s, axis=0)
        v = xp.take(V, i_v, axis=0)
        lam_v = xp.sum(xp.where(hit_v, weights, 0.0), axis=1)
        gx = _dot(xp, g, x)
        if variant == "pairwise":
            d = s - v
            gamma_max = lam_v
            toward = xp.ones_like(lam_v) > 0
        else:
            gap_fw = gx - _dot(xp, g, s)
            gap_away = _dot(xp, g, v) - gx
            toward = gap_fw >= gap_away
            d = xp.where(toward[:, None], s - x, x - v)
            away_max = lam_v / xp.where(lam_v < 1, 1 - lam_v, 1.0)
            gamma_max = xp.where(toward, 1.0, xp.where(lam_v < 1, away_max, 0.0))
        slope = -_dot(xp, g, d)
        gamma = rule(k, x, d, slope, gamma_max)
        drop = (gamma >= gamma_max) & (gamma_max > 0)
        if variant == "pairwise":
            weights = weights + xp.where(hit_s, gamma[:, None], 0.0)
            weights = weights - xp.where(hit_v, gamma[:, None], 0.0)
            weights = xp.where(hit_v & drop[:, None], 0.0, weights)
        else:
            fw_w = (1 - gamma[:, None]) * weights + xp.where(hit_s, gamma[:, None], 0.0)
            away_w = (1 + gamma[:, None]) * weights - xp.where(hit_v, gamma[:, None], 0.0)
            away_w = xp.where(hit_v & drop[:, None], 0.0, away_w)
            weights = xp.where(toward[:, None], fw_w, away_w)
            drop = drop & ~toward
        weights = xp.maximum(weights, 0.0)
        state["drops"] = state["drops"] + xp.astype(drop, x.dtype)
        return weights @ V, weights

    metrics = {**_metrics(problem, constraint, fs), **_rule_metrics(rule)}
    metrics["drop_steps"] = lambda x: state["drops"]
    metrics["active_size"] = lambda x: xp.sum(xp.astype(state["weights"] > 0, x.dtype), axis=1)
    state["weights"] = weights
    recorder = TraceRecorder(
        f"{variant}_frank_wolfe",
        iters,
        metrics,
        checkpoints=checkpoints,
        params={"step": step, "constraint": repr(constraint), "f_star": fs},
    )
    rule.initialize(x, constraint.lmo(problem.grad(x)) - x)
    recorder.record(0, x, grad_evals=0)
    for k in range(iters):
        x, weights = vertex_step(k, x, weights)
        state["weights"] = weights
        recorder.record(k + 1, x, grad_evals=k + 1)
    return recorder.finish(x)


_ACTIVE_DOC = """
    Parameters
    ----------
    problem : Problem
        Smooth convex objective.
    constraint : L1Ball or Simplex
        A polytope with an explicit vertex list (``vertex_list``) and ``decompose``.
    x0 : array, shape (d,) or (R, d)
        Feasible start, written as a convex combination of vertices by ``decompose``.
    step : {"short", "line-search", "backtracking"}
        Step rule on [0, γ_max] (see :func:`frank_wolfe`).
    iters : int
        Number of steps.
    checkpoints : iterable of int, optional
        Iterations recorded.
    L_init : float, optional
        Initial L of the backtracking rule.
    f_star : float, optional
        The constrained minimum value (computed when omitted).

    Returns
    -------
    Trace
        Metrics of :func:`frank_wolfe` plus ``drop_steps`` (cumulative count of steps that
        removed a vertex from the active set) and ``active_size`` (|S_k|).

    References
    ----------
    S. Lacoste-Julien, M. Jaggi, "On the Global Linear Convergence of Frank-Wolfe
    Optimization Variants", NeurIPS 2015, Algorithms 1 and 2.  F. Pedregosa, G. Négiar,
    A. Askari, M. Jaggi, "Linearly Convergent Frank-Wolfe with Backtracking Line-Search",
    AISTATS 2020 (AdaAFW, AdaPFW).
"""


def away_frank_wolfe(
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    step: str = "line-search",
    iters: int = 100,
    checkpoints: Iterable[int] | None = None,
    L_init: float | None = None,
    f_star: float | None = None,
) -> Trace:
    return _active_set_fw(
        "away",
        problem,
        constraint,
        x0,
        step=step,
        iters=iters,
        checkpoints=checkpoints,
        L_init=L_init,
        f_star=f_star,
    )


away_frank_wolfe.__doc__ = (
    """Away-step Frank-Wolfe with an active set (Lacoste-Julien & Jaggi 2015, Alg. 1).

    With x_k = Σ_{v ∈ S_k} λ_v v, s_k the FW vertex and v_k = argmax_{v ∈ S_k} ⟨∇f, v⟩: take
    the FW step d = s_k − x_k (γ_max = 1) when ⟨∇f, x_k − s_k⟩ ≥ ⟨∇f, v_k − x_k⟩, otherwise
    the away step d = x_k − v_k with γ_max = λ_v/(1 − λ_v); a step with γ = γ_max on an away
    direction drops v_k from S_k.
"""
    + _ACTIVE_DOC
)


def pairwise_frank_wolfe(
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    step: str = "line-search",
    iters: int = 100,
    checkpoints: Iterable[int] | None = None,
    L_init: float | None = None,
    f_star: float | None = None,
) -> Trace:
    return _active_set_fw(
        "pairwise",
        problem,
        constraint,
        x0,
        step=step,
        iters=iters,
        checkpoints=checkpoints,
        L_init=L_init,
        f_star=f_star,
    )


pairwise_frank_wolfe.__doc__ = (
    """Pairwise Frank-Wolfe with an active set (Lacoste-Julien & Jaggi 2015, Alg. 2).

    Moves weight from the away vertex v_k = argmax_{v ∈ S_k} ⟨∇f, v⟩ to the FW vertex s_k:
    d = s_k − v_k, γ ∈ [0, λ_{v_k}]; γ = λ_{v_k} is a drop step (v_k leaves S_k).
"""
    + _ACTIVE_DOC
)


# -- stochastic FW for generalized linear finite sums -------------------------------------------


def _glm_derivative(problem: Any) -> Callable[[Any, Any], Any]:
    """φ'_i(z) of the per-sample loss φ_i(x_iᵀw) (the ridge term is handled separately)."""
    from mastbench.problems.least_squares import LeastSquares
    from mastbench.problems.logistic import Logistic, _sigmoid

    if isinstance(problem, Logistic):
        xp = problem.xp
        return lambda z, y: -_sigmoid(xp, -y * z) * y
    if isinstance(problem, LeastSquares):
        return lambda z, y: z - y
    raise TypeError(
        f"stochastic_frank_wolfe needs a generalized linear finite sum (Logistic or "
        f"LeastSquares), got {type(problem).__name__}"
    )


def stochastic_frank_wolfe(
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    variant: str = "SAG",
    batch_size: int = 1,
    iters: int = 1000,
    rng: Generator,
    replicates: int = 1,
    checkpoints: Iterable[int] | None = None,
    f_star: float | None = None,
) -> Trace:
    """Stochastic Frank-Wolfe for min_{w ∈ C} (1/n) Σ_i φ_i(x_iᵀw) (+ (l2/2)‖w‖²).

    Constant batch size b; batches are consecutive blocks of a fresh permutation per epoch
    (m = ⌊n/b⌋ steps per epoch).  With memory α ∈ R^{R×n} and r = Xᵀα (kept incrementally),
    each step t (Négiar et al. ICML 2020, Alg. 1 and copt ``minimize_sfw``):

    * ``"SAG"`` (the paper's): α_B ← φ'_B(X_B w_t)/n; r ← r + X_Bᵀ(α_B^new − α_B^old);
      direction r; γ_t = 2/(t+2).  α starts at 0.
    * ``"SAGA"``: as SAG but the direction r_old + (n/b)·X_Bᵀ(α_B^new − α_B^old), unbiased
      for every b (copt's r + (n−1)Δ for b = 1).
    * ``"MHK"`` (Mokhtari–Hassani–Karbasi): direction d_t = (1 − ρ_t)d_{t−1} + ρ_t ĝ_t with
      ĝ_t the minibatch gradient, γ_t = 2/(t+8), ρ_t = γ_t^{2/3} (the textbook estimator,
      decaying all coordinates; copt relaxes only the sampled ones).
    * ``"LF"`` (Lu–Freund GSFW): substitute predictions σ (σ = Xw_0 at start), α = φ'(σ)/n,
      γ_t = 2(2m+t)/((t+1)(4m+t)), ρ_t = 2m/(2m+t+1), σ_B ← σ_B + ρ_t(X_B s_t − σ_B).

    The ridge gradient l2·w is added to the direction exactly.  Then s_t = LMO(direction),
    w_{t+1} = w_t + γ_t(s_t − w_t).  Cost per step O(R·b·d) for the minibatch; the memory
    update is an in-place index assignment on NumPy and CuPy, and a one-hot mask (O(R·b·n))
    on namespaces without index assignment such as array_api_strict.

    Parameters
    ----------
    problem : Logistic or LeastSquares
        A generalized linear finite sum.
    constraint : Constraint
        The set C.
    x0 : array, shape (d,)
        Feasible start (shared by the replicates).
    variant : {"SAG", "SAGA", "MHK", "LF"}
        Estimator of the gradient.
    batch_size : int
        b, 1 ≤ b ≤ n.
    iters : int
        Number of minibatch steps.
    rng : Generator
        Source of the batch permutations.
    replicates : int
        R independent runs, batched.
    checkpoints : iterable of int, optional
        Iterations recorded.
    f_star : float, optional
        The constrained minimum value (computed when omitted).

    Returns
    -------
    Trace
        Metrics ``subopt``, ``gap`` (the true FW gap with the full gradient), ``support``,
        and for SAG/SAGA/LF ``memory_error`` = max |r − Xᵀα| recomputed exactly.

    References
    ----------
    G. Négiar, G. Dresdner, A. Tsai, L. El Ghaoui, F. Locatello, R. Freund, F. Pedregosa,
    "Stochastic Frank-Wolfe for Constrained Finite-Sum Minimization", ICML 2020, Algorithm 1.
    A. Mokhtari, H. Hassani, A. Karbasi, "Stochastic Conditional Gradient Methods", JMLR 2020.
    H. Lu, R. Freund, "Generalized Stochastic Frank-Wolfe Algorithm with Stochastic
    'Substitute' Gradient for Structured Convex Optimization", Math. Program. 2021.
    ``shared/theory/frank_wolfe.md`` §5.
    """
    if variant not in SFW_VARIANTS:
        raise ValueError(f"variant must be one of {SFW_VARIANTS}, got {variant!r}")
    check_generator("rng", rng)
    derivative = _glm_derivative(problem)
    xp = problem.xp
    n, d = problem.n, problem.d
    b = check_int("batch_size", batch_size, low=1, high=n)
    R = check_int("replicates", replicates, low=1)
    iters = check_int("iters", iters, low=0)
    start = _start(problem, constraint, x0)
    if start.shape[0] != 1:
        raise ValueError("x0 must be a single point of shape (d,) (replicates share it)")
    w = xp.broadcast_to(start, (R, d)) + xp.zeros(
        (R, d), dtype=start.dtype, device=device_of(start)
    )
    X, y, l2 = problem.X, problem.y, problem.l2
    fs = _f_star(problem, constraint, f_star)
    m = n // b
    dev = device_of(w)
    if variant == "LF":
        sigma = row_inner_products(X, w)
        alpha = derivative(sigma, y[None, :]) / n
    else:
        alpha = xp.zeros((R, n), dtype=w.dtype, device=dev)
    r = weighted_row_sum(X, alpha)
    state = {"alpha": alpha, "r": r}
    metrics = _metrics(problem, constraint, fs)
    if variant != "MHK":

        def memory_error(w: Any) -> Any:
            return xp.max(xp.abs(state["r"] - weighted_row_sum(X, state["alpha"])), axis=1)

        metrics["memory_error"] = memory_error
    recorder = TraceRecorder(
        f"stochastic_frank_wolfe[{variant}]",
        iters,
        metrics,
        checkpoints=checkpoints,
        params={"variant": variant, "batch_size": b, "constraint": repr(constraint), "f_star": fs},
    )
    recorder.record(0, w, grad_evals=n if variant == "LF" else 0)
    perm = None
    for t in range(iters):
        j = t % m
        if j == 0:
            perm = rng.permutations(R, n)
        idx = perm[:, j * b : (j + 1) * b]
        rows = xp.reshape(take_rows(X, xp.reshape(idx, (-1,)), xp), (R, b, d))
        labels = xp.reshape(xp.take(y, xp.reshape(idx, (-1,))), (R, b))
        if variant == "MHK":
            gamma = 2.0 / (t + 8)
            rho = gamma ** (2.0 / 3.0)
            z = xp.sum(rows * w[:, None, :], axis=-1)
            g_hat = xp.sum(rows * derivative(z, labels)[..., None], axis=1) / b
            r = g_hat if t == 0 else (1 - rho) * r + rho * g_hat
            direction = r + l2 * w
        elif variant == "LF":
            gamma = 2.0 * (2 * m + t) / ((t + 1) * (4 * m + t))
            rho = 2.0 * m / (2 * m + t + 1)
            direction = r + l2 * w
        else:
            gamma = 2.0 / (t + 2)
            z = xp.sum(rows * w[:, None, :], axis=-1)
            delta = derivative(z, labels) / n - xp.take_along_axis(alpha, idx, axis=1)
            change = xp.sum(rows * delta[..., None], axis=1)
            alpha = scatter_add_rows(alpha, idx, delta)
            direction = (r + (n / b) * change if variant == "SAGA" else r + change) + l2 * w
            r = r + change
        s = constraint.lmo(direction)
        w = w + gamma * (s - w)
        if variant == "LF":
            sigma_b = xp.take_along_axis(sigma, idx, axis=1)
            target = xp.sum(rows * s[:, None, :], axis=-1)
            new_sigma = sigma_b + rho * (target - sigma_b)
            sigma = scatter_add_rows(sigma, idx, new_sigma - sigma_b)
            delta = derivative(new_sigma, labels) / n - xp.take_along_axis(alpha, idx, axis=1)
            alpha = scatter_add_rows(alpha, idx, delta)
            r = r + xp.sum(rows * delta[..., None], axis=1)
        state["alpha"], state["r"] = alpha, r
        recorder.record(t + 1, w, grad_evals=(n if variant == "LF" else 0) + (t + 1) * b)
    return recorder.finish(w)


# -- registration -------------------------------------------------------------------------------


def _case_problem(xp: Any, device: Any) -> tuple[Any, Any, Any]:
    from mastbench.backend import rng as make_rng
    from mastbench.problems.constraints import L1Ball
    from mastbench.problems.random import logistic

    problem = logistic(30, 5, make_rng(0, xp, device), l2=1e-2)
    x0 = xp.zeros(5, dtype=problem.dtype, device=device)
    return problem, L1Ball(1.0), x0


def _deterministic_case(**kwargs: Any) -> Callable[[Any, Any], tuple[tuple[Any, ...], dict]]:
    def make_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        problem, constraint, x0 = _case_problem(xp, device)
        return (problem, constraint, x0), {"iters": 10, **kwargs}

    return make_case


def _stochastic_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problem, constraint, x0 = _case_problem(xp, device)
    return (problem, constraint, x0), {"iters": 20, "batch_size": 3, "variant": "SAG"}


_JAGGI = "Jaggi, Revisiting Frank-Wolfe, ICML 2013, Alg. 1; Pedregosa et al. AISTATS 2020 (AdaFW)"
_LJ = "Lacoste-Julien & Jaggi, On the Global Linear Convergence of FW Variants, NeurIPS 2015"
register_algorithm(
    AlgorithmSpec(
        "frank_wolfe", "frank_wolfe", frank_wolfe, _JAGGI, False, _deterministic_case(step="short")
    )
)
register_algorithm(
    AlgorithmSpec(
        "away_frank_wolfe",
        "frank_wolfe",
        away_frank_wolfe,
        _LJ + ", Alg. 1",
        False,
        _deterministic_case(step="backtracking"),
    )
)
register_algorithm(
    AlgorithmSpec(
        "pairwise_frank_wolfe",
        "frank_wolfe",
        pairwise_frank_wolfe,
        _LJ + ", Alg. 2",
        False,
        _deterministic_case(step="backtracking"),
    )
)
register_algorithm(
    AlgorithmSpec(
        "stochastic_frank_wolfe",
        "frank_wolfe",
        stochastic_frank_wolfe,
        "Négiar et al., Stochastic Frank-Wolfe for Constrained Finite-Sum Minimization, ICML 2020",
        True,
        _stochastic_case,
    )
)
