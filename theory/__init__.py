"""The theorem catalogue: one module per paper family, each theorem a :class:`Theorem` value.

Family modules (``theory/mast.py``, ``theory/ramda.py``, ...) are discovered and imported on
first use of :func:`get` or :func:`all`; each registers its theorems with
:func:`theory.theorem` or :func:`theory.register`.
"""

from mastbench.theory._core import (
    METHODS,
    TAGS,
    THEOREM_STATUSES,
    Evidence,
    Instance,
    NegativeControl,
    Theorem,
)
from mastbench.theory._registry import all_theorems, families, get, register, theorem

#: The issue's public name: ``theory.all(family=None)``.
all = all_theorems

__all__ = [
    "METHODS",
    "TAGS",
    "THEOREM_STATUSES",
    "Evidence",
    "Instance",
    "NegativeControl",
    "Theorem",
    "all",
    "all_theorems",
    "families",
    "get",
    "register",
    "theorem",
]
