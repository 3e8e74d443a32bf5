"""Public hypothesis strategies: instances for falsifying theorems and for property tests.

A user can falsify their own theorem with these; ``mastbench falsify THEOREM`` uses the
theorem's own strategy, built from the ones here.  Needs hypothesis (``mastbench[test]``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mastbench.backend import rng
from problems.quadratic import Quadratic

__all__ = [
    "condition_numbers",
    "dimensions",
    "group_lasso_regularizers",
    "probabilities",
    "quadratics",
    "ramda_subproblems",
    "seeds",
]


def dimensions(min_value: int = 1, max_value: int = 6) -> st.SearchStrategy[int]:
    """Small dimensions d (exact enumeration stays cheap)."""
    return st.integers(min_value, max_value)


def seeds() -> st.SearchStrategy[int]:
    """Seeds of :func:`mastbench.backend.rng`."""
    return st.integers(0, 2**32 - 1)


def probabilities(min_value: float = 0.05) -> st.SearchStrategy[float]:
    """Keep-probabilities p in [min_value, 1]."""
    return st.floats(min_value, 1.0, allow_nan=False)


def condition_numbers(max_value: float = 1e3) -> st.SearchStrategy[float]:
    """Condition numbers in [1, max_value], log-uniform."""
    return st.floats(0.0, float(np.log10(max_value))).map(lambda e: float(10.0**e))


@st.composite
def quadratics(
    draw: st.DrawFn, d: int | None = None, *, max_d: int = 6, singular: bool = False
) -> Quadratic:
    """Random quadratics ½xᵀAx − bᵀx with controlled conditioning (optionally singular A)."""
    import problems.random as random_problems

    d = draw(dimensions(1, max_d)) if d is None else d
    kappa = draw(condition_numbers())
    gen = rng(draw(seeds()))
    return random_problems.quadratic(d, kappa, gen, mu=0.0 if singular and d > 1 else 1.0)


# ======================================================================================
# RAMDA family (arXiv 2403.14398): group-lasso regularizers and subproblem data
# ======================================================================================


@st.composite
def group_lasso_regularizers(
    draw: st.DrawFn, *, max_groups: int = 5, max_size: int = 4
):  # -> problems.regularizers.GroupLasso
    """Group lassos on random partitions of range(d) into groups of unequal sizes."""
    from problems.regularizers import GroupLasso

    sizes = draw(st.lists(st.integers(1, max_size), min_size=1, max_size=max_groups))
    order = np.random.default_rng(draw(seeds())).permutation(sum(sizes))
    groups = np.split(order, np.cumsum(sizes)[:-1])
    lam = draw(st.floats(0.0, 2.0, allow_nan=False))
    return GroupLasso([g.tolist() for g in groups], lam)


@st.composite
def ramda_subproblems(draw: st.DrawFn, *, replicates: int = 3):
    """Data (psi, a, V, P, C) of the RAMDA subproblem min aψ + ⟨V,·⟩ + ½‖· − C‖²_P."""
    psi = draw(group_lasso_regularizers())
    gen = np.random.default_rng(draw(seeds()))
    spread = draw(st.floats(1.0, 100.0))
    shape = (replicates, psi.d)
    P = np.exp(gen.uniform(0.0, np.log(spread), shape)) * draw(st.floats(0.01, 10.0))
    a = draw(st.one_of(st.just(0.0), st.floats(1e-6, 5.0)))
    return psi, a, gen.standard_normal(shape), P, gen.standard_normal(shape)
