"""MAST rate theorems: they hold on the quick instances, their controls are detected, and the
exact moments (mastbench.exact) agree with the batched algorithms' Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from mastbench.problems.random import least_squares, quadratic
from mastbench.theory.mast.common import quadratic_instance
from mastbench.theory.mast.rates_multi import _distsetting

from mastbench import exact, theory
from mastbench.algorithms import distributed_dsgd, dsgd, l_svrdsg
from mastbench.algorithms.mast import DSGD, LSVRDSG, DistributedDSGD
from mastbench.backend import rng
from mastbench.montecarlo import estimate, from_trace
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Permutation, RandK
from mastbench.verify import verify, verify_control
from tests.theory.quick_suite import control_verdict, quick_verdicts

RATE_IDS = (
    "mast.sc",
    "mast.convex",
    "mast.nc",
    "mast.nc-corollary",
    "mast.abc",
    "mast.vr",
    "mast.vr-neighbourhood",
    "mast.dist",
    "mast.dist-dmax",
    "mast.ist-link",
    "mast.sc-logistic",
)
CASES = [(tid, i) for tid in RATE_IDS for i in range(len(theory.get(tid).instances(True)))]
CONTROLS = [(tid, c.name) for tid in RATE_IDS for c in theory.get(tid).controls]


@pytest.mark.parametrize(("theorem_id", "index"), CASES, ids=lambda v: str(v))
def test_theorem_holds_on_quick_instances(theorem_id, index):
    thm = theory.get(theorem_id)
    instance = thm.instances(True)[index]
    verdict = quick_verdicts(thm)[index]
    if instance.name == thm.counterexample:
        assert verdict.status == "falsified", verdict.summary()
        return
    assert verdict.status == "holds", verdict.summary()
    assert verdict.worst_ratio <= 1 + 1e-9


@pytest.mark.parametrize(("theorem_id", "control"), CONTROLS, ids=lambda v: str(v))
def test_negative_controls_are_detected(theorem_id, control):
    thm = theory.get(theorem_id)
    chosen = next(c for c in thm.controls if c.name == control)
    verdict = control_verdict(thm, chosen)
    assert verdict.status == "violated", verdict.summary()


def test_every_rate_theorem_is_documented_and_tagged():
    for theorem_id in RATE_IDS:
        thm = theory.get(theorem_id)
        assert "2311.16086" in thm.paper and thm.tag in ("D", "R/D", "R/U")
        assert "Statement." in thm.doc and "Reference." in thm.doc
        assert thm.controls, theorem_id


def test_interpolation_gives_pure_geometric_decay():
    thm = theory.get("mast.sc")
    inst = next(i for i in thm.instances(True) if "interpolation" in i.name)
    evidence = verify(thm, inst).evidence
    assert evidence.extra["Delta"] < 1e-12
    t = evidence.t
    assert np.all(
        evidence.measured
        <= evidence.bound[0]
        * (1 - thm.default_params(inst)["step"] * inst.problem.mu * inst.sketch.mu_D) ** t
        * (1 + 1e-9)
        + 1e-12
    )


_BERNOULLI_D4 = ("bernoulli-d4 Δ", "bernoulli-d4 Δ'")


def test_sharper_gap_gives_smaller_bound():
    thm = theory.get("mast.sc")
    delta, prime = (next(i for i in thm.instances(True) if i.name == n) for n in _BERNOULLI_D4)
    ev_delta, ev_prime = verify(thm, delta).evidence, verify(thm, prime).evidence
    np.testing.assert_allclose(ev_delta.measured, ev_prime.measured)
    assert ev_prime.extra["Delta_prime"] < ev_delta.extra["Delta"]
    assert np.all(ev_prime.bound <= ev_delta.bound) and ev_prime.bound[-1] < ev_delta.bound[-1]


def test_assumptions_and_step_range_give_not_applicable():
    sc = theory.get("mast.sc")
    singular = quadratic_instance("singular", quadratic(3, 5.0, rng(0), mu=0.0), RandK(3, 1))
    assert "strongly convex" in verify(sc, singular).reasons[0]
    gaussian = quadratic_instance("gaussian", quadratic(3, 5.0, rng(0)), Gaussian(3, 2))
    assert "finite" in verify(sc, gaussian).reasons[0]
    inst = sc.instances(True)[0]
    beyond = verify(sc, inst, {"step": 1.01 * sc.step_size(inst)})
    assert beyond.status == "not applicable" and "outside" in beyond.reasons[0]
    vr = theory.get("mast.vr")
    skewed = quadratic_instance(
        "skewed",
        quadratic(2, 2.0, rng(0)),
        Discrete(np.array([[4 / 3, 4 / 3], [0.0, 0.0]]), np.array([0.75, 0.25])),
    )
    assert any("uniform" in r for r in verify(vr, skewed).reasons)


@settings(max_examples=8)
@given(theory.get("mast.sc").strategy())
def test_sc_holds_on_generated_instances(instance):
    verdict = verify(theory.get("mast.sc"), instance)
    assert verdict.status in ("holds", "not applicable"), verdict.summary()


# -- mastbench.exact against the batched algorithms (Monte Carlo, 99.9% Bonferroni intervals) --
def _inside(estimate_, exact_values):
    assert np.all(estimate_.contains(exact_values)), (
        estimate_.lower,
        exact_values,
        estimate_.upper,
    )


def _second_moment_estimate(trace):
    return estimate(np.sum(trace.iterates**2, axis=2), level=0.999, simultaneous=True)


def test_exact_moments_agree_with_batched_dsgd_monte_carlo():
    problem = quadratic(4, 5.0, rng(2))
    sketch = RandK(4, 2)
    v = np.array([0.5, 0.0, -0.5, 1.0])
    x0 = np.array([1.0, 1.0, -1.0, 0.0])
    points = [5, 20, 40]
    moments = exact.moments(
        DSGD(sketch=sketch, gamma=0.05, shift=v), problem, x0, 40, checkpoints=points
    )
    trace = dsgd(
        problem,
        x0,
        sketch=sketch,
        step=0.05,
        iters=40,
        rng=rng(3),
        replicates=20000,
        shift=v,
        checkpoints=points,
        metrics=("dist2",),
    )
    _inside(from_trace(trace, "dist2", level=0.999), moments.dist2)


@pytest.mark.parametrize(
    ("replace", "compressor"),
    [(True, None), (False, None), (True, RandK(2, 1))],
    ids=["with-replacement", "without-replacement", "with-compressor"],
)
def test_exact_minibatch_moments_agree_with_option_two_monte_carlo(replace, compressor):
    problem = least_squares(3, 2, rng(4), l2=0.3)
    sketch = Bernoulli(np.array([0.5, 0.8]))
    x0 = np.array([1.0, -1.0])
    common = {"step": 0.1, "iters": 15, "checkpoints": [3, 15], "compressor": compressor}
    method = DSGD(
        sketch=sketch, gamma=0.1, option="II", batch_size=2, replace=replace, compressor=compressor
    )
    moments = exact.moments(method, problem, x0, 15, checkpoints=[3, 15])
    trace = dsgd(
        problem,
        x0,
        sketch=sketch,
        rng=rng(5),
        replicates=20000,
        option="II",
        batch_size=2,
        replace=replace,
        keep_iterates=True,
        metrics=(),
        **common,
    )
    _inside(_second_moment_estimate(trace), np.einsum("tii->t", moments.second))


def test_exact_moments_agree_with_ist_monte_carlo():
    problems = [quadratic(3, 3.0, g) for g in rng(6).spawn(3)]
    x0 = np.array([1.0, 0.0, -1.0])
    moments = exact.moments(
        DistributedDSGD(sketches=Permutation(3, 3), gamma=0.1),
        problems,
        x0,
        20,
        checkpoints=[5, 20],
    )
    trace = distributed_dsgd(
        problems,
        x0,
        sketches=Permutation(3, 3),
        step=0.1,
        iters=20,
        rng=rng(7),
        replicates=20000,
        checkpoints=[5, 20],
    )
    _inside(from_trace(trace, "dist2", level=0.999), moments.dist2)


@pytest.mark.parametrize("minibatch", ["fixed", "resampled"])
def test_exact_lsvrdsg_moments_agree_with_monte_carlo(minibatch):
    problem = quadratic(3, 3.0, rng(8))
    sketch = Discrete(*RandK(3, 1).support())
    x0 = np.array([1.0, -1.0, 2.0])
    common = {"step": 0.05, "prob": 0.3, "iters": 30, "checkpoints": [10, 30]}
    method = LSVRDSG(sketch=sketch, gamma=0.05, prob=0.3, batch=2, minibatch=minibatch)
    moments = exact.moments(method, problem, x0, 30, checkpoints=[10, 30])
    trace = l_svrdsg(
        problem,
        x0,
        sketch=sketch,
        rng=rng(9),
        replicates=20000,
        batch=2,
        minibatch=minibatch,
        **common,
    )
    _inside(from_trace(trace, "dist2", level=0.999), moments.dist2)


@pytest.mark.parametrize("theorem_id", RATE_IDS)
def test_strategies_generate_checkable_instances(theorem_id):
    thm = theory.get(theorem_id)
    assert thm.strategy is not None

    @settings(max_examples=3, database=None)
    @given(thm.strategy())
    def check(instance):
        verdict = verify(thm, instance)
        allowed = ("holds", "not applicable") + ("falsified",) * (thm.status == "falsified")
        assert verdict.status in allowed, verdict.summary()

    check()


@pytest.mark.slow
def test_sc_logistic_holds_on_a5a(libsvm_dir):
    thm = theory.get("mast.sc-logistic")
    inst = next(i for i in thm.instances(False) if i.name.startswith("a5a"))
    assert inst.problem.n == 6414
    verdict = verify(thm, inst)
    assert verdict.status == "holds", verdict.summary()
    # the check can fail on a5a: with the bound scaled below the measured values (half the
    # nontrivial worst ratio) the same evidence is violated; the hypothesis-violating controls
    # are proven on the quick instance (test_catalogue)
    ratio = verdict.nontrivial_ratio
    assert 0 < ratio <= 1
    scaled = verify(thm, inst, bound_scale=0.5 * ratio, evidence=verdict.evidence)
    assert scaled.status == "violated", scaled.summary()


@pytest.mark.parametrize("theorem_id", ["mast.dist", "mast.dist-dmax"])
def test_dist_step_beyond_range_is_not_applicable_and_not_detected(theorem_id):
    """A step 3/λ_max(Ā) is outside the range (not applicable); measured anyway, the loose bound
    still holds, which is why the step control runs on identical unsketched clients
    (Δ_dist = 0)."""
    thm = theory.get(theorem_id)
    inst = thm.instances(True)[0]
    setting = _distsetting(inst)
    params = {"step": 3.0 / float(np.linalg.eigvalsh(setting.A_bar)[-1]), "horizons": (5, 20, 40)}
    assert verify(thm, inst, params).status == "not applicable"
    assert verify(thm, inst, params, check_assumptions=False).status == "holds"
    assert thm.controls[0].name.startswith("step 3/L_f")
    assert all(control.bound_scale is None for control in thm.controls)


@pytest.mark.parametrize("theorem_id", ["mast.dist", "mast.dist-dmax"])
def test_dist_step_control_is_caught_by_the_step_alone(theorem_id):
    """The control's instance (identical clients, S = I) satisfies the theorem at its own
    step; only the step 3/L_f, beyond 1/√(LAT), breaks it."""
    thm = theory.get(theorem_id)
    control = thm.controls[0]
    assert control.bound_scale is None
    inst = control.instance(thm.instances(True)[0])
    assert _distsetting(inst).delta_dist < 1e-12  # 0 up to rounding
    assert verify(thm, inst).status == "holds"
    assert verify_control(thm, thm.instances(True)[0], control).status == "violated"


def test_sc_logistic_step_control_is_caught_by_the_monte_carlo_run():
    """Three times the maximal step: the lower confidence ends exceed the bound after t = 0,
    i.e. the violation is statistically significant in the random part of the run."""
    thm = theory.get("mast.sc-logistic")
    control = next(c for c in thm.controls if c.name.startswith("step"))
    verdict = verify_control(thm, thm.instances(True)[0], control)
    evidence = verdict.evidence
    assert verdict.status == "violated"
    assert np.any((evidence.lower > evidence.bound) & (evidence.t > 0))
