"""Quadratic problems f(x) = ½xᵀAx − bᵀx + c with closed-form constants."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.base import Problem

from mastbench.backend import is_numpy, to_numpy
from mastbench.validation import check_psd, check_vector

__all__ = ["Quadratic", "QuadraticForm"]


class QuadraticForm:
    """Mixin of problems that are exactly quadratic: f(x) = ½xᵀAx − bᵀx + c.

    Subclasses provide ``quadratic_form() -> (A, b, c)`` as float64 NumPy arrays; the
    constants follow in closed form from one symmetric eigendecomposition of A.
    """

    def quadratic_form(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(A, b, c) on the host in float64, with f(x) = ½xᵀAx − bᵀx + c."""
        raise NotImplementedError

    @cached_property
    def _eigh(self) -> tuple[np.ndarray, np.ndarray]:
        A, _, _ = self.quadratic_form()
        return np.linalg.eigh(A)

    @property
    def L(self) -> float:
        """L = λ_max(A)."""
        return float(max(self._eigh[0][-1], 0.0))

    @property
    def mu(self) -> float:
        """μ = λ_min(A), reported as 0 when A is singular up to round-off."""
        eig = self._eigh[0]
        tol = eig.size * np.finfo(float).eps * max(abs(eig[-1]), 1.0)
        return float(eig[0]) if eig[0] > tol else 0.0

    @cached_property
    def x_star_host(self) -> np.ndarray:
        """x* = A⁻¹b, or the minimum-norm minimizer A⁺b when A is singular.

        Raises
        ------
        ValueError
            If A is singular and b is not in its range (f is unbounded below).
        """
        _, b, _ = self.quadratic_form()
        eig, vec = self._eigh
        tol = eig.size * np.finfo(float).eps * max(abs(eig[-1]), 1.0)
        keep = eig > tol
        coef = vec.T @ b
        if np.any(np.abs(coef[~keep]) > 1e-9 * max(np.linalg.norm(b), 1.0)):
            raise ValueError("f is unbounded below: b is not in the range of the singular A")
        return vec[:, keep] @ (coef[keep] / eig[keep])

    @cached_property
    def f_star(self) -> float:
        """f* = c − ½ bᵀx*."""
        _, b, c = self.quadratic_form()
        return float(c - 0.5 * b @ self.x_star_host)

    def _value_float64(self, x: np.ndarray) -> float:
        A, b, c = self.quadratic_form()
        return float(0.5 * x @ A @ x - b @ x + c)

    def _grad_float64(self, x: np.ndarray) -> np.ndarray:
        A, b, _ = self.quadratic_form()
        return A @ x - b


class Quadratic(QuadraticForm, Problem):
    """f(x) = ½xᵀAx − bᵀx with A symmetric positive semidefinite.

    Parameters
    ----------
    A : array, shape (d, d)
        Symmetric positive semidefinite matrix.
    b : array, shape (d,)
        Linear term.

    Notes
    -----
    ∇f(x) = Ax − b, ∇²f = A, L = λ_max(A), μ = λ_min(A), x* = A⁻¹b, f* = −½bᵀA⁻¹b
    (minimum-norm minimizer and pseudo-inverse when A is singular).
    """

    def __init__(self, A: Any, b: Any):
        self._set_backend(A=A, b=b)
        check_psd("A", A)
        self.d = int(A.shape[0])
        if self.d == 0:
            raise ValueError("A must be at least 1×1, got shape (0, 0)")
        check_vector("b", b, self.d)
        self.A = A
        self.b = b

    def quadratic_form(self) -> tuple[np.ndarray, np.ndarray, float]:
        return to_numpy(self.A).astype(float), to_numpy(self.b).astype(float), 0.0

    def value(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        return 0.5 * xp.sum(x * (x @ self.A), axis=-1) - xp.sum(x * self.b, axis=-1)

    def grad(self, x: Any) -> Any:
        self._check_point(x)
        if is_numpy(self.xp):  # x A is a fresh temporary: subtract b in it, no second one
            out = x @ self.A
            out -= self.b
            return out
        return x @ self.A - self.b

    def hess(self, x: Any) -> Any:
        return self.A

    def __repr__(self) -> str:
        return f"Quadratic(d={self.d})"
