"""Every algorithm of the table takes steps while ``verify --quick`` checks the theorems.

A theorem naming an algorithm is not enough: each Method's own ``step`` is counted while every
theorem is verified on its quick instances, with its negative controls (the verdicts the other
tests of the suite share, :mod:`tests.theory.quick_suite`).
"""

from __future__ import annotations

from mastbench import theory
from mastbench.algorithms import all_algorithms
from tests.theory.quick_suite import STEPPED, control_verdict, quick_verdicts


def test_verify_quick_runs_every_algorithm_of_the_table():
    for thm in theory.all():
        quick_verdicts(thm)
        for control in thm.controls:
            control_verdict(thm, control)
    missing = sorted(spec.name for spec in all_algorithms() if spec.method not in STEPPED)
    assert not missing, f"no check of verify --quick runs {missing}"
