"""The compiled CSR products give SciPy's results bit for bit, and are used only where they pay."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from mastbench.problems import Logistic, csr_kernel, design

pytest.importorskip("numba")


def _csr(seed: int, n: int, d: int, density: float, index_dtype: type) -> sp.csr_array:
    generator = np.random.default_rng(seed)
    X = sp.random_array((n, d), density=density, rng=generator, format="csr")
    X.data = generator.normal(size=X.nnz)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    density=st.floats(0.0, 1.0),
    R=st.integers(1, 37),
    index_dtype=st.sampled_from([np.int32, np.int64]),
)
def test_products_are_scipys_bit_for_bit(seed, density, R, index_dtype):
    # rows of 0 to 11 stored entries: the four-at-a-time passes and every tail length
    X = _csr(seed, 40, 11, density, index_dtype)
    generator = np.random.default_rng(seed + 1)
    x, g = generator.normal(size=(R, 11)), generator.normal(size=(R, 40))
    margins = csr_kernel.row_inner_products(X, x)
    weighted = csr_kernel.weighted_row_sum(X, g)
    assert np.array_equal(margins, (X @ x.T).T)
    assert np.array_equal(weighted, (X.T @ g.T).T)
    assert margins.shape == (R, 40) and weighted.shape == (R, 11)


def test_unsorted_and_duplicate_entries_are_summed_in_storage_order():
    # a non-canonical CSR (entries out of column order, a repeated column): SciPy sums in
    # storage order, and so must the compiled loop, or the results differ in the last bits
    data = np.array([1e16, 1.0, -1e16, 3.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    indices = np.array([2, 0, 2, 1, 0, 1, 2, 0, 1])
    X = sp.csr_array((data, indices, np.array([0, 4, 9])), shape=(2, 3))
    x = np.random.default_rng(0).normal(size=(5, 3))
    g = np.random.default_rng(1).normal(size=(5, 2))
    assert np.array_equal(csr_kernel.row_inner_products(X, x), (X @ x.T).T)
    assert np.array_equal(csr_kernel.weighted_row_sum(X, g), (X.T @ g.T).T)


def test_only_large_float64_batches_go_to_the_compiled_loop(monkeypatch):
    X = _csr(0, 200, 10, 0.5, np.int32)  # 1000 stored entries
    big = np.zeros((int(csr_kernel.MIN_WORK / X.nnz) + 1, 10))
    assert csr_kernel.worthwhile(X, big)
    assert not csr_kernel.worthwhile(X, big[:-2])
    assert not csr_kernel.worthwhile(X, big[0])  # one point
    assert not csr_kernel.worthwhile(X, big.astype(np.float32))
    assert not csr_kernel.worthwhile(X.astype(np.float32), big)
    assert not csr_kernel.worthwhile(X.tocsc(), big)
    monkeypatch.setattr(csr_kernel, "enabled", False)
    assert not csr_kernel.worthwhile(X, big)


def test_logistic_gradient_and_value_are_unchanged_by_the_compiled_loop(monkeypatch):
    X = _csr(3, 300, 20, 0.2, np.int32)
    y = np.where(np.random.default_rng(4).random(300) < 0.5, -1.0, 1.0)
    problem = Logistic(X, y, 1e-2)
    x = np.random.default_rng(5).normal(size=(9, 20))
    monkeypatch.setattr(csr_kernel, "enabled", False)
    reference = problem.grad(x), problem.value(x)
    monkeypatch.setattr(csr_kernel, "enabled", True)
    monkeypatch.setattr(csr_kernel, "MIN_WORK", 1.0)
    assert csr_kernel.worthwhile(problem.X, x)
    assert np.array_equal(problem.grad(x), reference[0])
    assert np.array_equal(problem.value(x), reference[1])
    assert np.array_equal(design.row_inner_products(X, x), (X @ x.T).T)
