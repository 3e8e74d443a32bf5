"""SequentialAttention++ (Yasuda, Axiotis, Fu, Bateni, Mirrokni; arXiv 2402.17902): theorems.

Part 1 (differentiable pruning = nonconvex group regularization) lives in
:mod:`.regularizers`: ``seqattn.mask-equivalence``, ``seqattn.normalized-softmax``,
``seqattn.threshold``, ``seqattn.unique-sparse-minimum``.  Part 2 (combinatorial methods) in
:mod:`.greedy`: ``seqattn.omp-equivalence`` (Sequential Attention, ICLR 2023,
arXiv 2209.14881), ``seqattn.group-omp-rate``, ``seqattn.ompr`` (Theorem B.3), ``seqattn.iht``.
The algorithms as implemented, step by step against independent references:
:mod:`.references` (``seqattn.iht-reference``,
``seqattn.omp-reference``, ``seqattn.ompr-reference``, ``seqattn.sa-reference``) and :mod:`.phased`
(``seqattn.sa-pp-reference``, ``seqattn.acdc-reference``,
``seqattn.magnitude-pruning-reference``, ``seqattn.powerprop-reference``: trajectory,
scheduled sparsity, 𝓛 ≥ 𝓛(β*_k)).
Importing this package registers every theorem of its modules.  Mathematics and caveats:
``shared/theory/seqattn.md`` (the unnormalized softmax mask of Lemma 2.1 is not covered by
Theorem 1.1; the normalized softmax the algorithm uses is a squared group-ℓ1 penalty).
"""

from mastbench._discovery import import_public_submodules

import_public_submodules(__name__)
