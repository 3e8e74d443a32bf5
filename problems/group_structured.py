"""Group-structured convex problems with exact restricted constants (SequentialAttention++).

The variable is a weight matrix W ∈ ℝ^{p×K} (p features, K responses or classes), flattened
row-major into β ∈ ℝ^{pK} (coordinate ``i*K + c`` is W[i, c]), and partitioned into disjoint
groups T₁…T_t (:class:`Groups`: feature-row blocks, b×b tiles, or contiguous blocks).

Two losses, both strictly convex (Yasuda et al., arXiv 2402.17902, §1.3):

* :class:`GroupLeastSquares`: 𝓛(W) = (1/2n)‖XW − Y‖_F² + (l2/2)‖W‖_F², Hessian
  I-structured ``kron(XᵀX/n, I_K) + l2·I`` (constant, so μ_s and L_s are exact);
* :class:`GroupMultinomial`: 𝓛(W) = (1/n)Σ_m −log softmax(Wᵀx_m)_{y_m} + (l2/2)‖W‖_F², with
  ridge l2 > 0 (without it the loss is shift invariant across classes, not strictly convex).

Restricted constants (Definitions B.1/B.2 of the paper, ``shared/theory/seqattn.md`` §6.1):
μ_s = min_{|G|=s} λ_min(H[T_G, T_G]) and L_s = max_{|G|=s} λ_max(H[T_G, T_G]) by enumeration
of the C(t, s) group subsets (interlacing makes "≤ s" equal to "= s"); beyond
:data:`MAX_SUBSETS` subsets, the global bounds λ_min(H) ≤ μ_s and L_s ≤ λ_max(H), flagged
``exact=False``.  For the multinomial
loss the Hessian varies; :meth:`GroupMultinomial.restricted_constants` returns the valid
bounds μ_s ≥ l2 and L_s ≤ ½·max_G λ_max((XᵀX/n ⊗ I)[T_G]) + l2, flagged ``exact=False``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.base import Problem
from mastbench.problems.logistic import newton
from mastbench.problems.multinomial import MultinomialLogistic

from mastbench.backend import to_numpy
from mastbench.validation import check_finite, check_int, check_matrix, check_positive

__all__ = [
    "GroupLeastSquares",
    "GroupMultinomial",
    "GroupProblem",
    "Groups",
    "RestrictedConstants",
    "SparseSolution",
]

#: Largest number of group subsets enumerated for exact constants or brute force.
MAX_SUBSETS = 20000


class Groups:
    """A partition of the coordinates ``0..d-1`` into t disjoint groups.

    Parameters
    ----------
    assignment : sequence of int, shape (d,)
        ``assignment[j]`` is the group of coordinate j; every group ``0..t-1`` is non-empty.
    """

    def __init__(self, assignment: Sequence[int] | np.ndarray):
        a = np.asarray(assignment)
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"assignment must be a non-empty 1-D sequence, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"assignment must hold integers, got dtype {a.dtype}")
        t = int(a.max()) + 1
        if a.min() < 0 or np.unique(a).size != t:
            raise ValueError("assignment must use every group id 0..t-1 (and no negative ids)")
        self.assignment = a.astype(np.int64)
        self.d = int(a.size)
        self.t = t
        self.members = [np.flatnonzero(a == i) for i in range(t)]

    @classmethod
    def contiguous(cls, d: int, size: int) -> Groups:
        """Consecutive blocks of ``size`` coordinates (``size`` must divide ``d``)."""
        d, size = check_int("d", d, low=1), check_int("size", size, low=1)
        if d % size:
            raise ValueError(f"size={size} must divide d={d}")
        return cls(np.arange(d) // size)

    @classmethod
    def rows(cls, p: int, K: int, size: int = 1) -> Groups:
        """Blocks of ``size`` feature rows of W ∈ ℝ^{p×K} (all K columns of each row)."""
        p, K = check_int("p", p, low=1), check_int("K", K, low=1)
        size = check_int("size", size, low=1)
        if p % size:
            raise ValueError(f"size={size} must divide p={p}")
        return cls(np.repeat(np.arange(p) // size, K))

    @classmethod
    def tiles(cls, p: int, K: int, size: int) -> Groups:
        """b×b tiles of W ∈ ℝ^{p×K} (``size`` must divide both p and K)."""
        p, K = check_int("p", p, low=1), check_int("K", K, low=1)
        size = check_int("size", size, low=1)
        if p % size or K % size:
            raise ValueError(f"size={size} must divide p={p} and K={K}")
        i, c = np.divmod(np.arange(p * K), K)
        return cls((i // size) * (K // size) + c // size)

    @property
    def sizes(self) -> np.ndarray:
        """Number of coordinates of each group, shape (t,)."""
        return np.bincount(self.assignment, minlength=self.t)

    def coords(self, support: Iterable[int]) -> np.ndarray:
        """Sorted coordinates of the union of the groups in ``support``."""
        support = [int(i) for i in support]
        if any(i < 0 or i >= self.t for i in support):
            raise ValueError(f"group ids must lie in [0, {self.t}), got {support}")
        if not support:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate([self.members[i] for i in support]))

    def membership(self, xp: Any, dtype: Any = None, device: Any = None) -> Any:
        """The (d, t) 0/1 matrix M with M[j, i] = 1 iff coordinate j is in group i."""
        m = np.zeros((self.d, self.t))
        m[np.arange(self.d), self.assignment] = 1.0
        return xp.asarray(m, dtype=dtype, device=device)

    def norms_host(self, x: np.ndarray) -> np.ndarray:
        """Group norms ‖x|_{T_i}‖₂ of a host array of shape (..., d), shape (..., t)."""
        x = np.asarray(x, dtype=float)
        return np.sqrt((x * x) @ self._host_membership)

    @cached_property
    def _host_membership(self) -> np.ndarray:
        return self.membership(np)

    def support_host(self, x: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
        """Active groups of a host vector: ‖x_i‖ > rtol·max_j ‖x_j‖ (empty for x = 0)."""
        norms = self.norms_host(x)
        top = norms.max() if norms.size else 0.0
        return np.flatnonzero(norms > rtol * top) if top > 0 else np.zeros(0, dtype=np.int64)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Groups) and np.array_equal(self.assignment, other.assignment)

    def __hash__(self) -> int:
        return hash(self.assignment.tobytes())

    def __repr__(self) -> str:
        return f"Groups(d={self.d}, t={self.t})"


@dataclass(frozen=True)
class RestrictedConstants:
    """Restricted strong convexity μ_s and smoothness L_s at group sparsity s.

    ``exact`` is False when they are valid global bounds (μ_s a lower bound, L_s an upper
    bound) rather than the exact enumerated values.
    """

    s: int
    mu: float
    L: float
    exact: bool


@dataclass(frozen=True)
class SparseSolution:
    """The minimizer of 𝓛 restricted to the union of the groups in ``support``."""

    support: tuple[int, ...]
    x: np.ndarray
    value: float
    certificate: float


def _enumerated_constants(H: np.ndarray, groups: Groups, s: int) -> tuple[float, float, bool]:
    """(μ_s, L_s, exact): enumeration of the C(t, s) group subsets when at most
    :data:`MAX_SUBSETS`, else the global bounds λ_min(H) ≤ μ_s, L_s ≤ λ_max(H) (exact False)."""
    s = check_int("s", s, low=1, high=groups.t)
    if math.comb(groups.t, s) > MAX_SUBSETS:
        eig = np.linalg.eigvalsh(H)
        return float(eig[0]), float(eig[-1]), False
    mu, L = np.inf, -np.inf
    for subset in itertools.combinations(range(groups.t), s):
        idx = groups.coords(subset)
        eig = np.linalg.eigvalsh(H[np.ix_(idx, idx)])
        mu, L = min(mu, eig[0]), max(L, eig[-1])
    return float(mu), float(L), True


class GroupProblem(Problem):
    """A smooth strictly convex loss on β = vec(W) with a group partition.

    Subclasses provide host float64 oracles ``value_host``, ``grad_host``, ``hessian_host``
    and the backend oracles ``value``/``grad`` on (d,) or (R, d) arrays.
    """

    groups: Groups
    p: int
    K: int

    # -- host oracles ------------------------------------------------------------------------
    def hessian_host(self, x: np.ndarray) -> np.ndarray:
        """∇²𝓛(x) as a (d, d) float64 NumPy array."""
        raise NotImplementedError

    # -- backend helpers ---------------------------------------------------------------------
    @cached_property
    def membership(self) -> Any:
        """The (d, t) group membership matrix in the problem's namespace and device."""
        return self.groups.membership(self.xp, self.dtype, self.device)

    def group_norms(self, x: Any) -> Any:
        """‖x|_{T_i}‖₂ for x of shape (..., d), shape (..., t), in the problem's namespace."""
        return self.xp.sqrt((x * x) @ self.membership)

    def expand(self, a: Any) -> Any:
        """Broadcast per-group values a (..., t) to coordinates (..., d)."""
        return a @ self.membership.T

    # -- sparse optima -----------------------------------------------------------------------
    def restricted_minimizer(self, support: Iterable[int]) -> SparseSolution:
        """β^S = argmin {𝓛(β) : supp β ⊆ ∪_{i∈S} T_i} (closed form, or Newton to 1e-10·scale)."""
        support = tuple(sorted(int(i) for i in support))
        return self._restricted(support)

    def _restricted(self, support: tuple[int, ...]) -> SparseSolution:
        raise NotImplementedError

    def best_k_groups(self, k: int) -> SparseSolution:
        """The best k-group-sparse solution β*_k, by brute force over the C(t, k) supports."""
        k = check_int("k", k, low=0, high=self.groups.t)
        return self._best(k)

    def _best(self, k: int) -> SparseSolution:
        cache = self.__dict__.setdefault("_best_cache", {})
        if k not in cache:
            count = math.comb(self.groups.t, k)
            if count > MAX_SUBSETS:
                raise ValueError(f"C(t={self.groups.t}, k={k}) = {count} exceeds {MAX_SUBSETS}")
            best = None
            for subset in itertools.combinations(range(self.groups.t), k):
                sol = self._restricted(subset)
                if best is None or sol.value < best.value:
                    best = sol
            cache[k] = best
        return cache[k]

    def restricted_constants(self, s: int) -> RestrictedConstants:
        """μ_s and L_s: exact by enumeration of the C(t, s) subsets when at most
        :data:`MAX_SUBSETS`, global eigenvalue bounds otherwise (see
        :class:`RestrictedConstants`)."""
        raise NotImplementedError

    def gradient_norms_host(self, x: np.ndarray) -> np.ndarray:
        """‖∇𝓛(x)|_{T_i}‖₂ for every group, on the host."""
        return self.groups.norms_host(self.grad_host(x))

    @property
    def x_star_host(self) -> np.ndarray:
        return self._restricted(tuple(range(self.groups.t))).x

    @property
    def f_star(self) -> float:
        return self._restricted(tuple(range(self.groups.t))).value


def _as_host(a: Any) -> np.ndarray:
    return np.asarray(to_numpy(a), dtype=float)


def _check_groups(groups: Any, d: int) -> Groups:
    if not isinstance(groups, Groups):
        raise TypeError(f"groups must be a Groups partition, got {type(groups).__name__}")
    if groups.d != d:
        raise ValueError(f"groups must partition d = p·K = {d} coordinates, got {groups.d}")
    return groups


class GroupLeastSquares(GroupProblem):
    """Multiple-response least squares 𝓛(W) = (1/2n)‖XW − Y‖_F² + (l2/2)‖W‖_F².

    Parameters
    ----------
    X : array, shape (n, p)
        Design matrix.
    Y : array, shape (n, K) or (n,)
        Responses (a vector means K = 1).
    groups : Groups
        Partition of the p·K coordinates of vec(W) (row-major).
    l2 : float
        Ridge parameter ≥ 0 (μ > 0 needs l2 > 0 or XᵀX ≻ 0).

    Notes
    -----
    ∇𝓛(W) = Xᵀ(XW − Y)/n + l2·W; ∇²𝓛 = kron(XᵀX/n, I_K) + l2·I, so μ_s and L_s are exact.
    With feature-row groups they equal those of the scalar problem; with b×b tiles those of
    row blocks of size b (``shared/theory/seqattn.md`` §6.1).
    """

    def __init__(self, X: Any, Y: Any, groups: Groups, l2: float = 0.0):
        self._set_backend(X=X, Y=Y)
        check_matrix("X", X)
        if len(Y.shape) not in (1, 2) or Y.shape[0] != X.shape[0]:
            raise ValueError(f"Y must have shape (n,) or (n, K) with n={X.shape[0]}, got {Y.shape}")
        check_finite("X", X)
        check_finite("Y", Y)
        self.l2 = check_positive("l2", l2, strict=False)
        self.X = X
        self.Y = Y if len(Y.shape) == 2 else self.xp.reshape(Y, (-1, 1))
        self.n, self.p = (int(s) for s in X.shape)
        self.K = int(self.Y.shape[1])
        self.d = self.p * self.K
        self.groups = _check_groups(groups, self.d)
        self._Xh, self._Yh = _as_host(X), _as_host(self.Y)

    # -- backend oracles ---------------------------------------------------------------------
    def _residual(self, x: Any) -> Any:
        W = self.xp.reshape(x, (*x.shape[:-1], self.p, self.K))
        return self.X @ W - self.Y

    def value(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        r = self._residual(x)
        data = xp.sum(xp.reshape(r * r, (*x.shape[:-1], -1)), axis=-1) / (2 * self.n)
        return data + 0.5 * self.l2 * xp.sum(x * x, axis=-1)

    def grad(self, x: Any) -> Any:
        self._check_point(x)
        xp = self.xp
        g = self.X.T @ self._residual(x) / self.n
        return xp.reshape(g, x.shape) + self.l2 * x

    # -- host oracles ------------------------------------------------------------------------
    @cached_property
    def _form(self) -> tuple[np.ndarray, np.ndarray, float]:
        X, Y = self._Xh, self._Yh
        H = np.kron(X.T @ X / self.n, np.eye(self.K)) + self.l2 * np.eye(self.d)
        return H, (X.T @ Y / self.n).reshape(-1), float(np.sum(Y * Y)) / (2 * self.n)

    def value_host(self, x: np.ndarray) -> float:
        H, b, c = self._form
        x = np.asarray(x, dtype=float)
        return float(0.5 * x @ H @ x - b @ x + c)

    def grad_host(self, x: np.ndarray) -> np.ndarray:
        H, b, _ = self._form
        return H @ np.asarray(x, dtype=float) - b

    def hessian_host(self, x: np.ndarray) -> np.ndarray:
        return self._form[0]

    def hess(self, x: Any) -> Any:
        return self.asarray(self._form[0])

    @cached_property
    def _eig(self) -> np.ndarray:
        return np.linalg.eigvalsh(self._form[0])

    @property
    def L(self) -> float:
        return float(self._eig[-1])

    @property
    def mu(self) -> float:
        return float(max(self._eig[0], 0.0))

    def _restricted(self, support: tuple[int, ...]) -> SparseSolution:
        H, b, _ = self._form
        idx = self.groups.coords(support)
        x = np.zeros(self.d)
        if idx.size:
            x[idx] = np.linalg.solve(H[np.ix_(idx, idx)], b[idx])
        cert = float(np.linalg.norm(self.grad_host(x)[idx])) if idx.size else 0.0
        return SparseSolution(support, x, self.value_host(x), cert)

    def restricted_constants(self, s: int) -> RestrictedConstants:
        mu, L, exact = _enumerated_constants(self._form[0], self.groups, s)
        return RestrictedConstants(s, max(mu, 0.0), L, exact=exact)

    def __repr__(self) -> str:
        return f"GroupLeastSquares(n={self.n}, p={self.p}, K={self.K}, t={self.groups.t})"


class GroupMultinomial(GroupProblem, MultinomialLogistic):
    """Multinomial logistic regression with ridge, W ∈ ℝ^{p×K} in groups.

    𝓛(W) = (1/n) Σ_m [logsumexp(Wᵀx_m) − (Wᵀx_m)_{y_m}] + (l2/2)‖W‖_F²; the oracles are those
    of :class:`problems.multinomial.MultinomialLogistic` (same row-major flattening).

    Parameters
    ----------
    X : array, shape (n, p)
        Features.
    labels : array of int, shape (n,)
        Classes in ``0..K-1``.
    K : int
        Number of classes (≥ 2).
    groups : Groups
        Partition of the p·K coordinates of vec(W) (row-major).
    l2 : float
        Ridge parameter, > 0 (strict convexity).

    Notes
    -----
    ∇²𝓛 = (1/n) Σ_m kron(x_m x_mᵀ, Diag p_m − p_m p_mᵀ) + l2·I.  Since
    λ_max(Diag p − ppᵀ) ≤ ½, L_s ≤ ½·max_G λ_max(kron(XᵀX/n, I)[T_G]) + l2 and μ_s ≥ l2.
    """

    def __init__(self, X: Any, labels: Any, K: int, groups: Groups, l2: float):
        check_positive("l2", l2)
        K = check_int("K", K, low=2)
        MultinomialLogistic.__init__(self, X, labels, K, l2)
        self.K = self.n_classes
        self.groups = _check_groups(groups, self.d)
        self._Xh = _as_host(X)

    def hessian_host(self, x: np.ndarray) -> np.ndarray:
        return self._host_hess(np.asarray(x, dtype=float))

    @cached_property
    def _gram_bound(self) -> np.ndarray:
        X = self._Xh
        return 0.5 * np.kron(X.T @ X / self.n, np.eye(self.K))

    def _restricted(self, support: tuple[int, ...]) -> SparseSolution:
        idx = self.groups.coords(support)
        x = np.zeros(self.d)
        if idx.size == 0:
            return SparseSolution(support, x, self.value_host(x), 0.0)

        def embed(z: np.ndarray) -> np.ndarray:
            full = np.zeros(self.d)
            full[idx] = z
            return full

        scale = max(1.0, float(np.linalg.norm(self.grad_host(x)[idx])))
        z, cert, _ = newton(
            lambda z: self.grad_host(embed(z))[idx],
            lambda z: self.hessian_host(embed(z))[np.ix_(idx, idx)],
            lambda z: self.value_host(embed(z)),
            np.zeros(idx.size),
            tol=1e-10 * scale,
        )
        x = embed(z)
        return SparseSolution(support, x, self.value_host(x), cert)

    def restricted_constants(self, s: int) -> RestrictedConstants:
        _, L, _ = _enumerated_constants(self._gram_bound, self.groups, s)
        return RestrictedConstants(s, self.l2, L + self.l2, exact=False)

    def __repr__(self) -> str:
        return f"GroupMultinomial(n={self.n}, p={self.p}, K={self.K}, t={self.groups.t})"
