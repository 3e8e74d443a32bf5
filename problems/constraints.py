"""Compact convex sets with exact linear minimization oracles (LMOs), for Frank-Wolfe.

Every set offers, on any array API namespace and batched over an (R, d) stack of points:

* ``lmo(g)``: one minimizer s of ⟨g, s⟩ over the set (a vertex, ties broken towards the
  first index, always feasible — never the sum of several tied vertices);
* ``support_value(g)``: min over the set of ⟨g, s⟩ (minus the dual norm of g for balls);
* ``project(x)``: the Euclidean projection;
* ``contains(x, atol)``: membership;
* ``diameter``: the Euclidean diameter;
* ``support(x)``: the number of atoms x uses (nonzeros, nonzero groups, or rank);
* ``quadratic_curvature(H)``: the exact curvature constant C_f = sup_{d ∈ D−D} dᵀHd of a
  quadratic with Hessian H over the set (``shared/theory/frank_wolfe.md`` §1).

Conventions: the LMO takes the gradient g (not −g as in copt/chop) and returns the point s,
not the direction s − x.  :func:`curvature_constant` gives C_f for quadratic and logistic
problems, and :func:`constrained_minimum` computes f* over a set by projected FISTA with
restart, certified by the Frank-Wolfe gap.
"""

from __future__ import annotations

import itertools
import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from mastbench.problems.base import Problem

from mastbench.backend import array_namespace, device_of, to_numpy
from mastbench.validation import check_int, check_matrix_shape, check_positive

__all__ = [
    "ConstrainedSolution",
    "Constraint",
    "GroupL1Ball",
    "L1Ball",
    "L2Ball",
    "LInfBall",
    "NuclearBall",
    "Simplex",
    "constrained_minimum",
    "curvature_constant",
]


def _batched(x: Any) -> tuple[Any, bool]:
    """``x`` as an (R, d) stack and whether it was a single (d,) point."""
    xp = array_namespace(x)
    if x.ndim == 1:
        return xp.reshape(x, (1, x.shape[0])), True
    if x.ndim != 2:
        raise ValueError(f"expected shape (d,) or (R, d), got {tuple(x.shape)}")
    return x, False


def _unbatch(xp: Any, x: Any, single: bool) -> Any:
    return x[0, ...] if single else x


def _one_hot(xp: Any, index: Any, d: int, value: Any, like: Any) -> Any:
    """(R, d) array with ``value[r]`` at column ``index[r]`` and zeros elsewhere."""
    cols = xp.arange(d, device=device_of(like))
    hit = cols[None, :] == index[:, None]
    return xp.where(hit, value[:, None], 0.0)


def _pick(xp: Any, values: Any, index: Any) -> Any:
    """values[r, index[r]] for an (R, d) array and an (R,) integer index, O(R)."""
    return xp.take_along_axis(values, index[:, None], axis=1)[:, 0]


def _project_l1(x: Any, radius: float) -> Any:
    """Euclidean projection of each row of x onto the ℓ1 ball (Duchi et al. 2008, by sorting)."""
    xp = array_namespace(x)
    d = x.shape[1]
    a = xp.abs(x)
    u = xp.sort(a, axis=1, descending=True)
    css = xp.cumulative_sum(u, axis=1)
    k = xp.arange(1, d + 1, dtype=x.dtype, device=device_of(x))
    cond = u - (css - radius) / k > 0
    rho = xp.sum(xp.astype(cond, xp.int64), axis=1)
    rho = xp.where(rho > 0, rho, xp.ones_like(rho))
    theta = _pick(xp, (css - radius) / k, rho - 1)
    theta = xp.where(xp.sum(a, axis=1) <= radius, 0.0, theta)
    return xp.sign(x) * xp.maximum(a - theta[:, None], 0.0)


def _project_simplex(x: Any, radius: float) -> Any:
    """Euclidean projection of each row of x onto {s ≥ 0, Σ s = radius} (sorting)."""
    xp = array_namespace(x)
    d = x.shape[1]
    u = xp.sort(x, axis=1, descending=True)
    css = xp.cumulative_sum(u, axis=1)
    k = xp.arange(1, d + 1, dtype=x.dtype, device=device_of(x))
    cond = u - (css - radius) / k > 0
    rho = xp.sum(xp.astype(cond, xp.int64), axis=1)
    theta = _pick(xp, (css - radius) / k, rho - 1)
    return xp.maximum(x - theta[:, None], 0.0)


class Constraint:
    """A compact convex set D ⊂ R^d with an exact LMO (see the module docstring)."""

    radius: float
    #: Whether the set is a polytope with an explicit vertex list (away / pairwise FW).
    polytope: bool = False

    def lmo(self, g: Any) -> Any:
        """argmin_{s ∈ D} ⟨g, s⟩ for g of shape (d,) or (R, d), one vertex per row."""
        g2, single = _batched(g)
        return _unbatch(array_namespace(g), self._lmo(g2), single)

    def support_value(self, g: Any) -> Any:
        """min_{s ∈ D} ⟨g, s⟩, a scalar or an (R,) array."""
        xp = array_namespace(g)
        return xp.sum(g * self.lmo(g), axis=-1)

    def gap(self, g: Any, x: Any) -> Any:
        """The Frank-Wolfe gap max_{s ∈ D} ⟨g, x − s⟩ = ⟨g, x⟩ − min_s ⟨g, s⟩."""
        xp = array_namespace(g)
        return xp.sum(g * x, axis=-1) - self.support_value(g)

    def project(self, x: Any) -> Any:
        """Euclidean projection onto D, for x of shape (d,) or (R, d)."""
        x2, single = _batched(x)
        return _unbatch(array_namespace(x), self._project(x2), single)

    def contains(self, x: Any, atol: float = 1e-12) -> bool:
        """Whether every row of x lies in D up to ``atol`` (relative to the radius)."""
        x2, _ = _batched(x)
        return bool(np.all(to_numpy(self._violation(x2)) <= atol * max(1.0, self.radius)))

    def support(self, x: Any) -> Any:
        """Number of nonzero coordinates of each row (an (R,) or scalar int array)."""
        xp = array_namespace(x)
        return xp.sum(xp.astype(x != 0, xp.int64), axis=-1)

    @property
    def diameter(self) -> float:
        """Euclidean diameter max_{x, y ∈ D} ‖x − y‖₂."""
        raise NotImplementedError

    def quadratic_curvature(self, H: np.ndarray) -> float:
        """C_f = sup_{x, s ∈ D} (s − x)ᵀH(s − x) of f with constant Hessian H (exact)."""
        raise NotImplementedError

    def vertex_list(self, d: int, xp: Any = None, device: Any = None, dtype: Any = None) -> Any:
        """The (V, d) vertex list of a polytope in dimension d: a float64 NumPy array, or an
        array of namespace ``xp`` on ``device`` of ``dtype`` (default float64)."""
        raise TypeError(f"{type(self).__name__} is not a polytope with a vertex list")

    def diameter_in(self, d: int) -> float:
        """Euclidean diameter in dimension d (equal to :attr:`diameter` except for the box)."""
        return self.diameter

    def decompose(self, x: Any) -> Any:
        """Convex weights (R, V) over :meth:`vertex_list` reproducing each row of x."""
        raise TypeError(f"{type(self).__name__} is not a polytope with a vertex list")

    def _check_dim(self, d: int) -> None:
        expected = getattr(self, "d", None)
        if expected is not None and d != expected:
            raise ValueError(f"points must have d={expected} coordinates, got {d}")

    def _check_H(self, H: Any, d: int | None = None) -> np.ndarray:
        H = np.asarray(to_numpy(H), dtype=float)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be a square matrix, got shape {H.shape}")
        if d is not None and H.shape[0] != d:
            raise ValueError(f"H must be {d}x{d}, got shape {H.shape}")
        return 0.5 * (H + H.T)


class L1Ball(Constraint):
    """The ℓ1 ball {x : ‖x‖₁ ≤ radius}.

    LMO: s = −radius·sign(g_{i*}) e_{i*}, i* = the first argmax |g_i| (sign(0) := −1, so
    s stays a vertex when g = 0).  Vertices ±radius·e_i; diameter 2·radius;
    C_f = 4·radius²·max_j H_jj.
    """

    polytope = True

    def __init__(self, radius: float):
        self.radius = check_positive("radius", radius)

    def _lmo(self, g: Any) -> Any:
        xp = array_namespace(g)
        i = xp.argmax(xp.abs(g), axis=1)
        gi = _pick(xp, g, i)
        value = xp.where(gi > 0, -self.radius, xp.full_like(gi, self.radius))
        return _one_hot(xp, i, g.shape[1], value, g)

    def support_value(self, g: Any) -> Any:
        xp = array_namespace(g)
        return -self.radius * xp.max(xp.abs(g), axis=-1)

    def _project(self, x: Any) -> Any:
        return _project_l1(x, self.radius)

    def _violation(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.sum(xp.abs(x), axis=1) - self.radius

    @property
    def diameter(self) -> float:
        return 2.0 * self.radius

    def quadratic_curvature(self, H: Any) -> float:
        H = self._check_H(H)
        return float(4.0 * self.radius**2 * max(np.max(np.diag(H)), 0.0))

    def vertex_list(self, d: int, xp: Any = None, device: Any = None, dtype: Any = None) -> Any:
        """The 2d vertices [radius·I; −radius·I] as a (2d, d) array."""
        eye = self.radius * np.eye(d)
        return _to(xp, np.concatenate([eye, -eye]), device, dtype)

    def decompose(self, x: Any) -> Any:
        """Weights on [r e_1..r e_d, −r e_1..−r e_d]: |x_i|/r on the signed vertex, and the slack
        1 − ‖x‖₁/r split evenly between ±r e_1 (their midpoint is 0)."""
        xp = array_namespace(x)
        x2, _ = _batched(x)
        pos = xp.maximum(x2, 0.0) / self.radius
        neg = xp.maximum(-x2, 0.0) / self.radius
        slack = xp.maximum(1.0 - xp.sum(pos + neg, axis=1), 0.0)
        first = _one_hot(
            xp,
            xp.zeros(x2.shape[0], dtype=xp.int64, device=device_of(x2)),
            x2.shape[1],
            0.5 * slack,
            x2,
        )
        return xp.concat([pos + first, neg + first], axis=1)

    def __repr__(self) -> str:
        return f"L1Ball(radius={self.radius:g})"


def _to(xp: Any, a: np.ndarray, device: Any, dtype: Any = None) -> Any:
    if xp is None:
        return a
    if device is None:
        return xp.asarray(a, dtype=dtype)
    return xp.asarray(a, dtype=dtype, device=device)


class Simplex(L1Ball):
    """The scaled probability simplex {x ≥ 0, Σ x = radius}.

    LMO: radius·e_{i*}, i* = the first argmin g_i.  Vertices radius·e_i; diameter
    radius·√2 (0 when d = 1, handled by C_f); C_f = radius²·max_{i≠j}(H_ii + H_jj − 2H_ij).
    """

    def __init__(self, radius: float = 1.0):
        self.radius = check_positive("radius", radius)

    def _lmo(self, g: Any) -> Any:
        xp = array_namespace(g)
        i = xp.argmin(g, axis=1)
        value = xp.full((g.shape[0],), self.radius, dtype=g.dtype, device=device_of(g))
        return _one_hot(xp, i, g.shape[1], value, g)

    def support_value(self, g: Any) -> Any:
        xp = array_namespace(g)
        return self.radius * xp.min(g, axis=-1)

    def _project(self, x: Any) -> Any:
        return _project_simplex(x, self.radius)

    def _violation(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.maximum(xp.abs(xp.sum(x, axis=1) - self.radius), -xp.min(x, axis=1))

    @property
    def diameter(self) -> float:
        return math.sqrt(2.0) * self.radius

    def diameter_in(self, d: int) -> float:
        return self.diameter if d > 1 else 0.0

    def quadratic_curvature(self, H: Any) -> float:
        H = self._check_H(H)
        diag = np.diag(H)
        pair = diag[:, None] + diag[None, :] - 2 * H
        return float(self.radius**2 * max(np.max(pair), 0.0))

    def vertex_list(self, d: int, xp: Any = None, device: Any = None, dtype: Any = None) -> Any:
        """The d vertices radius·I as a (d, d) array."""
        return _to(xp, self.radius * np.eye(d), device, dtype)

    def decompose(self, x: Any) -> Any:
        """Weights x/radius on the vertices radius·e_i."""
        x2, _ = _batched(x)
        return x2 / self.radius

    def __repr__(self) -> str:
        return f"Simplex(radius={self.radius:g})"


class L2Ball(Constraint):
    """The Euclidean ball {‖x‖₂ ≤ radius}: LMO −radius·g/‖g‖ (radius·e_1 when g = 0);
    diameter 2·radius; C_f = 4·radius²·λ_max(H)."""

    def __init__(self, radius: float):
        self.radius = check_positive("radius", radius)

    def _lmo(self, g: Any) -> Any:
        xp = array_namespace(g)
        norm = xp.sqrt(xp.sum(g * g, axis=1))
        zero = xp.zeros(g.shape[0], dtype=xp.int64, device=device_of(g))
        fallback = _one_hot(xp, zero, g.shape[1], xp.full_like(norm, self.radius), g)
        safe = xp.where(norm > 0, norm, xp.ones_like(norm))
        return xp.where((norm > 0)[:, None], -self.radius * g / safe[:, None], fallback)

    def support_value(self, g: Any) -> Any:
        xp = array_namespace(g)
        return -self.radius * xp.sqrt(xp.sum(g * g, axis=-1))

    def _project(self, x: Any) -> Any:
        xp = array_namespace(x)
        norm = xp.sqrt(xp.sum(x * x, axis=1))
        scale = xp.where(norm > self.radius, self.radius / xp.maximum(norm, 1e-300), 1.0)
        return x * scale[:, None]

    def _violation(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.sqrt(xp.sum(x * x, axis=1)) - self.radius

    @property
    def diameter(self) -> float:
        return 2.0 * self.radius

    def quadratic_curvature(self, H: Any) -> float:
        H = self._check_H(H)
        return float(4.0 * self.radius**2 * max(np.linalg.eigvalsh(H)[-1], 0.0))

    def __repr__(self) -> str:
        return f"L2Ball(radius={self.radius:g})"


class LInfBall(Constraint):
    """The box {‖x‖_∞ ≤ radius}: LMO −radius·sign(g) with sign(0) := −1; diameter
    2·radius·√d; C_f = 4·radius²·max_{ε ∈ {±1}^d} εᵀHε (enumerated, d ≤ 20)."""

    def __init__(self, radius: float):
        self.radius = check_positive("radius", radius)

    def _lmo(self, g: Any) -> Any:
        xp = array_namespace(g)
        return xp.where(g > 0, -self.radius, xp.full_like(g, self.radius))

    def support_value(self, g: Any) -> Any:
        xp = array_namespace(g)
        return -self.radius * xp.sum(xp.abs(g), axis=-1)

    def _project(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.clip(x, -self.radius, self.radius)

    def _violation(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.max(xp.abs(x), axis=1) - self.radius

    def diameter_in(self, d: int) -> float:
        """Euclidean diameter 2·radius·√d in dimension d."""
        return 2.0 * self.radius * math.sqrt(d)

    @property
    def diameter(self) -> float:
        raise TypeError("LInfBall's diameter depends on d: use diameter_in(d)")

    def quadratic_curvature(self, H: Any) -> float:
        H = self._check_H(H)
        d = H.shape[0]
        if d > 20:
            raise ValueError(f"exact C_f over the box enumerates 2^d sign vectors; d={d} > 20")
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=d)))
        return float(
            4.0 * self.radius**2 * max(np.max(np.einsum("ki,ij,kj->k", signs, H, signs)), 0)
        )

    def __repr__(self) -> str:
        return f"LInfBall(radius={self.radius:g})"


class GroupL1Ball(Constraint):
    """The group-ℓ1 ball {x : Σ_g ‖x_g‖₂ ≤ radius} over a partition of the coordinates.

    Parameters
    ----------
    groups : sequence of int
        Group label of every coordinate (length d), labels 0..G−1, each used at least once.
    radius : float
        Radius α > 0.

    Notes
    -----
    LMO: s_{g*} = −α g_{g*}/‖g_{g*}‖ for g* the first argmax_g ‖g_g‖, 0 elsewhere (α times
    the first coordinate of g* when that norm is 0).  Projection: project the vector of group
    norms onto the ℓ1 ball and rescale each group.  Diameter 2α; C_f = 4α² max_g λ_max(H_gg).
    :meth:`support` counts nonzero groups.
    """

    def __init__(self, groups: Any, radius: float):
        self.radius = check_positive("radius", radius)
        labels = np.asarray(to_numpy(groups))
        if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError("groups must be a non-empty 1-D sequence of integer group labels")
        G = int(labels.max()) + 1
        used, first = np.unique(labels, return_index=True)
        if labels.min() < 0 or used.size != G:
            raise ValueError("groups must use every label 0..G-1 at least once")
        self.labels = labels
        self.d = labels.size
        self.n_groups = G
        self._membership = (labels[:, None] == np.arange(G)[None, :]).astype(float)
        self._first = first  # the first coordinate of every group

    def _member(self, like: Any) -> Any:
        xp = array_namespace(like)
        return xp.asarray(self._membership, dtype=like.dtype, device=device_of(like))

    def group_norms(self, x: Any) -> Any:
        """‖x_g‖₂ for every group, shape (R, G) (or (G,) for a single point)."""
        x2, single = _batched(x)
        self._check_dim(x2.shape[1])
        xp = array_namespace(x)
        return _unbatch(xp, xp.sqrt((x2 * x2) @ self._member(x2)), single)

    def _lmo(self, g: Any) -> Any:
        xp = array_namespace(g)
        self._check_dim(g.shape[1])
        member = self._member(g)
        norms = xp.sqrt((g * g) @ member)
        k = xp.argmax(norms, axis=1)
        top = _pick(xp, norms, k)
        in_group = xp.take(member.T, k, axis=0)
        safe = xp.where(top > 0, top, xp.ones_like(top))
        s = -self.radius * g * in_group / safe[:, None]
        first = xp.take(xp.asarray(self._first, device=device_of(g)), k)
        fallback = _one_hot(xp, first, g.shape[1], xp.full_like(top, self.radius), g)
        return xp.where((top > 0)[:, None], s, fallback)

    def support_value(self, g: Any) -> Any:
        xp = array_namespace(g)
        return -self.radius * xp.max(self.group_norms(g), axis=-1)

    def _project(self, x: Any) -> Any:
        xp = array_namespace(x)
        member = self._member(x)
        norms = xp.sqrt((x * x) @ member)
        target = _project_l1(norms, self.radius)
        scale = xp.where(norms > 0, target / xp.where(norms > 0, norms, 1.0), 0.0)
        return x * (scale @ member.T)

    def _violation(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.sum(self.group_norms(x), axis=1) - self.radius

    def support(self, x: Any) -> Any:
        """Number of nonzero groups of each row."""
        xp = array_namespace(x)
        return xp.sum(xp.astype(self.group_norms(x) > 0, xp.int64), axis=-1)

    @property
    def diameter(self) -> float:
        return 2.0 * self.radius

    def quadratic_curvature(self, H: Any) -> float:
        H = self._check_H(H, self.d)
        top = max(
            np.linalg.eigvalsh(H[np.ix_(self.labels == k, self.labels == k)])[-1]
            for k in range(self.n_groups)
        )
        return float(4.0 * self.radius**2 * max(top, 0.0))

    def __repr__(self) -> str:
        return f"GroupL1Ball(groups={self.n_groups}, d={self.d}, radius={self.radius:g})"


class NuclearBall(Constraint):
    """The nuclear-norm ball {X ∈ R^{m×n} : ‖X‖_* ≤ radius}, on vectors vec(X) of length m·n.

    Parameters
    ----------
    shape : tuple of int
        (m, n), the matrix shape; points are row-major flattened vectors of length m·n.
    radius : float
        Radius α > 0.

    Notes
    -----
    LMO: −α u₁v₁ᵀ with (u₁, v₁) the top singular pair of the gradient matrix, from a full
    (batched) SVD, so the LMO is exact.  Projection: project the singular values onto the ℓ1
    ball.  Diameter 2α (Frobenius).  :meth:`support` is the numerical rank (singular values
    above 1e-10·α).  C_f = 4α² sup_{‖u‖=‖v‖=1} vec(uvᵀ)ᵀH vec(uvᵀ); this equals 4α²λ_max(H)
    when a top eigenvector of H is a rank-one matrix (e.g. H ∝ I) and that bound is returned
    otherwise, with :attr:`last_curvature_exact` False.
    """

    def __init__(self, shape: tuple[int, int], radius: float):
        self.radius = check_positive("radius", radius)
        self.shape = check_matrix_shape("shape", shape)
        self.d = self.shape[0] * self.shape[1]
        self.last_curvature_exact = True

    def _matrices(self, x: Any) -> Any:
        xp = array_namespace(x)
        self._check_dim(x.shape[1])
        return xp.reshape(x, (x.shape[0], *self.shape))

    def _lmo(self, g: Any) -> Any:
        xp = array_namespace(g)
        u, _, vt = xp.linalg.svd(self._matrices(g), full_matrices=False)
        s = -self.radius * u[:, :, 0][:, :, None] * vt[:, 0, :][:, None, :]
        return xp.reshape(s, (g.shape[0], self.d))

    def singular_values(self, x: Any) -> Any:
        """Singular values of each row's matrix, (R, min(m, n)) descending."""
        x2, single = _batched(x)
        xp = array_namespace(x)
        return _unbatch(xp, xp.linalg.svdvals(self._matrices(x2)), single)

    def support_value(self, g: Any) -> Any:
        xp = array_namespace(g)
        return -self.radius * xp.max(self.singular_values(g), axis=-1)

    def _project(self, x: Any) -> Any:
        xp = array_namespace(x)
        u, sv, vt = xp.linalg.svd(self._matrices(x), full_matrices=False)
        sv = _project_l1(sv, self.radius)
        return xp.reshape((u * sv[:, None, :]) @ vt, (x.shape[0], self.d))

    def _violation(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.sum(xp.linalg.svdvals(self._matrices(x)), axis=1) - self.radius

    def support(self, x: Any) -> Any:
        """Numerical rank of each row's matrix."""
        xp = array_namespace(x)
        return xp.sum(xp.astype(self.singular_values(x) > 1e-10 * self.radius, xp.int64), axis=-1)

    @property
    def diameter(self) -> float:
        return 2.0 * self.radius

    def quadratic_curvature(self, H: Any) -> float:
        H = self._check_H(H, self.d)
        eig, vec = np.linalg.eigh(H)
        top = max(eig[-1], 0.0)
        tied = vec[:, eig >= eig[-1] - 1e-12 * max(abs(eig[-1]), 1.0)]
        self.last_curvature_exact = any(
            np.linalg.matrix_rank(v.reshape(self.shape), tol=1e-9) == 1 for v in tied.T
        ) or np.allclose(H, eig[-1] * np.eye(self.d))
        return float(4.0 * self.radius**2 * top)

    def __repr__(self) -> str:
        return f"NuclearBall(shape={self.shape}, radius={self.radius:g})"


# -- curvature constants and the constrained minimum -------------------------------------------


def check_constraint(problem: Any, constraint: Any) -> Constraint:
    """Check that ``problem`` is a Problem and ``constraint`` a :class:`Constraint` of its
    dimension."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a problems.Problem, got {type(problem).__name__}")
    if not isinstance(constraint, Constraint):
        raise TypeError(
            "constraint must be a problems.constraints.Constraint, "
            f"got {type(constraint).__name__} {constraint!r}"
        )
    expected = getattr(constraint, "d", None)
    if expected is not None and expected != problem.d:
        raise ValueError(
            f"constraint {constraint!r} lives in dimension {expected}, but the problem has "
            f"d={problem.d}"
        )
    return constraint


def curvature_constant(problem: Any, constraint: Constraint) -> float:
    """The curvature constant C_f of ``problem`` over ``constraint`` (frank_wolfe.md §1).

    Quadratics (:class:`problems.QuadraticForm`): the exact C_f = sup_{d ∈ D−D} dᵀAd.
    Logistic regression: C_f of the dominating quadratic with Hessian XᵀX/(4n) + l2·I, an
    upper bound (∇²f ⪯ that matrix everywhere).  Otherwise: L·diam(D)², the generic bound.
    """
    from mastbench.problems.logistic import Logistic
    from mastbench.problems.quadratic import QuadraticForm

    check_constraint(problem, constraint)
    if isinstance(problem, QuadraticForm):
        A, _, _ = problem.quadratic_form()
        return constraint.quadratic_curvature(A)
    if isinstance(problem, Logistic):
        return constraint.quadratic_curvature(problem.hessian_bound)
    return float(problem.L * constraint.diameter_in(problem.d) ** 2)


@dataclass(frozen=True)
class ConstrainedSolution:
    """The minimizer of a problem over a set, with its certificate.

    Attributes
    ----------
    x : numpy.ndarray
        The computed minimizer (float64, host).
    f_star : float
        f(x).
    gap : float
        The Frank-Wolfe gap at x, an upper bound on f(x) − f* (so f* ∈ [f_star − gap, f_star]).
    iterations : int
        FISTA iterations used.
    """

    x: np.ndarray
    f_star: float
    gap: float
    iterations: int


_SOLUTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def constrained_minimum(
    problem: Any, constraint: Constraint, *, tol: float = 1e-12, max_iter: int = 200_000
) -> ConstrainedSolution:
    """min_{x ∈ D} f(x) by projected FISTA with gradient restart, in float64 on the host.

    Step 1/L; momentum restarted when ⟨y − x⁺, x⁺ − x⟩ > 0 (the gradient restart of
    O'Donoghue & Candès 2015, which unlike the function-value test keeps working below the
    round-off of f).  Stops when
    the Frank-Wolfe gap g(x) = ⟨∇f(x), x⟩ − min_{s ∈ D}⟨∇f(x), s⟩ ≤ tol·max(1, |f(x)|); since
    g(x) ≥ f(x) − f*, the returned ``gap`` certifies f*.  Results are cached per (problem,
    constraint) pair.

    Raises
    ------
    TypeError, ValueError
        If ``constraint`` is not a :class:`Constraint` of the problem's dimension, ``tol`` is
        not a finite positive number or ``max_iter`` not a positive integer.
    RuntimeError
        If the gap tolerance is not met within ``max_iter`` iterations.
    """
    check_constraint(problem, constraint)
    tol = check_positive("tol", tol)
    max_iter = check_int("max_iter", max_iter, low=1)
    cache = _SOLUTIONS.setdefault(problem, {})
    key = (id(constraint), tol)
    if key in cache and cache[key][0] is constraint:
        return cache[key][1]
    value, grad = problem.value_host, problem.grad_host
    step = 1.0 / max(problem.L, 1e-300)
    x = constraint.project(np.zeros(problem.d))
    y, theta = x.copy(), 1.0
    for it in range(1, max_iter + 1):
        x_new = constraint.project(y - step * grad(y))
        if float(np.dot(y - x_new, x_new - x)) > 0:
            theta = 1.0
        theta_new = 0.5 * (1 + math.sqrt(1 + 4 * theta**2))
        y = x_new + ((theta - 1) / theta_new) * (x_new - x)
        x, theta = x_new, theta_new
        if it % 10 == 0:
            gap = float(constraint.gap(grad(x), x))
            fx = value(x)
            if gap <= tol * max(1.0, abs(fx)):
                solution = ConstrainedSolution(x, fx, max(gap, 0.0), it)
                cache[key] = (constraint, solution)
                return solution
    gap = float(constraint.gap(grad(x), x))
    raise RuntimeError(f"projected FISTA did not reach FW gap <= {tol:g} (got {gap:.3e})")
