"""Composite F = f + ψ: certified W*, S*, nondegeneracy margin; multinomial logistic;
group-sparse instances."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.composite import Composite, minimize_composite, solve_composite
from mastbench.problems.group_sparse import (
    digits_feature_groups,
    lambda_max,
    libsvm_group_logistic,
    random_group_least_squares,
    random_group_logistic,
)
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.multinomial import MultinomialLogistic
from mastbench.problems.regularizers import L1, GroupLasso, NuclearNorm, Zero

from mastbench.backend import rng, to_numpy


@pytest.fixture(scope="module")
def planted() -> Composite:
    return random_group_logistic(300, 10, 5, 3, rng(0), lam_ratio=0.4)


def _scale(problem: Composite) -> float:
    return max(1.0, float(np.linalg.norm(problem._grad_host(np.zeros(problem.d)))))


def test_certificate_and_fixed_point(planted) -> None:
    W = planted.W_star_host
    assert planted.certificate <= 1e-12 * _scale(planted)
    step = 1.0 / planted.f.L
    fixed = np.asarray(planted.psi.prox(W - step * planted._grad_host(W), step))
    np.testing.assert_allclose(fixed, W, atol=1e-11)


def test_optimality_against_perturbations(planted) -> None:
    W = planted.W_star_host
    gen = np.random.default_rng(1)
    F = lambda w: float(to_numpy(planted.value(planted.asarray(w))))  # noqa: E731
    for _ in range(20):
        assert F(W + 1e-3 * gen.standard_normal(W.size)) >= planted.F_star - 1e-14


def test_support_and_margin(planted) -> None:
    S = planted.support_star
    assert S.shape == (10,) and 0 < S.sum() < 10
    g = planted._grad_host(planted.W_star_host)
    norms = np.asarray(planted.psi.group_norms(g))
    lam = planted.psi.thresholds()
    assert planted.nondegeneracy_margin == pytest.approx(np.min(lam[~S] - norms[~S]))
    assert planted.nondegeneracy_margin > 0
    # active groups satisfy ∇_g f = −λ_g W_g/‖W_g‖, so ‖∇_g f‖ = λ_g there
    np.testing.assert_allclose(norms[S], lam[S], rtol=1e-9)


def test_stationarity_on_backends(xp, planted) -> None:
    X = xp.asarray(to_numpy(planted.f.X))
    y = xp.asarray(to_numpy(planted.f.y))
    from mastbench.problems.logistic import Logistic

    problem = Composite(Logistic(X, y, l2=planted.f.l2), planted.psi)
    W = xp.rng(2).normal((3, problem.d))
    ours = to_numpy(problem.stationarity2(W))
    ref = to_numpy(planted.stationarity2(to_numpy(W)))
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    errors = to_numpy(problem.support_errors(problem.asarray(np.tile(planted.W_star_host, (2, 1)))))
    np.testing.assert_array_equal(errors, [0.0, 0.0])


def test_lambda_max_gives_zero_solution() -> None:
    problem = random_group_least_squares(80, 6, 3, 2, rng(3), lam_ratio=1.0)
    assert not problem.support_star.any()
    assert problem.nondegeneracy_margin == pytest.approx(0.0, abs=1e-12)


def test_l1_and_zero_regularizers() -> None:
    gen = rng(4)
    f = LeastSquares(gen.normal((60, 8)), gen.normal((60,)), l2=0.0)
    lasso = Composite(f, L1(0.1))
    assert lasso.certificate <= 1e-12 * _scale(lasso)
    assert lasso.nondegeneracy_margin > -1e-12
    plain = Composite(f, Zero())
    np.testing.assert_allclose(plain.W_star_host, f.x_star_host, atol=1e-9)


def test_nuclear_norm_composite_by_fista() -> None:
    gen = rng(5)
    f = LeastSquares(gen.normal((40, 6)), gen.normal((40,)), l2=0.1)
    problem = Composite(f, NuclearNorm(0.05, (2, 3)), tol=1e-9)
    assert problem.certificate <= 1e-9 * _scale(problem)


def test_solver_failure_is_reported() -> None:
    gen = rng(6)
    f = LeastSquares(gen.normal((30, 4)), gen.normal((30,)), l2=0.1)
    with pytest.raises(RuntimeError, match="dist"):
        solve_composite(Composite(f, NuclearNorm(0.05, (2, 2))), tol=1e-30, max_iter=100)


def test_composite_bad_input() -> None:
    f = LeastSquares(np.ones((3, 2)), np.ones(3))
    with pytest.raises(TypeError, match="f must"):
        Composite("f", L1(1.0))
    with pytest.raises(TypeError, match="psi must"):
        Composite(f, 1.0)
    with pytest.raises(ValueError, match="dimension"):
        Composite(f, GroupLasso([[0, 1, 2]], 1.0))
    with pytest.raises(ValueError, match="tol"):
        Composite(f, L1(1.0), tol=0.0)
    with pytest.raises(TypeError, match="Composite"):
        minimize_composite(f)
    with pytest.raises(ValueError, match="x0"):
        minimize_composite(Composite(f, L1(1.0)), x0=np.array([0.0, np.nan]))


def test_warm_start_at_the_solution() -> None:
    gen = rng(13)
    f = LeastSquares(gen.normal((30, 4)), gen.normal((30,)), l2=0.1)
    problem = Composite(f, GroupLasso.contiguous(2, 2, 0.05))
    cold = minimize_composite(problem)
    warm = minimize_composite(problem, x0=cold.x)
    assert warm.certificate <= 1e-12 * _scale(problem)
    np.testing.assert_allclose(warm.x, cold.x, atol=1e-12)
    assert 0 < warm.iterations <= cold.iterations


# -- multinomial logistic ------------------------------------------------------------------
@pytest.fixture(scope="module")
def multinomial() -> MultinomialLogistic:
    gen = np.random.default_rng(7)
    X = gen.standard_normal((50, 4))
    y = gen.integers(0, 3, 50)
    return MultinomialLogistic(X, y.astype(float), 3, l2=0.05)


def test_multinomial_gradient_and_hessian(multinomial) -> None:
    w = np.random.default_rng(8).standard_normal(multinomial.d)
    g = np.asarray(multinomial.grad(w))
    fd = np.array(
        [
            (multinomial.value_host(w + 1e-6 * e) - multinomial.value_host(w - 1e-6 * e)) / 2e-6
            for e in np.eye(multinomial.d)
        ]
    )
    np.testing.assert_allclose(g, fd, atol=1e-7)
    H = np.asarray(multinomial.hess(w))
    fd_h = np.array(
        [
            (multinomial.grad_host(w + 1e-6 * e) - multinomial.grad_host(w - 1e-6 * e)) / 2e-6
            for e in np.eye(multinomial.d)
        ]
    )
    np.testing.assert_allclose(H, fd_h, atol=1e-6)
    assert np.linalg.eigvalsh(H).max() <= multinomial.L * (1 + 1e-12)


def test_multinomial_backends_and_batches(xp, multinomial) -> None:
    X = xp.asarray(to_numpy(multinomial.X))
    y = xp.asarray(to_numpy(multinomial.labels))
    f = MultinomialLogistic(X, y, 3, l2=0.05)
    W = xp.rng(9).normal((2, f.d))
    np.testing.assert_allclose(
        to_numpy(f.value(W)), [multinomial.value_host(w) for w in to_numpy(W)], rtol=1e-12
    )
    idx = xp.asarray(np.tile(np.arange(50), (2, 1)))
    np.testing.assert_allclose(to_numpy(f.grad_batch(W, idx)), to_numpy(f.grad(W)), atol=1e-13)
    assert to_numpy(f.predict(W, X)).shape == (2, 50)


def test_multinomial_minimizer_certificate(multinomial) -> None:
    assert multinomial.certificate <= 1e-12 * max(
        1.0, float(np.linalg.norm(multinomial.grad_host(np.zeros(multinomial.d))))
    )
    assert multinomial.f_star <= multinomial.value_host(np.zeros(multinomial.d))
    assert multinomial.L_i.max() >= multinomial.L - 1e-12


def test_multinomial_bad_input() -> None:
    with pytest.raises(ValueError, match="class indices"):
        MultinomialLogistic(np.ones((3, 2)), np.array([0.0, 1.0, 3.0]), 3, l2=0.1)
    with pytest.raises(ValueError, match="l2"):
        MultinomialLogistic(np.ones((3, 2)), np.zeros(3), 2, l2=0.0).x_star_host  # noqa: B018


# -- instances from real data --------------------------------------------------------------
def test_digits_feature_groups() -> None:
    problem = digits_feature_groups(lam_ratio=0.3)
    assert problem.psi.n_groups == 16
    assert problem.certificate <= 1e-12 * _scale(problem)
    assert 0 < problem.support_star.sum() < 16


def test_lambda_max_is_the_threshold() -> None:
    problem = random_group_logistic(100, 5, 2, 2, rng(10), lam_ratio=0.5)
    groups = problem.psi.groups
    assert problem.psi.lam == pytest.approx(0.5 * lambda_max(problem.f, groups))


def test_libsvm_instance(libsvm_dir) -> None:
    problem = libsvm_group_logistic("a1a", group_size=4, lam_ratio=0.5)
    assert problem.psi.n_groups == problem.d // 4
    assert problem.certificate <= 1e-12 * _scale(problem)


def test_data_instances_name_bad_lam_ratio_and_group_size(libsvm_dir) -> None:
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="lam_ratio"):
            digits_feature_groups(lam_ratio=bad)
        with pytest.raises(ValueError, match="lam_ratio"):
            libsvm_group_logistic("a1a", lam_ratio=bad)
    with pytest.raises(ValueError, match="group_size"):
        libsvm_group_logistic("a1a", group_size=10_000, lam_ratio=0.5)


# -- regression: group least squares with unpenalized groups -------------------------------
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_polish_leaves_f_intact_and_free_groups_are_solved() -> None:
    """The polish once added the penalty's curvature into f's cached Hessian in place, so f
    changed under FISTA's fixed step 1/L and a second solve on the same f overflowed."""
    from mastbench.problems.group_random import planted_least_squares

    f, _ = planted_least_squares(24, 3, 2, rng(0), k=2)
    hessian = f.hessian_host(np.zeros(f.d)).copy()
    members = f.groups.members
    first = Composite(f, GroupLasso(list(members), 1.0, d=f.d))
    assert first.certificate <= 1e-12 * _scale(first)
    free_first = Composite(f, GroupLasso(list(members[1:]), 1.0, d=f.d))
    assert free_first.certificate <= 1e-12 * _scale(free_first)
    np.testing.assert_array_equal(f.hessian_host(np.zeros(f.d)), hessian)


def test_newton_polish_ranks_steps_by_stationarity_below_value_round_off() -> None:
    """Differences of F below 1e-10·|F| are noise: ranking steps by F there stalls the polish
    (it did, on 4 of these 6 starts); the stationarity measure still ranks them."""
    from mastbench.problems.composite import newton_polish
    from mastbench.problems.group_random import planted_least_squares
    from mastbench.problems.group_structured import GroupLeastSquares

    class NoisyValue(GroupLeastSquares):
        def value_host(self, x: np.ndarray) -> float:
            exact = super().value_host(x)
            return exact + 5e-11 * (1.0 + abs(exact)) * np.sin(1e9 * float(np.sum(x)))

    base, _ = planted_least_squares(40, 4, 2, rng(11), k=2)
    psi = GroupLasso(list(base.groups.members[1:]), 0.2, d=base.d)
    exact = Composite(base, psi)
    noisy = Composite(NoisyValue(base.X, base.Y, base.groups), psi)
    support = np.repeat(np.r_[True, exact.support_star], 2)
    assert 0 < support.sum() < base.d
    for seed in range(6):
        start = exact.W_star_host + 1e-6 * np.random.default_rng(seed).standard_normal(base.d)
        start[~support] = 0.0
        polished = newton_polish(noisy, start)
        assert float(exact.stationarity(polished)) <= 1e-14 * _scale(exact)
