"""Fault injection into a Method without editing its source: wrap its ``step``.

A fault replaces the ``step`` of a method class for the duration of a ``with`` block, by a
wrapper around the original: the theorems, which build methods through the public functions,
then run the faulty algorithm.  Each wrapper models a bug researchers really make.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from mastbench.backend import array_namespace

__all__ = [
    "Step",
    "field_changed",
    "iteration_shifted",
    "patched",
    "stale_randomness",
    "update_scaled",
]

#: The ``step(self, problem, state, k, rng)`` of a method class.
Step = Callable[[Any, Any, Any, int, Any], Any]


def _with_iterate(method: Any, state: Any, x: Any) -> Any:
    """``state`` with its iterate batch (the field ``output`` returns) replaced by ``x``."""
    current = method.output(state)
    for name, value in zip(state._fields, state, strict=True):
        if value is current:
            return state._replace(**{name: x})
    raise TypeError(
        f"{type(method).__name__}: no field of its state is the iterate batch output() returns"
    )


def update_scaled(factor: float) -> Callable[[Step], Step]:
    """x_{k+1} = x_k + c (x_{k+1} − x_k): a step size off by a factor c (c = −1: a sign)."""

    def wrap(step: Step) -> Step:
        def faulty(self: Any, problem: Any, state: Any, k: int, rng: Any) -> Any:
            current = self.output(state)
            # a copy: a step may update the iterate in place (the Rand-K index path does)
            x_old = array_namespace(current).asarray(current, copy=True)
            new = step(self, problem, state, k, rng)
            x_new = self.output(new)
            return _with_iterate(self, new, x_old + factor * (x_new - x_old))

        return faulty

    return wrap


def iteration_shifted(shift: int) -> Callable[[Step], Step]:
    """Step k computed as step k + shift: a schedule off by ``shift``."""

    def wrap(step: Step) -> Step:
        def faulty(self: Any, problem: Any, state: Any, k: int, rng: Any) -> Any:
            return step(self, problem, state, max(k + shift, 0), rng)

        return faulty

    return wrap


def field_changed(name: str, change: Callable[[Any], Any]) -> Callable[[Step], Step]:
    """The hyperparameter ``name`` replaced by ``change(value)`` inside every step (a wrong
    weight, a forgotten rescale, a clipping forgotten...), the constructor left as it is."""

    def wrap(step: Step) -> Step:
        def faulty(self: Any, problem: Any, state: Any, k: int, rng: Any) -> Any:
            changed = dataclasses.replace(self, **{name: change(getattr(self, name))})
            return step(changed, problem, state, k, rng)

        return faulty

    return wrap


def stale_randomness(step: Step) -> Step:
    """Every step draws from the generator as it was at the method's first step: the same
    sketch or minibatch again and again instead of a fresh independent draw."""
    saved: dict[str, Any] = {}

    def faulty(self: Any, problem: Any, state: Any, k: int, rng: Any) -> Any:
        if rng is None:
            return step(self, problem, state, k, rng)
        if k == 0 or "rng" not in saved:
            saved["rng"] = copy.deepcopy(rng)
        return step(self, problem, state, k, copy.deepcopy(saved["rng"]))

    return faulty


@contextlib.contextmanager
def patched(cls: type, wrap: Callable[[Step], Step]) -> Iterator[None]:
    """Replace ``cls.step`` (its own or inherited) by ``wrap(cls.step)`` inside the block; only
    ``cls`` is changed, not a base class other methods share."""
    own = cls.__dict__.get("step")
    original = getattr(cls, "step", None)
    if not callable(original):
        raise TypeError(f"{cls.__name__} has no step to wrap")
    faulty = wrap(original)

    def step(self: Any, problem: Any, state: Any, k: int, rng: Any) -> Any:
        chosen = faulty if type(self) is cls else original
        return chosen(self, problem, state, k, rng)

    cls.step = step
    try:
        yield
    finally:
        if own is None:
            del cls.step
        else:
            cls.step = own
