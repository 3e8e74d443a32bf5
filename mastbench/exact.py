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

Methods (each ``*_moments`` returns :class:`ExactMoments`, each ``*_limit`` :class:`ExactLimit`):

- :func:`dsgd_moments` / :func:`dsgd_limit` (and :func:`dsgd` on a MAST objective): option I;
- :func:`dsgd_minibatch_moments` / :func:`dsgd_minibatch_limit`: option II, data minibatches
  with or without replacement and an optional unbiased compressor;
- :func:`dsgd_importance_moments` / :func:`dsgd_importance_limit`: importance sampling over a
  finite sketch distribution;
- :func:`distributed_moments` / :func:`distributed_limit`: distributed DSGD, independent client
  sketches or a jointly sampled ``Permutation`` (IST);
- :func:`l_svrdsg_moments` / :func:`l_svrdsg_limit`: L-SVRDSG on the augmented state, with the
  L-SVRG Lyapunov function;
- :func:`affine_moments` / :func:`affine_limit`: any affine recursion with enumerated branches.
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

from mastbench._moment_maps import (
    EnumeratedStep,
    IndependentClientsStep,
    SketchedStep,
    checkpoint_array,
    fixed_point,
    propagate,
)
from mastbench.backend import to_numpy
from mastbench.problems.design import host_design, is_sparse
from mastbench.sketches import Permutation, Sketch
from mastbench.validation import check_int, check_positive, check_probability, host_array

__all__ = [
    "MAX_BRANCHES",
    "MAX_LIMIT_DIM",
    "ExactLimit",
    "ExactMoments",
    "affine_limit",
    "affine_moments",
    "distributed_limit",
    "distributed_moments",
    "dsgd",
    "dsgd_importance_limit",
    "dsgd_importance_moments",
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
    state_mean, state_second : ndarray of shape (C, D) and (C, D, D), or None
        For augmented-state methods (L-SVRDSG), E[u_t] and E[u_t u_tᵀ] of the whole state
        u = (y, z, G) (or (y, z) when resampling) in shifted coordinates y = x − v,
        z = w − v; None otherwise.
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
    state_mean: np.ndarray | None = None
    state_second: np.ndarray | None = None


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
    tol = 1e-8 * max(1.0, float(np.linalg.norm(b)))

    def solves(x: np.ndarray | None) -> bool:
        return x is not None and np.all(np.isfinite(x)) and np.linalg.norm(A @ x - b) <= tol

    try:
        x = np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        x = None
    if not solves(x):
        x = np.linalg.lstsq(A, b, rcond=None)[0]
        if not solves(x):
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
            "gradnorm2_D": np.einsum("...jk,kj->...", P, Ab @ Ab) + 2 * m @ (Ab @ c) + c @ c,
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


def _moments_result(geo: _Geometry, iterations, means, seconds, extra=None) -> ExactMoments:
    d = geo.A.shape[0]
    m, P = means[:, :d], seconds[:, :d, :d]
    mean, second = _x_moments(geo.v, m, P)
    augmented = means.shape[1] > d
    return ExactMoments(
        iterations=iterations,
        mean=mean,
        second=second,
        x_D_star=geo.x_D_star,
        f_D_star=geo.f_D_star,
        f_star=geo.f_star,
        A_bar=geo.A_bar,
        extra=extra or {},
        state_mean=means if augmented else None,
        state_second=seconds if augmented else None,
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


def _check_sketch(name: str, sketch: Any, d: int) -> Sketch:
    if not isinstance(sketch, Sketch):
        raise TypeError(f"{name} must be a mastbench.sketches.Sketch, got {type(sketch).__name__}")
    if sketch.d != d:
        raise ValueError(f"{name} has dimension {sketch.d}, the problem has d={d}")
    return sketch


def _start(d: int, shift, x0, step, iters):
    """The shift v, y0 = x0 − v (x0 = 0 when None: a limit has no start), step and iters."""
    v = np.zeros(d) if shift is None else host_array("shift", shift, (d,))
    x0 = np.zeros(d) if x0 is None else host_array("x0", x0, (d,))
    return v, x0 - v, check_positive("step", step), check_int("iters", iters, low=0)


def _common(problem, sketch, shift, x0, step, iters):
    A, b, const = _form(problem)
    d = A.shape[0]
    sketch = _check_sketch("sketch", sketch, d)
    v, y0, step, iters = _start(d, shift, x0, step, iters)
    return A, b, const, d, sketch, v, y0, step, iters


def _moments_from(geo: _Geometry, step_map, y0, iters, checkpoints) -> ExactMoments:
    """Propagate the moments from the deterministic start y0; read out at the checkpoints."""
    points = checkpoint_array(iters, checkpoints)
    means, seconds = propagate(step_map, y0, np.outer(y0, y0), iters, points)
    return _moments_result(geo, points, means, seconds)


# -- DSGD option I -----------------------------------------------------------------------------
def _dsgd_setup(problem, sketch, shift, x0, step, iters):
    A, b, const, _, sketch, v, y0, step, iters = _common(problem, sketch, shift, x0, step, iters)
    geo = _geometry(A, b, const, sketch.expected_sandwich(A), v)
    return geo, SketchedStep(sketch, A, geo.c, step), y0, iters


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
    setup = _dsgd_setup(problem, sketch, shift, x0, step, iters)
    return _moments_from(*setup, checkpoints)


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
    geo, step_map, _, _ = _dsgd_setup(problem, sketch, shift, None, step, 0)
    return _limit_result(geo, *fixed_point(step_map, max_dim))


def dsgd(
    objective: Any, x0: Any, *, step: float, iters: int, checkpoints: Any = None
) -> ExactMoments:
    """:func:`dsgd_moments` for a MAST objective (an object with ``problem``, ``sketch`` and
    ``shift_host``, e.g. ``problems.MASTObjective``): exact DSGD option I moments on f_D."""
    for name in ("problem", "sketch"):
        if not hasattr(objective, name):
            raise TypeError(
                f"objective must be a MAST objective with .problem, .sketch and .shift_host, "
                f"got {type(objective).__name__}"
            )
    return dsgd_moments(
        objective.problem,
        objective.sketch,
        x0=x0,
        step=step,
        iters=iters,
        shift=getattr(objective, "shift_host", None),
        checkpoints=checkpoints,
    )


# -- DSGD with importance sampling over a finite sketch distribution ---------------------------
def _importance_setup(problem, sketch, q, shift, x0, step, iters):
    A, b, const, d, sketch, v, y0, step, iters = _common(problem, sketch, shift, x0, step, iters)
    if isinstance(sketch, Permutation):
        sketch = sketch.marginal
    outcomes, w = sketch.support(max_outcomes=MAX_BRANCHES)
    S = np.einsum("ni,ij->nij", outcomes, np.eye(d)) if sketch.diagonal else outcomes
    zero = np.all(S == 0, axis=(1, 2))  # S_j = 0 contributes no gradient: q_j = 0 is allowed
    if q is None:
        q = w * np.linalg.eigvalsh(np.swapaxes(S, 1, 2) @ S)[:, -1]
        q = q / q.sum()
    else:
        q = np.asarray(to_numpy(q), dtype=float)
        if q.shape != w.shape:
            raise ValueError(f"q must have one probability per outcome, shape {w.shape}")
        if np.any(q < 0) or np.any((q == 0) & ~zero) or abs(q.sum() - 1.0) > 1e-12:
            raise ValueError(
                "q must sum to 1 and be positive on every nonzero sketch (unbiasedness)"
            )
    keep = q > 0
    S, w, q = S[keep], w[keep], q[keep]
    geo = _geometry(A, b, const, sketch.expected_sandwich(A), v)
    scale = step * w / q
    B = np.swapaxes(S, 1, 2) @ A @ S
    Ks = np.eye(d)[None] - scale[:, None, None] * B
    hs = -scale[:, None] * np.einsum("nki,k->ni", S, geo.c)
    return geo, EnumeratedStep(Ks, hs, q), y0, iters


def dsgd_importance_moments(
    problem: Any,
    sketch: Sketch,
    *,
    x0: Any,
    step: float,
    iters: int,
    q: Any = None,
    shift: Any = None,
    checkpoints: Any = None,
) -> ExactMoments:
    """Exact moments of DSGD with importance sampling over a finite sketch distribution.

    D = {(S_j, w_j)}: draw j ~ q and step x⁺ = x − γ (w_j/q_j) S_jᵀ∇f(v + S_j(x − v)), an
    unbiased estimate of ∇f_D (``theory/mast.md`` §3.1 "general sampling" [D/U]).  The default
    q_j ∝ w_j λ_max(S_jᵀS_j); any q summing to one and positive on every nonzero S_j is
    accepted (a zero sketch has zero gradient and may get q_j = 0).  The N branches are
    enumerated (cost O(N d³) per step).

    Parameters
    ----------
    problem, sketch, x0, step, iters, shift, checkpoints
        As in :func:`dsgd_moments`; ``sketch`` needs a finite support.
    q : array of shape (N,), optional
        Sampling probabilities, in the order of ``sketch.support()``.
    """
    setup = _importance_setup(problem, sketch, q, shift, x0, step, iters)
    return _moments_from(*setup, checkpoints)


def dsgd_importance_limit(
    problem: Any,
    sketch: Sketch,
    *,
    step: float,
    q: Any = None,
    shift: Any = None,
    max_dim: int = MAX_LIMIT_DIM,
) -> ExactLimit:
    """Exact t → ∞ moments of :func:`dsgd_importance_moments` (ValueError when ρ ≥ 1)."""
    geo, step_map, _, _ = _importance_setup(problem, sketch, q, shift, None, step, 0)
    return _limit_result(geo, *fixed_point(step_map, max_dim))


# -- any affine recursion with enumerated branches ---------------------------------------------
def _branches(Ks: Any, hs: Any, weights: Any) -> EnumeratedStep:
    Ks = np.asarray(to_numpy(Ks), dtype=float)
    hs = np.asarray(to_numpy(hs), dtype=float)
    w = np.asarray(to_numpy(weights), dtype=float)
    if Ks.ndim != 3 or Ks.shape[1] != Ks.shape[2] or hs.shape != Ks.shape[:2]:
        raise ValueError(
            f"Ks must have shape (N, D, D) and hs (N, D), got {Ks.shape} and {hs.shape}"
        )
    if w.shape != (Ks.shape[0],) or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-12:
        raise ValueError(f"weights must be {Ks.shape[0]} probabilities >= 0 summing to 1")
    return EnumeratedStep(Ks, hs, w)


def affine_moments(
    Ks: Any, hs: Any, weights: Any, *, u0: Any, iters: int, checkpoints: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact E[u_t], E[u_t u_tᵀ] of u_{t+1} = K u_t + h with (K, h) = (K_n, h_n) w.p. w_n, i.i.d.

    The general engine behind the enumerated methods (``theory/mast.md`` §6.1 [D]), for
    recursions not covered by the named functions.

    Parameters
    ----------
    Ks : array, shape (N, D, D)
    hs : array, shape (N, D)
    weights : array, shape (N,)
        Branch probabilities.
    u0 : array, shape (D,)
        Deterministic initial state.
    iters : int
    checkpoints : sequence of int, optional

    Returns
    -------
    iterations : ndarray, shape (C,)
    means : ndarray, shape (C, D)
    seconds : ndarray, shape (C, D, D)
    """
    step_map = _branches(Ks, hs, weights)
    u0 = host_array("u0", u0, (step_map.dim,))
    iters = check_int("iters", iters, low=0)
    points = checkpoint_array(iters, checkpoints)
    means, seconds = propagate(step_map, u0, np.outer(u0, u0), iters, points)
    return points, means, seconds


def affine_limit(
    Ks: Any, hs: Any, weights: Any, *, max_dim: int = MAX_LIMIT_DIM
) -> tuple[np.ndarray, np.ndarray, float]:
    """Stationary (E u, E uuᵀ, ρ) of the recursion of :func:`affine_moments`.

    Raises
    ------
    ValueError
        When the recursion diverges (ρ ≥ 1) or D > ``max_dim``.
    """
    return fixed_point(_branches(Ks, hs, weights), max_dim)


# -- DSGD option II: minibatches and compressors -----------------------------------------------
def quadratic_components(problem: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quadratic components (A_i, b_i, const_i) of a finite sum f = (1/n) Σ_i f_i.

    ``LeastSquares(X, y, l2)`` (dense or sparse X): f_i(w) = ½(x_iᵀw − y_i)² + (l2/2)‖w‖²,
    so A_i = x_i x_iᵀ + l2·I, b_i = y_i x_i, const_i = y_i²/2.

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
    X = host_design(X)  # dense float64 on the host: the components are dense anyway
    X = X.toarray() if is_sparse(X) else X
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
    if components is None:
        components = quadratic_components(problem)
    if not isinstance(components, tuple | list) or len(components) != 3:
        raise TypeError("components must be a tuple (A_i, b_i, const_i) of arrays")
    A_i, b_i, const_i = (np.asarray(part, dtype=float) for part in components)
    n = A_i.shape[0] if A_i.ndim == 3 else 0
    if n == 0 or A_i.shape != (n, d, d) or b_i.shape != (n, d) or const_i.shape != (n,):
        raise ValueError(
            f"components must be (A_i (n, {d}, {d}), b_i (n, {d}), const_i (n,)), "
            f"got shapes {A_i.shape}, {b_i.shape}, {const_i.shape}"
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
    step_map = SketchedStep(
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
    setup = _minibatch_setup(
        problem, sketch, shift, x0, step, iters, batch_size, replacement, compressor, components
    )
    return _moments_from(*setup, checkpoints)


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
    geo, step_map, _, _ = _minibatch_setup(
        problem, sketch, shift, None, step, 0, batch_size, replacement, compressor, components
    )
    return _limit_result(geo, *fixed_point(step_map, max_dim))


# -- distributed / IST ------------------------------------------------------------------------
def _distributed_setup(problems, sketches, shift, x0, step, iters):
    if len(problems) < 1:
        raise ValueError("problems must hold at least one client problem")
    forms = [_form(p, f"problems[{i}]") for i, p in enumerate(problems)]
    d = forms[0][0].shape[0]
    if any(f[0].shape != (d, d) for f in forms):
        raise ValueError("all client problems must have the same dimension")
    M = len(problems)
    v, y0, step, iters = _start(d, shift, x0, step, iters)
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
        step_map = EnumeratedStep(Ks, -step / M * hsum, w)
        A_bar = perm.expected_average_sandwich(As)
    else:
        if len(sketches) != M:
            raise ValueError(f"sketches must hold one sketch per client ({M}), got {len(sketches)}")
        sketches = [_check_sketch(f"sketches[{i}]", s, d) for i, s in enumerate(sketches)]
        step_map = IndependentClientsStep(sketches, As, cs, step)
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
    setup = _distributed_setup(problems, sketches, shift, x0, step, iters)
    return _moments_from(*setup, checkpoints)


def distributed_limit(
    problems: Sequence[Any],
    sketches: Sequence[Sketch] | Permutation,
    *,
    step: float,
    shift: Any = None,
    max_dim: int = MAX_LIMIT_DIM,
) -> ExactLimit:
    """Exact t → ∞ moments of :func:`distributed_moments` (ValueError when ρ ≥ 1)."""
    geo, step_map, _, _ = _distributed_setup(problems, sketches, shift, None, step, 0)
    return _limit_result(geo, *fixed_point(step_map, max_dim))


# -- L-SVRDSG ----------------------------------------------------------------------------------
def _uniform_support(sketch: Sketch) -> np.ndarray:
    """The N matrices of a sketch uniform on a finite support, as (N, d, d)."""
    if isinstance(sketch, Permutation):
        raise TypeError("L-SVRDSG needs a single-client sketch, not a joint Permutation")
    outcomes, w = sketch.support(max_outcomes=MAX_BRANCHES)
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
    batches = np.array(list(itertools.combinations(range(N), batch_size)))
    B_batch, e_batch = B[batches].mean(axis=1), e[batches].mean(axis=1)
    n_batch = len(batches)
    eye, zero = np.eye(d), np.zeros((d, d))
    if resample_each_step:
        # state (y, z): y⁺ = (I − γB_j)y + γ(B_j − B_Q)z − γe_Q;  z⁺ = y (coin) or z
        count = N * n_batch * 2
        if count > MAX_BRANCHES:
            raise ValueError(f"L-SVRDSG has {count} branches per step, more than {MAX_BRANCHES}")
        # branches (j, Q, coin) in this order, a coin of probability 0 left out
        coins = [(coin, w) for coin, w in ((1, prob), (0, 1 - prob)) if w != 0]
        top = np.concatenate(
            [
                np.broadcast_to((eye - step * B)[:, None], (N, n_batch, d, d)),
                step * (B[:, None] - B_batch[None]),
            ],
            axis=-1,
        )
        bottoms = np.stack(
            [np.hstack([eye, zero]) if coin else np.hstack([zero, eye]) for coin, _ in coins]
        )
        tops = np.broadcast_to(top[:, :, None], (N, n_batch, len(coins), d, 2 * d))
        Ks = np.concatenate(
            [tops, np.broadcast_to(bottoms, (N, n_batch, len(coins), d, 2 * d))], axis=-2
        ).reshape(-1, 2 * d, 2 * d)
        h = np.concatenate([-step * e_batch, np.zeros((n_batch, d))], axis=-1)
        hs = np.repeat(np.tile(h, (N, 1)), len(coins), axis=0)
        ws = np.tile([w / (N * n_batch) for _, w in coins], N * n_batch)
        m0 = np.concatenate([y0, y0])
        P0 = np.outer(m0, m0)
    else:
        # state (y, z, G): y⁺ = (I − γB_j)y + γB_j z − γG; coin: z⁺ = y, G⁺ = B_Q y + e_Q
        count = N * (1 + n_batch)
        if count > MAX_BRANCHES:
            raise ValueError(f"L-SVRDSG has {count} branches per step, more than {MAX_BRANCHES}")
        # per j: the branch without coin (when p < 1), then one per minibatch Q
        top = np.concatenate(
            [eye - step * B, step * B, np.broadcast_to(-step * eye, (N, d, d))], axis=-1
        )
        stay = np.vstack([np.hstack([zero, eye, zero]), np.hstack([zero, zero, eye])])
        reset = np.concatenate(
            [
                np.broadcast_to(np.hstack([eye, zero, zero]), (n_batch, d, 3 * d)),
                np.concatenate([B_batch, np.zeros((n_batch, d, 2 * d))], axis=-1),
            ],
            axis=-2,
        )
        h_reset = np.concatenate([np.zeros((n_batch, 2 * d)), e_batch], axis=-1)
        w_reset = np.full(n_batch, prob / (N * n_batch))
        if prob < 1:
            reset = np.concatenate([stay[None], reset])
            h_reset = np.concatenate([np.zeros((1, 3 * d)), h_reset])
            w_reset = np.concatenate([[(1 - prob) / N], w_reset])
        n_per_j = reset.shape[0]
        Ks = np.concatenate(
            [
                np.broadcast_to(top[:, None], (N, n_per_j, d, 3 * d)),
                np.broadcast_to(reset[None], (N, n_per_j, 2 * d, 3 * d)),
            ],
            axis=-2,
        ).reshape(-1, 3 * d, 3 * d)
        hs = np.tile(h_reset, (N, 1))
        ws = np.tile(w_reset, N)
        # initial state: z0 = y0, G0 = B_Q y0 + e_Q over the initial minibatch Q
        states = np.concatenate(
            [
                np.broadcast_to(y0, (n_batch, d)),
                np.broadcast_to(y0, (n_batch, d)),
                B_batch @ y0 + e_batch,
            ],
            axis=-1,
        )
        m0 = states.mean(axis=0)
        P0 = states.T @ states / n_batch
    step_map = EnumeratedStep(Ks, hs, ws)
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
    points = checkpoint_array(iters, checkpoints)
    means, seconds = propagate(step_map, m0, P0, iters, points)
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
    geo, step_map, _, _, _, H, c, step, prob = _l_svrdsg_setup(
        problem, sketch, batch_size, prob, resample_each_step, shift, None, step, 0
    )
    m, P, rho = fixed_point(step_map, max_dim)
    extra = _l_svrdsg_extra(geo, m, P, H, c, step, prob, resample_each_step)
    return _limit_result(geo, m, P, rho, extra)
