"""The first steps of every SequentialAttention++-family algorithm, computed by hand.

A tiny least squares 𝓛(x) = (1/2n)‖Xx − y‖² with X = I₄ (n = 4), y = (4, −3, 2, 1), so
∇𝓛(x) = (x − y)/4 and β^S = y on S; the expected iterates are written out (or, for the
gradient-trained methods, derived in the test from these formulas), never read from the code.
"""

import numpy as np
import pytest
from mastbench.problems.group_structured import GroupLeastSquares, Groups

from mastbench.algorithms.driver import run
from mastbench.algorithms.pruning import (
    ACDC,
    BlockMagnitudePruning,
    BlockPowerprop,
    SequentialAttentionPP,
    group_omp,
    iht,
    ompr,
    sequential_attention,
)
from mastbench.backend import rng, to_numpy

Y = np.array([4.0, -3.0, 2.0, 1.0])


def _problem(size: int = 1) -> GroupLeastSquares:
    return GroupLeastSquares(np.eye(4), Y, Groups.contiguous(4, size))


def _grad(x: np.ndarray) -> np.ndarray:
    return (x - Y) / 4


def _steps(method, problem, x0, iters):
    """Iterates (iters + 1, R, d) of ``method`` at every step."""
    trace = run(
        method,
        problem,
        problem.asarray(x0),
        iters=iters,
        replicates=x0.shape[0],
        checkpoints=range(iters + 1),
        keep_iterates=True,
    )
    return trace.iterates


def test_iht_first_three_steps_keep_the_largest_magnitudes():
    # η = 2: z₁ = y/2 = (2, −1.5, 1, 0.5) keeps 2 and −1.5 (by magnitude, not by value);
    # z_{t+1} = x_t/2 + y/2.
    trace = iht(_problem(), k=2, step=2.0, iters=3, keep_iterates=True)
    expected = [[0, 0, 0, 0], [2, -1.5, 0, 0], [3, -2.25, 0, 0], [3.5, -2.625, 0, 0]]
    np.testing.assert_allclose(trace.iterates[:, 0, :], expected, rtol=0, atol=1e-15)


def test_group_omp_picks_by_gradient_and_refits():
    # ∇𝓛(0) = −y/4: pick 0 (|4|), β = (4, 0, 0, 0); then ∇ = (0, 3, −2, −1)/4: pick 1.
    trace = group_omp(_problem(), k=2, steps=3)
    assert trace.params["order"] == [0, 1, 2]
    np.testing.assert_allclose(to_numpy(trace.x)[0], [4, -3, 2, 0], atol=1e-14)


def test_group_omp_refit_is_least_squares_on_a_correlated_design():
    gen = np.random.default_rng(0)
    X = gen.standard_normal((6, 3)) + 0.8 * gen.standard_normal((6, 1))
    y = gen.standard_normal(6)
    problem = GroupLeastSquares(X, y, Groups.contiguous(3, 1))
    first = int(np.argmax(np.abs(X.T @ y)))
    beta = np.zeros(3)
    beta[first] = X[:, first] @ y / (X[:, first] @ X[:, first])
    r = y - X @ beta
    scores = np.abs(X.T @ r)
    scores[first] = -np.inf
    second = int(np.argmax(scores))
    trace = group_omp(problem, k=2)
    assert trace.params["order"] == [first, second]
    S = [first, second]
    expected = np.zeros(3)
    expected[S] = np.linalg.lstsq(X[:, S], y, rcond=None)[0]
    np.testing.assert_allclose(to_numpy(trace.x)[0], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "rule, supports",
    [
        # S₀ = {2, 3}, β = (0, 0, 2, 1), ∇ = (−1, .75, 0, 0): add 0, drop 3 → {0, 2};
        # ∇ = (0, .75, 0, −.25): add 1, drop 2 → {0, 1}; then add 2, drop 1 → {0, 2}, whose
        # loss 10/8 exceeds 5/8: the literal rule swaps, the accept rule keeps {0, 1}.
        ("literal", [(2, 3), (0, 2), (0, 1), (0, 2)]),
        ("accept", [(2, 3), (0, 2), (0, 1), (0, 1)]),
    ],
)
def test_ompr_first_three_swaps(rule, supports):
    trace = ompr(_problem(), k=1, k_prime=2, iters=3, init=[2, 3], rule=rule)
    assert trace.params["supports"] == supports
    values = {(0, 1): 5 / 8, (0, 2): 10 / 8, (2, 3): (16 + 9) / 8}
    np.testing.assert_allclose(
        trace.metrics["objective"][:, 0], [values[s] for s in supports], rtol=1e-14
    )


def test_sequential_attention_first_two_rounds():
    # Each round restarts the unselected (θ, w) from fresh noise and takes gradient steps on
    # 𝓛(θ ⊙ s(w)) + (λ/2)(‖w_S̄‖² + ‖θ_S̄‖²), s = 1 on S; then S gains argmax_{i∉S} |w_i|.
    problem, eta, lam, scale = _problem(), 0.3, 0.1, 0.5
    gen = rng(3)
    draws = [np.asarray(to_numpy(gen.normal((1, 4))))[0] * scale for _ in range(6)]
    theta, selected, order = draws[0], np.zeros(4), []
    for r in range(2):
        free = 1 - selected
        theta = selected * theta + free * draws[2 + 2 * r]
        w = selected + free * draws[3 + 2 * r]
        for _ in range(2):
            s = selected + free * w
            g = _grad(theta * s)
            theta, w = (
                theta - eta * (g * s + lam * theta * free),
                w - eta * free * (g * theta + lam * w),
            )
        order.append(int(np.argmax(np.where(selected > 0, -1.0, np.abs(w)))))
        if r == 0:
            u = theta * w
            selected = np.eye(4)[order[0]]
    one = sequential_attention(
        problem, k=1, steps=2, step=eta, lam=lam, init_scale=scale, rng=rng(3)
    )
    np.testing.assert_allclose(to_numpy(one.x)[0], u, rtol=1e-13)
    two = sequential_attention(
        problem, k=2, steps=2, step=eta, lam=lam, init_scale=scale, rng=rng(3)
    )
    assert two.params["order"].tolist() == [order]
    np.testing.assert_allclose(
        to_numpy(two.x)[0], theta * (selected + (1 - selected) * w), rtol=1e-13
    )


X0 = np.array([[0.5, -1.0, 0.25, 2.0]])


def test_acdc_dense_step_then_prune_with_reset_and_frozen_mask():
    problem, eta, beta = _problem(), 0.5, 0.9
    method = ACDC(
        k=2,
        step_size=eta,
        momentum=beta,
        dense_steps=1,
        sparse_steps=0,
        cycles=0,
        final_steps=2,
        random_init=False,
    )
    xs = _steps(method, problem, X0, 3)[:, 0]
    W1 = X0[0] - eta * _grad(X0[0])
    keep = np.zeros(4)
    keep[np.argsort(-np.abs(W1))[:2]] = 1  # top-2 by |W| after the dense step
    v = _grad(W1 * keep) * keep  # momentum reset at the prune
    W2 = W1 * keep - eta * v
    v = beta * v + _grad(W2) * keep
    W3 = W2 - eta * v
    np.testing.assert_allclose(xs[1:], [W1, W2, W3], rtol=1e-14)


def test_acdc_pruned_weights_come_back_as_zeros_in_the_next_dense_phase():
    problem, eta = _problem(), 0.5
    method = ACDC(
        k=2,
        step_size=eta,
        dense_steps=1,
        sparse_steps=1,
        cycles=1,
        final_steps=1,
        random_init=False,
    )
    xs = _steps(method, problem, X0, 3)[:, 0]
    W1 = X0[0] - eta * _grad(X0[0])
    keep = np.zeros(4)
    keep[np.argsort(-np.abs(W1))[:2]] = 1
    W2 = W1 * keep - eta * _grad(W1 * keep) * keep  # pruned coordinates are exactly 0
    W3 = W2 - eta * _grad(W2)  # dense again, momentum reset: all coordinates train
    np.testing.assert_allclose(xs[2:], [W2, W3], rtol=1e-14)


def test_magnitude_pruning_momentum_in_the_dense_phase():
    problem, eta, beta = _problem(), 0.5, 0.9
    method = BlockMagnitudePruning(
        k=1, step_size=eta, momentum=beta, dense_steps=2, final_steps=1, random_init=False
    )
    xs = _steps(method, problem, X0, 3)[:, 0]
    v = _grad(X0[0])
    W1 = X0[0] - eta * v
    v = beta * v + _grad(W1)
    W2 = W1 - eta * v
    keep = (np.abs(W2) == np.abs(W2).max()).astype(float)
    W3 = W2 * keep - eta * _grad(W2 * keep) * keep
    np.testing.assert_allclose(xs[1:], [W1, W2, W3], rtol=1e-14)


def test_powerprop_first_two_steps_use_the_squared_norm_parameterization():
    # groups {0, 1}, {2, 3}: Ŵ_B = ‖V_B‖V_B, ∂/∂V_B = ‖V_B‖g_B + (g_B·V_B)V_B/‖V_B‖ + wd·V_B.
    problem, eta, beta, wd = _problem(size=2), 0.2, 0.9, 1e-3
    method = BlockPowerprop(
        k=1,
        step_size=eta,
        momentum=beta,
        weight_decay=wd,
        dense_steps=2,
        final_steps=0,
        random_init=False,
    )
    xs = _steps(method, problem, X0, 2)[:, 0]

    def effective(V):
        return np.concatenate([np.linalg.norm(V[:2]) * V[:2], np.linalg.norm(V[2:]) * V[2:]])

    def gradient(V):
        g = _grad(effective(V))
        out = []
        for B in (slice(0, 2), slice(2, 4)):
            r = np.linalg.norm(V[B])
            out.append(r * g[B] + (g[B] @ V[B]) * V[B] / r)
        return np.concatenate(out) + wd * V

    v = gradient(X0[0])
    V1 = X0[0] - eta * v
    v = beta * v + gradient(V1)
    V2 = V1 - eta * v
    np.testing.assert_allclose(xs[1], effective(V1), rtol=1e-14)
    # final_steps = 0: after the last step the prune keeps the block of larger ‖V_B‖²
    larger = 0 if np.linalg.norm(V2[:2]) > np.linalg.norm(V2[2:]) else 1
    keep = np.repeat(np.eye(2)[larger], 2)
    np.testing.assert_allclose(xs[2], effective(V2) * keep, rtol=1e-14)


def test_sa_pp_first_two_dense_steps_train_weights_and_logits():
    # A = 4·softmax(L), L₀ = 0; Ŵ = W ⊙ A; ∂/∂L_C = 4 s_C (h_C − Σ_B h_B s_B), h = g ⊙ W.
    problem, eta, beta, wd = _problem(), 0.5, 0.9, 1e-2
    method = SequentialAttentionPP(
        k=2,
        step_size=eta,
        momentum=beta,
        weight_decay=wd,
        dense_steps=2,
        sparsify_steps=0,
        cycles=0,
        final_steps=1,
        random_init=False,
    )
    xs = _steps(method, problem, X0, 2)[:, 0]
    W, L = X0[0].copy(), np.zeros(4)
    vW, vL = np.zeros(4), np.zeros(4)
    for t in (1, 2):
        s = np.exp(L) / np.exp(L).sum()
        A = 4 * s
        g = _grad(W * A)
        h = g * W
        vW = beta * vW + g * A + wd * W
        vL = beta * vL + 4 * s * (h - h @ s)
        W, L = W - eta * vW, L - eta * vL
        A = 4 * np.exp(L) / np.exp(L).sum()
        np.testing.assert_allclose(xs[t], W * A, rtol=1e-13)


def test_sa_pp_sparsification_follows_the_schedule_by_hand():
    # N = 10, k = 2, s = 0.8, c = 4, n = 4: k(j) = round((1 − s(1 − e^{−j})/(1 − e^{−4}))·10)
    # = round(4.85), round(2.95), round(2.26), 2 = 5, 3, 2, 2 blocks after sparsify steps 1..4.
    gen = np.random.default_rng(1)
    problem = GroupLeastSquares(
        gen.standard_normal((40, 10)), gen.standard_normal(40), Groups.contiguous(10, 1)
    )
    method = SequentialAttentionPP(
        k=2,
        step_size=0.05,
        dense_steps=1,
        sparsify_steps=4,
        sparse_steps=0,
        cycles=0,
        final_steps=1,
        random_init=False,
    )
    xs = _steps(method, problem, gen.standard_normal((1, 10)), 6)[:, 0]
    assert np.count_nonzero(xs, axis=1).tolist() == [10, 10, 5, 3, 2, 2, 2]
