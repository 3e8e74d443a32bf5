"""The whole propagation of a moment map in one compiled loop (numba).

Two loops: :func:`propagate_symmetric` for DSGD option I with a closed-form diagonal sketch
(below), and :func:`propagate_affine` for every other map with an affine form (option II,
importance sampling, distributed DSGD and IST, L-SVRDSG; :mod:`mastbench.exact.affine_form`),
one matrix–vector product s⁺ = M s + r per step on s = (m, vech P).

:class:`mastbench.exact.diagonal_step.SymmetricDiagonalStep` costs two small matrix products and
about a dozen NumPy calls per step; at d ≈ 30 the per-call overhead of NumPy outweighs the
arithmetic.  :func:`propagate_symmetric` runs all T steps of (m, P) in one call of a function
compiled by numba (the optional extra ``mastbench[fast]``), from the same precomputed pieces
(:class:`~mastbench.exact.diagonal_step.SymmetricFactors`), in the reduced form

    PA = P·A,    Z = w0_half·PA + P·Diag(l0_diag) + Diag(ρ) + Diag(f12_half∘dP)·A,
    W = A·Z + c·(β + a0c_half)ᵀ + P∘had + Diag(δ),    P⁺ = W + Wᵀ,

two products of (d, d) matrices (``np.dot``, i.e. BLAS) per step instead of the NumPy step's
(d, d)·(d, 2d) and (d, 2d+2)·(2d+2, d), with the elementwise work fused into loops.  It
agrees with the NumPy step to rounding (``tests/exact/test_diagonal_kernel.py``); the affine loop
agrees with each map's NumPy step to rounding (``tests/exact/test_affine_form.py``).

Each compiled function is cached on disk (``cache=True``: in ``NUMBA_CACHE_DIR`` when set,
else in ``__pycache__`` beside this file, else in numba's user-wide cache directory; without
any writable location it is compiled in memory once per process).  Its first use in a process
imports numba and loads it from the cache (about 0.4 s); on a cold cache it is compiled,
once per machine (about 1.6 s in all).  :func:`worthwhile` therefore keeps small propagations
(tests, quick verification) on the NumPy loops, which then never import numba.  Set
:data:`enabled` to False to force the NumPy loop of each map's own step (the reference)
everywhere.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from mastbench.exact.affine_form import AffineForm
from mastbench.exact.diagonal_step import SymmetricFactors

__all__ = [
    "MIN_WORK",
    "SPARSE_DENSITY",
    "available",
    "enabled",
    "propagate_affine",
    "propagate_symmetric",
    "worthwhile",
]

#: False forces :func:`mastbench.exact.moment_maps.propagate` onto the NumPy loop of each
#: map's own step (the reference), also where the NumPy affine loop would run.
enabled: bool = True

#: Largest fraction of nonzero entries of M for which :func:`propagate_affine` skips zeros.
SPARSE_DENSITY: float = 0.25

#: Least iters·d³ for which the compiled loop is used (see :func:`worthwhile`).
MIN_WORK: float = 2e6


def _propagate(
    A, w0_half, l0_diag, f12_half, a0c_half, c, gc, had, weights, beta_mean,
    m0, P0, iters, record, means, seconds, work,
):  # fmt: skip
    """The propagation loop (compiled by numba; see :func:`propagate_symmetric`)."""
    d = m0.shape[0]
    m = m0.copy()
    P, nxt, PA, Z, AZ = work[0], work[1], work[2], work[3], work[4]
    for i in range(d):
        for j in range(d):
            P[i, j] = P0[i, j]
    vec = np.ones(5 * d)  # dP, m, 1, diag PA, diag APA
    scaled = np.empty(2 * d)  # ρ, δ
    bm = np.empty(2 * d)  # β, m⁺ + γc
    u = np.empty(d)
    slot = 0
    for t in range(iters + 1):
        if t == record[slot]:  # explicit loops: slice assignment is slow to compile
            for i in range(d):
                means[slot, i] = m[i]
                for j in range(d):
                    seconds[slot, i, j] = P[i, j]
            slot += 1
            if slot == record.shape[0]:
                break
        np.dot(P, A, PA)
        for i in range(d):
            vec[i] = P[i, i]
            vec[d + i] = m[i]
            vec[3 * d + i] = PA[i, i]
            vec[4 * d + i] = 0.0
        for i in range(d):  # diag APA = column sums of A∘PA (A symmetric)
            for j in range(d):
                vec[4 * d + j] += A[i, j] * PA[i, j]
        np.dot(weights, vec, scaled)
        np.dot(beta_mean, m, bm)
        for j in range(d):
            u[j] = bm[j] + a0c_half[j]
        for i in range(d):
            s = f12_half[i] * vec[i]
            for j in range(d):
                Z[i, j] = w0_half * PA[i, j] + P[i, j] * l0_diag[j] + s * A[i, j]
            Z[i, i] += scaled[i]
        np.dot(A, Z, AZ)
        for i in range(d):  # W, in the buffer of Z
            for j in range(d):
                Z[i, j] = AZ[i, j] + c[i] * u[j] + P[i, j] * had[i, j]
            Z[i, i] += scaled[d + i]
        for i in range(d):  # P⁺ = W + Wᵀ
            for j in range(d):
                nxt[i, j] = Z[i, j] + Z[j, i]
        for i in range(d):
            m[i] = bm[d + i] - gc[i]
        P, nxt = nxt, P


def _propagate_affine(M, indptr, indices, data, r, s0, rows, cols, iters, record, means, seconds):
    """The loop s⁺ = M s + r (compiled by numba; see :func:`propagate_affine`): M dense, or in
    compressed sparse rows (indptr, indices, data) when indptr is not empty."""
    n = s0.shape[0]
    D = n - rows.shape[0]
    sparse = indptr.shape[0] > 0
    s = s0.copy()
    nxt = np.empty(n)
    slot = 0
    for t in range(iters + 1):
        if t == record[slot]:
            for i in range(D):
                means[slot, i] = s[i]
            for q in range(rows.shape[0]):
                seconds[slot, rows[q], cols[q]] = s[D + q]
                seconds[slot, cols[q], rows[q]] = s[D + q]
            slot += 1
            if slot == record.shape[0]:
                break
        if sparse:
            for i in range(n):
                total = 0.0
                for q in range(indptr[i], indptr[i + 1]):
                    total += data[q] * s[indices[q]]
                nxt[i] = total
        else:
            np.dot(M, s, nxt)
        for i in range(n):
            s[i] = nxt[i] + r[i]


@cache
def _jit(name: str) -> Any:
    """The numba-compiled function ``name`` of this module, or None without numba or with its
    JIT disabled."""
    try:
        import numba
    except ImportError:
        return None
    if numba.config.DISABLE_JIT:
        return None
    function = globals()[name]
    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # no writable cache location: compile in memory
        return numba.njit(function)


def _compiled() -> Any:
    """The numba-compiled :func:`_propagate`, or None without numba or with its JIT disabled."""
    return _jit("_propagate")


def available() -> bool:
    """Whether the compiled loops can run: :data:`enabled` and numba importable."""
    return enabled and _compiled() is not None


def worthwhile(d: int, iters: int) -> bool:
    """Whether a propagation of ``iters`` steps at dimension d goes to the compiled loop.

    True from iters·d³ ≥ :data:`MIN_WORK` on.  The threshold is a policy, not a break-even
    point of one call: it keeps the sizes of the unit tests and of ``mastbench verify
    --quick`` (d ≤ 12 with T ≤ 1000, where the compiled loop would save ≲ 15 ms per
    propagation) from importing numba at all, and sends benchmark-sized propagations (d = 30,
    T = 1000, or d ≥ 64, or small d with T ≳ 10⁵) to it, where the one-off cost in a process
    is amortized over its propagations and each step is about 2× (d = 128) to 17× (d = 10)
    cheaper.
    """
    return iters * float(d) ** 3 >= MIN_WORK


def propagate_symmetric(
    factors: SymmetricFactors,
    m0: np.ndarray,
    P0: np.ndarray,
    iters: int,
    checkpoints: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(m, P) at the checkpoints of the symmetric fused step, by the compiled loop.

    Parameters
    ----------
    factors : SymmetricFactors
        From :attr:`mastbench.exact.diagonal_step.SymmetricDiagonalStep.factors`.
    m0 : ndarray, shape (d,)
    P0 : ndarray, shape (d, d)
        Symmetric.
    iters : int
        Number of steps T ≥ 0.
    checkpoints : ndarray of int64, shape (C,)
        Sorted unique iterations within [0, T], C ≥ 1.

    Returns
    -------
    means : ndarray, shape (C, d)
    seconds : ndarray, shape (C, d, d)

    Raises
    ------
    RuntimeError
        If numba is not importable or its JIT is disabled (check :func:`available`).
    """
    kernel = _compiled()
    if kernel is None:
        raise RuntimeError("the compiled propagation needs numba (pip install mastbench[fast])")
    d = m0.shape[0]
    means = np.empty((checkpoints.shape[0], d))
    seconds = np.empty((checkpoints.shape[0], d, d))
    work = np.empty((5, d, d))  # P, P⁺, PA, Z, AZ (allocated here, visible to tracemalloc)
    kernel(
        *(a if np.isscalar(a) else np.ascontiguousarray(a, dtype=np.float64) for a in factors),
        np.ascontiguousarray(m0, dtype=np.float64),
        np.ascontiguousarray(P0, dtype=np.float64),
        int(iters),
        np.ascontiguousarray(checkpoints, dtype=np.int64),
        means,
        seconds,
        work,
    )
    return means, seconds


def propagate_affine(
    form: AffineForm, m0: np.ndarray, P0: np.ndarray, iters: int, checkpoints: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(m, P) at the checkpoints of any moment map by its affine form s⁺ = M s + r.

    One matrix–vector product per step on s = (m, vech P)
    (:mod:`mastbench.exact.affine_form`), all ``iters`` steps in one compiled call: by BLAS
    for a dense M, over the nonzero entries when at most :data:`SPARSE_DENSITY` of M's
    entries are nonzero (L-SVRDSG's augmented state, sparse Discrete supports).

    Parameters
    ----------
    form : AffineForm
        From :attr:`mastbench.exact.moment_maps.MomentMap.affine`.
    m0 : ndarray, shape (D,)
    P0 : ndarray, shape (D, D)
        Symmetric.
    iters, checkpoints
        As for :func:`propagate_symmetric`.

    Returns
    -------
    means : ndarray, shape (C, D)
    seconds : ndarray, shape (C, D, D)

    Raises
    ------
    RuntimeError
        If numba is not importable or its JIT is disabled (check :func:`available`).
    """
    kernel = _jit("_propagate_affine")
    if kernel is None:
        raise RuntimeError("the compiled propagation needs numba (pip install mastbench[fast])")
    D = form.dim
    means = np.empty((checkpoints.shape[0], D))
    seconds = np.empty((checkpoints.shape[0], D, D))
    M = np.ascontiguousarray(form.M, dtype=np.float64)
    empty = np.empty(0, dtype=np.int64)
    if np.count_nonzero(M) <= SPARSE_DENSITY * M.size:
        indptr, indices, data = _csr(M)
        M = np.empty((0, 0))
    else:
        indptr, indices, data = empty, empty, np.empty(0)
    kernel(
        M,
        indptr,
        indices,
        data,
        np.ascontiguousarray(form.r, dtype=np.float64),
        form.pack(np.asarray(m0, dtype=np.float64), np.asarray(P0, dtype=np.float64)),
        form.rows,
        form.cols,
        int(iters),
        np.ascontiguousarray(checkpoints, dtype=np.int64),
        means,
        seconds,
    )
    return means, seconds


def _csr(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of the nonzero entries of M, row by row."""
    rows, indices = np.nonzero(M)
    indptr = np.zeros(M.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=M.shape[0]), out=indptr[1:])
    return indptr, indices.astype(np.int64), M[rows, indices]
