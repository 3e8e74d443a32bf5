"""The first three steps of every RAMDA-family algorithm, computed by hand in the test.

A tiny least-squares instance, f(w) = (1/2n)‖Xw − y‖² + (l2/2)‖w‖² with n = 3, d = 2, and
ψ = λ‖·‖₁ (so every subproblem is a soft-thresholding).  Each test writes the paper's update
out step by step (no loop, nothing shared with the implementation) and compares the recorded
iterates t = 1, 2, 3.  Schedules η_k and weights ρ, c, β away from 1/2 make an off-by-one in
k, a swapped momentum weight or a missing bias correction visible; the minibatch tests draw
the indices from a generator seeded like the run's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from mastbench.problems.composite import Composite
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.regularizers import L1

from mastbench.algorithms import madgrad, mda, prox_gen, prox_sgd, prox_ssi, ramda, rmda
from mastbench.backend import rng

X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
Y = np.array([1.0, -1.0, 2.0])
L2, LAM = 0.5, 0.3
W0 = np.array([0.4, -0.6])


@pytest.fixture(scope="module")
def problem() -> Composite:
    return Composite(LeastSquares(X, Y, l2=L2), L1(LAM))


def grad(w: np.ndarray) -> np.ndarray:
    """∇f(w) = Xᵀ(Xw − y)/n + l2·w."""
    return X.T @ (X @ w - Y) / 3 + L2 * w


def minibatch_grad(w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean of ∇f_i(w) = x_i(x_iᵀw − y_i) + l2·w over the indices idx."""
    return np.mean([X[i] * (X[i] @ w - Y[i]) + L2 * w for i in idx], axis=0)


def soft(x: np.ndarray, threshold: np.ndarray | float) -> np.ndarray:
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def iterates(trace) -> np.ndarray:
    """The recorded iterates t = 1, 2, 3 of replicate 0, shape (3, d)."""
    return np.asarray(trace.iterates)[1:, 0, :]


def assert_steps(trace, expected: list[np.ndarray]) -> None:
    np.testing.assert_allclose(iterates(trace), np.stack(expected), rtol=1e-13, atol=1e-15)


def lr_schedule(k: int) -> float:
    return 0.3 / k


KEEP = {"iters": 3, "checkpoints": range(4), "keep_iterates": True}


def test_prox_sgd_by_hand(problem) -> None:
    eta, rho = 0.4, 0.3
    trace = prox_sgd(problem, W0, lr=eta, rho=rho, track_optimum=False, **KEEP)
    b1 = rho * grad(W0)
    w1 = soft(W0 - eta * b1, eta * LAM)
    b2 = (1 - rho) * b1 + rho * grad(w1)
    w2 = soft(w1 - eta * b2, eta * LAM)
    b3 = (1 - rho) * b2 + rho * grad(w2)
    w3 = soft(w2 - eta * b3, eta * LAM)
    assert_steps(trace, [w1, w2, w3])
    assert np.any(np.stack([w1, w2, w3]) == 0)  # the threshold is active on this instance


def test_prox_sgd_minibatch_by_hand(problem) -> None:
    eta, rho = 0.4, 0.3
    trace = prox_sgd(
        problem, W0, lr=eta, rho=rho, batch_size=2, rng=rng(5), replicates=2,
        track_optimum=False, **KEEP,
    )  # fmt: skip
    draws = rng(5)
    idx = [np.asarray(draws.integers(0, 3, (2, 2)))[0] for _ in range(3)]
    b1 = rho * minibatch_grad(W0, idx[0])
    w1 = soft(W0 - eta * b1, eta * LAM)
    b2 = (1 - rho) * b1 + rho * minibatch_grad(w1, idx[1])
    w2 = soft(w1 - eta * b2, eta * LAM)
    b3 = (1 - rho) * b2 + rho * minibatch_grad(w2, idx[2])
    w3 = soft(w2 - eta * b3, eta * LAM)
    assert_steps(trace, [w1, w2, w3])


@pytest.mark.parametrize("output", ["hat", "avg"])
def test_rmda_by_hand(problem, output) -> None:
    c = 0.7
    trace = rmda(
        problem, W0, lr=lr_schedule, momentum=c, output=output, track_optimum=False, **KEEP
    )
    s1 = lr_schedule(1)
    V1, a1 = s1 * grad(W0), s1
    h1 = soft(W0 - V1, a1 * LAM)
    w1 = (1 - c) * W0 + c * h1
    s2 = lr_schedule(2) * math.sqrt(2)
    V2, a2 = V1 + s2 * grad(w1), a1 + s2
    h2 = soft(W0 - V2 / math.sqrt(2), a2 / math.sqrt(2) * LAM)
    w2 = (1 - c) * w1 + c * h2
    s3 = lr_schedule(3) * math.sqrt(3)
    V3, a3 = V2 + s3 * grad(w2), a2 + s3
    h3 = soft(W0 - V3 / math.sqrt(3), a3 / math.sqrt(3) * LAM)
    w3 = (1 - c) * w2 + c * h3
    assert_steps(trace, [h1, h2, h3] if output == "hat" else [w1, w2, w3])


@pytest.mark.parametrize("solver", ["exact", "pg"])
def test_ramda_by_hand(problem, solver) -> None:
    c, eps = 0.7, 1e-2
    trace = ramda(
        problem, W0, lr=lr_schedule, momentum=c, eps=eps, solver=solver, eps_sub=1e-14,
        pg_max_iters=10_000, output="avg", track_optimum=False, **KEEP,
    )  # fmt: skip
    g1 = grad(W0)
    s1 = lr_schedule(1)
    V1, U1, a1 = s1 * g1, s1 * g1**2, s1
    P1 = np.cbrt(U1) + eps
    h1 = soft(W0 - V1 / P1, a1 * LAM / P1)
    w1 = (1 - c) * W0 + c * h1
    g2 = grad(w1)
    s2 = lr_schedule(2) * math.sqrt(2)
    V2, U2, a2 = V1 + s2 * g2, U1 + s2 * g2**2, a1 + s2
    P2 = np.cbrt(U2) + eps
    h2 = soft(W0 - V2 / P2, a2 * LAM / P2)
    w2 = (1 - c) * w1 + c * h2
    g3 = grad(w2)
    s3 = lr_schedule(3) * math.sqrt(3)
    V3, U3, a3 = V2 + s3 * g3, U2 + s3 * g3**2, a2 + s3
    P3 = np.cbrt(U3) + eps
    h3 = soft(W0 - V3 / P3, a3 * LAM / P3)
    w3 = (1 - c) * w2 + c * h3
    if solver == "exact":
        assert_steps(trace, [w1, w2, w3])
    else:
        np.testing.assert_allclose(iterates(trace), np.stack([w1, w2, w3]), atol=1e-11)


def test_ramda_minibatch_with_restart_and_ramp_by_hand(problem) -> None:
    """Milestone 1 (after step 1: η, ε ← γ·, t, α, V, U ← 0, W⁰ ← W¹) and the ramp
    c_k = min(c√(k − 1), 1) after it."""
    c, eps, gamma, eta = 0.3, 1e-2, 0.5, 0.2
    trace = ramda(
        problem, W0, lr=eta, momentum=c, eps=eps, solver="exact", batch_size=2, rng=rng(9),
        replicates=2, milestones=(1,), gamma=gamma, ramp=True, output="avg",
        track_optimum=False, **KEEP,
    )  # fmt: skip
    draws = rng(9)
    idx = [np.asarray(draws.integers(0, 3, (2, 2)))[0] for _ in range(3)]
    g1 = minibatch_grad(W0, idx[0])
    P1 = np.cbrt(eta * g1**2) + eps
    w1 = (1 - c) * W0 + c * soft(W0 - eta * g1 / P1, eta * LAM / P1)
    # stage 2, anchored at w1, with γη and γε; t restarts at 1
    g2 = minibatch_grad(w1, idx[1])
    s1 = gamma * eta
    V, U, a = s1 * g2, s1 * g2**2, s1
    P = np.cbrt(U) + gamma * eps
    c2 = min(c * math.sqrt(1), 1.0)
    w2 = (1 - c2) * w1 + c2 * soft(w1 - V / P, a * LAM / P)
    g3 = minibatch_grad(w2, idx[2])
    s2 = gamma * eta * math.sqrt(2)
    V, U, a = V + s2 * g3, U + s2 * g3**2, a + s2
    P = np.cbrt(U) + gamma * eps
    c3 = min(c * math.sqrt(2), 1.0)
    w3 = (1 - c3) * w2 + c3 * soft(w1 - V / P, a * LAM / P)
    assert_steps(trace, [w1, w2, w3])


def _adam_prox_steps(eta, betas, eps, wd):
    """Three ProxAdamW steps: W' = W(1 − η·wd), m, v with bias correction, D = √v̂ + ε,
    W ← soft(W' − η m̂/D, ηλ/D)."""
    b1, b2 = betas
    g1 = grad(W0)
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    D1 = np.sqrt(v1 / (1 - b2)) + eps
    w = W0 * (1 - eta * wd)
    w1 = soft(w - eta * (m1 / (1 - b1)) / D1, eta * LAM / D1)
    g2 = grad(w1)
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    D2 = np.sqrt(v2 / (1 - b2**2)) + eps
    w = w1 * (1 - eta * wd)
    w2 = soft(w - eta * (m2 / (1 - b1**2)) / D2, eta * LAM / D2)
    g3 = grad(w2)
    m3, v3 = b1 * m2 + (1 - b1) * g3, b2 * v2 + (1 - b2) * g3**2
    D3 = np.sqrt(v3 / (1 - b2**3)) + eps
    w = w2 * (1 - eta * wd)
    w3 = soft(w - eta * (m3 / (1 - b1**3)) / D3, eta * LAM / D3)
    return [w1, w2, w3]


@pytest.mark.parametrize("solver", ["exact", "pg"])
def test_prox_gen_by_hand(problem, solver) -> None:
    eta, betas, eps, wd = 0.1, (0.6, 0.8), 1e-2, 0.3
    trace = prox_gen(
        problem, W0, lr=eta, betas=betas, eps=eps, weight_decay=wd, solver=solver,
        eps_sub=1e-14, pg_max_iters=10_000, track_optimum=False, **KEEP,
    )  # fmt: skip
    expected = _adam_prox_steps(eta, betas, eps, wd)
    if solver == "exact":
        assert_steps(trace, expected)
    else:
        np.testing.assert_allclose(iterates(trace), np.stack(expected), atol=1e-11)


def test_prox_ssi_by_hand(problem) -> None:
    eta, betas, eps = 0.1, (0.6, 0.8), 1e-2
    trace = prox_ssi(problem, W0, lr=eta, betas=betas, eps=eps, track_optimum=False, **KEEP)
    assert_steps(trace, _adam_prox_steps(eta, betas, eps, 0.0))


def test_madgrad_by_hand(problem) -> None:
    eta, c, eps = 0.2, 0.7, 1e-2
    trace = madgrad(problem.f, W0, lr=eta, momentum=c, eps=eps, **KEEP)
    g1 = grad(W0)
    s1, v1 = eta * g1, eta * g1**2
    x1 = (1 - c) * W0 + c * (W0 - s1 / (np.cbrt(v1) + eps))
    g2 = grad(x1)
    s2, v2 = s1 + eta * math.sqrt(2) * g2, v1 + eta * math.sqrt(2) * g2**2
    x2 = (1 - c) * x1 + c * (W0 - s2 / (np.cbrt(v2) + eps))
    g3 = grad(x2)
    s3, v3 = s2 + eta * math.sqrt(3) * g3, v2 + eta * math.sqrt(3) * g3**2
    x3 = (1 - c) * x2 + c * (W0 - s3 / (np.cbrt(v3) + eps))
    assert_steps(trace, [x1, x2, x3])


def test_mda_by_hand(problem) -> None:
    eta, c = 0.2, 0.7
    trace = mda(problem.f, W0, lr=eta, momentum=c, **KEEP)
    s1 = eta * grad(W0)
    x1 = (1 - c) * W0 + c * (W0 - s1)
    s2 = s1 + eta * math.sqrt(2) * grad(x1)
    x2 = (1 - c) * x1 + c * (W0 - s2 / math.sqrt(2))
    s3 = s2 + eta * math.sqrt(3) * grad(x2)
    x3 = (1 - c) * x2 + c * (W0 - s3 / math.sqrt(3))
    assert_steps(trace, [x1, x2, x3])
