"""The SA++ reproduction: a well-formed table and curves, k-sparse outputs, reproducible."""

import math

import pytest

from mastbench.reproductions.seqattn import reproduce


@pytest.fixture(scope="module")
def result():
    return reproduce(quick=True, seed=0)


def test_table_rows_are_scalar_and_cover_every_algorithm(result):
    assert result["title"] and result["notes"]
    rows = result["table"]
    settings = {(r["problem"], r["blocks"], r["k"]) for r in rows}
    assert len(settings) == 2
    for setting in settings:
        names = {r["algorithm"] for r in rows if (r["problem"], r["blocks"], r["k"]) == setting}
        assert names == {"SA++", "ACDC", "magnitude", "powerprop", "group OMP"}
    for row in rows:
        assert all(isinstance(v, str | int | float) for v in row.values())
        assert 0.0 <= row["recovery"] <= 1.0 and 0.0 <= row["exact_recovery"] <= 1.0
        # every output is k-group sparse, so it cannot beat the brute-force best k blocks
        assert row["loss_gap_mean"] >= -1e-9 and row["loss_gap_max"] >= row["loss_gap_mean"]
        assert math.isclose(row["sparsity"], 1 - row["k"] / row["t"])


def test_curves_are_well_formed(result):
    assert result["curves"]
    for curve in result["curves"].values():
        assert {"x", "y", "xlabel", "ylabel", "logy"} <= set(curve)
        for series in curve["y"].values():
            assert len(series) == len(curve["x"]) and min(series) > 0


def test_same_seed_same_table(result):
    again = reproduce(quick=True, seed=0)
    assert again["table"] == result["table"]
