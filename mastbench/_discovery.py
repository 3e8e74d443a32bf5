"""Discovery of the public submodules of a package (family modules register on import)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

__all__ = ["import_public_submodules", "public_submodules"]


def public_submodules(package_name: str) -> list[str]:
    """Full names of the submodules of ``package_name`` not starting with ``_``, sorted."""
    package = importlib.import_module(package_name)
    return sorted(
        f"{package_name}.{module.name}"
        for module in pkgutil.iter_modules(package.__path__)
        if not module.name.startswith("_")
    )


@cache
def import_public_submodules(package_name: str) -> tuple[str, ...]:
    """Import every public submodule of ``package_name`` once; return their names."""
    names = public_submodules(package_name)
    for name in names:
        importlib.import_module(name)
    return tuple(names)
