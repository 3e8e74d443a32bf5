"""Small valid calls of the seqattn algorithms (see :mod:`tests.algorithms.cases`)."""

from __future__ import annotations

from typing import Any

from mastbench.problems.group_random import planted_least_squares

from mastbench.backend import rng


def _case(groups: int = 4, size: int = 2, **kwargs: Any):
    """A planted least-squares problem (60 samples, ``groups`` groups of ``size``, 2 planted)
    and the keyword arguments ``kwargs``."""

    def make_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        problem, _ = planted_least_squares(60, groups, size, rng(0, xp, device), k=2)
        return (problem,), dict(kwargs)

    return make_case


_PHASE = {"k": 2, "step": 0.05, "dense_steps": 5, "final_steps": 5}

CASES = {
    "sequential_attention_pp": _case(**_PHASE, sparsify_steps=3, sparse_steps=3, cycles=1),
    "acdc": _case(**_PHASE, sparse_steps=3, cycles=1),
    "block_magnitude_pruning": _case(**_PHASE),
    "block_powerprop": _case(**_PHASE),
    "iht": _case(k=2, step=0.05, iters=5),
    "group_omp": _case(k=2),
    "ompr": _case(k=1, k_prime=2, iters=3),
    "sequential_attention": _case(groups=5, size=1, k=2, steps=50),
}
