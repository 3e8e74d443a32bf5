"""What mastbench offers, section by section, for ``mastbench list``."""

from __future__ import annotations

import importlib
import inspect

__all__ = ["sections"]


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.splitlines()[0] if doc else ""


def _public(module_name: str) -> list[tuple[str, str]]:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    return [(name, _first_line(getattr(module, name))) for name in getattr(module, "__all__", [])]


def sections() -> dict[str, list[tuple[str, str]]]:
    """Sections of the catalogue: name → rows of (name, one-line description)."""
    from mastbench import theory
    from mastbench.algorithms import all_algorithms

    out = {
        "sketches": _public("mastbench.sketches"),
        "problems": [row for row in _public("mastbench.problems") if row[0][0].isupper()],
        "datasets": [],
        "algorithms": [(s.name, f"[{s.family}] {_first_line(s.run)}") for s in all_algorithms()],
        "theorems": [(t.id, f"{t.label} [{t.tag}, {t.method}]") for t in theory.all()],
    }
    try:
        from mastbench.problems import datasets

        out["datasets"] = [(name, desc) for name, desc in datasets.catalogue().items()]
    except ImportError:
        pass
    return out
