"""The Evidence, NegativeControl and Theorem values: stacking checks, errors at the boundary."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.theory import Evidence, NegativeControl, Theorem


def test_stacked_concatenates_checks_in_order_and_broadcasts_t_and_bound():
    t = np.arange(3)
    evidence = Evidence.stacked(
        [(t, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]), (0, np.array([7, 8]), 0.0)],
        atol=1e-3,
        extra={"k": 1},
    )
    np.testing.assert_array_equal(evidence.t, [0, 1, 2, 0, 0])
    np.testing.assert_array_equal(evidence.measured, [1, 2, 3, 7, 8])
    np.testing.assert_array_equal(evidence.bound, [4, 5, 6, 0, 0])
    assert evidence.measured.dtype == float and evidence.t.dtype.kind == "i"
    assert evidence.atol == 1e-3 and evidence.extra == {"k": 1}


def test_stacked_refuses_a_check_whose_points_are_misaligned():
    with pytest.raises(ValueError):
        Evidence.stacked([(np.arange(3), np.ones(2), 0.0)])
    with pytest.raises(ValueError):
        Evidence.stacked([(0, np.ones(2), np.ones(3))])


@pytest.mark.parametrize("name", ["bound", "lower", "upper"])
def test_evidence_names_the_argument_that_does_not_fit(name):
    fields = {"t": np.arange(3), "measured": np.ones(3), "bound": 1.0, name: np.ones(2)}
    with pytest.raises(ValueError, match=f"^{name} must broadcast to the shape of measured"):
        Evidence(**fields)


def test_negative_control_that_changes_nothing_or_scales_badly_is_refused():
    with pytest.raises(ValueError, match="changes nothing"):
        NegativeControl("forgot the change")
    for scale in (-0.5, float("inf"), float("nan"), "0.5"):
        with pytest.raises(ValueError, match="bound_scale of negative control 'x'"):
            NegativeControl("x", bound_scale=scale)
    assert NegativeControl("x", bound_scale=0.5).bound_scale == 0.5


def test_theorem_refuses_controls_that_are_not_negative_controls():
    with pytest.raises(TypeError, match=r"controls of 'fake\.x' must be NegativeControl"):
        Theorem(
            id="fake.x",
            paper="p",
            label="l",
            tag="D",
            statement="s",
            algorithm=None,
            measure="m",
            method="exact",
            measurement=lambda inst, params: None,
            instances=lambda quick: [],
            controls=("bound x 0.5",),
        )


def test_get_imports_only_the_family_of_the_theorem():
    import json
    import subprocess
    import sys

    probe = (
        "import json, sys\n"
        "from mastbench import theory\n"
        "theory.get('fw.jaggi-primal')\n"
        "print(json.dumps(sorted({m.split('.')[2] for m in sys.modules"
        " if m.startswith('mastbench.theory.') and not m.split('.')[2].startswith('_')})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["frank_wolfe"]


def test_plugins_are_found_through_the_entry_point_group(monkeypatch):
    import importlib.metadata

    from mastbench.theory import _registry

    from mastbench import theory

    plugin = importlib.metadata.EntryPoint(
        name="example", value="examples.my_theorem", group=_registry.PLUGIN_GROUP
    )
    seen = []

    def entry_points(group):
        seen.append(group)
        return [plugin] if group == _registry.PLUGIN_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert "example.decaying-gd" in [t.id for t in theory.all()]
    assert _registry.PLUGIN_GROUP in seen


def test_the_statement_is_read_from_the_docstring_once():
    from mastbench.theory._registry import statement_of

    doc = """Title.

    Statement.  a ≤ b
        for all t.

    Reference.  here.
    """
    assert statement_of(doc, "toy") == "a ≤ b for all t."
    with pytest.raises(ValueError, match="'toy' gives no statement"):
        statement_of("Title only.", "toy")
