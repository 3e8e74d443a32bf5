"""Multinomial logistic regression (softmax cross-entropy with ridge), exact constants.

The parameter is a (p, K) weight matrix W (p features, K classes) flattened row-major into
w ∈ R^{pK}: w[i·K + k] = W[i, k].  Row i of W holds the K weights of input feature i, so the
"input-wise" groups of the paper's MNIST experiment (one group per input, size K) are the
contiguous blocks {iK, ..., iK + K − 1} (:meth:`MultinomialLogistic.input_groups`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems._data import check_design
from mastbench.problems.logistic import NewtonMinimized
from scipy.special import logsumexp, softmax

from mastbench.backend import to_numpy
from mastbench.validation import check_int

__all__ = ["MultinomialLogistic"]


class MultinomialLogistic(NewtonMinimized):
    """f(W) = (1/n) Σ_i [logsumexp(x_iᵀW) − x_iᵀW_{:,y_i}] + (l2/2)‖W‖_F².

    Parameters
    ----------
    X : array, shape (n, p)
        Features (append a column of ones for intercepts).
    y : array, shape (n,)
        Class indices 0..K−1 (integers stored in any real or integer dtype).
    n_classes : int
        K ≥ 2.
    l2 : float
        Ridge parameter ≥ 0 (> 0 for a unique minimizer: the softmax is invariant to adding a
        common vector to all columns).

    Notes
    -----
    ∇f(W) = Xᵀ(softmax(XW) − Y)/n + l2·W and ∇²f = (1/n)Σ_i (x_i x_iᵀ) ⊗ (Diag p_i − p_i p_iᵀ)
    + l2·I.  Since λ_max(Diag p − ppᵀ) ≤ 1/2, L = λ_max(XᵀX)/(2n) + l2 (a global bound),
    μ = l2 and L_i = ‖x_i‖²/2 + l2.  W* by damped Newton to ‖∇f‖ ≤ 1e-12·max(1, ‖∇f(0)‖)
    (:attr:`certificate`).
    """

    def __init__(self, X: Any, y: Any, n_classes: int, l2: float):
        self._set_backend(X=X)
        self.l2 = check_design(X, y, l2)
        self.n_classes = check_int("n_classes", n_classes, low=2)
        labels = to_numpy(y)
        if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < n_classes)):
            raise ValueError(f"y must hold class indices in 0..{n_classes - 1}")
        self.X = X
        self.n, self.p = (int(s) for s in X.shape)
        self.d = self.p * self.n_classes
        xp = self.xp
        classes = xp.arange(self.n_classes, device=self.device)
        self.labels = xp.asarray(labels.astype(np.int64), device=self.device)
        self.Y = xp.astype(self.labels[:, None] == classes, self.dtype)

    @property
    def input_groups(self) -> list[np.ndarray]:
        """One group per input feature: the K weights of row i of W."""
        K = self.n_classes
        return [np.arange(i * K, (i + 1) * K) for i in range(self.p)]

    def _W(self, x: Any) -> Any:
        return self.xp.reshape(x, (*x.shape[:-1], self.p, self.n_classes))

    def _log_softmax(self, logits: Any) -> Any:
        xp = self.xp
        top = xp.max(logits, axis=-1, keepdims=True)
        shifted = logits - top
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))

    # -- oracles ------------------------------------------------------------------------
    def value(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        logp = self._log_softmax(self.X @ self._W(x))
        loss = -xp.sum(logp * self.Y, axis=(-2, -1)) / self.n
        return loss + 0.5 * self.l2 * xp.sum(x * x, axis=-1)

    def grad(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        probs = xp.exp(self._log_softmax(self.X @ self._W(x)))
        G = xp.matrix_transpose(self.X) @ (probs - self.Y) / self.n
        return xp.reshape(G, x.shape) + self.l2 * x

    def grad_batch(self, x: Any, idx: Any) -> Any:
        xp = self.xp
        R, b = self._check_batch(x, idx)
        flat = xp.reshape(idx, (-1,))
        rows = xp.reshape(xp.take(self.X, flat, axis=0), (R, b, self.p))
        onehot = xp.reshape(xp.take(self.Y, flat, axis=0), (R, b, self.n_classes))
        probs = xp.exp(self._log_softmax(rows @ self._W(x)))
        G = xp.matrix_transpose(rows) @ (probs - onehot) / b
        return xp.reshape(G, (R, self.d)) + self.l2 * x

    def predict(self, x: Any, X: Any) -> Any:
        """Predicted classes of the rows of ``X`` for weights x (d,) or (R, d)."""
        return self.xp.argmax(X @ self._W(x), axis=-1)

    def hess(self, x: Any) -> Any:
        return self.asarray(self._host_hess(to_numpy(x).astype(float)))

    # -- exact constants ----------------------------------------------------------------
    @cached_property
    def _host(self) -> tuple[np.ndarray, np.ndarray]:
        return to_numpy(self.X).astype(float), to_numpy(self.Y).astype(float)

    @cached_property
    def L(self) -> float:
        X, _ = self._host
        return float(np.linalg.norm(X, 2) ** 2 / (2 * self.n) + self.l2)

    @property
    def mu(self) -> float:
        return self.l2

    @cached_property
    def L_i(self) -> np.ndarray:
        X, _ = self._host
        return np.einsum("ij,ij->i", X, X) / 2 + self.l2

    def _value_float64(self, w: np.ndarray) -> float:
        X, Y = self._host
        logits = X @ w.reshape(self.p, self.n_classes)
        loss = np.mean(logsumexp(logits, axis=1) - np.sum(logits * Y, axis=1))
        return float(loss + 0.5 * self.l2 * w @ w)

    def _grad_float64(self, w: np.ndarray) -> np.ndarray:
        X, Y = self._host
        probs = softmax(X @ w.reshape(self.p, self.n_classes), axis=1)
        return (X.T @ (probs - Y) / self.n).reshape(-1) + self.l2 * w

    def _host_hess(self, w: np.ndarray) -> np.ndarray:
        X, _ = self._host
        probs = softmax(X @ w.reshape(self.p, self.n_classes), axis=1)
        K = self.n_classes
        cov = probs[:, :, None] * (np.eye(K)[None] - probs[:, None, :])
        # one GEMM: rows (i, k, m) of X_i·cov_km against the columns j of X
        weighted = (X[:, :, None] * cov.reshape(self.n, 1, K * K)).reshape(self.n, -1)
        H = (weighted.T @ X).reshape(self.p, K, K, self.p).transpose(0, 1, 3, 2)
        return H.reshape(self.d, self.d) / self.n + self.l2 * np.eye(self.d)

    def grad_host(self, x: np.ndarray) -> np.ndarray:
        return self._grad_float64(np.asarray(x, dtype=float))

    def value_host(self, x: np.ndarray) -> float:
        return self._value_float64(np.asarray(x, dtype=float))

    def __repr__(self) -> str:
        return f"MultinomialLogistic(n={self.n}, p={self.p}, K={self.n_classes}, l2={self.l2:g})"
