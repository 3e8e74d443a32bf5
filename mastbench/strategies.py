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
    "fw_gradients",
    "fw_instances",
    "probabilities",
    "quadratics",
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


# -- Frank-Wolfe ------------------------------------------------------------------------------


@st.composite
def fw_gradients(draw: st.DrawFn, min_d: int = 2, max_d: int = 6) -> np.ndarray:
    """A (k, d) batch of gradients for LMO checks; rounded entries make ties, rows may be 0."""
    d = draw(dimensions(min_d, max_d))
    k = draw(st.integers(1, 6))
    gen = np.random.default_rng(draw(seeds()))
    grads = gen.normal(size=(k, d)) * 10.0 ** draw(st.integers(-3, 3))
    if draw(st.booleans()):
        grads = np.round(grads)
    return grads


def fw_instances(
    kinds: tuple[str, ...] = ("l1", "group", "l2", "simplex"),
    losses: tuple[str, ...] = ("least_squares",),
    max_d: int = 8,
) -> st.SearchStrategy:
    """Frank-Wolfe theorem instances: a random problem over a random set, with C_f and f*.

    Draws the set ``kind``, the ``loss``, d ∈ [2, max_d] (d ∈ {4, 6, 9} for the nuclear ball,
    which needs a matrix shape), a radius log-uniform in [0.1, 10] and a seed; see
    :func:`theory._fw_instances.fw_instance`.
    """
    from theory._fw_instances import fw_instance

    def build(kind: str, loss: str, d: int, exponent: float, seed: int):
        d = {2: 4, 3: 4, 5: 6, 7: 6, 8: 9}.get(d, d) if kind == "nuclear" else d
        return fw_instance(kind, d, seed, loss=loss, radius=float(10.0**exponent))

    return st.builds(
        build,
        st.sampled_from(kinds),
        st.sampled_from(losses),
        dimensions(2, max_d),
        st.floats(-1.0, 1.0),
        seeds(),
    )
