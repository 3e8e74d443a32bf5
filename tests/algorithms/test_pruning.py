"""SequentialAttention++ family: SA++ mechanics, baselines, greedy methods, every backend."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastbench.problems.group_random import planted_least_squares, planted_multinomial

from mastbench.algorithms import all_algorithms
from mastbench.algorithms.pruning import (
    acdc,
    block_magnitude_pruning,
    block_powerprop,
    group_omp,
    iht,
    ompr,
    sequential_attention,
    sequential_attention_pp,
)
from mastbench.algorithms.pruning.blocks import top_k_mask
from mastbench.algorithms.pruning.optimizer import Moments, check_optimizer, optimizer_update
from mastbench.algorithms.pruning.parameterization import Parameterization
from mastbench.algorithms.pruning.phases import kept_blocks, sparsity_schedule
from mastbench.backend import namespace, rng, to_numpy
from mastbench.trace import Trace
from tests.algorithms.cases.seqattn import CASES

SPECS = all_algorithms("seqattn")


def _problem(seed=0, **kw):
    problem, support = planted_least_squares(200, 8, 3, rng(seed), k=2, noise=0.5, **kw)
    return problem, support


# -- the table contract on every backend ---------------------------------------------------
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_algorithm_runs_on_every_backend_and_matches_numpy(spec, xp):
    args, kwargs = CASES[spec.name](xp.xp, xp.device)
    extra = {"rng": xp.rng(3), "replicates": 2} if spec.stochastic else {}
    trace = spec.run(*args, **kwargs, **extra)
    assert isinstance(trace, Trace) and trace.algorithm == spec.name
    C = trace.iterations.size
    for name in ("objective", "support", "subopt", "recovery"):
        assert trace.metrics[name].shape == (C, 2 if spec.stochastic else 1)
    assert trace.x.shape[-1] == args[0].d
    np_args, np_kwargs = CASES[spec.name](namespace("numpy"), None)
    np_extra = {"rng": rng(3), "replicates": 2} if spec.stochastic else {}
    reference = spec.run(*np_args, **np_kwargs, **np_extra)
    np.testing.assert_allclose(
        trace.metrics["objective"], reference.metrics["objective"], rtol=1e-9
    )


def test_registered_names_are_the_issue_names():
    assert {s.name for s in SPECS} == {
        "sequential_attention_pp",
        "acdc",
        "block_magnitude_pruning",
        "block_powerprop",
        "iht",
        "group_omp",
        "ompr",
        "sequential_attention",
    }


@pytest.mark.parametrize("spec", [s for s in SPECS if s.stochastic], ids=lambda s: s.name)
def test_reproducible_from_the_seed(spec):
    args, kwargs = CASES[spec.name](namespace("numpy"), None)
    a = spec.run(*args, **kwargs, rng=rng(5), replicates=2)
    b = spec.run(*args, **kwargs, rng=rng(5), replicates=2)
    np.testing.assert_array_equal(a.metrics["objective"], b.metrics["objective"])


# -- SA++ mechanics --------------------------------------------------------------------------------
@given(st.integers(2, 12), st.integers(0, 2**16))
def test_attention_has_mean_one_and_is_one_at_zero_logits(t, seed):
    problem, _ = planted_least_squares(4 * t, t, 1, rng(0), k=1)
    param = Parameterization("attention", problem)
    xp = problem.xp
    A, s, _ = param.attention(xp.zeros((1, t), dtype=xp.float64))
    np.testing.assert_allclose(to_numpy(A), 1.0, rtol=1e-15)
    logits = problem.asarray(np.random.default_rng(seed).standard_normal((3, t)) * 3)
    A, s, _ = param.attention(logits)
    np.testing.assert_allclose(to_numpy(A).mean(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(s).sum(axis=1), 1.0, rtol=1e-12)


@given(st.integers(1, 200), st.integers(2, 64), st.data())
def test_sparsification_schedule_endpoints_and_monotone(steps, N, data):
    k = data.draw(st.integers(1, N))
    target = 1 - k / N
    assert sparsity_schedule(0.0, target) == 0.0
    assert sparsity_schedule(1.0, target) == pytest.approx(target, rel=1e-15, abs=1e-15)
    grid = sparsity_schedule(np.linspace(0, 1, 101), target)
    assert np.all(np.diff(grid) >= -1e-15)
    kept = kept_blocks(steps, N, k)
    assert kept[-1] == k and kept.size == steps
    assert np.all(np.diff(kept) <= 0) and np.all(kept >= k) and np.all(kept <= N)


def test_schedule_is_aggressive_early_with_c_4():
    s = sparsity_schedule(np.array([0.25, 0.5]), 0.9, c=4.0)
    assert s[0] > 0.25 * 0.9 * 2 and s[1] > 0.75 * 0.9


def test_mask_of_sparse_phase_is_top_k_of_attention_at_end_of_dense_phase():
    problem, _ = _problem()
    trace = sequential_attention_pp(
        problem,
        k=3,
        step=0.05,
        rng=rng(1),
        replicates=3,
        dense_steps=40,
        sparsify_steps=0,
        sparse_steps=20,
        cycles=1,
        final_steps=20,
    )
    bounds = trace.params["boundaries"]
    assert [b["phase"] for b in bounds] == ["dense", "sparse", "dense", "sparse"]
    for b in bounds[1::2]:
        scores, mask = b["scores"], b["mask"]
        expected = scores >= np.sort(scores, axis=1)[:, [-3]]
        np.testing.assert_array_equal(mask, expected.astype(float))
        assert np.all(mask.sum(axis=1) == 3)


def test_sparsification_phase_prunes_monotonically_to_k():
    problem, _ = _problem()
    trace = sequential_attention_pp(
        problem,
        k=2,
        step=0.05,
        rng=rng(1),
        replicates=2,
        dense_steps=30,
        sparsify_steps=10,
        sparse_steps=10,
        cycles=1,
        final_steps=10,
    )
    phases = [b["phase"] for b in trace.params["boundaries"]]
    assert phases == ["dense", "sparsify", "sparse", "dense", "sparsify", "sparse"]
    sparse_masks = [b["mask"] for b in trace.params["boundaries"] if b["phase"] == "sparse"]
    assert all(np.all(m.sum(axis=1) == 2) for m in sparse_masks)
    assert np.all(trace.final("support") <= 2)


def test_optimizer_state_is_zero_after_every_boundary():
    problem, _ = _problem()
    for fn, kw in (
        (sequential_attention_pp, {"sparsify_steps": 5, "sparse_steps": 5, "cycles": 2}),
        (acdc, {"sparse_steps": 5, "cycles": 2}),
    ):
        trace = fn(problem, k=2, step=0.05, rng=rng(2), dense_steps=10, final_steps=5, **kw)
        bounds = trace.params["boundaries"]
        assert all(b["state_norm_after_reset"] == 0.0 for b in bounds)
        assert all(b["state_norm_before_reset"] > 0.0 for b in bounds[1:])


def test_optimizer_reset_and_update_rules():
    xp = namespace("numpy")
    p, one = xp.asarray([1.0]), xp.asarray([1.0])
    memory = Moments.zeros("momentum", (p,))
    (p,), memory = optimizer_update("momentum", 0.1, 0.5, memory, (p,), (one,))
    (p,), memory = optimizer_update("momentum", 0.1, 0.5, memory, (p,), (one,))
    assert float(p[0]) == pytest.approx(1 - 0.1 - 0.1 * 1.5)
    assert memory.count == 2 and memory.norm2() == pytest.approx(1.5**2)
    assert Moments.zeros("momentum", (p,)).norm2() == 0.0
    adam = Moments.zeros("adam", (one,))
    (q,), adam = optimizer_update("adam", 0.1, 0.9, adam, (xp.asarray([0.0]),), (one * 5,))
    assert float(q[0]) == pytest.approx(-0.1, rel=1e-6)  # first Adam step is −η·sign(g)
    with pytest.raises(ValueError, match="optimizer"):
        check_optimizer("sgdr", 0.9)
    with pytest.raises(ValueError, match="momentum"):
        check_optimizer("momentum", 1.0)


def test_masked_blocks_get_no_loss_gradient():
    problem, _ = _problem()
    W = problem.asarray(np.random.default_rng(0).standard_normal((2, problem.d)))
    logits = problem.asarray(np.random.default_rng(1).standard_normal((2, problem.groups.t)))
    mask = top_k_mask(problem.asarray(np.random.default_rng(2).random((2, problem.groups.t))), 3)
    off = to_numpy(problem.expand(1 - mask)) > 0
    for kind in ("attention", "powerprop", "plain"):
        gW, _, _ = Parameterization(kind, problem).gradients(W, logits, mask)
        assert np.all(to_numpy(gW)[off] == 0.0)
    trace = sequential_attention_pp(
        problem,
        k=2,
        step=0.05,
        rng=rng(3),
        replicates=2,
        weight_decay=0.0,
        mode="masking",
        dense_steps=20,
        sparsify_steps=5,
        sparse_steps=20,
        cycles=0,
        final_steps=30,
    )
    assert np.all(trace.final("support") == 2)


@pytest.mark.parametrize("kind", ["attention", "powerprop", "plain"])
def test_chain_rule_gradients_match_finite_differences(kind):
    problem, _ = planted_multinomial(60, 4, 3, rng(4), k=2, l2=0.01)
    param = Parameterization(kind, problem)
    gen = np.random.default_rng(0)
    W = gen.standard_normal((1, problem.d))
    logits = gen.standard_normal((1, problem.groups.t))
    mask = np.array([[1.0, 0.0, 1.0, 1.0]])
    gW, gL, _ = param.gradients(W, logits, mask)

    def loss(w, lg):
        return float(problem.value(param.effective(w, lg, mask))[0])

    eps = 1e-6
    for j in range(0, problem.d, 3):
        e = np.zeros_like(W)
        e[0, j] = eps
        assert gW[0, j] == pytest.approx(
            (loss(W + e, logits) - loss(W - e, logits)) / (2 * eps), abs=1e-7
        )
    if kind == "attention":
        for j in range(problem.groups.t):
            e = np.zeros_like(logits)
            e[0, j] = eps
            fd = (loss(W, logits + e) - loss(W, logits - e)) / (2 * eps)
            assert gL[0, j] == pytest.approx(fd, abs=1e-7)


def test_clipping_keeps_attention_in_density_range():
    problem, _ = _problem()
    k = 2
    density = k / problem.groups.t
    param = Parameterization("attention", problem, clip=(density, 1 / density))
    logits = problem.asarray(np.random.default_rng(0).standard_normal((4, problem.groups.t)) * 5)
    A = to_numpy(param.attention(logits)[0])
    assert A.min() >= density and A.max() <= 1 / density
    trace = sequential_attention_pp(
        problem,
        k=k,
        step=0.05,
        rng=rng(0),
        clip=True,
        dense_steps=20,
        sparsify_steps=5,
        sparse_steps=5,
        final_steps=10,
        cycles=1,
    )
    for b in trace.params["boundaries"]:
        assert b["scores"].min() >= density - 1e-15 and b["scores"].max() <= 1 / density + 1e-15


def test_pruning_mode_zeroes_and_masking_mode_keeps_masked_weights():
    problem, _ = _problem()
    common = dict(
        k=2,
        step=0.05,
        rng=rng(0),
        replicates=2,
        dense_steps=30,
        sparsify_steps=0,
        sparse_steps=15,
        final_steps=5,
        cycles=1,
        weight_decay=0.0,
    )
    for mode in ("masking", "pruning"):
        trace = sequential_attention_pp(problem, mode=mode, **common)
        sparse, dense = trace.params["boundaries"][1:3]
        assert (sparse["phase"], dense["phase"]) == ("sparse", "dense")
        off = problem.groups.membership(np) @ (1 - sparse["mask"].T) > 0  # (d, R)
        before, after = sparse["weights"].T[off], dense["weights"].T[off]
        if mode == "masking":  # no loss gradient, no decay, fresh optimizer: unchanged
            np.testing.assert_array_equal(after, before)
            assert np.any(before != 0)
        else:  # zeroed when pruned, and they stay zero through the sparse phase
            np.testing.assert_array_equal(after, 0.0)


# -- baselines reach the planted support on an easy instance ---------------------------------------
@pytest.mark.parametrize(
    "fn, kw",
    [
        (sequential_attention_pp, {"weight_decay": 1e-2}),
        (acdc, {}),
        (block_magnitude_pruning, {}),
        (block_powerprop, {}),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_gradient_methods_recover_a_strong_planted_support(fn, kw):
    problem, support = _problem()
    assert tuple(support) == problem.best_k_groups(2).support
    trace = fn(problem, k=2, step=0.1, rng=rng(1), replicates=3, **kw)
    np.testing.assert_array_equal(trace.final("recovery"), 1.0)
    assert np.all(trace.final("subopt") <= 1e-3)


# -- greedy methods ------------------------------------------------------------------------------
def test_group_omp_first_pick_is_max_gradient_group_and_reaches_best_k():
    problem, _ = _problem(seed=4)
    trace = group_omp(problem, k=2)
    norms = problem.groups.norms_host(problem.grad_host(np.zeros(problem.d)))
    assert trace.params["order"][0] == int(np.argmax(norms))
    assert np.all(np.diff(trace.metrics["objective"][:, 0]) <= 1e-12)
    assert trace.final("subopt")[0] >= -1e-12


def test_ompr_keeps_k_prime_groups_and_accept_rule_is_monotone():
    problem, _ = _problem(seed=5)
    for rule in ("literal", "accept"):
        trace = ompr(problem, k=2, k_prime=3, iters=6, rule=rule)
        assert all(len(s) == 3 for s in trace.params["supports"])
        if rule == "accept":
            assert np.all(np.diff(trace.metrics["objective"][:, 0]) <= 1e-12)
    with pytest.raises(ValueError, match="init"):
        ompr(problem, k=2, k_prime=3, iters=2, init=[0, 0, 1])
    with pytest.raises(ValueError, match="rule"):
        ompr(problem, k=2, k_prime=3, iters=2, rule="greedy")
    with pytest.raises(ValueError, match="k_prime"):
        ompr(problem, k=2, k_prime=8, iters=2)


def test_ompr_literal_rule_cycles_and_accept_rule_does_not():
    """With k′ = k the literal swap leaves the optimum and oscillates with period 2 (§2)."""
    from mastbench.theory.seqattn.common import correlated_least_squares

    problem = correlated_least_squares(0, 60, 8, 0.5)
    literal = ompr(problem, k=1, k_prime=1, iters=8, rule="literal")
    supports = literal.params["supports"]
    r = literal.params["cycle"]
    assert r is not None and supports[r + 1] == supports[r - 1] != supports[r]
    assert all(isinstance(i, int) for s in supports for i in s)
    gaps = literal.metrics["subopt"][:, 0]
    assert gaps.min() <= 1e-12 and gaps[-1] > gaps.min() + 1e-3  # it leaves the optimum
    accept = ompr(problem, k=1, k_prime=1, iters=8, rule="accept")
    assert accept.params["cycle"] is None
    assert np.all(np.diff(accept.metrics["objective"][:, 0]) <= 1e-12)


def test_iht_is_k_sparse_and_monotone_with_step_one_over_L2k():
    problem, _ = _problem(seed=7)
    step = 1 / problem.restricted_constants(4).L
    trace = iht(problem, k=2, step=step, iters=40)
    assert np.all(trace.metrics["support"] <= 2)
    assert np.all(np.diff(trace.metrics["objective"][:, 0]) <= 1e-12)


def test_sequential_attention_matches_omp_order():
    problem, _ = planted_least_squares(120, 8, 1, rng(8), k=3, noise=0.3)
    order = sequential_attention(problem, k=3, steps=1500, rng=rng(0), replicates=2)
    omp = group_omp(problem, k=3).params["order"]
    np.testing.assert_array_equal(order.params["order"], np.array([omp, omp]))


def test_sequential_attention_lambda_sits_in_each_replicates_own_window():
    from mastbench.problems.group_penalties import one_sparse_window

    problem, _ = planted_least_squares(80, 6, 1, rng(9), k=2, noise=0.5)
    trace = sequential_attention(problem, k=2, steps=200, rng=rng(1), replicates=3)
    order, lam = trace.params["order"], trace.params["lam"]
    for r in range(3):
        for j in range(2):
            low, tau = one_sparse_window(problem, order[r, :j])
            assert lam[r, j] == pytest.approx(low + 0.25 * (tau - low), rel=1e-12)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda p: sequential_attention_pp(p, k=0, step=0.1, rng=rng(0)), ValueError, "k"),
        (lambda p: sequential_attention_pp("p", k=1, step=0.1, rng=rng(0)), TypeError, "problem"),
        (lambda p: sequential_attention_pp(p, k=1, step=0.1), ValueError, "rng"),
        (lambda p: sequential_attention_pp(p, k=1, step=-1.0, rng=rng(0)), ValueError, "step"),
        (lambda p: acdc(p, k=1, step=0.1, rng=rng(0), mode="zap"), ValueError, "mode"),
        (lambda p: acdc(p, k=1, step=0.1, rng=rng(0), optimizer="sgdr"), ValueError, "optimizer"),
        (lambda p: iht(p, k=9, step=0.1, iters=3), ValueError, "k"),
        (lambda p: iht(p, p.asarray(np.zeros(3)), k=1, step=0.1, iters=3), ValueError, "x0"),
        (lambda p: sequential_attention(p, k=1, steps=5), ValueError, "rng"),
        (
            lambda p: sequential_attention(p, k=1, steps=5, rng=rng(0), position=1.0),
            ValueError,
            "position",
        ),
        (
            lambda p: sequential_attention(p, k=1, steps=5, rng=rng(0), init_scale=math.nan),
            ValueError,
            "init_scale",
        ),
        (
            lambda p: iht(p, p.asarray(np.full(p.d, np.nan)), k=1, step=0.1, iters=3),
            ValueError,
            "x0",
        ),
        (lambda p: group_omp(p, k=2, steps=0), ValueError, "steps"),
        (
            lambda p: block_powerprop(p, k=1, step=0.1, rng=rng(0), dense_steps=-1),
            ValueError,
            "dense_steps",
        ),
    ],
)
def test_bad_input(call, exc, match):
    problem, _ = _problem()
    with pytest.raises(exc, match=match):
        call(problem)


def test_top_k_mask_on_strict_device():
    strict = pytest.importorskip("array_api_strict")
    dev = strict.Device("device1")
    scores = strict.asarray([[0.3, 0.1, 0.9, 0.5]], device=dev)
    mask = top_k_mask(scores, 2)
    assert mask.device == dev
    np.testing.assert_array_equal(to_numpy(mask), [[0, 0, 1, 1]])
    assert math.isclose(float(to_numpy(top_k_mask(scores, 9)).sum()), 4.0)


def test_top_k_mask_keeps_exactly_k_under_ties(xp):
    scores = xp.asarray([[1.0, 2.0, 2.0, 2.0, 0.0], [3.0, 3.0, 3.0, 3.0, 3.0]])
    mask = to_numpy(top_k_mask(scores, 2))
    np.testing.assert_array_equal(mask.sum(axis=1), [2, 2])
    assert mask[0, 0] == 0 and mask[0, 4] == 0  # only tied maxima are chosen


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_entry_point_rejects_a_problem_without_groups(spec):
    from mastbench.problems.random import quadratic

    args, kwargs = CASES[spec.name](namespace("numpy"), None)
    plain = quadratic(args[0].d, 10.0, rng(0))
    extra = {"rng": rng(0)} if spec.stochastic else {}
    with pytest.raises(TypeError, match="problem must be a GroupProblem"):
        spec.run(plain, *args[1:], **kwargs, **extra)
