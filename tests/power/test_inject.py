"""Fault injection wraps a method's step without editing its source, and undoes it."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.quadratic import Quadratic

import mastbench
from examples import my_theorem  # noqa: F401  (registers example.decaying-gd)
from examples.decaying_dsgd import DecayingDSGD
from mastbench import theory
from mastbench.algorithms import all_algorithms
from mastbench.backend import rng
from mastbench.power import KINDS, catalogue, get_fault
from mastbench.power.inject import (
    field_changed,
    iteration_shifted,
    patched,
    stale_randomness,
    update_scaled,
)
from mastbench.sketches import Identity, RandK
from mastbench.verify import verify

THEOREM = theory.get("example.decaying-gd")


def _statuses() -> list[str]:
    return [verify(THEOREM, instance).status for instance in THEOREM.instances(True)]


@pytest.mark.parametrize(
    "wrap",
    [
        update_scaled(0.5),
        update_scaled(1.25),
        iteration_shifted(1),
        field_changed("k0", lambda k0: k0 / 2),
    ],
    ids=["step-0.5x", "step-1.25x", "schedule-k+1", "k0-halved"],
)
def test_each_fault_is_caught_and_the_method_is_restored(wrap):
    original = DecayingDSGD.step
    assert set(_statuses()) == {"holds"}
    with patched(DecayingDSGD, wrap):
        assert "violated" in _statuses()
    assert DecayingDSGD.step is original
    assert set(_statuses()) == {"holds"}


def _final(method, seed=3):
    problem = Quadratic(np.diag([1.0, 2.0, 3.0]), np.ones(3))
    trace = mastbench.run(method, problem, np.zeros(3), iters=5, rng=rng(seed), replicates=2)
    return np.asarray(trace.x)


def test_stale_randomness_repeats_the_first_draw():
    method = DecayingDSGD(RandK(3, 1), step0=0.1, k0=5.0)
    fresh = _final(method)
    with patched(DecayingDSGD, stale_randomness):
        stale = _final(method)
        replayed = _final(method)
    assert not np.allclose(fresh, stale)
    np.testing.assert_array_equal(stale, replayed)
    # the identity sketch draws nothing random: staleness changes nothing there
    identity = DecayingDSGD(Identity(3), step0=0.1, k0=5.0)
    with patched(DecayingDSGD, stale_randomness):
        np.testing.assert_array_equal(_final(identity), _final(identity))


def test_the_catalogue_names_real_algorithms_with_unique_names():
    faults = catalogue()
    names = {spec.name: spec.family for spec in all_algorithms()}
    assert len({f.name for f in faults}) == len(faults) >= 20
    for fault in faults:
        assert names.get(fault.algorithm) == fault.family, fault.name
        assert fault.kind in KINDS
        assert get_fault(fault.name) is not None
    assert set(names) <= {f.algorithm for f in faults}, "an algorithm with no fault"
    with pytest.raises(KeyError, match="unknown fault"):
        get_fault("no such fault")


def _case_trace(spec):
    from mastbench.backend import namespace
    from tests.algorithms.cases import case_for

    args, kwargs = case_for(spec.name)(namespace("numpy"), None)
    if spec.stochastic:
        kwargs = {**kwargs, "rng": rng(11), "replicates": 2}
    return spec.run(*args, **kwargs)


@pytest.mark.parametrize(
    "fault", [f for f in catalogue() if f.kind != "schedule"], ids=lambda f: f.name
)
def test_every_fault_changes_what_its_algorithm_computes(fault):
    """On the algorithm's own test case.  A schedule fault changes only a method whose steps
    depend on k (the open-loop FW rule, RAMDA's weights), which its test case need not use;
    the power run shows those change the family's theorem instances (they are detected)."""
    from mastbench.algorithms import get_algorithm

    spec = get_algorithm(fault.algorithm)
    correct = _case_trace(spec)
    with patched(spec.method, fault.wrap):
        faulty = _case_trace(spec)
    assert not np.array_equal(np.asarray(correct.x), np.asarray(faulty.x)) or any(
        not np.array_equal(correct.metrics[k], faulty.metrics[k], equal_nan=True)
        for k in correct.metrics
    ), f"{fault.name} changes nothing on the algorithm's test case"


@pytest.mark.slow
def test_power_command_takes_the_family_names_verify_takes(tmp_path, capsys):
    from mastbench.cli import main

    out = tmp_path / "power.json"
    status = main(["power", "--family", "fw", "--json", str(out)])
    assert status == 0
    import json

    report = json.loads(out.read_text())
    assert report["faults"] == len(catalogue("frank_wolfe")) > 0
    assert {r["family"] for r in report["results"]} == {"frank_wolfe"}
    assert "faults detected" in capsys.readouterr().out
