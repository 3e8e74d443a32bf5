"""Shared pieces of the SequentialAttention++ theorems: citations, instance types, cached
problems, evidence."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from mastbench.problems.group_random import planted_least_squares
from mastbench.problems.group_structured import GroupLeastSquares, Groups
from mastbench.theory._core import Evidence, Instance

from mastbench.backend import rng

PAPER = (
    "T. Yasuda, K. Axiotis, G. Fu, M. Bateni, V. Mirrokni, SequentialAttention++ for Block "
    "Sparsification: Differentiable Pruning Meets Combinatorial Optimization, arXiv 2402.17902"
)
PAPER_SA = (
    "T. Yasuda, M. Bateni, L. Chen, M. Fahrbach, G. Fu, V. Mirrokni, Sequential Attention for "
    "Feature Selection, ICLR 2023, arXiv 2209.14881"
)


@dataclass(frozen=True, eq=False)
class MaskInstance(Instance):
    """The sizes and sampling of a pointwise mask identity (no problem).

    Attributes
    ----------
    t : int
        The number of groups.
    b : int
        The size b of each group.
    seed : int
        The seed of the random points.
    samples : int
        The number of random points.
    mask : str or None
        The mask parameterization (a key of ``group_penalties.MASKS``); None for the
        normalized softmax, which has its own theorem.
    """

    t: int
    b: int
    seed: int
    samples: int
    mask: str | None = None


@dataclass(frozen=True, eq=False)
class ThresholdInstance(Instance):
    """A group-structured loss 𝓛 and a set S of unpenalized (already selected) groups.

    Attributes
    ----------
    problem : GroupProblem
        The strictly convex loss 𝓛 with its groups T_1..T_t.
    S : tuple of int
        The selected groups S ⊂ [t], left out of the penalty.
    """

    problem: Any
    S: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class RegularizedInstance(Instance):
    """A group least squares 𝓛 with the group q-regularizer λ q⁻¹(Σ_i q(‖β_i‖₂)) (Theorem 1.1).

    Attributes
    ----------
    problem : GroupLeastSquares
        The loss 𝓛.
    q : str
        The name of q (``group_penalties.ADMISSIBLE_Q``, or an inadmissible one for controls).
    starts : int
        The number of multistart local minimizations.
    samples : int
        The number of random comparison points.
    """

    problem: Any
    q: str
    starts: int
    samples: int


@dataclass(frozen=True, eq=False)
class SparseInstance(Instance):
    """A group least squares 𝓛 and a group sparsity k, with the horizon of the method run.

    Attributes
    ----------
    problem : GroupLeastSquares
        The loss 𝓛 with its groups T_1..T_t (t groups of b rows, K responses).
    k : int
        The target group sparsity k < t.
    steps : int
        Greedy steps k′ (group OMP) or gradient steps per round (Sequential Attention); 0 when
        the theorem takes none.
    iters : int
        Iterations of an iterative method (IHT, OMPR swaps); 0 when the theorem takes none.
    seed : int
        The seed of a random start (the phased methods).
    k_prime : int or None
        OMPR's working sparsity k′ (None: the smallest admissible value of Theorem B.3).
    """

    problem: Any
    k: int
    steps: int = 0
    iters: int = 0
    seed: int = 0
    k_prime: int | None = None

    @cached_property
    def runs(self) -> dict[tuple[Any, ...], Any]:
        """The deterministic runs made on this instance, by their parameters, filled by the
        theorems that read them: a negative control that changes another part of the check
        reads the run of the plain check of the same instance object."""
        return {}


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
