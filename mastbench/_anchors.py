"""What a user would write instead of mastbench: DSGD in plain PyTorch and JAX (private).

The references of ``mastbench bench --compare`` (:mod:`mastbench._compare`).  Each runs the
update of Double Sketched SGD with Bernoulli masks (arXiv 2311.16086, Algorithm 1, option I,
shift v = 0), for R replicates at once::

    s ~ Bernoulli(p)^d / p,   x ← x − γ s ⊙ ∇f(s ⊙ x),

on a quadratic f(x) = ½xᵀAx − bᵀx (A symmetric: ∇f(x) = Ax − b) or on ℓ2-regularized
logistic regression f(w) = (1/n) Σ_i log(1 + exp(−y_i x_iᵀw)) + (l2/2)‖w‖², written the way
someone fluent in the library writes it:

* :func:`torch_dsgd`: tensors of shape (R, d), no autograd (the gradient in closed form,
  under ``torch.inference_mode``), masks from ``torch.rand``; the update may be passed through
  ``torch.compile`` (:func:`torch_update`).
* :func:`jax_dsgd`: the per-replicate update ``jax.vmap``-ed over the batch, inside a jitted
  ``lax.fori_loop``, masks from ``jax.random.bernoulli``; float64 (``jax_enable_x64``).
* :func:`torch_dsgd_loop`: the naive program, one replicate after the other with autograd.

With ``masks`` (shape (T, R, d)) the two batched references use those masks instead of their
own generator: fed the masks mastbench drew, they must reproduce its iterates to rounding,
which is how the comparison checks that they compute the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "jax_dsgd",
    "jax_gradient",
    "torch_dsgd",
    "torch_dsgd_loop",
    "torch_gradient",
    "torch_update",
]


# -- PyTorch -----------------------------------------------------------------------------------


def torch_gradient(kind: str, data: dict[str, Any], device: Any = None) -> Callable[[Any], Any]:
    """∇f of a batch Y (R, d) of float64 tensors, for ``kind`` "quadratic" or "logistic".

    ``data`` holds host arrays: ``A``, ``b`` (quadratic) or ``X`` (dense, (n, d)), ``y``
    (±1) and ``l2`` (logistic).
    """
    import torch

    def tensor(a: np.ndarray) -> Any:
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)

    if kind == "quadratic":
        A, b = tensor(data["A"]), tensor(data["b"])
        return lambda Y: Y @ A - b
    X, y, l2 = tensor(data["X"]), tensor(data["y"]), float(data["l2"])
    n = X.shape[0]
    Xt = X.T.contiguous()

    def logistic(Y: Any) -> Any:
        weights = torch.sigmoid(-(Y @ Xt) * y) * y
        return l2 * Y - (weights @ X) / n

    return logistic


def torch_update(
    grad: Callable[[Any], Any], step: float, compiled: bool = False
) -> Callable[[Any, Any], Any]:
    """The step x ← x − γ s ⊙ ∇f(s ⊙ x) as a function of (x, s), optionally ``torch.compile``-d.

    Raises whatever ``torch.compile`` raises when asked for and unavailable (no compiler).
    """
    import torch

    def update(x: Any, s: Any) -> Any:
        return x - step * s * grad(s * x)

    return torch.compile(update, dynamic=False) if compiled else update


def torch_dsgd(
    update: Callable[[Any, Any], Any],
    x0: np.ndarray,
    *,
    p: float,
    iters: int,
    seed: int = 0,
    masks: np.ndarray | None = None,
    device: Any = None,
) -> Any:
    """Run ``iters`` batched steps from x0 (R, d); the final iterates as a tensor (R, d)."""
    import torch

    x = torch.as_tensor(np.asarray(x0, dtype=np.float64), device=device).clone()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    given = None if masks is None else torch.as_tensor(masks, device=x.device)
    with torch.inference_mode():
        for t in range(iters):
            if given is None:
                keep = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
                s = (keep < p).to(x.dtype) / p
            else:
                s = given[t]
            x = update(x, s)
    return x


def torch_dsgd_loop(
    X: np.ndarray, y: np.ndarray, *, l2: float, p: float, step: float, iters: int, replicates: int
) -> np.ndarray:
    """DSGD on logistic regression written naively in PyTorch (CPU): the straw man.

    One replicate after the other; each step draws a Bernoulli mask s = c/p, evaluates the
    loss at the sketched point s ⊙ x with autograd and moves x by −γ s ⊙ ∇f(s ⊙ x).
    """
    import torch

    torch.manual_seed(0)
    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    d = Xt.shape[1]
    finals = []
    for _ in range(replicates):
        x = torch.zeros(d, dtype=torch.float64)
        for _ in range(iters):
            s = (torch.rand(d, dtype=torch.float64) < p).to(torch.float64) / p
            z = (s * x).requires_grad_(True)
            loss = torch.nn.functional.softplus(-yt * (Xt @ z)).mean() + 0.5 * l2 * (z * z).sum()
            (g,) = torch.autograd.grad(loss, z)
            with torch.no_grad():
                x = x - step * s * g
        finals.append(x)
    return torch.stack(finals).numpy()


# -- JAX ---------------------------------------------------------------------------------------


def jax_gradient(kind: str, data: dict[str, Any]) -> Callable[[Any], Any]:
    """∇f of one point w (d,) in JAX float64, for ``kind`` "quadratic" or "logistic".

    Needs ``jax_enable_x64`` set before it is called (the arrays are float64).
    """
    import jax
    import jax.numpy as jnp

    if kind == "quadratic":
        A, b = jnp.asarray(data["A"]), jnp.asarray(data["b"])
        return lambda w: A @ w - b
    X, y, l2 = jnp.asarray(data["X"]), jnp.asarray(data["y"]), float(data["l2"])
    n = X.shape[0]
    return lambda w: l2 * w - X.T @ (jax.nn.sigmoid(-(X @ w) * y) * y) / n


def jax_dsgd(grad: Callable[[Any], Any], *, step: float, p: float) -> dict[str, Callable]:
    """Jitted batched DSGD: ``{"run": run(x0, iters, key), "replay": replay(x0, masks)}``.

    ``run`` draws its masks with ``jax.random.bernoulli`` inside a ``lax.fori_loop`` (the
    number of steps is traced: one compilation serves every length); ``replay`` scans the
    given masks (T, R, d).  The update of one replicate is ``jax.vmap``-ed over the batch.
    """
    import jax
    from jax import lax

    def one(w: Any, s: Any) -> Any:
        return w - step * s * grad(s * w)

    batched = jax.vmap(one)

    @jax.jit
    def run(x0: Any, iters: Any, key: Any) -> Any:
        def body(_: Any, carry: tuple[Any, Any]) -> tuple[Any, Any]:
            x, key = carry
            key, sub = jax.random.split(key)
            s = jax.random.bernoulli(sub, p, x.shape).astype(x.dtype) / p
            return batched(x, s), key

        return lax.fori_loop(0, iters, body, (x0, key))[0]

    @jax.jit
    def replay(x0: Any, masks: Any) -> Any:
        return lax.scan(lambda x, s: (batched(x, s), None), x0, masks)[0]

    return {"run": run, "replay": replay}
