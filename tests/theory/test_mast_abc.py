"""mast.abc (theory/_mast_abc.py): T-ABC with minibatches drawn with and without replacement.

The variance factor θ and the ABC constants (A', C') are checked against brute force: all
b-subsets (without replacement) or all ordered b-tuples (with replacement) of the n components,
and every sketch of the support.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from mastbench.theory.mast.abc import SAMPLING_CONTROL, _abc_constants, minibatch_variance_factor
from mastbench.theory.mast.common import setting, sketch_support

from mastbench import exact, theory
from mastbench.algorithms.mast import DSGD
from mastbench.verify import verify, verify_control

THM = theory.get("mast.abc")
QUICK = THM.instances(True)
WITHOUT = [i for i in QUICK if i.replacement is False]
UNCOMPRESSED = [i for i in QUICK if getattr(i, "compressor", None) is None]


def _batches(n, b, replacement):
    """All equally likely minibatches: ordered b-tuples with replacement, b-subsets without."""
    if replacement:
        return list(itertools.product(range(n), repeat=b))
    return list(itertools.combinations(range(n), b))


@pytest.mark.parametrize("replacement", [True, False], ids=["with", "without"])
@pytest.mark.parametrize(("n", "b"), [(1, 1), (2, 1), (2, 2), (3, 2), (4, 2), (4, 3), (5, 3)])
def test_variance_factor_matches_enumeration_of_all_minibatches(n, b, replacement):
    """E_B‖(1/b)Σ_{i∈B} a_i‖² = ‖ā‖² + θ·(1/n)Σ‖a_i − ā‖², by enumeration of every minibatch."""
    a = np.random.default_rng(10 * n + b).standard_normal((n, 3))
    mean = a.mean(axis=0)
    sigma2 = float(np.mean(np.sum((a - mean) ** 2, axis=1)))
    second = np.mean([np.sum(a[list(B)].mean(axis=0) ** 2) for B in _batches(n, b, replacement)])
    theta = minibatch_variance_factor(n, b, replacement)
    np.testing.assert_allclose(second, mean @ mean + theta * sigma2, rtol=1e-12)


def test_variance_factor_is_smaller_without_replacement_and_zero_for_the_full_batch():
    for n in range(2, 7):
        assert minibatch_variance_factor(n, 1, False) == minibatch_variance_factor(n, 1, True)
        assert minibatch_variance_factor(n, n, False) == 0.0
        for b in range(2, n + 1):
            assert minibatch_variance_factor(n, b, False) < minibatch_variance_factor(n, b, True)


def _expected_sq_norm_and_gap(inst, x):
    """Brute force E_{S,B}‖g‖² and f_D(x) − f_D* over the sketch support and all minibatches."""
    A_i, b_i, const_i = exact.quadratic_components(inst.problem)
    n = A_i.shape[0]
    v = inst.shift
    S_all, probs = sketch_support(inst.sketch)
    batches = _batches(n, inst.batch, inst.replacement)
    second, f_D = 0.0, 0.0
    for S, p in zip(S_all, probs, strict=True):
        z = v + S @ (x - v)
        grads = np.einsum("nij,j->ni", A_i, z) - b_i
        norms = [np.sum((S.T @ grads[list(B)].mean(axis=0)) ** 2) for B in batches]
        second += p * np.mean(norms)
        f_D += p * np.mean(0.5 * np.einsum("i,nij,j->n", z, A_i, z) - b_i @ z + const_i)
    objective = setting(inst).objective
    return second, f_D - float(objective.f_star)


@pytest.mark.parametrize("index", range(len(UNCOMPRESSED)), ids=[i.name for i in UNCOMPRESSED])
def test_abc_inequality_for_f_D_holds_at_random_points(index):
    """E‖g(x)‖² ≤ 2A'(f_D(x) − f_D*) + C' (ABC(A', 0, C') for f_D), at x_D* and random x;
    at x_D* the left side is more than C'/10 (C' is not vacuous)."""
    inst = UNCOMPRESSED[index]
    constants = _abc_constants(inst)
    A_prime, C_prime = constants["A_prime"], constants["C_prime"]
    x_star = setting(inst).objective.x_star_host
    gen = np.random.default_rng(index)
    points = [x_star] + [x_star + scale * gen.standard_normal(x_star.size) for scale in (0.1, 1, 3)]
    for x in points:
        second, gap = _expected_sq_norm_and_gap(inst, x)
        assert second <= 2 * A_prime * gap + C_prime + 1e-10 * max(1.0, second)
    second_at_star, _ = _expected_sq_norm_and_gap(inst, x_star)
    assert second_at_star > C_prime / 10


@pytest.mark.parametrize("index", range(len(WITHOUT)), ids=[i.name for i in WITHOUT])
def test_without_replacement_instances_hold_and_use_their_variance_factor(index):
    inst = WITHOUT[index]
    verdict = verify(THM, inst)
    assert verdict.status == "holds", verdict.summary()
    assert verdict.evidence.extra["replacement"] is False
    n, b = inst.problem.n, inst.batch
    assert verdict.evidence.extra["theta"] < 1 / b
    assert verdict.evidence.extra["theta"] == minibatch_variance_factor(n, b, False)


def test_sampling_mode_reaches_the_exact_engine():
    """b = n without replacement is the full data gradient: the measurement is option I's
    exact E‖x_t − x_D*‖²; sampling the same b = n with replacement gives a different one."""
    base = WITHOUT[0]
    inst = base.replace(name="b = n", batch=base.problem.n)
    params = THM.default_params(inst)
    measured = verify(THM, inst, params).evidence.measured
    option_one = exact.moments(
        DSGD(sketch=inst.sketch, gamma=params["step"], shift=inst.shift),
        inst.problem,
        inst.x0,
        params["iters"],
    ).dist2
    np.testing.assert_allclose(measured, option_one, rtol=1e-10)
    resampled = verify(THM, inst, {**params, "run_replacement": True}, check_assumptions=False)
    assert np.max(np.abs(resampled.evidence.measured - option_one)) > 1e-3 * option_one[0]


def test_batch_of_one_is_the_same_with_and_without_replacement():
    inst = next(i for i in QUICK if i.batch == 1 and getattr(i, "compressor", None) is None)
    without = inst.replace(name="b=1 without", replacement=False)
    v_with, v_without = verify(THM, inst), verify(THM, without)
    np.testing.assert_allclose(v_without.evidence.measured, v_with.evidence.measured, rtol=1e-12)
    np.testing.assert_allclose(v_without.evidence.bound, v_with.evidence.bound, rtol=1e-12)


def test_without_replacement_has_smaller_constants_and_neighbourhood():
    """The same problem, sketch and b = 2: θ = 1/3 < 1/2 gives smaller A', C' and a smaller
    exact limit E‖x_∞ − x_D*‖² at a common step."""
    without = next(i for i in WITHOUT if i.batch == 2)
    with_ = next(
        i
        for i in QUICK
        if i.replacement and i.name == without.name.replace(" without replacement", "")
    )
    c_with, c_without = _abc_constants(with_), _abc_constants(without)
    assert c_without["A_prime"] < c_with["A_prime"]
    assert c_without["C_prime"] < c_with["C_prime"]
    step = 1 / c_with["A_prime"]
    limits = [
        exact.limit(
            DSGD(
                sketch=i.sketch,
                gamma=step,
                shift=i.shift,
                option="II",
                batch_size=2,
                replace=i.replacement,
            ),
            i.problem,
        ).dist2
        for i in (with_, without)
    ]
    assert limits[1] < limits[0]


def test_batch_larger_than_n_without_replacement_is_not_applicable():
    inst = WITHOUT[0].replace(name="b > n", batch=WITHOUT[0].problem.n + 1)
    verdict = verify(THM, inst)
    assert verdict.status == "not applicable"
    assert any("b ≤ n" in reason for reason in verdict.reasons)


def test_sampling_control_is_detected_because_of_the_sampling():
    """Violated with the run sampling with replacement; the same instance sampled as its
    constants assume (without replacement) holds."""
    verdict = verify_control(THM, QUICK[0], SAMPLING_CONTROL)
    assert verdict.status == "violated", verdict.summary()
    target = SAMPLING_CONTROL.instance(QUICK[0])
    assert verify(THM, target).status == "holds"


@settings(max_examples=4, database=None, deadline=None)
@given(THM.strategy())
def test_holds_on_generated_instances(instance):
    verdict = verify(THM, instance)
    assert verdict.status in ("holds", "not applicable"), verdict.summary()
