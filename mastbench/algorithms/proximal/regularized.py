"""RAMDA and RMDA on F = f + ψ: the regularized dual-averaging methods and their public
functions (arXiv 2403.14398, Algorithm 1; RMDA, arXiv 2112.02612)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mastbench.algorithms.driver import run
from mastbench.algorithms.method import Metric, Unavailable
from mastbench.algorithms.proximal._common import (
    Schedule,
    check_choice,
    check_composite,
    check_milestones,
    check_oracle,
    check_weight,
    composite_metrics,
)
from mastbench.algorithms.proximal.dual_averaging import (
    DualAveraging,
    DualAveragingState,
    adaptive_preconditioner,
)
from mastbench.algorithms.proximal.moments import moment_gaps
from mastbench.algorithms.proximal.subproblem import SubproblemSolver
from mastbench.backend import Generator, array_namespace
from mastbench.problems.composite import Composite
from mastbench.trace import Trace
from mastbench.validation import check_int, check_positive

__all__ = ["RAMDA", "RMDA", "ramda", "rmda"]

#: How RMDA's subproblem is solved, for its trace: in closed form, by the prox of ψ.
_CLOSED_FORM = SubproblemSolver(solver="exact")


@dataclass(frozen=True, kw_only=True)
class _Regularized(DualAveraging):
    """RAMDA and RMDA on F = f + ψ: metrics of Ŵ^t (``recorded="hat"``) or W^t."""

    recorded: str = "hat"
    track_optimum: bool = True

    def smooth_part(self, problem: Any) -> Any:
        return problem.f

    def output(self, state: DualAveragingState) -> Any:
        return state.hat if self.recorded == "hat" else state.W

    def metrics(self, problem: Any, x0: Any) -> dict[str, Metric | Unavailable]:
        return dict(composite_metrics(problem, self.track_optimum))

    def diagnostics(self, state: DualAveragingState) -> dict[str, Any]:
        diff = state.W - state.hat
        return {"avg_gap2": array_namespace(diff).sum(diff * diff, axis=-1)}

    def counters(self, state: DualAveragingState) -> dict[str, float]:
        return {
            "grad_evals": state.k * (self.batch_size or 1),
            "pg_iters": state.pg_iters,
            "unmet_condition7": state.unmet,
        }


@dataclass(frozen=True, kw_only=True)
class RAMDA(_Regularized):
    """RAMDA (arXiv 2403.14398, Algorithm 1): Ŵ^t ≈ argmin_W α_t ψ(W) + ⟨V^t, W⟩ +
    ½⟨W − W⁰, P^t(W − W⁰)⟩ (4), P^t = Diag(∛U^t + ε), by ``solver`` warm-started at W^{t−1}.

    ``track_moments`` also records, at W^t, the gaps of V^t/α_t and U^t/α_t to ∇f and the
    minibatch E[g∘g] (:func:`~mastbench.algorithms.proximal.moments.moment_gaps`).
    """

    name: ClassVar[str] = "ramda"
    adaptive: ClassVar[bool] = True

    eps: float = 1e-6
    solver: SubproblemSolver = field(default_factory=SubproblemSolver)
    track_moments: bool = False

    def initial_eps(self) -> float:
        return self.eps

    def init(self, problem: Any, x0: Any, rng: Any) -> DualAveragingState:
        state = super().init(problem, x0, rng)
        return state._replace(moments_of=problem.f) if self.track_moments else state

    def minimize(self, problem: Any, state: DualAveragingState) -> tuple[Any, float, int]:
        P = adaptive_preconditioner(state)
        return self.solver.solve(
            problem.psi, state.alpha, state.V, P, state.anchor, state.W, state.t
        )

    def diagnostics(self, state: DualAveragingState) -> dict[str, Any]:
        out = super().diagnostics(state)
        if state.moments_of is not None:
            out.update(
                moment_gaps(
                    state.moments_of, self.batch_size, state.W, state.V, state.U, state.alpha
                )
            )
        return out


@dataclass(frozen=True, kw_only=True)
class RMDA(_Regularized):
    """RMDA (Huang & Lee, ICLR 2022; arXiv 2403.14398 §2): P^t = √t I, so (4) has the closed
    form Ŵ^t = prox_{(α_t/√t)ψ}(W⁰ − V^t/√t)."""

    name: ClassVar[str] = "rmda"
    adaptive: ClassVar[bool] = False

    def minimize(self, problem: Any, state: DualAveragingState) -> tuple[Any, float, int]:
        beta = math.sqrt(state.t)
        return problem.psi.prox(state.anchor - state.V / beta, state.alpha / beta), 0.0, 0


def _run(
    method: _Regularized,
    problem: Composite,
    x0: Any,
    iters: int,
    rng: Generator | None,
    replicates: int,
    checkpoints: Any,
    keep_iterates: bool,
    solver: SubproblemSolver,
) -> Trace:
    """``run`` with the entries of ``Trace.params`` the public functions document."""
    return run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
        params={
            "lr": None if callable(method.lr) else float(method.lr),
            "solver": solver.solver,
            "stop": solver.stop,
            "milestones": list(method.milestones),
            "output": method.recorded,
        },
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
    x0 : array, shape (d,) or (R, d)
        W⁰, the anchor of the dual averaging, shared by every replicate or one row per
        replicate: an array of the problem's namespace (``TypeError``) of shape (d,) or
        (R, d) (``ValueError``).
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
    solver = SubproblemSolver.checked(
        solver, stop, eps_sub, eps_sub_power, pg_max_iters, rtol, screening
    )
    problem = check_composite(problem)
    iters = check_int("iters", iters, low=0)
    check_choice("output", output, ("hat", "avg"))
    gamma = check_positive("gamma", gamma)
    milestones = check_milestones(tuple(milestones), iters)
    if not callable(lr):
        check_positive("lr", lr)
    if not callable(momentum):
        check_weight("momentum", momentum)
    eps = check_positive("eps", eps)
    if track_moments and batch_size is None:
        raise ValueError("track_moments needs a batch_size (the minibatch second moment)")
    method = RAMDA(
        lr=lr,
        momentum=momentum,
        batch_size=check_oracle(problem.f, batch_size, rng),
        milestones=milestones,
        gamma=gamma,
        ramp=bool(ramp),
        recorded=output,
        track_optimum=bool(track_optimum),
        eps=eps,
        solver=solver,
        track_moments=bool(track_moments),
    )
    return _run(
        method, problem, x0, iters, rng, replicates, checkpoints, keep_iterates, method.solver
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
    problem = check_composite(problem)
    iters = check_int("iters", iters, low=0)
    check_choice("output", output, ("hat", "avg"))
    gamma = check_positive("gamma", gamma)
    milestones = check_milestones(tuple(milestones), iters)
    if not callable(lr):
        check_positive("lr", lr)
    if not callable(momentum):
        check_weight("momentum", momentum)
    method = RMDA(
        lr=lr,
        momentum=momentum,
        batch_size=check_oracle(problem.f, batch_size, rng),
        milestones=milestones,
        gamma=gamma,
        ramp=bool(ramp),
        recorded=output,
        track_optimum=bool(track_optimum),
    )
    return _run(
        method, problem, x0, iters, rng, replicates, checkpoints, keep_iterates, _CLOSED_FORM
    )
