"""The one-step moment maps of affine random recursions, their propagation and fixed point.

A recursion u_{t+1} = K_t u_t + h_t with (K_t, h_t) drawn i.i.d. has first and second moments
m_t = E[u_t], P_t = E[u_t u_tᵀ] that evolve deterministically (``theory/mast.md`` §6.1 [D]):

    m⁺ = E[K] m + E[h],    P⁺ = E[K P Kᵀ] + E[K m hᵀ] + E[h mᵀ Kᵀ] + E[h hᵀ].

A :class:`MomentMap` evaluates these expectations for one family of recursions: DSGD with a
sketch (closed-form sketch moments), distributed DSGD with independent clients, or any finite
set of enumerated branches.  :func:`propagate` iterates the map; :func:`fixed_point` solves for
its stationary point.  Methods declare theirs (``moment_map``); :mod:`mastbench.exact` reads it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from mastbench.exact import numba_kernel
from mastbench.exact.affine_form import (
    MAX_AFFINE_DIM,
    NUMPY_AFFINE_MAX_DIM,
    AffineForm,
    AffineTerms,
    affine_form,
    diagonal_moment_tensors,
    enumerated_terms,
    sandwich_terms,
)
from mastbench.exact.diagonal_step import (
    GeneralDiagonalStep,
    SymmetricDiagonalStep,
    pattern_coefficients,
)
from mastbench.sketches import Sketch, _closed_form_patterns
from mastbench.validation import check_checkpoints

__all__ = [
    "EnumeratedStep",
    "IndependentClientsStep",
    "MomentMap",
    "PatternStep",
    "SketchedStep",
    "checkpoint_array",
    "fixed_point",
    "propagate",
]


class MomentMap(ABC):
    """One step of an affine random recursion u⁺ = K u + h on R^D, by its moment map.

    Attributes
    ----------
    dim : int
        The state dimension D.
    """

    dim: int

    @abstractmethod
    def mean_step(self, m: np.ndarray) -> np.ndarray:
        """E[K] m + E[h] for the current mean m = E[u]."""

    @abstractmethod
    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[K P Kᵀ] + E[K m hᵀ] + E[h mᵀ Kᵀ] + E[h hᵀ] for P = E[uuᵀ], m = E[u].

        Linear in P (any square P, symmetric or not) and affine in m.
        """

    def advance(self, m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step of the propagation: (mean_step(m), sym second_step(P, m)) for symmetric P.

        sym X = ½(X + Xᵀ) removes the rounding asymmetry; maps with a fused kernel override
        this with the same result up to rounding.
        """
        P = self.second_step(P, m)
        return self.mean_step(m), 0.5 * (P + P.T)

    def affine_terms(self) -> AffineTerms | None:
        """The tensors of this map as one affine map of (m, P)
        (:mod:`mastbench.exact.affine_form`), or None where they are not available."""
        return None

    @cached_property
    def affine(self) -> AffineForm | None:
        """s⁺ = M s + r on s = (m, vech P), for D ≤ ``MAX_AFFINE_DIM`` and a map with
        :meth:`affine_terms`; None otherwise."""
        if self.dim > MAX_AFFINE_DIM:
            return None
        terms = self.affine_terms()
        return None if terms is None else affine_form(terms)

    def start(self, y0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The state moments (E u_0, E u_0u_0ᵀ) from the deterministic y_0 = x_0 − v.

        The state is y itself unless an augmented-state map says otherwise.
        """
        return y0, np.outer(y0, y0)

    def readouts(self, geometry: Any, m: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
        """Method-specific readouts from state moments m (..., D), P (..., D, D) (none here);
        ``geometry`` is the :class:`~mastbench.exact.engine.Geometry` of f and f_D."""
        return {}


class SketchedStep(MomentMap):
    """DSGD on a quadratic, options I and II (``theory/mast.md`` §3.1, §6.1).

    K = I − γ C SᵀA_B S, h = −γ C Sᵀ c_B, with S from the sketch, the data minibatch B giving
    (A_B, c_B) (option II; A_B = A for option I) and an optional diagonal unbiased compressor C
    (independent of S and B).  The minibatch enters only through
    E_B[A_B ⊗ A_B] = α Σ_i A_i ⊗ A_i + β A ⊗ A (and likewise for (A_B, c_B) and (c_B, c_B)),
    exact for sampling with or without replacement, so the step costs O((n+1) d³) with the
    structured sketch contractions.

    Option I (no components, no compressor, β = 1) with a closed-form diagonal sketch
    (Bernoulli, Rand-K, Identity, Permutation's marginal) uses the fused kernels of
    :mod:`mastbench.exact.diagonal_step`, with every state-independent piece precomputed: a few
    matrix products and elementwise operations per step instead of the ~20 pattern
    contractions.
    """

    def __init__(
        self,
        sketch: Sketch,
        A: np.ndarray,
        c: np.ndarray,
        step: float,
        *,
        components: tuple[np.ndarray, np.ndarray] | None = None,
        alpha: float = 0.0,
        beta: float = 1.0,
        compressor: Sketch | None = None,
    ):
        self.dim = A.shape[0]
        self.sketch, self.A, self.c, self.step = sketch, A, c, step
        self.A_bar = sketch.expected_sandwich(A)
        self.components, self.alpha, self.beta = components, alpha, beta
        self.compressor_second = None if compressor is None else compressor.second_moment()
        ccT = beta * np.outer(c, c)
        if components is not None and alpha != 0.0:
            ccT = ccT + alpha * np.einsum("ni,nj->ij", components[1], components[1])
        self.noise = sketch.expected_sandwich(ccT)
        option_one = components is None and compressor is None and beta == 1.0
        self._patterns = _closed_form_patterns(sketch) if option_one else None
        self._symmetric = self._patterns is not None and bool(np.array_equal(A, A.T))

    @cached_property
    def _coefficients(self):
        return pattern_coefficients(self._patterns, self.A, self.c)

    @cached_property
    def _general_kernel(self) -> GeneralDiagonalStep:
        return GeneralDiagonalStep(self._coefficients, self.A, self.c, self.step, self.noise)

    @cached_property
    def _symmetric_kernel(self) -> SymmetricDiagonalStep:
        coef = self._coefficients
        return SymmetricDiagonalStep(coef, self.A, self.c, self.step, self.A_bar)

    @property
    def symmetric_kernel(self) -> SymmetricDiagonalStep | None:
        """The fused step for symmetric A (option I, closed-form diagonal sketch), else None."""
        return self._symmetric_kernel if self._symmetric else None

    def advance(self, m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._symmetric:
            return self._symmetric_kernel(m, P)
        return super().advance(m, P)

    def _compress(self, X: np.ndarray) -> np.ndarray:
        return X if self.compressor_second is None else X * self.compressor_second

    def affine_terms(self) -> AffineTerms | None:
        """The tensors of :meth:`pattern_second_step` for a diagonal sketch (None otherwise):
        the pairs (β, A, c) and (α, A_i, c_i) under the sketch, the compressor's E[ccᵀ]
        entrywise on the γ² terms."""
        moments = diagonal_moment_tensors(self.sketch)
        if moments is None:
            return None
        pairs = [(self.beta, self.A, self.c)]
        if self.components is not None and self.alpha != 0.0:
            pairs += [(self.alpha, A_i, c_i) for A_i, c_i in zip(*self.components, strict=True)]
        quartic, cubic = sandwich_terms(moments, pairs)
        g, C = self.step, self.compressor_second
        if C is not None:
            quartic, cubic = quartic * C[:, :, None, None], cubic * C[:, :, None]
        return _gradient_step_terms(
            g, self.A_bar, self.c, quartic, cubic, self._compress(self.noise)
        )

    def mean_step(self, m: np.ndarray) -> np.ndarray:
        return m - self.step * (self.A_bar @ m + self.c)

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        if self._patterns is not None:
            return self._general_kernel(P, m)
        return self.pattern_second_step(P, m)

    @cached_property
    def _contractions(self) -> list[tuple[Any, Any]]:
        """The sketch's Q4 and R3 contractions of (A, c), then of each component (A_i, c_i)
        when α ≠ 0, as maps of P and m with their fixed factors formed once."""
        pairs = [(self.A, self.c)]
        if self.components is not None and self.alpha != 0.0:
            pairs += list(zip(*self.components, strict=True))
        return [(self.sketch._quartic_map(A, A), self.sketch._cubic_map(A, c)) for A, c in pairs]

    def pattern_second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        """:meth:`second_step` from the sketch's Q4/R3 contractions (no fused kernel)."""
        g = self.step
        (quartic_map, cubic_map), *components = self._contractions
        quartic = self.beta * quartic_map(P)
        cubic = self.beta * cubic_map(m)
        for quartic_map, cubic_map in components:
            quartic = quartic + self.alpha * quartic_map(P)
            cubic = cubic + self.alpha * cubic_map(m)
        quartic, cubic = self._compress(quartic), self._compress(cubic)
        AP = self.A_bar @ P
        mc = np.outer(m, self.c)
        out = P - g * (AP + P @ self.A_bar) - g * (mc + mc.T)
        return out + g * g * (quartic + cubic + cubic.T + self._compress(self.noise))


class PatternStep(MomentMap):
    """A :class:`SketchedStep` evaluated only through the sketch's Q4/R3 contractions.

    The reference for the fused kernels (:mod:`mastbench.exact.diagonal_step`,
    :mod:`mastbench.exact.numba_kernel`): the same moment map, without any fused step.
    """

    def __init__(self, step: SketchedStep):
        self.inner, self.dim = step, step.dim

    def mean_step(self, m: np.ndarray) -> np.ndarray:
        return self.inner.mean_step(m)

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        return self.inner.pattern_second_step(P, m)


class IndependentClientsStep(MomentMap):
    """Distributed DSGD with independent client sketches (``theory/mast.md`` §3.2).

    K = I − (γ/M) Σ_i S_iᵀA_iS_i and h = −(γ/M) Σ_i S_iᵀc_i with independent S_i; the
    cross-client terms factorize (E[B_i P B_j] = Ā_i P Ā_j for i ≠ j), so the step is exact
    from each client's own moments.
    """

    def __init__(self, sketches: Sequence[Sketch], As, cs, step: float):
        self.dim = As[0].shape[0]
        self.sketches, self.As, self.cs, self.step = sketches, As, cs, step
        self.M = len(sketches)
        self.bars = [s.expected_sandwich(A) for s, A in zip(sketches, As, strict=True)]
        self.bar_sum = sum(self.bars)
        self.c_sum = sum(cs)
        self.noise = sum(
            s.expected_sandwich(np.outer(c, c)) for s, c in zip(sketches, cs, strict=True)
        ) + (np.outer(self.c_sum, self.c_sum) - sum(np.outer(c, c) for c in cs))

    def mean_step(self, m: np.ndarray) -> np.ndarray:
        return m - self.step / self.M * (self.bar_sum @ m + self.c_sum)

    def affine_terms(self) -> AffineTerms | None:
        """The tensors of :meth:`second_step` when every client's sketch is diagonal (None
        otherwise)."""
        bar = self.bar_sum
        quartic = np.einsum("ik,lj->ijkl", bar, bar)
        cubic = np.einsum("ik,j->ijk", bar, self.c_sum)
        for sk, A, c, Ab in zip(self.sketches, self.As, self.cs, self.bars, strict=True):
            moments = diagonal_moment_tensors(sk)
            if moments is None:
                return None
            own_quartic, own_cubic = sandwich_terms(moments, [(1.0, A, c)])
            quartic += own_quartic - np.einsum("ik,lj->ijkl", Ab, Ab)
            cubic += own_cubic - np.einsum("ik,j->ijk", Ab, c)
        return _gradient_step_terms(self.step / self.M, bar, self.c_sum, quartic, cubic, self.noise)

    @cached_property
    def _contractions(self) -> list[tuple[Any, Any]]:
        """Each client's Q4 and R3 contractions, as maps of P and m with their fixed factors
        formed once."""
        return [
            (sk._quartic_map(A, A), sk._cubic_map(A, c))
            for sk, A, c in zip(self.sketches, self.As, self.cs, strict=True)
        ]

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        g = self.step / self.M
        quartic = self.bar_sum @ P @ self.bar_sum
        cubic = np.outer(self.bar_sum @ m, self.c_sum)
        clients = zip(self._contractions, self.cs, self.bars, strict=True)
        for (quartic_map, cubic_map), c, Ab in clients:
            quartic = quartic + quartic_map(P) - Ab @ P @ Ab
            cubic = cubic + cubic_map(m) - np.outer(Ab @ m, c)
        AP = self.bar_sum @ P
        mc = np.outer(m, self.c_sum)
        out = P - g * (AP + P @ self.bar_sum) - g * (mc + mc.T)
        return out + g * g * (quartic + cubic + cubic.T + self.noise)


class EnumeratedStep(MomentMap):
    """u⁺ = K_n u + h_n with probability w_n, over an enumerated finite set of branches."""

    def __init__(self, Ks: np.ndarray, hs: np.ndarray, weights: np.ndarray):
        self.Ks, self.hs, self.w = Ks, hs, weights
        self.dim = Ks.shape[1]
        self.EK = np.tensordot(weights, Ks, axes=1)
        self.Eh = weights @ hs
        self.Ehh = np.einsum("n,ni,nj->ij", weights, hs, hs)
        self.KT = np.swapaxes(Ks, 1, 2)

    def mean_step(self, m: np.ndarray) -> np.ndarray:
        return self.EK @ m + self.Eh

    def affine_terms(self) -> AffineTerms:
        return enumerated_terms(self.Ks, self.hs, self.w)

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        KPK = np.tensordot(self.w, self.Ks @ P @ self.KT, axes=1)
        cross = np.einsum("n,ni,nj->ij", self.w, self.Ks @ m, self.hs)
        return KPK + cross + cross.T + self.Ehh


def _gradient_step_terms(
    g: float,
    A_bar: np.ndarray,
    c: np.ndarray,
    quartic: np.ndarray,
    cubic: np.ndarray,
    noise: np.ndarray,
) -> AffineTerms:
    """The tensors of K = I − γB, h = −γe with E[B] = Ā, E[e] = c and the tensors of
    E[BPB] (``quartic``), E[B m eᵀ] (``cubic``) and E[eeᵀ] (``noise``)."""
    d = c.shape[0]
    eye = np.eye(d)
    diagonal = np.arange(d)
    L = g * g * quartic
    L[:, diagonal, :, diagonal] += eye - g * A_bar  # [j, i, k]: P − γĀP, l = j
    L[diagonal, :, diagonal, :] -= g * A_bar.T  # [i, j, l]: −γPĀ, k = i
    C = g * g * (cubic + cubic.transpose(1, 0, 2))
    C[diagonal, :, diagonal] -= g * c  # [i, j]: −γmcᵀ, k = i
    C[:, diagonal, diagonal] -= g * c[:, None]  # [i, j]: −γcmᵀ, k = j
    return AffineTerms(EK=eye - g * A_bar, Eh=-g * c, L=L, C=C, N=g * g * noise)


# -- propagation and fixed point ---------------------------------------------------------------
def checkpoint_array(iters: int, checkpoints: Any) -> np.ndarray:
    """Sorted unique iterations to record: every t in [0, iters] when ``checkpoints`` is None."""
    if checkpoints is None:
        return np.arange(iters + 1, dtype=np.int64)
    return check_checkpoints(checkpoints, iters)


def propagate(
    step: MomentMap, m0: np.ndarray, P0: np.ndarray, iters: int, checkpoints: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the moment map from (m0, P0); return the moments at the checkpoints.

    When numba is importable and the propagation is long enough
    (:func:`~mastbench.exact.numba_kernel.worthwhile`), the whole propagation runs in one
    compiled call (:mod:`mastbench.exact.numba_kernel`): the symmetric fused DSGD step
    (:attr:`SketchedStep.symmetric_kernel`) in its own loop, any other map with an affine form
    (:attr:`MomentMap.affine`: D ≤ ``MAX_AFFINE_DIM``, enumerated branches or diagonal
    sketches) as s⁺ = M s + r.  Otherwise a map without the fused step whose affine form has
    D ≤ ``NUMPY_AFFINE_MAX_DIM`` steps s⁺ = M s + r in NumPy
    (:meth:`~mastbench.exact.affine_form.AffineForm.propagate`: option II, distributed DSGD,
    IST and L-SVRDSG at the sizes of the tests and of ``verify --quick``).  Every other map,
    or with ``mastbench.exact.numba_kernel.enabled = False``, steps through
    :meth:`MomentMap.advance`, the reference the affine loops match to rounding.

    Returns
    -------
    means : ndarray, shape (C, D)
    seconds : ndarray, shape (C, D, D)
        E[u_t] and E[u_t u_tᵀ] for t in ``checkpoints`` (P0 is symmetrized, and P after each
        step, by :meth:`MomentMap.advance`).
    """
    D = step.dim
    m, P = m0, 0.5 * (P0 + P0.T)
    fused = step.symmetric_kernel if isinstance(step, SketchedStep) else None
    if numba_kernel.worthwhile(D, int(checkpoints[-1])) and numba_kernel.available():
        if fused is not None:
            return numba_kernel.propagate_symmetric(fused.factors, m, P, iters, checkpoints)
        if step.affine is not None:
            return numba_kernel.propagate_affine(step.affine, m, P, iters, checkpoints)
    if numba_kernel.enabled and fused is None and D <= NUMPY_AFFINE_MAX_DIM:
        if step.affine is not None:
            return step.affine.propagate(m, P, iters, checkpoints)
    record = checkpoints.tolist()
    means = np.empty((len(record), D))
    seconds = np.empty((len(record), D, D))
    slot, advance = 0, step.advance
    for t in range(iters + 1):
        if t == record[slot]:
            means[slot], seconds[slot] = m, P
            slot += 1
            if slot == len(record):
                break
        m, P = advance(m, P)
    return means, seconds


def fixed_point(step: MomentMap, max_dim: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Stationary (m, P) of the moment map and the spectral radius ρ of its linear part.

    Assembles the (D², D²) matrix of P ↦ second_step(P, 0) − second_step(0, 0) and the (D, D)
    matrix E[K]; solves m = E[K]m + E[h] and P = L(P) + second_step(0, m).

    Raises
    ------
    ValueError
        If D > ``max_dim``, or ρ ≥ 1 for either map (the moments diverge or do not converge).
    """
    D = step.dim
    if D > max_dim:
        raise ValueError(
            f"the exact limit assembles a ({D}², {D}²) linear map; state dimension {D} exceeds "
            f"the limit max_dim={max_dim}"
        )
    Eh = step.mean_step(np.zeros(D))
    EK = np.stack([step.mean_step(e) - Eh for e in np.eye(D)], axis=1)
    rho_mean = float(np.max(np.abs(np.linalg.eigvals(EK))))
    r = step.second_step(np.zeros((D, D)), np.zeros(D))
    basis = np.eye(D * D).reshape(D * D, D, D)
    L = np.stack([(step.second_step(E, np.zeros(D)) - r).ravel() for E in basis], axis=1)
    rho = float(np.max(np.abs(np.linalg.eigvals(L))))
    if rho >= 1.0 or rho_mean >= 1.0:
        raise ValueError(
            f"the moment recursion diverges: spectral radius of the second-moment map "
            f"{rho:.6g} (mean map {rho_mean:.6g}) is >= 1; reduce the step size"
        )
    m = np.linalg.solve(np.eye(D) - EK, Eh)
    rhs = step.second_step(np.zeros((D, D)), m)
    P = np.linalg.solve(np.eye(D * D) - L, rhs.ravel()).reshape(D, D)
    return m, 0.5 * (P + P.T), rho
