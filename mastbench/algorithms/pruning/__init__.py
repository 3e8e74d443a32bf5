"""Block sparsification: SequentialAttention++ and its baselines (arXiv 2402.17902).

Gradient-based methods (batched over R replicates, (R, d) arrays, in the problem's namespace;
:mod:`.phases`):

* :func:`sequential_attention_pp` — SA++ (Alg. 1 + §3.2–3.5 of ``shared/theory/seqattn.md``);
* :func:`acdc` — alternating compressed / decompressed training (Peste et al. 2021);
* :func:`block_magnitude_pruning` — dense training, keep the top-k blocks by ‖W_B‖_F, fine-tune;
* :func:`block_powerprop` — Ŵ_B = ‖V_B‖·V_B (group powerpropagation, Lemma 2.3), prune by
  ‖V_B‖², fine-tune.

Combinatorial methods (exact restricted minimizations; :mod:`.greedy`):
:func:`group_omp`, :func:`ompr`, :func:`iht`, :func:`sequential_attention`.

Each is a :class:`~mastbench.algorithms.method.Method` run by
:func:`mastbench.algorithms.driver.run`.  The problem is a
:class:`mastbench.problems.group_structured.GroupProblem`; every algorithm returns a
:class:`~mastbench.trace.Trace` with metrics ``objective``, ``support`` and, when the best
k-group solution can be enumerated, ``subopt`` (vs β*_k) and ``recovery``.
"""

from __future__ import annotations

from typing import Any

from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.algorithms.pruning.greedy import (
    IHT,
    OMPR,
    GroupOMP,
    SequentialAttention,
    group_omp,
    iht,
    ompr,
    sequential_attention,
)
from mastbench.algorithms.pruning.phases import (
    ACDC,
    BlockMagnitudePruning,
    BlockPowerprop,
    SequentialAttentionPP,
    acdc,
    block_magnitude_pruning,
    block_powerprop,
    sequential_attention_pp,
)

__all__ = [
    "ACDC",
    "IHT",
    "OMPR",
    "BlockMagnitudePruning",
    "BlockPowerprop",
    "GroupOMP",
    "SequentialAttention",
    "SequentialAttentionPP",
    "acdc",
    "block_magnitude_pruning",
    "block_powerprop",
    "group_omp",
    "iht",
    "ompr",
    "sequential_attention",
    "sequential_attention_pp",
]

PAPER = "Yasuda, Axiotis, Fu, Bateni, Mirrokni, SequentialAttention++, arXiv 2402.17902"
SA_PAPER = "Yasuda, Bateni, Chen, Fahrbach, Fu, Mirrokni, Sequential Attention, arXiv 2209.14881"


def _case(groups: int = 4, size: int = 2, **kwargs: Any):
    """make_case: a planted least-squares problem (60 samples, ``groups`` groups of ``size``,
    2 planted) and the keyword arguments ``kwargs`` (kept while the CLI reads it; the test
    cases are ``tests/algorithms/cases/seqattn.py``)."""

    def make_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        from mastbench.backend import rng
        from mastbench.problems.group_random import planted_least_squares

        problem, _ = planted_least_squares(60, groups, size, rng(0, xp, device), k=2)
        return (problem,), dict(kwargs)

    return make_case


_PHASE = {"k": 2, "step": 0.05, "dense_steps": 5, "final_steps": 5}
for _fn, _method, _paper, _stochastic, _make_case in (
    (
        sequential_attention_pp,
        SequentialAttentionPP,
        PAPER,
        True,
        _case(**_PHASE, sparsify_steps=3, sparse_steps=3, cycles=1),
    ),
    (acdc, ACDC, PAPER, True, _case(**_PHASE, sparse_steps=3, cycles=1)),
    (block_magnitude_pruning, BlockMagnitudePruning, PAPER, True, _case(**_PHASE)),
    (block_powerprop, BlockPowerprop, PAPER, True, _case(**_PHASE)),
    (iht, IHT, PAPER, False, _case(k=2, step=0.05, iters=5)),
    (group_omp, GroupOMP, PAPER, False, _case(k=2)),
    (ompr, OMPR, PAPER, False, _case(k=1, k_prime=2, iters=3)),
    (
        sequential_attention,
        SequentialAttention,
        SA_PAPER,
        True,
        _case(groups=5, size=1, k=2, steps=50),
    ),
):
    register_algorithm(
        AlgorithmSpec(
            name=_fn.__name__,
            family="seqattn",
            run=_fn,
            paper=_paper,
            stochastic=_stochastic,
            make_case=_make_case,
            method=_method,
        )
    )
