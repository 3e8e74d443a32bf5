"""RAMDA and its relatives (RMDA, ProxGen, ProxSGD, ProxSSI, MADGRAD, MDA), batched.

All methods minimize F = f + ψ (a :class:`problems.composite.Composite`) from x0, running R
replicates at once as (R, d) arrays.  ``batch_size=None`` uses the full gradient ∇f (the
deterministic case); otherwise each replicate draws ``batch_size`` component indices uniformly
with replacement per step and uses their mean gradient.

Recorded metrics (of the structured iterate Ŵ^t for the dual-averaging methods, of W^t for
the others; ``output="avg"`` records the averaged W^t of RAMDA/RMDA instead): ``objective``
F, ``stationarity2`` dist(0, ∂F)², ``support`` (number of active groups), and with
``track_optimum=True`` also ``subopt`` F − F* and ``support_errors`` (|supp Δ S*|).

Reference: Huang & Lee, arXiv 2403.14398 (RAMDA, Algorithm 1, eqs. (2)–(9), App. A.1);
ramda.md §2–§8 for the official code's defaults and schedules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.algorithms._subproblem import solve_exact, solve_pg
from mastbench.backend import Generator, array_namespace, device_of
from mastbench.problems.base import FiniteSum, Problem
from mastbench.problems.composite import Composite
from mastbench.trace import Trace, TraceRecorder
from mastbench.validation import (
    check_finite,
    check_generator,
    check_in_range,
    check_int,
    check_positive,
    check_real_floating,
)

__all__ = [
    "expected_squared_gradient",
    "madgrad",
    "mda",
    "prox_gen",
    "prox_sgd",
    "prox_ssi",
    "ramda",
    "rmda",
]

Schedule = float | Callable[[int], float]

_PAPER = "Huang & Lee, RAMDA, arXiv 2403.14398"


# -- shared plumbing ---------------------------------------------------------------------
def _value_at(schedule: Schedule, k: int) -> float:
    return float(schedule(k)) if callable(schedule) else float(schedule)


def _start(problem: Any, x0: Any, replicates: int) -> Any:
    xp = problem.xp
    replicates = check_int("replicates", replicates, low=1)
    if not hasattr(x0, "shape") or array_namespace(x0) is not xp:
        raise TypeError("x0 must be an array of the problem's namespace")
    check_real_floating("x0", x0)
    if x0.ndim != 1 or x0.shape[0] != problem.d:
        raise ValueError(f"x0 must have shape (d,) with d={problem.d}, got {x0.shape}")
    check_finite("x0", x0)
    return xp.broadcast_to(problem.asarray(x0)[None, :], (replicates, problem.d)) + 0.0


def _gradient_oracle(
    f: Problem, batch_size: int | None, rng: Generator | None
) -> Callable[[Any], Any]:
    if batch_size is None:
        return f.grad
    if not isinstance(f, FiniteSum):
        raise TypeError("batch_size needs a finite-sum f (problems.FiniteSum)")
    batch_size = check_int("batch_size", batch_size, low=1)
    if rng is None:
        raise ValueError("rng is required when batch_size is given (stochastic gradients)")
    check_generator("rng", rng)

    def oracle(W: Any) -> Any:
        idx = rng.integers(0, f.n, (W.shape[0], batch_size))
        return f.grad_batch(W, idx)

    return oracle


#: step(k, W^{k−1}, G^k) -> (W^k, the iterate to record, increments of the counters).
_Step = Callable[[int, Any, Any], tuple[Any, Any, dict[str, float]]]


def _run(
    name: str,
    f: Problem,
    W: Any,
    step: _Step,
    *,
    iters: int,
    rng: Generator | None,
    batch_size: int | None,
    metrics: dict[str, Callable[[Any], Any]],
    params: dict[str, Any],
    counters: tuple[str, ...],
    checkpoints: Any,
    keep_iterates: bool,
) -> Trace:
    """The loop every method here shares, from the started (R, d) batch W = W⁰.

    For k = 1, …, T: G^k = ∇f_ξk(W^{k−1}) (full ∇f when batch_size is None), then
    (W^k, X^k, increments) = step(k, W^{k−1}, G^k); X^k is recorded with ``grad_evals``
    (k·b, or k) and each of ``counters`` summed over the increments so far, and the trace
    ends at X^T (W⁰ when T = 0).
    """
    iters = check_int("iters", iters, low=0)
    oracle = _gradient_oracle(f, batch_size, rng)
    recorder = TraceRecorder(
        name, iters, metrics, checkpoints=checkpoints, keep_iterates=keep_iterates, params=params
    )
    totals = dict.fromkeys(counters, 0.0)
    recorder.record(0, W, grad_evals=0, **totals)
    X = W
    for k in range(1, iters + 1):
        W, X, increments = step(k, W, oracle(W))
        for counter, value in increments.items():
            totals[counter] += value
        recorder.record(k, X, grad_evals=k * (batch_size or 1), **totals)
    return recorder.finish(X)


def _composite_metrics(
    problem: Composite, track_optimum: bool, extra: dict[str, Callable[[Any], Any]] | None = None
) -> dict[str, Callable[[Any], Any]]:
    xp = problem.xp
    metrics: dict[str, Callable[[Any], Any]] = {
        "objective": problem.value,
        "stationarity2": problem.stationarity2,
        "support": lambda W: xp.sum(xp.astype(problem.support(W), W.dtype), axis=-1),
    }
    if track_optimum:
        metrics["subopt"] = lambda W: problem.value(W) - problem.F_star
        metrics["support_errors"] = problem.support_errors
    metrics.update(extra or {})
    return metrics


def _check_composite(problem: Any) -> Composite:
    if not isinstance(problem, Composite):
        raise TypeError(f"problem must be a problems.Composite, got {type(problem).__name__}")
    return problem


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_weight(name: str, value: Any) -> float:
    """A momentum weight c (or ρ) in (0, 1]: 1 keeps only the newest term."""
    return check_in_range(name, value, 0.0, 1.0, low_open=True, high_open=False)


def _check_milestones(milestones: tuple[int, ...], iters: int) -> tuple[int, ...]:
    ms = tuple(check_int("milestones[i]", m, low=1, high=iters) for m in milestones)
    if list(ms) != sorted(set(ms)):
        raise ValueError(f"milestones must be strictly increasing, got {milestones}")
    return ms


@dataclass(frozen=True)
class _Subproblem:
    """How RAMDA's (4) and ProxGen's (6) are solved: exactly, or by PG (Algorithm 2)."""

    solver: str
    stop: str
    eps_sub: float
    eps_sub_power: float
    pg_max_iters: int
    rtol: float
    screening: bool

    @classmethod
    def checked(
        cls,
        solver: str,
        stop: str,
        eps_sub: float,
        eps_sub_power: float,
        pg_max_iters: int,
        rtol: float,
        screening: bool,
    ) -> _Subproblem:
        return cls(
            _check_choice("solver", solver, ("pg", "exact")),
            _check_choice("stop", stop, ("condition7", "heuristic")),
            check_positive("eps_sub", eps_sub),
            check_positive("eps_sub_power", eps_sub_power, strict=False),
            check_int("pg_max_iters", pg_max_iters, low=1),
            check_positive("rtol", rtol),
            bool(screening),
        )

    def solve(
        self, psi: Any, a: float, V: Any, P: Any, C: Any, Z0: Any, t: int
    ) -> tuple[Any, float, int]:
        """(Ẑ, PG steps averaged over replicates, replicates whose stopping rule went unmet).

        PG starts at Z0 and stops by condition (7) with ε_t = eps_sub·t^(−eps_sub_power), or
        by the official code's heuristic.
        """
        if self.solver == "exact":
            return solve_exact(psi, a, V, P, C), 0.0, 0
        result = solve_pg(
            psi,
            a,
            V,
            P,
            C,
            Z0,
            tol=self.eps_sub * t ** (-self.eps_sub_power),
            stop=self.stop,
            max_iters=self.pg_max_iters,
            rtol=self.rtol,
            screening=self.screening,
        )
        xp = array_namespace(V)
        unmet = int(xp.sum(xp.astype(~result.satisfied, xp.int64)))
        return result.Z, float(xp.mean(result.iterations)), unmet


#: RMDA's record of how its subproblem is solved: in closed form, by the prox of ψ.
_CLOSED_FORM = _Subproblem("exact", "condition7", 1.0, 0.0, 1, 1.0, False)


def expected_squared_gradient(f: FiniteSum, W: Any, batch_size: int) -> Any:
    """E[g∘g] of the minibatch gradient g at each row of W (indices drawn with replacement).

    E[g∘g] = ∇f∘∇f + (1/b)((1/n)Σ_i ∇f_i∘∇f_i − ∇f∘∇f), exact (ramda.md §9, check 2(c)).
    f must be a :class:`~problems.base.FiniteSum` (``TypeError``), W of shape (R, d)
    (``ValueError``) and b = ``batch_size`` an integer ≥ 1 (``TypeError``/``ValueError``).
    """
    if not isinstance(f, FiniteSum):
        raise TypeError(f"f must be a problems.FiniteSum, got {type(f).__name__}")
    if len(W.shape) != 2 or W.shape[1] != f.d:
        raise ValueError(f"W must have shape (R, d) with d={f.d}, got {W.shape}")
    batch_size = check_int("batch_size", batch_size, low=1)
    xp = f.xp
    R, d = W.shape
    n = f.n
    rows = xp.reshape(xp.broadcast_to(W[:, None, :], (R, n, d)), (R * n, d))
    idx = xp.reshape(xp.arange(n, device=device_of(W)), (n, 1))
    idx = xp.reshape(xp.broadcast_to(idx[None], (R, n, 1)), (R * n, 1))
    per_sample = xp.reshape(f.grad_batch(rows, idx), (R, n, d))
    mean = xp.mean(per_sample, axis=1)
    second = xp.mean(per_sample * per_sample, axis=1)
    return mean * mean + (second - mean * mean) / batch_size


# -- RAMDA and RMDA ----------------------------------------------------------------------
def _dual_averaging(
    name: str,
    problem: Composite,
    x0: Any,
    *,
    lr: Schedule,
    momentum: Schedule,
    iters: int,
    rng: Generator | None,
    replicates: int,
    batch_size: int | None,
    adaptive: bool,
    eps: float,
    subproblem: _Subproblem,
    milestones: tuple[int, ...],
    gamma: float,
    ramp: bool,
    output: str,
    track_optimum: bool,
    track_moments: bool,
    checkpoints: Any,
    keep_iterates: bool,
) -> Trace:
    problem = _check_composite(problem)
    iters = check_int("iters", iters, low=0)
    _check_choice("output", output, ("hat", "avg"))
    eps = check_positive("eps", eps)
    gamma = check_positive("gamma", gamma)
    milestones = _check_milestones(tuple(milestones), iters)
    if not callable(lr):
        check_positive("lr", lr)
    if not callable(momentum):
        _check_weight("momentum", momentum)
    if track_moments and batch_size is None:
        raise ValueError("track_moments needs a batch_size (the minibatch second moment)")
    xp, psi = problem.xp, problem.psi
    W = _start(problem, x0, replicates)
    state: dict[str, Any] = {"W": W, "hat": W, "V": xp.zeros_like(W), "U": xp.zeros_like(W)}
    state.update(alpha=0.0, t=0, lr_scale=1.0, eps=eps, W0=W)

    def avg_gap(_: Any) -> Any:
        diff = state["W"] - state["hat"]
        return xp.sum(diff * diff, axis=-1)

    extra: dict[str, Callable[[Any], Any]] = {"avg_gap2": avg_gap}
    if track_moments:
        moments: dict[str, Any] = {"at": None}

        def moments_at_W() -> tuple[Any, Any]:
            """∇f(W^t) and E[g∘g](W^t), computed once per recorded W^t (O(n) gradients)."""
            if moments["at"] is not state["W"]:
                moments.update(
                    at=state["W"],
                    grad=problem.f.grad(state["W"]),
                    second=expected_squared_gradient(problem.f, state["W"], batch_size),
                )
            return moments["grad"], moments["second"]

        def dual_gap(_: Any) -> Any:
            if state["alpha"] == 0:
                return xp.zeros((W.shape[0],), dtype=W.dtype, device=device_of(W))
            diff = state["V"] / state["alpha"] - moments_at_W()[0]
            return xp.sum(diff * diff, axis=-1)

        def moment_gap(_: Any) -> Any:
            if state["alpha"] == 0:
                return xp.zeros((W.shape[0],), dtype=W.dtype, device=device_of(W))
            target = moments_at_W()[1]
            diff = state["U"] / state["alpha"] - target
            return xp.sum(diff * diff, axis=-1) / xp.sum(target * target, axis=-1)

        def noise(_: Any) -> Any:
            grad, target = moments_at_W()
            return xp.sum(target - grad * grad, axis=-1)

        extra.update(dual_gap2=dual_gap, moment_gap2_rel=moment_gap, grad_noise2=noise)
    final_stage_start = milestones[-1] if milestones else 0

    def step(k: int, W: Any, G: Any) -> tuple[Any, Any, dict[str, float]]:
        if k - 1 in milestones:
            state["lr_scale"] *= gamma
            state["eps"] *= gamma
            state.update(alpha=0.0, t=0, V=xp.zeros_like(W), U=xp.zeros_like(W))
            state["W0"] = W
        state["t"] += 1
        t = state["t"]
        s_t = state["lr_scale"] * check_positive(f"lr({k})", _value_at(lr, k)) * math.sqrt(t)
        state["alpha"] += s_t
        alpha = state["alpha"]
        state["V"] = state["V"] + s_t * G
        state["U"] = state["U"] + s_t * G * G
        if adaptive:
            P = state["U"] ** (1.0 / 3.0) + state["eps"]
            hat, steps, unmet = subproblem.solve(psi, alpha, state["V"], P, state["W0"], W, t)
        else:
            beta = math.sqrt(t)
            hat = psi.prox(state["W0"] - state["V"] / beta, alpha / beta)
            steps, unmet = 0.0, 0
        c = _check_weight(f"momentum({k})", _value_at(momentum, k))
        if ramp and k > final_stage_start:
            c = min(c * math.sqrt(k - final_stage_start), 1.0)
        state["hat"] = hat
        state["W"] = (1.0 - c) * W + c * hat
        counts = {"pg_iters": steps, "unmet_condition7": unmet}
        return state["W"], hat if output == "hat" else state["W"], counts

    return _run(
        name,
        problem.f,
        W,
        step,
        iters=iters,
        rng=rng,
        batch_size=batch_size,
        metrics=_composite_metrics(problem, track_optimum, extra),
        params={
            "lr": None if callable(lr) else float(lr),
            "batch_size": batch_size,
            "solver": subproblem.solver,
            "stop": subproblem.stop,
            "milestones": list(milestones),
            "output": output,
        },
        counters=("pg_iters", "unmet_condition7"),
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


def ramda(
    problem: Composite,
    x0: Any,
    *,
    iters: int,
    lr: Schedule = 1e-2,
    momentum: Schedule = 0.1,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    eps: float = 1e-6,
    solver: str = "pg",
    stop: str = "condition7",
    eps_sub: float = 1e-6,
    eps_sub_power: float = 0.6,
    pg_max_iters: int = 100,
    rtol: float = 1e-8,
    screening: bool = True,
    milestones: tuple[int, ...] = (),
    gamma: float = 0.1,
    ramp: bool = False,
    output: str = "hat",
    track_optimum: bool = True,
    track_moments: bool = False,
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """RAMDA (arXiv 2403.14398, Algorithm 1, eqs. (2)–(5)).

    For k = 1, …, T, with t the step within the current stage (t restarts at 1 after every
    milestone), W⁰ the stage's anchor and α_0 = 0, V^0 = U^0 = 0::

        G^t = ∇f_ξt(W^{t−1})                       (full ∇f when batch_size is None)
        s_t = η_k √t,  α_t = α_{t−1} + s_t
        V^t = V^{t−1} + s_t G^t,  U^t = U^{t−1} + s_t G^t∘G^t
        P^t = Diag(∛U^t + ε)
        Ŵ^t ≈ argmin_W Q_t(W) = α_t ψ(W) + ⟨V^t, W⟩ + ½⟨W − W⁰, P^t(W − W⁰)⟩      (4)
        W^t = (1 − c_k) W^{t−1} + c_k Ŵ^t                                         (5)

    The subproblem (4) is solved by PG (Algorithm 2) warm-started at W^{t−1}, or exactly.

    Parameters
    ----------
    problem : Composite
        F = f + ψ (:class:`problems.composite.Composite`; ``TypeError`` otherwise).
    x0 : array, shape (d,)
        W⁰, the anchor of the dual averaging, shared by every replicate: an array of the
        problem's namespace (``TypeError``) of shape (d,) (``ValueError``).
    iters : int
        Number of steps T ≥ 0 (``TypeError`` if not an integer, ``ValueError`` if < 0).
    lr : float or callable, default 1e-2
        η > 0 (``TypeError``/``ValueError`` otherwise), or k ↦ η_k evaluated at the global
        step k = 1, …, T, each value checked when used (``ValueError`` naming ``lr(k)``);
        1e-2 is the RAMDA package default.
    momentum : float or callable, default 0.1
        c ∈ (0, 1] (``ValueError`` otherwise; c = 1: no averaging, W^t = Ŵ^t), or k ↦ c_k,
        each value checked when used (``ValueError`` naming ``momentum(k)``).
    rng : Generator, optional
        Source of the minibatch indices; required when ``batch_size`` is given
        (``ValueError``), unused otherwise.
    replicates : int, default 1
        Number R ≥ 1 of independent runs, batched as (R, d) arrays.
    batch_size : int, optional
        b ≥ 1: each replicate draws b component indices uniformly with replacement per step
        and uses their mean gradient; needs f to be a :class:`~problems.base.FiniteSum`
        (``TypeError``).  ``None`` (default): the full gradient ∇f (deterministic run).
    eps : float, default 1e-6
        ε > 0 of the preconditioner P^t (``ValueError`` otherwise).
    solver : {"pg", "exact"}, default "pg"
        PG (Algorithm 2, with safe screening) or the exact minimizer of (4), available for
        ψ = 0, ℓ1 and group lasso (``NotImplementedError`` at the first step for other ψ).
        Any other value raises ``ValueError``.
    stop : {"condition7", "heuristic"}, default "condition7"
        PG stopping rule: condition (7), ‖s_j‖ ≤ ε_t and Q_t(Z^j) ≤ Q_t(Z⁰), with the
        residual s_j of eq. (9); or the official code's relative-decrease rule with ``rtol``.
        Any other value raises ``ValueError``.
    eps_sub : float, default 1e-6
        ε_0 > 0 in the tolerance ε_t = ε_0 t^(−p) of condition (7) (``ValueError``
        otherwise).
    eps_sub_power : float, default 0.6
        p ≥ 0 in ε_t = ε_0 t^(−p) (``ValueError`` if negative); p > 1/2 makes Σ ε_t² finite,
        the summability condition (8).
    pg_max_iters : int, default 100
        T2 ≥ 1, the cap on PG steps per subproblem (``ValueError`` below 1).
    rtol : float, default 1e-8
        Relative decrease threshold of ``stop="heuristic"`` (> 0, ``ValueError`` otherwise);
        unused with condition (7).
    screening : bool, default True
        Safe screening in PG: groups of a group-lasso ψ proved zero at the solution are
        fixed at zero (no effect for other ψ or with ``solver="exact"``).
    milestones : tuple of int, default ()
        Stage-wise restarts (App. A.1): strictly increasing iterations in [1, iters]
        (``TypeError``/``ValueError`` otherwise).  After step m of a milestone m: η ← γ·η,
        ε ← γ·ε, t, α, V, U ← 0 and W⁰ ← W^m; the c schedule is not reset.
    gamma : float, default 0.1
        γ > 0, the factor applied to η and ε at each milestone (``ValueError`` otherwise).
    ramp : bool, default False
        In the final stage (after the last milestone, or from the start without
        milestones) use c_k ← min(c_k √i, 1), i the step within that stage, so W^t → Ŵ^t.
    output : {"hat", "avg"}, default "hat"
        Which iterate the metrics and ``Trace.x`` describe: Ŵ^t (structured) or W^t
        (``ValueError`` otherwise).
    track_optimum : bool, default True
        Also record ``subopt`` and ``support_errors``, which need the Composite's certified
        minimizer W* (computed on first use).
    track_moments : bool, default False
        Also record ``dual_gap2``, ``moment_gap2_rel`` and ``grad_noise2`` (below); needs
        ``batch_size`` (``ValueError``) and costs O(n) component gradients per replicate
        at every checkpoint.
    checkpoints : array-like of int, optional
        Iterations in [0, iters] at which metrics are recorded (``ValueError`` outside);
        default :func:`mastbench.trace.checkpoints` (log-spaced, including 0 and iters).
    keep_iterates : bool, default False
        Also store the recorded (R, d) iterates at the checkpoints in ``Trace.iterates``.

    Returns
    -------
    Trace
        ``algorithm="ramda"``.  Metrics, each (C, R), of Ŵ^t (``output="hat"``) or W^t
        (``"avg"``), and of W⁰ at k = 0: ``objective`` F, ``stationarity2``
        dist(0, ∂F)², ``support`` (number of active groups), ``avg_gap2`` ‖W^t − Ŵ^t‖²;
        with ``track_optimum`` ``subopt`` F − F* and ``support_errors`` |supp Δ S*|; with
        ``track_moments`` (all at W^t; the first two are 0 at k = 0, where α = 0)
        ``dual_gap2`` ‖V^t/α_t − ∇f(W^t)‖², ``moment_gap2_rel``
        ‖U^t/α_t − E[g∘g](W^t)‖² / ‖E[g∘g](W^t)‖² and ``grad_noise2`` E‖g − ∇f(W^t)‖² of
        the minibatch gradient g.  Counters, cumulative, per replicate: ``grad_evals``
        (component gradients, k·b; or full gradients, k), ``pg_iters`` (PG steps, mean over
        replicates, summed over steps; 0 with ``solver="exact"``) and ``unmet_condition7``
        (subproblems, summed over replicates, whose stopping rule was not met within
        ``pg_max_iters``).  ``x`` is Ŵ^T or W^T, shape (R, d); ``params`` records ``lr``
        (``None`` when callable), ``batch_size``, ``solver``, ``stop``, ``milestones`` and
        ``output``.

    References
    ----------
    .. [1] Z.-S. Huang, C.-p. Lee, "Regularized Adaptive Momentum Dual Averaging with an
       Efficient Inexact Subproblem Solver for Training Structured Neural Network",
       NeurIPS 2024, arXiv 2403.14398: Algorithm 1 and eqs. (2)–(5) (update), Algorithm 2
       (PG), condition (7) with (8) (inexactness), eq. (9) (checkable residual), App. A.1
       (stage-wise schedule).  The ``heuristic`` stop, the ramp and the defaults follow the
       official code (``shared/theory/ramda.md`` §2, §3, §8).
    """
    return _dual_averaging(
        "ramda",
        problem,
        x0,
        lr=lr,
        momentum=momentum,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        adaptive=True,
        eps=eps,
        subproblem=_Subproblem.checked(
            solver, stop, eps_sub, eps_sub_power, pg_max_iters, rtol, screening
        ),
        milestones=milestones,
        gamma=gamma,
        ramp=ramp,
        output=output,
        track_optimum=track_optimum,
        track_moments=track_moments,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


def rmda(
    problem: Composite,
    x0: Any,
    *,
    iters: int,
    lr: Schedule = 1e-1,
    momentum: Schedule = 0.1,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    milestones: tuple[int, ...] = (),
    gamma: float = 0.1,
    ramp: bool = False,
    output: str = "hat",
    track_optimum: bool = True,
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """RMDA (Huang & Lee, ICLR 2022; as described in arXiv 2403.14398 §2, Table 6).

    For k = 1, …, T, with t the step within the current stage and W⁰ its anchor::

        G^t = ∇f_ξt(W^{t−1}),  s_t = η_k √t,  α_t = Σ_{i≤t} s_i,  V^t = Σ_{i≤t} s_i G^i
        β_t = √t
        Ŵ^t = prox_{(α_t/β_t)ψ}(W⁰ − V^t/β_t)
        W^t = (1 − c_k) W^{t−1} + c_k Ŵ^t

    This is RAMDA with P^t = β_t I (closed-form subproblem); ψ = 0 gives MDA.

    Parameters
    ----------
    problem, x0, iters, rng, replicates, batch_size, checkpoints, keep_iterates
        As in :func:`ramda`.
    lr : float or callable, default 1e-1
        η > 0 (``TypeError``/``ValueError`` otherwise) or k ↦ η_k (checked as in
        :func:`ramda`); 1e-1 is the paper's logistic-regression setting (App. A.1).
    momentum : float or callable, default 0.1
        c ∈ (0, 1] (``ValueError`` otherwise) or k ↦ c_k (checked as in :func:`ramda`).
    milestones, gamma, ramp
        Stage-wise restarts and the momentum ramp as in :func:`ramda` (at a milestone η ←
        γ·η, t, α, V ← 0, W⁰ ← W).
    output : {"hat", "avg"}, default "hat"
        As in :func:`ramda`.
    track_optimum : bool, default True
        As in :func:`ramda`.

    Returns
    -------
    Trace
        ``algorithm="rmda"``.  Metrics ``objective``, ``stationarity2``, ``support``,
        ``avg_gap2`` and, with ``track_optimum``, ``subopt`` and ``support_errors``, as in
        :func:`ramda`.  Counters ``grad_evals`` as in :func:`ramda`; ``pg_iters`` and
        ``unmet_condition7`` are recorded and always 0 (the prox is exact).  ``params`` as
        in :func:`ramda` (``solver="exact"``).

    References
    ----------
    .. [1] Z.-S. Huang, C.-p. Lee, "Training Structured Neural Networks Through Manifold
       Identification and Variance Reduction", ICLR 2022, arXiv 2112.02612 (RMDA).  That
       paper's text was not consulted: the update above is the one described in [2] and
       the official code (``shared/theory/ramda.md`` §4).
    .. [2] Z.-S. Huang, C.-p. Lee, "Regularized Adaptive Momentum Dual Averaging with an
       Efficient Inexact Subproblem Solver for Training Structured Neural Network",
       NeurIPS 2024, arXiv 2403.14398: §2 and Table 6 (RMDA as RAMDA with P^t a multiple
       of I), App. A.1 (schedule).
    """
    return _dual_averaging(
        "rmda",
        problem,
        x0,
        lr=lr,
        momentum=momentum,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        adaptive=False,
        eps=1.0,
        subproblem=_CLOSED_FORM,
        milestones=milestones,
        gamma=gamma,
        ramp=ramp,
        output=output,
        track_optimum=track_optimum,
        track_moments=False,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


# -- ProxGen, ProxSSI, ProxSGD -----------------------------------------------------------
def _prox_loop(
    name: str,
    problem: Composite,
    x0: Any,
    step_fn: Callable[[int, Any, Any], tuple[Any, float]],
    *,
    iters: int,
    rng: Generator | None,
    replicates: int,
    batch_size: int | None,
    track_optimum: bool,
    checkpoints: Any,
    keep_iterates: bool,
    params: dict[str, Any],
) -> Trace:
    problem = _check_composite(problem)

    def step(k: int, W: Any, G: Any) -> tuple[Any, Any, dict[str, float]]:
        W, used = step_fn(k, W, G)
        return W, W, {"pg_iters": used}

    return _run(
        name,
        problem.f,
        _start(problem, x0, replicates),
        step,
        iters=iters,
        rng=rng,
        batch_size=batch_size,
        metrics=_composite_metrics(problem, track_optimum),
        params={"batch_size": batch_size, **params},
        counters=("pg_iters",),
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


def _adam_moments(
    k: int, G: Any, state: dict[str, Any], betas: tuple[float, float]
) -> tuple[Any, Any]:
    b1, b2 = betas
    state["m"] = b1 * state["m"] + (1 - b1) * G if "m" in state else (1 - b1) * G
    state["v"] = b2 * state["v"] + (1 - b2) * G * G if "v" in state else (1 - b2) * G * G
    return state["m"] / (1 - b1**k), state["v"] / (1 - b2**k)


def _check_betas(betas: tuple[float, float]) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    b1, b2 = (
        check_in_range(f"betas[{i}]", b, 0.0, 1.0, low_open=False, high_open=True)
        for i, b in enumerate(betas)
    )
    return b1, b2


def prox_gen(
    problem: Composite,
    x0: Any,
    *,
    iters: int,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    solver: str = "pg",
    stop: str = "condition7",
    eps_sub: float = 1e-6,
    eps_sub_power: float = 0.6,
    pg_max_iters: int = 100,
    rtol: float = 1e-8,
    screening: bool = True,
    track_optimum: bool = True,
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """ProxGen as ProxAdamW (Yun et al. 2021; arXiv 2403.14398 eq. (6), Algorithm 3).

    For k = 1, …, T, with m_0 = v_0 = 0 and G^k = ∇f_ξk(W^{k−1})::

        W' = W^{k−1}(1 − η·wd)                                  (decoupled weight decay)
        m_k = β1 m_{k−1} + (1 − β1)G^k,  v_k = β2 v_{k−1} + (1 − β2)G^k∘G^k
        m̂ = m_k/(1 − β1^k),  v̂ = v_k/(1 − β2^k),  D = Diag(√v̂ + ε)
        W^k ≈ argmin_W ⟨η m̂, W⟩ + ½⟨W − W', D(W − W')⟩ + η ψ(W)              (6)

    (6) is solved by the same PG as RAMDA (warm start W', safe screening, condition (7) with
    ε_k = eps_sub·k^(−eps_sub_power), or the code's heuristic) or exactly.

    Parameters
    ----------
    problem, x0, iters, rng, replicates, batch_size, track_optimum, checkpoints, keep_iterates
        As in :func:`ramda`.
    lr : float, default 1e-3
        η > 0 (``TypeError``/``ValueError`` otherwise).
    betas : tuple of two floats, default (0.9, 0.999)
        (β1, β2), each in [0, 1) (``ValueError`` otherwise).
    eps : float, default 1e-8
        ε > 0 in D (``ValueError`` otherwise).
    weight_decay : float, default 0.0
        wd ≥ 0, decoupled (``ValueError`` if negative or not finite).
    solver, stop : str
        As in :func:`ramda` (defaults "pg", "condition7").
    eps_sub, eps_sub_power, pg_max_iters, rtol, screening
        As in :func:`ramda` (defaults 1e-6, 0.6, 100, 1e-8, True, validated the same way),
        with the global step k in the tolerance.

    Returns
    -------
    Trace
        ``algorithm="prox_gen"``.  Metrics of W^k: ``objective``, ``stationarity2``,
        ``support`` and, with ``track_optimum``, ``subopt`` and ``support_errors`` (as in
        :func:`ramda`).  Counters ``grad_evals`` (as in :func:`ramda`) and ``pg_iters``
        (PG steps, mean over replicates, summed over steps; 0 with ``solver="exact"``).
        ``params`` records ``batch_size``, ``lr``, ``eps``, ``solver`` and ``stop``.

    References
    ----------
    .. [1] J. Yun, A. C. Lozano, E. Yang, "Adaptive Proximal Gradient Methods for Structured
       Neural Networks", NeurIPS 2021 (ProxGen).
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398: eq. (6) and Algorithm 3 (ProxGen with
       the inexact PG solver, Algorithm 2 and condition (7)); the AdamW instance and its
       defaults follow the official ``ProxAdamW`` code (``shared/theory/ramda.md`` §5).
    """
    lr = check_positive("lr", lr)
    eps = check_positive("eps", eps)
    betas = _check_betas(betas)
    weight_decay = check_positive("weight_decay", weight_decay, strict=False)
    subproblem = _Subproblem.checked(
        solver, stop, eps_sub, eps_sub_power, pg_max_iters, rtol, screening
    )
    psi = _check_composite(problem).psi
    xp = problem.xp
    state: dict[str, Any] = {}

    def step(k: int, W: Any, G: Any) -> tuple[Any, float]:
        W = W * (1 - lr * weight_decay)
        m_hat, v_hat = _adam_moments(k, G, state, betas)
        D = xp.sqrt(v_hat) + eps
        Z, steps, _ = subproblem.solve(psi, lr, lr * m_hat, D, W, W, k)
        return Z, steps

    return _prox_loop(
        "prox_gen",
        problem,
        x0,
        step,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        track_optimum=track_optimum,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
        params={"lr": lr, "eps": eps, "solver": solver, "stop": stop},
    )


def prox_ssi(
    problem: Composite,
    x0: Any,
    *,
    iters: int,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-6,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    track_optimum: bool = True,
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """ProxSSI (Deleu & Bengio 2021; arXiv 2403.14398 Table 6), as in ``ramda_exp``.

    For k = 1, …, T, with Adam moments m̂, v̂ as in :func:`prox_gen` (no weight decay)::

        X = W^{k−1} − η m̂/(√v̂ + ε)
        W^k = argmin_Z ½ Σ_i d_i (Z_i − X_i)² + η ψ(Z),   d = √v̂ + ε

    The weighted prox is solved exactly (ψ = 0, ℓ1, group lasso; the code's Newton–Raphson
    solves the same secular equation to 1e-7, here bisection to machine precision).

    Parameters
    ----------
    problem, x0, iters, rng, replicates, batch_size, track_optimum, checkpoints, keep_iterates
        As in :func:`ramda`.  Other ψ raise ``NotImplementedError`` at the first step.
    lr : float, default 1e-3
        η > 0 (``TypeError``/``ValueError`` otherwise).
    betas : tuple of two floats, default (0.9, 0.999)
        (β1, β2), each in [0, 1) (``ValueError`` otherwise).
    eps : float, default 1e-6
        ε > 0 (``ValueError`` otherwise).

    Returns
    -------
    Trace
        ``algorithm="prox_ssi"``.  Metrics of W^k as :func:`prox_gen`.  Counters
        ``grad_evals`` (as in :func:`ramda`) and ``pg_iters`` (always 0: exact prox).
        ``params`` records ``batch_size``, ``lr`` and ``eps``.

    References
    ----------
    .. [1] T. Deleu, Y. Bengio, "Structured Sparsity Inducing Adaptive Optimizers for Deep
       Learning", arXiv 2102.03869, 2021 (ProxSSI).
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398, Table 6 (ProxSSI as a baseline); the
       AdamW step and weighted prox follow the ``ramda_exp`` code
       (``shared/theory/ramda.md`` §5).
    """
    lr = check_positive("lr", lr)
    eps = check_positive("eps", eps)
    betas = _check_betas(betas)
    psi = _check_composite(problem).psi
    xp = problem.xp
    state: dict[str, Any] = {}

    def step(k: int, W: Any, G: Any) -> tuple[Any, float]:
        m_hat, v_hat = _adam_moments(k, G, state, betas)
        D = xp.sqrt(v_hat) + eps
        X = W - lr * m_hat / D
        return solve_exact(psi, lr, xp.zeros_like(X), D, X), 0.0

    return _prox_loop(
        "prox_ssi",
        problem,
        x0,
        step,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        track_optimum=track_optimum,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
        params={"lr": lr, "eps": eps},
    )


def prox_sgd(
    problem: Composite,
    x0: Any,
    *,
    iters: int,
    lr: float = 1e-1,
    rho: float = 0.1,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    track_optimum: bool = True,
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """ProxSGD (Yang et al. 2020) with unit step, as used in arXiv 2403.14398 (App. A.1).

    For k = 1, …, T, with G^k = ∇f_ξk(W^{k−1})::

        buf_1 = ρ G¹,  buf_k = (1 − ρ) buf_{k−1} + ρ G^k
        W^k = prox_{ηψ}(W^{k−1} − η buf_k)

    Parameters
    ----------
    problem, x0, iters, rng, replicates, batch_size, track_optimum, checkpoints, keep_iterates
        As in :func:`ramda`.
    lr : float, default 1e-1
        η > 0 (``TypeError``/``ValueError`` otherwise).
    rho : float, default 0.1
        ρ ∈ (0, 1], the momentum weight on the new gradient (``ValueError`` otherwise).

    Returns
    -------
    Trace
        ``algorithm="prox_sgd"``.  Metrics of W^k as :func:`prox_gen`.  Counters
        ``grad_evals`` (as in :func:`ramda`) and ``pg_iters`` (always 0: exact prox).
        ``params`` records ``batch_size``, ``lr`` and ``rho``.

    References
    ----------
    .. [1] Y. Yang, Y. Yuan, A. Chatzimichailidis, R. J. G. van Sloun, L. Lei,
       S. Chatzinotas, "ProxSGD: Training Structured Neural Networks under Regularization
       and Constraints", ICLR 2020.
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398, App. A.1 and Table 6 (ProxSGD with unit
       step size as a baseline; defaults ρ = 0.1, η = 0.1, ``shared/theory/ramda.md`` §5).
    """
    lr = check_positive("lr", lr)
    rho = _check_weight("rho", rho)
    psi = _check_composite(problem).psi
    state: dict[str, Any] = {}

    def step(k: int, W: Any, G: Any) -> tuple[Any, float]:
        state["buf"] = (1 - rho) * state["buf"] + rho * G if "buf" in state else rho * G
        return psi.prox(W - lr * state["buf"], lr), 0.0

    return _prox_loop(
        "prox_sgd",
        problem,
        x0,
        step,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        track_optimum=track_optimum,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
        params={"lr": lr, "rho": rho},
    )


# -- unregularized counterparts ----------------------------------------------------------
def _smooth_loop(
    name: str,
    f: Problem,
    x0: Any,
    *,
    lr: float,
    momentum: float,
    iters: int,
    rng: Generator | None,
    replicates: int,
    batch_size: int | None,
    denominator: Callable[[int, Any], Any],
    checkpoints: Any,
) -> Trace:
    if not isinstance(f, Problem):
        raise TypeError(f"f must be a problems.Problem, got {type(f).__name__}")
    lr = check_positive("lr", lr)
    momentum = _check_weight("momentum", momentum)
    xp = f.xp
    x_init = _start(f, x0, replicates)
    state = {"s": xp.zeros_like(x_init), "v": xp.zeros_like(x_init)}

    def step(k: int, x: Any, g: Any) -> tuple[Any, Any, dict[str, float]]:
        lam = lr * math.sqrt(k)
        state["s"] = state["s"] + lam * g
        state["v"] = state["v"] + lam * g * g
        z = x_init - state["s"] / denominator(k, state["v"])
        x = (1 - momentum) * x + momentum * z
        return x, x, {}

    return _run(
        name,
        f,
        x_init,
        step,
        iters=iters,
        rng=rng,
        batch_size=batch_size,
        metrics={
            "objective": f.value,
            "gradnorm2": lambda z: xp.sum(f.grad(z) ** 2, axis=-1),
        },
        params={"lr": lr, "momentum": momentum, "batch_size": batch_size},
        counters=(),
        checkpoints=checkpoints,
        keep_iterates=False,
    )


def madgrad(
    f: Problem,
    x0: Any,
    *,
    iters: int,
    lr: float = 1e-2,
    momentum: float = 0.1,
    eps: float = 1e-6,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    checkpoints: Any = None,
) -> Trace:
    """MADGRAD (Defazio & Jelassi 2022), RAMDA with ψ = 0 (arXiv 2403.14398 Table 6).

    For k = 1, …, T, with s^0 = v^0 = 0 and g^k = ∇f_ξk(x^{k−1})::

        λ_k = η √k,  s^k = s^{k−1} + λ_k g^k,  v^k = v^{k−1} + λ_k g^k∘g^k
        z^k = x⁰ − s^k/(∛v^k + ε)
        x^k = (1 − c) x^{k−1} + c z^k

    Parameters
    ----------
    f : Problem
        The smooth objective (:class:`~problems.base.Problem`, ``TypeError`` otherwise).
    x0 : array, shape (d,)
        x⁰, the dual-averaging anchor, as ``x0`` of :func:`ramda`.
    iters : int
        Number of steps T ≥ 0 (``TypeError``/``ValueError`` otherwise).
    lr : float, default 1e-2
        η > 0 (``TypeError``/``ValueError`` otherwise).
    momentum : float, default 0.1
        c ∈ (0, 1] (``ValueError`` otherwise).
    eps : float, default 1e-6
        ε > 0 (``ValueError`` otherwise).
    rng, replicates, batch_size
        As in :func:`ramda` (``batch_size`` needs f to be a FiniteSum).
    checkpoints : array-like of int, optional
        As in :func:`ramda`.

    Returns
    -------
    Trace
        ``algorithm="madgrad"``.  Metrics of x^k, each (C, R): ``objective`` f and
        ``gradnorm2`` ‖∇f‖².  Counter ``grad_evals`` (component gradients k·b, or full
        gradients k).  ``params`` records ``lr``, ``momentum`` and ``batch_size``.

    References
    ----------
    .. [1] A. Defazio, S. Jelassi, "Adaptivity without Compromise: A Momentumized, Adaptive,
       Dual Averaged Gradient Method for Stochastic Optimization", JMLR 23(144), 2022,
       arXiv 2101.11075 (MADGRAD; the recurrence above, with λ_k = η√(k+1) for k from 0).
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398, §2 and Table 6 (MADGRAD as the
       unregularized counterpart of RAMDA).
    """
    eps = check_positive("eps", eps)
    return _smooth_loop(
        "madgrad",
        f,
        x0,
        lr=lr,
        momentum=momentum,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        denominator=lambda k, v: v ** (1.0 / 3.0) + eps,
        checkpoints=checkpoints,
    )


def mda(
    f: Problem,
    x0: Any,
    *,
    iters: int,
    lr: float = 1e-1,
    momentum: float = 0.1,
    rng: Generator | None = None,
    replicates: int = 1,
    batch_size: int | None = None,
    checkpoints: Any = None,
) -> Trace:
    """MDA (Jelassi & Defazio 2020), RMDA with ψ = 0 (arXiv 2403.14398 Table 6).

    For k = 1, …, T, with s^0 = 0 and g^k = ∇f_ξk(x^{k−1})::

        s^k = s^{k−1} + η √k g^k
        z^k = x⁰ − s^k/√k
        x^k = (1 − c) x^{k−1} + c z^k

    Parameters
    ----------
    f : Problem
        The smooth objective (:class:`~problems.base.Problem`, ``TypeError`` otherwise).
    x0 : array, shape (d,)
        x⁰, the dual-averaging anchor, as ``x0`` of :func:`ramda`.
    iters : int
        Number of steps T ≥ 0 (``TypeError``/``ValueError`` otherwise).
    lr : float, default 1e-1
        η > 0 (``TypeError``/``ValueError`` otherwise).
    momentum : float, default 0.1
        c ∈ (0, 1] (``ValueError`` otherwise).
    rng, replicates, batch_size
        As in :func:`ramda` (``batch_size`` needs f to be a FiniteSum).
    checkpoints : array-like of int, optional
        As in :func:`ramda`.

    Returns
    -------
    Trace
        ``algorithm="mda"``.  Metrics of x^k, each (C, R): ``objective`` f and
        ``gradnorm2`` ‖∇f‖².  Counter ``grad_evals`` (component gradients k·b, or full
        gradients k).  ``params`` records ``lr``, ``momentum`` and ``batch_size``.

    References
    ----------
    .. [1] S. Jelassi, A. Defazio, "Dual Averaging is Surprisingly Effective for Deep
       Learning Optimization", arXiv 2010.10502, 2020 (MDA).
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398, Table 6 (MDA as the unregularized
       counterpart of RMDA).
    """
    return _smooth_loop(
        "mda",
        f,
        x0,
        lr=lr,
        momentum=momentum,
        iters=iters,
        rng=rng,
        replicates=replicates,
        batch_size=batch_size,
        denominator=lambda k, v: math.sqrt(k),
        checkpoints=checkpoints,
    )


# -- registration ------------------------------------------------------------------------
def _small_composite(xp: Any, device: Any) -> Composite:
    import numpy as np

    from mastbench.problems.logistic import Logistic
    from mastbench.problems.regularizers import GroupLasso

    gen = np.random.default_rng(3)
    X = gen.standard_normal((40, 6))
    y = np.where(X @ np.array([1.0, -1.0, 0.5, 0.0, 0.0, 0.0]) > 0, 1.0, -1.0)
    f = Logistic(xp.asarray(X, device=device), xp.asarray(y, device=device), l2=1e-2)
    return Composite(f, GroupLasso.contiguous(3, 2, 0.02))


def _case(extra: dict[str, Any]) -> Callable[[Any, Any], tuple[tuple[Any, ...], dict[str, Any]]]:
    def make(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        problem = _small_composite(xp, device)
        x0 = xp.zeros((problem.d,), dtype=xp.float64, device=device)
        return (problem, x0), {"iters": 8, "batch_size": 8, **extra}

    return make


def _smooth_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problem = _small_composite(xp, device)
    x0 = xp.zeros((problem.d,), dtype=xp.float64, device=device)
    return (problem.f, x0), {"iters": 8, "batch_size": 8}


for _fn, _paper, _case_fn in (
    (ramda, f"{_PAPER}, Algorithm 1", _case({})),
    (rmda, f"Huang & Lee, RMDA, arXiv 2112.02612; {_PAPER} §2", _case({})),
    (prox_gen, f"Yun et al. 2021, ProxGen; {_PAPER} eq. (6)", _case({})),
    (prox_ssi, f"Deleu & Bengio, arXiv 2102.03869; {_PAPER} Table 6", _case({})),
    (prox_sgd, f"Yang et al. 2020, ProxSGD; {_PAPER} App. A.1", _case({})),
    (madgrad, "Defazio & Jelassi, arXiv 2101.11075", _smooth_case),
    (mda, "Jelassi & Defazio, arXiv 2010.10502", _smooth_case),
):
    register_algorithm(
        AlgorithmSpec(
            name=_fn.__name__,
            family="ramda",
            run=_fn,
            paper=_paper,
            stochastic=True,
            make_case=_case_fn,
        )
    )
del _fn, _paper, _case_fn
