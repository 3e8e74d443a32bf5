"""Constraint sets: exact LMOs against brute force, projections, curvature constants, f*."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastbench.problems.constraints import (
    GroupL1Ball,
    L1Ball,
    L2Ball,
    LInfBall,
    NuclearBall,
    Simplex,
    constrained_minimum,
    curvature_constant,
)
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.theory.frank_wolfe.instances import make_constraint

from mastbench.backend import to_numpy
from mastbench.strategies import fw_gradients

KINDS = ("l1", "group", "nuclear", "l2", "linf", "simplex")


def _brute_min(constraint, g):
    """min over D of <g, s> by enumeration (vertices), group spheres, or a full SVD."""
    d, r = g.shape[-1], constraint.radius
    if isinstance(constraint, Simplex):
        return r * g.min()
    if isinstance(constraint, L1Ball):
        return min(r * s * g[i] for i in range(d) for s in (-1, 1))
    if isinstance(constraint, LInfBall):
        return min(r * np.dot(e, g) for e in itertools.product((-1, 1), repeat=d))
    if isinstance(constraint, GroupL1Ball):
        return min(
            -r * np.linalg.norm(g[constraint.labels == k]) for k in range(constraint.n_groups)
        )
    if isinstance(constraint, NuclearBall):
        return -r * np.linalg.svd(g.reshape(constraint.shape), compute_uv=False)[0]
    return -r * np.linalg.norm(g)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=30)
@given(grads=fw_gradients(min_d=4, max_d=4))
def test_lmo_is_a_feasible_exact_minimizer(kind, grads):
    constraint = make_constraint(kind, 4, 1.7)
    s = constraint.lmo(grads)
    assert s.shape == grads.shape
    for g, row in zip(grads, s, strict=True):
        assert constraint.contains(row)
        best = _brute_min(constraint, g)
        scale = 1.7 * max(1.0, np.abs(g).max()) * 4
        assert abs(g @ row - best) <= 1e-13 * scale
        np.testing.assert_allclose(constraint.support_value(g), best, atol=1e-13 * scale)


@pytest.mark.parametrize("kind", ("l1", "group", "nuclear", "simplex"))
def test_lmo_returns_one_atom_under_ties_and_zero_gradient(kind):
    constraint = make_constraint(kind, 6, 2.0)
    grads = np.array([[3.0, -3.0, 3.0, 1.0, -3.0, 0.0], np.zeros(6), -np.ones(6)])
    s = constraint.lmo(grads)
    assert np.all(to_numpy(constraint.support(s)) == 1)
    assert constraint.contains(s)


@pytest.mark.parametrize("kind", KINDS)
def test_lmo_and_projection_agree_across_backends(kind, xp):
    constraint = make_constraint(kind, 6, 1.3)
    gen = np.random.default_rng(3)
    g, x = gen.normal(size=(5, 6)), 2 * gen.normal(size=(5, 6))
    s = constraint.lmo(xp.asarray(g))
    p = constraint.project(xp.asarray(x))
    np.testing.assert_allclose(to_numpy(s), constraint.lmo(g), atol=1e-14)
    np.testing.assert_allclose(to_numpy(p), constraint.project(x), atol=1e-12)
    np.testing.assert_allclose(to_numpy(constraint.lmo(xp.asarray(g[0]))), constraint.lmo(g[0]))
    np.testing.assert_allclose(
        to_numpy(constraint.support_value(xp.asarray(g))), constraint.support_value(g)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_projection_is_feasible_idempotent_and_optimal(kind):
    constraint = make_constraint(kind, 6, 0.8)
    gen = np.random.default_rng(kind.__hash__() % 1000)
    x = 3 * gen.normal(size=(20, 6))
    p = constraint.project(x)
    assert constraint.contains(p)
    np.testing.assert_allclose(constraint.project(p), p, atol=1e-12)
    # variational inequality <x - p, z - p> <= 0 for feasible z (LMO points and projections)
    z = np.concatenate(
        [constraint.lmo(gen.normal(size=(50, 6))), constraint.project(gen.normal(size=(50, 6)))]
    )
    for xi, pi in zip(x, p, strict=True):
        assert np.max((z - pi) @ (xi - pi)) <= 1e-10


def test_points_inside_are_fixed_by_projection():
    inside = np.array([0.2, -0.3, 0.1])
    for constraint in (L1Ball(1.0), L2Ball(1.0), LInfBall(1.0)):
        np.testing.assert_allclose(constraint.project(inside), inside)
    np.testing.assert_allclose(Simplex(1.0).project(np.array([0.2, 0.5, 0.3])), [0.2, 0.5, 0.3])


@pytest.mark.parametrize("kind", ("l1", "linf", "simplex", "group", "l2"))
def test_quadratic_curvature_is_the_supremum(kind):
    d = 4
    gen = np.random.default_rng(5)
    M = gen.normal(size=(d, d))
    H = M @ M.T
    constraint = make_constraint(kind, d, 1.5)
    C = constraint.quadratic_curvature(H)
    # every pair of feasible points gives a lower estimate
    a = constraint.project(3 * gen.normal(size=(4000, d)))
    b = constraint.lmo(gen.normal(size=(4000, d)))
    diff = a - b
    sampled = np.max(np.einsum("ki,ij,kj->k", diff, H, diff))
    assert sampled <= C * (1 + 1e-12)
    # and the supremum is attained at a pair of extreme points (s = lmo(u), x = lmo(-u))
    directions = gen.normal(size=(20000, d))
    ends = constraint.lmo(directions) - constraint.lmo(-directions)
    attained = np.max(np.einsum("ki,ij,kj->k", ends, H, ends))
    assert attained >= 0.8 * C
    if kind in ("l1", "linf", "simplex", "l2"):
        vert = {
            "l1": 1.5 * np.concatenate([np.eye(d), -np.eye(d)]),
            "simplex": 1.5 * np.eye(d),
            "linf": 1.5 * np.array(list(itertools.product((-1, 1), repeat=d)), float),
            "l2": None,
        }[kind]
        if vert is not None:
            pairs = (vert[:, None, :] - vert[None, :, :]).reshape(-1, d)
            np.testing.assert_allclose(np.max(np.einsum("ki,ij,kj->k", pairs, H, pairs)), C)


def test_nuclear_curvature_exact_for_identity_and_flagged_otherwise():
    ball = NuclearBall((2, 3), 2.0)
    assert ball.quadratic_curvature(np.eye(6)) == pytest.approx(16.0)
    assert ball.last_curvature_exact
    v = np.ones(6) / np.sqrt(6)
    assert ball.quadratic_curvature(np.eye(6) + 5 * np.outer(v, v)) == pytest.approx(4 * 4 * 6)
    assert ball.last_curvature_exact  # the all-ones matrix is rank one
    w = np.array([1.0, 0, 0, 0, 1.0, 0]) / np.sqrt(2)  # the identity-like matrix: rank two
    ball.quadratic_curvature(np.eye(6) + 5 * np.outer(w, w))
    assert not ball.last_curvature_exact


def test_logistic_curvature_bounds_the_definition():
    gen = np.random.default_rng(7)
    X = gen.normal(size=(30, 4))
    y = np.where(gen.random(30) < 0.5, -1.0, 1.0)
    problem = Logistic(X, y, l2=1e-2)
    ball = L1Ball(2.0)
    C = curvature_constant(problem, ball)
    np.testing.assert_allclose(C, 4 * 4 * (np.max(np.sum(X * X, axis=0)) / (4 * 30) + 1e-2))
    x = ball.project(3 * gen.normal(size=(300, 4)))
    s = ball.lmo(gen.normal(size=(300, 4)))
    for gamma in (1.0, 0.3, 0.01):
        z = x + gamma * (s - x)
        lhs = (
            problem.value(z) - problem.value(x) - gamma * np.sum((s - x) * problem.grad(x), axis=1)
        )
        assert np.max(2 / gamma**2 * lhs) <= C


def test_constrained_minimum_is_certified_and_stationary():
    gen = np.random.default_rng(8)
    X = gen.normal(size=(40, 6))
    problem = LeastSquares(X, X @ gen.normal(size=6))
    for ball in (L1Ball(0.5), Simplex(1.0), GroupL1Ball([0, 0, 1, 1, 2, 2], 0.7)):
        sol = constrained_minimum(problem, ball)
        assert ball.contains(sol.x)
        assert sol.gap <= 1e-12 * max(1.0, abs(sol.f_star))
        step = 1 / problem.L
        fixed = ball.project(sol.x - step * problem.grad_host(sol.x))
        assert np.linalg.norm(fixed - sol.x) <= 1e-10
        # no feasible point sampled does better than f* - gap
        z = ball.project(gen.normal(size=(500, 6)))
        assert np.min(problem.value(z)) >= sol.f_star - sol.gap
        assert constrained_minimum(problem, ball) is sol  # cached


def test_diameters():
    assert L1Ball(2.0).diameter == 4.0
    assert L2Ball(2.0).diameter == 4.0
    assert Simplex(2.0).diameter == pytest.approx(2 * np.sqrt(2))
    assert Simplex(2.0).diameter_in(1) == 0.0
    assert LInfBall(2.0).diameter_in(9) == 12.0
    assert NuclearBall((2, 2), 1.0).diameter == 2.0
    with pytest.raises(TypeError, match="diameter_in"):
        _ = LInfBall(1.0).diameter


def test_decompose_reproduces_points():
    gen = np.random.default_rng(9)
    for ball in (L1Ball(1.5), Simplex(2.0)):
        x = ball.project(3 * gen.normal(size=(7, 5)))
        w = ball.decompose(x)
        assert np.all(w >= 0)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        np.testing.assert_allclose(w @ ball.vertex_list(5), x, atol=1e-14)


def test_support_counts_atoms():
    assert int(L1Ball(1.0).support(np.array([0.0, 0.5, 0.0, -0.1]))) == 2
    group = GroupL1Ball([0, 0, 1, 1], 1.0)
    assert int(group.support(np.array([0.0, 0.3, 0.0, 0.0]))) == 1
    nuclear = NuclearBall((2, 2), 3.0)
    assert int(nuclear.support(np.array([1.0, 0.0, 0.0, 1.0]))) == 2
    assert int(nuclear.support(np.array([1.0, 1.0, 1.0, 1.0]))) == 1


@pytest.mark.parametrize("cls", (L1Ball, L2Ball, LInfBall, Simplex))
@pytest.mark.parametrize("radius", (0.0, -1.0, float("nan")))
def test_bad_radius(cls, radius):
    with pytest.raises(ValueError, match="radius"):
        cls(radius)


@pytest.mark.parametrize("groups", ([], [[0, 1]], [0.5, 1.0], [0, 2], [-1, 0]))
def test_bad_groups(groups):
    with pytest.raises(ValueError, match="groups"):
        GroupL1Ball(groups, 1.0)


def test_bad_shapes_and_matrices():
    with pytest.raises(ValueError, match="shape"):
        NuclearBall((2, 2, 2), 1.0)
    with pytest.raises(ValueError, match="shape"):
        NuclearBall((0, 2), 1.0)
    with pytest.raises(ValueError, match="d=4"):
        NuclearBall((2, 2), 1.0).lmo(np.ones(5))
    with pytest.raises(ValueError, match="square"):
        L1Ball(1.0).quadratic_curvature(np.ones((2, 3)))
    with pytest.raises(ValueError, match="d=21 > 20"):
        LInfBall(1.0).quadratic_curvature(np.eye(21))
    with pytest.raises(ValueError, match=r"\(d,\) or \(R, d\)"):
        L1Ball(1.0).lmo(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="polytope"):
        L2Ball(1.0).vertex_list(3)
    with pytest.raises(ValueError, match="kind"):
        make_constraint("l7", 3, 1.0)


def _quadratic(d: int) -> LeastSquares:
    return LeastSquares(np.eye(d), np.ones(d))


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: constrained_minimum(_quadratic(3), "l1"), TypeError, "constraint"),
        (lambda: constrained_minimum(_quadratic(3), NuclearBall((2, 2), 1.0)), ValueError, "d=3"),
        (lambda: constrained_minimum(_quadratic(3), L1Ball(1.0), tol=0.0), ValueError, "tol"),
        (lambda: constrained_minimum(_quadratic(3), L1Ball(1.0), tol=np.nan), ValueError, "tol"),
        (
            lambda: constrained_minimum(_quadratic(3), L1Ball(1.0), max_iter=0),
            ValueError,
            "max_iter",
        ),
        (lambda: curvature_constant(_quadratic(3), NuclearBall((2, 2), 1.0)), ValueError, "d=3"),
        (lambda: curvature_constant(_quadratic(3), None), TypeError, "constraint"),
    ],
)
def test_bad_problem_constraint_pair(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=20)
@given(st.integers(2, 7), st.floats(0.1, 10.0), st.integers(0, 2**16))
def test_l1_projection_matches_bisection(d, radius, seed):
    x = 5 * np.random.default_rng(seed).normal(size=d)
    p = L1Ball(radius).project(x)
    if np.abs(x).sum() <= radius:
        np.testing.assert_allclose(p, x)
        return
    lo, hi = 0.0, np.abs(x).max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.maximum(np.abs(x) - mid, 0).sum() > radius else (lo, mid)
    np.testing.assert_allclose(p, np.sign(x) * np.maximum(np.abs(x) - hi, 0), atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_curvature_is_at_most_L_times_squared_diameter(kind):
    d = 6
    M = np.random.default_rng(11).normal(size=(d, d))
    H = M @ M.T
    constraint = make_constraint(kind, d, 0.9)
    C = constraint.quadratic_curvature(H)
    assert 0 < C <= np.linalg.eigvalsh(H)[-1] * constraint.diameter_in(d) ** 2 * (1 + 1e-12)


def test_public_names_on_the_problems_package():
    import mastbench.problems.constraints as module

    from mastbench import problems

    for name in ("L1Ball", "GroupL1Ball", "NuclearBall", "L2Ball", "LInfBall", "Simplex"):
        assert getattr(problems, name) is getattr(module, name)
        assert name in problems.__all__
    np.testing.assert_array_equal(problems.L1Ball(2.0).lmo(np.array([0.0, -1.0])), [0.0, 2.0])
