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


def _least_squares_l1(X, y, lam, **fields):
    from mastbench.problems.composite import Composite
    from mastbench.problems.least_squares import LeastSquares
    from mastbench.problems.regularizers import L1
    from mastbench.theory.ramda.instances import ReferenceInstance

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    problem = Composite(LeastSquares(X, y, l2=0.0), L1(lam))
    return ReferenceInstance("falsify counterexample", problem=problem, regularizer="l1", **fields)


#: The counterexample falsify found to the PG-solved check with its former fixed allowance
#: 1e-9 on the whole path: a singular 4 × 4 least squares, λ = 0, start 0, ε = 0.0087.  PG met
#: condition (7) at every step, and its error (≤ ε_0/ε ≈ 1e-10) grew ×10 per step.
PG_COUNTEREXAMPLE = {
    "X": [
        [-0.875, -1.0, 2.75, -1.25],
        [1.0, 0.625, -0.5, -0.25],
        [-0.75, -0.5, 1.125, 0.25],
        [-0.625, 1.5, 0.25, 1.875],
    ],
    "y": [0.375, -0.25, -1.125, 1.25],
    "schedule": {
        "iters": 5,
        "lr": 0.2900998774692184,
        "lr_decay": 0.0,
        "momentum": 0.36787944117144233,
        "momentum_decay": 0.0,
        "milestones": (),
        "gamma": 0.1,
        "ramp": True,
        "eps": 0.008651695203120634,
    },
}


def test_pg_solved_ramda_is_compared_one_step_at_a_time() -> None:
    from mastbench.theory.ramda import references as ref

    instance = _least_squares_l1(
        PG_COUNTEREXAMPLE["X"],
        PG_COUNTEREXAMPLE["y"],
        0.0,
        x0=np.zeros(4),
        solver="pg",
        schedule=PG_COUNTEREXAMPLE["schedule"],
    )
    thm = _registry.get("ramda.reference-ramda")
    assert thm.assumptions(instance) == []
    verdict = verify(thm, instance)
    assert verdict.status == "holds", verdict.summary()
    # the whole-path comparison: the PG error compounds past ε_0/ε over five steps
    params = verdict.params
    T = int(params["iters"])
    avg = ref._implementation(
        "ramda",
        instance,
        instance.problem,
        T,
        output="avg",
        **ref._dual_averaging_kwargs(params),
        eps=params["eps"],
        solver="pg",
        eps_sub=ref.PG_ACCURACY,
        pg_max_iters=ref.PG_BUDGET,
    )
    data = ref.reference_data(instance)
    _, whole = ref.dual_averaging_path(data, T, params, ref._ramda_hat(data))
    assert np.abs(avg[-1] - whole[-1]).max() > 10 * ref.pg_allowance(instance, params)


def test_pg_allowance_is_the_accuracy_over_the_smallest_floor() -> None:
    from mastbench.theory.ramda.references import PG_ACCURACY, pg_allowance

    thm = _registry.get("ramda.reference-ramda")
    exact, pg = thm.instances(True)
    assert pg_allowance(exact, thm.default_params(exact)) == 0.0
    params = thm.default_params(pg)  # ε = 1e-3, one restart with γ = 1/2
    assert pg_allowance(pg, params) == pytest.approx(PG_ACCURACY / (1e-3 * 0.5))


def test_pg_solved_check_needs_pg_to_fit_its_budget() -> None:
    instance = _least_squares_l1(
        [[8.0, 0.0, 0.0, 1.0]],
        [1.0],
        0.125,
        x0=np.full(4, 64.0),
        solver="pg",
        schedule={"iters": 5, "eps": 1e-3},
    )
    for theorem_id in ("ramda.reference-ramda", "ramda.reference-prox-gen"):
        verdict = verify(_registry.get(theorem_id), instance)
        assert verdict.status == "not applicable", theorem_id
        assert "PG may need" in verdict.reasons[0]
    exact = instance.replace(solver="exact")
    assert verify(_registry.get("ramda.reference-ramda"), exact).status == "holds"
