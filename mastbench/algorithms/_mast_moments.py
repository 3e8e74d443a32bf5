"""The moment maps the MAST methods declare for the exact engine (``mastbench.exact``).

On a quadratic f(x) = ½xᵀAx − bᵀx + const every MAST method is an affine recursion
y⁺ = K y + h in y = x − v with a fresh random (K, h) per step (``theory/mast.md`` §6.1 [D]);
each function below builds the :class:`~mastbench.exact.moment_maps.MomentMap` of one method
from its hyperparameters, with c = ∇f(v) = Av − b:

- DSGD option I: K = I − γSᵀAS, h = −γSᵀc (closed-form sketch moments);
- DSGD option II: the minibatch mean (A_B, c_B) in place of (A, c), an optional compressor;
- importance sampling: K_j = I − γ(w_j/q_j)S_jᵀAS_j, h_j = −γ(w_j/q_j)S_jᵀc, j ~ q;
- distributed DSGD: K = I − (γ/M)Σ_i S_iᵀA_iS_i, h = −(γ/M)Σ_i S_iᵀc_i;
- L-SVRDSG: the augmented state (y, z, G) (or (y, z) when resampling), z = w − v.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from mastbench.exact.engine import MAX_BRANCHES, quadratic_components
from mastbench.exact.moment_maps import EnumeratedStep, IndependentClientsStep, SketchedStep
from mastbench.sketches import Sketch
from mastbench.validation import check_int, host_array

__all__ = ["distributed_map", "dsgd_map", "importance_map", "l_svrdsg_map", "quadratic_form"]


def quadratic_form(problem: Any, name: str = "problem") -> tuple[np.ndarray, np.ndarray, float]:
    """(A, b, const) of a quadratic problem on the host; ``TypeError`` for anything else."""
    if not callable(getattr(problem, "quadratic_form", None)):
        raise TypeError(
            f"{name} must be a quadratic (problems.QuadraticForm with quadratic_form()), "
            f"got {type(problem).__name__}"
        )
    A, b, const = problem.quadratic_form()
    return np.asarray(A, dtype=float), np.asarray(b, dtype=float), float(const)


def _sketch(name: str, sketch: Any, d: int) -> Sketch:
    if not isinstance(sketch, Sketch):
        raise TypeError(f"{name} must be a mastbench.sketches.Sketch, got {type(sketch).__name__}")
    if sketch.d != d:
        raise ValueError(f"{name} has dimension {sketch.d}, the problem has d={d}")
    return sketch


def host_shift(shift: Any, d: int) -> np.ndarray:
    """The shift v as a host (d,) array (0 when ``None``)."""
    return np.zeros(d) if shift is None else host_array("shift", shift, (d,))


def _batch_weights(n: int, batch_size: int, replacement: bool) -> tuple[float, float]:
    """(α, β) with E_B[A_B ⊗ A_B] = α Σ_i A_i⊗A_i + β A⊗A for the minibatch mean A_B."""
    b = batch_size
    if replacement:
        return 1.0 / (b * n), (b - 1) / b
    if n == 1:
        return 0.0, 1.0
    return (n - b) / (b * n * (n - 1)), (b - 1) * n / (b * (n - 1))


def dsgd_map(method: Any, problem: Any) -> SketchedStep:
    """DSGD options I and II (:class:`~mastbench.algorithms.mast.DSGD`).

    Option II sums the minibatch exactly: E_B[A_B ⊗ A_B] = α Σ_i A_i⊗A_i + β A⊗A with
    α = (n−b)/(b n (n−1)), β = (b−1)n/(b(n−1)) without replacement and α = 1/(bn),
    β = (b−1)/b with replacement; the compressor multiplies the γ² terms entrywise by
    E[c cᵀ] of its diagonal.  The components come from :func:`quadratic_components`.
    """
    A, b, _ = quadratic_form(problem)
    d = A.shape[0]
    sketch = _sketch("sketch", method.sketch, d)
    c = A @ host_shift(method.shift, d) - b
    if method.option == "I":
        return SketchedStep(sketch, A, c, method.gamma)
    A_i, b_i, _ = quadratic_components(problem)
    n = A_i.shape[0]
    batch = check_int("batch_size", method.batch_size, low=1, high=None if method.replace else n)
    alpha, beta = _batch_weights(n, batch, method.replace)
    compressor = None
    if method.compressor is not None:
        compressor = _sketch("compressor", method.compressor, d)
    c_i = A_i @ host_shift(method.shift, d) - b_i
    return SketchedStep(
        sketch,
        A,
        c,
        method.gamma,
        components=(A_i, c_i),
        alpha=alpha,
        beta=beta,
        compressor=compressor,
    )


def importance_map(method: Any, problem: Any) -> EnumeratedStep:
    """DSGD with importance sampling q over a Discrete sketch (branches with q_j > 0)."""
    A, b, _ = quadratic_form(problem)
    d = A.shape[0]
    sketch = _sketch("sketch", method.sketch, d)
    outcomes, w = sketch.support(max_outcomes=MAX_BRANCHES)
    S = np.einsum("ni,ij->nij", outcomes, np.eye(d)) if sketch.diagonal else outcomes
    q = method.probabilities
    keep = q > 0
    S, w, q = S[keep], w[keep], q[keep]
    c = A @ host_shift(method.shift, d) - b
    scale = method.gamma * w / q
    B = np.swapaxes(S, 1, 2) @ A @ S
    Ks = np.eye(d)[None] - scale[:, None, None] * B
    hs = -scale[:, None] * np.einsum("nki,k->ni", S, c)
    return EnumeratedStep(Ks, hs, q)


def distributed_map(method: Any, problems: Any) -> EnumeratedStep | IndependentClientsStep:
    """Distributed DSGD: a joint Permutation (IST) is enumerated, independent clients use
    their closed-form moments (the cross-client terms factorize)."""
    forms = [quadratic_form(p, f"problems[{i}]") for i, p in enumerate(problems)]
    d = forms[0][0].shape[0]
    if any(f[0].shape != (d, d) for f in forms):
        raise ValueError("all client problems must have the same dimension")
    M = len(forms)
    v = host_shift(method.shift, d)
    As = [f[0] for f in forms]
    cs = [f[0] @ v - f[1] for f in forms]
    step = method.gamma
    if method.joint:
        perm = _sketch("sketches", method.sketches, d)
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
        return EnumeratedStep(np.eye(d)[None] - step / M * Bsum, -step / M * hsum, w)
    if len(method.sketches) != M:
        raise ValueError(
            f"sketches must hold one sketch per client ({M}), got {len(method.sketches)}"
        )
    sketches = [_sketch(f"sketches[{i}]", s, d) for i, s in enumerate(method.sketches)]
    return IndependentClientsStep(sketches, As, cs, step)


class LSVRDSGStep(EnumeratedStep):
    """L-SVRDSG's augmented-state map, its start and its Lyapunov readouts.

    State u = (y, z, G) (fixed minibatch) or (y, z) (resampled), z = w − v.  The start has
    z_0 = y_0 and G_0 = B_Q y_0 + e_Q over the initial minibatch Q.  Readouts:
    ``reference_gap`` = E (1/N)Σ_j‖∇f_j(w_t) − ∇f_j(x_D*)‖², ``lyapunov`` Φ_t =
    E‖x_t − x_D*‖² + (4γ²/p)·reference_gap (the L-SVRG Lyapunov function, §4 T-VR) and, for
    the fixed minibatch, ``reference_error`` = E‖G_t − ∇f_D(w_t)‖².
    """

    def __init__(self, Ks, hs, weights, *, B_batch, e_batch, H, step, prob, resample):
        super().__init__(Ks, hs, weights)
        self.B_batch, self.e_batch, self.H = B_batch, e_batch, H
        self.step, self.prob, self.resample = step, prob, resample

    def start(self, y0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.resample:
            m0 = np.concatenate([y0, y0])
            return m0, np.outer(m0, m0)
        n_batch, d = self.e_batch.shape
        states = np.concatenate(
            [
                np.broadcast_to(y0, (n_batch, d)),
                np.broadcast_to(y0, (n_batch, d)),
                self.B_batch @ y0 + self.e_batch,
            ],
            axis=-1,
        )
        return states.mean(axis=0), states.T @ states / n_batch

    def readouts(self, geometry: Any, m: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
        d = geometry.A.shape[0]
        ys = geometry.y_star
        mz, Pz = m[..., d : 2 * d], P[..., d : 2 * d, d : 2 * d]
        Cz = Pz - np.einsum("...i,j->...ij", mz, ys) - np.einsum("i,...j->...ij", ys, mz)
        Cz = Cz + np.outer(ys, ys)
        gap = np.einsum("ij,...ji->...", self.H, Cz)
        dist2 = geometry.readouts(m[..., :d], P[..., :d, :d])["dist2"]
        extra = {"reference_gap": gap, "lyapunov": dist2 + 4 * self.step**2 / self.prob * gap}
        if not self.resample:
            c = geometry.c
            L = np.hstack([np.zeros((d, d)), -geometry.A_bar, np.eye(d)])
            err = np.einsum("ij,...jk,lk->...il", L, P, L)
            extra["reference_error"] = np.trace(err, axis1=-2, axis2=-1) - 2 * (m @ L.T) @ c + c @ c
        return extra


def l_svrdsg_map(method: Any, problem: Any) -> LSVRDSGStep:
    """L-SVRDSG on the augmented state, its N·(1 − p + p·C(N, b)) branches enumerated
    (``theory/mast.md`` §3.3, §6.1 end)."""
    A, b, _ = quadratic_form(problem)
    d = A.shape[0]
    sketch = _sketch("sketch", method.sketch, d)
    outcomes, _ = sketch.support(max_outcomes=MAX_BRANCHES)
    S = np.einsum("ni,ij->nij", outcomes, np.eye(d)) if sketch.diagonal else outcomes
    N = S.shape[0]
    step, prob, batch_size = method.gamma, float(method.prob), method.batch
    resample = method.minibatch == "resampled"
    c = A @ host_shift(method.shift, d) - b
    B = np.swapaxes(S, 1, 2) @ A @ S  # ∇f_j(v + y) = B_j y + e_j
    e = np.einsum("nki,k->ni", S, c)
    batches = np.array(list(itertools.combinations(range(N), batch_size)))
    B_batch, e_batch = B[batches].mean(axis=1), e[batches].mean(axis=1)
    n_batch = len(batches)
    eye, zero = np.eye(d), np.zeros((d, d))
    if resample:
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
    H = np.einsum("nki,nkj->ij", B, B) / N  # (1/N) Σ_j B_jᵀB_j
    return LSVRDSGStep(
        Ks,
        hs,
        ws,
        B_batch=B_batch,
        e_batch=e_batch,
        H=H,
        step=step,
        prob=prob,
        resample=resample,
    )
