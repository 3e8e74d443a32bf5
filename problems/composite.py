"""Composite objectives F = f + ψ with the exact stationarity measure and a certified W*.

F(W) = f(W) + ψ(W) with f a smooth :class:`problems.base.Problem` (usually a finite sum) and ψ
a regularizer of :mod:`problems.regularizers`.  The stationarity measure is exact:
dist(0, ∂F(W)) = dist(0, ∇f(W) + ∂ψ(W)) (ramda.md §9).  The minimizer W* is computed on the
host in float64 by FISTA with adaptive (gradient) restart, then polished by Newton's method
on the smooth restriction of F to the identified support, until dist(0, ∂F(W*)) ≤
tol·max(1, ‖∇f(0)‖); the achieved distance is stored as :attr:`Composite.certificate`.

Reference: Huang & Lee, arXiv 2403.14398, §5 (Theorem 3 and its nondegeneracy condition
−∇f(W*) ∈ relint ∂ψ(W*), which for the group lasso reads ‖∇_g f(W*)‖ < λ_g for g ∉ S*).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.base import Problem
from mastbench.problems.regularizers import L1, GroupLasso, Regularizer, Zero

from mastbench.backend import to_numpy

__all__ = [
    "Composite",
    "CompositeSolution",
    "minimize_composite",
    "newton_polish",
    "solve_composite",
]


def _fista(
    grad: Any, prox: Any, dist: Any, x0: np.ndarray, L: float, tol: float, max_iter: int
) -> tuple[np.ndarray, int]:
    """FISTA with step 1/L and the gradient restart of O'Donoghue & Candès (2015).

    Returns the last iterate and the number of iterations run.
    """
    x = y = np.array(x0, dtype=float)
    momentum = 1.0
    it = -1
    for it in range(max_iter):
        x_new = prox(y - grad(y) / L, 1.0 / L)
        if (y - x_new) @ (x_new - x) > 0:
            momentum = 1.0
            y = x_new
        else:
            nxt = 0.5 * (1 + np.sqrt(1 + 4 * momentum**2))
            y = x_new + (momentum - 1) / nxt * (x_new - x)
            momentum = nxt
        x = x_new
        if it % 50 == 49 and dist(x) <= tol:
            break
    return x, it + 1


class Composite:
    """F(W) = f(W) + ψ(W): value, exact stationarity, W*, F*, S* and the nondegeneracy margin.

    Parameters
    ----------
    f : Problem
        The smooth part (a :class:`~problems.base.FiniteSum` for stochastic algorithms).
    psi : Regularizer
        The nonsmooth part, with dimension matching ``f.d`` where it has one.
    tol : float
        Relative accuracy of W*: dist(0, ∂F(W*)) ≤ tol·max(1, ‖∇f(0)‖).

    Attributes
    ----------
    d, xp, dtype, device
        Those of ``f``.
    """

    def __init__(self, f: Problem, psi: Regularizer, *, tol: float = 1e-12):
        if not isinstance(f, Problem):
            raise TypeError(f"f must be a problems.Problem, got {type(f).__name__}")
        if not isinstance(psi, Regularizer):
            raise TypeError(f"psi must be a problems.regularizers.Regularizer, got {psi!r}")
        if getattr(psi, "d", f.d) != f.d:
            raise ValueError(f"psi has dimension {psi.d} but f has d={f.d}")
        if not tol > 0:
            raise ValueError(f"tol must be positive, got {tol}")
        self.f, self.psi, self.tol = f, psi, float(tol)
        self.d, self.xp = f.d, f.xp

    @property
    def dtype(self) -> Any:
        return self.f.dtype

    @property
    def device(self) -> Any:
        return self.f.device

    @property
    def n(self) -> int:
        """Number of components of a finite-sum f."""
        return self.f.n

    def asarray(self, x: Any) -> Any:
        """Convert to the namespace, dtype and device of f."""
        return self.f.asarray(x)

    # -- oracles --------------------------------------------------------------------------
    def value(self, W: Any) -> Any:
        """F(W), a scalar or (R,)."""
        return self.f.value(W) + self.psi.value(W)

    def grad_f(self, W: Any) -> Any:
        """∇f(W)."""
        return self.f.grad(W)

    def stationarity2(self, W: Any) -> Any:
        """dist(0, ∂F(W))², exact, a scalar or (R,)."""
        return self.psi.dist2(W, self.f.grad(W))

    def stationarity(self, W: Any) -> Any:
        """dist(0, ∂F(W)), exact, a scalar or (R,)."""
        return self.xp.sqrt(self.stationarity2(W))

    def support(self, W: Any) -> Any:
        """Active structures of W (nonzero groups), boolean (..., G)."""
        return self.psi.support(W)

    def support_errors(self, W: Any) -> Any:
        """Number of structures whose activity differs from S*, shape () or (R,)."""
        xp = self.xp
        star = xp.asarray(self.support_star, device=self.device)
        return xp.sum(xp.astype(self.support(W) != star, self.dtype), axis=-1)

    # -- the certified solution ---------------------------------------------------------
    def _grad_host(self, w: np.ndarray) -> np.ndarray:
        return self.f.grad_host(w)

    def _dist_host(self, w: np.ndarray) -> float:
        return float(np.sqrt(self.psi.dist2(w, self._grad_host(w))))

    @cached_property
    def _solution(self) -> tuple[np.ndarray, float]:
        return solve_composite(self, tol=self.tol)

    @property
    def W_star_host(self) -> np.ndarray:
        """W* as float64 NumPy."""
        return self._solution[0]

    @cached_property
    def W_star(self) -> Any:
        """W* in the namespace and device of f."""
        return self.asarray(self.W_star_host)

    @cached_property
    def F_star(self) -> float:
        """F* = F(W*), in float64 whatever the dtype of f (``f.value_host``)."""
        return float(self.f.value_host(self.W_star_host)) + float(self.psi.value(self.W_star_host))

    @property
    def certificate(self) -> float:
        """dist(0, ∂F(W*)) achieved by the solver."""
        return self._solution[1]

    @cached_property
    def support_star(self) -> np.ndarray:
        """S*: the active structures of W* (boolean NumPy array)."""
        return np.asarray(self.psi.support(self.W_star_host))

    @cached_property
    def nondegeneracy_margin(self) -> float:
        """δ = min_{g∉S*} (λ_g − ‖∇_g f(W*)‖) (+inf when every group is active).

        δ > 0 is the nondegeneracy condition −∇f(W*) ∈ relint ∂ψ(W*) of Theorem 3.
        """
        g = self._grad_host(self.W_star_host)
        if isinstance(self.psi, GroupLasso):
            norms = np.asarray(self.psi.group_norms(g))
            lam = self.psi.thresholds()
        elif isinstance(self.psi, L1):
            norms, lam = np.abs(g), np.full(self.d, self.psi.lam)
        else:
            raise NotImplementedError(f"no nondegeneracy margin for {self.psi!r}")
        off = ~self.support_star
        return float(np.min(lam[off] - norms[off])) if np.any(off) else float("inf")

    def __repr__(self) -> str:
        return f"Composite({self.f!r}, {self.psi!r})"


def _polish_coordinates(psi: Regularizer, w: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Coordinates on which F is smooth near w, and the active groups of a group lasso."""
    if isinstance(psi, GroupLasso):
        active = [k for k, g in enumerate(psi.groups) if np.linalg.norm(w[g]) > 0]
        idx = np.concatenate([psi.groups[k] for k in active] + [psi.free]).astype(int)
        return np.sort(idx), active
    if isinstance(psi, L1):
        return np.flatnonzero(w != 0), []
    return np.arange(w.size), []


def newton_polish(problem: Composite, w: np.ndarray, *, max_steps: int = 50) -> np.ndarray:
    """Newton's method on F restricted to the support of w, where F is smooth.

    The support is the active groups of a :class:`~problems.regularizers.GroupLasso` with its
    free coordinates, the nonzero coordinates for :class:`~problems.regularizers.L1`, every
    coordinate for :class:`~problems.regularizers.Zero`.  With g and H the gradient and
    Hessian of F on the support, the step is z ← z − s·H⁻¹g, where s halves until

    * F(z − sH⁻¹g) ≤ F(z) − 10⁻⁴·s·gᵀH⁻¹g (Armijo), while the Newton decrement gᵀH⁻¹g
      exceeds 10⁻¹⁰·(1 + |F(z)|);
    * ‖g(z − sH⁻¹g)‖ < ‖g(z)‖ (the stationarity measure on the support decreases) once it
      does not: there differences of F are at its round-off level and cannot rank steps
      (as in :func:`problems.logistic.newton`).

    A step that would zero an active group is rejected (F is not smooth there).  Stops when
    ‖g‖ ≤ 10⁻¹⁵·max(1, ‖z‖), when no s ≥ 10⁻¹⁰ is accepted, or after ``max_steps`` steps.
    """
    psi, f, d = problem.psi, problem.f, problem.d
    w = np.asarray(w, dtype=float)
    idx, active = _polish_coordinates(psi, w)
    if idx.size == 0:
        return w
    lam = psi.thresholds() if isinstance(psi, GroupLasso) else None

    def embed(z: np.ndarray) -> np.ndarray:
        full = np.zeros(d)
        full[idx] = z
        return full

    def value(z: np.ndarray) -> float:
        full = embed(z)
        return float(f.value_host(full)) + float(psi.value(full))

    def keeps_support(z: np.ndarray) -> bool:
        full = embed(z)
        return all(np.linalg.norm(full[psi.groups[k]]) > 0 for k in active)

    def gradient(z: np.ndarray) -> np.ndarray:
        full = embed(z)
        g = problem._grad_host(full)
        for k in active:
            gi = psi.groups[k]
            g[gi] += lam[k] * full[gi] / np.linalg.norm(full[gi])
        if isinstance(psi, L1):
            g = g + psi.lam * np.sign(full)
        return g[idx]

    def hessian(z: np.ndarray) -> np.ndarray:
        full = embed(z)
        # a private copy: f.hess may hand out f's own cached matrix (a quadratic form's),
        # and adding the penalty's curvature into it in place would change f itself
        H = np.array(to_numpy(f.hess(f.asarray(full))), dtype=float)
        for k in active:
            gi = psi.groups[k]
            wg = full[gi]
            nrm = np.linalg.norm(wg)
            H[np.ix_(gi, gi)] += lam[k] * (np.eye(gi.size) / nrm - np.outer(wg, wg) / nrm**3)
        return H[np.ix_(idx, idx)]

    z = w[idx].copy()
    g = gradient(z)
    for _ in range(max_steps):
        g_norm = float(np.linalg.norm(g))
        if g_norm <= 1e-15 * max(1.0, float(np.linalg.norm(z))):
            break
        try:
            direction = np.linalg.solve(hessian(z), g)
        except np.linalg.LinAlgError:
            break
        fz, decrement2, step = value(z), float(g @ direction), 1.0
        by_value = decrement2 > 1e-10 * (1.0 + abs(fz))
        while step >= 1e-10:
            trial = z - step * direction
            if keeps_support(trial):
                g_trial = gradient(trial)
                if (
                    value(trial) <= fz - 1e-4 * step * decrement2
                    if by_value
                    else float(np.linalg.norm(g_trial)) < g_norm
                ):
                    break
            step *= 0.5
        else:
            break
        z, g = trial, g_trial
    return embed(z)


@dataclass(frozen=True)
class CompositeSolution:
    """W* of a :class:`Composite` with its certificate.

    Attributes
    ----------
    x : numpy.ndarray
        W* (host float64).
    certificate : float
        dist(0, ∂F(W*)) achieved.
    iterations : int
        FISTA iterations used (over all rounds).
    """

    x: np.ndarray
    certificate: float
    iterations: int


def minimize_composite(
    problem: Composite,
    *,
    tol: float = 1e-12,
    max_iter: int = 200_000,
    x0: np.ndarray | None = None,
) -> CompositeSolution:
    """W* of F = f + ψ to dist(0, ∂F(W*)) ≤ tol·max(1, ‖∇f(0)‖), in float64 on the host.

    From ``x0`` (default 0): FISTA with gradient restart (step 1/L) until the distance stalls
    or meets the target, then :func:`newton_polish` on the smooth restriction of F to the
    identified support (for the group lasso, ℓ1 and ψ = 0; a pure FISTA run otherwise),
    alternated (at most 8 rounds of at most ``max_iter`` FISTA iterations) until the target
    is met.

    Raises
    ------
    ValueError
        If ``x0`` is not a finite vector of length d.
    RuntimeError
        If the target accuracy is not reached.
    """
    if not isinstance(problem, Composite):
        raise TypeError(f"problem must be a Composite, got {type(problem).__name__}")
    psi, d = problem.psi, problem.d
    if x0 is None:
        w = np.zeros(d)
    else:
        w = np.array(to_numpy(x0), dtype=float)
        if w.shape != (d,) or not np.all(np.isfinite(w)):
            raise ValueError(f"x0 must be a finite vector of shape ({d},), got shape {w.shape}")
    scale = max(1.0, float(np.linalg.norm(problem._grad_host(np.zeros(d)))))
    target = tol * scale
    L = float(problem.f.L)
    smooth_restriction = isinstance(psi, GroupLasso | L1 | Zero)
    iterations = 0
    for _ in range(8):
        w, used = _fista(
            problem._grad_host,
            lambda y, t: np.asarray(psi.prox(y, t)),
            problem._dist_host,
            w,
            L,
            max(target, 1e-7 * scale) if smooth_restriction else target,
            max_iter,
        )
        iterations += used
        if smooth_restriction:
            w = newton_polish(problem, w)
        cert = problem._dist_host(w)
        if cert <= target:
            return CompositeSolution(w, cert, iterations)
    raise RuntimeError(
        f"solve_composite: dist(0, ∂F) = {cert:.3e} > target {target:.1e} for {problem!r}"
    )


def solve_composite(
    problem: Composite, *, tol: float = 1e-12, max_iter: int = 200_000
) -> tuple[np.ndarray, float]:
    """(W*, dist(0, ∂F(W*))) by :func:`minimize_composite` from 0.

    Raises
    ------
    RuntimeError
        If the target accuracy is not reached.
    """
    sol = minimize_composite(problem, tol=tol, max_iter=max_iter)
    return sol.x, sol.certificate
