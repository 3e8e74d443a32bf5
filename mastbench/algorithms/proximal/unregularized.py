"""MADGRAD and MDA on a smooth f: the unregularized counterparts of RAMDA and RMDA
(arXiv 2403.14398, Table 6), with their public functions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mastbench.algorithms._docstrings import filled
from mastbench.algorithms.driver import run
from mastbench.algorithms.method import Metric, Unavailable
from mastbench.algorithms.proximal._common import (
    check_oracle,
    check_smooth,
    check_weight,
    smooth_metrics,
)
from mastbench.algorithms.proximal.dual_averaging import (
    DualAveraging,
    DualAveragingState,
    adaptive_preconditioner,
)
from mastbench.backend import Generator
from mastbench.problems.base import Problem
from mastbench.trace import Trace
from mastbench.validation import check_positive

__all__ = ["MADGRAD", "MDA", "madgrad", "mda"]


@dataclass(frozen=True, kw_only=True)
class MADGRAD(DualAveraging):
    """MADGRAD (Defazio & Jelassi 2022): RAMDA with ψ = 0, z^k = x⁰ − s^k/(∛v^k + ε)."""

    name: ClassVar[str] = "madgrad"
    adaptive: ClassVar[bool] = True

    eps: float = 1e-6

    def initial_eps(self) -> float:
        return self.eps

    def minimize(self, problem: Any, state: DualAveragingState) -> tuple[Any, float, int]:
        return state.anchor - state.V / adaptive_preconditioner(state), 0.0, 0

    def metrics(self, problem: Any, x0: Any) -> dict[str, Metric | Unavailable]:
        return dict(smooth_metrics(problem))


@dataclass(frozen=True, kw_only=True)
class MDA(DualAveraging):
    """MDA (Jelassi & Defazio 2020): RMDA with ψ = 0, z^k = x⁰ − s^k/√k."""

    name: ClassVar[str] = "mda"
    adaptive: ClassVar[bool] = False

    def minimize(self, problem: Any, state: DualAveragingState) -> tuple[Any, float, int]:
        return state.anchor - state.V / math.sqrt(state.t), 0.0, 0

    def metrics(self, problem: Any, x0: Any) -> dict[str, Metric | Unavailable]:
        return dict(smooth_metrics(problem))


#: The parameters and results that madgrad and mda share, filled into their docstrings.
_DOC = {
    "anchor": """f : Problem
        The smooth objective (:class:`~problems.base.Problem`, ``TypeError`` otherwise).
    x0 : array, shape (d,)
        x⁰, the dual-averaging anchor, as ``x0`` of :func:`ramda`.
    iters : int
        Number of steps T ≥ 0 (``TypeError``/``ValueError`` otherwise).""",
    "momentum": """momentum : float, default 0.1
        c ∈ (0, 1] (``ValueError`` otherwise).""",
    "oracle": """rng, replicates, batch_size
        As in :func:`ramda` (``batch_size`` needs f to be a FiniteSum).
    checkpoints : array-like of int, optional
        As in :func:`ramda`.
    keep_iterates : bool, default False
        As in :func:`ramda`.""",
    "trace": """Metrics of x^k, each (C, R): ``objective`` f and
        ``gradnorm2`` ‖∇f‖².  Counter ``grad_evals`` (component gradients k·b, or full
        gradients k).  ``params`` records ``lr``, ``momentum`` and ``batch_size``.""",
}


#: The arguments of the public functions that are not extra hyperparameters of their method.
_RUN_ARGUMENTS = (
    "f", "x0", "iters", "lr", "momentum", "rng", "replicates", "batch_size", "checkpoints",
    "keep_iterates",
)  # fmt: skip


def _run(method_class: type[DualAveraging], arguments: Mapping[str, Any]) -> Trace:
    """Run ``method_class`` as its public function was called.

    ``arguments`` are that function's ``locals()``: the arguments of :data:`_RUN_ARGUMENTS`,
    and the method's other hyperparameters under their field names (checked by the caller).
    ``lr``, ``momentum`` and ``batch_size`` are checked here and recorded in
    ``Trace.params``.
    """
    f = check_smooth(arguments["f"])
    settings = {
        "lr": check_positive("lr", arguments["lr"]),
        "momentum": check_weight("momentum", arguments["momentum"]),
        "batch_size": check_oracle(f, arguments["batch_size"], arguments["rng"]),
    }
    extra = {name: value for name, value in arguments.items() if name not in _RUN_ARGUMENTS}
    return run(
        method_class(**settings, **extra),
        f,
        arguments["x0"],
        iters=arguments["iters"],
        rng=arguments["rng"],
        replicates=arguments["replicates"],
        checkpoints=arguments["checkpoints"],
        keep_iterates=arguments["keep_iterates"],
        params=settings,
    )


@filled(_DOC)
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
    keep_iterates: bool = False,
) -> Trace:
    """MADGRAD (Defazio & Jelassi 2022), RAMDA with ψ = 0 (arXiv 2403.14398 Table 6).

    For k = 1, …, T, with s^0 = v^0 = 0 and g^k = ∇f_ξk(x^{k−1})::

        λ_k = η √k,  s^k = s^{k−1} + λ_k g^k,  v^k = v^{k−1} + λ_k g^k∘g^k
        z^k = x⁰ − s^k/(∛v^k + ε)
        x^k = (1 − c) x^{k−1} + c z^k

    Parameters
    ----------
    %(anchor)s
    lr : float, default 1e-2
        η > 0 (``TypeError``/``ValueError`` otherwise).
    %(momentum)s
    eps : float, default 1e-6
        ε > 0 (``ValueError`` otherwise).
    %(oracle)s

    Returns
    -------
    Trace
        ``algorithm="madgrad"``.  %(trace)s

    References
    ----------
    .. [1] A. Defazio, S. Jelassi, "Adaptivity without Compromise: A Momentumized, Adaptive,
       Dual Averaged Gradient Method for Stochastic Optimization", JMLR 23(144), 2022,
       arXiv 2101.11075 (MADGRAD; the recurrence above, with λ_k = η√(k+1) for k from 0).
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398, §2 and Table 6 (MADGRAD as the
       unregularized counterpart of RAMDA).
    """
    eps = check_positive("eps", eps)
    return _run(MADGRAD, locals())


@filled(_DOC)
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
    keep_iterates: bool = False,
) -> Trace:
    """MDA (Jelassi & Defazio 2020), RMDA with ψ = 0 (arXiv 2403.14398 Table 6).

    For k = 1, …, T, with s^0 = 0 and g^k = ∇f_ξk(x^{k−1})::

        s^k = s^{k−1} + η √k g^k
        z^k = x⁰ − s^k/√k
        x^k = (1 − c) x^{k−1} + c z^k

    Parameters
    ----------
    %(anchor)s
    lr : float, default 1e-1
        η > 0 (``TypeError``/``ValueError`` otherwise).
    %(momentum)s
    %(oracle)s

    Returns
    -------
    Trace
        ``algorithm="mda"``.  %(trace)s

    References
    ----------
    .. [1] S. Jelassi, A. Defazio, "Dual Averaging is Surprisingly Effective for Deep
       Learning Optimization", arXiv 2010.10502, 2020 (MDA).
    .. [2] Z.-S. Huang, C.-p. Lee, arXiv 2403.14398, Table 6 (MDA as the unregularized
       counterpart of RMDA).
    """
    return _run(MDA, locals())
