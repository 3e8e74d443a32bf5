"""Exact moments of a method that declares a moment map: :func:`moments` and :func:`limit`.

A method whose update is affine in the iterate on quadratics (the MAST methods of
:mod:`mastbench.algorithms.mast`) declares

- ``moment_map(problem)``: a :class:`~mastbench.exact.moment_maps.MomentMap` of its state u
  (u = y = x − v, or an augmented state whose first d coordinates are y), and
- ``moment_objective(problem)``: the MAST objective f_D it minimizes
  (:class:`~mastbench.problems.MASTObjective`, or the distributed objective), which alone
  gives the geometry of f_D: Ā, x_D*, f_D*, and of f: A, c = ∇f(v), f(v), f*.

The engine propagates the moments from the deterministic start and reads out, for every
requested iteration t (``theory/mast.md`` §2.1, §6.1 [D]),

    dist2       = E‖x_t − x_D*‖²      = tr P − 2y*ᵀm + ‖y*‖²,   y* := x_D* − v
    subopt_D    = E f_D(x_t) − f_D*   = cᵀm + ½ tr(ĀP) − ½ cᵀy*
    subopt      = E f(x_t) − f*       = f(v) + cᵀm + ½ tr(AP) − f*
    gradnorm2_D = E‖∇f_D(x_t)‖²       = tr(ĀPĀ) + 2cᵀĀm + ‖c‖²

with m = E y_t, P = E y_t y_tᵀ.  :func:`limit` solves for the fixed point of the map.  No
Monte-Carlo noise enters anywhere.  :func:`affine_moments` / :func:`affine_limit` serve any
affine recursion given by enumerated branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mastbench.backend import to_numpy
from mastbench.exact.moment_maps import (
    EnumeratedStep,
    MomentMap,
    checkpoint_array,
    fixed_point,
    propagate,
)
from mastbench.problems.design import host_design, is_sparse
from mastbench.validation import check_int, host_array

__all__ = [
    "MAX_BRANCHES",
    "MAX_LIMIT_DIM",
    "ExactLimit",
    "ExactMoments",
    "Geometry",
    "affine_limit",
    "affine_moments",
    "limit",
    "moments",
    "quadratic_components",
]

#: Largest state dimension for which :func:`limit` assembles the (D², D²) second-moment map.
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


# -- geometry of f and f_D, read from the MAST objective ---------------------------------------
@dataclass(frozen=True)
class Geometry:
    """f(v + y) = f(v) + cᵀy + ½yᵀAy and f_D(v + y) = f_D(v) + cᵀy + ½yᵀĀy on the host.

    Attributes
    ----------
    A, c, f_v, f_star : the Hessian of f, c = ∇f(v), f(v) and f* = inf f.
    A_bar, y_star, f_D_star : Ā = ∇²f_D, y* = x_D* − v for its minimizer x_D*, and f_D*.
    v : the shift.
    """

    A: np.ndarray
    c: np.ndarray
    f_v: float
    f_star: float
    A_bar: np.ndarray
    y_star: np.ndarray
    f_D_star: float
    v: np.ndarray

    @classmethod
    def of(cls, objective: Any) -> Geometry:
        """The geometry of a quadratic MAST objective (``problems.MASTObjective`` or the
        distributed objective of :mod:`mastbench.algorithms.mast`)."""
        return cls(
            A=objective.problem_hessian,
            c=objective.c_shift,
            f_v=float(objective.f_shift),
            f_star=float(objective.problem_f_star),
            A_bar=objective.A_bar,
            y_star=objective.y_star_host,
            f_D_star=float(objective.f_star),
            v=objective.shift_host,
        )

    @property
    def x_D_star(self) -> np.ndarray:
        """v + y*."""
        return self.v + self.y_star

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


def _x_moments(v: np.ndarray, m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[x], E[xxᵀ] from y = x − v moments."""
    mean = m + v
    second = P + np.einsum("...i,j->...ij", m, v) + np.einsum("i,...j->...ij", v, m)
    return mean, second + np.outer(v, v)


def _moments_result(geo: Geometry, iterations, means, seconds, extra) -> ExactMoments:
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
        extra=extra,
        state_mean=means if augmented else None,
        state_second=seconds if augmented else None,
        **geo.readouts(m, P),
    )


def _limit_result(geo: Geometry, m, P, rho, extra) -> ExactLimit:
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
        extra={k: float(v) for k, v in extra.items()},
        **read,
    )


# -- the engine --------------------------------------------------------------------------------
def _declared(method: Any, problem: Any) -> tuple[MomentMap, Geometry]:
    if not callable(getattr(method, "moment_map", None)):
        raise TypeError(
            f"{type(method).__name__} declares no moment map (its update is not affine in the "
            "iterate on quadratics), so it has no exact moments"
        )
    step_map = method.moment_map(problem)
    return step_map, Geometry.of(method.moment_objective(problem))


def moments(
    method: Any, problem: Any, x0: Any, iters: int, checkpoints: Any = None
) -> ExactMoments:
    """Exact moments of ``method`` run on the quadratic ``problem`` from the deterministic x0.

    Parameters
    ----------
    method : Method with ``moment_map`` and ``moment_objective``
        E.g. :class:`~mastbench.algorithms.mast.DSGD` (options I and II),
        :class:`~mastbench.algorithms.mast.DSGDImportance`,
        :class:`~mastbench.algorithms.mast.DistributedDSGD`,
        :class:`~mastbench.algorithms.mast.LSVRDSG`.
    problem : QuadraticForm (a sequence of them for the distributed method)
        f(x) = ½xᵀAx − bᵀx + const.
    x0 : array, shape (d,), or None
        Starting point x_0 (any backend; read on the host); ``None`` is 0.
    iters : int
        Number of steps T ≥ 0.
    checkpoints : sequence of int, optional
        Iterations to record (every t in 0..T by default; e.g.
        ``mastbench.trace.checkpoints(T)`` for log-spaced ones).

    Returns
    -------
    ExactMoments
        With the method's own readouts in ``extra`` (``MomentMap.readouts``).

    Raises
    ------
    TypeError
        If ``method`` declares no moment map, or ``problem`` is not quadratic.
    ValueError
        For an ``x0``, ``iters`` or ``checkpoints`` out of range, or a problem the method's
        moment map does not accept (named in the message).
    """
    step_map, geo = _declared(method, problem)
    d = geo.v.size
    y0 = (np.zeros(d) if x0 is None else host_array("x0", x0, (d,))) - geo.v
    iters = check_int("iters", iters, low=0)
    points = checkpoint_array(iters, checkpoints)
    m0, P0 = step_map.start(y0)
    means, seconds = propagate(step_map, m0, P0, iters, points)
    return _moments_result(geo, points, means, seconds, step_map.readouts(geo, means, seconds))


def limit(method: Any, problem: Any, *, max_dim: int = MAX_LIMIT_DIM) -> ExactLimit:
    """Exact t → ∞ moments of ``method`` on ``problem``: the fixed point of its moment map.

    Solves m = E[K]m + E[h] and the linear system of the second-moment map
    (``theory/mast.md`` §6.1 "asymptotic covariance" [D]).

    Raises
    ------
    ValueError
        If the recursion diverges (spectral radius ρ ≥ 1 of the second-moment map), or the
        state dimension exceeds ``max_dim``.
    """
    step_map, geo = _declared(method, problem)
    m, P, rho = fixed_point(step_map, max_dim)
    return _limit_result(geo, m, P, rho, step_map.readouts(geo, m, P))


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
    recursions no method declares.

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


# -- quadratic components of a finite sum ------------------------------------------------------
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
            f"quadratic components can be derived from problems.LeastSquares only, got "
            f"{type(problem).__name__}"
        )
    X = host_design(X)  # dense float64 on the host: the components are dense anyway
    X = X.toarray() if is_sparse(X) else X
    y = to_numpy(y).astype(float)
    d = X.shape[1]
    A_i = np.einsum("ni,nj->nij", X, X) + problem.l2 * np.eye(d)
    return A_i, y[:, None] * X, 0.5 * y**2
