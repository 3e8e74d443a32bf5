"""Exact moment propagation for the Double Sketched methods of MAST on quadratics.

MAST (Demidovich, Malinovsky, Shulgin, Richtárik, arXiv 2311.16086) methods applied to a
quadratic f(x) = ½xᵀAx − bᵀx + const are *affine recursions with fresh random matrices*: with
y := x − v (v the shift) every step reads y⁺ = K y + h for a random pair (K, h) drawn
independently of the past.  The first and second moments m_t = E[y_t], P_t = E[y_t y_tᵀ]
therefore evolve by a deterministic map (``theory/mast.md`` §6.1 [D]):

    m⁺ = E[K] m + E[h]
    P⁺ = E[K P Kᵀ] + E[K m hᵀ] + E[h mᵀ Kᵀ] + E[h hᵀ]

(K and h share the random sketch, so the cross terms do not factorize).  This module evaluates
these expectations exactly — with the closed-form sketch moments of :mod:`mastbench.sketches`
(O(d³) per step for Bernoulli and Rand-K) or by enumerating a finite joint support — and reads
out, for every requested iteration t,

    dist2       = E‖x_t − x_D*‖²      = tr P − 2y*ᵀm + ‖y*‖²,   y* := x_D* − v = −Ā⁻¹c
    subopt_D    = E f_D(x_t) − f_D*   = cᵀm + ½ tr(ĀP) − ½ cᵀy*
    subopt      = E f(x_t) − f*       = f(v) + cᵀm + ½ tr(AP) − f*
    gradnorm2_D = E‖∇f_D(x_t)‖²       = tr(ĀPĀ) + 2cᵀĀm + ‖c‖²

with c := ∇f(v) = Av − b and Ā := E[SᵀAS] (§2.1 [D]; for distributed methods the client
average).  The ``*_limit`` functions solve for the fixed point of the moment map exactly.
No Monte-Carlo noise enters anywhere.  All statements are [D]: derived in ``theory/mast.md``
and cross-checked in ``tests/test_exact.py`` against brute-force enumeration of all sketch
paths, the augmented-state operator 𝒯 of §6.1 and batched Monte Carlo.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mastbench.backend import to_numpy
from mastbench.sketches import Permutation, Sketch
from mastbench.validation import check_int, check_positive, check_probability

__all__ = [
    "MAX_BRANCHES",
    "MAX_LIMIT_DIM",
    "ExactLimit",
    "ExactMoments",
    "distributed_limit",
    "distributed_moments",
    "dsgd_limit",
    "dsgd_minibatch_limit",
    "dsgd_minibatch_moments",
    "dsgd_moments",
    "l_svrdsg_limit",
    "l_svrdsg_moments",
    "quadratic_components",
]

#: Largest state dimension for which ``*_limit`` assembles the (D², D²) second-moment map.
MAX_LIMIT_DIM: int = 40

#: Largest number of enumerated branches (joint outcomes) per step.
MAX_BRANCHES: int = 200_000


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactMoments:
    """Exact first and second moments of the iterates, and readouts, at checkpoints.

    Attributes
    ----------
    iterations : ndarray, shape (C,)
        The iterations t recorded (int64, increasing, within [0, iters]).
    mean : ndarray, shape (C, d)
        E[x_t].
    second : ndarray, shape (C, d, d)
        E[x_t x_tᵀ] (uncentred).
    dist2 : ndarray, shape (C,)
        E‖x_t − x_D*‖².
    subopt_D : ndarray, shape (C,)
        E f_D(x_t) − f_D* (MAST objective).
    subopt : ndarray, shape (C,)
        E f(x_t) − f* (original objective).
    gradnorm2_D : ndarray, shape (C,)
        E‖∇f_D(x_t)‖².
    x_D_star : ndarray, shape (d,)
        Minimizer of f_D (minimum-norm when Ā is singular).
    f_D_star, f_star : float
        inf f_D and inf f.
    A_bar : ndarray, shape (d, d)
        Ā = E[SᵀAS], the Hessian of f_D.
    extra : dict of str to ndarray of shape (C,)
        Method-specific readouts (L-SVRDSG: ``lyapunov``, ``reference_gap``,
        ``reference_error``).
    """

    iterations: np.ndarray
    mean: np.ndarray
    second: np.ndarray
    dist2: np.ndarray
    subopt_D: np.ndarray
    subopt: np.ndarray
    gradnorm2_D: np.ndarray
    x_D_star: np.ndarray
    f_D_star: float
    f_star: float
    A_bar: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class ExactLimit:
    """The exact stationary moments (t → ∞) of a converging recursion, with readouts.

    Attributes
    ----------
    mean : ndarray, shape (d,)
        lim E[x_t] (= x_D* for unbiased methods).
    second : ndarray, shape (d, d)
        lim E[x_t x_tᵀ].
    dist2, subopt_D, subopt, gradnorm2_D : float
        The readouts of :class:`ExactMoments` at the limit.
    rho : float
        Spectral radius of the linear part of the second-moment map (< 1: geometric
        convergence of every moment at this rate).
    x_D_star : ndarray
    f_D_star, f_star : float
    extra : dict of str to float
    """

    mean: np.ndarray
    second: np.ndarray
    dist2: float
    subopt_D: float
    subopt: float
    gradnorm2_D: float
    rho: float
    x_D_star: np.ndarray
    f_D_star: float
    f_star: float
    extra: dict[str, float] = field(default_factory=dict)


# -- geometry of the quadratic and of f_D ------------------------------------------------------
def _quadratic_min(A: np.ndarray, b: np.ndarray, name: str) -> np.ndarray:
    """A minimizer of ½xᵀAx − bᵀx (A ⪰ 0; minimum norm if singular); ValueError if unbounded."""
    try:
        x = np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        x = np.linalg.lstsq(A, b, rcond=None)[0]
    if not np.all(np.isfinite(x)) or np.linalg.norm(A @ x - b) > 1e-8 * max(
        1.0, float(np.linalg.norm(b))
    ):
        x = np.linalg.lstsq(A, b, rcond=None)[0]
    if np.linalg.norm(A @ x - b) > 1e-8 * max(1.0, float(np.linalg.norm(b))):
        raise ValueError(f"{name} is unbounded below: the linear term is not in the range")
    return x


@dataclass(frozen=True)
class _Geometry:
    """f(v + y) = f_v + cᵀy + ½yᵀAy, f_D(v + y) = f_v + cᵀy + ½yᵀĀy, y* = argmin f_D − v."""

    A: np.ndarray
    c: np.ndarray
    f_v: float
    f_star: float
    A_bar: np.ndarray
    v: np.ndarray
    y_star: np.ndarray

    @property
    def x_D_star(self) -> np.ndarray:
        return self.v + self.y_star

    @property
    def f_D_star(self) -> float:
        return float(self.f_v + 0.5 * self.c @ self.y_star)

    def readouts(self, m: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
        """Readouts from y-moments m (..., d), P (..., d, d)."""
        A, Ab, c, ys = self.A, self.A_bar, self.c, self.y_star
        tr_P = np.trace(P, axis1=-2, axis2=-1)
        lin = m @ c
        return {
            "dist2": tr_P - 2 * m @ ys + ys @ ys,
            "subopt_D": lin + 0.5 * np.einsum("ij,...ji->...", Ab, P) - 0.5 * c @ ys,
            "subopt": self.f_v + lin + 0.5 * np.einsum("ij,...ji->...", A, P) - self.f_star,
            "gradnorm2_D": np.einsum("ij,...jk,ki->...", Ab, P, Ab) + 2 * m @ (Ab @ c) + c @ c,
        }


def _geometry(A: np.ndarray, b: np.ndarray, const: float, A_bar: np.ndarray, v: np.ndarray):
    f_v = float(0.5 * v @ A @ v - b @ v + const)
    x_star = _quadratic_min(A, b, "f")
    f_star = float(const - 0.5 * b @ x_star)
    c = A @ v - b
    y_star = _quadratic_min(A_bar, -c, "f_D")
    return _Geometry(A=A, c=c, f_v=f_v, f_star=f_star, A_bar=A_bar, v=v, y_star=y_star)


def _x_moments(v: np.ndarray, m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[x], E[xxᵀ] from y = x − v moments."""
    mean = m + v
    second = P + np.einsum("...i,j->...ij", m, v) + np.einsum("i,...j->...ij", v, m)
    return mean, second + np.outer(v, v)


# -- the one-step moment maps ------------------------------------------------------------------
class _Step:
    """One step of an affine random recursion u⁺ = K u + h on R^D, by its moment map."""

    dim: int

    def mean_step(self, m: np.ndarray) -> np.ndarray:
        """E[K] m + E[h]."""
        raise NotImplementedError

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[K P Kᵀ] + E[K m hᵀ] + E[h mᵀ Kᵀ] + E[h hᵀ]."""
        raise NotImplementedError


class _SketchedStep(_Step):
    """DSGD on a quadratic, options I and II (``theory/mast.md`` §3.1, §6.1).

    K = I − γ C SᵀA_B S, h = −γ C Sᵀ c_B, with S from the sketch, the data minibatch B giving
    (A_B, c_B) (option II; A_B = A for option I) and an optional diagonal unbiased compressor C
    (independent of S and B).  The minibatch enters only through
    E_B[A_B ⊗ A_B] = α Σ_i A_i ⊗ A_i + β A ⊗ A (and likewise for (A_B, c_B) and (c_B, c_B)),
    exact for sampling with or without replacement, so the step costs O((n+1) d³) with the
    structured sketch contractions.
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

    def _compress(self, X: np.ndarray) -> np.ndarray:
        return X if self.compressor_second is None else X * self.compressor_second

    def mean_step(self, m: np.ndarray) -> np.ndarray:
        return m - self.step * (self.A_bar @ m + self.c)

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        sk, g = self.sketch, self.step
        quartic = self.beta * sk.expected_quartic(self.A, P)
        cubic = self.beta * sk.expected_cubic(self.A, m, self.c)
        if self.components is not None and self.alpha != 0.0:
            for A_i, c_i in zip(*self.components, strict=True):
                quartic = quartic + self.alpha * sk.expected_quartic(A_i, P)
                cubic = cubic + self.alpha * sk.expected_cubic(A_i, m, c_i)
        quartic, cubic = self._compress(quartic), self._compress(cubic)
        AP = self.A_bar @ P
        mc = np.outer(m, self.c)
        out = P - g * (AP + P @ self.A_bar) - g * (mc + mc.T)
        return out + g * g * (quartic + cubic + cubic.T + self._compress(self.noise))


class _IndependentClientsStep(_Step):
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

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        g = self.step / self.M
        quartic = self.bar_sum @ P @ self.bar_sum
        cubic = np.outer(self.bar_sum @ m, self.c_sum)
        for sk, A, c, Ab in zip(self.sketches, self.As, self.cs, self.bars, strict=True):
            quartic = quartic + sk.expected_quartic(A, P) - Ab @ P @ Ab
            cubic = cubic + sk.expected_cubic(A, m, c) - np.outer(Ab @ m, c)
        AP = self.bar_sum @ P
        mc = np.outer(m, self.c_sum)
        out = P - g * (AP + P @ self.bar_sum) - g * (mc + mc.T)
        return out + g * g * (quartic + cubic + cubic.T + self.noise)


class _EnumeratedStep(_Step):
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

    def second_step(self, P: np.ndarray, m: np.ndarray) -> np.ndarray:
        KPK = np.tensordot(self.w, self.Ks @ P @ self.KT, axes=1)
        cross = np.einsum("n,ni,nj->ij", self.w, self.Ks @ m, self.hs)
        return KPK + cross + cross.T + self.Ehh


# -- propagation and fixed point ---------------------------------------------------------------
def _checkpoint_array(iters: int, checkpoints: Any) -> np.ndarray:
    if checkpoints is None:
        return np.arange(iters + 1, dtype=np.int64)
    arr = np.unique(np.asarray(checkpoints, dtype=np.int64))
    if arr.ndim != 1 or arr.size == 0 or arr[0] < 0 or arr[-1] > iters:
        raise ValueError(f"checkpoints must be iterations within [0, {iters}], got {checkpoints}")
    return arr


def _propagate(step: _Step, m0, P0, iters: int, checkpoints: np.ndarray):
    D = step.dim
    means = np.empty((checkpoints.size, D))
    seconds = np.empty((checkpoints.size, D, D))
    m, P = m0, P0
    slot = 0
    for t in range(iters + 1):
        if t == checkpoints[slot]:
            means[slot], seconds[slot] = m, P
            slot += 1
            if slot == checkpoints.size:
                break
        m, P = step.mean_step(m), step.second_step(P, m)
        P = 0.5 * (P + P.T)
    return means, seconds


def _fixed_point(step: _Step, max_dim: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Stationary (m, P) of the moment map and the spectral radius of its linear part."""
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


def _moments_result(geo: _Geometry, iterations, means, seconds, extra=None) -> ExactMoments:
    d = geo.A.shape[0]
    m, P = means[:, :d], seconds[:, :d, :d]
    mean, second = _x_moments(geo.v, m, P)
    return ExactMoments(
        iterations=iterations,
        mean=mean,
        second=second,
        x_D_star=geo.x_D_star,
        f_D_star=geo.f_D_star,
        f_star=geo.f_star,
        A_bar=geo.A_bar,
        extra=extra or {},
        **geo.readouts(m, P),
    )


def _limit_result(geo: _Geometry, m, P, rho, extra=None) -> ExactLimit:
    d = geo.A.shape[0]
    mean, second = _x_moments(geo.v, m[:d], P[:d, :d])
    read = {k: float(v) for k, v in geo.readouts(m[:d], P[:d, :d]).items()}
    return ExactLimit(
        mean=mean,
        second=second,
        rho=rho,
        x_D_star=geo.x_D_star,
        f_D_star=geo.f_D_star,
        f_star=geo.f_star,
        extra={k: float(v) for k, v in (extra or {}).items()},
        **read,
    )


# -- input checks ------------------------------------------------------------------------------
def _form(problem: Any, name: str = "problem") -> tuple[np.ndarray, np.ndarray, float]:
    if not callable(getattr(problem, "quadratic_form", None)):
        raise TypeError(
            f"{name} must be a quadratic (problems.QuadraticForm with quadratic_form()), "
            f"got {type(problem).__name__}"
        )
    A, b, const = problem.quadratic_form()
    return np.asarray(A, dtype=float), np.asarray(b, dtype=float), float(const)


def _host_vector(name: str, x: Any, d: int) -> np.ndarray:
    arr = np.asarray(to_numpy(x), dtype=float)
    if arr.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or infinity")
    return arr


def _check_sketch(name: str, sketch: Any, d: int) -> Sketch:
    if not isinstance(sketch, Sketch):
        raise TypeError(f"{name} must be a mastbench.sketches.Sketch, got {type(sketch).__name__}")
    if sketch.d != d:
        raise ValueError(f"{name} has dimension {sketch.d}, the problem has d={d}")
    return sketch


def _common(problem, sketch, shift, x0, step, iters):
    A, b, const = _form(problem)
    d = A.shape[0]
    sketch = _check_sketch("sketch", sketch, d)
    v = np.zeros(d) if shift is None else _host_vector("shift", shift, d)
    y0 = _host_vector("x0", x0, d) - v
    step = check_positive("step", step)
    iters = check_int("iters", iters, low=0)
    return A, b, const, d, sketch, v, y0, step, iters


# -- DSGD option I -----------------------------------------------------------------------------
def _dsgd_setup(problem, sketch, shift, x0, step, iters):
    A, b, const, _, sketch, v, y0, step, iters = _common(problem, sketch, shift, x0, step, iters)
    geo = _geometry(A, b, const, sketch.expected_sandwich(A), v)
    return geo, _SketchedStep(sketch, A, geo.c, step), y0, iters


def dsgd_moments(
    problem: Any,
    sketch: Sketch,
    *,
    x0: Any,
    step: float,
    iters: int,
    shift: Any = None,
    checkpoints: Any = None,
) -> ExactMoments:
    """Exact moments of Double Sketched GD, option I, on a quadratic.

    x_{t+1} = x_t − γ S_tᵀ ∇f(v + S_t(x_t − v)), S_t ~ D i.i.d. (MAST, arXiv 2311.16086,
    Algorithm 1 option I; ``theory/mast.md`` §3.1, §6.1 [D]).  With y = x − v, c = ∇f(v):
    K_S = I − γSᵀAS, h_S = −γSᵀc and

        m⁺ = (I − γĀ)m − γc,
        P⁺ = P − γ(ĀP + PĀ) + γ²Q4(P) − γ(mcᵀ + cmᵀ) + γ²(R3(m) + R3(m)ᵀ) + γ²E[SᵀccᵀS],

    Q4(P) = E[SᵀAS P SᵀAS], R3(m) = E[SᵀAS m cᵀS] from the sketch.

    Parameters
    ----------
    problem : problems.QuadraticForm
        f(x) = ½xᵀAx − bᵀx + const (``Quadratic``, ``LeastSquares``).
    sketch : mastbench.sketches.Sketch
        The distribution D (any sketch with cubic/quartic contractions: not ``Gaussian``).
    x0 : array, shape (d,)
        Starting point (any backend; read on the host).
    step : float
        γ > 0.
    iters : int
        Number of steps T ≥ 0.
    shift : array, shape (d,), optional
        The shift v (0 by default).
    checkpoints : sequence of int, optional
        Iterations to record (every t in 0..T by default; e.g.
        ``mastbench.trace.checkpoints(T)`` for log-spaced ones).

    Returns
    -------
    ExactMoments

    Notes
    -----
    Cost per step O(d³) for ``Bernoulli``, ``RandK``, ``Permutation`` (marginal) and
    ``Identity``; O(N d³) for ``Discrete`` with N outcomes.
    """
    geo, step_map, y0, iters = _dsgd_setup(problem, sketch, shift, x0, step, iters)
    points = _checkpoint_array(iters, checkpoints)
    means, seconds = _propagate(step_map, y0, np.outer(y0, y0), iters, points)
    return _moments_result(geo, points, means, seconds)


def dsgd_limit(
    problem: Any,
    sketch: Sketch,
    *,
    step: float,
    shift: Any = None,
    max_dim: int = MAX_LIMIT_DIM,
) -> ExactLimit:
    """Exact t → ∞ moments of DSGD option I (the fixed point of the map of :func:`dsgd_moments`).

    Solves m = (I − γĀ)m − γc and the linear system P = 𝒦(P) + r(m) of the second-moment
    map (``theory/mast.md`` §6.1 "asymptotic covariance" [D]).

    Raises
    ------
    ValueError
        If the recursion diverges (spectral radius ρ ≥ 1 of the second-moment map), or
        d > ``max_dim``.
    """
    d = _form(problem)[0].shape[0]
    geo, step_map, _, _ = _dsgd_setup(problem, sketch, shift, np.zeros(d), step, 0)
    m, P, rho = _fixed_point(step_map, max_dim)
    return _limit_result(geo, m, P, rho)


# -- DSGD option II: minibatches and compressors -----------------------------------------------
def quadratic_components(problem: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quadratic components (A_i, b_i, const_i) of a finite sum f = (1/n) Σ_i f_i.

    ``LeastSquares(X, y, l2)``: f_i(w) = ½(x_iᵀw − y_i)² + (l2/2)‖w‖², so A_i = x_i x_iᵀ + l2·I,
    b_i = y_i x_i, const_i = y_i²/2.

    Returns
    -------
    A_i : ndarray, shape (n, d, d)
    b_i : ndarray, shape (n, d)
    const_i : ndarray, shape (n,)
    """
    X = getattr(problem, "X", None)
    y = getattr(problem, "y", None)
    if X is None or y is None or not hasattr(problem, "l2"):
        raise TypeError(
            "components can be derived from problems.LeastSquares only; pass components="
            f"(A_i, b_i, const_i) for {type(problem).__name__}"
        )
    X = to_numpy(X).astype(float)
    y = to_numpy(y).astype(float)
    d = X.shape[1]
    A_i = np.einsum("ni,nj->nij", X, X) + problem.l2 * np.eye(d)
    return A_i, y[:, None] * X, 0.5 * y**2


def _batch_weights(n: int, batch_size: int, replacement: bool) -> tuple[float, float]:
    """(α, β) with E_B[A_B ⊗ A_B] = α Σ_i A_i⊗A_i + β A⊗A for the minibatch mean A_B."""
    b = batch_size
    if replacement:
        return 1.0 / (b * n), (b - 1) / b
    if n == 1:
        return 0.0, 1.0
    return (n - b) / (b * n * (n - 1)), (b - 1) * n / (b * (n - 1))


def _minibatch_setup(
    problem, sketch, shift, x0, step, iters, batch_size, replacement, compressor, components
):
    A, b, const, d, sketch, v, y0, step, iters = _common(problem, sketch, shift, x0, step, iters)
    A_i, b_i, const_i = quadratic_components(problem) if components is None else components
    A_i = np.asarray(A_i, dtype=float)
    b_i = np.asarray(b_i, dtype=float)
    n = A_i.shape[0]
    if A_i.shape != (n, d, d) or b_i.shape != (n, d):
        raise ValueError(
            f"components must be (A_i (n, {d}, {d}), b_i (n, {d}), const_i (n,)), "
            f"got shapes {A_i.shape}, {b_i.shape}"
        )
    scale = max(1.0, float(np.max(np.abs(A))), float(np.max(np.abs(b))))
    if (
        np.max(np.abs(A_i.mean(axis=0) - A)) > 1e-10 * scale
        or np.max(np.abs(b_i.mean(axis=0) - b)) > 1e-10 * scale
        or abs(float(np.mean(const_i)) - const) > 1e-10 * max(1.0, abs(const))
    ):
        raise ValueError("the mean of the components must equal the problem's (A, b, const)")
    batch_size = check_int("batch_size", batch_size, low=1, high=None if replacement else n)
    if compressor is not None:
        compressor = _check_sketch("compressor", compressor, d)
        if not compressor.diagonal:
            raise ValueError("compressor must be a diagonal sketch (e.g. RandK, Bernoulli)")
    alpha, beta = _batch_weights(n, batch_size, replacement)
    geo = _geometry(A, b, const, sketch.expected_sandwich(A), v)
    c_i = A_i @ v - b_i
    step_map = _SketchedStep(
        sketch,
        A,
        geo.c,
        step,
        components=(A_i, c_i),
        alpha=alpha,
        beta=beta,
        compressor=compressor,
    )
    return geo, step_map, y0, iters


def dsgd_minibatch_moments(
    problem: Any,
    sketch: Sketch,
    *,
    batch_size: int,
    x0: Any,
    step: float,
    iters: int,
    replacement: bool = False,
    compressor: Sketch | None = None,
    components: tuple[Any, Any, Any] | None = None,
    shift: Any = None,
    checkpoints: Any = None,
) -> ExactMoments:
    """Exact moments of DSGD option II: data minibatch gradient and optional compressor.

    x_{t+1} = x_t − γ C_t S_tᵀ (1/b) Σ_{i∈B_t} ∇f_i(v + S_t(x_t − v)) with S_t ~ D, a
    minibatch B_t of b components (uniform without replacement, or i.i.d. uniform with
    replacement) and an optional unbiased diagonal compressor C_t (E C = I), all independent
    (MAST arXiv 2311.16086 option II / ABC setting; ``theory/mast.md`` §3.1, §6.1 [D]).

    The batch is summed exactly: E_B[A_B ⊗ A_B] = α Σ_i A_i⊗A_i + β A⊗A with
    α = (n−b)/(b n (n−1)), β = (b−1)n/(b(n−1)) without replacement and α = 1/(bn),
    β = (b−1)/b with replacement; the compressor multiplies the γ² terms entrywise by
    E[c cᵀ] of its diagonal.  Cost per step O(n d³) with structured sketches.

    Parameters
    ----------
    problem : problems.LeastSquares or another QuadraticForm with ``components``
    sketch : Sketch
    batch_size : int
        b ≥ 1 (≤ n without replacement).
    x0, step, iters, shift, checkpoints
        As in :func:`dsgd_moments`.
    replacement : bool
        Sample the minibatch with replacement.
    compressor : Sketch, optional
        Diagonal unbiased compressor applied to the sketched gradient.
    components : (A_i, b_i, const_i), optional
        Quadratic components with f = (1/n)Σ f_i, f_i = ½xᵀA_ix − b_iᵀx + const_i; derived
        by :func:`quadratic_components` for ``LeastSquares`` when omitted.
    """
    geo, step_map, y0, iters = _minibatch_setup(
        problem, sketch, shift, x0, step, iters, batch_size, replacement, compressor, components
    )
    points = _checkpoint_array(iters, checkpoints)
    means, seconds = _propagate(step_map, y0, np.outer(y0, y0), iters, points)
    return _moments_result(geo, points, means, seconds)


def dsgd_minibatch_limit(
    problem: Any,
    sketch: Sketch,
    *,
    batch_size: int,
    step: float,
    replacement: bool = False,
    compressor: Sketch | None = None,
    components: tuple[Any, Any, Any] | None = None,
    shift: Any = None,
    max_dim: int = MAX_LIMIT_DIM,
) -> ExactLimit:
    """Exact t → ∞ moments of :func:`dsgd_minibatch_moments` (ValueError when ρ ≥ 1)."""
    A, _, _ = _form(problem)
    geo, step_map, _, _ = _minibatch_setup(
        problem,
        sketch,
        shift,
        np.zeros(A.shape[0]),
        step,
        0,
        batch_size,
        replacement,
        compressor,
        components,
    )
    m, P, rho = _fixed_point(step_map, max_dim)
    return _limit_result(geo, m, P, rho)


# -- distributed / IST ------------------------------------------------------------------------
def _distributed_setup(problems, sketches, shift, x0, step, iters):
    if len(problems) < 1:
        raise ValueError("problems must hold at least one client problem")
    forms = [_form(p, f"problems[{i}]") for i, p in enumerate(problems)]
    d = forms[0][0].shape[0]
    if any(f[0].shape != (d, d) for f in forms):
        raise ValueError("all client problems must have the same dimension")
    M = len(problems)
    v = np.zeros(d) if shift is None else _host_vector("shift", shift, d)
    y0 = _host_vector("x0", x0, d) - v
    step = check_positive("step", step)
    iters = check_int("iters", iters, low=0)
    As = [f[0] for f in forms]
    cs = [f[0] @ v - f[1] for f in forms]
    A = sum(As) / M
    b = sum(f[1] for f in forms) / M
    const = sum(f[2] for f in forms) / M
    if isinstance(sketches, Permutation):
        perm = _check_sketch("sketches", sketches, d)
        if perm.n != M:
            raise ValueError(f"the Permutation has n={perm.n} blocks but there are {M} clients")
        if perm.num_outcomes > MAX_BRANCHES:
            raise ValueError(
                f"the joint support of {perm!r} has {perm.num_outcomes} outcomes, more than "
                f"the limit {MAX_BRANCHES}"
            )
        outcomes, w = perm.support(max_outcomes=MAX_BRANCHES)
        Bsum = sum(
            outcomes[:, i, :, None] * As[i][None] * outcomes[:, i, None, :] for i in range(M)
        )
        hsum = sum(outcomes[:, i, :] * cs[i][None] for i in range(M))
        Ks = np.eye(d)[None] - step / M * Bsum
        step_map = _EnumeratedStep(Ks, -step / M * hsum, w)
        A_bar = perm.expected_average_sandwich(As)
    else:
        if len(sketches) != M:
            raise ValueError(f"sketches must hold one sketch per client ({M}), got {len(sketches)}")
        sketches = [_check_sketch(f"sketches[{i}]", s, d) for i, s in enumerate(sketches)]
        step_map = _IndependentClientsStep(sketches, As, cs, step)
        A_bar = step_map.bar_sum / M
    return _geometry(A, b, const, A_bar, v), step_map, y0, iters


def distributed_moments(
    problems: Sequence[Any],
    sketches: Sequence[Sketch] | Permutation,
    *,
    x0: Any,
    step: float,
    iters: int,
    shift: Any = None,
    checkpoints: Any = None,
) -> ExactMoments:
    """Exact moments of distributed DSGD / IST on quadratic clients f_i.

    x_{t+1} = x_t − (γ/M) Σ_i S_iᵀ ∇f_i(v + S_i(x_t − v)) (MAST arXiv 2311.16086, distributed
    method; ``theory/mast.md`` §3.2, §6.1 [D]): K = I − (γ/M)Σ_i S_iᵀA_iS_i,
    h = −(γ/M)Σ_i S_iᵀc_i with c_i = ∇f_i(v).  The MAST objective is
    f_D = (1/M)Σ_i E f_i(v + S_i(x − v)) with Hessian Ā = (1/M)Σ_i E[S_iᵀA_iS_i].

    Parameters
    ----------
    problems : sequence of QuadraticForm
        The M client objectives; f = (1/M)Σ f_i.
    sketches : sequence of M Sketch (independent clients) or a Permutation with n = M
        Independent clients use their closed-form moments (cross-client terms factorize);
        a ``Permutation`` is sampled jointly and its d!/((d/n)!)^n joint outcomes are
        enumerated.
    x0, step, iters, shift, checkpoints
        As in :func:`dsgd_moments`.
    """
    geo, step_map, y0, iters = _distributed_setup(problems, sketches, shift, x0, step, iters)
    points = _checkpoint_array(iters, checkpoints)
    means, seconds = _propagate(step_map, y0, np.outer(y0, y0), iters, points)
    return _moments_result(geo, points, means, seconds)


def distributed_limit(
    problems: Sequence[Any],
    sketches: Sequence[Sketch] | Permutation,
    *,
    step: float,
    shift: Any = None,
    max_dim: int = MAX_LIMIT_DIM,
) -> ExactLimit:
    """Exact t → ∞ moments of :func:`distributed_moments` (ValueError when ρ ≥ 1)."""
    d = _form(problems[0], "problems[0]")[0].shape[0] if len(problems) else 0
    geo, step_map, _, _ = _distributed_setup(problems, sketches, shift, np.zeros(d), step, 0)
    m, P, rho = _fixed_point(step_map, max_dim)
    return _limit_result(geo, m, P, rho)


# -- L-SVRDSG ----------------------------------------------------------------------------------
def _uniform_support(sketch: Sketch) -> np.ndarray:
    """The N matrices of a sketch uniform on a finite support, as (N, d, d)."""
    outcomes, w = sketch.support(max_outcomes=MAX_BRANCHES)
    if isinstance(sketch, Permutation):
        raise TypeError("L-SVRDSG needs a single-client sketch, not a joint Permutation")
    if not np.allclose(w, w[0], rtol=1e-12, atol=0):
        raise ValueError("L-SVRDSG needs a uniform distribution over N sketches (equal weights)")
    if sketch.diagonal:
        return np.einsum("ni,ij->nij", outcomes, np.eye(sketch.d))
    return outcomes


def _l_svrdsg_setup(problem, sketch, batch_size, prob, resample_each_step, shift, x0, step, iters):
    A, b, const, d, sketch, v, y0, step, iters = _common(problem, sketch, shift, x0, step, iters)
    S = _uniform_support(sketch)
    N = S.shape[0]
    batch_size = check_int("batch_size", batch_size, low=1, high=N)
    prob = float(check_probability("prob", prob))
    geo = _geometry(A, b, const, sketch.expected_sandwich(A), v)
    c = geo.c
    B = np.swapaxes(S, 1, 2) @ A @ S  # ∇f_j(v + y) = B_j y + e_j
    e = np.einsum("nki,k->ni", S, c)
    batches = list(itertools.combinations(range(N), batch_size))
    B_batch = np.stack([B[list(q)].mean(axis=0) for q in batches])
    e_batch = np.stack([e[list(q)].mean(axis=0) for q in batches])
    n_batch = len(batches)
    eye, zero = np.eye(d), np.zeros((d, d))
    Ks, hs, ws = [], [], []
    if resample_each_step:
        # state (y, z): y⁺ = (I − γB_j)y + γ(B_j − B_Q)z − γe_Q;  z⁺ = y (coin) or z
        count = N * n_batch * 2
        if count > MAX_BRANCHES:
            raise ValueError(f"L-SVRDSG has {count} branches per step, more than {MAX_BRANCHES}")
        for j in range(N):
            for q in range(n_batch):
                for coin, w in ((1, prob), (0, 1 - prob)):
                    if w == 0:
                        continue
                    top = np.hstack([eye - step * B[j], step * (B[j] - B_batch[q])])
                    bottom = np.hstack([eye, zero]) if coin else np.hstack([zero, eye])
                    Ks.append(np.vstack([top, bottom]))
                    hs.append(np.concatenate([-step * e_batch[q], np.zeros(d)]))
                    ws.append(w / (N * n_batch))
        m0 = np.concatenate([y0, y0])
        P0 = np.outer(m0, m0)
    else:
        # state (y, z, G): y⁺ = (I − γB_j)y + γB_j z − γG; coin: z⁺ = y, G⁺ = B_Q y + e_Q
        count = N * (1 + n_batch)
        if count > MAX_BRANCHES:
            raise ValueError(f"L-SVRDSG has {count} branches per step, more than {MAX_BRANCHES}")
        for j in range(N):
            top = np.hstack([eye - step * B[j], step * B[j], -step * eye])
            if prob < 1:
                Ks.append(
                    np.vstack([top, np.hstack([zero, eye, zero]), np.hstack([zero, zero, eye])])
                )
                hs.append(np.zeros(3 * d))
                ws.append((1 - prob) / N)
            for q in range(n_batch):
                Ks.append(
                    np.vstack(
                        [top, np.hstack([eye, zero, zero]), np.hstack([B_batch[q], zero, zero])]
                    )
                )
                hs.append(np.concatenate([np.zeros(2 * d), e_batch[q]]))
                ws.append(prob / (N * n_batch))
        # initial state: z0 = y0, G0 = B_Q y0 + e_Q over the initial minibatch Q
        states = np.stack(
            [np.concatenate([y0, y0, B_batch[q] @ y0 + e_batch[q]]) for q in range(n_batch)]
        )
        m0 = states.mean(axis=0)
        P0 = states.T @ states / n_batch
    step_map = _EnumeratedStep(np.array(Ks), np.array(hs), np.array(ws))
    H = np.einsum("nki,nkj->ij", B, B) / N  # (1/N) Σ_j B_jᵀB_j
    return geo, step_map, m0, P0, iters, H, c, step, prob


def _l_svrdsg_extra(geo, m, P, H, c, step, prob, resample):
    """Lyapunov readouts from augmented moments m (..., D), P (..., D, D)."""
    d = geo.A.shape[0]
    ys = geo.y_star
    mz, Pz = m[..., d : 2 * d], P[..., d : 2 * d, d : 2 * d]
    Cz = Pz - np.einsum("...i,j->...ij", mz, ys) - np.einsum("i,...j->...ij", ys, mz)
    Cz = Cz + np.outer(ys, ys)
    gap = np.einsum("ij,...ji->...", H, Cz)
    dist2 = geo.readouts(m[..., :d], P[..., :d, :d])["dist2"]
    extra = {"reference_gap": gap, "lyapunov": dist2 + 4 * step**2 / prob * gap}
    if not resample:
        L = np.hstack([np.zeros((d, d)), -geo.A_bar, np.eye(d)])
        err = np.einsum("ij,...jk,lk->...il", L, P, L)
        extra["reference_error"] = np.trace(err, axis1=-2, axis2=-1) - 2 * (m @ L.T) @ c + c @ c
    return extra


def l_svrdsg_moments(
    problem: Any,
    sketch: Sketch,
    *,
    batch_size: int,
    prob: float,
    x0: Any,
    step: float,
    iters: int,
    resample_each_step: bool = False,
    shift: Any = None,
    checkpoints: Any = None,
) -> ExactMoments:
    """Exact moments of L-SVRDSG (loopless variance-reduced DSGD) on a quadratic.

    D uniform on N sketches {S_j}, f_j := f_{S_j}.  ``theory/mast.md`` §3.3 [R/D/U]:

        g_t = ∇f_{j_t}(x_t) − ∇f_{j_t}(w_t) + G_t,   x_{t+1} = x_t − γ g_t,
        w.p. p: w_{t+1} = x_t, G_{t+1} = (1/b)Σ_{k∈Q_{t+1}} ∇f_k(w_{t+1}); else unchanged,

    with Q a uniform b-subset of [N] (without replacement) and G_0 from Q_0 at w_0 = x_0.
    ``resample_each_step=True`` instead draws a fresh Q_t every step, G_t = (1/b)Σ_{k∈Q_t}
    ∇f_k(w_t) (unbiased variant).  The state u = (x, w, G) (or (x, w)) is affine given
    (j_t, coin, Q); its moments are propagated by enumerating the N·(1 − p + p·C(N, b))
    weighted branches (§6.1 end).

    Returns
    -------
    ExactMoments
        With ``extra``: ``reference_gap`` = E (1/N)Σ_j‖∇f_j(w_t) − ∇f_j(x_D*)‖²,
        ``lyapunov`` Φ_t = E‖x_t − x_D*‖² + (4γ²/p)·reference_gap (the L-SVRG Lyapunov
        function, §4 T-VR), and for the fixed-minibatch variant ``reference_error`` =
        E‖G_t − ∇f_D(w_t)‖².
    """
    geo, step_map, m0, P0, iters, H, c, step, prob = _l_svrdsg_setup(
        problem, sketch, batch_size, prob, resample_each_step, shift, x0, step, iters
    )
    points = _checkpoint_array(iters, checkpoints)
    means, seconds = _propagate(step_map, m0, P0, iters, points)
    extra = _l_svrdsg_extra(geo, means, seconds, H, c, step, prob, resample_each_step)
    return _moments_result(geo, points, means, seconds, extra)


def l_svrdsg_limit(
    problem: Any,
    sketch: Sketch,
    *,
    batch_size: int,
    prob: float,
    step: float,
    resample_each_step: bool = False,
    shift: Any = None,
    max_dim: int = MAX_LIMIT_DIM,
) -> ExactLimit:
    """Exact t → ∞ moments of :func:`l_svrdsg_moments` (ValueError when ρ ≥ 1).

    The state has dimension 3d (2d when resampling), which ``max_dim`` bounds.
    """
    A, _, _ = _form(problem)
    geo, step_map, _, _, _, H, c, step, prob = _l_svrdsg_setup(
        problem, sketch, batch_size, prob, resample_each_step, shift, np.zeros(A.shape[0]), step, 0
    )
    m, P, rho = _fixed_point(step_map, max_dim)
    extra = _l_svrdsg_extra(geo, m, P, H, c, step, prob, resample_each_step)
    return _limit_result(geo, m, P, rho, extra)
