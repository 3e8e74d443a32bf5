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


for _fn, _method, _paper, _stochastic in (
    (sequential_attention_pp, SequentialAttentionPP, PAPER, True),
    (acdc, ACDC, PAPER, True),
    (block_magnitude_pruning, BlockMagnitudePruning, PAPER, True),
    (block_powerprop, BlockPowerprop, PAPER, True),
    (iht, IHT, PAPER, False),
    (group_omp, GroupOMP, PAPER, False),
    (ompr, OMPR, PAPER, False),
    (sequential_attention, SequentialAttention, SA_PAPER, True),
):
    register_algorithm(
        AlgorithmSpec(
            name=_fn.__name__,
            family="seqattn",
            run=_fn,
            paper=_paper,
            stochastic=_stochastic,
            method=_method,
        )
    )
