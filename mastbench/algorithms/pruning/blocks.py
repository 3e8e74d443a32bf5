"""Block-sparse building blocks shared by the SequentialAttention++ family.

* :func:`check_group_count`: a number of groups checked against a GroupProblem;
* :func:`top_k_mask`: the per-replicate 0/1 mask of the k groups with the largest scores;
* :func:`sparse_metrics`: objective, support size and, when the best k-group solution can be
  enumerated, subopt vs β*_k and support recovery, as trace metrics.

Everything runs in the namespace of the problem, batched over replicates as (R, ·) arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mastbench.backend import array_namespace, device_of
from mastbench.problems.group_structured import MAX_SUBSETS, GroupProblem
from mastbench.validation import check_int

__all__ = ["check_group_count", "reference_solution", "sparse_metrics", "top_k_mask"]


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
