"""Reference implementations of the seed papers' algorithms, batched over replicates.

Each family lives in its own module (``mast``, ``proximal``, ``frank_wolfe``, ``pruning``)
and registers its algorithms in the table of :mod:`mastbench.algorithms._registry`.
Algorithms are plain functions ``run(problem, x0, *, step, iters, rng, replicates, ...)``
returning a :class:`~mastbench.trace.Trace`.
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

__all__ = [
    "AlgorithmSpec",
    "all_algorithms",
    "away_frank_wolfe",
    "frank_wolfe",
    "get_algorithm",
    "pairwise_frank_wolfe",
    "register_algorithm",
    "stochastic_frank_wolfe",
]
from mastbench.algorithms import pruning  # noqa: F401  (registers the seqattn family)
from mastbench.algorithms.proximal import (  # noqa: F401  (RAMDA family, public names)
    madgrad,
    mda,
    prox_gen,
    prox_sgd,
    prox_ssi,
    ramda,
    rmda,
)
