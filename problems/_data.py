"""Validation of (X, y) data shared by the finite-sum problems."""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.design import is_sparse

from mastbench.backend import to_numpy
from mastbench.validation import check_finite, check_matrix, check_positive, check_same_length

__all__ = ["check_binary_labels", "check_design"]


def check_design(X: Any, y: Any, l2: float) -> float:
    """Check X is a finite 2-D array, y a finite vector with one entry per row, l2 ≥ 0.

    A SciPy sparse X is checked by :func:`problems.design.as_sparse_design` beforehand.
    """
    if not is_sparse(X):
        check_matrix("X", X)
    if len(y.shape) != 1:
        raise ValueError(f"y must be 1-D, got shape {tuple(y.shape)}")
    check_same_length("X", X, "y", y)
    check_finite("y", y)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    return check_positive("l2", l2, strict=False)


def check_binary_labels(y: Any) -> None:
    """Check that the labels are exactly ±1."""
    values = np.unique(to_numpy(y))
    if not np.all(np.isin(values, (-1.0, 1.0))):
        raise ValueError(f"y must hold binary labels in {{-1, +1}}, got values {values[:10]}")
