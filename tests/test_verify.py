"""The verifier on a toy theorem: gradient descent on a quadratic contracts at (1 − γμ)^t."""

import numpy as np
import pytest
from mastbench.theory import Evidence, FieldBag, NegativeControl, NotApplicable, Theorem

from mastbench.verify import Verdict, check_evidence, verify, verify_control


def _evaluate(instance, params):
    A, step, iters = instance.A, params["step"], params["iters"]
    x = np.ones(A.shape[0])
    dist2 = []
    for _ in range(iters + 1):
        dist2.append(x @ x)
        x = x - step * (A @ x)
    t = np.arange(iters + 1)
    mu = np.linalg.eigvalsh(A)[0]
    bound = (1 - step * mu) ** (2 * t) * dist2[0]
    return Evidence(t, np.array(dist2), bound, atol=1e-15)


GD = Theorem(
    id="toy.gd",
    paper="textbook",
    label="GD contraction",
    tag="D",
    statement="‖x_t − x*‖² ≤ (1 − γμ)^{2t}‖x_0 − x*‖² for γ ≤ 1/L",
    algorithm=None,
    measure="||x_t - x*||^2",
    method="deterministic",
    measurement=_evaluate,
    instances=lambda quick: [FieldBag("diag", A=np.diag([1.0, 4.0]))],
    assumptions=lambda inst: [] if np.all(np.linalg.eigvalsh(inst.A) > 0) else ["A ≻ 0"],
    default_params=lambda inst: {"step": 0.25, "iters": 20},
    step_size=lambda inst: 1 / np.linalg.eigvalsh(inst.A)[-1],
    controls=(
        NegativeControl("step x 2.2", params=lambda inst, p: {**p, "step": 0.55}),
        NegativeControl("bound x 0.5", bound_scale=0.5),
    ),
)


def test_holds_with_ratio_at_most_one():
    verdict = verify(GD, GD.instances(True)[0])
    assert isinstance(verdict, Verdict)
    assert verdict.holds and verdict.worst_ratio <= 1 + 1e-12
    assert "holds" in verdict.summary()


def test_step_beyond_range_is_not_applicable():
    verdict = verify(GD, GD.instances(True)[0], {"step": 0.3})
    assert verdict.status == "not applicable"
    assert "outside the theorem's range" in verdict.reasons[0]


def test_violated_assumption_is_not_applicable():
    verdict = verify(GD, FieldBag("singular", A=np.diag([0.0, 1.0])))
    assert verdict.status == "not applicable" and verdict.reasons == ["A ≻ 0"]


def _unconverged(instance, params):
    raise NotApplicable("round 2 has not converged", "round 3 has not converged")


def test_a_measurement_can_find_the_instance_not_applicable():
    """An assumption only the run can check (NotApplicable) gives ``not applicable`` with the
    measurement's reasons, in a plain check and in a control: never ``holds``."""
    thm = Theorem(**{**GD.__dict__, "id": "toy.gd-unconverged", "measurement": _unconverged})
    instance = thm.instances(True)[0]
    verdict = verify(thm, instance)
    assert verdict.status == "not applicable" and verdict.evidence is None
    assert verdict.reasons == ["round 2 has not converged", "round 3 has not converged"]
    assert verify_control(thm, instance, thm.controls[0]).status == "not applicable"
    with pytest.raises(ValueError, match="at least one reason"):
        NotApplicable()


@pytest.mark.parametrize("control", GD.controls, ids=lambda c: c.name)
def test_negative_controls_are_detected(control):
    verdict = verify_control(GD, GD.instances(True)[0], control)
    assert verdict.status == "violated"
    assert verdict.worst_ratio > 1
    assert "measured" in verdict.reasons[0]


def test_montecarlo_violation_needs_significance():
    evidence = Evidence(np.arange(3), [1.2, 1.2, 1.2], [1.0, 1.0, 1.0], lower=[0.9, 0.95, 1.1])
    holds, violated, ratio = check_evidence(evidence, "montecarlo")
    assert not holds and violated.tolist() == [False, False, True]
    np.testing.assert_allclose(ratio, 1.2)
    with pytest.raises(ValueError, match="lower confidence bound"):
        check_evidence(Evidence([0], [1.0], [1.0]), "montecarlo")


def test_zero_bound_ratio_is_zero_or_infinite():
    ok = Evidence([0, 1], [0.0, 1e-18], [0.0, 0.0], atol=1e-15)
    assert check_evidence(ok, "exact")[0]
    bad = Evidence([0], [1e-3], [0.0], atol=1e-15)
    holds, _, ratio = check_evidence(bad, "exact")
    assert not holds and np.isinf(ratio[0])


def test_theorem_rejects_bad_fields():
    with pytest.raises(ValueError, match="method must be one of"):
        Theorem(**{**GD.__dict__, "method": "vibes"})
    with pytest.raises(ValueError, match=r"family\.name"):
        Theorem(**{**GD.__dict__, "id": "nodot"})


def _counting_gd(calls: list) -> Theorem:
    def evaluate(instance, params):
        calls.append((instance.name, params["step"]))
        return _evaluate(instance, params)

    return Theorem(**{**GD.__dict__, "id": f"toy.gd-counted-{id(calls)}", "measurement": evaluate})


def test_bound_scaled_control_reuses_the_plain_run_and_other_inputs_do_not():
    calls: list = []
    theorem = _counting_gd(calls)
    instance = theorem.instances(True)[0]
    plain = verify(theorem, instance)
    scaled = verify_control(theorem, instance, theorem.controls[1], plain)
    assert calls == [("diag", 0.25)]  # the bound-scaled control did not run GD again
    np.testing.assert_array_equal(scaled.evidence.bound, 0.5 * plain.evidence.bound)
    assert not scaled.holds
    verify_control(theorem, instance, theorem.controls[0], plain)  # other parameters: a new run
    verify(theorem, FieldBag("diag", A=np.diag([1.0, 4.0])))  # another instance: a new run
    assert calls == [("diag", 0.25), ("diag", 0.55), ("diag", 0.25)]


def test_params_the_theorem_does_not_take_are_refused():
    theorem = GD
    instance = theorem.instances(True)[0]
    with pytest.raises(ValueError, match="takes no parameter 'stepp'"):
        verify(theorem, instance, {"stepp": 0.1})
    with pytest.raises(TypeError, match="'iters' must be an integer"):
        verify(theorem, instance, {"iters": 10.5})
    assert verify(theorem, instance, {"iters": np.int64(5)}).params["iters"] == 5


def test_nontrivial_worst_ratio_excludes_points_equal_by_construction():
    from mastbench.theory import Evidence

    from mastbench.verify import nontrivial_worst

    evidence = Evidence([0, 1, 2], [4.0, 1.0, 3.0], [4.0, 2.0, 4.0])
    ratio = evidence.measured / evidence.bound
    assert nontrivial_worst(evidence, ratio, "exact") == (0.75, 2)
    assert nontrivial_worst(evidence, ratio, "pointwise") == (1.0, 0)
    marked = Evidence([0, 1, 2], [4.0, 1.0, 3.0], [4.0, 2.0, 4.0], trivial=[False, False, True])
    assert nontrivial_worst(marked, ratio, "exact") == (1.0, 0)
