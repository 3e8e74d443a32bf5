"""Least squares f(w) = (1/2n)‖Xw − y‖² + (l2/2)‖w‖², a quadratic finite sum."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.base import FiniteSum
from mastbench.problems.design import (
    gram,
    host_design,
    row_inner_products,
    row_norms_squared,
    take_rows,
    weighted_row_sum,
)
from mastbench.problems.quadratic import QuadraticForm

from mastbench.backend import to_numpy

__all__ = ["LeastSquares"]


class LeastSquares(QuadraticForm, FiniteSum):
    """f(w) = (1/2n)‖Xw − y‖² + (l2/2)‖w‖² = (1/n) Σ_i f_i(w).

    Parameters
    ----------
    X : array or SciPy sparse matrix, shape (n, d)
        Design matrix.  A sparse X (any SciPy format, stored as CSR) needs NumPy ``y``.
    y : array, shape (n,)
        Targets.
    l2 : float
        Ridge parameter, ≥ 0.

    Notes
    -----
    Components f_i(w) = ½(x_iᵀw − y_i)² + (l2/2)‖w‖² with L_i = ‖x_i‖² + l2.
    As a quadratic, A = XᵀX/n + l2·I, b = Xᵀy/n, c = ‖y‖²/(2n); L = λ_max(A), μ = λ_min(A).
    """

    def __init__(self, X: Any, y: Any, l2: float = 0.0):
        X = self._set_design(X, y, l2)
        self.X, self.y = X, y
        self.n, self.d = (int(s) for s in X.shape)

    @cached_property
    def _form(self) -> tuple[np.ndarray, np.ndarray, float]:
        X = host_design(self.X)
        y = to_numpy(self.y).astype(float)
        A = gram(X) / self.n + self.l2 * np.eye(self.d)
        return A, X.T @ y / self.n, float(y @ y) / (2 * self.n)

    def quadratic_form(self) -> tuple[np.ndarray, np.ndarray, float]:
        return self._form

    def value(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        residual = row_inner_products(self.X, x) - self.y
        return 0.5 * xp.sum(residual**2, axis=-1) / self.n + 0.5 * self.l2 * xp.sum(x * x, axis=-1)

    def grad(self, x: Any) -> Any:
        self._check_point(x)
        residual = row_inner_products(self.X, x) - self.y
        return weighted_row_sum(self.X, residual) / self.n + self.l2 * x

    def hess(self, x: Any) -> Any:
        return self.asarray(self._form[0])

    def grad_batch(self, x: Any, idx: Any) -> Any:
        xp = self.xp
        R, b = self._check_batch(x, idx)
        rows = take_rows(self.X, xp.reshape(idx, (-1,)), xp)
        rows = xp.reshape(rows, (R, b, self.d))
        targets = xp.reshape(xp.take(self.y, xp.reshape(idx, (-1,))), (R, b))
        residual = xp.sum(rows * x[:, None, :], axis=-1) - targets
        return xp.sum(rows * residual[..., None], axis=1) / b + self.l2 * x

    @cached_property
    def L_i(self) -> np.ndarray:
        return row_norms_squared(host_design(self.X)) + self.l2

    def __repr__(self) -> str:
        return f"LeastSquares(n={self.n}, d={self.d}, l2={self.l2:g})"
