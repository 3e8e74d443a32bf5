"""Batched application of sketches inside the MAST algorithms (private helpers).

A sketch S acts on a batch of R deviations z = x − v (shape (R, d)) in one of three forms:

* ``mask``: S = Diag(s), s of shape (R, d) (Bernoulli, Identity, or an index sketch densified);
* ``index``: S = scale · Σ_{j∈idx} e_j e_jᵀ with idx of shape (R, k) (Rand-K, one Permutation
  block); cost O(k) per replicate to apply, O(k²) for a quadratic's restricted gradient;
* ``matrix``: S of shape (R, d, d) (Gaussian, Discrete).

The double-sketched gradient is ∇f_S(x) = Sᵀ∇f(v + S(x − v)) (arXiv 2311.16086, Algorithm 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from mastbench.backend import Generator
from mastbench.problems.quadratic import Quadratic

__all__ = [
    "Draw",
    "Sampler",
    "SparseGradient",
    "descend",
    "host_lambda_max_gram",
    "scatter",
    "scatter_subtract",
]

FORMS = ("auto", "mask", "index")


@dataclass
class Draw:
    """One batch of sketches, one per replicate.

    Attributes
    ----------
    form : str
        ``"mask"``, ``"index"`` or ``"matrix"``.
    values : array
        (R, d) diagonal values, (R, k) indices or (R, d, d) matrices.
    scale : float
        Value of the kept coordinates in index form (d/k for Rand-K, n for Permutation).
    """

    form: str
    values: Any
    scale: float = 1.0

    def point(self, xp: Any, v: Any, z: Any) -> Any:
        """The sketched point v + S z, dense (R, d); ``v=None`` is the zero shift (S z alone)."""
        if self.form == "mask":
            sz = self.values * z
        elif self.form == "matrix":
            sz = (self.values @ z[..., None])[..., 0]
        else:
            kept = self.scale * xp.take_along_axis(z, self.values, axis=1)
            sz = scatter(xp, self.values, kept, z.shape[1])
        return sz if v is None else v + sz

    def adjoint(self, xp: Any, g: Any) -> Any:
        """Sᵀ g for a dense (R, d) batch g, dense (R, d)."""
        if self.form == "mask":
            return self.values * g
        if self.form == "matrix":
            return (xp.matrix_transpose(self.values) @ g[..., None])[..., 0]
        kept = self.scale * xp.take_along_axis(g, self.values, axis=1)
        return scatter(xp, self.values, kept, g.shape[1])

    def gradient(self, xp: Any, problem: Any, v: Any, z: Any) -> Any:
        """The double-sketched gradient Sᵀ∇f(v + S z) of ``problem`` f, dense (R, d) (``v=None``:
        zero shift)."""
        return self.adjoint(xp, problem.grad(self.point(xp, v, z)))

    def coords(self, xp: Any) -> Any:
        """Mean number of coordinates the sketch keeps, over the batch.

        A float in index and matrix form; in mask form a 0-d float64 array left on the
        device, so that a running sum of it syncs only where a checkpoint converts it.
        """
        if self.form == "mask":
            return xp.mean(xp.astype(xp.count_nonzero(self.values, axis=1), xp.float64))
        return float(self.values.shape[1])


class Sampler:
    """Draws a batch of sketches of one distribution in the requested form.

    Parameters
    ----------
    sketch : sketch distribution
        From :mod:`mastbench.sketches`.
    form : {"auto", "mask", "index"}
        ``auto`` uses the index form for Rand-K and Permutation, the mask form for other
        diagonal sketches and the matrix form otherwise.  ``mask`` forces the mask form;
        ``index`` is only valid for Rand-K and Permutation.  Rand-K and Permutation draw the
        same sketches in both forms for the same seed (``sample`` and ``sample_indices`` share
        their random keys), which the index-vs-mask tests rely on.
    block : int
        For a Permutation sketch, which of its n jointly sampled blocks this sampler returns
        (its marginal is Rand-(d/n) with scale n).
    """

    def __init__(self, sketch: Any, form: str = "auto", block: int = 0):
        from mastbench.sketches import Permutation, RandK

        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        self.sketch = sketch
        self.d = int(sketch.d)
        self.block = block
        self.is_permutation = isinstance(sketch, Permutation)
        index = isinstance(sketch, RandK | Permutation)
        diagonal = bool(getattr(sketch, "diagonal", True))
        if form == "index" and not index:
            raise ValueError(
                f"form='index' needs a RandK or Permutation sketch, got {type(sketch).__name__}"
            )
        if form == "mask" and not diagonal:
            raise ValueError(f"form='mask' needs a diagonal sketch, got {type(sketch).__name__}")
        if form == "auto":
            form = "index" if index else ("mask" if diagonal else "matrix")
        self.form = form
        if self.is_permutation:
            self.scale = float(sketch.n)
        elif index:
            self.scale = self.d / sketch.k
        else:
            self.scale = 1.0

    def split(self, joint: Any) -> Draw:
        """This sampler's block of a joint Permutation draw ((R, n, q) indices or (R, n, d))."""
        values = joint[:, self.block, :]
        return Draw(self.form, values, self.scale)

    def draw(self, rng: Generator, size: int, dtype: Any = None) -> Draw:
        """A batch of ``size`` sketches in this sampler's form, values of ``dtype``.

        ``dtype`` is the problem's (default float64); the random draws do not depend on it.
        """
        if self.form == "index":
            values = self.sketch.sample_indices(rng, size)
        else:
            values = self.sketch.sample(rng, size, dtype=dtype)
        if self.is_permutation:
            return self.split(values)
        return Draw(self.form, values, self.scale)


def _fast_indexing(xp: Any) -> bool:
    return array_api_compat.is_numpy_namespace(xp) or array_api_compat.is_cupy_namespace(xp)


def scatter(xp: Any, idx: Any, values: Any, d: int) -> Any:
    """Dense (R, d) array with ``values`` (R, k) at columns ``idx`` (R, k), zero elsewhere.

    Indices within a row must be distinct.  NumPy/CuPy use fancy-index assignment (O(Rk) after
    the O(Rd) zero fill); other namespaces a one-hot contraction (O(Rkd)).
    """
    R = idx.shape[0]
    if _fast_indexing(xp):
        out = xp.zeros((R, d), dtype=values.dtype, device=array_api_compat.device(values))
        rows = xp.arange(R, device=array_api_compat.device(idx))[:, None]
        out[rows, idx] = values
        return out
    cols = xp.arange(d, device=array_api_compat.device(idx))
    onehot = xp.astype(idx[:, :, None] == cols[None, None, :], values.dtype)
    return xp.sum(onehot * values[:, :, None], axis=1)


def descend(xp: Any, x: Any, step: float, g: Any) -> Any:
    """x − step·g, in place in x and g on NumPy/CuPy (no (R, d) temporaries), functional elsewhere.

    ``x`` must be the method's own iterate and ``g`` a fresh temporary of the caller's.
    """
    if _fast_indexing(xp):
        g *= step
        x -= g
        return x
    return x - step * g


def scatter_subtract(xp: Any, x: Any, idx: Any, values: Any) -> Any:
    """x − scatter(idx, values): in place O(Rk) on NumPy/CuPy, functional elsewhere."""
    if _fast_indexing(xp):
        rows = xp.arange(x.shape[0], device=array_api_compat.device(idx))[:, None]
        x[rows, idx] -= values
        return x
    return x - scatter(xp, idx, values, x.shape[1])


class SparseGradient:
    """∇f(v + scatter(idx, w))[idx] for index sketches, without forming dense points.

    For a :class:`~problems.quadratic.Quadratic` f = ½xᵀAx − bᵀx this is
    c[idx] + A[idx, idx] w with c = Av − b: O(k²) per replicate.  Other problems fall back to
    a dense evaluation (scatter, full gradient, gather), O(cost of ∇f).
    """

    def __init__(self, problem: Any, v: Any):
        self.problem = problem
        self.v = v
        self.quadratic = isinstance(problem, Quadratic)
        if self.quadratic:
            xp = problem.xp
            self.c = (v @ problem.A) - problem.b
            self.A_flat = xp.reshape(problem.A, (-1,))

    def deviation(self, xp: Any, x: Any, idx: Any) -> Any:
        """(x − v)[idx] for a batch x (R, d) and indices (R, k), in O(k) per replicate."""
        R, k = idx.shape
        v_idx = xp.reshape(xp.take(self.v, xp.reshape(idx, (-1,))), (R, k))
        return xp.take_along_axis(x, idx, axis=1) - v_idx

    def __call__(self, xp: Any, idx: Any, w: Any) -> Any:
        """Restricted gradient (R, k) at the points v + scatter(idx, w)."""
        R, k = idx.shape
        d = self.problem.d
        if self.quadratic:
            flat = xp.reshape(idx, (-1,))
            c_idx = xp.reshape(xp.take(self.c, flat), (R, k))
            pairs = xp.reshape(idx[:, :, None] * d + idx[:, None, :], (-1,))
            A_sub = xp.reshape(xp.take(self.A_flat, pairs), (R, k, k))
            return c_idx + (A_sub @ w[..., None])[..., 0]
        y = self.v + scatter(xp, idx, w, d)
        return xp.take_along_axis(self.problem.grad(y), idx, axis=1)


def host_lambda_max_gram(matrices: np.ndarray) -> np.ndarray:
    """λ_max(S_jᵀS_j) for a stack of (N, d, d) matrices, on the host."""
    gram = np.einsum("nij,nik->njk", matrices, matrices)
    return np.linalg.eigvalsh(gram)[:, -1]
