"""Exact constants of float32 problems: computed in float64 on the host from the data as given
(a float32 problem's constants are those of the float64 problem of the same, rounded, data)."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.base import Problem
from mastbench.problems.composite import Composite
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.mast_objective import MASTObjective
from mastbench.problems.quadratic import Quadratic
from mastbench.problems.regularizers import GroupLasso

from mastbench.sketches import Bernoulli, RandK


def _data():
    gen = np.random.default_rng(8)
    X = gen.standard_normal((30, 4))
    y = np.where(X @ np.array([1.0, -2.0, 0.5, 0.0]) > 0, 1.0, -1.0)
    A = X.T @ X / 30 + 0.1 * np.eye(4)
    return X, y, A, X.T @ y / 30


def _pairs():
    X, y, A, b = _data()
    rounded = [a.astype(np.float32) for a in (X, y, A, b)]
    X32, y32, A32, b32 = rounded
    X64, y64, A64, b64 = (a.astype(np.float64) for a in rounded)
    return {
        "quadratic": (Quadratic(A32, b32), Quadratic(A64, b64)),
        "least-squares": (LeastSquares(X32, y32, l2=0.1), LeastSquares(X64, y64, l2=0.1)),
        "logistic": (Logistic(X32, y32, l2=0.1), Logistic(X64, y64, l2=0.1)),
        "mast-logistic": (
            MASTObjective(Logistic(X32, y32, l2=0.1), Bernoulli(0.5, 4)),
            MASTObjective(Logistic(X64, y64, l2=0.1), Bernoulli(0.5, 4)),
        ),
        "mast-quadratic": (
            MASTObjective(Quadratic(A32, b32), RandK(4, 2)),
            MASTObjective(Quadratic(A64, b64), RandK(4, 2)),
        ),
    }


@pytest.mark.parametrize("name", list(_pairs()))
def test_float32_constants_are_the_float64_constants_of_the_rounded_data(name):
    narrow, wide = _pairs()[name]
    assert narrow.dtype == np.float32
    np.testing.assert_allclose(narrow.x_star_host, wide.x_star_host, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(narrow.f_star, wide.f_star, rtol=1e-12)
    assert narrow.certificate <= 1e-10
    point = np.linspace(-1.0, 1.0, 4)
    assert narrow.grad_host(point).dtype == np.float64
    np.testing.assert_allclose(narrow.grad_host(point), wide.grad_host(point), rtol=1e-12)
    np.testing.assert_allclose(narrow.value_host(point), wide.value_host(point), rtol=1e-12)


def test_float32_composite_optimum_is_certified_in_float64():
    X, y, _, _ = _data()
    psi = GroupLasso.contiguous(2, 2, 0.05)
    narrow = Composite(Logistic(X.astype(np.float32), y.astype(np.float32), l2=0.01), psi)
    wide = Composite(
        Logistic(X.astype(np.float32).astype(float), y.astype(np.float32).astype(float), l2=0.01),
        psi,
    )
    np.testing.assert_allclose(narrow.F_star, wide.F_star, rtol=1e-12)


class _Float32Only(Problem):
    """f(x) = ½‖x‖² on float32 data, with no float64 host oracle."""

    def __init__(self):
        self.c = np.zeros(3, dtype=np.float32)
        self._set_backend(c=self.c)
        self.d = 3

    def value(self, x):
        return 0.5 * (x * x).sum(axis=-1)

    def grad(self, x):
        return x

    @property
    def L(self):
        return 1.0

    @property
    def mu(self):
        return 1.0

    @property
    def x_star_host(self):
        return np.zeros(3)


def test_a_problem_without_a_float64_oracle_is_named_when_a_constant_needs_one():
    with pytest.raises(TypeError, match="_Float32Only computes its exact constants from float64"):
        _ = _Float32Only().f_star
