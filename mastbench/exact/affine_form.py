"""A moment map as one affine map on the stacked state s = (m, vech P), for a compiled loop.

Every :class:`~mastbench.exact.moment_maps.MomentMap` is affine in (m, P)
(``theory/mast.md`` §6.1 [D]): with m = E[u], P = E[uuᵀ] on R^D,

    m⁺ = E[K] m + E[h],    P⁺ = sym(𝓛(P) + 𝓒(m) + N),    sym X = ½(X + Xᵀ),

𝓛(P)_ij = Σ_kl L[i, j, k, l] P_kl, 𝓒(m)_ij = Σ_k C[i, j, k] m_k and a constant N.  For
symmetric P only the D(D+1)/2 entries P_kl, k ≤ l (``vech P``, in the order of
``np.triu_indices(D)``) matter, so the whole step is

    s⁺ = M s + r,    s = (m, vech P) of length D + D(D+1)/2,

one matrix–vector product per step whatever the method, which
:func:`mastbench.exact.numba_kernel.propagate_affine` runs for all T steps in one compiled call
and :meth:`AffineForm.propagate` in NumPy (small D, where a map's own step costs far more
NumPy calls than one product by M).
The tensors (L, C, N) come from the method's own quantities, without stepping its map:

- enumerated branches (K_n, h_n) with weights w_n: L = Σ_n w_n K_n ⊗ K_n,
  C[i, j, k] = Σ_n w_n ((K_n)_ik (h_n)_j + (h_n)_i (K_n)_jk), N = E[hhᵀ];
- a diagonal sketch S = Diag(s) with moment tensors μ3 = E[s_i s_k s_j] and
  μ4 = E[s_i s_k s_l s_j]: E[SAS P SBS]_ij = Σ_kl μ4[i, k, l, j] A_ik P_kl B_lj and
  E[SAS m cᵀS]_ij = Σ_k μ3[i, k, j] A_ik m_k c_j, summed over the (A, B) pairs of the method
  (the data components of option II, the clients of distributed DSGD).

M has (D + D(D+1)/2)² entries (0.1 MB at D = 14, 2 MB at D = 30), so a product costs
O(D⁴/4) against the O(D³) products of the NumPy step per branch, component or client; the
form is built only for D ≤ :data:`MAX_AFFINE_DIM`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from mastbench.sketches import Sketch, _closed_form_patterns

__all__ = [
    "MAX_AFFINE_DIM",
    "NUMPY_AFFINE_MAX_DIM",
    "AffineForm",
    "AffineTerms",
    "affine_form",
    "diagonal_moment_tensors",
    "enumerated_terms",
    "sandwich_terms",
]

#: Largest state dimension D for which a moment map builds its :class:`AffineForm`.
MAX_AFFINE_DIM: int = 40

#: Largest D for which the NumPy propagation steps the affine form rather than the map: up to
#: there one product by M (at most 90 × 90) costs a few µs, against some 50 NumPy calls per
#: data component, client or branch of a map's own step.
NUMPY_AFFINE_MAX_DIM: int = 12


class AffineTerms(NamedTuple):
    """The moment map m⁺ = EK m + Eh, P⁺ = sym(𝓛(P) + 𝓒(m) + N) by its tensors.

    Attributes
    ----------
    EK : ndarray, shape (D, D)
    Eh : ndarray, shape (D,)
    L : ndarray, shape (D, D, D, D)
        𝓛(P)_ij = Σ_kl L[i, j, k, l] P_kl.
    C : ndarray, shape (D, D, D)
        𝓒(m)_ij = Σ_k C[i, j, k] m_k.
    N : ndarray, shape (D, D)
    """

    EK: np.ndarray
    Eh: np.ndarray
    L: np.ndarray
    C: np.ndarray
    N: np.ndarray


class AffineForm(NamedTuple):
    """s⁺ = M s + r on s = (m, vech P) (see the module docstring).

    Attributes
    ----------
    M : ndarray, shape (n, n)
        n = D + D(D+1)/2.
    r : ndarray, shape (n,)
    rows, cols : ndarray of int64, shape (D(D+1)/2,)
        ``np.triu_indices(D)``: entry q of vech P is P[rows[q], cols[q]].
    """

    M: np.ndarray
    r: np.ndarray
    rows: np.ndarray
    cols: np.ndarray

    @property
    def dim(self) -> int:
        """The state dimension D."""
        return self.M.shape[0] - self.rows.shape[0]

    def pack(self, m: np.ndarray, P: np.ndarray) -> np.ndarray:
        """s = (m, vech P)."""
        return np.concatenate([m, P[self.rows, self.cols]])

    def unpack(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(m, P) from s, P symmetric."""
        D = self.dim
        P = np.empty((D, D))
        P[self.rows, self.cols] = s[D:]
        P[self.cols, self.rows] = s[D:]
        return s[:D].copy(), P

    def propagate(
        self, m0: np.ndarray, P0: np.ndarray, iters: int, checkpoints: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(m, P) at the sorted ``checkpoints`` (the last ≤ ``iters``) from a symmetric P0,
        by s⁺ = M s + r in NumPy: one small matrix–vector product per step."""
        D = self.dim
        means = np.empty((checkpoints.shape[0], D))
        seconds = np.empty((checkpoints.shape[0], D, D))
        M, r, s = self.M, self.r, self.pack(m0, P0)
        record, slot = checkpoints.tolist(), 0
        for t in range(iters + 1):
            if t == record[slot]:
                means[slot], seconds[slot] = self.unpack(s)
                slot += 1
                if slot == len(record):
                    break
            s = M @ s + r
        return means, seconds


def affine_form(terms: AffineTerms) -> AffineForm:
    """The stacked affine map (M, r) of the tensors of a moment map."""
    D = terms.Eh.shape[0]
    rows, cols = np.triu_indices(D)
    L = terms.L[rows, cols] + terms.L[cols, rows]  # 2·sym of the output rows (i, j), i ≤ j
    L += L.transpose(0, 2, 1)  # P_kl and P_lk share vech entry (k, l) ...
    diagonal = np.arange(D)
    L[:, diagonal, diagonal] *= 0.5  # ... once on the diagonal
    n = rows.shape[0]
    M = np.zeros((D + n, D + n))
    M[:D, :D] = terms.EK
    M[D:, :D] = 0.5 * (terms.C[rows, cols] + terms.C[cols, rows])
    M[D:, D:] = 0.5 * L[:, rows, cols]
    r = np.concatenate([terms.Eh, 0.5 * (terms.N + terms.N.T)[rows, cols]])
    return AffineForm(M, r, rows.astype(np.int64), cols.astype(np.int64))


def enumerated_terms(Ks: np.ndarray, hs: np.ndarray, weights: np.ndarray) -> AffineTerms:
    """The tensors of u⁺ = K_n u + h_n with probability w_n, by matrix products with inner
    dimension N (L = Σ_n w_n K_n ⊗ K_n is one (D², N)·(N, D²) product)."""
    N, D, _ = Ks.shape
    flat = Ks.reshape(N, D * D)
    weighted = flat * weights[:, None]
    L = (weighted.T @ flat).reshape(D, D, D, D).transpose(0, 2, 1, 3)
    cross = (weighted.T @ hs).reshape(D, D, D).transpose(0, 2, 1)  # E[K m hᵀ]
    return AffineTerms(
        EK=(weights @ flat).reshape(D, D),
        Eh=weights @ hs,
        L=L,
        C=cross + cross.transpose(1, 0, 2),
        N=(hs * weights[:, None]).T @ hs,
    )


def _pattern_tensor(W, npos: int, d: int) -> np.ndarray:
    """E[Π_pos s_{i_pos}] as a d^npos tensor from the pattern weights of a closed form.

    Each partition σ adds scalar·Π_blocks v_b[i_b] where the indices within each block are
    equal: an outer product over one index per block, added on that diagonal sub-lattice.
    """
    out = np.zeros((d,) * npos)
    for scalar, vectors in W.table.values():
        if not vectors:  # no tied indices: the scalar everywhere
            out += scalar
            continue
        tied = [p for block in vectors for p in block]
        blocks = list(vectors) + [(p,) for p in range(npos) if p not in tied]
        values = np.asarray(scalar)
        for block in blocks:
            values = np.multiply.outer(values, vectors.get(block, np.ones(d)))
        index: list[Any] = [None] * npos
        for axis, block in enumerate(blocks):
            along = np.arange(d).reshape([d if a == axis else 1 for a in range(len(blocks))])
            for p in block:
                index[p] = along
        out[tuple(index)] += values
    return out


def diagonal_moment_tensors(sketch: Sketch) -> tuple[np.ndarray, np.ndarray] | None:
    """(μ3, μ4) = (E[s_i s_j s_k], E[s_i s_j s_k s_l]) of a diagonal sketch S = Diag(s).

    From the pattern weights of a closed form (Bernoulli, Rand-K, Identity, the Rand-K
    marginal of Permutation), by enumeration for a diagonal Discrete sketch; ``None`` for a
    non-diagonal sketch.
    """
    patterns = _closed_form_patterns(sketch)
    if patterns is not None:
        d = sketch.d
        return _pattern_tensor(patterns[3], 3, d), _pattern_tensor(patterns[4], 4, d)
    if not sketch.diagonal:
        return None
    s, w = sketch.support()
    ws = s * w[:, None]
    return np.einsum("ni,nj,nk->ijk", ws, s, s), np.einsum("ni,nj,nk,nl->ijkl", ws, s, s, s)


def sandwich_terms(
    moments: tuple[np.ndarray, np.ndarray],
    pairs: Sequence[tuple[float, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """L and C of Σ_p w_p (E[SA_pS P SA_pS], E[SA_pS m c_pᵀS]) for a diagonal sketch.

    Parameters
    ----------
    moments : (μ3, μ4)
        From :func:`diagonal_moment_tensors`.
    pairs : sequence of (w_p, A_p, c_p)
        Weights, (d, d) matrices and (d,) vectors; their (A_p ⊗ A_p) are summed by one matrix
        product.

    Returns
    -------
    L : ndarray, shape (d, d, d, d)
    C : ndarray, shape (d, d, d)
    """
    mu3, mu4 = moments
    w = np.array([p[0] for p in pairs])
    As = np.stack([p[1] for p in pairs])
    cs = np.stack([p[2] for p in pairs])
    n, d, _ = As.shape
    weighted = As.reshape(n, d * d) * w[:, None]
    T = (weighted.T @ As.reshape(n, d * d)).reshape(d, d, d, d)  # [i, k, l, j]
    L = (mu4 * T).transpose(0, 3, 1, 2)
    C = (mu3 * (weighted.T @ cs).reshape(d, d, d)).transpose(0, 2, 1)  # from [i, k, j]
    return L, C
