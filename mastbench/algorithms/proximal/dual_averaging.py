"""Momentumized dual averaging, the update shared by RAMDA, RMDA, MADGRAD and MDA.

For the global step k = 1, …, T, with t the step within the current stage (restarted at each
milestone), W⁰ the stage's anchor and α_0 = 0, V^0 = U^0 = 0 (arXiv 2403.14398, Algorithm 1,
eqs. (2)–(5))::

    G^t = ∇f_ξt(W^{t−1}),  s_t = η_k √t,  α_t = α_{t−1} + s_t
    V^t = V^{t−1} + s_t G^t,  U^t = U^{t−1} + s_t G^t∘G^t
    Ŵ^t = the method's minimizer (RAMDA: (4) with P^t = Diag(∛U^t + ε); RMDA: P^t = √t I)
    W^t = (1 − c_k) W^{t−1} + c_k Ŵ^t                                                  (5)

At a milestone m, before step m + 1: η ← γη, ε ← γε, t, α, V, U ← 0 and W⁰ ← W^m (App. A.1);
with the ramp, c_k ← min(c_k √i, 1) in the final stage, i the step within it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from mastbench.algorithms.method import MethodBase
from mastbench.algorithms.proximal._common import (
    Schedule,
    check_weight,
    gradient,
    value_at,
)
from mastbench.backend import array_namespace
from mastbench.validation import check_positive

__all__ = [
    "DualAveraging",
    "DualAveragingState",
    "accumulate",
    "adaptive_preconditioner",
    "average",
    "restart",
]


class DualAveragingState(NamedTuple):
    """The state of a dual-averaging method after k steps, batched over R replicates.

    Attributes
    ----------
    W : array (R, d)
        The averaged iterate W^t (the model parameters).
    hat : array (R, d)
        The structured iterate Ŵ^t (W⁰ before the first step).
    anchor : array (R, d)
        W⁰, the anchor of the current stage.
    V, U : array (R, d)
        The weighted sums Σ s_i G^i and Σ s_i G^i∘G^i of the stage (U stays 0 for the
        non-adaptive methods).
    alpha : float
        α_t = Σ s_i of the stage.
    t : int
        Steps taken in the current stage.
    k : int
        Steps taken in all.
    lr_scale : float
        γ^(restarts so far), the factor on η.
    eps : float
        ε of the preconditioner, times γ per restart (adaptive methods).
    pg_iters : float
        PG steps of the subproblems, averaged over replicates, summed over steps.
    unmet : float
        Subproblems, summed over replicates, whose PG stopping rule went unmet.
    moments_of : FiniteSum or None
        The f whose gradient moments the diagnostics compare V/α and U/α with (RAMDA's
        ``track_moments``), else None.
    """

    W: Any
    hat: Any
    anchor: Any
    V: Any
    U: Any
    alpha: float
    t: int
    k: int
    lr_scale: float
    eps: float
    pg_iters: float
    unmet: float
    moments_of: Any = None


def restart(state: DualAveragingState, gamma: float) -> DualAveragingState:
    """A new stage (App. A.1): η ← γη, ε ← γε, t, α, V, U ← 0 and W⁰ ← W."""
    zeros = array_namespace(state.W).zeros_like(state.W)
    return state._replace(
        lr_scale=state.lr_scale * gamma,
        eps=state.eps * gamma,
        alpha=0.0,
        t=0,
        V=zeros,
        U=zeros,
        anchor=state.W,
    )


def accumulate(
    state: DualAveragingState, G: Any, lr: float, *, adaptive: bool
) -> DualAveragingState:
    """t ← t + 1 and the dual averages with s_t = γ^r η √t (eqs. (2)–(3))."""
    t = state.t + 1
    s_t = state.lr_scale * lr * math.sqrt(t)
    U = state.U + s_t * G * G if adaptive else state.U
    return state._replace(t=t, alpha=state.alpha + s_t, V=state.V + s_t * G, U=U)


def adaptive_preconditioner(state: DualAveragingState) -> Any:
    """The diagonal of P^t = Diag(∛U^t + ε) (RAMDA, MADGRAD; a cube root, not a square root)."""
    return state.U ** (1.0 / 3.0) + state.eps


def average(W: Any, hat: Any, c: float) -> Any:
    """W^t = (1 − c) W^{t−1} + c Ŵ^t, eq. (5)."""
    return (1.0 - c) * W + c * hat


@dataclass(frozen=True, kw_only=True)
class DualAveraging(MethodBase):
    """The dual-averaging loop; subclasses say how Ŵ^t is found (``minimize``)."""

    adaptive: ClassVar[bool]

    lr: Schedule
    momentum: Schedule
    batch_size: int | None = None
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    ramp: bool = False

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.batch_size is not None

    def initial_eps(self) -> float:
        """ε of the first stage (adaptive methods; 0 otherwise)."""
        return 0.0

    def smooth_part(self, problem: Any) -> Any:
        """The smooth f whose gradients are sampled."""
        return problem

    def minimize(self, problem: Any, state: DualAveragingState) -> tuple[Any, float, int]:
        """(Ŵ^t, PG steps averaged over replicates, unmet stopping rules)."""
        raise NotImplementedError

    def weight(self, k: int) -> float:
        """c_k at the global step k (1-based), ramped in the final stage."""
        c = check_weight(f"momentum({k})", value_at(self.momentum, k))
        final_stage_start = self.milestones[-1] if self.milestones else 0
        if self.ramp and k > final_stage_start:
            c = min(c * math.sqrt(k - final_stage_start), 1.0)
        return c

    def init(self, problem: Any, x0: Any, rng: Any) -> DualAveragingState:
        zeros = array_namespace(x0).zeros_like(x0)
        return DualAveragingState(
            W=x0,
            hat=x0,
            anchor=x0,
            V=zeros,
            U=zeros,
            alpha=0.0,
            t=0,
            k=0,
            lr_scale=1.0,
            eps=self.initial_eps(),
            pg_iters=0.0,
            unmet=0.0,
        )

    def step(self, problem: Any, state: DualAveragingState, k: int, rng: Any) -> Any:
        G = gradient(self.smooth_part(problem), state.W, self.batch_size, rng)
        if k in self.milestones:
            state = restart(state, self.gamma)
        lr = check_positive(f"lr({k + 1})", value_at(self.lr, k + 1))
        state = accumulate(state, G, lr, adaptive=self.adaptive)
        hat, pg_steps, unmet = self.minimize(problem, state)
        return state._replace(
            W=average(state.W, hat, self.weight(k + 1)),
            hat=hat,
            k=k + 1,
            pg_iters=state.pg_iters + pg_steps,
            unmet=state.unmet + unmet,
        )

    def output(self, state: DualAveragingState) -> Any:
        return state.W

    def counters(self, state: DualAveragingState) -> dict[str, float]:
        return {"grad_evals": state.k * (self.batch_size or 1)}
