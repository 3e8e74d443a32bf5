"""Group-structured problems: partitions, oracles on every backend, exact restricted constants,
brute-force best k-group solutions, bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastbench.problems.group_random import (
    block_groups,
    dataset_multinomial,
    planted_least_squares,
    planted_multinomial,
)
from mastbench.problems.group_structured import GroupLeastSquares, GroupMultinomial, Groups

from mastbench.backend import rng, to_numpy
from mastbench.strategies import group_least_squares


# -- Groups ------------------------------------------------------------------------------------
def test_rows_tiles_contiguous_partition_every_coordinate_once():
    rows = Groups.rows(4, 3, 2)
    assert rows.t == 2 and rows.sizes.tolist() == [6, 6]
    # row-major vec(W): coordinate i*K + c is W[i, c]; rows 0-1 form group 0
    assert rows.coords([0]).tolist() == list(range(6))
    tiles = Groups.tiles(4, 4, 2)
    W = np.arange(16).reshape(4, 4)
    assert tiles.t == 4
    assert sorted(W.reshape(-1)[tiles.coords([1])]) == [2, 3, 6, 7]
    assert Groups.contiguous(6, 3).assignment.tolist() == [0, 0, 0, 1, 1, 1]


def test_groups_norms_and_membership_agree():
    g = Groups.tiles(4, 2, 2)
    x = np.random.default_rng(0).standard_normal((3, g.d))
    expected = np.stack([np.linalg.norm(x[:, m], axis=1) for m in g.members], axis=1)
    np.testing.assert_allclose(g.norms_host(x), expected, rtol=1e-14)
    np.testing.assert_allclose(g.norms_host(x[0]), expected[0], rtol=1e-14)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: Groups([0, 2]), "every group id"),
        (lambda: Groups([]), "non-empty"),
        (lambda: Groups([0.0, 1.0]), "integers"),
        (lambda: Groups.rows(5, 2, 2), "must divide"),
        (lambda: Groups.tiles(4, 3, 2), "must divide"),
        (lambda: Groups.contiguous(5, 2), "must divide"),
        (lambda: Groups.rows(4, 2, 2).coords([7]), "group ids"),
        (lambda: block_groups(4, 2, 2, "columns"), "kind"),
    ],
)
def test_groups_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# -- oracles -----------------------------------------------------------------------------------
def test_least_squares_oracles_on_every_backend(xp):
    problem, _ = planted_least_squares(40, 4, 3, xp.rng(1), k=2, l2=0.1)
    x = xp.rng(2).normal((3, problem.d))
    host = to_numpy(x)
    X, Y = to_numpy(problem.X), to_numpy(problem.Y)
    for r in range(3):
        W = host[r].reshape(4, 3)
        expected = 0.5 * np.sum((X @ W - Y) ** 2) / 40 + 0.05 * np.sum(W * W)
        assert float(to_numpy(problem.value(x))[r]) == pytest.approx(expected, rel=1e-12)
        assert problem.value_host(host[r]) == pytest.approx(expected, rel=1e-12)
        grad = (X.T @ (X @ W - Y) / 40 + 0.1 * W).reshape(-1)
        np.testing.assert_allclose(to_numpy(problem.grad(x))[r], grad, rtol=1e-11, atol=1e-13)
    assert problem.group_norms(x).shape == (3, problem.groups.t)


def test_multinomial_oracles_on_every_backend(xp):
    problem, _ = planted_multinomial(50, 3, 3, xp.rng(3), k=1, l2=0.05)
    x = xp.rng(4).normal((2, problem.d))
    host = to_numpy(x)
    np.testing.assert_allclose(
        to_numpy(problem.value(x)), [problem.value_host(h) for h in host], rtol=1e-12
    )
    eps = 1e-6
    for j in range(problem.d):
        e = np.zeros(problem.d)
        e[j] = eps
        fd = (problem.value_host(host[0] + e) - problem.value_host(host[0] - e)) / (2 * eps)
        assert to_numpy(problem.grad(x))[0, j] == pytest.approx(fd, abs=1e-7)
    H = problem.hessian_host(host[0])
    e = np.zeros(problem.d)
    e[1] = eps
    fd = (problem.grad_host(host[0] + e) - problem.grad_host(host[0] - e)) / (2 * eps)
    np.testing.assert_allclose(H[:, 1], fd, atol=1e-7)


# -- restricted constants and sparse optima ------------------------------------------------------
@given(group_least_squares())
def test_restricted_constants_bracket_and_end_at_global(problem):
    t = problem.groups.t
    H = problem.hessian_host(np.zeros(problem.d))
    eig = np.linalg.eigvalsh(H)
    prev = None
    for s in range(1, t + 1):
        c = problem.restricted_constants(s)
        assert c.exact and c.mu <= c.L
        if prev is not None:  # interlacing: μ_s non-increasing, L_s non-decreasing
            assert c.mu <= prev.mu * (1 + 1e-12) and c.L >= prev.L * (1 - 1e-12)
        prev = c
    assert prev.mu == pytest.approx(eig[0], rel=1e-10)
    assert prev.L == pytest.approx(eig[-1], rel=1e-10)


def test_restricted_strong_convexity_holds_on_random_sparse_directions():
    problem, _ = planted_least_squares(30, 6, 2, rng(5), k=2)
    c = problem.restricted_constants(2)
    gen = np.random.default_rng(0)
    for _ in range(200):
        support = gen.choice(problem.groups.t, 2, replace=False)
        delta = np.zeros(problem.d)
        idx = problem.groups.coords(support)
        delta[idx] = gen.standard_normal(idx.size)
        base = gen.standard_normal(problem.d)
        gap = (
            problem.value_host(base + delta)
            - problem.value_host(base)
            - problem.grad_host(base) @ delta
        )
        assert (
            0.5 * c.mu * delta @ delta * (1 - 1e-10)
            <= gap
            <= 0.5 * c.L * delta @ delta * (1 + 1e-10)
        )


def test_multinomial_restricted_bound_dominates_hessian():
    problem, _ = planted_multinomial(80, 4, 3, rng(6), k=2, l2=0.02)
    c = problem.restricted_constants(2)
    assert not c.exact and c.mu == problem.l2
    gen = np.random.default_rng(1)
    for _ in range(5):
        H = problem.hessian_host(2 * gen.standard_normal(problem.d))
        for subset in itertools.combinations(range(problem.groups.t), 2):
            idx = problem.groups.coords(subset)
            eig = np.linalg.eigvalsh(H[np.ix_(idx, idx)])
            assert eig[-1] <= c.L * (1 + 1e-12) and eig[0] >= c.mu * (1 - 1e-12)


@pytest.mark.parametrize("kind", ["ls", "multinomial"])
def test_best_k_groups_beats_every_support_and_is_stationary(kind):
    if kind == "ls":
        problem, planted = planted_least_squares(60, 5, 2, rng(7), k=2, noise=0.3)
    else:
        problem, planted = planted_multinomial(150, 5, 3, rng(7), k=2, l2=0.01, scale=3.0)
    best = problem.best_k_groups(2)
    idx = problem.groups.coords(best.support)
    assert np.linalg.norm(problem.grad_host(best.x)[idx]) <= 1e-9
    assert np.all(np.delete(best.x, idx) == 0)
    gen = np.random.default_rng(2)
    for subset in itertools.combinations(range(problem.groups.t), 2):
        other = problem.restricted_minimizer(subset)
        assert best.value <= other.value + 1e-12
        # the restricted minimizer beats random points with the same support
        trial = np.zeros(problem.d)
        cidx = problem.groups.coords(subset)
        trial[cidx] = other.x[cidx] + 0.1 * gen.standard_normal(cidx.size)
        assert other.value <= problem.value_host(trial)
    assert tuple(planted) == best.support  # strong planted signal is recovered


def test_full_support_minimizer_is_the_unconstrained_one():
    problem, _ = planted_least_squares(50, 4, 2, rng(8), k=1, l2=0.01)
    H, b, _ = problem._form
    np.testing.assert_allclose(problem.x_star_host, np.linalg.solve(H, b), rtol=1e-10)
    assert problem.f_star == pytest.approx(problem.value_host(problem.x_star_host))


def test_digits_instance_is_standardized_and_small():
    problem = dataset_multinomial("digits", classes=3, features=6, l2=0.05)
    X = to_numpy(problem.X)
    assert problem.groups.t == 6 and problem.K == 3
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: GroupLeastSquares(np.ones((3, 2)), np.ones(4), Groups.contiguous(2, 1)),
            ValueError,
            "Y must have shape",
        ),
        (
            lambda: GroupLeastSquares(np.ones((3, 2)), np.ones(3), [0, 1]),
            TypeError,
            "groups must be a Groups",
        ),
        (
            lambda: GroupLeastSquares(np.ones((3, 2)), np.ones(3), Groups.contiguous(4, 1)),
            ValueError,
            "partition",
        ),
        (
            lambda: GroupLeastSquares(np.ones((3, 2)), np.ones(3), Groups.contiguous(2, 1), -1),
            ValueError,
            "l2",
        ),
        (
            lambda: GroupMultinomial(np.ones((3, 2)), np.array([0, 1, 2]), 2, Groups.rows(2, 2), 1),
            ValueError,
            "class indices",
        ),
        (
            lambda: GroupMultinomial(np.ones((3, 2)), np.array([0, 1, 1]), 2, Groups.rows(2, 2), 0),
            ValueError,
            "l2",
        ),
        (
            lambda: GroupMultinomial(np.ones((3, 2)), np.array([0, 0, 0]), 1, Groups.rows(2, 1), 1),
            ValueError,
            "K must be >= 2",
        ),
    ],
)
def test_problem_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@given(st.integers(0, 3))
def test_best_k_groups_rejects_bad_k(k):
    problem, _ = planted_least_squares(20, 3, 1, rng(9), k=1)
    problem.best_k_groups(k)
    with pytest.raises(ValueError, match="k"):
        problem.best_k_groups(4 + k)


def test_restricted_constants_fall_back_to_labelled_global_bounds(monkeypatch):
    import mastbench.problems.group_structured as gs

    problem, _ = planted_least_squares(50, 6, 1, rng(10), k=2)
    exact = problem.restricted_constants(3)
    monkeypatch.setattr(gs, "MAX_SUBSETS", 5)
    bound = problem.restricted_constants(3)
    assert exact.exact and not bound.exact
    assert bound.mu <= exact.mu and bound.L >= exact.L
    with pytest.raises(ValueError, match="exceeds"):
        problem.best_k_groups(3)
