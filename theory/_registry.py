"""The theorem registry: every family module registers its theorems here on import."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from collections.abc import Callable
from typing import Any

from mastbench.theory._core import Theorem

from mastbench._discovery import import_public_submodules

__all__ = [
    "PLUGIN_GROUP",
    "all_theorems",
    "families",
    "get",
    "load_plugins",
    "register",
    "theorem",
]

_REGISTRY: dict[str, Theorem] = {}


def register(thm: Theorem) -> Theorem:
    """Add ``thm`` to the registry; ids are unique."""
    if thm.id in _REGISTRY and _REGISTRY[thm.id] is not thm:
        raise ValueError(f"a theorem with id {thm.id!r} is already registered")
    _REGISTRY[thm.id] = thm
    return thm


def theorem(**fields: Any) -> Callable[[Callable[..., Any]], Theorem]:
    """Decorator: build and register a :class:`Theorem` whose ``measurement`` is the function.

    The function's docstring (statement, assumptions, reference) becomes ``Theorem.doc``,
    so the theorem is code next to its docstring, as in PEPit.  Without a ``statement``
    field, the statement is the docstring's paragraph that starts with ``Statement.``, so it
    is written once.
    """

    def wrap(measurement: Callable[..., Any]) -> Theorem:
        doc = fields.pop("doc", None) or (measurement.__doc__ or "")
        if "statement" not in fields:
            fields["statement"] = statement_of(doc, fields.get("id", measurement.__name__))
        return register(Theorem(measurement=measurement, doc=doc, **fields))

    return wrap


def statement_of(doc: str, name: str) -> str:
    """The paragraph of ``doc`` that starts with ``Statement.``, on one line, without the word.

    Raises
    ------
    ValueError
        If ``doc`` has no such paragraph (``name`` says whose).
    """
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        if paragraph.startswith("Statement."):
            return " ".join(paragraph.removeprefix("Statement.").split())
    raise ValueError(
        f"theorem {name!r} gives no statement: pass statement=... or start a docstring "
        "paragraph with 'Statement.'"
    )


#: The subpackage of :mod:`mastbench.theory` holding each family (id prefix → package).
PACKAGES = {"mast": "mast", "ramda": "ramda", "fw": "frank_wolfe", "seqattn": "seqattn"}


#: Entry-point group of plugins: each entry names a module whose import registers theorems
#: (and methods), e.g. ``[project.entry-points."mastbench.plugins"] mine = "my_pkg.theorems"``.
PLUGIN_GROUP = "mastbench.plugins"


def load_plugins() -> list[str]:
    """Import every module registered under the ``mastbench.plugins`` entry-point group.

    Returns
    -------
    list of str
        The names of the plugin modules imported.
    """
    loaded = []
    for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        try:
            entry.load()
        except Exception as exc:
            raise ImportError(
                f"the mastbench plugin {entry.name!r} ({entry.value}) failed to import: {exc}"
            ) from exc
        loaded.append(entry.value)
    return loaded


def _load_families() -> None:
    import_public_submodules("mastbench.theory")
    load_plugins()


def get(theorem_id: str) -> Theorem:
    """The registered theorem ``theorem_id``, importing only its family's subpackage.

    A clear error lists the known ids when there is no such theorem.
    """
    if theorem_id not in _REGISTRY:
        package = PACKAGES.get(str(theorem_id).split(".", 1)[0])
        if package is not None:
            importlib.import_module(f"mastbench.theory.{package}")
    if theorem_id not in _REGISTRY:
        _load_families()
    try:
        return _REGISTRY[theorem_id]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown theorem id {theorem_id!r}; known ids: {known}") from None


def all_theorems(family: str | None = None) -> list[Theorem]:
    """All registered theorems (of one ``family`` when given, importing only its subpackage
    and the plugins), sorted by id."""
    if family in PACKAGES:
        importlib.import_module(f"mastbench.theory.{PACKAGES[family]}")
        load_plugins()
    else:
        _load_families()
    if family is not None and family not in families():
        raise ValueError(f"unknown family {family!r}; known families: {families()}")
    return [t for _, t in sorted(_REGISTRY.items()) if family in (None, t.family)]


def families() -> list[str]:
    """Names of the built-in families and of those that plugins registered theorems in."""
    load_plugins()
    return sorted(set(PACKAGES) | {t.family for t in _REGISTRY.values()})
