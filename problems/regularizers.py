"""Nonsmooth convex regularizers ψ with exact proximal maps and exact stationarity pieces.

Every regularizer works on a single point of shape (d,) or a batch of shape (R, d), in the
array namespace of its input, and provides

* ``value(x)``: ψ(x), a scalar or an (R,) array;
* ``prox(x, step)``: prox_{step·ψ}(x) = argmin_z ψ(z)·step + ½‖z − x‖², exact; ``step`` is a
  positive float or an array of shape ``x.shape[:-1]`` (one step per point);
* ``dist2(x, g, scale=1)``: dist(0, g + scale·∂ψ(x))², the squared distance from the origin to the
  subdifferential of the composite function at x when g = ∇f(x) (ramda.md §9);
* ``support(x)``: the boolean pattern of active structures (nonzero groups, nonzero
  coordinates, or nonzero singular values), shape (..., n_structures).

Reference: Huang & Lee, "Regularized Adaptive Momentum Dual Averaging ...", arXiv 2403.14398,
§2 and App. E; the √|g| weights of the group lasso follow the official code
(``ismoptgroup/RAMDA``, ``Core/prox_fns.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mastbench.backend import array_namespace, device_of
from mastbench.validation import check_int, check_matrix_shape, check_positive

__all__ = ["L1", "GroupLasso", "NuclearNorm", "Regularizer", "Zero"]


def _step_column(x: Any, step: Any) -> Any:
    """``step`` as something broadcastable against x[..., None] per point."""
    if isinstance(step, int | float | np.floating | np.integer):
        if not step > 0:
            raise ValueError(f"step must be positive, got {step}")
        return float(step)
    if tuple(step.shape) != tuple(x.shape[:-1]):
        raise ValueError(f"step must be a float or have shape {tuple(x.shape[:-1])}")
    return step[..., None]


class Regularizer:
    """Interface of a regularizer ψ (see the module docstring)."""

    lam: float

    def value(self, x: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def prox(self, x: Any, step: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def dist2(self, x: Any, g: Any, scale: float = 1.0) -> Any:  # pragma: no cover - interface
        """dist(0, g + scale·∂ψ(x))²."""
        raise NotImplementedError

    def support(self, x: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def thresholds(self) -> np.ndarray:
        """λ_g per structure (host float64), used for screening and the margin."""
        raise NotImplementedError(f"{type(self).__name__} has no per-structure thresholds")


class Zero(Regularizer):
    """ψ = 0 (the unregularized case): prox is the identity, one structure per coordinate."""

    lam = 0.0

    def value(self, x: Any) -> Any:
        return array_namespace(x).sum(x * 0.0, axis=-1)

    def prox(self, x: Any, step: Any) -> Any:
        _step_column(x, step)
        return x

    def dist2(self, x: Any, g: Any, scale: float = 1.0) -> Any:
        return array_namespace(x).sum(g * g, axis=-1)

    def support(self, x: Any) -> Any:
        return x != 0

    def __repr__(self) -> str:
        return "Zero()"


class L1(Regularizer):
    """ψ(x) = λ‖x‖₁.

    prox_{tψ}(y) = sign(y)·max(|y| − tλ, 0);
    dist(0, g + ∂ψ(x))² = Σ_{x_i≠0} (g_i + λ sign x_i)² + Σ_{x_i=0} max(|g_i| − λ, 0)².
    """

    def __init__(self, lam: float):
        self.lam = check_positive("lam", lam, strict=False)

    def value(self, x: Any) -> Any:
        xp = array_namespace(x)
        return self.lam * xp.sum(xp.abs(x), axis=-1)

    def prox(self, x: Any, step: Any) -> Any:
        xp = array_namespace(x)
        thr = _step_column(x, step) * self.lam
        return xp.sign(x) * xp.maximum(xp.abs(x) - thr, 0.0)

    def dist2(self, x: Any, g: Any, scale: float = 1.0) -> Any:
        xp = array_namespace(x)
        lam = scale * self.lam
        active = g + lam * xp.sign(x)
        inactive = xp.maximum(xp.abs(g) - lam, 0.0)
        return xp.sum(xp.where(x != 0, active * active, inactive * inactive), axis=-1)

    def support(self, x: Any) -> Any:
        return x != 0

    def thresholds(self) -> np.ndarray:
        return np.asarray([self.lam])

    def __repr__(self) -> str:
        return f"L1(lam={self.lam:g})"


class GroupLasso(Regularizer):
    """ψ(x) = λ Σ_g w_g ‖x_g‖₂ over disjoint groups (w_g = √|g| by default); coordinates in
    no group are free.

    Parameters
    ----------
    groups : sequence of sequences of int
        Disjoint index sets of the coordinates (each non-empty).  Coordinates that appear in
        no group are not regularized (biases, as in the paper's experiments).
    lam : float
        λ ≥ 0; group g has threshold λ_g = λ·w_g.
    d : int, optional
        Dimension (default: one past the largest index).
    weights : sequence of float, optional
        Per-group weights w_g ≥ 0, one per group (default √|g|, as in the RAMDA code;
        SequentialAttention++ uses w_g = 1).

    Notes
    -----
    prox_{tψ}(y)_g = max(0, 1 − tλ_g/‖y_g‖)·y_g;
    dist(0, g + ∂ψ(x))² = Σ_{x_g≠0} ‖∇_g + λ_g x_g/‖x_g‖‖² + Σ_{x_g=0} max(0, ‖∇_g‖ − λ_g)²
    + Σ_{free i} ∇_i²  (ramda.md §9).  Internally the groups are gathered into a padded
    (G, s_max) index table so every operation is one batched gather/scatter (no loop over
    groups).
    """

    def __init__(
        self,
        groups: Sequence[Sequence[int]],
        lam: float,
        *,
        d: int | None = None,
        weights: Sequence[float] | None = None,
    ):
        self.lam = check_positive("lam", lam, strict=False)
        if isinstance(groups, str | bytes) or len(groups) == 0:
            raise ValueError("groups must be a non-empty sequence of index sequences")
        host = [np.asarray(g, dtype=np.int64).reshape(-1) for g in groups]
        if any(g.size == 0 for g in host):
            raise ValueError("groups must not contain an empty group")
        flat = np.concatenate(host)
        if np.any(flat < 0):
            raise ValueError("groups must hold non-negative coordinate indices")
        if np.unique(flat).size != flat.size:
            raise ValueError("groups must be disjoint (an index appears twice)")
        top = int(flat.max()) + 1
        self.d = top if d is None else check_int("d", d, low=1)
        if self.d < top:
            raise ValueError(f"d={self.d} is smaller than the largest group index + 1 = {top}")
        self.groups = host
        self.sizes = np.asarray([g.size for g in host], dtype=np.int64)
        self.n_groups = len(host)
        if weights is None:
            self.weights = np.sqrt(self.sizes.astype(float))
        else:
            self.weights = np.asarray(weights, dtype=float).reshape(-1)
            if self.weights.size != self.n_groups:
                raise ValueError(
                    f"weights must hold one value per group ({self.n_groups}), "
                    f"got {self.weights.size}"
                )
            if not np.all(np.isfinite(self.weights)) or np.any(self.weights < 0):
                raise ValueError("weights must be finite and non-negative")
        width = int(self.sizes.max())
        table = np.full((self.n_groups, width), self.d, dtype=np.int64)
        for k, g in enumerate(host):
            table[k, : g.size] = g
        self._table = table.reshape(-1)
        position = self.n_groups * width + np.arange(self.d)
        position[flat] = np.concatenate([k * width + np.arange(g.size) for k, g in enumerate(host)])
        self._position = position
        self._width = width
        self._free = np.setdiff1d(np.arange(self.d), flat)
        #: Groups {0..s−1}, {s..2s−1}, … covering every coordinate: blocks are a reshape.
        self._contiguous = bool(np.array_equal(self._table, np.arange(self.d)))
        self._cache: dict[Any, tuple[Any, Any, Any]] = {}

    @classmethod
    def contiguous(cls, n_groups: int, group_size: int, lam: float) -> GroupLasso:
        """Groups {0..s−1}, {s..2s−1}, ... covering d = n_groups·group_size coordinates."""
        n_groups = check_int("n_groups", n_groups, low=1)
        group_size = check_int("group_size", group_size, low=1)
        idx = np.arange(n_groups * group_size).reshape(n_groups, group_size)
        return cls(list(idx), lam)

    @property
    def free(self) -> np.ndarray:
        """Indices of the unregularized coordinates (in no group)."""
        return self._free

    def thresholds(self) -> np.ndarray:
        """λ_g = λ·w_g for every group (host float64)."""
        return self.lam * self.weights

    # -- gather / scatter ----------------------------------------------------------------
    def _indices(self, x: Any) -> tuple[Any, Any, Any]:
        """The gather table, the scatter positions and λ_g (in the dtype of ``x``) on the
        namespace and device of ``x``, cached per namespace, device and dtype."""
        xp, device = array_namespace(x), device_of(x)
        key = (xp.__name__, str(device), x.dtype)
        if key not in self._cache:
            self._cache[key] = (
                xp.asarray(self._table, device=device),
                xp.asarray(self._position, device=device),
                xp.asarray(self.thresholds(), dtype=x.dtype, device=device),
            )
        return self._cache[key]

    def _check(self, x: Any) -> None:
        if x.shape[-1] != self.d:
            raise ValueError(f"x must have last dimension d={self.d}, got shape {x.shape}")

    def blocks(self, x: Any) -> Any:
        """x gathered into groups: shape (..., G, s_max), zero-padded."""
        self._check(x)
        xp = array_namespace(x)
        if self._contiguous:
            return xp.reshape(x, (*x.shape[:-1], self.n_groups, self._width))
        table, _, _ = self._indices(x)
        padded = xp.concat(
            [x, xp.zeros((*x.shape[:-1], 1), dtype=x.dtype, device=device_of(x))], axis=-1
        )
        out = xp.take(padded, table, axis=-1)
        return xp.reshape(out, (*x.shape[:-1], self.n_groups, self._width))

    def unblocks(self, blocks: Any, free: Any) -> Any:
        """Inverse of :meth:`blocks`: groups from ``blocks``, free coordinates from ``free``."""
        xp = array_namespace(blocks)
        flat = xp.reshape(blocks, (*blocks.shape[:-2], self.n_groups * self._width))
        if self._contiguous:
            return flat
        _, position, _ = self._indices(blocks)
        return xp.take(xp.concat([flat, free], axis=-1), position, axis=-1)

    def lam_g(self, x: Any) -> Any:
        """λ_g as an array of the dtype, namespace and device of ``x``, shape (G,)."""
        return self._indices(x)[2]

    def group_norms(self, x: Any) -> Any:
        """‖x_g‖₂ per group, shape (..., G)."""
        xp = array_namespace(x)
        return xp.linalg.vector_norm(self.blocks(x), axis=-1)

    # -- regularizer interface -----------------------------------------------------------
    def value(self, x: Any) -> Any:
        xp = array_namespace(x)
        return xp.sum(self.group_norms(x) * self.lam_g(x), axis=-1)

    def prox(self, x: Any, step: Any) -> Any:
        xp = array_namespace(x)
        thr = _step_column(x, step) * self.lam_g(x)
        b = self.blocks(x)
        norms = xp.linalg.vector_norm(b, axis=-1)
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        scale = xp.maximum(1.0 - thr / safe, 0.0)
        return self.unblocks(b * scale[..., None], x)

    def dist2(self, x: Any, g: Any, scale: float = 1.0) -> Any:
        xp = array_namespace(x)
        lam_g = scale * self.lam_g(x)
        bx, bg = self.blocks(x), self.blocks(g)
        nx = xp.linalg.vector_norm(bx, axis=-1)
        safe = xp.where(nx > 0, nx, xp.ones_like(nx))
        active = bg + (lam_g / safe)[..., None] * bx
        active2 = xp.sum(active * active, axis=-1)
        inactive = xp.maximum(xp.linalg.vector_norm(bg, axis=-1) - lam_g, 0.0)
        per_group = xp.where(nx > 0, active2, inactive * inactive)
        free_g = self.unblocks(xp.zeros_like(bg), g)
        return xp.sum(per_group, axis=-1) + xp.sum(free_g * free_g, axis=-1)

    def support(self, x: Any) -> Any:
        return self.group_norms(x) > 0

    def weighted_sparsity(self, x: Any) -> Any:
        """Fraction of regularized coordinates in zero groups (the paper's "group sparsity")."""
        xp = array_namespace(x)
        sizes = xp.asarray(self.sizes.astype(float), dtype=x.dtype, device=device_of(x))
        zero = xp.astype(~self.support(x), x.dtype)
        return xp.sum(zero * sizes, axis=-1) / float(self.sizes.sum())

    def __repr__(self) -> str:
        return f"GroupLasso(n_groups={self.n_groups}, d={self.d}, lam={self.lam:g})"


class NuclearNorm(Regularizer):
    """ψ(x) = λ‖mat(x)‖_* for x the row-major flattening of an (m, n) matrix.

    prox_{tψ}(Y) = U diag(max(σ − tλ, 0)) Vᵀ.  With W = U_r Σ_r V_rᵀ (rank r),
    ∂‖W‖_* = {U_r V_rᵀ + Z : U_rᵀZ = 0, Z V_r = 0, ‖Z‖₂ ≤ 1}, hence with
    G' = ∇ + λU_rV_rᵀ and P_N the projection onto the normal space,
    dist(0, ∇ + ∂ψ(W))² = ‖G' − P_N G'‖_F² + Σ_i max(σ_i(P_N ∇) − λ, 0)².
    Singular values below max(``rank_tol``, max(m, n)·eps)·σ_max count as zero, eps that of
    the dtype of W (NumPy's ``matrix_rank`` rule: the round-off of a float32 SVD is not rank).
    """

    def __init__(self, lam: float, shape: tuple[int, int], *, rank_tol: float = 1e-12):
        self.lam = check_positive("lam", lam, strict=False)
        self.shape = check_matrix_shape("shape", shape)
        self.d = self.shape[0] * self.shape[1]
        self.rank_tol = check_positive("rank_tol", rank_tol)

    def _mat(self, x: Any) -> Any:
        if x.shape[-1] != self.d:
            raise ValueError(f"x must have last dimension d={self.d}, got shape {x.shape}")
        return array_namespace(x).reshape(x, (*x.shape[:-1], *self.shape))

    def value(self, x: Any) -> Any:
        xp = array_namespace(x)
        return self.lam * xp.sum(xp.linalg.svdvals(self._mat(x)), axis=-1)

    def prox(self, x: Any, step: Any) -> Any:
        xp = array_namespace(x)
        thr = _step_column(x, step) * self.lam
        u, s, vt = xp.linalg.svd(self._mat(x), full_matrices=False)
        shrunk = xp.maximum(s - thr, 0.0)
        out = (u * shrunk[..., None, :]) @ vt
        return xp.reshape(out, x.shape)

    def _rank_tol(self, x: Any) -> float:
        return max(self.rank_tol, max(self.shape) * float(array_namespace(x).finfo(x.dtype).eps))

    def support(self, x: Any) -> Any:
        xp = array_namespace(x)
        s = xp.linalg.svdvals(self._mat(x))
        return s > self._rank_tol(x) * xp.max(s, axis=-1, keepdims=True)

    def dist2(self, x: Any, g: Any, scale: float = 1.0) -> Any:
        xp = array_namespace(x)
        lam = scale * self.lam
        u, s, vt = xp.linalg.svd(self._mat(x), full_matrices=False)
        keep = xp.astype(s > self._rank_tol(x) * xp.max(s, axis=-1, keepdims=True), x.dtype)
        ur = u * keep[..., None, :]
        vr = xp.matrix_transpose(vt) * keep[..., None, :]
        grad = self._mat(g)
        shifted = grad + lam * (ur @ xp.matrix_transpose(vr))
        m, n = self.shape
        eye_m = xp.eye(m, dtype=x.dtype, device=device_of(x))
        eye_n = xp.eye(n, dtype=x.dtype, device=device_of(x))
        left = eye_m - ur @ xp.matrix_transpose(ur)
        right = eye_n - vr @ xp.matrix_transpose(vr)
        normal = left @ shifted @ right
        tangent = shifted - normal
        excess = xp.maximum(xp.linalg.svdvals(normal) - lam, 0.0)
        return xp.sum(tangent * tangent, axis=(-2, -1)) + xp.sum(excess * excess, axis=-1)

    def __repr__(self) -> str:
        return f"NuclearNorm(lam={self.lam:g}, shape={self.shape})"
