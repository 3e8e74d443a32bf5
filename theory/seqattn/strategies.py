"""Hypothesis strategies of the ``seqattn.*`` theorems' instances: small group-structured least
squares with a planted block support (:func:`mastbench.strategies.group_least_squares`), and
the sizes of the pointwise mask identities.  Each is the ``strategy`` of its theorems.

Hypothesis is imported when a strategy is built: it is a test dependency
(``mastbench[test]``), and this module is imported with the family.
"""

from __future__ import annotations

from typing import Any

from mastbench.theory.seqattn.common import (
    MaskInstance,
    RegularizedInstance,
    SparseInstance,
    ThresholdInstance,
)

__all__ = [
    "attention_instances",
    "iht_instances",
    "mask_instances",
    "omp_instances",
    "omp_rate_instances",
    "ompr_instances",
    "phased_instances",
    "softmax_instances",
    "threshold_instances",
    "unique_minimum_instances",
]


def mask_instances() -> Any:
    """Instances of ``seqattn.mask-equivalence``: mask name, group count t, block size b."""
    from hypothesis import strategies as st
    from mastbench.problems.group_penalties import MASKS

    return st.builds(
        lambda mask, t, b, seed: MaskInstance(
            f"{mask}-t{t}-b{b}-s{seed}", mask=mask, t=t, b=b, seed=seed, samples=50
        ),
        st.sampled_from(sorted(MASKS)),
        st.integers(1, 6),
        st.integers(1, 4),
        st.integers(0, 2**16),
    )


def softmax_instances() -> Any:
    """Instances of ``seqattn.normalized-softmax``: t groups of size b."""
    from hypothesis import strategies as st

    return st.builds(
        lambda t, b, seed: MaskInstance(
            f"softmax-t{t}-b{b}-s{seed}", t=t, b=b, seed=seed, samples=50
        ),
        st.integers(2, 6),
        st.integers(1, 3),
        st.integers(0, 2**16),
    )


def threshold_instances() -> Any:
    """Instances of ``seqattn.threshold``: a group least squares and S = ∅ or one group."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares

    return st.builds(
        lambda problem, with_s: ThresholdInstance(
            f"{problem!r}-S{int(with_s)}", problem=problem, S=(0,) if with_s else ()
        ),
        group_least_squares(),
        st.booleans(),
    )


def unique_minimum_instances() -> Any:
    """Instances of ``seqattn.unique-sparse-minimum``: 3 groups × 2 variables, admissible q."""
    from hypothesis import strategies as st
    from mastbench.problems.group_penalties import ADMISSIBLE_Q

    from mastbench.strategies import group_least_squares

    return st.builds(
        lambda problem, q: RegularizedInstance(
            f"{problem!r}-q={q}", problem=problem, q=q, starts=3, samples=200
        ),
        group_least_squares(max_groups=3, max_block=1, max_responses=2).filter(
            lambda p: p.groups.t == 3 and p.d <= 6
        ),
        st.sampled_from(ADMISSIBLE_Q),
    )


def omp_instances() -> Any:
    """Instances of ``seqattn.omp-equivalence``: scalar-feature least squares, k ≤ 3."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares

    return st.builds(
        lambda problem: SparseInstance(
            f"{problem!r}", problem=problem, k=min(3, problem.groups.t - 1), steps=3000
        ),
        group_least_squares(max_block=1, max_responses=1),
    )


def omp_rate_instances() -> Any:
    """Instances of ``seqattn.group-omp-rate``: k + steps ≤ t."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares

    return st.builds(
        lambda problem: SparseInstance(
            f"{problem!r}", problem=problem, k=1, steps=problem.groups.t - 1
        ),
        group_least_squares(),
    )


def ompr_instances() -> Any:
    """Instances of ``seqattn.ompr``: k = 1, t ≥ 5 and n ≥ 40·d, so that a k′ ≤ t − k with
    k′ ≥ k(L²/μ² + 1) exists in most draws (at n ≥ 4·d almost none was applicable)."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares

    return st.builds(
        lambda problem: SparseInstance(f"{problem!r}", problem=problem, k=1, iters=6),
        group_least_squares(
            min_groups=5, max_groups=10, max_block=1, max_responses=1, rows_per_feature=40
        ),
    )


def iht_instances() -> Any:
    """Instances of ``seqattn.iht``: k ≤ t/2 so that L_{2k} is enumerated."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares

    return st.builds(
        lambda problem: SparseInstance(
            f"{problem!r}", problem=problem, k=max(1, problem.groups.t // 2 - 1), iters=20
        ),
        group_least_squares(),
    )


def phased_instances() -> Any:
    """Instances of the step-by-step checks of SA++, ACDC, magnitude pruning and powerprop
    (``seqattn.*-reference`` in :mod:`mastbench.theory.seqattn.phased`): a group least
    squares, k < t, and the seed of the start."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares, seeds

    return st.builds(
        lambda problem, k, seed: SparseInstance(
            f"{problem!r}", problem=problem, k=min(k, problem.groups.t - 1), seed=seed
        ),
        group_least_squares(),
        st.integers(1, 2),
        seeds(),
    )


def attention_instances() -> Any:
    """Instances of ``seqattn.sa-reference``: a group least squares, k < t, 1–30 gradient steps
    per round and the seed of the initialization."""
    from hypothesis import strategies as st

    from mastbench.strategies import group_least_squares, seeds

    return st.builds(
        lambda problem, k, steps, seed: SparseInstance(
            f"{problem!r}-k{k}-steps{steps}",
            problem=problem,
            k=min(k, problem.groups.t - 1),
            steps=steps,
            seed=seed,
        ),
        group_least_squares(),
        st.integers(1, 3),
        st.integers(1, 30),
        seeds(),
    )
