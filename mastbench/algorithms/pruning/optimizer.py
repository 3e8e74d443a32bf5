"""Heavy-ball momentum and Adam on a tuple of batched parameters, as a pure update.

The optimizer's memory is a :class:`Moments` value carried in a method's state: zeroing it
(:meth:`Moments.zeros`) is the reset done at every phase boundary of the pruning methods.

Update rules (per parameter p with gradient g, step η):
momentum (β = ``momentum``; β = 0 is gradient descent): m ← βm + g, p ← p − ηm;
Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
p ← p − η m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ⁿ), v̂ = v/(1 − β₂ⁿ), n the steps since the reset.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from mastbench.backend import array_namespace, to_numpy

__all__ = ["KINDS", "Moments", "check_optimizer", "optimizer_update"]

KINDS = ("momentum", "adam")
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8


class Moments(NamedTuple):
    """Optimizer memory: first moments (momentum buffers), second moments (Adam only, else
    empty) per parameter, and the number of steps since the last reset."""

    first: tuple[Any, ...]
    second: tuple[Any, ...]
    count: int

    @classmethod
    def zeros(cls, kind: str, params: tuple[Any, ...]) -> Moments:
        """Zero memory for ``params`` (the state right after a reset)."""
        first = tuple(p * 0.0 for p in params)
        second = tuple(p * 0.0 for p in params) if kind == "adam" else ()
        return cls(first, second, 0)

    def norm2(self) -> float:
        """Σ‖·‖² over every moment array (0 right after a reset), on the host."""
        arrays = (*self.first, *self.second)
        return float(sum(float(np.sum(to_numpy(a) ** 2)) for a in arrays))


def check_optimizer(kind: str, momentum: float) -> None:
    """Refuse an unknown optimizer ``kind`` or a momentum outside [0, 1)."""
    if kind not in KINDS:
        raise ValueError(f"optimizer must be 'momentum' or 'adam', got {kind!r}")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")


def optimizer_update(
    kind: str,
    step: float,
    momentum: float,
    moments: Moments,
    params: tuple[Any, ...],
    grads: tuple[Any, ...],
) -> tuple[tuple[Any, ...], Moments]:
    """One step of ``kind`` on ``params`` with ``grads``: (new parameters, new memory)."""
    count = moments.count + 1
    if kind == "momentum":
        first = tuple(momentum * m + g for m, g in zip(moments.first, grads, strict=True))
        new = tuple(p - step * m for p, m in zip(params, first, strict=True))
        return new, Moments(first, (), count)
    first = tuple(
        ADAM_B1 * m + (1 - ADAM_B1) * g for m, g in zip(moments.first, grads, strict=True)
    )
    second = tuple(
        ADAM_B2 * v + (1 - ADAM_B2) * g * g for v, g in zip(moments.second, grads, strict=True)
    )
    new = []
    for p, m, v in zip(params, first, second, strict=True):
        m_hat = m / (1 - ADAM_B1**count)
        v_hat = v / (1 - ADAM_B2**count)
        new.append(p - step * m_hat / (array_namespace(p).sqrt(v_hat) + ADAM_EPS))
    return tuple(new), Moments(first, second, count)
