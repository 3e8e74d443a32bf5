"""What every theorem of the RAMDA family declares alike: the paper, and the registration
that fills it in (:func:`ramda_theorem`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mastbench.theory._registry import theorem

__all__ = ["PAPER", "ramda_theorem"]

PAPER = (
    "Huang & Lee, Regularized Adaptive Momentum Dual Averaging with an Efficient Inexact "
    "Subproblem Solver for Training Structured Neural Network, NeurIPS 2024, arXiv 2403.14398"
)


def ramda_theorem(**declared: Any) -> Callable[[Callable[..., Any]], Any]:
    """:func:`mastbench.theory.theorem` with ``paper`` = :data:`PAPER`."""
    return theorem(paper=PAPER, **declared)
