"""mast.nc-weighted (theory/_mast_nc_weighted.py): T-NC in Khaled–Richtárik's weighted form.

Besides holding on its instances and catching its controls, the proof is checked step by step
on the exact sequences: the one-step descent inequality with L = L_fL_D, A = L_fL_S^max,
C = 2AΔ, and the telescoped sum before the last (loosest) inequality.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from mastbench.theory.mast.common import dsgd_readouts, setting
from mastbench.theory.mast.nc_weighted import STEP_CONTROL, khaled_richtarik_weights

from mastbench import theory
from mastbench.verify import verify, verify_control

THM = theory.get("mast.nc-weighted")
QUICK = THM.instances(True)


def _range_step(inst, T):
    s = setting(inst)
    return 1.0 / math.sqrt(s.L_f * s.L_D * s.L_f * s.L_S_max * T)


@pytest.mark.parametrize("index", range(len(QUICK)), ids=[i.name for i in QUICK])
def test_holds_on_quick_instances(index):
    verdict = verify(THM, QUICK[index])
    assert verdict.status == "holds", verdict.summary()
    assert verdict.worst_ratio <= 1 + 1e-9


@pytest.mark.parametrize("name", [c.name for c in THM.controls])
def test_negative_controls_are_detected(name):
    control = next(c for c in THM.controls if c.name == name)
    verdict = verify_control(THM, QUICK[0], control)
    assert verdict.status == "violated", verdict.summary()


def test_documented_as_derived_with_its_reference():
    assert THM.tag == "D" and "2311.16086" in THM.paper
    for part in ("Statement.", "Assumptions.", "Check.", "Derivation [D].", "Reference."):
        assert part in THM.doc
    assert "2002.03329" in THM.doc and "Theorem 2" in THM.doc


@pytest.mark.parametrize("multiple", [0.3, 3.0, 10.0, 30.0])
def test_exact_factor_bound_holds_for_every_step(multiple):
    """With B = 0 the statement has no step restriction: far beyond T-NC's range the
    (1 + Lγ²A)^T form still holds (the bound grows faster than the iterates can)."""
    for inst in QUICK:
        step = multiple * _range_step(inst, max(inst.horizons))
        verdict = verify(THM, inst, {"step": step})
        assert verdict.status == "holds", verdict.summary()


def test_step_control_is_caught_by_the_in_range_constant_only():
    """The control's step, with the exact factor, holds: what fails is e used beyond the range,
    where (1 + Lγ²A)^T > e."""
    target = STEP_CONTROL.instance(QUICK[0])
    params = STEP_CONTROL.params(target, THM.default_params(target))
    evidence = verify(THM, target, {**params, "factor": "exact"}).evidence
    assert verify(THM, target, {**params, "factor": "exact"}).status == "holds"
    assert min(evidence.extra["(1+Lγ²A)^T"]) > math.e
    assert verify(THM, target, params).status == "violated"


def test_weights_follow_the_khaled_richtarik_recursion():
    L, A, step, T = 3.0, 7.0, 0.05, 40
    w = khaled_richtarik_weights(L, A, step, T)
    np.testing.assert_allclose(np.sum(w), 1.0)
    np.testing.assert_allclose(w[:-1] / w[1:], 1 + L * step**2 * A, rtol=1e-12)
    huge = khaled_richtarik_weights(L, A, 1e3, 200)  # 1 + Lγ²A ≈ 2e7: the tail underflows
    assert np.all(np.isfinite(huge)) and huge[-1] == 0.0
    np.testing.assert_allclose(huge[0], 1.0, rtol=1e-6)


@pytest.mark.parametrize("multiple", [1.0, 5.0])
@pytest.mark.parametrize("index", range(len(QUICK)), ids=[i.name for i in QUICK])
def test_one_step_descent_and_telescoped_sum_hold_exactly(index, multiple):
    """δ_{t+1} ≤ (1 + Lγ²A)δ_t − γr_t + Lγ²C/2 at every t, and
    Σ_{t<T} w_t r_t ≤ (w_{−1}δ_0 − w_{T−1}δ_T)/γ + (LγC/2)Σ_{t<T} w_t ≤ the theorem's bound."""
    inst = QUICK[index]
    s = setting(inst)
    L, A = s.L_f * s.L_D, s.L_f * s.L_S_max
    C = 2 * A * s.delta
    T = 80
    step = multiple * _range_step(inst, T)
    r = dsgd_readouts(inst, step, T)
    delta, grad2 = r.subopt_D, r.gradnorm2_D
    q = 1 + L * step**2 * A
    rhs = q * delta[:-1] - step * grad2[:-1] + L * step**2 * C / 2
    tol = 1e-10 * max(1.0, float(np.max(np.abs(delta))))
    assert np.all(delta[1:] <= rhs + tol)
    w = q ** -np.arange(1, T + 1, dtype=float)
    telescoped = (delta[0] - w[-1] * delta[T]) / step + L * step * C / 2 * np.sum(w)
    weighted_sum = float(w @ grad2[:T])
    assert weighted_sum <= telescoped * (1 + 1e-10)
    bound = q**T * delta[0] / (step * T) + step * L * A * s.delta
    assert telescoped / np.sum(w) <= bound * (1 + 1e-12)


def test_weighted_form_is_at_least_as_strong_as_the_min_form():
    """On the instances shared with mast.nc (same problem, sketch, shift, start): the weighted
    average is ≥ min_t r_t while its bound is ≤ 6δ_0/(γT) + 2γL_f²L_DL_S^maxΔ."""
    nc = theory.get("mast.nc")
    for nc_inst, inst in zip(nc.instances(True)[:2], QUICK[:2], strict=True):
        assert nc_inst.name == inst.name.split()[0]
        min_form, weighted = verify(nc, nc_inst).evidence, verify(THM, inst).evidence
        np.testing.assert_array_equal(min_form.t, weighted.t)
        assert np.all(weighted.measured >= min_form.measured)
        assert np.all(weighted.bound <= min_form.bound)


@settings(max_examples=4, database=None, deadline=None)
@given(THM.strategy())
def test_holds_on_generated_instances(instance):
    verdict = verify(THM, instance)
    assert verdict.status in ("holds", "not applicable"), verdict.summary()
