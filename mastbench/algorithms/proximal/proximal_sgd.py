"""ProxSGD (Yang et al. 2020) with unit step, the baseline of arXiv 2403.14398 (App. A.1),
with its public function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from mastbench.algorithms.driver import run
from mastbench.algorithms.proximal._common import (
    ProxMethod,
    check_composite,
    check_oracle,
    check_weight,
    gradient,
)
from mastbench.backend import Generator
from mastbench.problems.composite import Composite
from mastbench.trace import Trace
from mastbench.validation import check_positive

__all__ = ["MomentumState", "ProxSGD", "prox_sgd"]


class MomentumState(NamedTuple):
    """W^k, the momentum buffer buf_k (None before the first step), k and the PG steps spent
    (always 0: the prox is exact), batched over replicates."""

    W: Any
    buf: Any
    k: int
    pg_iters: float


@dataclass(frozen=True, kw_only=True)
class ProxSGD(ProxMethod):
    """buf_1 = ρG¹, buf_k = (1 − ρ)buf_{k−1} + ρG^k, W^k = prox_{ηψ}(W^{k−1} − η buf_k)."""

    name: ClassVar[str] = "prox_sgd"

    lr: float
    rho: float = 0.1

    def init(self, problem: Any, x0: Any, rng: Any) -> MomentumState:
        return MomentumState(W=x0, buf=None, k=0, pg_iters=0.0)

    def step(self, problem: Any, state: MomentumState, k: int, rng: Any) -> MomentumState:
        G = gradient(problem.f, state.W, self.batch_size, rng)
        rho = self.rho
        buf = rho * G if state.buf is None else (1 - rho) * state.buf + rho * G
        W = problem.psi.prox(state.W - self.lr * buf, self.lr)
        return MomentumState(W=W, buf=buf, k=k + 1, pg_iters=state.pg_iters + 0.0)


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
    rho = check_weight("rho", rho)
    problem = check_composite(problem)
    method = ProxSGD(
        lr=lr,
        rho=rho,
        batch_size=check_oracle(problem.f, batch_size, rng),
        track_optimum=bool(track_optimum),
    )
    return run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
        params={"batch_size": method.batch_size, "lr": lr, "rho": rho},
    )
