"""The contract every registered theorem keeps, driven by the registry.

Each theorem documents itself (statement, assumptions, reference), holds on its built-in quick
instances, and has at least one negative control that the verifier reports as violated:
a check that cannot fail proves nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from mastbench import theory
from mastbench.verify import verify
from tests.theory.quick_suite import control_verdict, quick_verdicts

THEOREMS = theory.all()


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_theorem_is_documented(thm):
    assert thm.statement.strip(), f"{thm.id} has no statement"
    assert thm.paper.strip(), f"{thm.id} cites no paper"
    assert len(thm.doc) > 80, f"{thm.id}'s docstring does not state the theorem"
    assert thm.tag in theory.TAGS


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_theorem_holds_on_its_quick_instances(thm):
    instances = list(thm.instances(True))
    assert instances, f"{thm.id} has no quick instance"
    for instance, verdict in zip(instances, quick_verdicts(thm), strict=True):
        # a falsified theorem's counterexample is violated, as known
        expected = "falsified" if instance.name == thm.counterexample else "holds"
        assert verdict.status == expected, verdict.summary()
    if thm.status == "falsified":
        assert thm.counterexample in [i.name for i in instances], thm.id


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_every_negative_control_is_detected(thm):
    assert thm.controls, f"{thm.id} has no negative control"
    for control in thm.controls:
        verdict = control_verdict(thm, control)
        assert verdict.status == "violated", f"{thm.id}: control {control.name!r} undetected"


def test_ids_are_unique_and_each_built_in_theorem_lives_in_its_family_subpackage():
    from mastbench.theory._registry import PACKAGES

    ids = [t.id for t in theory.all()]
    assert len(ids) == len(set(ids))
    built_in = [t for t in theory.all() if t.measurement.__module__.startswith("mastbench.theory.")]
    assert {t.family for t in built_in} == set(PACKAGES)
    for thm in built_in:
        package = thm.measurement.__module__.split(".")[2]
        assert package == PACKAGES[thm.family], f"{thm.id} is registered from {package}"


MONTE_CARLO = [t for t in THEOREMS if t.method == "montecarlo"]


@pytest.mark.parametrize("thm", MONTE_CARLO, ids=lambda t: t.id)
def test_monte_carlo_intervals_are_simultaneous_student_t(thm):
    """A Monte-Carlo verdict compares lower confidence ends with the bound at every point at
    once, so each interval is a Student-t interval at the Bonferroni level over those points."""
    evidence = quick_verdicts(thm)[0].evidence
    interval = evidence.extra["interval"]
    assert interval["method"] == "t" and interval["simultaneous"]
    assert interval["points"] == evidence.measured.size
    assert interval["point_level"] >= 1 - (1 - interval["level"]) / interval["points"] - 1e-15
    assert np.all(evidence.lower <= evidence.measured)
    assert np.all(evidence.measured <= evidence.upper)


def test_no_control_mixes_an_input_change_with_bound_scaling():
    """A control that changes the input (step, constant, instance) must be caught by that change;
    one that also scales the bound can be caught by the scaling alone (as the former
    "step 3/λ_max(Ā), bound x 0.01" control of mast.dist was), so the two are kept apart."""
    mixed = [
        f"{t.id}: {c.name}"
        for t in THEOREMS
        for c in t.controls
        if c.bound_scale is not None and (c.params is not None or c.instance is not None)
    ]
    assert not mixed, mixed


def _fake_theorem(*controls: theory.NegativeControl) -> theory.Theorem:
    """An unregistered theorem 1/t ≤ 2/t (step-free, holds) with the given controls."""
    t = np.arange(1, 6)
    return theory.Theorem(
        id="fake.undetectable",
        paper="nowhere",
        label="1/t ≤ 2/t",
        tag="U",
        statement="1/t ≤ 2/t",
        algorithm=None,
        measure="1/t",
        method="exact",
        measurement=lambda inst, params: theory.Evidence(t, params["c"] / t, 2.0 / t),
        instances=lambda quick: [theory.FieldBag("any")],
        default_params=lambda inst: {"c": 1.0},
        controls=controls,
    )


def test_the_control_check_fails_on_an_undetectable_control():
    """The contract above can fail: a control that leaves the measurement inside the bound
    (a loosened bound, an input change too small to matter) is reported as undetected, and a
    theorem without controls is reported too; a detectable control passes."""
    detectable = theory.NegativeControl("c x 3", params=lambda inst, p: {**p, "c": 3.0})
    test_every_negative_control_is_detected(_fake_theorem(detectable))
    for control in (
        theory.NegativeControl("bound x 2 (loosened)", bound_scale=2.0),
        theory.NegativeControl("c x 1.5 (still inside)", params=lambda inst, p: {**p, "c": 1.5}),
    ):
        with pytest.raises(AssertionError, match="undetected"):
            test_every_negative_control_is_detected(_fake_theorem(detectable, control))
    with pytest.raises(AssertionError, match="no negative control"):
        test_every_negative_control_is_detected(_fake_theorem())
    assert "fake.undetectable" not in {t.id for t in theory.all()}


def test_the_interval_check_fails_on_pointwise_intervals():
    """The Monte-Carlo contract can fail: intervals at the per-point level (no Bonferroni)."""
    from dataclasses import replace

    from mastbench.montecarlo import estimate

    samples = np.random.default_rng(0).exponential(size=(5, 64))

    def evaluate(inst, params):
        est = estimate(samples, level=0.95, method="t", simultaneous=params["simultaneous"])
        extra = {"interval": est.interval()}
        return theory.Evidence(np.arange(5), est.mean, 2.0, est.lower, est.upper, extra=extra)

    fake = replace(
        _fake_theorem(),
        method="montecarlo",
        measurement=evaluate,
        default_params=lambda inst: {"simultaneous": True},
    )
    test_monte_carlo_intervals_are_simultaneous_student_t(fake)
    pointwise = replace(fake, default_params=lambda inst: {"simultaneous": False})
    with pytest.raises(AssertionError):
        test_monte_carlo_intervals_are_simultaneous_student_t(pointwise)


STRATEGIES = [t for t in THEOREMS if t.strategy is not None]


@pytest.mark.parametrize("thm", STRATEGIES, ids=lambda t: t.id)
def test_strategy_generates_instances_inside_the_assumptions(thm):
    """The generated-instance tests (and ``mastbench falsify``) accept "not applicable", so they
    check something only if the strategy also draws instances the theorem applies to: the
    first such draw ends the search (no shrinking)."""
    from hypothesis import HealthCheck, Phase, find, settings

    find(
        thm.strategy(),
        lambda instance: verify(thm, instance).status != "not applicable",
        settings=settings(
            max_examples=20,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_the_strategy_check_fails_when_every_draw_is_not_applicable():
    from dataclasses import replace

    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    fake = replace(_fake_theorem(), strategy=lambda: st.builds(theory.Instance, st.just("any")))
    test_strategy_generates_instances_inside_the_assumptions(fake)
    outside = replace(fake, assumptions=lambda instance: ["never applicable"])
    with pytest.raises(NoSuchExample):
        test_strategy_generates_instances_inside_the_assumptions(outside)
