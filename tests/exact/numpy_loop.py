"""The NumPy propagation, the reference the compiled loops must match."""

from __future__ import annotations

from typing import Any

from mastbench.exact import numba_kernel
from mastbench.exact.moment_maps import propagate


def numpy_propagate(step: Any, m0: Any, P0: Any, iters: int, points: Any) -> Any:
    """:func:`~mastbench.exact.moment_maps.propagate` with the compiled loops switched off."""
    enabled = numba_kernel.enabled
    numba_kernel.enabled = False
    try:
        return propagate(step, m0, P0, iters, points)
    finally:
        numba_kernel.enabled = enabled
