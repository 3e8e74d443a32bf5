"""Shared cases of the fused-step tests (``test_diagonal_step.py``, ``test_diagonal_kernel.py``)."""

from __future__ import annotations

import numpy as np

from mastbench.sketches import Bernoulli, Identity, Permutation, RandK

#: Relative agreement of two evaluations of the same moment map (rounding only).
RTOL = 1e-12


def diagonal_sketches(d: int, rs: np.random.Generator) -> list:
    """The diagonal closed-form sketches of dimension d that take the fused step."""
    p = rs.uniform(0.15, 1.0, d)
    p[0] = 1.0  # a coordinate that is always kept: zero cumulants
    out = [Bernoulli(p), Bernoulli(0.3, d), RandK(d, 1), RandK(d, d), Identity(d)]
    if d > 2:
        out.append(RandK(d, d // 2))
    if d % 2 == 0:
        out.append(Permutation(d, 2))
    return out


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """max |actual − expected| ≤ RTOL · max |expected|."""
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    assert float(np.max(np.abs(actual - expected))) <= RTOL * scale
