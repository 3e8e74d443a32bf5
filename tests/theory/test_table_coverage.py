"""Every algorithm of the table takes steps while ``verify --quick`` checks the theorems.

A theorem naming an algorithm is not enough: each Method's own ``step`` is counted while every
theorem is verified on its quick instances, with its negative controls.
"""

from __future__ import annotations

import pytest

from mastbench import theory
from mastbench.algorithms import all_algorithms
from mastbench.verify import verify, verify_control


@pytest.mark.slow
def test_verify_quick_runs_every_algorithm_of_the_table(monkeypatch):
    specs = all_algorithms()
    stepped: set[type] = set()
    for spec in specs:
        original = spec.method.step

        def counting(self, *args, _step=original, **kwargs):
            stepped.add(type(self))  # a subclass sharing the step is counted as itself
            return _step(self, *args, **kwargs)

        monkeypatch.setattr(spec.method, "step", counting)
    for thm in theory.all():
        instances = thm.instances(True)
        for instance in instances:
            verify(thm, instance)
        for control in thm.controls:
            verify_control(thm, instances[0], control)
    missing = sorted(spec.name for spec in specs if spec.method not in stepped)
    assert not missing, f"no check of verify --quick runs {missing}"
