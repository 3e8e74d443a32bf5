"""Public hypothesis strategies of problems, sketches and arrays, shared by the families.

A user can falsify their own theorem with these; ``mastbench falsify THEOREM`` uses the
theorem's own strategy, built from the ones here (the strategies of each family's theorem
instances live in ``mastbench.theory.<family>.strategies``).  Needs hypothesis
(``mastbench[test]``).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from mastbench.backend import rng
from mastbench.problems.quadratic import Quadratic

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


def condition_numbers(max_value: float = 1e6) -> st.SearchStrategy[float]:
    """Condition numbers in [1, max_value], log-uniform."""
    return st.floats(0.0, float(np.log10(max_value))).map(lambda e: float(10.0**e))


@st.composite
def quadratics(
    draw: st.DrawFn, d: int | None = None, *, max_d: int = 6, singular: bool = False
) -> Quadratic:
    """Random quadratics ½xᵀAx − bᵀx with controlled conditioning (optionally singular A)."""
    import mastbench.problems.random as random_problems

    d = draw(dimensions(1, max_d)) if d is None else d
    kappa = draw(condition_numbers())
    gen = rng(draw(seeds()))
    return random_problems.quadratic(d, kappa, gen, mu=0.0 if singular and d > 1 else 1.0)


# -- sketches (mastbench.sketches) --------------------------------------------------------------
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


# -- Frank-Wolfe (theory/frank_wolfe/) -----------------------------------------------------------
__all__ += ["fw_gradients"]


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


# ======================================================================================
# RAMDA family (arXiv 2403.14398): group-lasso regularizers and subproblem data
# ======================================================================================


@st.composite
def group_lasso_regularizers(
    draw: st.DrawFn, *, max_groups: int = 5, max_size: int = 4
):  # -> problems.regularizers.GroupLasso
    """Group lassos on random partitions of range(d) into groups of unequal sizes."""
    from mastbench.problems.regularizers import GroupLasso

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


# == MAST rates ==
# Instances for the MAST convergence theorems (theory/mast/rates*.py): small quadratics, a sketch
# with a finite support and E[S] = I, a shift v and a start x0.  The draws reach the corners
# where the bounds are nearly attained or where a wrong constant shows: keep-probabilities down
# to 1e-3, condition numbers up to 1e6, k = 1, shifts far from x*, starts near x_D*,
# heterogeneous clients.

__all__ += [
    "keep_probabilities",
    "mast_distributed_cases",
    "mast_least_squares_cases",
    "mast_logistic_cases",
    "mast_quadratic_cases",
    "mast_sketches",
    "mast_starts",
    "mast_uniform_sketches",
]

#: Smallest keep-probability the MAST strategies draw (Bernoulli p, and 1/p-sized sketches).
MIN_KEEP_PROBABILITY = 1e-3


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats in [low, high], half of the draws on the decades 10^k inside, half log-uniform.

    Hypothesis's float draws favour simple values (the bounds, integers); the decade grid
    makes each order of magnitude as likely as any other.
    """
    a, b = float(np.log10(low)), float(np.log10(high))
    grid = [10.0**k for k in range(math.ceil(a), math.floor(b) + 1)]
    spread = st.floats(a, b).map(lambda e: float(min(max(10.0**e, low), high)))
    return st.one_of(st.sampled_from(grid), spread) if grid else spread


def keep_probabilities(min_value: float = MIN_KEEP_PROBABILITY) -> st.SearchStrategy[float]:
    """Keep-probabilities p in [min_value, 1], log-uniform (p = 1e-3 as likely as p = 0.5)."""
    return _log_uniform(min_value, 1.0)


def mast_sketches(d: int, *, min_p: float = MIN_KEEP_PROBABILITY) -> st.SearchStrategy:
    """Sketches with small finite support on R^d: Bernoulli (one p for all coordinates, or
    distinct p_j; p log-uniform down to ``min_p``), Rand-K (K = 1 included), Identity."""
    from mastbench.sketches import Bernoulli, Identity, RandK

    distinct = st.lists(keep_probabilities(min_p), min_size=d, max_size=d)
    uniform = keep_probabilities(min_p).map(lambda p: [p] * d)
    bernoulli = st.one_of(uniform, distinct).map(lambda p: Bernoulli(np.asarray(p)))
    randk = st.integers(1, d).map(lambda k: RandK(d, k))
    return st.one_of(bernoulli, randk, st.just(Identity(d)))


def mast_starts(x_star: np.ndarray, gen: np.random.Generator) -> st.SearchStrategy[np.ndarray]:
    """Starts x0: standard normal, far (‖x0‖ up to 10³), or near the target ``x_star``
    (relative distance 10⁻⁶ … 10⁻¹ of max(1, ‖x_star‖))."""
    d = x_star.shape[0]
    direction = gen.standard_normal(d)
    direction /= max(float(np.linalg.norm(direction)), 1e-300)
    scale = max(1.0, float(np.linalg.norm(x_star)))
    return st.one_of(
        st.just(gen.standard_normal(d)),
        st.floats(0.0, 3.0).map(lambda e: 10.0**e * direction),
        st.floats(-6.0, -1.0).map(lambda e: x_star + 10.0**e * scale * direction),
    )


@st.composite
def mast_quadratic_cases(draw: st.DrawFn, *, max_d: int = 4, singular: bool = False) -> dict:
    """A MAST quadratic case: problem, sketch, shift, start x0, seed and the gap to use.

    Conditioning up to κ = 10⁶; the shift is random, zero, far (‖v‖ up to 10³) or x*
    (interpolation, Δ = 0; only when f is strongly convex); the start is random, far, or near
    x_D* (:func:`mast_starts`).
    """
    from mastbench.problems.mast_objective import MASTObjective

    d = draw(dimensions(1 if not singular else 2, max_d))
    problem = draw(quadratics(d, singular=singular))
    sketch = draw(mast_sketches(d))
    seed = draw(st.integers(0, 2**16))
    kinds = ["random", "zero", "far"] if singular else ["random", "zero", "far", "interpolation"]
    kind = draw(st.sampled_from(kinds))
    gen = np.random.default_rng(seed)
    if kind == "far":
        shift = 10.0 ** draw(st.floats(1.0, 3.0)) * gen.standard_normal(d)
    else:
        shift = {
            "random": lambda: gen.standard_normal(d),
            "zero": lambda: np.zeros(d),
            "interpolation": lambda: problem.x_star_host.copy(),
        }[kind]()
    x_D_star = MASTObjective(problem, sketch, problem.asarray(shift)).x_star_host
    x0 = draw(mast_starts(np.asarray(x_D_star, float), gen))
    gap = draw(st.sampled_from(["delta", "delta_prime"]))
    return {
        "problem": problem,
        "sketch": sketch,
        "shift": shift,
        "x0": x0,
        "seed": seed,
        "gap": gap,
    }


def mast_uniform_sketches(d: int) -> st.SearchStrategy:
    """Uniform distributions over N sketches (for L-SVRDSG): Rand-K, or Bernoulli(1/2)."""
    from mastbench.sketches import Bernoulli, Discrete, RandK

    base = st.one_of(
        st.integers(1, d).map(lambda k: RandK(d, k)), st.just(Bernoulli(np.full(d, 0.5)))
    )
    return base.map(lambda sketch: Discrete(*sketch.support()))


def _client_quadratic(d: int, L: float, kappa: float, seed: int, linear: float):
    """A random quadratic with λ_max(A) = L, condition κ, and b scaled by ``linear``."""
    from mastbench.problems.quadratic import Quadratic
    from mastbench.problems.random import quadratic as random_quadratic

    base = random_quadratic(d, kappa, rng(seed), mu=L / kappa)
    A, b, _ = base.quadratic_form()
    return Quadratic(A, linear * b)


@st.composite
def mast_distributed_cases(
    draw: st.DrawFn,
    *,
    max_clients: int = 3,
    max_d: int = 3,
    heterogeneous: bool | None = None,
) -> dict:
    """M quadratic clients with per-client sketches (or Perm-1 when M = d), and a start.

    Two regimes (``heterogeneous``: True, False, or None to draw either).  *Independent*: each
    client draws L_f log-uniform in [10⁻², 10⁴], κ up to 10³ and a sketch from
    :func:`mast_sketches`.  *Heterogeneous*: isotropic clients (A_i = L_{f_i}I up to b); client 0
    is sketched hard (Bernoulli, one p log-uniform in [10⁻³, 10⁻¹]), the others not at all,
    and every L_{f_i} is set so that the products L_{f_i}²L_{D_i}L_{S_i}^max agree within a
    factor 10.  There L·A (client 0 has the largest A = L_fL_S^max, the others the largest
    L_fL_D) exceeds D_max = max_i L_{f_i}²L_{D_i}L_{S_i}^max by up to about ½(1 + p^{-½})
    (mast.md §4, T-DIST caveat).  Client 0's linear term is zero (it is minimized at v = 0)
    or standard normal, the others' standard normal (independent regime: each either).

    ``start`` is ``("random", x0)`` or ``("near", θ)``: start with f_D(x0) − f_D* =
    θ·Δ_dist/3, where the two terms of T-DIST's bound agree for θ = 1 (θ log-uniform in
    [10⁻², 10²], [10⁻¹, 10] in the heterogeneous regime); the consumer places x0 (it knows x_D*
    and Δ_dist).
    """
    from mastbench.sketches import Bernoulli, Identity, Permutation

    d = draw(dimensions(1, max_d))
    M = draw(st.integers(2, max_clients))
    if heterogeneous is None:
        heterogeneous = draw(st.booleans())
    if heterogeneous:
        sketches = [Bernoulli(draw(_log_uniform(MIN_KEEP_PROBABILITY, 0.1)), d=d)]
        client_sketches = sketches = sketches + [Identity(d)] * (M - 1)
        linear = [draw(st.sampled_from([0.0, 1.0]))] + [1.0] * (M - 1)
    elif M == d and draw(st.booleans()):
        sketches = Permutation(d, d)
        client_sketches = [sketches.marginal] * M
        linear = [draw(st.sampled_from([0.0, 1.0])) for _ in range(M)]
    else:
        client_sketches = sketches = [draw(mast_sketches(d)) for _ in range(M)]
        linear = [draw(st.sampled_from([0.0, 1.0])) for _ in range(M)]
    problems = []
    for sketch, scale in zip(client_sketches, linear, strict=True):
        if heterogeneous:
            product = 1e8 * draw(_log_uniform(10**-0.5, 10**0.5))
            L, kappa = float(np.sqrt(product / (sketch.L_D * sketch.L_S_max))), 1.0
        else:
            L, kappa = draw(_log_uniform(1e-2, 1e4)), draw(condition_numbers(1e3))
        problems.append(_client_quadratic(d, L, kappa, draw(seeds()), scale))
    seed = draw(st.integers(0, 2**16))
    if heterogeneous or draw(st.booleans()):
        theta = _log_uniform(1e-1, 1e1) if heterogeneous else _log_uniform(1e-2, 1e2)
        start = ("near", draw(theta))
    else:
        start = ("random", np.random.default_rng(seed).standard_normal(d))
    return {"problems": problems, "sketches": sketches, "seed": seed, "start": start}


@st.composite
def mast_least_squares_cases(draw: st.DrawFn) -> dict:
    """A small least-squares finite sum (n ≤ 4, d ≤ 3, l2 > 0) with a sketch and a batch size."""
    from mastbench.problems.random import least_squares

    d = draw(dimensions(2, 3))
    n = draw(st.integers(2, 4))
    problem = least_squares(n, d, rng(draw(seeds())), l2=draw(st.floats(0.1, 1.0)))
    return {
        "problem": problem,
        "sketch": draw(mast_sketches(d)),
        "batch": draw(st.integers(1, 2)),
        "seed": draw(st.integers(0, 2**16)),
    }


@st.composite
def mast_logistic_cases(draw: st.DrawFn) -> dict:
    """A small ℓ2-regularized logistic regression (n ≤ 30, d ≤ 3) with a sketch."""
    from mastbench.problems.random import logistic

    d = draw(dimensions(2, 3))
    n = draw(st.integers(10, 30))
    problem = logistic(n, d, rng(draw(seeds())), l2=draw(st.floats(0.2, 1.0)))
    return {"problem": problem, "sketch": draw(mast_sketches(d)), "seed": draw(seeds())}


__all__ += ["group_lasso_regularizers", "ramda_subproblems"]


# == SequentialAttention++ =====================================================================
# Small group-structured least squares with a planted block support (the instances of the
# ``seqattn.*`` theorems are built from them in theory/seqattn/strategies.py).


@st.composite
def group_least_squares(
    draw: st.DrawFn,
    *,
    min_groups: int = 3,
    max_groups: int = 6,
    max_block: int = 2,
    max_responses: int = 2,
    rows_per_feature: int = 4,
):
    """Planted-support multiple-response least squares, row blocks.

    n ≥ ``rows_per_feature``·d rows (4 by default, so μ > 0; more rows give a better
    conditioned Gram matrix, as conditions such as OMPR's k′ ≥ k(L²/μ² + 1) need).
    """
    from mastbench.problems.group_random import planted_least_squares

    t = draw(st.integers(min_groups, max_groups))
    block = draw(st.integers(1, max_block))
    K = draw(st.integers(1, max_responses))
    k = draw(st.integers(1, min(2, t - 1)))
    n = rows_per_feature * t * block * K + draw(st.integers(0, 40))
    problem, _ = planted_least_squares(
        n, t * block, K, rng(draw(seeds())), block=block, k=k, noise=draw(st.floats(0.05, 1.0))
    )
    return problem


__all__ += ["group_least_squares"]
