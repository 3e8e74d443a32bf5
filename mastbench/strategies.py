"""Public hypothesis strategies: instances for falsifying theorems and for property tests.

A user can falsify their own theorem with these; ``mastbench falsify THEOREM`` uses the
theorem's own strategy, built from the ones here.  Needs hypothesis (``mastbench[test]``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mastbench.backend import rng
from problems.quadratic import Quadratic

__all__ = ["condition_numbers", "dimensions", "probabilities", "quadratics", "seeds"]


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


# -- sketches (mastbench.sketches) --
__all__ += ["SKETCH_KINDS", "sketches"]

SKETCH_KINDS: tuple[str, ...] = ("bernoulli", "randk", "permutation", "identity", "discrete")


@st.composite
def sketches(
    draw: st.DrawFn,
    d: int | None = None,
    *,
    kinds: tuple[str, ...] = SKETCH_KINDS,
    max_d: int = 5,
    min_p: float = 0.1,
):
    """Sketch distributions with a small, enumerable support (at most a few hundred outcomes).

    Parameters
    ----------
    d : int, optional
        Dimension; drawn from [1, max_d] when omitted.
    kinds : tuple of str
        Subset of :data:`SKETCH_KINDS` to draw from.  "discrete" draws a dense (non-diagonal)
        finite distribution S_j = M_j − Σ_l w_l M_l + I with E[S] = I.
    max_d : int
        Largest dimension drawn.
    min_p : float
        Smallest Bernoulli keep probability.
    """
    from mastbench import sketches as sk

    unknown = set(kinds) - set(SKETCH_KINDS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be a non-empty subset of {SKETCH_KINDS}, got {kinds}")
    d = draw(dimensions(1, max_d)) if d is None else d
    kind = draw(st.sampled_from(kinds))
    if kind == "bernoulli":
        p = draw(st.lists(probabilities(min_p), min_size=d, max_size=d))
        return sk.Bernoulli(np.array(p))
    if kind == "randk":
        return sk.RandK(d, draw(st.integers(1, d)))
    if kind == "permutation":
        return sk.Permutation(d, draw(st.sampled_from([n for n in range(1, d + 1) if d % n == 0])))
    if kind == "identity":
        return sk.Identity(d)
    gen = np.random.default_rng(draw(seeds()))
    count = draw(st.integers(1, 4))
    weights = gen.dirichlet(np.ones(count))
    mats = gen.normal(size=(count, d, d))
    mats = mats - np.einsum("n,nij->ij", weights, mats) + np.eye(d)
    return sk.Discrete(mats, weights)


# == MAST rates ==
# Instances for the MAST convergence theorems (theory/_mast_rates.py): small quadratics, a sketch
# with a finite support and E[S] = I, a shift v and a seed for the start.


def mast_sketches(d: int) -> st.SearchStrategy:
    """Sketches with small finite support on R^d: Bernoulli (distinct p_j), Rand-K, Identity."""
    from mastbench.sketches import Bernoulli, Identity, RandK

    bernoulli = st.lists(st.floats(0.3, 1.0), min_size=d, max_size=d).map(
        lambda p: Bernoulli(np.asarray(p))
    )
    randk = st.integers(1, d).map(lambda k: RandK(d, k))
    return st.one_of(bernoulli, randk, st.just(Identity(d)))


@st.composite
def mast_quadratic_cases(draw: st.DrawFn, *, max_d: int = 4, singular: bool = False) -> dict:
    """A MAST quadratic case: problem, sketch, shift (array), seed and the gap to use.

    The shift is random, zero, or x* (interpolation, Δ = 0; only when f is strongly convex).
    """
    d = draw(dimensions(2, max_d))
    problem = draw(quadratics(d, singular=singular))
    sketch = draw(mast_sketches(d))
    seed = draw(st.integers(0, 2**16))
    kinds = ["random", "zero"] if singular else ["random", "zero", "interpolation"]
    kind = draw(st.sampled_from(kinds))
    gen = np.random.default_rng(seed)
    shift = {
        "random": lambda: gen.standard_normal(d),
        "zero": lambda: np.zeros(d),
        "interpolation": lambda: problem.x_star_host.copy(),
    }[kind]()
    gap = draw(st.sampled_from(["delta", "delta_prime"]))
    return {"problem": problem, "sketch": sketch, "shift": shift, "seed": seed, "gap": gap}
