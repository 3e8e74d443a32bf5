"""The contract every registered theorem keeps, driven by the registry.

Each theorem documents itself (statement, assumptions, reference), holds on its built-in quick
instances, and has at least one negative control that the verifier reports as violated:
a check that cannot fail proves nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import theory
from mastbench.verify import verify, verify_control

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
    for instance in instances:
        verdict = verify(thm, instance)
        assert verdict.status == "holds", verdict.summary()


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_every_negative_control_is_detected(thm):
    assert thm.controls, f"{thm.id} has no negative control"
    instance = thm.instances(True)[0]
    for control in thm.controls:
        verdict = verify_control(thm, instance, control)
        assert verdict.status == "violated", f"{thm.id}: control {control.name!r} undetected"


def test_ids_are_unique_and_families_known():
    ids = [t.id for t in THEOREMS]
    assert len(ids) == len(set(ids))
    assert set(theory.families()) <= {"mast", "ramda", "fw", "seqattn"}


MONTE_CARLO = [t for t in THEOREMS if t.method == "montecarlo"]


@pytest.mark.parametrize("thm", MONTE_CARLO, ids=lambda t: t.id)
def test_monte_carlo_intervals_are_simultaneous_student_t(thm):
    """A Monte-Carlo verdict compares lower confidence ends with the bound at every point at
    once, so each interval is a Student-t interval at the Bonferroni level over those points."""
    evidence = verify(thm, thm.instances(True)[0]).evidence
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
