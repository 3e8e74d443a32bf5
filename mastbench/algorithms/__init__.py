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
from mastbench.algorithms.mast import *  # noqa: F403  (MAST: dsgd, dsgd_importance, ...)

__all__ = ["AlgorithmSpec", "all_algorithms", "get_algorithm", "register_algorithm"]
