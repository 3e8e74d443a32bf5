"""Small valid calls of the frank_wolfe algorithms (see :mod:`tests.algorithms.cases`).

Every call runs on ℓ1-ball-constrained logistic regression (30 samples, d = 5, l2 = 1e-2) from
the zero start: 10 steps of FW with the short step and of away/pairwise FW with backtracking,
20 steps of SAG stochastic FW with batches of 3.
"""

from __future__ import annotations

from typing import Any

from mastbench.problems.constraints import L1Ball
from mastbench.problems.random import logistic

from mastbench.backend import rng


def _problem(xp: Any, device: Any) -> tuple[Any, Any, Any]:
    problem = logistic(30, 5, rng(0, xp, device), l2=1e-2)
    return problem, L1Ball(1.0), xp.zeros(5, dtype=problem.dtype, device=device)


def _deterministic(**kwargs: Any) -> Any:
    def make_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return _problem(xp, device), {"iters": 10, **kwargs}

    return make_case


def _stochastic(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return _problem(xp, device), {"iters": 20, "batch_size": 3, "variant": "SAG"}


CASES: dict = {
    "frank_wolfe": _deterministic(step="short"),
    "away_frank_wolfe": _deterministic(step="backtracking"),
    "pairwise_frank_wolfe": _deterministic(step="backtracking"),
    "stochastic_frank_wolfe": _stochastic,
}
