"""Sparse design matrices: every oracle and constant agrees with the dense problem."""

import array_api_strict
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from mastbench.problems import LeastSquares, Logistic, datasets
from mastbench.problems.constraints import L1Ball
from mastbench.problems.design import (
    as_sparse_design,
    gram,
    host_design,
    row_inner_products,
    row_norms_squared,
    take_rows,
    weighted_row_sum,
)

from mastbench import sketches
from mastbench.algorithms import dsgd, stochastic_frank_wolfe
from mastbench.backend import rng


def _sparse_data(seed: int, n: int = 60, d: int = 7, density: float = 0.3):
    generator = np.random.default_rng(seed)
    X = sp.random_array((n, d), density=density, rng=generator, format="csr")
    X.data = generator.normal(size=X.nnz)
    y = np.where(generator.random(n) < 0.5, -1.0, 1.0)
    return X, y


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), density=st.floats(0.05, 0.9), R=st.integers(1, 4))
def test_products_match_dense(seed, density, R):
    X, _ = _sparse_data(seed, density=density)
    dense = X.toarray()
    generator = np.random.default_rng(seed + 1)
    x, g = generator.normal(size=(R, 7)), generator.normal(size=(R, 60))
    np.testing.assert_allclose(row_inner_products(X, x), x @ dense.T, atol=1e-13)
    np.testing.assert_allclose(row_inner_products(X, x[0]), dense @ x[0], atol=1e-13)
    np.testing.assert_allclose(weighted_row_sum(X, g), g @ dense, atol=1e-13)
    np.testing.assert_allclose(weighted_row_sum(X, g[0]), g[0] @ dense, atol=1e-13)
    weights = generator.random(60)
    np.testing.assert_allclose(gram(X, weights), dense.T @ (dense * weights[:, None]), atol=1e-12)
    np.testing.assert_allclose(gram(X), gram(dense), atol=1e-12)
    np.testing.assert_allclose(row_norms_squared(X), row_norms_squared(dense), atol=1e-13)
    idx = generator.integers(0, 60, size=5)
    np.testing.assert_array_equal(take_rows(X, idx, np), dense[idx])


@pytest.mark.parametrize("cls", [Logistic, LeastSquares])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_problem_agrees_with_dense(cls, fmt):
    X, y = _sparse_data(3)
    sparse_problem, dense_problem = cls(X.asformat(fmt), y, 0.05), cls(X.toarray(), y, 0.05)
    assert sp.issparse(sparse_problem.X) and sparse_problem.X.format == "csr"
    assert sparse_problem.xp is dense_problem.xp
    points = np.random.default_rng(4).normal(size=(3, 7))
    for point in (points, points[0]):
        np.testing.assert_allclose(sparse_problem.value(point), dense_problem.value(point))
        np.testing.assert_allclose(
            sparse_problem.grad(point), dense_problem.grad(point), atol=1e-14
        )
    np.testing.assert_allclose(
        sparse_problem.hess(points[0]), dense_problem.hess(points[0]), atol=1e-14
    )
    idx = np.random.default_rng(5).integers(0, 60, size=(3, 4))
    np.testing.assert_allclose(
        sparse_problem.grad_batch(points, idx), dense_problem.grad_batch(points, idx), atol=1e-14
    )
    assert sparse_problem.L == pytest.approx(dense_problem.L, rel=1e-13)
    assert sparse_problem.mu == pytest.approx(dense_problem.mu, rel=1e-13)
    np.testing.assert_allclose(sparse_problem.L_i, dense_problem.L_i, rtol=1e-13)
    np.testing.assert_allclose(
        sparse_problem.x_star_host, dense_problem.x_star_host, rtol=1e-10, atol=1e-12
    )
    assert sparse_problem.f_star == pytest.approx(dense_problem.f_star, rel=1e-13)


def test_logistic_hessian_bound_dominates_the_hessian():
    X, y = _sparse_data(6)
    problem = Logistic(X, y, 0.01)
    bound = problem.hessian_bound
    for seed in range(3):
        w = np.random.default_rng(seed).normal(size=7) * 2
        assert np.linalg.eigvalsh(bound - problem.hess(w))[0] >= -1e-14
    assert problem.L == pytest.approx(np.linalg.eigvalsh(bound)[-1], rel=1e-14)


def test_dsgd_runs_the_same_on_sparse_and_dense_data():
    X, y = _sparse_data(7, n=80, d=9)
    runs = []
    for data in (X, X.toarray()):
        problem = Logistic(data, y, 0.01)
        sketch = sketches.Bernoulli(0.5, 9)
        runs.append(
            dsgd(
                problem,
                np.zeros(9),
                sketch=sketch,
                step=0.5 / (problem.L * sketch.L_S_max),
                iters=40,
                rng=rng(8),
                replicates=5,
                metrics=["subopt"],
            )
        )
    np.testing.assert_allclose(runs[0].x, runs[1].x, atol=1e-13)
    np.testing.assert_allclose(runs[0].metrics["subopt"], runs[1].metrics["subopt"], atol=1e-13)


def test_stochastic_frank_wolfe_runs_the_same_on_sparse_and_dense_data():
    X, y = _sparse_data(9, n=40, d=6)
    finals = []
    for data in (X, X.toarray()):
        problem = Logistic(data, y, 0.01)
        trace = stochastic_frank_wolfe(
            problem, L1Ball(1.0), np.zeros(6), variant="SAGA", batch_size=4, iters=30,
            rng=rng(10), replicates=3,
        )  # fmt: skip
        finals.append(trace.x)
    np.testing.assert_allclose(finals[0], finals[1], atol=1e-13)


def test_libsvm_set_loaded_sparse_gives_the_dense_problem(libsvm_dir):
    sparse_set = datasets.load("a1a", data_dir=libsvm_dir, dense=False)
    X_dense, y = sparse_set.arrays()
    sparse_problem, dense_problem = Logistic(sparse_set.X, y, 1e-3), Logistic(X_dense, y, 1e-3)
    assert sparse_problem.L == pytest.approx(dense_problem.L, rel=1e-12)
    w = np.random.default_rng(0).normal(size=(4, sparse_problem.d)) * 0.1
    np.testing.assert_allclose(sparse_problem.grad(w), dense_problem.grad(w), atol=1e-14)


def test_host_design_is_float64():
    X, _ = _sparse_data(11)
    assert host_design(X.astype(np.float32)).dtype == np.float64
    assert host_design(X.toarray().astype(np.float32)).dtype == np.float64


# -- bad input --------------------------------------------------------------------------------


def test_sparse_design_needs_numpy_targets():
    X, y = _sparse_data(12)
    with pytest.raises(TypeError, match="NumPy targets"):
        Logistic(X, array_api_strict.asarray(y), 0.1)


def test_sparse_design_rejects_nan():
    X, y = _sparse_data(13)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="X must not contain NaN"):
        LeastSquares(X, y)


def test_sparse_design_rejects_integer_data():
    X, y = _sparse_data(14)
    with pytest.raises(TypeError, match="real floating"):
        as_sparse_design("X", X.astype(np.int64), y)


def test_sparse_design_rejects_row_mismatch():
    X, y = _sparse_data(15)
    with pytest.raises(ValueError, match="same number of rows"):
        Logistic(X, y[:-1], 0.1)


def test_sparse_design_rejects_empty():
    with pytest.raises(ValueError, match="at least one row"):
        LeastSquares(sp.csr_array((0, 3)), np.zeros(0))
