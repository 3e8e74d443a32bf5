"""Sketch distributions D over d×d matrices S with E[S] = I, sampled in batches, with exact moments.

MAST (Demidovich, Malinovsky, Shulgin, Richtárik, arXiv 2311.16086) trains on
f_D(x) = E_{S~D} f(v + S(x − v)); the theory needs the moments of S collected here
(``theory/mast.md`` §1–2 and §6.1).  Every sketch samples on the array namespace and device of
the explicit generator it is given (mask form; index form for the sparse sketches) and knows
its moments exactly, in float64 on the host:

- ``mean()`` = E[S] (= I, Assumption 1), ``expected_gram()`` = E[SᵀS], ``second_moment()`` =
  E[s sᵀ] for diagonal S = Diag(s), ``L_D`` = λ_max(E SᵀS), ``mu_D`` = λ_min(E SᵀS),
  ``L_S_max`` = sup over the support of λ_max(SᵀS) (``theory/mast.md`` §1.1);
- ``expected_sandwich(A)`` = E[SᵀAS] (§2.1), and the contractions of the third and fourth
  moments the exact moment engine needs (§6.1): ``expected_cubic(A, m, c)`` = E[SᵀAS m cᵀS]
  ("R3") and ``expected_quartic(A, P, B=A)`` = E[SᵀAS P SᵀBS] ("Q4");
- ``support()`` = all outcomes with their probabilities, for small d.

Bernoulli and Rand-K contract their higher moments in O(d³) from their structure (independent
coordinates: joint cumulants vanish off the diagonal; exchangeable coordinates: a moment depends
only on how many indices are distinct, §1.2 "higher moments"), never forming a d⁴ tensor.
Other sketches contract by enumerating their support.  All of this is [D]: derived in
``theory/mast.md``, checked here against enumeration.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import cache, cached_property
from typing import Any

import numpy as np

from mastbench.backend import Generator, is_numpy, scatter_add_rows
from mastbench.validation import (
    check_generator,
    check_int,
    check_probability,
    host_array,
    host_real,
)

__all__ = [
    "Bernoulli",
    "Discrete",
    "Gaussian",
    "Identity",
    "Permutation",
    "RandK",
    "Sketch",
]

#: A moment contraction with its fixed factors bound: m ↦ E[SᵀAS m cᵀS] or P ↦ E[SᵀAS P SᵀBS].
_Contraction = Callable[[np.ndarray], np.ndarray]

#: Default limit on the number of outcomes ``support()`` enumerates.
DEFAULT_MAX_OUTCOMES: int = 1 << 16


# -- set partitions and pattern contractions ---------------------------------------------------
@cache
def _set_partitions(n: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """All set partitions of ``range(n)`` (blocks ordered by their smallest element)."""
    if n == 0:
        return ((),)
    out = []
    for part in _set_partitions(n - 1):
        for b in range(len(part)):
            out.append(tuple((*blk, n - 1) if i == b else blk for i, blk in enumerate(part)))
        out.append((*part, (n - 1,)))
    return tuple(out)


def _refines(fine: tuple, coarse: tuple) -> bool:
    """True when every block of ``fine`` lies inside a block of ``coarse``."""
    owner = {pos: i for i, blk in enumerate(coarse) for pos in blk}
    return all(len({owner[pos] for pos in blk}) == 1 for blk in fine)


def _moebius(fine: tuple, coarse: tuple) -> int:
    """Möbius function μ(fine, coarse) of the partition lattice (fine refines coarse)."""
    owner = {pos: i for i, blk in enumerate(coarse) for pos in blk}
    counts = [0] * len(coarse)
    for blk in fine:
        counts[owner[blk[0]]] += 1
    return math.prod((-1) ** (k - 1) * math.factorial(k - 1) for k in counts)


class _PatternWeights:
    """Weights of E[Π_pos s_{i_pos}] = Σ_σ [indices equal within the blocks of σ] · w(σ).

    ``rule(σ)`` returns (scalar, one weight vector per block or None); singleton blocks carry
    no weight (E s_j = 1).  ``self(*blocks)`` gives, for the partition whose non-singleton
    blocks are ``blocks``, the scalar and one vector per listed block (ones when None).
    """

    def __init__(self, npos: int, d: int, rule: Callable[[tuple], tuple[float, list]]):
        self.table: dict[frozenset, tuple[float, dict]] = {}
        for sigma in _set_partitions(npos):
            scalar, weights = rule(sigma)
            vectors = {}
            for blk, w in zip(sigma, weights, strict=True):
                if len(blk) > 1:
                    vectors[blk] = np.ones(d) if w is None else np.asarray(w, dtype=float)
            self.table[frozenset(vectors)] = (float(scalar), vectors)

    def __call__(self, *blocks: tuple[int, ...]) -> tuple[float, list[np.ndarray]]:
        scalar, vectors = self.table[frozenset(blocks)]
        return scalar, [vectors[b] for b in blocks]


def _sandwich_from_patterns(W: _PatternWeights, A: np.ndarray) -> np.ndarray:
    """E[s_i A_ij s_j]: 2 partitions of the positions (i, j)."""
    s0, _ = W()
    s1, (v,) = W((0, 1))
    return s0 * A + np.diag(s1 * v * np.diag(A))


def _cubic_from_patterns(W: _PatternWeights, A: np.ndarray, c: np.ndarray) -> _Contraction:
    """m ↦ E[s_i A_ik s_k m_k c_j s_j]: 5 partitions of the positions (i, k, j), O(d²) per m.

    Every factor that does not involve m is formed here, once.
    """
    dA = np.diag(A)
    s0 = W()[0]
    s01, (v,) = W((0, 1))  # i = k
    vdA01 = v * dA
    s, (v,) = W((0, 2))  # i = j
    sv02 = s * v
    s, (v12,) = W((1, 2))  # k = j
    sA12 = s * A
    s, (v,) = W((0, 1, 2))
    svdA012 = s * v * dA

    def cubic(m: np.ndarray) -> np.ndarray:
        Am = A @ m
        out = s0 * np.outer(Am, c)
        out += s01 * np.outer(vdA01 * m, c)
        out += np.diag(sv02 * Am * c)
        out += sA12 * (v12 * m * c)[None, :]
        return out + np.diag(svdA012 * m * c)

    return cubic


def _quartic_from_patterns(W: _PatternWeights, A: np.ndarray, B: np.ndarray) -> _Contraction:
    """P ↦ E[s_i A_ik s_k P_kl s_l B_lj s_j]: 15 partitions of the positions (i, k, l, j).

    Each partition is a product of at most two matrix products and entrywise scalings,
    so the whole contraction costs O(d³) per P (three matrix products); every factor that
    does not involve P is formed here, once.
    """
    dA, dB = np.diag(A), np.diag(B)
    s0 = W()[0]
    # one tied pair
    s, (v,) = W((0, 1))  # i = k
    left01 = s * (v * dA)[:, None]
    s02, (v02,) = W((0, 2))  # i = l
    s, (v,) = W((0, 3))  # i = j: this and the other i = j terms are diagonal
    sv03 = s * v
    s12, (v12,) = W((1, 2))  # k = l
    s, (v13,) = W((1, 3))  # k = j
    sA13 = s * A
    s23, (v,) = W((2, 3))  # l = j
    right23 = (v * dB)[None, :]
    # two tied pairs
    s, (v, w) = W((0, 1), (2, 3))
    left0123, right0123 = s * (v * dA)[:, None], (w * dB)[None, :]
    s, (v, w) = W((0, 2), (1, 3))
    left0213, right0213 = s * v[:, None] * A, w[None, :]
    s, (v, w0312) = W((0, 3), (1, 2))
    sv0312, AB = s * v, A * B.T
    # one tied triple
    s012, (v,) = W((0, 1, 2))
    vdA012 = v * dA
    s, (v,) = W((0, 1, 3))
    svdA013 = s * v * dA
    s, (v,) = W((0, 2, 3))
    sv023 = s * v
    s, (v123,) = W((1, 2, 3))
    sA123 = s * A
    # all four tied
    s, (v,) = W((0, 1, 2, 3))
    svdA0123 = s * v * dA
    diagonal_entries = np.diag_indices_from(A)

    def quartic(P: np.ndarray) -> np.ndarray:
        dP = np.diag(P)
        AP, PB = A @ P, P @ B
        dAP = np.einsum("ij,ji->i", A, P)
        dPB = np.einsum("ij,ji->i", P, B)
        dAPB = np.einsum("ij,ji->i", AP, B)
        out = s0 * (AP @ B)
        out += left01 * PB
        out += s02 * (v02 * dAP)[:, None] * B
        diagonal = sv03 * dAPB
        out += s12 * (A * (v12 * dP)[None, :]) @ B
        out += sA13 * (v13 * dPB)[None, :]
        out += s23 * AP * right23
        out += left0123 * P * right0123
        out += left0213 * P.T * B * right0213
        diagonal += sv0312 * (AB @ (w0312 * dP))
        out += s012 * (vdA012 * dP)[:, None] * B
        diagonal += svdA013 * dPB
        diagonal += sv023 * dAP * dB
        out += sA123 * (v123 * dP * dB)[None, :]
        diagonal += svdA0123 * dP * dB
        out[diagonal_entries] += diagonal
        return out

    return quartic


# -- input checks ------------------------------------------------------------------------------
def _check_draw(rng: Any, size: Any) -> int:
    """The number of sketches ``size`` to draw, after checking it and the generator ``rng``."""
    check_generator("rng", rng)
    return check_int("size", size, low=1)


def _too_many(kind: str, count: int, max_outcomes: int) -> ValueError:
    return ValueError(
        f"the support of {kind} has {count} outcomes, more than max_outcomes={max_outcomes}; "
        "enumerate a smaller instance or raise max_outcomes"
    )


def _on_device(rng: Generator, a: np.ndarray, dtype: Any = None) -> Any:
    if rng.device is None:
        return rng.xp.asarray(a, dtype=dtype)
    return rng.xp.asarray(a, dtype=dtype, device=rng.device)


def _sample_dtype(rng: Generator, dtype: Any) -> Any:
    """The floating dtype of a draw: ``dtype``, checked, or the namespace's float64."""
    check_generator("rng", rng)
    xp = rng.xp
    if dtype is None:
        return xp.float64
    try:
        floating = xp.isdtype(dtype, "real floating")
    except (TypeError, ValueError):
        floating = False
    if not floating:
        raise TypeError(f"dtype must be a real floating dtype of {xp.__name__}, got {dtype!r}")
    return dtype


# -- base class --------------------------------------------------------------------------------
class Sketch(ABC):
    """A distribution D of d×d sketch matrices S with E[S] = I (MAST Assumption 1).

    Attributes
    ----------
    d : int
        Dimension.
    diagonal : bool
        True when every S in the support is diagonal, S = Diag(s); ``sample`` then returns the
        diagonals s (the mask form, values c_j/p_j), else full matrices.

    Notes
    -----
    The default moment methods enumerate ``support()``; Bernoulli, Rand-K, Identity and
    Gaussian override them with closed forms (``theory/mast.md`` §1.2, §2.1, §6.1).
    """

    d: int
    diagonal: bool

    # -- sampling --------------------------------------------------------------------------
    @abstractmethod
    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """Draw ``size`` independent sketches in the generator's namespace and device.

        Parameters
        ----------
        rng : Generator
            Source of the draws.
        size : int
            Number of sketches, ≥ 1.
        dtype : real floating dtype of ``rng.xp``, optional
            Dtype of the values returned (default float64); pass the problem's dtype so that
            a float32 run stays in float32.  The random numbers are drawn in float64 whatever
            the dtype: one seed gives the same sketches in every dtype, up to the cast of the
            values (a ``TypeError`` names a dtype that is not real floating).

        Returns
        -------
        array
            Shape (size, d) of diagonals s for diagonal sketches, (size, d, d) otherwise.
        """

    # -- enumeration -----------------------------------------------------------------------
    @abstractmethod
    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        """All outcomes and their probabilities (float64 host arrays).

        Returns
        -------
        outcomes : ndarray
            (N, d) diagonals for diagonal sketches, (N, d, d) matrices otherwise.
        probabilities : ndarray, shape (N,)
            Positive, summing to one.

        Raises
        ------
        ValueError
            If the support has more than ``max_outcomes`` outcomes (or is infinite).
        """

    def _outcomes(self) -> tuple[np.ndarray, np.ndarray]:
        """The support used by the enumerating moment methods (``support()`` by default)."""
        return self.support()

    def _support_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """Support as (N, d, d) matrices, whatever the sketch kind."""
        outcomes, probs = self._outcomes()
        if self.diagonal:
            return np.einsum("ni,ij->nij", outcomes, np.eye(self.d)), probs
        return outcomes, probs

    # -- moments (enumeration defaults) --------------------------------------------------------
    def mean(self) -> np.ndarray:
        """E[S], a (d, d) float64 array (the identity for every valid sketch)."""
        mats, w = self._support_matrices()
        return np.einsum("n,nij->ij", w, mats)

    def expected_gram(self) -> np.ndarray:
        """E[SᵀS], a (d, d) float64 array."""
        mats, w = self._support_matrices()
        return np.tensordot(w, np.swapaxes(mats, 1, 2) @ mats, axes=1)

    def second_moment(self) -> np.ndarray:
        """Σ2 = E[s sᵀ] of the diagonal s (diagonal sketches only), so E[SXS] = X ∘ Σ2."""
        self._require_diagonal("second_moment")
        s, w = self._outcomes()
        return np.einsum("n,ni,nj->ij", w, s, s)

    def third_moment(self) -> np.ndarray:
        """E[s_i s_j s_k] as a (d, d, d) tensor (diagonal sketches, small d)."""
        self._require_diagonal("third_moment")
        s, w = self._outcomes()
        return np.einsum("n,ni,nj,nk->ijk", w, s, s, s)

    def fourth_moment(self) -> np.ndarray:
        """E[s_i s_j s_k s_l] as a (d, d, d, d) tensor (diagonal sketches, small d)."""
        self._require_diagonal("fourth_moment")
        s, w = self._outcomes()
        return np.einsum("n,ni,nj,nk,nl->ijkl", w, s, s, s, s)

    def expected_sandwich(self, A: Any) -> np.ndarray:
        """Ā = E[SᵀAS] for a fixed (d, d) matrix A (``theory/mast.md`` §2.1)."""
        A = host_array("A", A, (self.d, self.d))
        mats, w = self._support_matrices()
        return np.tensordot(w, np.swapaxes(mats, 1, 2) @ A @ mats, axes=1)

    def expected_cubic(self, A: Any, m: Any, c: Any) -> np.ndarray:
        """R3 = E[SᵀAS m cᵀS] for fixed A (d, d), m, c (d,) (``theory/mast.md`` §6.1)."""
        A = host_array("A", A, (self.d, self.d))
        c = host_array("c", c, (self.d,))
        return self._cubic_map(A, c)(host_array("m", m, (self.d,)))

    def expected_quartic(self, A: Any, P: Any, B: Any = None) -> np.ndarray:
        """Q4 = E[SᵀAS P SᵀBS] for fixed (d, d) matrices A, P and B (B = A when omitted).

        ``theory/mast.md`` §6.1; the bilinear form in (A, B) serves minibatch sampling, where
        A and B are data components.
        """
        A = host_array("A", A, (self.d, self.d))
        B = A if B is None else host_array("B", B, (self.d, self.d))
        return self._quartic_map(A, B)(host_array("P", P, (self.d, self.d)))

    def _cubic_map(self, A: np.ndarray, c: np.ndarray) -> _Contraction:
        """m ↦ :meth:`expected_cubic` (A, m, c) for checked float64 A and c, with what does not
        depend on m formed once: the exact engine applies it at every step to its own m."""
        mats, w = self._support_matrices()
        sandwiches = np.swapaxes(mats, 1, 2) @ A @ mats
        right = c @ mats
        return lambda m: np.einsum("n,ni,nj->ij", w, sandwiches @ m, right)

    def _quartic_map(self, A: np.ndarray, B: np.ndarray) -> _Contraction:
        """P ↦ :meth:`expected_quartic` (A, P, B) for checked float64 A and B (``B is A`` for
        B = A), with what does not depend on P formed once (as :meth:`_cubic_map`)."""
        mats, w = self._support_matrices()
        left = np.swapaxes(mats, 1, 2) @ A @ mats
        right = left if B is A else np.swapaxes(mats, 1, 2) @ B @ mats
        return lambda P: np.tensordot(w, left @ P @ right, axes=1)

    # -- constants -------------------------------------------------------------------------
    @property
    def L_D(self) -> float:
        """L_D = λ_max(E[SᵀS]) (``theory/mast.md`` §1.1)."""
        return float(np.linalg.eigvalsh(self.expected_gram())[-1])

    @property
    def mu_D(self) -> float:
        """μ_D = λ_min(E[SᵀS]) (≥ 1 under E[S] = I)."""
        return float(np.linalg.eigvalsh(self.expected_gram())[0])

    @property
    def L_S_max(self) -> float:
        """L_S^max = sup over the support of λ_max(SᵀS) (inf for unbounded support)."""
        mats, _ = self._support_matrices()
        return float(np.max(np.linalg.eigvalsh(np.swapaxes(mats, 1, 2) @ mats)))

    def _require_diagonal(self, what: str) -> None:
        if not self.diagonal:
            raise ValueError(f"{what} is defined for diagonal sketches only; {self!r} is not")


class _DiagonalClosedForm(Sketch):
    """Diagonal sketch whose moment contractions come from a per-partition weight rule."""

    diagonal = True

    @abstractmethod
    def _weight(self, sigma: tuple) -> tuple[float, list]:
        """(scalar, per-block weight vectors or None) of the moment term tying blocks of σ."""

    @cached_property
    def _patterns(self) -> dict[int, _PatternWeights]:
        return {n: _PatternWeights(n, self.d, self._weight) for n in (2, 3, 4)}

    def mean(self) -> np.ndarray:
        return np.eye(self.d)

    def expected_gram(self) -> np.ndarray:
        return np.diag(np.diag(self.second_moment()))

    def second_moment(self) -> np.ndarray:
        return _sandwich_from_patterns(self._patterns[2], np.ones((self.d, self.d)))

    def expected_sandwich(self, A: Any) -> np.ndarray:
        return _sandwich_from_patterns(self._patterns[2], host_array("A", A, (self.d, self.d)))

    def _cubic_map(self, A: np.ndarray, c: np.ndarray) -> _Contraction:
        return _cubic_from_patterns(self._patterns[3], A, c)

    def _quartic_map(self, A: np.ndarray, B: np.ndarray) -> _Contraction:
        return _quartic_from_patterns(self._patterns[4], A, B)

    def _moment_tensor(self, order: int, max_d: int) -> np.ndarray:
        if self.d > max_d:
            raise ValueError(
                f"the order-{order} moment tensor has d**{order} entries; d={self.d} exceeds "
                f"the limit {max_d}"
            )
        idx = np.indices((self.d,) * order).reshape(order, -1).T
        return np.array([self._moment_of(tuple(row)) for row in idx]).reshape((self.d,) * order)

    @abstractmethod
    def _moment_of(self, indices: tuple[int, ...]) -> float:
        """E[Π s_i over ``indices``] from the table of ``theory/mast.md`` §1.2."""

    def third_moment(self) -> np.ndarray:
        return self._moment_tensor(3, 24)

    def fourth_moment(self) -> np.ndarray:
        return self._moment_tensor(4, 12)


def _closed_form_patterns(sketch: Sketch) -> dict[int, _PatternWeights] | None:
    """The 2-, 3- and 4-position pattern weights of a closed-form diagonal sketch, else None.

    ``Permutation`` gives those of its Rand-K marginal (single-sketch moments).
    """
    if isinstance(sketch, Permutation):
        sketch = sketch.marginal
    if isinstance(sketch, _DiagonalClosedForm):
        return sketch._patterns
    return None


# -- Bernoulli ---------------------------------------------------------------------------------
class Bernoulli(_DiagonalClosedForm):
    """Independent Bernoulli ("Dropout") sketch S = Diag(c_j/p_j), c_j ~ Bern(p_j) independent.

    Parameters
    ----------
    p : float or array of shape (d,)
        Keep probabilities in (0, 1].
    d : int, optional
        Dimension, required when ``p`` is a scalar (and must match ``len(p)`` otherwise).

    Notes
    -----
    ``theory/mast.md`` §1.2 [D]: E[SᵀS] = Diag(1/p_j), L_D = 1/p_min, μ_D = 1/p_max,
    L_S^max = 1/p_min², E[SAS] = A + Diag(A_jj (1−p_j)/p_j).  Higher moments: coordinates are
    independent, so joint cumulants vanish unless all indices coincide, and
    E[Π s] = Σ_σ Π_{B∈σ} [indices in B equal] κ_{|B|}, with the cumulants of s_j = c_j/p_j:
    κ₁ = 1, κ₂ = (1−p)/p, κ₃ = (1−p)(1−2p)/p², κ₄ = (1−p)(1−6p(1−p))/p³.  Each of the 15
    partitions of the fourth moment is a matrix product or an entrywise scaling: O(d³) in all.
    """

    def __init__(self, p: Any, d: int | None = None):
        arr = check_probability("p", p)
        if arr.ndim == 0:
            if d is None:
                raise ValueError("d is required when p is a scalar (Bernoulli(p, d=...))")
            d = check_int("d", d, low=1)
            arr = np.full(d, float(arr))
        else:
            if arr.shape[0] < 1:
                raise ValueError("p must not be empty")
            if d is not None and check_int("d", d, low=1) != arr.shape[0]:
                raise ValueError(f"d={d} does not match len(p)={arr.shape[0]}")
        self.p = arr
        self.d = int(arr.shape[0])
        self._uniform = bool(np.all(arr == arr[0]))

    def _weight(self, sigma: tuple) -> tuple[float, list]:
        p = self.p
        cumulants = {
            1: None,
            2: (1 - p) / p,
            3: (1 - p) * (1 - 2 * p) / p**2,
            4: (1 - p) * (1 - 6 * p * (1 - p)) / p**3,
        }
        return 1.0, [cumulants[len(blk)] for blk in sigma]

    def _moment_of(self, indices: tuple[int, ...]) -> float:
        counts: dict[int, int] = {}
        for i in indices:
            counts[i] = counts.get(i, 0) + 1
        return math.prod(self.p[u] ** (1 - n) for u, n in counts.items())

    def expected_gram(self) -> np.ndarray:
        return np.diag(1.0 / self.p)

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """Masks s = c/p of shape (size, d): s_j = 1/p_j with probability p_j, else 0.

        c_j = [u_j < p_j] with u_j uniform in float64, so the kept coordinates do not depend
        on ``dtype``; only the values 1/p_j are cast.
        """
        size = _check_draw(rng, size)
        dtype = _sample_dtype(rng, dtype)
        xp = rng.xp
        # one probability for every coordinate: compared and scaled as a scalar (the same
        # draws and values, without broadcasting a length-d vector over the batch)
        p = float(self.p[0]) if self._uniform else self.p
        keep = rng.below(p, (size, self.d))
        scale = _on_device(rng, 1.0 / np.asarray(p), dtype)
        if is_numpy(xp):  # one multiply, several times faster than a broadcast ``where``
            return keep * scale
        return xp.where(keep, scale, xp.zeros((), dtype=dtype, device=rng.device))

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        """All 2^r masks (r = number of coordinates with p_j < 1) with their probabilities."""
        free = np.flatnonzero(self.p < 1)
        count = 2 ** len(free)
        if count > max_outcomes:
            raise _too_many(repr(self), count, max_outcomes)
        bits = np.array(list(itertools.product((0.0, 1.0), repeat=len(free))))
        keep = np.ones((count, self.d))
        keep[:, free] = bits.reshape(count, len(free))
        probs = np.prod(np.where(keep > 0, self.p, 1 - self.p), axis=1)
        return keep / self.p, probs

    @property
    def L_D(self) -> float:
        return float(1.0 / self.p.min())

    @property
    def mu_D(self) -> float:
        return float(1.0 / self.p.max())

    @property
    def L_S_max(self) -> float:
        return float(1.0 / self.p.min() ** 2)

    def __repr__(self) -> str:
        if np.all(self.p == self.p[0]):
            return f"Bernoulli(p={self.p[0]:g}, d={self.d})"
        return f"Bernoulli(p={np.array2string(self.p, precision=3)})"


# -- Rand-K ------------------------------------------------------------------------------------
def _falling_ratio(k: int, d: int, r: int) -> float:
    """(k)_r / (d)_r, zero when r > k (for k ≤ d)."""
    out = 1.0
    for t in range(r):
        if k - t == 0:
            return 0.0
        out *= (k - t) / (d - t)
    return out


class RandK(_DiagonalClosedForm):
    """Random-K sparsifier S = (d/k)·Diag(1[j ∈ Q]), Q a uniform k-subset of [d].

    Parameters
    ----------
    d : int
        Dimension.
    k : int
        Number of kept coordinates, 1 ≤ k ≤ d.

    Notes
    -----
    ``theory/mast.md`` §1.2 [D]: E[SᵀS] = (d/k) I, L_D = μ_D = d/k, L_S^max = (d/k)²,
    E[SAS] = d(k−1)/(k(d−1)) A + d(d−k)/(k(d−1)) Diag(A).  Coordinates are exchangeable:
    E[s_{i1}···s_{im}] = (d/k)^m (k)_r/(d)_r with r the number of distinct indices.  By Möbius
    inversion on the partition lattice this is Σ_σ [indices equal within blocks of σ]·g(σ),
    g(σ) = Σ_{π ≤ σ} μ(π, σ)(d/k)^m (k)_{|π|}/(d)_{|π|}, so each moment contraction is a sum
    of matrix products and entrywise scalings: O(d³).  The index form ``sample_indices`` costs
    O(size·d) to draw and O(size·k) to apply.
    """

    def __init__(self, d: int, k: int):
        self.d = check_int("d", d, low=1)
        self.k = check_int("k", k, low=1, high=self.d)

    def _moment_by_distinct(self, m: int, r: int) -> float:
        return (self.d / self.k) ** m * _falling_ratio(self.k, self.d, r)

    def _weight(self, sigma: tuple) -> tuple[float, list]:
        npos = sum(len(blk) for blk in sigma)
        g = 0.0
        for pi in _set_partitions(npos):
            if _refines(pi, sigma):
                g += _moebius(pi, sigma) * self._moment_by_distinct(npos, len(pi))
        return g, [None] * len(sigma)

    def _moment_of(self, indices: tuple[int, ...]) -> float:
        return self._moment_by_distinct(len(indices), len(set(indices)))

    def expected_gram(self) -> np.ndarray:
        return (self.d / self.k) * np.eye(self.d)

    def sample_indices(self, rng: Generator, size: int) -> Any:
        """Kept index sets, shape (size, k), sorted (the scale d/k is implied).

        Uses the same random keys as :meth:`sample`: for one seed both give the same draws.
        """
        size = _check_draw(rng, size)
        return rng.subsets(size, self.d, self.k)

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """Masks of shape (size, d) with values d/k on the kept coordinates, 0 elsewhere.

        The kept sets are exactly those of :meth:`sample_indices` for the same generator state.
        """
        dtype = _sample_dtype(rng, dtype)
        idx = self.sample_indices(rng, size)
        zeros = rng.xp.zeros((idx.shape[0], self.d), dtype=dtype, device=rng.device)
        return scatter_add_rows(zeros, idx, self.d / self.k)

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        """All C(d, k) masks, each with probability 1/C(d, k)."""
        count = math.comb(self.d, self.k)
        if count > max_outcomes:
            raise _too_many(repr(self), count, max_outcomes)
        out = np.zeros((count, self.d))
        for row, subset in enumerate(itertools.combinations(range(self.d), self.k)):
            out[row, list(subset)] = self.d / self.k
        return out, np.full(count, 1.0 / count)

    @property
    def L_D(self) -> float:
        return self.d / self.k

    @property
    def mu_D(self) -> float:
        return self.d / self.k

    @property
    def L_S_max(self) -> float:
        return (self.d / self.k) ** 2

    def __repr__(self) -> str:
        return f"RandK(d={self.d}, k={self.k})"


# -- Identity ----------------------------------------------------------------------------------
class Identity(_DiagonalClosedForm):
    """The trivial sketch S = I (no sparsification): f_D = f.

    Parameters
    ----------
    d : int
        Dimension.
    """

    def __init__(self, d: int):
        self.d = check_int("d", d, low=1)

    def _weight(self, sigma: tuple) -> tuple[float, list]:
        finest = all(len(blk) == 1 for blk in sigma)
        return (1.0 if finest else 0.0), [None] * len(sigma)

    def _moment_of(self, indices: tuple[int, ...]) -> float:
        return 1.0

    def expected_gram(self) -> np.ndarray:
        return np.eye(self.d)

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """All-ones diagonals of shape (size, d)."""
        size = _check_draw(rng, size)
        dtype = _sample_dtype(rng, dtype)
        return rng.xp.ones((size, self.d), dtype=dtype, device=rng.device)

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        """One outcome, s = 1."""
        return np.ones((1, self.d)), np.ones(1)

    @property
    def L_S_max(self) -> float:
        return 1.0

    def __repr__(self) -> str:
        return f"Identity(d={self.d})"


# -- Permutation (IST) -------------------------------------------------------------------------
class Permutation(Sketch):
    """Perm-q sketches of independent subnetwork training: n jointly sampled disjoint blocks.

    One uniform permutation π of [d] is cut into n consecutive blocks of q = d/n entries;
    client i gets S_i = n·Diag(1[j ∈ block_i(π)]).  Then (1/n)Σ_i S_i = I exactly and each S_i
    alone is Rand-K with k = q (IST paper, arXiv 2306.16484, and ``theory/mast.md`` §1.2, §3.2).

    Parameters
    ----------
    d : int
        Dimension.
    n : int
        Number of clients, dividing d.

    Notes
    -----
    The single-sketch moments (``mean``, ``expected_gram``, ``expected_sandwich``, ...,
    ``L_D`` = n, ``mu_D`` = n, ``L_S_max`` = n²) are those of one client, i.e. of
    :attr:`marginal`; ``sample``, ``sample_indices`` and ``support`` are joint over the n
    clients.
    """

    diagonal = True

    def __init__(self, d: int, n: int):
        self.d = check_int("d", d, low=1)
        self.n = check_int("n", n, low=1, high=self.d)
        if self.d % self.n:
            raise ValueError(f"n must divide d (Permutation blocks of size d/n), got d={d}, n={n}")
        self.q = self.d // self.n

    @cached_property
    def marginal(self) -> RandK:
        """The distribution of one client's sketch: ``RandK(d, d/n)``."""
        return RandK(self.d, self.q)

    def sample_indices(self, rng: Generator, size: int) -> Any:
        """Joint blocks, shape (size, n, d/n): row [r, i] holds client i's kept indices.

        Client i's sketch is n·Diag(1[j ∈ block]); the same seed gives the same draws as
        :meth:`sample`.
        """
        size = _check_draw(rng, size)
        perm = rng.permutations(size, self.d)
        return rng.xp.reshape(perm, (size, self.n, self.q))

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """Joint masks, shape (size, n, d): entry [r, i, j] = n if j is in client i's block."""
        size = _check_draw(rng, size)
        dtype = _sample_dtype(rng, dtype)
        xp = rng.xp
        rank = xp.argsort(rng.permutations(size, self.d), axis=1)
        client = rank // self.q
        clients = xp.arange(self.n, device=rng.device)
        hit = client[:, None, :] == clients[None, :, None]
        ones = xp.ones(hit.shape, dtype=dtype, device=rng.device)
        return xp.where(hit, float(self.n) * ones, 0.0 * ones)

    @property
    def num_outcomes(self) -> int:
        """Number of distinct joint outcomes, d! / (q!)^n."""
        return math.factorial(self.d) // math.factorial(self.q) ** self.n

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        """All joint outcomes (ordered partitions of [d] into n blocks of d/n), shape (N, n, d).

        Each has probability (q!)^n / d!.
        """
        count = self.num_outcomes
        if count > max_outcomes:
            raise _too_many(repr(self), count, max_outcomes)
        out = np.zeros((count, self.n, self.d))
        for row, blocks in enumerate(self._ordered_partitions(tuple(range(self.d)))):
            for i, blk in enumerate(blocks):
                out[row, i, list(blk)] = self.n
        return out, np.full(count, 1.0 / count)

    def _ordered_partitions(self, items: tuple[int, ...]):
        if not items:
            yield ()
            return
        for first in itertools.combinations(items, self.q):
            rest = tuple(j for j in items if j not in first)
            for tail in self._ordered_partitions(rest):
                yield (first, *tail)

    def mean(self) -> np.ndarray:
        return self.marginal.mean()

    def expected_gram(self) -> np.ndarray:
        return self.marginal.expected_gram()

    def second_moment(self) -> np.ndarray:
        return self.marginal.second_moment()

    def third_moment(self) -> np.ndarray:
        return self.marginal.third_moment()

    def fourth_moment(self) -> np.ndarray:
        return self.marginal.fourth_moment()

    def expected_sandwich(self, A: Any) -> np.ndarray:
        return self.marginal.expected_sandwich(A)

    def _cubic_map(self, A: np.ndarray, c: np.ndarray) -> _Contraction:
        return self.marginal._cubic_map(A, c)

    def _quartic_map(self, A: np.ndarray, B: np.ndarray) -> _Contraction:
        return self.marginal._quartic_map(A, B)

    def expected_average_sandwich(self, As: Sequence[Any]) -> np.ndarray:
        """E[(1/n) Σ_i S_iᵀ A_i S_i] for one matrix A_i per client (linear: uses the marginal).

        For n = d (Perm-1) this is n·(1/n)Σ_i Diag(A_i) (the IST link, ``theory/mast.md`` §3.2).
        """
        if len(As) != self.n:
            raise ValueError(f"As must hold one matrix per client ({self.n}), got {len(As)}")
        return sum(self.marginal.expected_sandwich(A) for A in As) / self.n

    @property
    def L_D(self) -> float:
        return float(self.n)

    @property
    def mu_D(self) -> float:
        return float(self.n)

    @property
    def L_S_max(self) -> float:
        return float(self.n**2)

    def __repr__(self) -> str:
        return f"Permutation(d={self.d}, n={self.n})"


# -- Gaussian ----------------------------------------------------------------------------------
class Gaussian(Sketch):
    """Non-diagonal Wishart sketch S = ZZᵀ/m with Z ∈ R^{d×m} i.i.d. N(0, 1).

    Parameters
    ----------
    d : int
        Dimension.
    m : int
        Number of Gaussian columns, m ≥ 1.

    Notes
    -----
    ``theory/mast.md`` §1.2 [D]: E[S] = I, E[SᵀS] = (1 + (d+1)/m) I, so L_D = μ_D =
    1 + (d+1)/m; the support is unbounded, L_S^max = inf, and the SGD theorems using L_S^max do
    not apply.  E[SᵀAS] = (1 − 1/m) A + (A + Aᵀ)/m + tr(A)/m·I (Isserlis).  There is no finite
    support, so ``support`` and the cubic/quartic contractions raise.
    """

    diagonal = False

    def __init__(self, d: int, m: int):
        self.d = check_int("d", d, low=1)
        self.m = check_int("m", m, low=1)

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """Matrices of shape (size, d, d), formed in float64 and cast to ``dtype``."""
        size = _check_draw(rng, size)
        dtype = _sample_dtype(rng, dtype)
        xp = rng.xp
        Z = rng.normal((size, self.d, self.m))
        return xp.astype(xp.matmul(Z, xp.matrix_transpose(Z)) / self.m, dtype)

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        raise ValueError(f"{self!r} has a continuous, infinite support: it cannot be enumerated")

    def mean(self) -> np.ndarray:
        return np.eye(self.d)

    def expected_gram(self) -> np.ndarray:
        return (1.0 + (self.d + 1) / self.m) * np.eye(self.d)

    def expected_sandwich(self, A: Any) -> np.ndarray:
        A = host_array("A", A, (self.d, self.d))
        m = self.m
        return (1 - 1 / m) * A + (A + A.T) / m + np.trace(A) / m * np.eye(self.d)

    def expected_cubic(self, A: Any, m: Any, c: Any) -> np.ndarray:
        raise ValueError(f"{self!r}: the cubic moment contraction needs a finite support")

    def expected_quartic(self, A: Any, P: Any, B: Any = None) -> np.ndarray:
        raise ValueError(f"{self!r}: the quartic moment contraction needs a finite support")

    @property
    def L_S_max(self) -> float:
        return math.inf

    def __repr__(self) -> str:
        return f"Gaussian(d={self.d}, m={self.m})"


# -- Discrete ----------------------------------------------------------------------------------
class Discrete(Sketch):
    """A finite distribution: S = S_j with probability w_j.

    Parameters
    ----------
    matrices : array, shape (N, d, d), or (N, d) for diagonal matrices given by their diagonals
        The support.
    weights : array, shape (N,)
        Probabilities, ≥ 0 and summing to one.

    Raises
    ------
    ValueError
        If the shapes disagree, a weight is negative, the weights do not sum to one, or
        E[S] = Σ_j w_j S_j is not the identity (MAST Assumption 1).

    Notes
    -----
    The sketch is diagonal when every S_j is; then ``sample`` returns diagonals.  All moments
    enumerate the N outcomes (zero-weight outcomes are dropped).
    """

    def __init__(self, matrices: Any, weights: Any):
        mats = host_real("matrices", matrices)
        w = host_real("weights", weights)
        if mats.ndim == 2:
            mats = np.einsum("ni,ij->nij", mats, np.eye(mats.shape[1]))
        if mats.ndim != 3 or mats.shape[1] != mats.shape[2] or mats.shape[0] < 1:
            raise ValueError(
                f"matrices must have shape (N, d, d) or (N, d) with N >= 1, got {mats.shape}"
            )
        if w.shape != (mats.shape[0],):
            raise ValueError(f"weights must have shape ({mats.shape[0]},), got {w.shape}")
        if not (np.all(np.isfinite(mats)) and np.all(np.isfinite(w))):
            raise ValueError("matrices and weights must not contain NaN or infinity")
        if np.any(w < 0):
            raise ValueError(f"weights must be >= 0, got minimum {w.min():g}")
        if abs(w.sum() - 1.0) > 1e-12:
            raise ValueError(f"weights must sum to 1, got {w.sum():.15g}")
        keep = w > 0
        mats, w = mats[keep], w[keep]
        self.d = int(mats.shape[1])
        mean = np.einsum("n,nij->ij", w, mats)
        error = float(np.max(np.abs(mean - np.eye(self.d))))
        if error > 1e-10 * max(1.0, float(np.max(np.abs(mats)))):
            raise ValueError(
                f"E[S] must equal the identity (MAST Assumption 1); max |E[S] - I| = {error:.3g}"
            )
        off = mats - np.einsum("nii,ij->nij", mats, np.eye(self.d))
        self.diagonal = bool(np.all(off == 0))
        self.matrices = mats
        self.weights = w

    @property
    def num_outcomes(self) -> int:
        """Number of outcomes with positive weight."""
        return int(self.weights.shape[0])

    def _table(self) -> np.ndarray:
        if self.diagonal:
            return np.einsum("nii->ni", self.matrices)
        return self.matrices

    def sample_indices(self, rng: Generator, size: int) -> Any:
        """Indices j of the drawn outcomes, shape (size,), int64."""
        size = _check_draw(rng, size)
        cdf = np.cumsum(self.weights)
        cdf[-1] = 1.0
        return rng.categorical(cdf, size)

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        """Diagonals (size, d) when diagonal, else matrices (size, d, d).

        Draws the same outcomes as :meth:`sample_indices` for the same seed.
        """
        dtype = _sample_dtype(rng, dtype)
        idx = self.sample_indices(rng, size)
        return rng.xp.take(_on_device(rng, self._table(), dtype), idx, axis=0)

    def _outcomes(self) -> tuple[np.ndarray, np.ndarray]:
        return self._table(), self.weights

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        """The given outcomes (diagonals when diagonal) and weights."""
        if self.num_outcomes > max_outcomes:
            raise _too_many(repr(self), self.num_outcomes, max_outcomes)
        return self._table().copy(), self.weights.copy()

    def __repr__(self) -> str:
        kind = "diagonal" if self.diagonal else "dense"
        return f"Discrete(N={self.num_outcomes}, d={self.d}, {kind})"
