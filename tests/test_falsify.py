"""falsify: hypothesis finds, and shrinks, a counterexample to a wrong theorem."""

import ast

import numpy as np
import pytest
from hypothesis import strategies as st
from mastbench.theory import Evidence, Instance, Theorem, _registry

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
        algorithm=None, measure="||x_t||^2", method="deterministic", evaluate=_contraction,
        instances=lambda quick: [Instance("equal", eigs=[1.0, 1.0])],
        default_params=lambda inst: {"honest": honest},
        strategy=lambda: eigs.map(lambda e: Instance(f"eigs={e}", eigs=e)),
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
    verdict = falsify("toy.overclaim", max_examples=100, seed=0)
    assert verdict is not None and verdict.status == "falsified"
    assert verdict.worst_ratio > 1 and "measured" in verdict.reasons[0]
    # shrinking reaches two distinct eigenvalues (one eigenvalue is no counterexample)
    assert len(verdict.evidence.t) == 30 and verdict.instance.startswith("eigs=[")
    assert len(ast.literal_eval(verdict.instance.removeprefix("eigs="))) == 2


def test_falsify_finds_nothing_for_a_true_statement(toy_theorems):
    assert falsify("toy.honest", max_examples=50, seed=0) is None


def test_cli_falsify_exit_codes(toy_theorems, capsys):
    assert main(["falsify", "toy.overclaim", "--max-examples", "50"]) == 1
    assert "toy.overclaim on eigs=" in capsys.readouterr().out
    assert main(["falsify", "toy.honest", "--max-examples", "20"]) == 0


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
                evaluate=_contraction,
                instances=lambda quick: [],
            )
        )
        try:
            falsify("toy.nostrategy")
        finally:
            _registry._REGISTRY.pop(thm.id)
