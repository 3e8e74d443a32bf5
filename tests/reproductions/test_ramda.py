"""The RAMDA reproduction (digits multinomial logistic): structure and sanity of the table."""

from __future__ import annotations

import numpy as np
import pytest

from mastbench.reproductions.ramda import reproduce


@pytest.fixture(scope="module")
def result() -> dict:
    return reproduce(quick=True, seed=0)


def test_table_rows_and_values(result) -> None:
    methods = [row["method"] for row in result["table"]]
    assert methods == ["RAMDA", "RMDA", "ProxGen", "ProxSSI", "ProxSGD", "W* (certified optimum)"]
    for row in result["table"]:
        assert all(np.isscalar(v) for v in row.values())
        assert row["dataset"] == "digits"
        assert 0 <= row["group sparsity (final) %"] <= row["group sparsity (best) %"] <= 100
        # well above the 10% of guessing after the quick run
        assert row["validation accuracy %"] > 50
        assert row["dist(0,∂F)^2"] >= 0


def test_curves_shape(result) -> None:
    curve = result["curves"]["sparsity"]
    assert set(curve["y"]) == {"RAMDA", "RMDA", "ProxGen", "ProxSSI", "ProxSGD"}
    assert all(len(v) == len(curve["x"]) for v in curve["y"].values())
    # W⁰ = 0: every group is zero at epoch 0
    assert all(v[0] == 100.0 for v in curve["y"].values())
    assert isinstance(result["title"], str) and "Table 7" in result["title"]


def test_bad_seed() -> None:
    with pytest.raises((TypeError, ValueError), match="seed"):
        reproduce(quick=True, seed=-1)
