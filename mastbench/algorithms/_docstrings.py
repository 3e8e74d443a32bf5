"""Docstrings that share paragraphs, each paragraph written once (private)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["filled"]

F = TypeVar("F", bound=Callable)


def filled(fields: Mapping[str, str]) -> Callable[[F], F]:
    """Decorator filling the ``%(name)s`` fields of a function's docstring from ``fields``.

    A field stands at the indentation of the docstring's other lines; the text of a field
    carries that indentation on its second and later lines.
    """

    def fill(function: F) -> F:
        if function.__doc__:  # None under python -OO
            function.__doc__ %= fields
        return function

    return fill
