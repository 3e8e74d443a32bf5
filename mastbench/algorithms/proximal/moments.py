"""The exact gradient moments that RAMDA's dual averages estimate (arXiv 2403.14398, proof of
Theorem 2, (17)–(18)): ∇f and the minibatch E[g∘g], and the gaps of V/α and U/α to them."""

from __future__ import annotations

from typing import Any

from mastbench.backend import device_of
from mastbench.problems.base import FiniteSum
from mastbench.validation import check_int

__all__ = ["expected_squared_gradient", "moment_gaps"]


def expected_squared_gradient(f: FiniteSum, W: Any, batch_size: int) -> Any:
    """E[g∘g] of the minibatch gradient g at each row of W (indices drawn with replacement).

    E[g∘g] = ∇f∘∇f + (1/b)((1/n)Σ_i ∇f_i∘∇f_i − ∇f∘∇f), exact (ramda.md §9, check 2(c)).
    f must be a :class:`~problems.base.FiniteSum` (``TypeError``), W of shape (R, d)
    (``ValueError``) and b = ``batch_size`` an integer ≥ 1 (``TypeError``/``ValueError``).
    """
    if not isinstance(f, FiniteSum):
        raise TypeError(f"f must be a problems.FiniteSum, got {type(f).__name__}")
    if len(W.shape) != 2 or W.shape[1] != f.d:
        raise ValueError(f"W must have shape (R, d) with d={f.d}, got {W.shape}")
    batch_size = check_int("batch_size", batch_size, low=1)
    xp = f.xp
    R, d = W.shape
    n = f.n
    rows = xp.reshape(xp.broadcast_to(W[:, None, :], (R, n, d)), (R * n, d))
    idx = xp.reshape(xp.arange(n, device=device_of(W)), (n, 1))
    idx = xp.reshape(xp.broadcast_to(idx[None], (R, n, 1)), (R * n, 1))
    per_sample = xp.reshape(f.grad_batch(rows, idx), (R, n, d))
    mean = xp.mean(per_sample, axis=1)
    second = xp.mean(per_sample * per_sample, axis=1)
    return mean * mean + (second - mean * mean) / batch_size


def moment_gaps(f: FiniteSum, batch_size: int, W: Any, V: Any, U: Any, alpha: float) -> dict:
    """Per replicate, at the averaged iterate W (each (R,); the first two are 0 when α = 0):

    ``dual_gap2`` ‖V/α − ∇f(W)‖², ``moment_gap2_rel`` ‖U/α − E[g∘g](W)‖²/‖E[g∘g](W)‖² and
    ``grad_noise2`` E‖g − ∇f(W)‖² of the minibatch gradient g (O(n) component gradients).
    """
    xp = f.xp
    grad = f.grad(W)
    second = expected_squared_gradient(f, W, batch_size)
    if alpha == 0:
        zero = xp.zeros((W.shape[0],), dtype=W.dtype, device=device_of(W))
        dual, moment = zero, zero
    else:
        diff = V / alpha - grad
        dual = xp.sum(diff * diff, axis=-1)
        diff = U / alpha - second
        moment = xp.sum(diff * diff, axis=-1) / xp.sum(second * second, axis=-1)
    return {
        "dual_gap2": dual,
        "moment_gap2_rel": moment,
        "grad_noise2": xp.sum(second - grad * grad, axis=-1),
    }
