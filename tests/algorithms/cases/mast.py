"""Small valid calls of the mast algorithms (see :mod:`tests.algorithms.cases`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.random import quadratic

from mastbench.backend import rng
from mastbench.sketches import Discrete, Permutation, RandK


def _small_quadratic(xp: Any, device: Any, d: int = 4) -> tuple[Any, Any]:
    problem = quadratic(d, 10.0, rng(0, xp, device))
    return problem, xp.zeros((d,), dtype=xp.float64, device=device)


def uniform_discrete_randk(d: int, k: int) -> Discrete:
    """Rand-K written as the uniform Discrete distribution over its C(d, k) outcomes."""
    diagonals, weights = RandK(d, k).support()
    return Discrete(diagonals, weights)


def dsgd_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problem, x0 = _small_quadratic(xp, device)
    step = 1.0 / (problem.L * RandK(4, 2).L_S_max)
    return (problem, x0), {"sketch": RandK(4, 2), "step": step, "iters": 5}


def importance_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problem, x0 = _small_quadratic(xp, device)
    sketch = Discrete(np.array([[2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0]]), np.array([0.5, 0.5]))
    return (problem, x0), {"sketch": sketch, "step": 0.25 / (4 * problem.L), "iters": 5}


def distributed_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problems = [quadratic(4, 5.0, g) for g in rng(1, xp, device).spawn(2)]
    x0 = xp.zeros((4,), dtype=xp.float64, device=device)
    L = max(p.L for p in problems)
    return (problems, x0), {"sketches": Permutation(4, 2), "step": 0.25 / L, "iters": 5}


def l_svrdsg_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problem, x0 = _small_quadratic(xp, device)
    sketch = uniform_discrete_randk(4, 2)
    return (problem, x0), {"sketch": sketch, "step": 1.0 / (24 * problem.L), "iters": 5, "batch": 3}


CASES: dict = {
    "dsgd": dsgd_case,
    "dsgd_importance": importance_case,
    "distributed_dsgd": distributed_case,
    "l_svrdsg": l_svrdsg_case,
}
