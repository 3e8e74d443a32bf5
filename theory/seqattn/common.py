"""Shared pieces of the SequentialAttention++ theorems: citations, cached instances, evidence."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from mastbench.problems.group_random import planted_least_squares
from mastbench.problems.group_structured import GroupLeastSquares, Groups
from mastbench.theory._core import Evidence

from mastbench.backend import rng

PAPER = (
    "T. Yasuda, K. Axiotis, G. Fu, M. Bateni, V. Mirrokni, SequentialAttention++ for Block "
    "Sparsification: Differentiable Pruning Meets Combinatorial Optimization, arXiv 2402.17902"
)
PAPER_SA = (
    "T. Yasuda, M. Bateni, L. Chen, M. Fahrbach, G. Fu, V. Mirrokni, Sequential Attention for "
    "Feature Selection, ICLR 2023, arXiv 2209.14881"
)


@lru_cache(maxsize=64)
def least_squares(
    seed: int, n: int, p: int, K: int, block: int = 1, k: int = 2, noise: float = 0.5
) -> GroupLeastSquares:
    """A planted-support multiple-response least squares (row blocks of ``block`` rows)."""
    problem, _ = planted_least_squares(n, p, K, rng(seed), block=block, k=k, noise=noise)
    return problem


@lru_cache(maxsize=16)
def correlated_least_squares(seed: int, n: int, p: int, rho: float) -> GroupLeastSquares:
    """Scalar-feature least squares with equicorrelated Gaussian columns (correlation rho)."""
    gen = np.random.default_rng(seed)
    z = gen.standard_normal((n, 1))
    X = np.sqrt(1 - rho) * gen.standard_normal((n, p)) + np.sqrt(rho) * z
    w = gen.standard_normal(p) * (gen.random(p) < 0.5)
    y = X @ w + 0.3 * gen.standard_normal(n)
    return GroupLeastSquares(X, y, Groups.contiguous(p, 1))


def stack(parts: list[tuple[np.ndarray, np.ndarray]], **extra) -> Evidence:
    """Concatenate (measured, bound) pieces into one Evidence indexed 0..K-1."""
    measured = np.concatenate([np.atleast_1d(np.asarray(m, float)) for m, _ in parts])
    bound = np.concatenate(
        [np.broadcast_to(np.asarray(b, float), np.atleast_1d(m).shape) for m, b in parts]
    )
    return Evidence(np.arange(measured.size), measured, bound, atol=0.0, extra=extra)
