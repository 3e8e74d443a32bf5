"""Small valid calls of every algorithm in the table, one module per family.

Each family module defines ``CASES``: algorithm name → ``make_case(xp, device) -> (args,
kwargs)``, a small valid call of the algorithm's wrapper with data in namespace ``xp`` on
``device`` (``kwargs`` excludes ``rng`` and ``replicates``).  Test fixtures live here, not in
the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

FAMILIES = ("mast", "ramda", "frank_wolfe", "seqattn")

Case = Callable[[Any, Any], tuple[tuple[Any, ...], dict[str, Any]]]


def all_cases() -> dict[str, Case]:
    """Every family's cases, by algorithm name."""
    out: dict[str, Case] = {}
    for family in FAMILIES:
        out.update(importlib.import_module(f"tests.algorithms.cases.{family}").CASES)
    return out


def case_for(name: str) -> Case | None:
    """The case of algorithm ``name`` (``None`` when its family module has none yet)."""
    return all_cases().get(name)
