"""Regressions for what falsification found in the MAST theorems (issue 14, item 5): the D_max
form of T-DIST is false, T-VR's rate over its whole step range, round-off in T-VR's shape."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.theory.mast.common import quadratic_instance, random_quadratic
from mastbench.theory.mast.instances import LSVRDSGInstance
from mastbench.theory.mast.rates_multi import (
    DMAX_COUNTEREXAMPLE,
    _distsetting,
    _uniform_discrete,
    _vr_step,
    dmax_counterexample,
)

from mastbench import theory
from mastbench.jobs import verify_line
from mastbench.sketches import RandK
from mastbench.verify import verify


@pytest.fixture(scope="module")
def counterexample():
    return dmax_counterexample((300, 3000))


def test_dmax_form_is_falsified_by_its_built_in_counterexample(counterexample):
    thm = theory.get("mast.dist-dmax")
    assert thm.status == "falsified" and thm.counterexample == DMAX_COUNTEREXAMPLE
    assert thm.assumptions(counterexample) == []
    verdict = verify(thm, counterexample)
    assert verdict.status == "falsified", verdict.summary()
    ratios = verdict.evidence.measured / verdict.evidence.bound
    assert ratios[0] > 1.4 and ratios[1] > 1.9, ratios
    assert any("known to be false" in r for r in verdict.reasons)


def test_counterexample_is_inside_the_dmax_range_where_the_constants_split(counterexample):
    s = _distsetting(counterexample)
    assert s.L * s.A_const > 10 * s.D_max
    assert s.delta_dist > 0


def test_safe_form_holds_on_the_counterexample(counterexample):
    verdict = verify(theory.get("mast.dist"), counterexample)
    assert verdict.status == "holds", verdict.summary()
    assert 0.05 < verdict.worst_ratio < 0.25


def test_a_falsified_verdict_is_not_a_failure_of_the_run():
    line, failed = verify_line(
        {
            "theorem": "mast.dist-dmax",
            "instance": DMAX_COUNTEREXAMPLE,
            "control": "",
            "status": "falsified",
            "worst_ratio": 1.5,
            "tightness": 1.5,
            "reasons": [],
        }
    )
    assert not failed and line.startswith("[  xf]")


def test_a_control_on_a_falsified_theorem_is_still_violated(counterexample):
    thm = theory.get("mast.dist-dmax")
    verdict = verify(thm, counterexample, check_assumptions=False)
    assert verdict.status == "violated"


@pytest.mark.parametrize("fraction", [1.0, 0.5, 0.1, 0.01])
def test_vr_holds_over_its_whole_step_range(fraction):
    thm = theory.get("mast.vr")
    inst = thm.instances(True)[0]
    verdict = verify(thm, inst, {"step": fraction * _vr_step(inst)})
    assert verdict.status == "holds", verdict.summary()


def test_vr_bound_is_the_lsvrg_rate_of_the_step_used():
    thm = theory.get("mast.vr")
    inst = thm.instances(True)[0]
    step = 0.1 * _vr_step(inst)
    evidence = verify(thm, inst, {"step": step, "iters": 10}).evidence
    mu, p = evidence.extra["mu"], evidence.extra["p"]
    rate = 1 - min(step * mu, p / 2)
    np.testing.assert_allclose(evidence.bound, rate ** np.arange(11) * evidence.measured[0])


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e2, 1e4])
@pytest.mark.parametrize("k", [1, 2])
def test_vr_neighbourhood_tolerance_scales_with_the_problem(scale, k):
    """Rand-1 makes every R exactly 0 (each f_j is minimized at x_D*): round-off only, at
    every scale of the shift; Rand-2 keeps R(1) > 0 above the allowance (far above it up to
    shifts of 100; the engine's round-off grows like the square of the shift's scale)."""
    thm = theory.get("mast.vr-neighbourhood")
    problem = random_quadratic(3, 30.0, 5)
    sketch = _uniform_discrete(RandK(3, k))
    inst = quadratic_instance(
        "scaled", problem, sketch, seed=5, kind=LSVRDSGInstance, minibatch="fixed"
    )
    inst = inst.replace(shift=scale * inst.shift)
    verdict = verify(thm, inst)
    assert verdict.status == "holds", verdict.summary()
    if k == 2:
        share = 1e-3 if scale <= 1e2 else 0.1
        assert verdict.evidence.atol < share * verdict.evidence.extra["R"][1]


def test_vr_far_shift_and_start_near_x_D_star_is_not_flagged_on_round_off():
    """Found by ``mastbench falsify mast.vr``: v = 345.6, x^0 within 10⁻³ of x_D*; Φ ≈ 10⁻¹¹ is
    read out of moments of size ‖x_D* − v‖² ≈ 10⁵, so its round-off is ~10⁻¹¹ too."""
    from mastbench.problems.quadratic import Quadratic

    from mastbench.sketches import Discrete

    problem = Quadratic(np.array([[1.0]]), np.array([-0.1321048632913019]))
    inst = quadratic_instance(
        "far shift, near start",
        problem,
        Discrete(np.array([[[1.0]]]), np.array([1.0])),
        shift=np.array([345.584192064786]),
        x0=np.array([-0.13110486329131754]),
        iters=80,
        kind=LSVRDSGInstance,
    )
    thm = theory.get("mast.vr")
    verdict = verify(thm, inst)
    assert verdict.status == "holds", verdict.summary()
    assert verdict.evidence.atol < 1e-5


@pytest.mark.parametrize("theorem_id", ["mast.nc", "mast.nc-weighted", "mast.sc", "mast.convex"])
def test_exact_readouts_are_not_flagged_on_round_off_with_a_far_shift(theorem_id):
    """Found by ``mastbench falsify mast.nc-weighted``: v = 345.6, x^0 within 10⁻⁵ of x_D*;
    E‖∇f_D‖² ≈ 10⁻¹¹ is read out of terms of size ‖Āy*‖² ≈ 10⁵."""
    from mastbench.problems.quadratic import Quadratic

    from mastbench.sketches import Identity

    inst = quadratic_instance(
        "far shift, near start",
        Quadratic(np.array([[1.0]]), np.array([-0.1321048632913019])),
        Identity(1),
        shift=np.array([345.584192064786]),
        x0=np.array([-0.13209486329131753]),
        iters=100,
        horizons=(5, 30),
        gap="delta",
    )
    verdict = verify(theory.get(theorem_id), inst)
    assert verdict.status == "holds", verdict.summary()


def test_corollary_is_not_flagged_on_round_off_with_a_far_shift():
    """Found by ``mastbench falsify mast.nc-corollary``: v = −452.5, x^0 within 10⁻⁵ of x_D*,
    ε² = 5·10⁻¹¹ against readouts cancelling terms of size 2·10⁵."""
    from mastbench.problems.quadratic import Quadratic

    from mastbench.sketches import Bernoulli

    inst = quadratic_instance(
        "far shift, near start",
        Quadratic(np.array([[1.0]]), np.array([-0.1321048632913019])),
        Bernoulli(np.array([1.0])),
        shift=np.array([-452.48177947248905]),
        x0=np.array([-0.13211486329131755]),
        eps2_fraction=0.5,
    )
    verdict = verify(theory.get("mast.nc-corollary"), inst)
    assert verdict.status == "holds", verdict.summary()


def test_corollary_at_a_stationary_start_is_not_applicable():
    """Found by ``mastbench falsify mast.nc-corollary``: x^0 = x_D* gives ε² = 0 (the
    corollary needs ε > 0); it stopped the search with a ZeroDivisionError."""
    from mastbench.theory.mast.common import setting

    thm = theory.get("mast.nc-corollary")
    inst = thm.instances(True)[0]
    stationary = inst.replace(x0=inst.shift + setting(inst).y_star)
    verdict = verify(thm, stationary)
    assert verdict.status == "not applicable"
    assert "ε²" in verdict.reasons[0]


def test_logistic_monte_carlo_needs_replicates_that_see_the_rarest_sketch_outcome():
    """Found by ``mastbench falsify mast.sc-logistic``: Bernoulli(10⁻³) with R = 1000; no
    replicate kept the second coordinate in 5 steps, the sample variance missed that outcome
    and the interval excluded the bound.  With R·p ≥ 20 the same instance holds."""
    from mastbench.problems.random import logistic
    from mastbench.theory.mast.instances import MonteCarloInstance

    from mastbench.backend import rng
    from mastbench.sketches import Bernoulli

    thm = theory.get("mast.sc-logistic")
    inst = MonteCarloInstance(
        "rare outcomes",
        problem=logistic(10, 2, rng(3), l2=1.0),
        sketch=Bernoulli(np.full(2, 1e-3)),
        shift=np.zeros(2),
        x0=np.array([-0.14, 1.55]),
        iters=30,
        replicates=1000,
        seed=88845818,
    )
    verdict = verify(thm, inst)
    assert verdict.status == "not applicable" and "replicates" in verdict.reasons[0]
    assert verify(thm, inst.replace(replicates=20_000)).status == "holds"
