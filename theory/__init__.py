"""The theorem catalogue: one subpackage per paper family, each theorem a :class:`Theorem`.

Family subpackages (``mastbench.theory.mast``, ``.ramda``, ``.frank_wolfe``, ``.seqattn``;
:data:`PACKAGES` maps each theorem-id prefix to its subpackage) are imported on first use:
:func:`get` imports only the family of the id it is asked for, :func:`all` every family and
the ``mastbench.plugins`` entry points.  Each module registers its theorems with
:func:`theorem` or :func:`register`.
"""

from mastbench.theory._core import (
    METHODS,
    TAGS,
    THEOREM_STATUSES,
    Evidence,
    FieldBag,
    Instance,
    Measurement,
    NegativeControl,
    NotApplicable,
    Theorem,
)
from mastbench.theory._registry import (
    PACKAGES,
    all_theorems,
    families,
    get,
    register,
    theorem,
)

#: The issue's public name: ``theory.all(family=None)``.
all = all_theorems

__all__ = [
    "METHODS",
    "PACKAGES",
    "TAGS",
    "THEOREM_STATUSES",
    "Evidence",
    "FieldBag",
    "Instance",
    "Measurement",
    "NegativeControl",
    "NotApplicable",
    "Theorem",
    "all",
    "all_theorems",
    "families",
    "get",
    "register",
    "theorem",
]
