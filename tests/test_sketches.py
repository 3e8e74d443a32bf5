import itertools
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastbench import backend
from mastbench.backend import to_numpy
from mastbench.sketches import (
    Bernoulli,
    Discrete,
    Gaussian,
    Identity,
    Permutation,
    RandK,
    Sketch,
)
from mastbench.strategies import sketches

# -- helpers -----------------------------------------------------------------------------------


def _enumerated(sk: Sketch) -> Discrete:
    """The same distribution rebuilt from its support (for Permutation: client 0's marginal)."""
    outcomes, probs = sk.support()
    if isinstance(sk, Permutation):
        outcomes = outcomes[:, 0, :]
    return Discrete(outcomes, probs)


def _close(a, b, tol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


def _random_operands(d, seed):
    gen = np.random.default_rng(seed)
    A = gen.normal(size=(d, d))
    P = gen.normal(size=(d, d))
    return A + A.T, A, P, gen.normal(size=d), gen.normal(size=d)


# -- closed forms against enumeration ----------------------------------------------------------


@given(sk=sketches(), seed=st.integers(0, 2**32 - 1))
def test_closed_form_moments_equal_enumeration_of_the_support(sk, seed):
    enum = _enumerated(sk)
    A_sym, A, P, m, c = _random_operands(sk.d, seed)
    _close(sk.mean(), np.eye(sk.d))
    _close(sk.mean(), enum.mean())
    _close(sk.expected_gram(), enum.expected_gram())
    for M in (A_sym, A):
        _close(sk.expected_sandwich(M), enum.expected_sandwich(M))
        _close(sk.expected_cubic(M, m, c), enum.expected_cubic(M, m, c))
        _close(sk.expected_quartic(M, P), enum.expected_quartic(M, P))
        _close(sk.expected_quartic(M, P, A_sym.T @ A), enum.expected_quartic(M, P, A_sym.T @ A))
    assert sk.L_D == pytest.approx(enum.L_D, rel=1e-12)
    assert sk.mu_D == pytest.approx(enum.mu_D, rel=1e-12)
    assert sk.L_S_max == pytest.approx(enum.L_S_max, rel=1e-12)
    if sk.diagonal:
        _close(sk.second_moment(), enum.second_moment())
        _close(sk.third_moment(), enum.third_moment())
        _close(sk.fourth_moment(), enum.fourth_moment())


@given(sk=sketches(kinds=("bernoulli", "randk", "permutation", "identity")))
def test_contractions_equal_einsum_with_the_moment_tensors(sk):
    _, A, P, m, c = _random_operands(sk.d, 0)
    M3, M4 = sk.third_moment(), sk.fourth_moment()
    _close(sk.expected_quartic(A, P), np.einsum("ik,lj,kl,iklj->ij", A, A, P, M4))
    _close(sk.expected_cubic(A, m, c), np.einsum("ik,k,j,ikj->ij", A, m, c, M3))
    _close(sk.expected_sandwich(A), A * sk.second_moment())


@given(p=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=6))
def test_bernoulli_table_of_constants(p):
    p = np.array(p)
    sk = Bernoulli(p)
    A, *_ = _random_operands(len(p), 1)
    _close(sk.expected_gram(), np.diag(1 / p))
    assert sk.L_D == pytest.approx(1 / p.min(), rel=1e-14)
    assert sk.mu_D == pytest.approx(1 / p.max(), rel=1e-14)
    assert sk.L_S_max == pytest.approx(1 / p.min() ** 2, rel=1e-14)
    _close(sk.expected_sandwich(A), A + np.diag(np.diag(A) * (1 - p) / p))
    _close(sk.second_moment(), np.ones((len(p),) * 2) + np.diag(1 / p - 1))


@given(dk=st.integers(1, 7).flatmap(lambda d: st.tuples(st.just(d), st.integers(1, d))))
def test_randk_table_of_constants(dk):
    d, k = dk
    sk = RandK(d, k)
    A, *_ = _random_operands(d, 2)
    assert sk.L_D == sk.mu_D == d / k
    assert sk.L_S_max == (d / k) ** 2
    if d > 1:
        expected = d * (k - 1) / (k * (d - 1)) * A + d * (d - k) / (k * (d - 1)) * np.diag(
            np.diag(A)
        )
        _close(sk.expected_sandwich(A), expected)


def test_bernoulli_scalar_p_needs_d_and_repeats():
    sk = Bernoulli(0.25, d=3)
    np.testing.assert_array_equal(sk.p, [0.25] * 3)
    assert sk.d == 3


def test_gaussian_closed_forms():
    sk = Gaussian(4, 3)
    _close(sk.expected_gram(), (1 + 5 / 3) * np.eye(4))
    assert sk.L_D == sk.mu_D == pytest.approx(1 + 5 / 3)
    assert sk.L_S_max == math.inf
    assert not sk.diagonal


def test_gaussian_sandwich_within_five_sigma_of_monte_carlo():
    sk = Gaussian(3, 2)
    A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 0.3], [0.0, 0.7, 2.0]])  # not symmetric
    draws = to_numpy(sk.sample(backend.rng(4), 40000))
    sandwich = np.swapaxes(draws, 1, 2) @ A @ draws
    sigma = sandwich.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(sandwich.mean(axis=0) - sk.expected_sandwich(A)) <= 5 * sigma)


def test_permutation_joint_support_reconstructs_identity_and_marginal_is_randk():
    sk = Permutation(6, 3)
    outcomes, probs = sk.support()
    assert outcomes.shape == (math.factorial(6) // 2**3, 3, 6)
    assert probs.sum() == pytest.approx(1.0)
    _close(outcomes.mean(axis=1), np.ones((len(probs), 6)))  # (1/n) Σ_i S_i = I
    for client in range(3):
        marg = Discrete(outcomes[:, client, :], probs)
        _close(marg.second_moment(), RandK(6, 2).second_moment())
    assert (sk.L_D, sk.mu_D, sk.L_S_max) == (3.0, 3.0, 9.0)


def test_ist_link_identity_for_perm_one():
    d = 4
    sk = Permutation(d, d)
    gen = np.random.default_rng(3)
    As = [(lambda B: B @ B.T)(gen.normal(size=(d, d))) for _ in range(d)]
    outcomes, probs = sk.support()
    joint = (
        sum(
            np.einsum("n,ni,ij,nj->ij", probs, outcomes[:, i, :], As[i], outcomes[:, i, :])
            for i in range(d)
        )
        / d
    )
    expected = d * np.mean([np.diag(np.diag(Ai)) for Ai in As], axis=0)
    _close(joint, expected)
    _close(sk.expected_average_sandwich(As), expected)


def test_discrete_dense_is_not_diagonal_and_samples_matrices():
    mats = np.array([[[1.0, 1.0], [0.0, 1.0]], [[1.0, -1.0], [0.0, 1.0]]])
    sk = Discrete(mats, [0.5, 0.5])
    assert not sk.diagonal
    assert sk.sample(backend.rng(0), 5).shape == (5, 2, 2)
    _close(sk.expected_gram(), np.array([[1.0, 0.0], [0.0, 2.0]]))
    assert sk.L_S_max == pytest.approx(np.linalg.eigvalsh(mats[0].T @ mats[0])[-1])


def test_discrete_drops_zero_weight_outcomes():
    sk = Discrete(np.array([[1.0, 1.0], [5.0, 5.0]]), [1.0, 0.0])
    assert sk.num_outcomes == 1
    assert sk.L_S_max == 1.0


# -- sampling ----------------------------------------------------------------------------------

SAMPLED = [
    Bernoulli(np.array([0.3, 0.6, 1.0, 0.8])),
    RandK(5, 2),
    RandK(3, 3),
    Identity(3),
    Permutation(6, 3),
    Gaussian(3, 2),
    Discrete(np.array([[2.0, 0.0], [0.0, 2.0]]), [0.5, 0.5]),
    Discrete(np.array([[[1.0, 1.0], [0.0, 1.0]], [[1.0, -1.0], [0.0, 1.0]]]), [0.5, 0.5]),
]


@pytest.mark.parametrize("sk", SAMPLED, ids=repr)
def test_sample_lives_on_the_generator_backend(xp, sk):
    out = sk.sample(xp.rng(0), 7)
    assert backend.array_namespace(out) is xp.xp
    if xp.device is not None:
        assert backend.device_of(out) == xp.device
    if isinstance(sk, Permutation):
        assert tuple(out.shape) == (7, sk.n, sk.d)
    elif sk.diagonal:
        assert tuple(out.shape) == (7, sk.d)
    else:
        assert tuple(out.shape) == (7, sk.d, sk.d)
    if hasattr(sk, "sample_indices"):
        idx = sk.sample_indices(xp.rng(0), 7)
        assert backend.array_namespace(idx) is xp.xp
        if xp.device is not None:
            assert backend.device_of(idx) == xp.device


@pytest.mark.parametrize("sk", SAMPLED, ids=repr)
def test_same_seed_same_samples_on_numpy_and_strict(sk):
    strict = pytest.importorskip("array_api_strict")
    a = sk.sample(backend.rng(5), 6)
    b = sk.sample(backend.rng(5, strict, strict.Device("device1")), 6)
    np.testing.assert_array_equal(a, to_numpy(b))


@pytest.mark.parametrize("sk", [*SAMPLED, Bernoulli(np.array([0.3, 0.7, 1.0]))], ids=repr)
def test_float32_draws_are_the_float64_draws_cast(xp, sk):
    wide = sk.sample(xp.rng(11), 9)
    narrow = sk.sample(xp.rng(11), 9, dtype=xp.xp.float32)
    assert wide.dtype == xp.xp.float64
    assert narrow.dtype == xp.xp.float32
    if xp.device is not None:
        assert backend.device_of(narrow) == xp.device
    np.testing.assert_array_equal(to_numpy(narrow), to_numpy(wide).astype(np.float32))


@pytest.mark.parametrize("dtype", ["float32", np.int64, "x"])
def test_sample_rejects_a_dtype_that_is_not_real_floating(dtype):
    with pytest.raises(TypeError, match="dtype must be a real floating dtype"):
        Bernoulli(0.5, 3).sample(backend.rng(0), 2, dtype=dtype)


def _mc_check_mean(draws, mean, var, count):
    """Monte-Carlo mean of ``draws`` within 5 sigma (per entry) of the exact ``mean``."""
    sigma = np.sqrt(np.maximum(var, 0.0) / count)
    assert np.all(np.abs(draws.mean(axis=0) - mean) <= 5 * sigma + 1e-12)


@pytest.mark.parametrize("sk", SAMPLED, ids=repr)
def test_monte_carlo_moments_within_five_sigma(sk):
    count = 20000
    draws = to_numpy(sk.sample(backend.rng(11), count))
    if isinstance(sk, Permutation):
        _close(draws.mean(axis=1), np.ones((count, sk.d)))
        draws = draws[:, 1, :]
    if sk.diagonal:
        second = sk.second_moment()
        fourth = np.einsum("iijj->ij", sk.fourth_moment())
        _mc_check_mean(draws, np.ones(sk.d), np.diag(second) - 1, count)
        outer = np.einsum("ni,nj->nij", draws, draws)
        _mc_check_mean(outer, second, fourth - second**2, count)
    else:
        gram = np.einsum("nki,nkj->nij", draws, draws)
        _mc_check_mean(draws, np.eye(sk.d), draws.var(axis=0), count)
        _mc_check_mean(gram, sk.expected_gram(), gram.var(axis=0), count)


def test_bernoulli_monte_carlo_covers_exact_keep_rate():
    sk = Bernoulli(np.array([0.1, 0.5, 0.9]))
    count = 40000
    kept = to_numpy(sk.sample(backend.rng(2), count)) > 0
    sigma = np.sqrt(sk.p * (1 - sk.p) / count)
    assert np.all(np.abs(kept.mean(axis=0) - sk.p) <= 5 * sigma)


def test_randk_indices_and_masks_are_the_same_draws(xp):
    sk = RandK(7, 3)
    idx = to_numpy(sk.sample_indices(xp.rng(4), 50))
    masks = to_numpy(sk.sample(xp.rng(4), 50))
    rebuilt = np.zeros((50, 7))
    np.put_along_axis(rebuilt, idx, 7 / 3, axis=1)
    np.testing.assert_array_equal(masks, rebuilt)
    assert np.all(np.diff(idx, axis=1) > 0)


def test_permutation_indices_and_masks_are_the_same_draws(xp):
    sk = Permutation(6, 3)
    idx = to_numpy(sk.sample_indices(xp.rng(9), 40))
    masks = to_numpy(sk.sample(xp.rng(9), 40))
    rebuilt = np.zeros((40, 3, 6))
    for client in range(3):
        np.put_along_axis(rebuilt[:, client, :], idx[:, client, :], 3.0, axis=1)
    np.testing.assert_array_equal(masks, rebuilt)


def test_discrete_indices_and_samples_are_the_same_draws():
    sk = _enumerated(Bernoulli(np.array([0.4, 0.7])))
    idx = to_numpy(sk.sample_indices(backend.rng(1), 30))
    draws = to_numpy(sk.sample(backend.rng(1), 30))
    np.testing.assert_array_equal(draws, sk.support()[0][idx])


@pytest.mark.parametrize(
    "sk", [RandK(4, 2), Permutation(4, 2), _enumerated(Bernoulli(np.array([0.3, 0.8])))], ids=repr
)
def test_outcome_frequencies_match_support_probabilities(sk):
    count = 30000
    outcomes, probs = sk.support()
    draws = to_numpy(sk.sample(backend.rng(6), count))
    flat_out = outcomes.reshape(len(probs), -1)
    flat_draw = draws.reshape(count, -1)
    hits = (flat_draw[:, None, :] == flat_out[None, :, :]).all(axis=2)
    assert np.all(hits.sum(axis=1) == 1)  # every draw is an outcome of the support
    freq = hits.mean(axis=0)
    assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / count))


def test_randk_sample_indices_frequencies_are_uniform_over_subsets():
    sk = RandK(5, 2)
    count = 30000
    idx = to_numpy(sk.sample_indices(backend.rng(8), count))
    subsets = list(itertools.combinations(range(5), 2))
    code = {s: i for i, s in enumerate(subsets)}
    freq = np.bincount([code[tuple(r)] for r in idx], minlength=len(subsets)) / count
    p = 1 / len(subsets)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / count))


def test_support_sizes():
    assert Bernoulli(np.array([0.5, 1.0, 0.2])).support()[0].shape == (4, 3)
    assert RandK(6, 3).support()[0].shape == (20, 6)
    assert Identity(2).support()[0].shape == (1, 2)
    assert Permutation(4, 2).num_outcomes == 6


def test_bernoulli_support_probabilities():
    sk = Bernoulli(np.array([0.25, 0.5]))
    outcomes, probs = sk.support()
    assert probs.sum() == pytest.approx(1.0)
    empty = np.all(outcomes == 0, axis=1)
    assert probs[empty] == pytest.approx([0.75 * 0.5])


# -- cost of the structured contractions -------------------------------------------------------


def test_structured_contractions_never_form_a_fourth_order_tensor():
    d = 200
    gen = np.random.default_rng(0)
    A = gen.normal(size=(d, d))
    P = A @ A.T
    for sk in (Bernoulli(np.linspace(0.2, 1.0, d)), RandK(d, 20)):
        sk.expected_quartic(A, P)  # build the cached pattern weights first
        tracemalloc.start()
        sk.expected_quartic(A, P)
        sk.expected_cubic(A, P[0], P[1])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # a handful of d×d float64 temporaries; one d³ array alone would be 64 MB
        assert peak < 40 * d * d * 8


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, [0.5, 0.0], [0.5, float("nan")]])
def test_bernoulli_rejects_p_outside_unit_interval(p):
    with pytest.raises(ValueError, match="p must"):
        Bernoulli(p, d=2) if np.ndim(p) == 0 else Bernoulli(p)


def test_bernoulli_scalar_without_d_and_mismatched_d():
    with pytest.raises(ValueError, match="d is required"):
        Bernoulli(0.5)
    with pytest.raises(ValueError, match="does not match"):
        Bernoulli([0.5, 0.5], d=3)
    with pytest.raises(ValueError, match="p must be a scalar or a 1-D"):
        Bernoulli([[0.5]])


@pytest.mark.parametrize("d, k", [(5, 0), (5, 6), (3, -1)])
def test_randk_rejects_k_out_of_range(d, k):
    with pytest.raises(ValueError, match="k must be"):
        RandK(d, k)


def test_randk_rejects_non_integer_k():
    with pytest.raises(TypeError, match="k must be an integer"):
        RandK(5, 2.5)


def test_permutation_rejects_n_not_dividing_d():
    with pytest.raises(ValueError, match="n must divide d"):
        Permutation(5, 2)
    with pytest.raises(ValueError, match="n must be"):
        Permutation(4, 0)


def test_gaussian_rejects_m_below_one_and_enumeration():
    with pytest.raises(ValueError, match="m must be >= 1"):
        Gaussian(3, 0)
    with pytest.raises(ValueError, match="infinite support"):
        Gaussian(3, 2).support()
    with pytest.raises(ValueError, match="finite support"):
        Gaussian(3, 2).expected_quartic(np.eye(3), np.eye(3))


def test_discrete_rejects_bad_weights_and_biased_sketches():
    eye = np.eye(2)[None].repeat(2, axis=0)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        Discrete(eye, [0.5, 0.6])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        Discrete(eye, [1.5, -0.5])
    with pytest.raises(ValueError, match="weights must have shape"):
        Discrete(eye, [1.0])
    with pytest.raises(ValueError, match=r"E\[S\] must equal the identity"):
        Discrete(np.array([[2.0, 0.0], [0.0, 0.0]]), [0.5, 0.5])
    with pytest.raises(ValueError, match="matrices must have shape"):
        Discrete(np.ones((2, 2, 3)), [0.5, 0.5])


def test_support_too_large_names_size_and_limit():
    with pytest.raises(ValueError, match=r"1048576 outcomes.*max_outcomes=65536"):
        Bernoulli(0.5, d=20).support()
    with pytest.raises(ValueError, match=r"252 outcomes.*max_outcomes=100"):
        RandK(10, 5).support(max_outcomes=100)
    with pytest.raises(ValueError, match=r"90 outcomes.*max_outcomes=10"):
        Permutation(6, 3).support(max_outcomes=10)


def test_moment_tensor_too_large_and_non_diagonal_second_moment():
    with pytest.raises(ValueError, match="exceeds the limit"):
        RandK(40, 3).fourth_moment()
    with pytest.raises(ValueError, match="diagonal sketches only"):
        Gaussian(2, 1).second_moment()


def test_contraction_operands_are_checked():
    sk = RandK(3, 2)
    with pytest.raises(ValueError, match=r"A must have shape \(3, 3\)"):
        sk.expected_sandwich(np.eye(2))
    with pytest.raises(ValueError, match=r"m must have shape \(3,\)"):
        sk.expected_cubic(np.eye(3), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="P must not contain NaN"):
        sk.expected_quartic(np.eye(3), np.full((3, 3), np.nan))


def test_sample_rejects_bad_size():
    with pytest.raises(ValueError, match="size must be >= 1"):
        RandK(3, 1).sample(backend.rng(0), 0)


@pytest.mark.parametrize(
    "sketch",
    [
        Bernoulli(0.5, d=4),
        RandK(4, 2),
        Identity(4),
        Permutation(4, 2),
        Gaussian(4, 2),
        Discrete(np.eye(4)[None], np.ones(1)),
    ],
    ids=repr,
)
@pytest.mark.parametrize("rng", [np.random.default_rng(0), 0, None], ids=["numpy", "int", "none"])
def test_sample_rejects_a_generator_not_from_mastbench(sketch, rng):
    with pytest.raises(TypeError, match=r"rng must be a mastbench\.backend\.Generator"):
        sketch.sample(rng, 3)
    if hasattr(sketch, "sample_indices"):
        with pytest.raises(TypeError, match=r"rng must be a mastbench\.backend\.Generator"):
            sketch.sample_indices(rng, 3)


@pytest.mark.parametrize(
    ("matrices", "weights", "match"),
    [
        (np.eye(2)[None] * (1 + 0j), np.ones(1), "matrices must hold real numbers"),
        (np.eye(2)[None], np.array(["1"]), "weights must hold real numbers"),
    ],
)
def test_discrete_refuses_non_real_matrices_or_weights(matrices, weights, match):
    with pytest.raises(TypeError, match=match):
        Discrete(matrices, weights)
