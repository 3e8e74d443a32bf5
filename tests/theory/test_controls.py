"""Every negative control of every registered theorem trips away from t = 0, for its reason.

A control that trips only at a point that holds with equality by construction (t = 0 of a rate
bound, ``Evidence.trivial``) tests the comparator, not the theorem; a control with an
``expect`` must be detected for that reason (a substring of the verdict's reasons).
"""

from __future__ import annotations

import numpy as np
import pytest

from mastbench import theory
from mastbench.verify import check_evidence, trivial_points
from tests.theory.quick_suite import control_verdict

CONTROLS = [
    pytest.param(thm.id, control.name, id=f"{thm.id}: {control.name}")
    for thm in theory.all()
    for control in thm.controls
]


@pytest.mark.parametrize(("theorem_id", "control_name"), CONTROLS)
def test_control_trips_away_from_trivial_points_for_its_reason(theorem_id, control_name):
    thm = theory.get(theorem_id)
    control = next(c for c in thm.controls if c.name == control_name)
    instances = thm.instances(True)
    if not instances:
        pytest.skip(f"{theorem_id} has no quick instance")
    verdict = control_verdict(thm, control)
    assert verdict.status == "violated", verdict.summary()
    evidence = verdict.evidence
    _, violated, _ = check_evidence(evidence, thm.method)
    nontrivial = violated & ~trivial_points(evidence, thm.method)
    assert np.any(nontrivial), f"only trivial points violated: {verdict.summary()}"
    if control.expect:
        assert any(control.expect in reason for reason in verdict.reasons), verdict.reasons
