"""Shared machinery of the block-pruning algorithms (SequentialAttention++ family).

* :func:`top_k_mask`: the per-replicate 0/1 mask of the k groups with the largest scores;
* :func:`sparsity_schedule` / :func:`kept_blocks`: the exponential sparsification schedule
  sparsity(τ) = s(1 − e^{−cτ})/(1 − e^{−c}) of arXiv 2402.17902 §3 (c = 4);
* :class:`Optimizer`: heavy-ball momentum or Adam on a list of batched parameters, with
  ``reset()`` zeroing its state (done at every phase boundary);
* :func:`sparse_metrics`: objective, subopt vs the best k-group solution, support size and
  support recovery, as trace metrics;
* :func:`run_phases`: the phase loop (dense / sparsify / sparse) over a parameterization.

Everything runs in the namespace of the problem, batched over replicates as (R, ·) arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mastbench.algorithms.driver import broadcast_start
from mastbench.backend import array_namespace, device_of, to_numpy
from mastbench.problems.group_structured import MAX_SUBSETS, GroupProblem
from mastbench.trace import Trace, TraceRecorder, checkpoints
from mastbench.validation import check_generator, check_int, check_positive

__all__ = [
    "Optimizer",
    "Parameterization",
    "check_group_count",
    "initial_weights",
    "kept_blocks",
    "run_phases",
    "sparse_metrics",
    "sparsity_schedule",
    "top_k_mask",
]

PHASES = ("dense", "sparsify", "sparse")


def check_group_count(problem: Any, k: int, name: str = "k") -> int:
    """``k`` checked as a number of groups in [1, t] of ``problem``, a GroupProblem."""
    if not isinstance(problem, GroupProblem):
        raise TypeError(f"problem must be a GroupProblem, got {type(problem).__name__}")
    return check_int(name, k, low=1, high=problem.groups.t)


def top_k_mask(scores: Any, k: int) -> Any:
    """0/1 float mask (R, t) of the k largest entries of each row of ``scores`` (R, t).

    Exactly k entries per row, also with ties (a stable sort keeps the later index of a tie).
    """
    xp = array_namespace(scores)
    t = scores.shape[-1]
    if k >= t:
        return xp.ones_like(scores)
    top = xp.argsort(scores, axis=-1, stable=True)[..., t - k :]
    positions = xp.arange(t, device=device_of(scores))
    chosen = xp.any(top[..., :, None] == positions, axis=-2)
    return xp.astype(chosen, scores.dtype)


def sparsity_schedule(tau: float | np.ndarray, target: float, c: float = 4.0) -> np.ndarray:
    """sparsity(τ) = s·(1 − e^{−cτ})/(1 − e^{−c}) for τ ∈ [0, 1] (SA++ §3.2, c = 4)."""
    tau = np.asarray(tau, dtype=float)
    c = check_positive("c", c)
    return target * (1.0 - np.exp(-c * tau)) / (1.0 - math.exp(-c))


def kept_blocks(steps: int, n_blocks: int, k: int, c: float = 4.0) -> np.ndarray:
    """Blocks kept after each of the ``steps`` pruning steps of one sparsification phase.

    k(j) = round((1 − sparsity(j/steps))·N), j = 1..steps, with target sparsity 1 − k/N, so
    k(steps) = k; non-increasing in j.
    """
    steps = check_int("steps", steps, low=1)
    target = 1.0 - k / n_blocks
    sparsity = sparsity_schedule(np.arange(1, steps + 1) / steps, target, c)
    kept = np.round((1.0 - sparsity) * n_blocks).astype(int)
    kept[-1] = k
    return np.maximum(kept, k)


class Optimizer:
    """Heavy-ball momentum (``"momentum"``; β = 0 is gradient descent) or Adam, batched.

    Update rules (per parameter p with gradient g):
    momentum: m ← βm + g, p ← p − ηm;
    Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − η m̂/(√v̂ + ε).
    """

    def __init__(self, kind: str, step: float, momentum: float = 0.9):
        if kind not in ("momentum", "adam"):
            raise ValueError(f"optimizer must be 'momentum' or 'adam', got {kind!r}")
        self.kind = kind
        self.step = check_positive("step", step)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.state: list[list[Any]] | None = None
        self.count = 0

    def reset(self) -> None:
        """Zero the optimizer state (momentum / Adam moments and bias-correction counter)."""
        self.state = None
        self.count = 0

    def state_norm(self) -> float:
        """Σ‖state‖² over all state arrays (0 right after :meth:`reset`)."""
        if self.state is None:
            return 0.0
        return float(sum(float(np.sum(to_numpy(s) ** 2)) for group in self.state for s in group))

    def update(self, params: Sequence[Any], grads: Sequence[Any]) -> list[Any]:
        """One step; returns the new parameters."""
        if self.state is None:
            self.state = [[g * 0.0 for g in grads]]
            if self.kind == "adam":
                self.state.append([g * 0.0 for g in grads])
        self.count += 1
        out = []
        if self.kind == "momentum":
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                self.state[0][i] = self.momentum * self.state[0][i] + g
                out.append(p - self.step * self.state[0][i])
            return out
        b1, b2, eps = 0.9, 0.999, 1e-8
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            self.state[0][i] = b1 * self.state[0][i] + (1 - b1) * g
            self.state[1][i] = b2 * self.state[1][i] + (1 - b2) * g * g
            m_hat = self.state[0][i] / (1 - b1**self.count)
            v_hat = self.state[1][i] / (1 - b2**self.count)
            xp = array_namespace(p)
            out.append(p - self.step * m_hat / (xp.sqrt(v_hat) + eps))
        return out


def reference_solution(problem: GroupProblem, k: int) -> Any:
    """The brute-force best k-group solution, or None when C(t, k) is too large to enumerate."""
    if math.comb(problem.groups.t, k) > MAX_SUBSETS:
        return None
    return problem.best_k_groups(k)


def sparse_metrics(problem: GroupProblem, k: int) -> dict[str, Callable[[Any], Any]]:
    """Trace metrics of (R, d) iterates: objective, support, and vs β*_k subopt, recovery.

    ``support`` counts groups with ‖x_i‖ > 1e-10·max_j ‖x_j‖; ``recovery`` is
    |supp(x) ∩ S*_k| / k with S*_k the support of the brute-force best k-group solution.
    """
    xp = problem.xp

    def active(x: Any) -> Any:
        norms = problem.group_norms(x)
        top = xp.max(norms, axis=-1, keepdims=True)
        return xp.astype(norms > 1e-10 * top, x.dtype)

    metrics: dict[str, Callable[[Any], Any]] = {
        "objective": problem.value,
        "support": lambda x: xp.sum(active(x), axis=-1),
    }
    best = reference_solution(problem, k)
    if best is not None:
        idx = xp.asarray(np.asarray(best.support, dtype=np.int64), device=problem.device)
        metrics["subopt"] = lambda x: problem.value(x) - best.value
        metrics["recovery"] = lambda x: xp.sum(xp.take(active(x), idx, axis=-1), axis=-1) / k
    return metrics


def initial_weights(problem: GroupProblem, x0: Any, rng: Any, replicates: int, scale: float) -> Any:
    """x0 broadcast to (R, d), or ``scale`` × standard normal (R, d) when x0 is None."""
    replicates = check_int("replicates", replicates, low=1)
    if rng is not None:
        check_generator("rng", rng)
    if x0 is None:
        if rng is None:
            raise ValueError("rng is required when x0 is None (random initialization)")
        return problem.asarray(to_numpy(rng.normal((replicates, problem.d)))) * scale
    return broadcast_start(problem, x0, replicates)


@dataclass
class Parameterization:
    """How the effective weights Ŵ are built from the trained parameters.

    ``kind``: ``"plain"`` (Ŵ = W ⊙ mask; ACDC, magnitude pruning), ``"powerprop"``
    (Ŵ_B = ‖V_B‖·V_B ⊙ mask; Lemma 2.3) or ``"attention"`` (Ŵ = W ⊙ (A ⊙ mask), A = N·softmax(L)
    per block; SA++ Alg. 1, optionally clipped to [density, 1/density]).
    """

    kind: str
    problem: GroupProblem
    clip: tuple[float, float] | None = None

    def attention(self, logits: Any) -> tuple[Any, Any, Any]:
        """(A, softmax s, 0/1 indicator of the unclipped entries) for logits (R, t)."""
        xp = self.problem.xp
        e = xp.exp(logits - xp.max(logits, axis=-1, keepdims=True))
        s = e / xp.sum(e, axis=-1, keepdims=True)
        A = self.problem.groups.t * s
        if self.clip is None:
            return A, s, xp.ones_like(A)
        lo, hi = self.clip
        inside = xp.astype((A >= lo) & (A <= hi), A.dtype)
        return xp.clip(A, lo, hi), s, inside

    def scale(self, W: Any, logits: Any, mask: Any) -> Any:
        """Per-block multiplier (R, t) of W in Ŵ."""
        if self.kind == "attention":
            return self.attention(logits)[0] * mask
        if self.kind == "powerprop":
            return self.problem.group_norms(W) * mask
        return mask

    def effective(self, W: Any, logits: Any, mask: Any) -> Any:
        """Ŵ (R, d)."""
        return W * self.problem.expand(self.scale(W, logits, mask))

    def scores(self, W: Any, logits: Any) -> Any:
        """Selection scores (R, t): A (attention), ‖V_B‖² (powerprop), ‖W_B‖ (plain)."""
        if self.kind == "attention":
            return self.attention(logits)[0]
        norms = self.problem.group_norms(W)
        return norms * norms if self.kind == "powerprop" else norms

    def gradients(self, W: Any, logits: Any, mask: Any) -> tuple[Any, Any, Any]:
        """(∂𝓛(Ŵ)/∂W, ∂𝓛(Ŵ)/∂L or None, ∇𝓛(Ŵ)) by the chain rule (no regularization)."""
        problem, xp = self.problem, self.problem.xp
        if self.kind == "attention":
            A, s, inside = self.attention(logits)
            a = A * mask
            g = problem.grad(W * problem.expand(a))
            h = ((g * W) @ problem.membership) * mask * inside
            g_logits = (problem.groups.t * s) * (h - xp.sum(h * s, axis=-1, keepdims=True))
            return g * problem.expand(a), g_logits, g
        if self.kind == "powerprop":
            r = problem.group_norms(W)
            g = problem.grad(W * problem.expand(r * mask))
            inner = (g * W) @ problem.membership
            safe = xp.where(r > 0, r, xp.ones_like(r))
            coef = xp.where(r > 0, inner / safe, xp.zeros_like(r)) * mask
            return problem.expand(r * mask) * g + problem.expand(coef) * W, None, g
        g = problem.grad(W * problem.expand(mask))
        return g * problem.expand(mask), None, g


def run_phases(
    name: str,
    problem: GroupProblem,
    W: Any,
    *,
    param: Parameterization,
    plan: Sequence[tuple[str, int]],
    k: int,
    optimizer: Optimizer,
    weight_decay: float,
    logit_decay: float,
    mode: str,
    reset_optimizer: bool,
    c: float,
    params: dict[str, Any],
) -> Trace:
    """Run the phases of ``plan`` ((phase, steps) with phase in dense/sparsify/sparse).

    dense: mask ≡ 1.  sparsify: before each of its steps, keep the k(j) blocks of
    :func:`kept_blocks` with the largest scores among the survivors (backward selection).
    sparse: the mask is frozen; entering it from a dense phase sets mask = top-k(scores).
    ``mode="pruning"`` zeroes W on blocks as they are masked (they come back as zeros in
    the next dense phase); ``"masking"`` keeps their values.  At every boundary the optimizer
    state is zeroed when ``reset_optimizer``.  ``params["boundaries"]`` records, per phase,
    its start, the scores, mask and trained weights W when it starts, and the optimizer state
    norm before and after the reset.
    """
    if mode not in ("masking", "pruning"):
        raise ValueError(f"mode must be 'masking' or 'pruning', got {mode!r}")
    weight_decay = check_positive("weight_decay", weight_decay, strict=False)
    logit_decay = check_positive("logit_decay", logit_decay, strict=False)
    xp, t_groups = problem.xp, problem.groups.t
    R = W.shape[0]
    logits = xp.zeros((R, t_groups), dtype=problem.dtype, device=problem.device)
    mask = xp.ones_like(logits)
    total = sum(steps for _, steps in plan)
    recorder = TraceRecorder(
        name, total, sparse_metrics(problem, k), checkpoints=checkpoints(total), params=params
    )
    boundaries: list[dict[str, Any]] = []
    recorder.record(0, param.effective(W, logits, mask))
    step = 0
    for phase, steps in plan:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        before = optimizer.state_norm()
        if reset_optimizer:
            optimizer.reset()
        if phase == "dense":
            mask = xp.ones_like(mask)
        elif phase == "sparse" and float(to_numpy(xp.max(xp.sum(mask, axis=-1)))) > k:
            mask = top_k_mask(param.scores(W, logits), k)
            if mode == "pruning":
                W = W * problem.expand(mask)
        boundaries.append(
            {
                "phase": phase,
                "start": step,
                "scores": to_numpy(param.scores(W, logits)),
                "mask": to_numpy(mask),
                "weights": to_numpy(W),
                "state_norm_before_reset": before,
                "state_norm_after_reset": optimizer.state_norm(),
            }
        )
        schedule = kept_blocks(steps, t_groups, k, c) if phase == "sparsify" else None
        for j in range(steps):
            if schedule is not None:
                scores = param.scores(W, logits)
                survivors = xp.where(mask > 0, scores, xp.full_like(scores, -math.inf))
                mask = mask * top_k_mask(survivors, int(schedule[j]))
                if mode == "pruning":
                    W = W * problem.expand(mask)
            gW, gL, _ = param.gradients(W, logits, mask)
            gW = gW + weight_decay * W
            if gL is None:
                (W,) = optimizer.update([W], [gW])
            else:
                W, logits = optimizer.update([W, logits], [gW, gL + logit_decay * logits])
            step += 1
            if recorder.due(step):
                recorder.record(step, param.effective(W, logits, mask))
    recorder.params["boundaries"] = boundaries
    recorder.params["final_mask"] = to_numpy(mask)
    return recorder.finish(param.effective(W, logits, mask))
