"""Sketch, regularizer and constraint specs of ``mastbench run``, sized to the problem's d.

A spec is ``name`` or ``name:key=value,...`` (as a problem spec,
:func:`mastbench.problem_factory.parse_spec`):

* ``--sketch``: ``randk:k=5`` or ``randk:q=0.1`` (k = max(1, round(q·d))), ``bernoulli:p=0.3``
  (every coordinate kept with probability p), ``identity``, ``permutation:n=4`` (n divides d),
  ``gaussian:m=8`` (:mod:`mastbench.sketches`);
* ``--regularizer``: ``l1:lam=0.001``, ``group_lasso:lam=0.01`` (the groups of a group problem,
  else contiguous groups of ``size``, default 2, which must divide d);
* ``--constraint``: ``l1:radius=1``, ``l2:radius=1``, ``linf:radius=1``,
  ``simplex:radius=1``, ``group_l1:radius=1`` (groups as for ``group_lasso``).

Every error is a :class:`~mastbench.validation.UsageError` naming the option and the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mastbench.problem_factory import parse_spec
from mastbench.validation import UsageError

__all__ = ["CONSTRAINTS", "REGULARIZERS", "SKETCHES", "make_constraint", "make_regularizer"]
__all__ += ["make_sketch"]


def _take(options: dict[str, Any], key: str, default: Any = None) -> Any:
    return options.pop(key, default)


def _randk(d: int, options: dict[str, Any]) -> Any:
    from mastbench.sketches import RandK

    if ("k" in options) == ("q" in options):
        raise ValueError("give exactly one of k (coordinates kept) and q (the fraction k/d)")
    if "q" in options:
        q = _take(options, "q")
        if not isinstance(q, int | float) or not 0 < q <= 1:
            raise ValueError(f"q must be a fraction in (0, 1], got {q!r}")
        return RandK(d, max(1, round(q * d)))
    return RandK(d, _take(options, "k"))


def _bernoulli(d: int, options: dict[str, Any]) -> Any:
    from mastbench.sketches import Bernoulli

    return Bernoulli(np.full(d, float(_take(options, "p", 0.5))))


def _identity(d: int, options: dict[str, Any]) -> Any:
    from mastbench.sketches import Identity

    return Identity(d)


def _permutation(d: int, options: dict[str, Any]) -> Any:
    from mastbench.sketches import Permutation

    return Permutation(d, _take(options, "n", 2))


def _gaussian(d: int, options: dict[str, Any]) -> Any:
    from mastbench.sketches import Gaussian

    return Gaussian(d, _take(options, "m", d))


#: Sketch factories by name: ``factory(d, options)`` consumes the options it knows.
SKETCHES: dict[str, Callable[[int, dict[str, Any]], Any]] = {
    "randk": _randk,
    "bernoulli": _bernoulli,
    "identity": _identity,
    "permutation": _permutation,
    "gaussian": _gaussian,
}


def _groups(d: int, options: dict[str, Any], groups: Any) -> list[np.ndarray]:
    """Index lists of the groups: ``size`` contiguous coordinates, else ``groups`` (a
    :class:`~mastbench.problems.group_structured.Groups`, the problem's)."""
    if "size" in options or groups is None:
        size = _take(options, "size", 2)
        if not isinstance(size, int) or size < 1 or d % size:
            raise ValueError(f"size must be a positive integer dividing d={d}, got {size!r}")
        return list(np.arange(d).reshape(-1, size))
    return list(groups.members)


def _l1(d: int, options: dict[str, Any], groups: Any) -> Any:
    from mastbench.problems.regularizers import L1

    return L1(_take(options, "lam", 1e-3))


def _group_lasso(d: int, options: dict[str, Any], groups: Any) -> Any:
    from mastbench.problems.regularizers import GroupLasso

    lam = _take(options, "lam", 1e-2)
    return GroupLasso(_groups(d, options, groups), lam, d=d)


#: Regularizer factories by name: ``factory(d, options, groups)``.
REGULARIZERS: dict[str, Callable[[int, dict[str, Any], Any], Any]] = {
    "l1": _l1,
    "group_lasso": _group_lasso,
}


def _ball(cls_name: str) -> Callable[[int, dict[str, Any], Any], Any]:
    def make(d: int, options: dict[str, Any], groups: Any) -> Any:
        from mastbench.problems import constraints

        return getattr(constraints, cls_name)(_take(options, "radius", 1.0))

    return make


def _group_l1(d: int, options: dict[str, Any], groups: Any) -> Any:
    from mastbench.problems.constraints import GroupL1Ball

    labels = np.empty(d, dtype=np.int64)
    for g, index in enumerate(_groups(d, options, groups)):
        labels[index] = g
    return GroupL1Ball(labels, _take(options, "radius", 1.0))


#: Constraint factories by name: ``factory(d, options, groups)``.
CONSTRAINTS: dict[str, Callable[[int, dict[str, Any], Any], Any]] = {
    "l1": _ball("L1Ball"),
    "l2": _ball("L2Ball"),
    "linf": _ball("LInfBall"),
    "simplex": _ball("Simplex"),
    "group_l1": _group_l1,
}


def _make(option: str, spec: str, table: dict[str, Callable[..., Any]], *args: Any) -> Any:
    name, options = parse_spec(spec, what=option, example=f"{next(iter(table))}:...", bare=None)
    if name not in table:
        raise UsageError(f"{option} {spec!r}: unknown name {name!r}; known: {', '.join(table)}")
    try:
        made = table[name](args[0], options, *args[1:])
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{option} {spec!r}: {exc}") from None
    if options:
        raise UsageError(f"{option} {spec!r}: unknown options: {', '.join(sorted(options))}")
    return made


def make_sketch(spec: str, d: int) -> Any:
    """The sketch distribution ``spec`` describes, of dimension ``d``."""
    return _make("--sketch", spec, SKETCHES, d)


def make_regularizer(spec: str, d: int, groups: Any = None) -> Any:
    """The regularizer ψ ``spec`` describes on R^d (``groups``: the problem's, if any)."""
    return _make("--regularizer", spec, REGULARIZERS, d, groups)


def make_constraint(spec: str, d: int, groups: Any = None) -> Any:
    """The constraint set ``spec`` describes in R^d (``groups``: the problem's, if any)."""
    return _make("--constraint", spec, CONSTRAINTS, d, groups)
