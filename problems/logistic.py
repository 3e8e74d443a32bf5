"""ℓ2-regularized logistic regression with its minimizer computed to machine precision."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems._data import check_binary_labels
from mastbench.problems.base import FiniteSum
from mastbench.problems.design import (
    gram,
    host_design,
    is_sparse,
    row_inner_products,
    row_norms_squared,
    take_rows,
    weighted_row_sum,
)
from scipy.special import expit

from mastbench.backend import is_numpy, to_numpy

__all__ = ["Logistic", "NewtonMinimized", "newton", "newton_minimizer"]


def _log1pexp(xp: Any, z: Any) -> Any:
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(−|z|)), one exponential."""
    return (z + xp.abs(z)) / 2 + xp.log1p(xp.exp(-xp.abs(z)))


def _sigmoid(xp: Any, z: Any) -> Any:
    """1 / (1 + exp(−z)) without overflow, one exponential: with e = exp(−|z|),
    σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) otherwise."""
    e = xp.exp(-xp.abs(z))
    inverse = 1 / (1 + e)
    return xp.where(z >= 0, inverse, e * inverse)


def newton(
    grad: Any, hess: Any, value: Any, x0: np.ndarray, *, tol: float, max_iter: int = 100
) -> tuple[np.ndarray, float, int]:
    """Damped Newton's method with Armijo backtracking, in float64 on the host.

    Returns
    -------
    x : numpy.ndarray
        The minimizer found.
    certificate : float
        ‖∇f(x)‖ achieved.
    iterations : int
        Newton steps taken.

    Raises
    ------
    RuntimeError
        If ‖∇f‖ ≤ tol is not reached within ``max_iter`` steps.
    """
    x = np.array(x0, dtype=float)
    for it in range(max_iter):
        g = grad(x)
        norm = float(np.linalg.norm(g))
        if norm <= tol:
            return x, norm, it
        direction = np.linalg.solve(hess(x), g)
        fx, decrement2, step = value(x), float(g @ direction), 1.0
        # Once the Newton decrement is at round-off level of f, function values cannot rank
        # steps any more; there the full Newton step is taken (quadratic convergence region).
        if decrement2 > 1e-10 * (1.0 + abs(fx)):
            while value(x - step * direction) > fx - 1e-4 * step * decrement2 and step > 1e-12:
                step *= 0.5
        x = x - step * direction
    norm = float(np.linalg.norm(grad(x)))
    if norm <= tol:
        return x, norm, max_iter
    raise RuntimeError(f"Newton did not reach ‖∇f‖ <= {tol:.1e} (got {norm:.3e})")


def newton_minimizer(grad: Any, hess: Any, value: Any, d: int) -> tuple[np.ndarray, float]:
    """:func:`newton` from 0 to ‖∇f‖ ≤ 1e-12·max(1, ‖∇f(0)‖): the certified minimizer.

    Returns
    -------
    x : numpy.ndarray
        The minimizer found.
    certificate : float
        ‖∇f(x)‖ achieved.

    Raises
    ------
    RuntimeError
        If the tolerance is not reached (see :func:`newton`).
    """
    x0 = np.zeros(d)
    scale = max(1.0, float(np.linalg.norm(grad(x0))))
    x, certificate, _ = newton(grad, hess, value, x0, tol=1e-12 * scale)
    return x, certificate


class NewtonMinimized(FiniteSum):
    """An ℓ2-regularized finite sum whose minimizer is :func:`newton_minimizer` run on its host
    float64 oracles ``_value_float64``, ``_grad_float64`` and ``_host_hess`` (which subclasses
    define, with ``l2``)."""

    l2: float

    @cached_property
    def _solution(self) -> tuple[np.ndarray, float]:
        if self.l2 <= 0:
            raise ValueError(
                f"{type(self).__name__} with l2 = 0 may have no unique minimizer; use l2 > 0 "
                "for x_star"
            )
        return newton_minimizer(self._grad_float64, self._host_hess, self._value_float64, self.d)

    @property
    def x_star_host(self) -> np.ndarray:
        return self._solution[0]

    @cached_property
    def f_star(self) -> float:
        return self._value_float64(self.x_star_host)

    @property
    def certificate(self) -> float:
        """‖∇f(x*)‖ achieved by Newton (≤ 1e-12·max(1, ‖∇f(0)‖))."""
        return self._solution[1]


class Logistic(NewtonMinimized):
    """f(w) = (1/n) Σ_i log(1 + exp(−y_i x_iᵀw)) + (l2/2)‖w‖², labels y_i ∈ {−1, +1}.

    Parameters
    ----------
    X : array or SciPy sparse matrix, shape (n, d)
        Features.  A sparse X (any SciPy format, stored as CSR) needs NumPy ``y``; the batched
        gradient then costs O(R·nnz(X)) instead of O(R·n·d) (see ``problems.design``).
    y : array, shape (n,)
        Labels, exactly ±1.
    l2 : float
        Ridge parameter, ≥ 0 (> 0 for a unique minimizer and μ > 0).

    Notes
    -----
    ∇f(w) = −(1/n) Σ_i σ(−y_i x_iᵀw) y_i x_i + l2·w, ∇²f(w) = XᵀDX/n + l2·I with
    D = Diag(σ(1 − σ)) ⪯ I/4, hence L = λ_max(XᵀX)/(4n) + l2 (a tight global bound) and
    μ = l2; L_i = ‖x_i‖²/4 + l2.  The minimizer is computed by damped Newton to
    ‖∇f(w*)‖ ≤ 1e-12·max(1, ‖∇f(0)‖); the achieved value is :attr:`certificate`.
    """

    def __init__(self, X: Any, y: Any, l2: float):
        X = self._set_design(X, y, l2)
        check_binary_labels(y)
        self.X, self.y = X, y
        self.n, self.d = (int(s) for s in X.shape)
        # Half signed rows h_i = y_i x_i / 2, so that m_i/2 = xᵀh_i: with
        # σ(−m) = ½(1 − tanh(m/2)) the gradient is (tanh(x Hᵀ) H − Σ_i h_i)/n + l2·x, two
        # matrix products and one elementwise pass over the (R, n) margins (the hot path of
        # batched runs).
        half_labels = y / 2
        if is_sparse(X):
            self._half_rows = X.multiply(half_labels[:, None]).tocsr()
        else:
            self._half_rows = X * half_labels[:, None]
        self._half_rows_sum = weighted_row_sum(self._half_rows, self.xp.ones_like(half_labels))

    # -- oracles on any backend --------------------------------------------------------------
    def value(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        margins = 2 * row_inner_products(self._half_rows, x)
        return xp.mean(_log1pexp(xp, -margins), axis=-1) + 0.5 * self.l2 * xp.sum(x * x, axis=-1)

    def grad(self, x: Any) -> Any:
        self._check_point(x)
        half_margins = row_inner_products(self._half_rows, x)
        if is_numpy(self.xp):  # the margins are a fresh (R, n) temporary: no second one
            np.tanh(half_margins, out=half_margins)
        else:
            half_margins = self.xp.tanh(half_margins)
        tanh_part = weighted_row_sum(self._half_rows, half_margins)
        return (tanh_part - self._half_rows_sum) / self.n + self.l2 * x

    def hess(self, x: Any) -> Any:
        if is_sparse(self.X):
            return self._host_hess(to_numpy(x).astype(np.float64))
        xp = self.xp
        p = _sigmoid(xp, self.X @ x)
        weighted = self.X * (p * (1 - p))[:, None]
        eye = xp.eye(self.d, dtype=self.dtype, device=self.device)
        return self.X.T @ weighted / self.n + self.l2 * eye

    def grad_batch(self, x: Any, idx: Any) -> Any:
        xp = self.xp
        R, b = self._check_batch(x, idx)
        flat = xp.reshape(idx, (-1,))
        rows = xp.reshape(take_rows(self.X, flat, xp), (R, b, self.d))
        labels = xp.reshape(xp.take(self.y, flat), (R, b))
        margins = xp.sum(rows * x[:, None, :], axis=-1) * labels
        weights = -_sigmoid(xp, -margins) * labels
        return xp.sum(rows * weights[..., None], axis=1) / b + self.l2 * x

    # -- exact constants ---------------------------------------------------------------------
    @cached_property
    def _host(self) -> tuple[Any, np.ndarray]:
        return host_design(self.X), to_numpy(self.y).astype(float)

    @cached_property
    def hessian_bound(self) -> np.ndarray:
        """XᵀX/(4n) + l2·I ⪰ ∇²f(w) for every w (σ(1 − σ) ≤ 1/4), host float64 (d, d)."""
        X, _ = self._host
        return gram(X) / (4 * self.n) + self.l2 * np.eye(self.d)

    @cached_property
    def L(self) -> float:
        return float(np.linalg.eigvalsh(self.hessian_bound)[-1])

    @property
    def mu(self) -> float:
        return self.l2

    @cached_property
    def L_i(self) -> np.ndarray:
        X, _ = self._host
        return row_norms_squared(X) / 4 + self.l2

    def _value_float64(self, w: np.ndarray) -> float:
        X, y = self._host
        return float(np.mean(np.logaddexp(0, -y * (X @ w))) + 0.5 * self.l2 * w @ w)

    def _grad_float64(self, w: np.ndarray) -> np.ndarray:
        X, y = self._host
        return -(X.T @ (expit(-y * (X @ w)) * y)) / self.n + self.l2 * w

    def _host_hess(self, w: np.ndarray) -> np.ndarray:
        X, _ = self._host
        p = expit(X @ w)
        return gram(X, p * (1 - p)) / self.n + self.l2 * np.eye(self.d)

    def __repr__(self) -> str:
        return f"Logistic(n={self.n}, d={self.d}, l2={self.l2:g})"
