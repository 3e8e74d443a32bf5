"""How the effective weights Ŵ of a pruning method are built from its trained parameters.

Three parameterizations of arXiv 2402.17902: plain weights (ACDC, magnitude pruning), group
powerpropagation Ŵ_B = ‖V_B‖·V_B (Lemma 2.3) and the softmax attention mask of SA++
(Algorithm 1), with the chain-rule gradients the optimizers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastbench.problems.group_structured import GroupProblem

__all__ = ["KINDS", "Parameterization"]

KINDS = ("plain", "powerprop", "attention")


@dataclass(frozen=True)
class Parameterization:
    """How the effective weights Ŵ are built from the trained parameters.

    ``kind``: ``"plain"`` (Ŵ = W ⊙ mask; ACDC, magnitude pruning), ``"powerprop"``
    (Ŵ_B = ‖V_B‖·V_B ⊙ mask; Lemma 2.3) or ``"attention"`` (Ŵ = W ⊙ (A ⊙ mask), A = N·softmax(L)
    per block; SA++ Alg. 1, optionally clipped to [density, 1/density]).
    """

    kind: str
    problem: GroupProblem
    clip: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

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
