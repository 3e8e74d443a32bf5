"""MAST lemmas (sketch constants, smoothness, T-GAP, key lemma): hold, controls detected."""

import mastbench.problems.random as random_problems
import numpy as np
import pytest
from mastbench.theory.mast.instances import ObjectiveInstance
from mastbench.theory.mast.lemmas import ScaledSketch, reference_constants

from mastbench import theory
from mastbench.backend import rng
from mastbench.falsify import falsify
from mastbench.sketches import Bernoulli, Gaussian, RandK
from mastbench.verify import verify
from tests.theory.quick_suite import control_verdict, quick_verdicts

IDS = ["mast.sketch-constants", "mast.smoothness", "mast.gap", "mast.key-lemma"]
CASES = [(tid, c) for tid in IDS for c in theory.get(tid).controls]


def _instance(sketch, *, logistic=False, seed=0):
    d = sketch.d
    problem = (
        random_problems.logistic(30, d, rng(seed), l2=0.1)
        if logistic
        else random_problems.quadratic(d, 10.0, rng(seed))
    )
    gen = np.random.default_rng(seed)
    return ObjectiveInstance(
        "test", problem=problem, sketch=sketch, shift=gen.normal(size=d),
        points=gen.normal(size=(3, d)),
    )  # fmt: skip


@pytest.mark.parametrize("tid", IDS)
def test_registered_with_documentation(tid):
    thm = theory.get(tid)
    assert thm.family == "mast" and thm.method in ("exact", "pointwise")
    assert "2311.16086" in thm.paper and "2311.16086" in thm.doc
    assert "Assumptions" in thm.doc and thm.strategy is not None


@pytest.mark.parametrize("tid", IDS)
def test_holds_on_quick_instances(tid):
    thm = theory.get(tid)
    for verdict in quick_verdicts(thm):
        assert verdict.status == "holds", verdict.summary()
        evidence = verdict.evidence
        assert len(evidence.extra["rows"]) == evidence.measured.size


@pytest.mark.parametrize(("tid", "control"), CASES, ids=[f"{t}:{c.name}" for t, c in CASES])
def test_negative_controls_are_detected(tid, control):
    thm = theory.get(tid)
    verdict = control_verdict(thm, control)
    assert verdict.status == "violated", verdict.summary()
    assert verdict.worst_ratio > 1


@pytest.mark.parametrize("tid", IDS)
def test_falsify_finds_nothing(tid):
    assert not falsify(tid, max_examples=6, seed=1).found


def test_gap_rows_are_tight_where_they_should_be():
    """f_D(v) = f(v): row (b) is an equality at x = v; v = x* gives Δ = 0 exactly."""
    thm = theory.get("mast.gap")
    instance = thm.instances(True)[0]
    evidence = verify(thm, instance).evidence
    rows = evidence.extra["rows"]
    at_v = [k for k, name in enumerate(rows) if name.startswith("(b)")][-3]
    assert evidence.measured[at_v] == pytest.approx(evidence.bound[at_v], rel=1e-12)
    interpolating = next(i for i in thm.instances(True) if i.interpolation)
    assert abs(verify(thm, interpolating).evidence.extra["delta"]) <= 1e-12


def test_key_lemma_uses_the_sketchwise_gap():
    thm = theory.get("mast.key-lemma")
    extra = verify(thm, thm.instances(True)[0]).evidence.extra
    assert 0 <= extra["delta_prime"] < extra["delta"]


def test_logistic_instances_are_checked_by_enumeration():
    instance = _instance(RandK(3, 1), logistic=True)
    for tid in IDS[1:]:
        verdict = verify(theory.get(tid), instance)
        assert verdict.status == "holds", verdict.summary()


def test_not_applicable_outside_the_assumptions():
    gaussian = _instance(Gaussian(3, 2))
    for tid in ("mast.sketch-constants", "mast.smoothness", "mast.key-lemma"):
        verdict = verify(theory.get(tid), gaussian)
        assert verdict.status == "not applicable" and "enumerable" in verdict.reasons[0]
    biased = _instance(ScaledSketch(Bernoulli(np.array([0.5, 0.8, 1.0])), 0.5))
    verdict = verify(theory.get("mast.gap"), biased)
    assert verdict.status == "not applicable" and "E S = I" in verdict.reasons[0]


def test_scaled_sketch_moments():
    base = Bernoulli(np.array([0.5, 0.25]))
    scaled = ScaledSketch(base, 0.5)
    np.testing.assert_allclose(scaled.mean(), 0.5 * np.eye(2))
    np.testing.assert_allclose(scaled.expected_gram(), 0.25 * base.expected_gram())
    sample = scaled.sample(rng(0), 4)
    assert sample.shape == (4, 2) and set(np.unique(sample)) <= {0.0, 1.0, 2.0}


def test_reference_table():
    table = reference_constants(RandK(6, 2))
    assert table["L_D"] == 3 and table["L_S_max"] == 9
    np.testing.assert_allclose(reference_constants(Bernoulli(np.array([0.5, 0.25])))["gram"],
                               np.diag([2.0, 4.0]))  # fmt: skip
    assert reference_constants(Gaussian(2, 3)) is None


@pytest.mark.slow
@pytest.mark.parametrize("tid", IDS)
def test_holds_on_full_instances(tid):
    thm = theory.get(tid)
    for instance in thm.instances(False):
        verdict = verify(thm, instance)
        assert verdict.status == "holds", verdict.summary()
