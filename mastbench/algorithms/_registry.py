"""The table of algorithms under test (as in optax's test tables).

Each family module registers an :class:`AlgorithmSpec` for every public algorithm.  One
parametrized test suite (``tests/algorithms/test_table.py``, with a small valid call of each
algorithm in ``tests/algorithms/cases``) checks every algorithm for the common contract: a
:class:`~mastbench.trace.Trace` of the right shapes, reproducibility from the seed, the same
results on every backend, and clear errors on bad input; ``mastbench run`` builds its calls
with :mod:`mastbench.cases`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mastbench._discovery import import_public_submodules

__all__ = ["AlgorithmSpec", "all_algorithms", "get_algorithm", "register_algorithm"]


@dataclass(frozen=True)
class AlgorithmSpec:
    """One algorithm under test.

    Attributes
    ----------
    name : str
        Public name (the function's name).
    family : str
        Paper family: ``"mast"``, ``"ramda"``, ``"frank_wolfe"``, ``"seqattn"``.
    run : callable
        The algorithm function; returns a :class:`~mastbench.trace.Trace`.
    paper : str
        Citation with equation or algorithm label.
    stochastic : bool
        Whether the algorithm draws random numbers (then it takes ``rng`` and
        ``replicates``).
    method : type or None
        The :class:`~mastbench.algorithms.method.Method` class ``run`` wraps.
    """

    name: str
    family: str
    run: Callable[..., Any]
    paper: str
    stochastic: bool
    method: type | None = None


_ALGORITHMS: dict[str, AlgorithmSpec] = {}


def register_algorithm(spec: AlgorithmSpec) -> AlgorithmSpec:
    """Add ``spec`` to the table; names are unique."""
    if spec.name in _ALGORITHMS and _ALGORITHMS[spec.name] is not spec:
        raise ValueError(f"an algorithm named {spec.name!r} is already registered")
    _ALGORITHMS[spec.name] = spec
    return spec


def _load() -> None:
    import_public_submodules("mastbench.algorithms")


def all_algorithms(family: str | None = None) -> list[AlgorithmSpec]:
    """Every registered algorithm (of one ``family`` when given), sorted by name."""
    _load()
    return [s for _, s in sorted(_ALGORITHMS.items()) if family in (None, s.family)]


def get_algorithm(name: str) -> AlgorithmSpec:
    """The spec of algorithm ``name``; a clear error lists the known names otherwise."""
    _load()
    try:
        return _ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(_ALGORITHMS))
        raise KeyError(f"unknown algorithm {name!r}; known algorithms: {known}") from None
