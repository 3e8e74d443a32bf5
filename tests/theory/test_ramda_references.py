"""The reference-trajectory theorems of the RAMDA family (theory/ramda/references.py): they
hold, their control trips at t = 1, every algorithm of the family is under one of them, and
faults injected into the methods' shared pieces are reported."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.theory import _registry

from mastbench.algorithms import all_algorithms
from mastbench.algorithms.proximal import adaptive, dual_averaging
from mastbench.verify import verify, verify_control

IDS = (
    "ramda.reference-prox-sgd",
    "ramda.reference-rmda",
    "ramda.reference-ramda",
    "ramda.reference-prox-gen",
    "ramda.reference-prox-ssi",
    "ramda.reference-madgrad",
    "ramda.reference-mda",
)


def _statuses(theorem_id: str) -> list[str]:
    thm = _registry.get(theorem_id)
    return [verify(thm, instance).status for instance in thm.instances(True)]


def test_every_ramda_algorithm_has_a_quick_check() -> None:
    checked = {t.algorithm for t in _registry.all_theorems("ramda") if t.instances(True)}
    missing = {spec.name for spec in all_algorithms("ramda")} - checked
    assert not missing, f"no verify --quick check runs {sorted(missing)}"


@pytest.mark.parametrize("theorem_id", IDS)
def test_holds_and_control_trips_at_the_first_step(theorem_id) -> None:
    thm = _registry.get(theorem_id)
    assert thm.method == "deterministic" and "Reference" in thm.doc
    for instance in thm.instances(True):
        verdict = verify(thm, instance)
        assert verdict.status == "holds", verdict.summary()
        assert verdict.worst_ratio < 0.1
        for control in thm.controls:
            controlled = verify_control(thm, instance, control)
            assert controlled.status == "violated", controlled.summary()
            evidence = controlled.evidence
            violated = evidence.t[evidence.measured > evidence.bound]
            assert violated.min() == 1  # the first step already deviates, as it should


def test_prox_sgd_reference_is_exact_on_the_l1_instance() -> None:
    thm = _registry.get("ramda.reference-prox-sgd")
    evidence = verify(thm, thm.instances(True)[0]).evidence
    assert evidence.extra["exact"]
    assert np.all(evidence.measured <= 4 * np.finfo(float).eps)


def test_missing_bias_correction_is_reported(monkeypatch) -> None:
    def uncorrected(state, G, betas):
        m, v, _, _ = adam_moments(state, G, betas)
        return m, v, m, v

    adam_moments = adaptive.adam_moments
    monkeypatch.setattr(adaptive, "adam_moments", uncorrected)
    for theorem_id in ("ramda.reference-prox-gen", "ramda.reference-prox-ssi"):
        assert set(_statuses(theorem_id)) == {"violated"}, theorem_id


def test_swapped_momentum_weights_are_reported(monkeypatch) -> None:
    monkeypatch.setattr(dual_averaging, "average", lambda W, hat, c: c * W + (1.0 - c) * hat)
    for theorem_id in IDS[1:3] + IDS[5:]:
        assert set(_statuses(theorem_id)) == {"violated"}, theorem_id


def test_restart_that_keeps_the_anchor_is_reported(monkeypatch) -> None:
    restart = dual_averaging.restart
    monkeypatch.setattr(
        dual_averaging,
        "restart",
        lambda state, gamma: restart(state, gamma)._replace(anchor=state.anchor),
    )
    for theorem_id in ("ramda.reference-rmda", "ramda.reference-ramda"):
        assert set(_statuses(theorem_id)) == {"violated"}, theorem_id
