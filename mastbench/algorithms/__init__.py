"""Reference implementations of the seed papers' algorithms, batched over replicates.

Each family lives in its own module (``mast``, ``proximal``, ``frank_wolfe``, ``pruning``)
and registers its algorithms in the table of :mod:`mastbench.algorithms._registry`.
Algorithms are plain functions ``run(problem, x0, *, step, iters, rng, replicates, ...)``
returning a :class:`~mastbench.trace.Trace`.

Note: ``mastbench.algorithms.frank_wolfe`` is the function (the issue's public name); it
shadows the submodule of the same name as an attribute, while
``from mastbench.algorithms.frank_wolfe import ...`` still imports from the module.
"""

from mastbench.algorithms._registry import (
    AlgorithmSpec,
    all_algorithms,
    get_algorithm,
    register_algorithm,
)
from mastbench.algorithms.frank_wolfe import (
    away_frank_wolfe,
    frank_wolfe,
    pairwise_frank_wolfe,
    stochastic_frank_wolfe,
)
from mastbench.algorithms.mast import distributed_dsgd, dsgd, dsgd_importance, l_svrdsg
from mastbench.algorithms.proximal import madgrad, mda, prox_gen, prox_sgd, prox_ssi, ramda, rmda
from mastbench.algorithms.pruning import (
    acdc,
    block_magnitude_pruning,
    block_powerprop,
    group_omp,
    iht,
    ompr,
    sequential_attention,
    sequential_attention_pp,
)

__all__ = [
    "AlgorithmSpec",
    "acdc",
    "all_algorithms",
    "away_frank_wolfe",
    "block_magnitude_pruning",
    "block_powerprop",
    "distributed_dsgd",
    "dsgd",
    "dsgd_importance",
    "frank_wolfe",
    "get_algorithm",
    "group_omp",
    "iht",
    "l_svrdsg",
    "madgrad",
    "mda",
    "ompr",
    "pairwise_frank_wolfe",
    "prox_gen",
    "prox_sgd",
    "prox_ssi",
    "ramda",
    "register_algorithm",
    "rmda",
    "sequential_attention",
    "sequential_attention_pp",
    "stochastic_frank_wolfe",
]
