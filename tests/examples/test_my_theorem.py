"""The example of a user's own method and theorem (``examples/``), as a user would check it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mastbench.problems.quadratic import Quadratic

import mastbench
from examples import my_theorem
from examples.decaying_dsgd import DecayingDSGD, State
from mastbench import theory
from mastbench.backend import rng
from mastbench.sketches import Identity, RandK
from mastbench.verify import verify, verify_control

ROOT = Path(__file__).resolve().parents[2]
THEOREM = theory.get("example.decaying-gd")


def test_first_two_steps_by_hand():
    A, b = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -1.0])
    x0 = np.array([0.3, 0.7])
    trace = mastbench.run(
        DecayingDSGD(Identity(2), step0=0.2, k0=4.0),
        Quadratic(A, b),
        x0,
        iters=2,
        rng=rng(0),
        checkpoints=[0, 1, 2],
        keep_iterates=True,
    )
    x1 = x0 - 0.2 * (A @ x0 - b)
    x2 = x1 - (0.2 / 1.25) * (A @ x1 - b)
    np.testing.assert_allclose(trace.iterates[:, 0], [x0, x1, x2], rtol=1e-15)
    np.testing.assert_array_equal(trace.counters["grad_evals"], [0, 1, 2])


def test_bad_hyperparameters_are_refused_by_name():
    with pytest.raises(ValueError, match="step0"):
        DecayingDSGD(Identity(2), step0=0.0, k0=1.0)
    with pytest.raises(ValueError, match="k0"):
        DecayingDSGD(Identity(2), step0=0.1, k0=-1.0)


def test_holds_on_every_instance_and_is_attained():
    verdicts = [verify(THEOREM, instance) for instance in THEOREM.instances(True)]
    assert all(v.holds for v in verdicts)
    assert max(v.nontrivial_ratio for v in verdicts) > 0.999


def test_a_sparsifying_sketch_is_not_applicable():
    instance = my_theorem._instance("Rand-K", [1.0, 2.0], [1.0, 0.0]).replace(sketch=RandK(2, 1))
    verdict = verify(THEOREM, instance)
    assert verdict.status == "not applicable"
    assert "identity" in verdict.reasons[0]


def test_the_control_trips_at_t_1_for_the_step_beyond_the_range():
    (control,) = THEOREM.controls
    verdict = verify_control(THEOREM, THEOREM.instances(True)[0], control)
    assert verdict.status == "violated"
    assert verdict.reasons[0].startswith("at t=1:")


def test_an_off_by_one_step_in_the_method_is_detected(monkeypatch):
    def late_step(self, problem, state, k, rng):
        gradient = problem.grad(state.x)
        return State(state.x - self.step_size(k + 1) * gradient, state.grad_evals + 1)

    monkeypatch.setattr(DecayingDSGD, "step", late_step)
    verdicts = [verify(THEOREM, instance) for instance in THEOREM.instances(True)]
    assert any(v.status == "violated" for v in verdicts)


def test_the_command_line_checks_the_plugin():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mastbench",
            "verify",
            "--import",
            "examples.my_theorem",
            "--theorem",
            "example.decaying-gd",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 checks and 1 negative controls on 1 theorems: 1 passed, 0 failed" in out.stdout
