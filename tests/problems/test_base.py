"""Checks shared by every finite sum: an index batch must match the points it is applied to."""

import numpy as np
import pytest
from mastbench.problems import LeastSquares, Logistic, MultinomialLogistic

X = np.random.default_rng(0).normal(size=(6, 3))
FINITE_SUMS = {
    "least_squares": lambda: LeastSquares(X, np.ones(6), l2=0.1),
    "logistic": lambda: Logistic(X, np.array([1.0, -1.0] * 3), l2=0.1),
    "multinomial": lambda: MultinomialLogistic(X, np.arange(6) % 2, 2, l2=0.1),
}


@pytest.mark.parametrize("make", FINITE_SUMS.values(), ids=FINITE_SUMS.keys())
@pytest.mark.parametrize(
    ("rows", "idx", "exc", "match"),
    [
        (2, np.zeros((1, 2), dtype=np.int64), ValueError, r"x must have shape \(R, d\) = \(1,"),
        (1, np.zeros(2, dtype=np.int64), ValueError, r"idx must have shape \(R, b\)"),
        (1, np.zeros((1, 2)), TypeError, "idx must hold integer indices"),
    ],
)
def test_grad_batch_refuses_a_mismatched_batch(make, rows, idx, exc, match):
    problem = make()
    with pytest.raises(exc, match=match):
        problem.grad_batch(np.zeros((rows, problem.d)), idx)


@pytest.mark.parametrize("make", FINITE_SUMS.values(), ids=FINITE_SUMS.keys())
def test_grad_batch_of_all_components_is_the_gradient(make):
    problem = make()
    x = np.full((2, problem.d), 0.3)
    idx = np.tile(np.arange(problem.n), (2, 1))
    np.testing.assert_allclose(problem.grad_batch(x, idx), problem.grad(x), rtol=1e-12)


@pytest.mark.parametrize("make", FINITE_SUMS.values(), ids=FINITE_SUMS.keys())
def test_grad_batch_refuses_points_or_indices_of_another_namespace(make):
    strict = pytest.importorskip("array_api_strict")
    problem = make()
    x = np.zeros((1, problem.d))
    idx = np.zeros((1, 2), dtype=np.int64)
    with pytest.raises(TypeError, match="idx must be an array of the problem's namespace"):
        problem.grad_batch(x, [[0, 1]])
    with pytest.raises(TypeError, match="idx must be an array of the problem's namespace"):
        problem.grad_batch(x, strict.asarray(idx))
    with pytest.raises(TypeError, match="x must be an array of the problem's namespace"):
        problem.grad_batch(strict.asarray(x), idx)
