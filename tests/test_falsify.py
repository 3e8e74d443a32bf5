"""falsify: hypothesis finds, and shrinks, a counterexample to a wrong theorem."""

import ast
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import strategies as st
from mastbench.theory import Evidence, FieldBag, Theorem, _registry

from mastbench import theory
from mastbench.cli import main
from mastbench.falsify import falsify


def _contraction(instance, params):
    # GD on the diagonal quadratic with eigenvalues `eigs`, step 1/max(eigs); the "theorem"
    # overclaims the fastest mode's rate for every mode: false unless all eigenvalues are equal.
    a = np.asarray(instance.eigs)
    step, t = 1 / a.max(), np.arange(30)
    dist2 = ((1 - step * a[None, :]) ** (2 * t[:, None])).sum(axis=1)
    bound = (
        (1 - step * a.min() / 2) ** (2 * t) * a.size
        if params["honest"]
        else ((1 - step * a.max() + 1e-3) ** (2 * t) * a.size)
    )
    return Evidence(t, dist2, bound, atol=1e-15)


def _theorem(theorem_id: str, honest: bool) -> Theorem:
    eigs = st.lists(st.floats(0.5, 4.0), min_size=1, max_size=4)
    return Theorem(
        id=theorem_id, paper="test", label="overclaim", tag="U", statement="toy",
        algorithm=None, measure="||x_t||^2", method="deterministic", measurement=_contraction,
        instances=lambda quick: [FieldBag("equal", eigs=[1.0, 1.0])],
        default_params=lambda inst: {"honest": honest},
        strategy=lambda: eigs.map(lambda e: FieldBag(f"eigs={e}", eigs=e)),
    )  # fmt: skip


@pytest.fixture
def toy_theorems():
    wrong, right = _theorem("toy.overclaim", False), _theorem("toy.honest", True)
    for thm in (wrong, right):
        theory.register(thm)
    yield wrong, right
    for thm in (wrong, right):
        _registry._REGISTRY.pop(thm.id)


def test_falsify_finds_and_shrinks_a_counterexample(toy_theorems):
    result = falsify("toy.overclaim", max_examples=100, seed=0)
    verdict = result.verdict
    assert result.found and verdict.status == "falsified"
    assert verdict.worst_ratio > 1 and "measured" in verdict.reasons[0]
    # shrinking reaches two distinct eigenvalues (one eigenvalue is no counterexample)
    assert len(verdict.evidence.t) == 30 and verdict.instance.startswith("eigs=[")
    assert len(ast.literal_eval(verdict.instance.removeprefix("eigs="))) == 2
    assert result.instance.name == verdict.instance
    assert result.examples >= 1 and result.not_applicable == 0


def test_falsify_finds_nothing_for_a_true_statement(toy_theorems):
    result = falsify("toy.honest", max_examples=50, seed=0)
    assert not result.found and result.examples >= 50
    assert 0 < result.best_ratio <= 1
    with pytest.raises(ValueError, match="no counterexample"):
        result.to_json()


def test_bound_scale_below_the_tightness_finds_a_nearly_attained_instance(toy_theorems):
    # the honest bound is attained at t = 0 (measured = bound = d): any scale < 1 trips it
    result = falsify("toy.honest", max_examples=20, seed=0, bound_scale=0.9)
    assert result.found and result.bound_scale == 0.9
    assert "bound × 0.9" in result.summary()


def test_falsify_counts_draws_outside_the_assumptions(toy_theorems):
    wrong, _ = toy_theorems
    picky = dataclasses.replace(
        wrong, id="toy.picky", assumptions=lambda inst: ["one eigenvalue"] * (len(inst.eigs) < 2)
    )
    theory.register(picky)
    try:
        result = falsify("toy.picky", max_examples=60, seed=0)
    finally:
        _registry._REGISTRY.pop(picky.id)
    assert result.not_applicable > 0 and result.found
    assert "not applicable" in result.summary()


def test_falsify_rejects_bad_arguments(toy_theorems):
    with pytest.raises(ValueError, match="bound_scale"):
        falsify("toy.honest", bound_scale=0.0)
    with pytest.raises(ValueError, match="max_examples"):
        falsify("toy.honest", max_examples=0)


def test_cli_falsify_exit_codes(toy_theorems, capsys):
    assert main(["falsify", "toy.overclaim", "--max-examples", "50"]) == 1
    out = capsys.readouterr().out
    assert "toy.overclaim on eigs=" in out and "not applicable" in out
    data = json.loads(out[out.index("{") :])
    assert data["theorem"] == "toy.overclaim" and data["fields"]["eigs"]
    assert main(["falsify", "toy.honest", "--max-examples", "20"]) == 0
    with pytest.raises(SystemExit) as usage:
        main(["falsify", "toy.honest", "--bound-scale", "0"])
    assert usage.value.code == 2


def test_cli_falsify_output_loads_back_into_verify(toy_theorems, tmp_path, capsys):
    path = tmp_path / "counterexample.json"
    assert main(["falsify", "toy.overclaim", "--max-examples", "50", "--output", str(path)]) == 1
    found = capsys.readouterr().out.splitlines()[0]
    assert main(["verify", "--instance", str(path)]) == 1
    again = capsys.readouterr().out
    assert "violated" in again and found.split(":")[0] in again
    assert main(["verify", "--theorem", "toy.honest", "--instance", str(path)]) == 0


def test_falsify_needs_a_strategy():
    with pytest.raises(ValueError, match="no instance strategy"):
        theory.register(
            thm := Theorem(
                id="toy.nostrategy",
                paper="t",
                label="l",
                tag="U",
                statement="s",
                algorithm=None,
                measure="m",
                method="exact",
                measurement=_contraction,
                instances=lambda quick: [],
            )
        )
        try:
            falsify("toy.nostrategy")
        finally:
            _registry._REGISTRY.pop(thm.id)


def test_tightest_finds_the_largest_ratio(toy_theorems, capsys):
    from mastbench.falsify import tightest

    ratio, instance = tightest("toy.honest", max_examples=30, seed=0)
    assert 0 < ratio <= 1 and instance is not None
    assert main(["falsify", "toy.honest", "--tightest", "--max-examples", "20"]) == 0
    assert "largest nontrivial ratio" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("theorem_id", ["mast.sc", "mast.key-lemma", "mast.convex"])
def test_adversarial_search_stays_within_the_built_in_tightest_instances(theorem_id):
    """No instance the search finds is tighter than the built-in tight instance (ratio 1 for
    T-SC and the key lemma; 1/3, the ceiling with S = I, for the convex variant)."""
    from mastbench.falsify import tightest
    from mastbench.verify import verify

    thm = theory.get(theorem_id)
    built_in = max(verify(thm, inst).nontrivial_ratio for inst in thm.instances(True))
    ratio, _ = tightest(theorem_id, max_examples=60, seed=1)
    assert ratio <= built_in * (1 + 1e-9) + 1e-12
