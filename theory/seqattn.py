"""SequentialAttention++ (Yasuda, Axiotis, Fu, Bateni, Mirrokni; arXiv 2402.17902): theorems.

Part 1 (differentiable pruning = nonconvex group regularization) lives in
:mod:`theory._seqattn_regularizers`: ``seqattn.mask-equivalence``, ``seqattn.normalized-softmax``,
``seqattn.threshold``, ``seqattn.unique-sparse-minimum``.  Part 2 (combinatorial methods) in
:mod:`theory._seqattn_greedy`: ``seqattn.omp-equivalence`` (Sequential Attention, ICLR 2023,
arXiv 2209.14881), ``seqattn.group-omp-rate``, ``seqattn.ompr`` (Theorem B.3), ``seqattn.iht``.
Importing this module registers all of them.  Mathematics and caveats:
``shared/theory/seqattn.md`` (the unnormalized softmax mask of Lemma 2.1 is not covered by
Theorem 1.1; the normalized softmax the algorithm uses is a squared group-ℓ1 penalty).
"""

from mastbench.theory import _seqattn_greedy, _seqattn_regularizers

__all__ = ["_seqattn_greedy", "_seqattn_regularizers"]
