"""The two CSR products of a batched run as compiled loops (numba, the optional ``fast`` extra).

For a CSR design X (n, d) and a batch of R points, the margins x Xᵀ (R, n) and the weighted
sums g X (R, d) are what every step of a batched logistic or least-squares run computes.
SciPy runs them in loops compiled for the baseline x86-64 instruction set; the loops here are
the same loops (over the rows of X, each nonzero adding a multiple of a length-R row of the
batch), compiled by numba for the machine, which vectorizes the length-R updates.  Each output
entry is summed over the same nonzeros in the same order from the same zero start, with no
fused multiply-add, so the results are bitwise SciPy's (``tests/problems/test_csr_kernel.py``).

The compiled functions are cached on disk (``cache=True``; compiled in memory where no cache
location is writable).  :func:`worthwhile` keeps small products (those of the unit tests) on
SciPy, which then never imports numba.  Set :data:`enabled` to False to force SciPy everywhere.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

__all__ = ["MIN_WORK", "enabled", "row_inner_products", "weighted_row_sum", "worthwhile"]

#: False sends every product to SciPy.
enabled: bool = True

#: Least R·nnz(X) for which a product goes to the compiled loop (see :func:`worthwhile`).
MIN_WORK: float = 2e6


def _margins(indptr, indices, data, points, out):
    """out[i] = Σ_j X[i, j] points[j] over the stored entries of row i, in storage order.

    ``points`` is the batch transposed, (d, R); ``out`` is (n, R).  SciPy's ``csr_matvecs``,
    with four entries added per pass over ``out[i]`` (left to right: the same sums).
    """
    for i in range(indptr.shape[0] - 1):
        row = out[i]
        row[:] = 0.0
        jj, end = indptr[i], indptr[i + 1]
        while jj + 4 <= end:
            w0, w1, w2, w3 = data[jj], data[jj + 1], data[jj + 2], data[jj + 3]
            s0, s1 = points[indices[jj]], points[indices[jj + 1]]
            s2, s3 = points[indices[jj + 2]], points[indices[jj + 3]]
            for r in range(row.shape[0]):
                row[r] = row[r] + w0 * s0[r] + w1 * s1[r] + w2 * s2[r] + w3 * s3[r]
            jj += 4
        for kk in range(jj, end):
            weight, source = data[kk], points[indices[kk]]
            for r in range(row.shape[0]):
                row[r] += weight * source[r]


def _weighted(indptr, indices, data, weights, out):
    """out[j] = Σ_i X[i, j] weights[i], the rows i in order, as SciPy's ``csc_matvecs`` on Xᵀ.

    ``weights`` is (n, R); ``out`` is (d, R).
    """
    out[:, :] = 0.0
    for i in range(indptr.shape[0] - 1):
        source = weights[i]
        for jj in range(indptr[i], indptr[i + 1]):
            weight = data[jj]
            target = out[indices[jj]]
            for r in range(source.shape[0]):
                target[r] += weight * source[r]


@cache
def _compiled() -> tuple[Any, Any] | None:
    """The numba-compiled (:func:`_margins`, :func:`_weighted`), or None without numba or with
    its JIT disabled."""
    try:
        import numba
    except ImportError:
        return None
    if numba.config.DISABLE_JIT:
        return None
    try:
        return numba.njit(cache=True)(_margins), numba.njit(cache=True)(_weighted)
    except RuntimeError:  # no writable cache location: compile in memory
        return numba.njit(_margins), numba.njit(_weighted)


def worthwhile(X: Any, batch: Any) -> bool:
    """Whether the product of the CSR matrix X with ``batch`` goes to the compiled loop.

    True for a 2-D NumPy float64 ``batch`` of R rows and a float64 CSR X with R·nnz(X) ≥
    :data:`MIN_WORK` (a5a with 100 replicates: 8.9e6), when :data:`enabled` and numba is
    importable.  Smaller products stay on SciPy, where the one-off cost of loading the
    compiled loop (about 0.5 s per process) would not pay.
    """
    return (
        enabled
        and isinstance(batch, np.ndarray)
        and batch.ndim == 2
        and batch.dtype == np.float64
        and getattr(X, "format", None) == "csr"
        and X.dtype == np.float64
        and batch.shape[0] * float(X.nnz) >= MIN_WORK
        and _compiled() is not None
    )


def row_inner_products(X: Any, x: np.ndarray) -> np.ndarray:
    """x Xᵀ, (R, n), for a CSR X (n, d) and points x (R, d); check :func:`worthwhile` first."""
    margins, _ = _compiled()
    out = np.empty((X.shape[0], x.shape[0]))
    margins(X.indptr, X.indices, X.data, np.ascontiguousarray(x.T), out)
    return out.T


def weighted_row_sum(X: Any, g: np.ndarray) -> np.ndarray:
    """g X, (R, d), for a CSR X (n, d) and weights g (R, n); check :func:`worthwhile` first."""
    _, weighted = _compiled()
    out = np.empty((X.shape[1], g.shape[0]))
    weighted(X.indptr, X.indices, X.data, np.ascontiguousarray(g.T), out)
    return out.T
