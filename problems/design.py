"""Design matrices of the data-fit problems: dense arrays, or SciPy sparse matrices.

A design matrix X (n, d) is either a dense array of the problem's namespace, or a SciPy sparse
matrix whose data live on the host (NumPy namespace only).  LIBSVM sets are sparse (a5a holds
11 % nonzeros, w8a 4 %), and the products a batched run needs, x ↦ x Xᵀ and g ↦ g X for
(R, d) and (R, n) batches, then cost O(R·nnz) instead of O(R·n·d).

The hot-path products are :func:`row_inner_products` and :func:`weighted_row_sum`; the
host-side helpers (:func:`host_design`, :func:`gram`, :func:`row_norms_squared`) serve the
exact constants.  A sparse X is stored as CSR: its transpose is then a CSC view, and both
products run in SciPy's compiled kernels with the batch as the contiguous axis, or, for large
batched products with numba installed, in the same loops compiled for the machine
(:mod:`problems.csr_kernel`, bitwise the same results).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from mastbench.problems import csr_kernel

from mastbench.backend import to_numpy

__all__ = [
    "as_sparse_design",
    "gram",
    "host_design",
    "is_sparse",
    "row_inner_products",
    "row_norms_squared",
    "take_rows",
    "weighted_row_sum",
]


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a SciPy sparse matrix or array."""
    return sp.issparse(X)


def as_sparse_design(name: str, X: Any, y: Any) -> sp.csr_array:
    """Check a sparse design matrix against its targets; return it in CSR form.

    Raises
    ------
    TypeError
        If ``y`` is not a NumPy array (sparse X lives on the host), or X is not real floating.
    ValueError
        If X is not 2-D with one row per entry of ``y``, has no rows, or stores NaN/inf.
    """
    if not isinstance(y, np.ndarray):
        raise TypeError(
            f"{name}: a SciPy sparse {name} needs NumPy targets y (sparse data live on the "
            f"host), got y of type {type(y).__name__}"
        )
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"{name} must be real floating point, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} and y must have the same number of rows, got {X.shape[0]} and shape {y.shape}"
        )
    csr = sp.csr_array(X)
    if not np.all(np.isfinite(csr.data)):
        raise ValueError(f"{name} must not contain NaN or infinity")
    return csr


def row_inner_products(X: Any, x: Any) -> Any:
    """x Xᵀ: the inner products ⟨x, x_i⟩ with every row, shape (n,) or (R, n) for x (d,)/(R, d)."""
    if is_sparse(X):
        if csr_kernel.worthwhile(X, x):
            return csr_kernel.row_inner_products(X, x)
        return (X @ x.T).T
    return x @ X.T


def weighted_row_sum(X: Any, g: Any) -> Any:
    """g X = Σ_i g_i x_i, shape (d,) or (R, d) for weights g of shape (n,) or (R, n)."""
    if is_sparse(X):
        if csr_kernel.worthwhile(X, g):
            return csr_kernel.weighted_row_sum(X, g)
        return (X.T @ g.T).T
    return g @ X


def take_rows(X: Any, idx: Any, xp: Any) -> Any:
    """The rows of X at the flat indices ``idx``, dense, shape (len(idx), d)."""
    if is_sparse(X):
        return X[to_numpy(idx)].toarray()
    return xp.take(X, idx, axis=0)


def host_design(X: Any) -> Any:
    """X as float64 on the host: a CSR array if sparse, else a NumPy array."""
    if is_sparse(X):
        return sp.csr_array(X, dtype=np.float64)
    return to_numpy(X).astype(np.float64)


def gram(X: Any, weights: np.ndarray | None = None) -> np.ndarray:
    """Xᵀ Diag(w) X (XᵀX without weights) of a host design, as a dense (d, d) array."""
    scaled = X if weights is None else _scale_rows(X, weights)
    product = X.T @ scaled
    return product.toarray() if is_sparse(product) else np.asarray(product)


def row_norms_squared(X: Any) -> np.ndarray:
    """‖x_i‖² for every row of a host design, shape (n,)."""
    if is_sparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def _scale_rows(X: Any, weights: np.ndarray) -> Any:
    if is_sparse(X):
        return sp.diags_array(weights) @ X
    return X * weights[:, None]
