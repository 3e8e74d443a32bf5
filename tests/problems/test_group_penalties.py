"""Group penalties: Lambert W, q-regularizers, mask penalties, the certified group LASSO, the
threshold τ and the 1-sparse window."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastbench.problems.group_penalties import (
    ADMISSIBLE_Q,
    MASKS,
    Q_FUNCTIONS,
    group_lasso,
    group_lasso_kkt,
    lambert_w,
    one_sparse_window,
    q_regularizer,
    softmax_q,
    softmax_q_inverse,
    threshold,
)
from mastbench.problems.group_random import planted_least_squares, planted_multinomial
from mastbench.problems.group_structured import GroupLeastSquares, Groups
from scipy.optimize import minimize_scalar

from mastbench.backend import rng
from mastbench.strategies import group_least_squares


@given(st.floats(0.0, 1e6))
def test_lambert_w_inverts_w_exp_w(x):
    w = float(lambert_w(x))
    assert w * np.exp(w) == pytest.approx(x, rel=1e-12, abs=1e-300)


def test_lambert_w_rejects_negative():
    with pytest.raises(ValueError, match="x >= 0"):
        lambert_w(-1.0)


@given(st.floats(1e-6, 1e3))
def test_softmax_q_inverse_round_trip_and_one_dimensional_minimum(a):
    assert float(softmax_q_inverse(softmax_q(a))) == pytest.approx(a, rel=1e-10)
    # Lemma 2.1: min_w w² + a²e^{−2w} = q(a), by a generic 1-D minimizer
    res = minimize_scalar(
        lambda w: w * w + a * a * np.exp(-2 * w),
        bounds=(-1.0, 20.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert res.fun == pytest.approx(float(softmax_q(a)), rel=1e-8, abs=1e-14)


def test_softmax_q_is_ridge_like_and_not_subadditive_at_small_a():
    a = np.linspace(1e-3, 0.5, 50)
    assert np.all(softmax_q(2 * a) > 2 * softmax_q(a))  # fails subadditivity
    tiny = np.array([1e-5, 1e-4, 1e-3])
    assert np.all(np.abs(softmax_q(tiny) / tiny**2 - 1.0) <= 2 * tiny**2)  # q = a² + O(a⁴)


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=6))
def test_q_regularizer_closed_forms(norms):
    a = np.array(norms)
    assert q_regularizer(a, "x") == pytest.approx(a.sum(), rel=1e-12, abs=1e-300)
    assert q_regularizer(a, "sqrt") == pytest.approx(np.sqrt(a).sum() ** 2, rel=1e-12)
    assert q_regularizer(a, "pow2/3") == pytest.approx((a ** (2 / 3)).sum() ** 1.5, rel=1e-10)
    assert q_regularizer(a, "log1p") == pytest.approx(np.prod(1 + a) - 1, rel=1e-10, abs=1e-12)
    assert q_regularizer(a, "square") == pytest.approx(np.linalg.norm(a), rel=1e-12)


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=6), st.sampled_from(ADMISSIBLE_Q))
def test_lemma_2_4_chain_for_admissible_q(norms, q):
    a = np.array(norms)
    assert a.sum() <= q_regularizer(a, q) * (1 + 1e-12) + 1e-12
    one = np.zeros_like(a)
    one[0] = a[0]
    assert q_regularizer(one, q) == pytest.approx(a[0], rel=1e-12, abs=1e-12)  # Lemma 2.5


def test_q_regularizer_rejects_unknown_q():
    with pytest.raises(ValueError, match="q must be one of"):
        q_regularizer(np.ones(2), "cube")
    assert set(ADMISSIBLE_Q) < set(Q_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(MASKS))
@given(st.floats(1e-4, 1e2))
def test_mask_optimal_factorization_attains_q(name, a):
    mask = MASKS[name]
    w, b = mask.optimal(np.array(a))
    mult = b if name == "powerprop" else mask.mask(w)
    assert float(np.abs(mult) * b) == pytest.approx(a, rel=1e-12)
    assert float(mask.penalty(w, b)) == pytest.approx(float(mask.q(np.array(a))), rel=1e-12)


# -- group LASSO -----------------------------------------------------------------------------------
@given(group_least_squares(), st.floats(0.05, 0.95))
def test_group_lasso_certified_and_optimal(problem, fraction):
    tau = threshold(problem).tau
    lam = fraction * tau
    sol = group_lasso(problem, lam)
    assert sol.kkt <= 1e-10 * max(1.0, tau)
    assert sol.kkt == pytest.approx(group_lasso_kkt(problem, sol.x, lam), abs=1e-15)

    def objective(x):
        return problem.value_host(x) + lam * problem.groups.norms_host(x).sum()

    gen = np.random.default_rng(0)
    for d in gen.standard_normal((20, problem.d)):
        assert sol.value <= objective(sol.x + 1e-3 * d) + 1e-12


def test_group_lasso_with_unpenalized_groups_and_zero_above_threshold():
    problem, _ = planted_least_squares(80, 5, 2, rng(1), k=2)
    S = (1,)
    thr = threshold(problem, S)
    above = group_lasso(problem, thr.tau * 1.001, unpenalized=S)
    np.testing.assert_allclose(above.x, thr.base, atol=1e-10)
    assert above.active == ()
    low, tau = one_sparse_window(problem, S)
    assert 0 <= low < tau == thr.tau
    inside = group_lasso(problem, 0.5 * (low + tau), unpenalized=S)
    assert inside.active == (thr.argmax,)
    if low > 0:  # just below the window: more than one active group
        below = group_lasso(problem, low * 0.98, unpenalized=S)
        assert len(below.active) >= 2


@pytest.mark.parametrize("gap", [1e-4, 1e-6])
def test_one_sparse_window_narrower_than_its_tolerance_is_still_found(gap):
    """Orthonormal columns: group i enters the group LASSO at λ = |y_i|/n, so the window of the
    largest is [|y_1|/n, |y_0|/n), here narrower than rtol·τ = 1e-3·τ (seqattn falsify found
    such a near-tie, where the window came back empty and the mid-window λ was τ itself)."""
    y = np.array([1.0, 1.0 - gap, 0.5])
    problem = GroupLeastSquares(3.0 * np.eye(3), y, Groups(np.arange(3)))
    tau, second = 1.0, 1.0 - gap
    low, high = one_sparse_window(problem)
    assert high == pytest.approx(tau, rel=1e-12)
    assert second - 1e-9 <= low < high
    assert group_lasso(problem, 0.5 * (low + high)).active == (0,)


def test_one_sparse_window_of_a_tie_is_empty():
    problem = GroupLeastSquares(3.0 * np.eye(3), np.array([1.0, 1.0, 0.5]), Groups(np.arange(3)))
    low, high = one_sparse_window(problem)
    assert low == high


def test_threshold_on_multinomial_picks_the_max_gradient_row():
    problem, _ = planted_multinomial(120, 4, 3, rng(2), k=1, l2=0.05)
    thr = threshold(problem)
    norms = problem.groups.norms_host(problem.grad_host(np.zeros(problem.d)))
    assert thr.argmax == int(np.argmax(norms)) and thr.tau == pytest.approx(norms.max())
    low, tau = one_sparse_window(problem)
    assert group_lasso(problem, 0.5 * (low + tau)).active == (thr.argmax,)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("S", [(), (0,), (1,), (0, 1), (0, 1, 2)])
def test_group_lasso_with_free_groups_is_the_unit_weight_composite(S):
    """The reported overflow case: GroupLeastSquares(n=24, p=3, K=2, t=3), groups S free."""
    problem, _ = planted_least_squares(24, 3, 2, rng(0), k=2)
    pen = [i for i in range(3) if i not in S]
    lam = 0.5 * (threshold(problem, S).tau if pen else 1.0)
    sol = group_lasso(problem, lam, unpenalized=S)
    scale = max(1.0, float(np.linalg.norm(problem.grad_host(np.zeros(problem.d)))))
    assert sol.kkt <= 1e-11 * scale
    g = problem.grad_host(sol.x)
    norms = problem.groups.norms_host(sol.x)
    for i in S:  # free groups are stationary
        assert np.linalg.norm(g[problem.groups.members[i]]) <= 1e-11 * scale
    for i in pen:  # penalized groups: threshold λ (unit weight), not λ√|T_i|
        grad_norm = np.linalg.norm(g[problem.groups.members[i]])
        if norms[i] > 0:
            assert grad_norm == pytest.approx(lam, rel=1e-9)
        else:
            assert grad_norm <= lam * (1 + 1e-12)
    if not pen:
        np.testing.assert_allclose(sol.x, problem.x_star_host, atol=1e-11)
    warm = group_lasso(problem, lam, unpenalized=S, x0=sol.x)
    np.testing.assert_allclose(warm.x, sol.x, atol=1e-10)


def test_group_lasso_rejects_bad_start():
    problem, _ = planted_least_squares(30, 3, 1, rng(3), k=1)
    with pytest.raises(ValueError, match="x0"):
        group_lasso(problem, 0.1, x0=np.zeros(problem.d + 1))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: group_lasso(p, -1.0), "lam"),
        (lambda p: group_lasso(p, 0.1, unpenalized=(9,)), "unpenalized"),
        (lambda p: threshold(p, (0, 1, 2)), ""),
    ],
)
def test_group_lasso_bad_input(call, match):
    problem, _ = planted_least_squares(30, 3, 1, rng(3), k=1)
    if match:
        with pytest.raises(ValueError, match=match):
            call(problem)
    else:
        with pytest.raises(ValueError):
            one_sparse_window(problem, (0, 1, 2))
