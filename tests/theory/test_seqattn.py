"""The seqattn theorems hold on their quick instances, their negative controls are detected, and
the documented limitation of Theorem 1.1 (q = x², softmax q) shows up as denser, lower points."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastbench.problems.group_penalties import ADMISSIBLE_Q
from mastbench.theory.seqattn.common import SparseInstance, least_squares
from mastbench.theory.seqattn.regularizers import tied_threshold_instance

from mastbench import theory
from mastbench.algorithms.driver import run
from mastbench.algorithms.pruning import SequentialAttentionPP
from mastbench.verify import verify, verify_control
from tests.theory.quick_suite import control_verdict

IDS = {
    "seqattn.mask-equivalence",
    "seqattn.normalized-softmax",
    "seqattn.threshold",
    "seqattn.unique-sparse-minimum",
    "seqattn.omp-equivalence",
    "seqattn.group-omp-rate",
    "seqattn.ompr",
    "seqattn.iht",
    "seqattn.iht-reference",
    "seqattn.omp-reference",
    "seqattn.ompr-reference",
    "seqattn.sa-pp-reference",
    "seqattn.acdc-reference",
    "seqattn.magnitude-pruning-reference",
    "seqattn.powerprop-reference",
    "seqattn.sa-reference",
}
THEOREMS = theory.all(family="seqattn")
DATA = Path(__file__).parent / "data"


def test_the_family_registers_exactly_the_issue_ids():
    assert {t.id for t in THEOREMS} == IDS


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_docstring_states_reference_and_has_controls(thm):
    assert "Reference" in thm.doc and "arXiv" in thm.doc and "Assumptions" in thm.doc
    assert thm.controls and thm.strategy is not None


@pytest.mark.parametrize("thm", THEOREMS, ids=lambda t: t.id)
def test_holds_on_quick_instances(thm):
    for instance in thm.instances(True):
        verdict = verify(thm, instance)
        assert verdict.status == "holds", verdict.summary()


@pytest.mark.parametrize(
    "thm, control",
    [(t, c) for t in THEOREMS for c in t.controls],
    ids=lambda v: getattr(v, "id", None) or getattr(v, "name", ""),
)
def test_negative_controls_are_detected(thm, control):
    verdict = control_verdict(thm, control)
    assert verdict.status == "violated", verdict.summary()


@pytest.mark.parametrize("q", ["square", "softmax"])
def test_theorem_1_1_limitation_dense_lower_points(q):
    """q = x² and the Lemma-2.1 softmax q: a dense point below F_q(β*_GL) exists (§1.2)."""
    thm = theory.get("seqattn.unique-sparse-minimum")
    instance = thm.instances(True)[0].replace(q=q)
    assert verify(thm, instance).status == "not applicable"
    evidence = thm.evidence(instance, {})
    extra = evidence.extra
    assert extra["best_value"] < extra["f_star"]
    star_active = np.count_nonzero(np.array(extra["star_group_norms"]) > 1e-10)
    best_active = np.count_nonzero(np.array(extra["best_group_norms"]) > 1e-6)
    assert star_active == 1 and best_active >= 2


def test_theorem_1_1_minimum_is_the_one_sparse_group_lasso_point():
    thm = theory.get("seqattn.unique-sparse-minimum")
    for instance in thm.instances(True):
        assert instance.q in ADMISSIBLE_Q
        extra = thm.evidence(instance, {}).extra
        assert extra["best_value"] >= extra["f_star"] - 1e-10 * (1 + abs(extra["f_star"]))


def test_omp_equivalence_orders_are_identical_and_marginal_order_differs():
    thm = theory.get("seqattn.omp-equivalence")
    instance = thm.instances(True)[0]
    extra = thm.evidence(instance, thm.default_params(instance)).extra
    assert extra["omp"] == extra["sequential_lasso"]
    assert all(row == extra["omp"] for row in extra["attention"])
    # every round of both replicates certified, so every selection was compared
    assert len(extra["rounds"]) == 2 * instance.k and not extra["not_certified"]
    assert all(r["gap"] <= r["radius"] and r["window"] == "inside" for r in extra["rounds"])
    control = thm.evidence(instance, {**thm.default_params(instance), "penalize_selected": True})
    assert control.extra["sequential_lasso"] != extra["omp"]


def test_omp_equivalence_former_counterexample_is_not_applicable_at_the_round_it_names():
    """``falsify --max-examples 500`` reported this instance violated under the former rule
    steps ≥ 4·L/(τ − λ_low): after 3000 steps per round, replicate 0 picks the runner-up in
    round 2.  That round is short of its optimum, so the check names it, with its gap."""
    from mastbench.algorithms.pruning import group_omp, sequential_attention
    from mastbench.backend import rng
    from mastbench.instance_io import load_instance

    _, instance, _ = load_instance(DATA / "omp_equivalence_runner_up.json")
    thm = theory.get("seqattn.omp-equivalence")
    order = sequential_attention(
        instance.problem, k=instance.k, steps=instance.steps, rng=rng(0), replicates=2
    ).params["order"]
    assert list(group_omp(instance.problem, k=2).params["order"]) == [0, 1]
    assert order[0].tolist() == [0, 2]
    verdict = verify(thm, instance)
    assert verdict.status == "not applicable", verdict.summary()
    assert verdict.reasons[0].startswith("replicate 0, round 2 has not reached the 1-sparse")
    assert "F − G* ≤" in verdict.reasons[0]


def test_omp_equivalence_window_below_the_bisection_tolerance_is_resolved():
    """``falsify --seed 1`` found a third selection whose 1-sparse window is 5e-4·τ wide,
    below the bisection's rtol = 1e-3: the window came back empty, Sequential LASSO took
    λ = τ and picked an arbitrary group.  The window is now resolved; Sequential LASSO picks
    OMP's group and the round of Sequential Attention is named as not certified."""
    from mastbench.theory.seqattn.greedy import sequential_lasso

    from mastbench.algorithms.pruning import group_omp
    from mastbench.instance_io import load_instance

    _, instance, _ = load_instance(DATA / "omp_equivalence_narrow_window.json")
    lasso = sequential_lasso(instance.problem, instance.k)
    assert lasso.order == list(group_omp(instance.problem, k=instance.k).params["order"])
    assert lasso.active == [1, 1, 1] and not lasso.stopped
    verdict = verify(theory.get("seqattn.omp-equivalence"), instance)
    assert verdict.status == "not applicable", verdict.summary()
    assert verdict.reasons[0].startswith("replicate 0, round 3 has not reached")


def test_omp_equivalence_too_few_steps_is_not_applicable_not_silent():
    thm = theory.get("seqattn.omp-equivalence")
    instance = thm.instances(True)[0]
    verdict = verify(thm, instance, {"steps": 100})
    assert verdict.status == "not applicable"
    assert "has not reached the 1-sparse optimum" in verdict.reasons[0]


def test_omp_equivalence_a_diverged_round_is_named_not_certified():
    from mastbench.theory.seqattn.greedy import _attention_rounds

    from mastbench.algorithms.pruning import group_omp, sequential_attention
    from mastbench.backend import rng

    instance = theory.get("seqattn.omp-equivalence").instances(True)[0]
    problem = instance.problem
    trace = sequential_attention(
        problem, k=instance.k, steps=instance.steps, rng=rng(0), replicates=1
    )
    trace.params["theta_at_pick"][0, 2, 0] = np.inf
    omp = list(group_omp(problem, k=instance.k).params["order"])
    points, _, reasons, _ = _attention_rounds(problem, omp, trace)
    assert reasons == ["replicate 0, round 3: the run diverged (θ or w not finite)"]
    assert [t for t, _, _ in points] == [1, 1, 2, 2]


def _argmin_pick(self, problem, state):
    """The planted bug: select argmin_{i∉S} |w_i| instead of the argmax."""
    score = np.where(np.asarray(state.selected) > 0, np.inf, np.abs(np.asarray(state.w)))
    pick = np.argmin(score, axis=-1)[:, None]
    end = (np.array(state.theta, copy=True), np.array(state.w, copy=True))
    return state._replace(
        order=np.concatenate([state.order, pick], axis=1), ends=(*state.ends, end)
    )


def test_omp_equivalence_catches_a_wrong_selection_rule(monkeypatch):
    """A certified round whose pick is not OMP's is a violation (the rounds are certified from
    the state, independently of the selection)."""
    from mastbench.algorithms.pruning import SequentialAttention

    thm = theory.get("seqattn.omp-equivalence")
    monkeypatch.setattr(SequentialAttention, "_pick", _argmin_pick)
    verdict = verify(thm, thm.instances(True)[0])
    assert verdict.status == "violated"
    assert "certified Sequential Attention pick = OMP pick" in verdict.reasons[0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(1e-6, 1.0))
def test_round_certificate_radius_is_sound(seed, scale):
    """Every state whose gap F − G* is within the certified radius selects the certified
    group: states drawn around the optimum (|w_i| = ‖θ_i‖ = √‖β*_i‖) at every scale."""
    from mastbench.problems.group_penalties import group_lasso, one_sparse_window, threshold
    from mastbench.theory.seqattn.round_certificate import round_optimum

    problem = theory.get("seqattn.omp-equivalence").instances(True)[0].problem
    groups, first = problem.groups, threshold(problem).argmax
    S = (first,)
    low, tau = one_sparse_window(problem, S)
    lam = 0.5 * (low + tau)
    optimum = round_optimum(problem, S, lam)
    assert optimum.window == "inside" and optimum.radius > 0
    beta = group_lasso(problem, lam, unpenalized=S).x
    w = np.sqrt(groups.norms_host(beta))
    w[first] = 1.0
    theta = beta / np.where(w > 0, w, 1.0)[groups.assignment]
    unselected = np.arange(groups.t) != first
    assert optimum.certifies(optimum.gap(problem, theta, w))
    gen = np.random.default_rng(seed)
    certified = 0
    for _ in range(40):
        w_try = np.where(unselected, w + scale * gen.standard_normal(w.shape), 1.0)
        theta_try = theta + scale * gen.standard_normal(theta.shape)
        if optimum.certifies(optimum.gap(problem, theta_try, w_try)):
            certified += 1
            assert int(np.argmax(np.where(unselected, np.abs(w_try), -1.0))) == optimum.group
    assert certified > 0 or scale > 1e-3


def test_ompr_uses_the_minimal_k_prime_condition():
    thm = theory.get("seqattn.ompr")
    instance = thm.instances(True)[0]
    extra = thm.evidence(instance, {"rate_scale": 1.0}).extra
    k, kp = instance.k, extra["k_prime"]
    assert kp >= k * (extra["L2"] ** 2 / extra["mu"] ** 2 + 1)
    assert all(len(s) == kp for s in extra["supports"])


def test_iht_step_beyond_range_is_not_applicable():
    thm = theory.get("seqattn.iht")
    instance = thm.instances(True)[0]
    step = thm.step_size(instance)
    assert verify(thm, instance, {"step": 1.5 * step}).status == "not applicable"


def test_threshold_flags_ties_as_not_applicable_and_its_control_fails_on_the_support():
    thm = theory.get("seqattn.threshold")
    tied = tied_threshold_instance()
    verdict = verify(thm, tied)
    assert verdict.status == "not applicable" and "unique" in verdict.reasons[0]
    control = verify_control(thm, thm.instances(True)[0], thm.controls[0])
    assert control.status == "violated"
    assert "one active group" in control.reasons[0] and control.t_worst == 2


def test_threshold_is_checked_where_it_is_tight():
    """Just above τ the dual feasibility max_{i∉S} ‖∇_i𝓛‖ ≤ λ is nearly an equality."""
    thm = theory.get("seqattn.threshold")
    for instance in thm.instances(True):
        verdict = verify(thm, instance)
        assert verdict.status == "holds"
        assert verdict.nontrivial_ratio == pytest.approx(1 / 1.001, rel=1e-9)


def test_sa_reference_catches_a_halved_update_that_keeps_the_selection_order():
    """The fault ``sequential_attention: update 0.5x`` of the power catalogue changes the
    trained weights but not the order: omp-equivalence still holds, sa-reference fails."""
    from mastbench.algorithms.pruning import SequentialAttention
    from mastbench.power.inject import patched, update_scaled

    reference, order = theory.get("seqattn.sa-reference"), theory.get("seqattn.omp-equivalence")
    with patched(SequentialAttention, update_scaled(0.5)):
        caught = verify(reference, reference.instances(True)[0])
        missed = verify(order, order.instances(True)[0])
    assert caught.status == "violated" and caught.t_worst >= 1
    assert missed.status == "holds"


@pytest.mark.parametrize(
    "theorem_id",
    [
        "seqattn.mask-equivalence",
        "seqattn.threshold",
        "seqattn.iht",
        "seqattn.group-omp-rate",
        "seqattn.iht-reference",
        "seqattn.omp-reference",
        "seqattn.ompr-reference",
        "seqattn.sa-pp-reference",
        "seqattn.acdc-reference",
        "seqattn.magnitude-pruning-reference",
        "seqattn.powerprop-reference",
        "seqattn.sa-reference",
    ],
)
def test_generated_instances_hold(theorem_id):
    thm = theory.get(theorem_id)

    @settings(max_examples=5, deadline=None)
    @given(thm.strategy())
    def check(instance):
        assert verify(thm, instance).status in ("holds", "not applicable")

    check()


@pytest.mark.parametrize(
    "theorem_id",
    ["seqattn.mask-equivalence", "seqattn.normalized-softmax", "seqattn.unique-sparse-minimum"],
)
def test_rewritten_inequalities_compare_nonnegative_sides(theorem_id):
    """Both sides of every compared inequality are nonnegative, so measured/bound is a tightness
    in [0, 1] (a difference against a round-off tolerance gave ratios like −9e10)."""
    thm = theory.get(theorem_id)
    for instance in thm.instances(True):
        verdict = verify(thm, instance)
        evidence = verdict.evidence
        assert np.all(evidence.measured >= 0) and np.all(evidence.bound > 0), instance.name
        assert 0.0 <= verdict.tightness <= 1.0 + 1e-9, verdict.summary()


def test_group_omp_rate_compares_the_excess_gap():
    """Past k′ = k group OMP beats β*_k (signed gap < 0); the compared excess is its positive part,
    so the tightness lies in [0, 1] while the signed gaps stay in ``extra``."""
    thm = theory.get("seqattn.group-omp-rate")
    instance = thm.instances(True)[0]
    verdict = verify(thm, instance)
    gap = np.array(verdict.evidence.extra["gap"])
    assert gap[-1] < 0
    np.testing.assert_array_equal(verdict.evidence.measured, np.maximum(gap[1:], 0.0))
    assert verdict.status == "holds" and 0.0 <= verdict.tightness <= 1.0


def test_group_omp_rate_needs_its_1_over_k():
    """On the k = 3 instance the bound holds with rate μ/(kL₁) and fails without the 1/k."""
    thm = theory.get("seqattn.group-omp-rate")
    control = next(c for c in thm.controls if c.name.startswith("1/k dropped"))
    instance = control.instance(thm.instances(True)[0])
    assert instance.k == 3
    assert verify(thm, instance).status == "holds"
    assert verify_control(thm, thm.instances(True)[0], control).status == "violated"


def test_ompr_with_k_prime_equal_to_k_is_not_applicable_and_fails_when_measured():
    thm = theory.get("seqattn.ompr")
    instance = thm.instances(True)[0]
    bad = instance.replace(k_prime=instance.k)
    verdict = verify(thm, bad)
    assert verdict.status == "not applicable" and "k′" in verdict.reasons[0]
    measured = verify(thm, bad, check_assumptions=False)
    assert measured.status == "violated"
    minimal = thm.evidence(instance, thm.default_params(instance)).extra["k_prime"]
    assert verify(thm, instance.replace(k_prime=minimal)).status == "holds"


def test_iht_compares_every_step_and_counts_groups():
    """On the 60-step instance (log-spaced checkpoints would skip steps) every β_{t+1} is
    compared with its own predecessor, and every iterate has at most k groups."""
    thm = theory.get("seqattn.iht")
    instance = thm.instances(False)[-1]
    verdict = verify(thm, instance)
    assert verdict.status == "holds"
    t = verdict.evidence.t
    np.testing.assert_array_equal(t[instance.iters :], np.arange(1, instance.iters + 1))
    assert len(verdict.evidence.extra["groups"]) == instance.iters + 1
    assert max(verdict.evidence.extra["groups"]) <= instance.k


REFERENCE_IDS = sorted(i for i in IDS if i.endswith("-reference"))


@pytest.mark.parametrize("theorem_id", REFERENCE_IDS)
def test_reference_controls_trip_after_the_start(theorem_id):
    thm = theory.get(theorem_id)
    for control in thm.controls:
        verdict = verify_control(thm, thm.instances(True)[0], control)
        evidence = verdict.evidence
        over = evidence.measured > evidence.bound * (1 + 1e-9) + evidence.atol
        assert verdict.status == "violated" and np.any(over)
        assert np.all(evidence.t[over] >= 1), control.name


def test_sa_pp_reference_follows_the_schedule_through_both_sparsifications():
    thm = theory.get("seqattn.sa-pp-reference")
    instance = thm.instances(True)[0]
    extra = verify(thm, instance).evidence.extra
    assert (instance.problem.groups.t, instance.k) == (6, 2)
    # k(j) = round((1 − (2/3)(1 − e^{−j})/(1 − e^{−4}))·6) = round(3.42), round(2.48),
    # round(2.13), 2 after sparsification steps j = 1..4 (steps 5–8 and 16–19 of the plan)
    sparsify = [3, 2, 2, 2]
    assert extra["kept"][5:9] == sparsify and extra["kept"][16:20] == sparsify
    assert extra["kept"][:5] == [6] * 5 and extra["kept"][12:16] == [6] * 4


def test_sa_pp_reference_holds_where_its_former_step_let_the_attention_underflow():
    """Regression (a generated instance, t = N = 4, k = 2): at the former step 0.5/λ (λ =
    ``problem.L``), W and the logits diverged until A = N·softmax(logits) underflowed to exactly
    0 on kept blocks, so Ŵ had fewer nonzero blocks than its mask (and the schedule) from
    t = 13 on; the theorem's step 0.5/(N²λ) keeps A > 0 and the check holds."""
    thm = theory.get("seqattn.sa-pp-reference")
    problem = least_squares(132, 47, 4, 2, 1, 2, 0.51)
    instance = SparseInstance("planted-t4-k2-s132", problem=problem, k=2, seed=35)
    verdict = verify(thm, instance)
    assert verdict.status == "holds", verdict.summary()
    assert verdict.evidence.extra["kept"][-1] == 2

    method = SequentialAttentionPP(
        k=2,
        step_size=0.5 / problem.L,
        dense_steps=4,
        sparsify_steps=4,
        sparse_steps=3,
        cycles=1,
        final_steps=3,
        random_init=False,
    )
    x0 = 0.3 * np.random.default_rng(instance.seed).standard_normal((2, problem.d))
    trace = run(method, problem, problem.asarray(x0), iters=method.total, replicates=2)
    nonzero = np.count_nonzero(problem.groups.norms_host(np.asarray(trace.x)) > 0, axis=1)
    assert np.all(trace.params["final_mask"].sum(axis=1) == 2)
    assert np.any(nonzero < 2)


def test_every_algorithm_of_the_family_runs_under_the_quick_suite(monkeypatch):
    """Each seqattn algorithm's Method takes steps while the quick suite is verified (its
    label on a theorem is not enough: the step function itself is counted)."""
    from mastbench.algorithms import all_algorithms

    specs = all_algorithms("seqattn")
    stepped = set()
    for spec in specs:
        original = spec.method.step

        def counting(self, *args, _name=spec.name, _step=original, **kwargs):
            stepped.add(_name)
            return _step(self, *args, **kwargs)

        monkeypatch.setattr(spec.method, "step", counting)
    for thm in THEOREMS:
        for instance in thm.instances(True):
            verify(thm, instance)
    assert stepped == {spec.name for spec in specs}


@pytest.mark.parametrize("theorem_id", ["seqattn.mask-equivalence", "seqattn.normalized-softmax"])
def test_typed_mask_instances_survive_an_instance_file(theorem_id, tmp_path):
    from mastbench.theory.seqattn.common import MaskInstance

    from mastbench.instance_io import load_instance, save_instance

    thm = theory.get(theorem_id)
    instance = thm.instances(True)[0]
    save_instance(tmp_path / "instance.json", instance, theorem_id)
    _, loaded, _ = load_instance(tmp_path / "instance.json")
    assert isinstance(loaded, MaskInstance) and loaded.fields == instance.fields
    np.testing.assert_array_equal(
        verify(thm, loaded).evidence.measured, verify(thm, instance).evidence.measured
    )
