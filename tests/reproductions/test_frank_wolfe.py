"""The Frank-Wolfe reproduction: its contract and the properties its table reports."""

import json
import math

import pytest

from mastbench.reproductions.frank_wolfe import reproduce


@pytest.fixture(scope="module")
def result():
    return reproduce(quick=True, seed=0)


def test_contract(result):
    assert isinstance(result["title"], str) and isinstance(result["notes"], str)
    json.dumps(result)
    for row in result["table"]:
        assert all(isinstance(v, str | int | float | bool) for v in row.values())
    for curve in result["curves"].values():
        assert set(curve) == {"x", "y", "xlabel", "ylabel", "logy"}
        for series in curve["y"].values():
            assert len(series) == len(curve["x"])
            assert all(math.isfinite(v) for v in series)


def test_deterministic_rows_respect_the_bounds(result):
    rows = [r for r in result["table"] if "Jaggi bound at end" in r]
    assert {r["dataset"] for r in rows} >= {"breast_cancer"}
    for row in rows:
        assert row["max subopt / Jaggi bound"] <= 1
        assert row["gap >= subopt everywhere"]
        assert row["support <= k (+1 for PFW) everywhere"]


def test_sfw_rows_keep_memory_consistent(result):
    rows = [r for r in result["table"] if r["method"].startswith("SFW")]
    assert {r["method"].split()[1] for r in rows} == {"SAG", "SAGA", "MHK", "LF"}
    for row in rows:
        assert row["memory error"] <= 1e-12
        assert row["final subopt"] < 1e-2
