"""ProxGen (as ProxAdamW) and ProxSSI: Adam-preconditioned proximal methods on F = f + ψ
(arXiv 2403.14398, eq. (6), Algorithm 3, Table 6), with their public functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from mastbench.algorithms._subproblem import solve_exact
from mastbench.algorithms.driver import run
from mastbench.algorithms.proximal._common import (
    ProxMethod,
    check_betas,
    check_composite,
    check_oracle,
    gradient,
)
from mastbench.algorithms.proximal.subproblem import SubproblemSolver
from mastbench.backend import Generator, array_namespace
from mastbench.problems.composite import Composite
from mastbench.trace import Trace
from mastbench.validation import check_positive

__all__ = ["AdamState", "ProxGen", "ProxSSI", "adam_moments", "prox_gen", "prox_ssi"]


class AdamState(NamedTuple):
    """W^k, Adam's moments m_k, v_k (zero before the first step), k and the PG steps spent
    (averaged over replicates, summed over steps), batched over replicates."""

    W: Any
    m: Any
    v: Any
    k: int
    pg_iters: float


def adam_moments(state: AdamState, G: Any, betas: tuple[float, float]) -> tuple[Any, Any, Any, Any]:
    """(m_k, v_k, m̂, v̂): m_k = β1 m_{k−1} + (1 − β1)G, v_k = β2 v_{k−1} + (1 − β2)G∘G and
    the bias-corrected m̂ = m_k/(1 − β1^k), v̂ = v_k/(1 − β2^k), k = state.k + 1."""
    b1, b2 = betas
    k = state.k + 1
    m = b1 * state.m + (1 - b1) * G
    v = b2 * state.v + (1 - b2) * G * G
    return m, v, m / (1 - b1**k), v / (1 - b2**k)


@dataclass(frozen=True, kw_only=True)
class _Adam(ProxMethod):
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)

    def init(self, problem: Any, x0: Any, rng: Any) -> AdamState:
        zeros = array_namespace(x0).zeros_like(x0)
        return AdamState(W=x0, m=zeros, v=zeros, k=0, pg_iters=0.0)


@dataclass(frozen=True, kw_only=True)
class ProxGen(_Adam):
    """ProxGen as ProxAdamW: decoupled weight decay, Adam moments, D = Diag(√v̂ + ε), and (6)
    W^k ≈ argmin ⟨η m̂, W⟩ + ½‖W − W'‖²_D + ηψ(W) by ``solver`` warm-started at W'."""

    name: ClassVar[str] = "prox_gen"

    eps: float = 1e-8
    weight_decay: float = 0.0
    solver: SubproblemSolver = field(default_factory=SubproblemSolver)

    def step(self, problem: Any, state: AdamState, k: int, rng: Any) -> AdamState:
        G = gradient(problem.f, state.W, self.batch_size, rng)
        W = state.W * (1 - self.lr * self.weight_decay)
        m, v, m_hat, v_hat = adam_moments(state, G, self.betas)
        D = array_namespace(W).sqrt(v_hat) + self.eps
        Z, steps, _ = self.solver.solve(problem.psi, self.lr, self.lr * m_hat, D, W, W, k + 1)
        return AdamState(W=Z, m=m, v=v, k=k + 1, pg_iters=state.pg_iters + steps)


@dataclass(frozen=True, kw_only=True)
class ProxSSI(_Adam):
    """ProxSSI: the AdamW step X = W − η m̂/D, then the exact D-weighted prox of ηψ,
    D = Diag(√v̂ + ε)."""

    name: ClassVar[str] = "prox_ssi"

    eps: float = 1e-6

    def step(self, problem: Any, state: AdamState, k: int, rng: Any) -> AdamState:
        G = gradient(problem.f, state.W, self.batch_size, rng)
        m, v, m_hat, v_hat = adam_moments(state, G, self.betas)
        xp = array_namespace(state.W)
        D = xp.sqrt(v_hat) + self.eps
        X = state.W - self.lr * m_hat / D
        W = solve_exact(problem.psi, self.lr, xp.zeros_like(X), D, X)
        return AdamState(W=W, m=m, v=v, k=k + 1, pg_iters=state.pg_iters + 0.0)


def _run(
    method: ProxMethod,
    problem: Composite,
    x0: Any,
    iters: int,
    rng: Generator | None,
    replicates: int,
    checkpoints: Any,
    keep_iterates: bool,
    params: dict[str, Any],
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
        params={"batch_size": method.batch_size, **params},
    )


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
    betas = check_betas(betas)
    weight_decay = check_positive("weight_decay", weight_decay, strict=False)
    subproblem = SubproblemSolver.checked(
        solver, stop, eps_sub, eps_sub_power, pg_max_iters, rtol, screening
    )
    problem = check_composite(problem)
    method = ProxGen(
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        solver=subproblem,
        batch_size=check_oracle(problem.f, batch_size, rng),
        track_optimum=bool(track_optimum),
    )
    params = {"lr": lr, "eps": eps, "solver": solver, "stop": stop}
    return _run(method, problem, x0, iters, rng, replicates, checkpoints, keep_iterates, params)


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
    betas = check_betas(betas)
    problem = check_composite(problem)
    method = ProxSSI(
        lr=lr,
        betas=betas,
        eps=eps,
        batch_size=check_oracle(problem.f, batch_size, rng),
        track_optimum=bool(track_optimum),
    )
    params = {"lr": lr, "eps": eps}
    return _run(method, problem, x0, iters, rng, replicates, checkpoints, keep_iterates, params)
