"""Small valid calls of the ramda algorithms (see :mod:`tests.algorithms.cases`).

One planted instance for the whole family: logistic regression on 40 Gaussian samples in
d = 6 (labels from the signs of ⟨x, (1, −1, 0.5, 0, 0, 0)⟩, l2 = 0.01) with a group lasso of
3 groups of 2 (λ = 0.02); 8 steps from 0 with minibatches of 8.  MADGRAD and MDA get f alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.composite import Composite
from mastbench.problems.logistic import Logistic
from mastbench.problems.regularizers import GroupLasso


def _logistic(xp: Any, device: Any) -> Logistic:
    samples = np.random.default_rng(3).standard_normal((40, 6))
    labels = np.sign(samples @ np.array([1.0, -1.0, 0.5, 0.0, 0.0, 0.0]))
    labels[labels == 0] = -1.0
    return Logistic(xp.asarray(samples, device=device), xp.asarray(labels, device=device), l2=1e-2)


def _composite_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    problem = Composite(_logistic(xp, device), GroupLasso.contiguous(3, 2, 0.02))
    return (problem, xp.zeros((6,), dtype=xp.float64, device=device)), {
        "iters": 8,
        "batch_size": 8,
    }


def _smooth_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    f = _logistic(xp, device)
    return (f, xp.zeros((6,), dtype=xp.float64, device=device)), {"iters": 8, "batch_size": 8}


CASES: dict = {
    **dict.fromkeys(("ramda", "rmda", "prox_gen", "prox_ssi", "prox_sgd"), _composite_case),
    **dict.fromkeys(("madgrad", "mda"), _smooth_case),
}
