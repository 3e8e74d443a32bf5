import mastbench.problems.random as random_problems
import numpy as np
import pytest
from hypothesis import given
from mastbench.problems import LeastSquares, Quadratic

from mastbench import strategies
from mastbench.backend import to_numpy


def finite_difference_grad(problem, x, h=1e-6):
    eye = np.eye(problem.d)
    return np.array(
        [(problem.value_host(x + h * e) - problem.value_host(x - h * e)) / (2 * h) for e in eye]
    )


def test_quadratic_constants_match_eigendecomposition(xp):
    q = random_problems.quadratic(6, 50.0, xp.rng(0))
    A = to_numpy(q.A)
    eig = np.linalg.eigvalsh(A)
    assert q.L == pytest.approx(eig[-1], rel=1e-12)
    assert q.mu == pytest.approx(eig[0], rel=1e-12)
    assert q.kappa == pytest.approx(50.0, rel=1e-10)
    np.testing.assert_allclose(A @ q.x_star_host, to_numpy(q.b), atol=1e-12)
    assert q.f_star == pytest.approx(float(to_numpy(q.value(q.x_star))), rel=1e-12)


def test_quadratic_batched_value_and_grad(xp):
    q = random_problems.quadratic(4, 10.0, xp.rng(1))
    x = xp.rng(2).normal((3, 4))
    values, grads = to_numpy(q.value(x)), to_numpy(q.grad(x))
    for r in range(3):
        row = to_numpy(x)[r]
        assert values[r] == pytest.approx(q.value_host(row), rel=1e-12)
        np.testing.assert_allclose(grads[r], finite_difference_grad(q, row), rtol=1e-6, atol=1e-6)


@given(strategies.quadratics(singular=True))
def test_singular_quadratic_has_minimum_norm_minimizer(q):
    A, b, _ = q.quadratic_form()
    np.testing.assert_allclose(A @ q.x_star_host, b, atol=1e-8 * max(1, np.abs(b).max()))
    assert q.certificate <= 1e-8 * max(1.0, q.L)


def test_unbounded_quadratic_is_reported():
    q = Quadratic(np.diag([1.0, 0.0]), np.array([0.0, 1.0]))
    assert q.mu == 0.0
    with pytest.raises(ValueError, match="unbounded below"):
        _ = q.x_star


@pytest.mark.parametrize(
    ("A", "b", "match"),
    [
        (np.ones((2, 3)), np.ones(2), "A must be square"),
        (np.array([[1.0, 1.0], [0.0, 1.0]]), np.ones(2), "A must be symmetric"),
        (np.diag([1.0, -1.0]), np.ones(2), "positive semidefinite"),
        (np.eye(2), np.ones(3), "b must have length 2"),
        (np.eye(2), np.array([np.nan, 0.0]), "NaN"),
    ],
)
def test_quadratic_bad_input(A, b, match):
    with pytest.raises(ValueError, match=match):
        Quadratic(A, b)


def test_point_of_wrong_shape_or_namespace():
    q = Quadratic(np.eye(2), np.ones(2))
    with pytest.raises(ValueError, match=r"x must have shape \(d,\) or \(R, d\) with d=2"):
        q.value(np.ones(3))
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="namespace"):
        q.grad(strict.ones(2))


def test_least_squares_equals_its_quadratic_form(xp):
    ls = random_problems.least_squares(30, 5, xp.rng(3), l2=0.1)
    A, b, c = ls.quadratic_form()
    x = to_numpy(xp.rng(4).normal((5,)))
    assert ls.value_host(x) == pytest.approx(0.5 * x @ A @ x - b @ x + c, rel=1e-12)
    assert ls.mu == pytest.approx(np.linalg.eigvalsh(A)[0], rel=1e-12)
    X = to_numpy(ls.X)
    np.testing.assert_allclose(ls.L_i, (X**2).sum(1) + 0.1)
    assert ls.L <= ls.L_mean + 1e-12


def test_least_squares_minibatch_gradient_is_unbiased_mean(xp):
    ls = random_problems.least_squares(6, 3, xp.rng(5))
    x = xp.rng(6).normal((2, 3))
    all_idx = xp.asarray(np.tile(np.arange(6), (2, 1)))
    np.testing.assert_allclose(
        to_numpy(ls.grad_batch(x, all_idx)), to_numpy(ls.grad(x)), rtol=1e-12, atol=1e-12
    )


def test_least_squares_shape_mismatch():
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        LeastSquares(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        LeastSquares(np.ones((3, 2)), np.ones(3), l2=-1.0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda strict: Quadratic([[1.0, 0.0], [0.0, 1.0]], np.ones(2)), "A must be an array"),
        (lambda strict: Quadratic(np.eye(2), [1.0, 1.0]), "b must be an array"),
        (lambda strict: Quadratic(np.eye(2), strict.ones(2)), "b must be an array of the same"),
        (lambda strict: LeastSquares(np.ones((3, 2)), [1.0, 2.0, 3.0]), "y must be an array"),
        (lambda strict: LeastSquares(strict.ones((3, 2)), np.ones(3)), "y must be an array of"),
    ],
)
def test_data_of_another_type_or_namespace_is_refused(make, match):
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=match):
        make(strict)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Quadratic(np.eye(2), np.ones(2, dtype=np.int64)), "b must be real floating"),
        (lambda: Quadratic(np.eye(2), np.ones(2, dtype=complex)), "b must be real floating"),
        (lambda: Quadratic(np.eye(2), np.ones(2, dtype=np.float32)), "b must have the same dtype"),
        (lambda: Quadratic(np.eye(2, dtype=np.int64), np.ones(2)), "A must be real floating"),
        (lambda: LeastSquares(np.ones((3, 2)), np.ones(3, dtype=np.int64)), "y must be real"),
        (lambda: LeastSquares(np.ones((3, 2)), np.ones(3, dtype=complex)), "y must be real"),
        (
            lambda: LeastSquares(np.ones((3, 2), dtype=np.float32), np.ones(3)),
            "y must have the same dtype as X",
        ),
    ],
)
def test_data_of_another_dtype_is_refused(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_data_on_another_device_is_refused():
    strict = pytest.importorskip("array_api_strict")
    A = strict.asarray(np.eye(2))
    b = strict.asarray(np.ones(2), device=strict.Device("device1"))
    with pytest.raises(ValueError, match="b must be on the same device as A"):
        Quadratic(A, b)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Quadratic(np.zeros((0, 0)), np.zeros(0)), r"A must be at least 1×1"),
        (lambda: LeastSquares(np.zeros((3, 0)), np.ones(3)), "X must have at least one row and"),
    ],
)
def test_empty_dimension_is_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()
