import mastbench.problems.random as random_problems
import numpy as np
import pytest
from mastbench.problems import Logistic

from mastbench.backend import to_numpy


def test_logistic_minimizer_is_certified(xp):
    lg = random_problems.logistic(80, 5, xp.rng(0), l2=1e-2)
    scale = max(1.0, float(np.linalg.norm(lg.grad_host(np.zeros(5)))))
    assert lg.certificate <= 1e-12 * scale
    assert lg.f_star <= lg.value_host(lg.x_star_host + 1e-3)
    assert float(to_numpy(lg.value(lg.x_star))) == pytest.approx(lg.f_star, rel=1e-12)


def test_logistic_gradient_matches_finite_differences(xp):
    lg = random_problems.logistic(40, 4, xp.rng(1))
    x = to_numpy(xp.rng(2).normal((4,)))
    h = 1e-6
    fd = [(lg.value_host(x + h * e) - lg.value_host(x - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(lg.grad_host(x), fd, rtol=1e-6, atol=1e-8)


def test_logistic_hessian_is_bounded_by_L_and_mu(xp):
    lg = random_problems.logistic(40, 4, xp.rng(3), l2=0.05)
    for seed in range(5):
        x = xp.rng(seed + 10).normal((4,)) * 3
        eig = np.linalg.eigvalsh(to_numpy(lg.hess(x)))
        assert eig[-1] <= lg.L * (1 + 1e-12)
        assert eig[0] >= lg.mu * (1 - 1e-12)
    X = to_numpy(lg.X)
    assert lg.L == pytest.approx(np.linalg.eigvalsh(X.T @ X)[-1] / (4 * 40) + 0.05, rel=1e-12)
    # the bound is attained at x = 0 for centred margins: Hessian there is XᵀX/(4n) + l2
    assert np.linalg.eigvalsh(to_numpy(lg.hess(xp.asarray(np.zeros(4)))))[-1] == pytest.approx(
        lg.L, rel=1e-12
    )


def test_logistic_batched_minibatch_gradient(xp):
    lg = random_problems.logistic(10, 3, xp.rng(4))
    x = xp.rng(5).normal((2, 3))
    idx = xp.asarray(np.tile(np.arange(10), (2, 1)))
    np.testing.assert_allclose(
        to_numpy(lg.grad_batch(x, idx)), to_numpy(lg.grad(x)), rtol=1e-12, atol=1e-13
    )


def test_logistic_bad_labels_and_data():
    with pytest.raises(ValueError, match="binary labels"):
        Logistic(np.ones((3, 2)), np.array([0.0, 1.0, 1.0]), l2=0.1)
    with pytest.raises(ValueError, match="NaN"):
        Logistic(np.array([[np.inf, 0.0]]), np.array([1.0]), l2=0.1)
    with pytest.raises(ValueError, match="l2 > 0"):
        _ = Logistic(np.ones((2, 1)), np.array([1.0, -1.0]), l2=0.0).x_star


@pytest.mark.parametrize("seed", range(8))
def test_newton_reaches_certificate_near_round_off(seed):
    # Armijo backtracking alone stalls when f's differences fall below round-off (seed 2
    # used to stop at ‖∇f‖ ≈ 8e-12); the full-step finish must reach the certificate.
    from mastbench.backend import rng

    lg = random_problems.logistic(200, 6, rng(seed), l2=0.01)
    assert lg.certificate <= 1e-12 * max(1.0, float(np.linalg.norm(lg.grad_host(np.zeros(6)))))


def test_stable_sigmoid_and_softplus_match_scipy_everywhere():
    from mastbench.problems.logistic import _log1pexp, _sigmoid
    from scipy.special import expit

    xp = np
    z = np.concatenate([np.linspace(-800, 800, 4001), [-1e-300, 0.0, 1e-300, 36.7, -36.7]])
    # atol: below 1e-300 both sides are subnormal round-off of exp(−800)
    np.testing.assert_allclose(_sigmoid(xp, z), expit(z), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(_log1pexp(xp, z), np.logaddexp(0, z), rtol=1e-15, atol=0)


@pytest.mark.parametrize("scale", [0.0, 1.0, 50.0, 1e4])
def test_batched_gradient_matches_the_float64_expit_formula(xp, scale):
    # The backend gradient uses σ(−m) = ½(1 − tanh(m/2)) (two GEMMs, one elementwise pass);
    # it must agree with the host formula −(1/n) Σ expit(−m_i) y_i x_i + l2·x, also where the
    # margins are huge (saturated sigmoid) — absolute accuracy at round-off of the data scale.
    lg = random_problems.logistic(60, 5, xp.rng(8), l2=1e-3)
    x = scale * to_numpy(xp.rng(9).normal((4, 5)))
    got = to_numpy(lg.grad(xp.asarray(x)))
    want = np.stack([lg._grad_float64(row) for row in x])
    data_scale = float(np.abs(to_numpy(lg.X)).max())
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14 * data_scale + 1e-14 * scale * 1e-3)


def test_newton_minimizer_certifies_and_fails_loudly():
    from mastbench.problems.logistic import newton_minimizer

    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    b = np.array([1.0, -3.0])
    x, certificate = newton_minimizer(
        lambda x: A @ x - b, lambda x: A, lambda x: 0.5 * x @ A @ x - b @ x, 2
    )
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-14)
    assert certificate <= 1e-12 * np.linalg.norm(b)
    # f(x) = Σx is unbounded below: its gradient never vanishes, the certificate is unmet
    with pytest.raises(RuntimeError, match="Newton did not reach"):
        newton_minimizer(lambda x: np.ones(2), lambda x: np.eye(2), lambda x: float(x.sum()), 2)
