"""The fused moment step of DSGD option I for diagonal closed-form sketches.

For a diagonal sketch S = Diag(s) whose moment contractions come from partition weights
(Bernoulli, Rand-K, Identity, the Rand-K marginal of Permutation; see
``mastbench.sketches._DiagonalClosedForm``), the second-moment map of DSGD option I

    P⁺ = P − γ(ĀP + PĀ) + γ²Q4(P) − γ(mcᵀ + cmᵀ) + γ²(R3(m) + R3(m)ᵀ) + γ²E[SᵀccᵀS]

(``theory/mast.md`` §6.1 [D]) is a fixed linear combination of the 15 quartic and 5 cubic
pattern terms of ``_quartic_from_patterns`` and ``_cubic_from_patterns`` (same notation:
positions (i, k, l, j) of E[s_i A_ik s_k P_kl s_l A_lj s_j], (i, k, j) of
E[s_i A_ik s_k m_k c_j s_j]).  Everything that does not depend on the state (m, P) is folded
here, once per run, into a few matrices and coefficient vectors:

- the matrix products of the patterns ∅, (0,1), (1,2), (2,3) and the −γ(ĀP + PĀ) term become
  two matrix products with fixed factors (one of them stacked);
- the Hadamard patterns ((0,1),(2,3)), ((0,2),(1,3)) and the P and Diag(Ā)-parts of
  −γ(ĀP + PĀ) become one entrywise product with a fixed matrix;
- the scalings of A and of the diagonal by the state vectors dP = diag P, diag AP, diag PA,
  diag APA, m, Am become matrix–vector products with fixed coefficient matrices.

:class:`GeneralDiagonalStep` is this map for any square P and A (used by the fixed point,
which assembles the map on the non-symmetric basis matrices, and for non-symmetric A).
:class:`SymmetricDiagonalStep` advances (m, P) for symmetric A and P (the propagation): the
map is then W + Wᵀ with W holding half of each self-transposed term and one term of each
transposed pair, which saves work and returns P⁺ exactly symmetric; the rank-one and noise
terms ride in one of its two matrix products.  Per step it allocates only the two arrays it
returns.  Both agree with the pattern formulas to rounding (``tests/exact/test_diagonal_step.py``).
:attr:`SymmetricDiagonalStep.factors` hands its precomputed pieces to the compiled
propagation of :mod:`mastbench.exact.numba_kernel`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "GeneralDiagonalStep",
    "SymmetricDiagonalStep",
    "SymmetricFactors",
    "pattern_coefficients",
]


class _Coefficients:
    """The state-independent coefficient vectors of the quartic, cubic and sandwich patterns."""

    def __init__(self, patterns, A: np.ndarray, c: np.ndarray):
        W2, W3, W4 = patterns[2], patterns[3], patterns[4]
        dA = np.diag(A).copy()

        def single(W, *blk, scale=1.0):
            s, (v,) = W(blk)
            return s * v * scale

        def pair(W, first, second):
            s, (v, w) = W(first, second)
            return s * v, w

        self.dA = dA
        self.a0 = W2()[0]
        self.a_pair = single(W2, 0, 1)  # E[SXS] = a0·X + Diag(a_pair∘diag X)
        self.a_diag = self.a_pair * dA
        self.w0 = W4()[0]
        self.e01 = single(W4, 0, 1, scale=dA)
        self.e23 = single(W4, 2, 3, scale=dA)
        self.f02 = single(W4, 0, 2)
        self.f13 = single(W4, 1, 3)
        self.f12 = single(W4, 1, 2)
        self.d03 = single(W4, 0, 3)
        self.h1 = pair(W4, (0, 1), (2, 3))
        self.h2 = pair(W4, (0, 2), (1, 3))
        self.g = pair(W4, (0, 3), (1, 2))
        self.t012 = single(W4, 0, 1, 2, scale=dA)
        self.t013 = single(W4, 0, 1, 3, scale=dA)
        self.t023 = single(W4, 0, 2, 3, scale=dA)
        self.t123 = single(W4, 1, 2, 3, scale=dA)
        self.t0123 = single(W4, 0, 1, 2, 3, scale=dA * dA)
        self.b0 = W3()[0]
        self.r01 = single(W3, 0, 1, scale=dA)
        self.r02c = single(W3, 0, 2, scale=c)
        self.r12c = single(W3, 1, 2, scale=c)
        self.r012c = single(W3, 0, 1, 2, scale=dA * c)

    def H1(self) -> np.ndarray:
        """Weights of P in the pattern ((0,1),(2,3)): s·(v∘dA)_i (w∘dA)_j."""
        sv, w = self.h1
        return np.outer(sv * self.dA, w * self.dA)

    def H2(self, A: np.ndarray) -> np.ndarray:
        """Weights of Pᵀ in the pattern ((0,2),(1,3)): s·v_i A_ij² w_j."""
        sv, w = self.h2
        return sv[:, None] * A * A * w[None, :]

    def G(self, A: np.ndarray) -> np.ndarray:
        """diag Q4 ∋ G·dP: the pattern ((0,3),(1,2)) and the all-tied pattern."""
        sv, w = self.g
        out = sv[:, None] * (A * A.T) * w[None, :]
        out[np.diag_indices_from(out)] += self.t0123
        return out


def pattern_coefficients(patterns, A: np.ndarray, c: np.ndarray) -> _Coefficients:
    """The coefficient vectors of the pattern terms for the matrix A and the vector c."""
    return _Coefficients(patterns, A, c)


class GeneralDiagonalStep:
    """P ↦ P⁺ of DSGD option I for any square A and P (not symmetrized).

    Parameters
    ----------
    coef : _Coefficients
        From :func:`pattern_coefficients`.
    A : ndarray, shape (d, d)
    c : ndarray, shape (d,)
        ∇f(v).
    step : float
        γ.
    noise : ndarray, shape (d, d)
        E[SᵀccᵀS].
    """

    def __init__(self, coef: _Coefficients, A: np.ndarray, c: np.ndarray, step, noise):
        d = A.shape[0]
        g, g2 = step, step * step
        eye = np.eye(d)
        AT = np.ascontiguousarray(A.T)
        # (ÃP + A·Diag(f12∘dP))A + AP·Diag(e23) with Ã = w0·A + Diag(e01); the stack also
        # copies P and forms AP, and carries −γa0·PA of −γPĀ (−γa0·AP goes to _col_AP)
        A_tilde = coef.w0 * A + np.diag(coef.e01)
        self._left = np.vstack([g2 * A_tilde - g * coef.a0 * eye, eye, A])
        self._A_f12 = g2 * A * coef.f12[None, :]
        self._col_AP = g2 * coef.e23 - g * coef.a0
        ad = coef.a_diag
        self._had_P = 1.0 + g2 * coef.H1() - g * (ad[:, None] + ad[None, :])
        self._had_PT = g2 * coef.H2(A)
        self._G = g2 * coef.G(A)
        # [−γm + γ²(b0·Am + r01∘m); Am]
        self._mean_left = np.vstack([g2 * (coef.b0 * A + np.diag(coef.r01)) - g * eye, A])
        # state vectors (dP, dPA, dAP, dAPA, m, Am); rows/cols/diag = Σ_k weights[·, k] ∘ v_k
        weights = np.zeros((3, 6, d))
        weights[0, 2] = g2 * coef.f02  # Diag(rows)·A
        weights[0, 0] = g2 * coef.t012
        weights[1, 1] = g2 * coef.f13  # A·Diag(cols)
        weights[1, 0] = g2 * coef.t123
        weights[1, 4] = g2 * coef.r12c
        weights[2, 3] = g2 * coef.d03  # Diag(diag)
        weights[2, 1] = g2 * coef.t013
        weights[2, 2] = g2 * coef.t023
        weights[2, 5] = 2 * g2 * coef.r02c
        weights[2, 4] = 2 * g2 * coef.r012c
        self._weights = weights
        self._r12c = g2 * coef.r12c  # Diag(r12c∘m)·Aᵀ, the transpose of A·Diag(r12c∘m)
        self._A, self._AT = A, AT
        self._noise = g2 * noise
        self._masks = np.stack([eye, AT])
        self._products = np.empty((2, 2, d, d))
        self._vectors = np.empty((6, d))
        self._outer_left = np.empty((d, 2))
        self._outer_left[:, 1] = c
        self._outer_right = np.empty((2, d))
        self._outer_right[0] = c
        self._buffer = np.empty((d, d))

    def __call__(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        """The second moment after one step from P = E[yyᵀ], m = E[y] (a new array)."""
        A, buf, vec = self._A, self._buffer, self._vectors
        d = A.shape[0]
        T = self._left @ P
        X, pair = T[:d], T[d:].reshape(2, d, d)  # pair = (P, AP)
        np.multiply(pair[:, None], self._masks, out=self._products)
        vec[:4] = np.sum(self._products, axis=-1).reshape(4, d)  # dP, dPA, dAP, dAPA
        mv = self._mean_left @ m
        vec[4] = m
        vec[5] = mv[d:]
        rows, cols, diag = np.einsum("rkd,kd->rd", self._weights, vec)
        X += np.multiply(self._A_f12, vec[0], out=buf)
        X.ravel()[:: d + 1] += rows
        out = X @ A
        out += np.multiply(pair[1], self._col_AP, out=buf)
        out += np.multiply(P, self._had_P, out=buf)
        out += np.multiply(P.T, self._had_PT, out=buf)
        out += np.multiply(A, cols, out=buf)
        out += np.multiply((self._r12c * m)[:, None], self._AT, out=buf)
        self._outer_left[:, 0] = mv[:d]
        self._outer_right[1] = mv[:d]
        out += self._outer_left @ self._outer_right
        diag += self._G @ vec[0]
        out.ravel()[:: d + 1] += diag
        out += self._noise
        return out


class SymmetricFactors(NamedTuple):
    """The state-independent pieces of :class:`SymmetricDiagonalStep`, for a compiled loop.

    With A symmetric, L₀ᵀ = L₀ = w0_half·A + Diag(l0_diag), so P·L₀ᵀ follows entrywise from PA
    and the step reads, with one product PA and one product A·Z,

        Z = w0_half·PA + P·Diag(l0_diag) + Diag(ρ) + Diag(f12_half∘dP)·A,
        W = A·Z + c·(β + a0c_half)ᵀ + P∘had + Diag(δ),      P⁺ = W + Wᵀ,
        [β; m⁺ + γc] = beta_mean·m,    [ρ; δ] = weights·[dP; m; 1; diag PA; diag APA].

    Attributes
    ----------
    A : ndarray, shape (d, d)
    w0_half : float
        ½γ²w0.
    l0_diag : ndarray, shape (d,)
        ½γ²(e01 + e23) − γa0.
    f12_half : ndarray, shape (d,)
        ½γ²f12.
    a0c_half : ndarray, shape (d,)
        ½γ²a0·c.
    c : ndarray, shape (d,)
        ∇f(v).
    gc : ndarray, shape (d,)
        γc.
    had : ndarray, shape (d, d)
        K, the entrywise weights of P in W.
    weights : ndarray, shape (2d, 5d)
        The map of the state vectors to (ρ, δ).
    beta_mean : ndarray, shape (2d, d)
        [γ²(b0·A + Diag(r01)) − γI; I − γĀ].
    """

    A: np.ndarray
    w0_half: float
    l0_diag: np.ndarray
    f12_half: np.ndarray
    a0c_half: np.ndarray
    c: np.ndarray
    gc: np.ndarray
    had: np.ndarray
    weights: np.ndarray
    beta_mean: np.ndarray


class SymmetricDiagonalStep:
    """(m, P) ↦ (m⁺, sym P⁺) of DSGD option I for symmetric A and symmetric P.

    With P and A symmetric, sym(M) = ½(M + Mᵀ) of the map M does not change when any term of
    M is replaced by its transpose.  Choosing one term of each transposed pair gives
    P⁺ = W + Wᵀ with (the symmetrization of the propagation built in)

        W = [A | c | c | A·Diag(½γ²f12)]·[Y; βᵀ; ½γ²a0·cᵀ; Diag(dP)·A] + P∘K + Diag(δ),
        Y = P·L₀ᵀ + Diag(ρ),   L₀ = ½γ²(w0·A + Diag(e01 + e23)) − γa0·I,
        β = (γ²(b0·A + Diag(r01)) − γI)m,

    K, ρ, δ fixed combinations of the pattern weights (ρ, δ linear in dP, diag AP, diag APA,
    m and 1), and E[SᵀccᵀS] = a0·ccᵀ + Diag(a01∘c²) split between the product and δ.
    One step costs two matrix products (P·[L₀ᵀ | A] and the one above), three matrix–vector
    products and ten elementwise operations on preallocated buffers.  Parameters as for
    :class:`GeneralDiagonalStep`, with A_bar = Ā instead of the noise.
    """

    def __init__(self, coef: _Coefficients, A: np.ndarray, c: np.ndarray, step, A_bar):
        d = A.shape[0]
        g, g2 = step, step * step
        h2 = 0.5 * g2
        ad = coef.a_diag
        # (dP, m, 1, dAP = dPA, dAPA) ↦ (ρ, δ), one matrix–vector product
        weights = np.zeros((2, d, 5, d))  # [output, i, vector, j]
        rho, delta = weights[0], weights[1]
        np.multiply(coef.G(A), h2, out=delta[:, 0])
        np.multiply(A, g2 * coef.r02c[:, None], out=delta[:, 1])
        for block, diag in (
            (rho[:, 0], h2 * (coef.t012 + coef.t123)),
            (rho[:, 1], g2 * coef.r12c),
            (rho[:, 3], h2 * (coef.f02 + coef.f13)),
            (delta[:, 1], g2 * coef.r012c),
            (delta[:, 2], h2 * coef.a_pair * c * c),
            (delta[:, 3], h2 * (coef.t013 + coef.t023)),
            (delta[:, 4], h2 * coef.d03),
        ):
            block[np.diag_indices(d)] += diag
        self._weights = weights.reshape(2 * d, 5 * d)
        self._had = np.ascontiguousarray((h2 * (coef.H1() + coef.H2(A))).T)
        self._had -= 0.5 * g * (ad[:, None] + ad[None, :])
        self._had += 0.5
        # L₀ = w0_half·A + Diag(l0_diag), the factor A·Diag(f12_half) and ½γ²a0·c
        self._w0_half = h2 * coef.w0
        self._l0_diag = h2 * (coef.e01 + coef.e23) - g * coef.a0
        self._f12_half = h2 * coef.f12
        self._a0c_half = h2 * coef.a0 * c
        self._right = np.empty((d, 2 * d))  # P·[L₀ᵀ | A] = [P·L₀ᵀ | PA]
        np.multiply(A.T, self._w0_half, out=self._right[:, :d])
        self._right[:, :d][np.diag_indices(d)] += self._l0_diag
        self._right[:, d:] = A
        self._beta_mean = np.empty((2 * d, d))  # [β; (I − γĀ)m]
        np.multiply(A, g2 * coef.b0, out=self._beta_mean[:d])
        self._beta_mean[:d][np.diag_indices(d)] += g2 * coef.r01 - g
        np.multiply(A_bar, -g, out=self._beta_mean[d:])
        self._beta_mean[d:][np.diag_indices(d)] += 1.0
        self._c, self._gc = c, g * c
        self._A = A
        self._left = np.empty((d, 2 * d + 2))  # [A | c | c | A·Diag(½γ²f12)]
        self._left[:, :d], self._left[:, d], self._left[:, d + 1] = A, c, c
        np.multiply(A, self._f12_half, out=self._left[:, d + 2 :])
        # rows [P·L₀ᵀ | PA], [β | m⁺ + γc], [½γ²a0·c | ·], [Diag(dP)·A | ·]
        self._stack = np.empty((2 * d + 2, 2 * d))
        self._stack[d + 1, :d] = self._a0c_half
        self._buffer = np.empty((d, d))
        flat = self._stack.reshape(-1)
        self._Y_diag = flat[: d * (2 * d + 1) : 2 * d + 1]
        self._PA_diag = flat[d : d * (2 * d + 1) : 2 * d + 1]
        self._vectors = np.empty((5, d))  # dP, m, 1, dAP, dAPA
        self._vectors[2] = 1.0
        self._ones = np.ones(d)
        self._scaled = np.empty(2 * d)
        self._W = np.empty((d, d))
        self._W_diag = self._W.reshape(-1)[:: d + 1]

    @property
    def factors(self) -> SymmetricFactors:
        """The precomputed pieces of the step (its own arrays, not copies), for a compiled loop."""
        return SymmetricFactors(
            self._A,
            float(self._w0_half),
            self._l0_diag,
            self._f12_half,
            self._a0c_half,
            self._c,
            self._gc,
            self._had,
            self._weights,
            self._beta_mean,
        )

    def __call__(self, m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E[y⁺], E[y⁺y⁺ᵀ]) from m = E[y] and symmetric P = E[yyᵀ] (new arrays)."""
        buf, vec, stack, W, scaled = self._buffer, self._vectors, self._stack, self._W, self._scaled
        d = m.shape[0]
        np.dot(P, self._right, out=stack[:d])
        vec[0] = np.diagonal(P)
        vec[1] = m
        vec[3] = self._PA_diag
        np.dot(self._ones, np.multiply(stack[:d, d:], self._A, out=buf), out=vec[4])  # diag APA
        np.dot(self._beta_mean, m, out=stack[d])
        np.dot(self._weights, vec.reshape(5 * d), out=scaled)
        np.multiply(self._A, vec[0][:, None], out=stack[d + 2 :, :d])
        self._Y_diag += scaled[:d]
        np.dot(self._left, stack[:, :d], out=W)
        W += np.multiply(P, self._had, out=buf)
        self._W_diag += scaled[d:]
        return stack[d, d:] - self._gc, W + W.T
