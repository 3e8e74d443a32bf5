"""The MAST Fig. 1 reproduction: contract, determinism, accuracies, boxplot data, fallback."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from mastbench.problems.logistic import Logistic

from mastbench.reproductions.mast import (
    accuracy,
    load_split,
    reproduce,
    sparsified_accuracy,
)

QUICK_Q = [0.1, 0.3, 0.5, 0.7, 0.9]


@functools.cache
def _a5a_quick() -> dict:
    return reproduce(quick=True, seed=0)


@pytest.fixture
def a5a_result(libsvm_dir) -> dict:
    """The quick a5a result, computed once for the module (skips without the data)."""
    return _a5a_quick()


@pytest.fixture
def no_libsvm(tmp_path, monkeypatch):
    """No LIBSVM files anywhere the loader looks."""
    monkeypatch.setenv("MASTBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()


def _check_contract(result: dict) -> None:
    assert isinstance(result["title"], str) and "Fig. 1" in result["title"]
    assert isinstance(result["notes"], str) and "λ = 1/n" in result["notes"]
    assert [row["q"] for row in result["table"]] == QUICK_Q
    for row in result["table"]:
        assert all(np.isscalar(v) for v in row.values())
        for key in ("ERM median %", "MAST median %", "ERM dense %", "MAST dense % (mean of runs)"):
            assert 0 <= row[key] <= 100
        assert row["ERM IQR %"] >= 0 and row["MAST IQR %"] >= 0
        assert row["MAST f(x) − f*"] >= 0


def _check_boxes(result: dict, per_box: int) -> None:
    curve = result["curves"]["accuracy"]
    assert curve["x"] == QUICK_Q and curve["logy"] is False
    assert set(curve["y"]) == {"ERM optimum x*", "MAST (DSGD option I)"}
    for boxes in curve["y"].values():
        assert len(boxes) == len(QUICK_Q)
        for box in boxes:
            assert isinstance(box, list) and len(box) == per_box
            assert all(isinstance(v, float) and 0 <= v <= 100 for v in box)
    # the table's medians summarize exactly the boxed samples
    boxes = curve["y"]["ERM optimum x*"], curve["y"]["MAST (DSGD option I)"]
    for row, erm, mast in zip(result["table"], *boxes, strict=True):
        assert row["ERM median %"] == pytest.approx(np.median(erm))
        assert row["MAST median %"] == pytest.approx(np.median(mast))
        q1, q3 = np.percentile(mast, (25, 75))
        assert row["MAST IQR %"] == pytest.approx(q3 - q1)


# -- a5a --
def test_a5a_contract_and_boxes(a5a_result) -> None:
    _check_contract(a5a_result)
    _check_boxes(a5a_result, per_box=5 * 40)
    assert "a5a" in a5a_result["title"] and "fallback" not in a5a_result["title"]
    assert [row["K"] for row in a5a_result["table"]] == [12, 37, 62, 86, 111]


def test_a5a_theory_step(a5a_result, libsvm_dir) -> None:
    _, X, y, _, _ = load_split(0)
    L_f = Logistic(X, y, l2=1.0 / X.shape[0]).L
    for row in a5a_result["table"]:
        assert row["step γ"] == pytest.approx(row["K"] ** 2 / (123**2 * L_f), rel=1e-12)


def test_a5a_dense_erm_accuracy_is_the_direct_one(a5a_result, libsvm_dir) -> None:
    from sklearn.linear_model import LogisticRegression

    _, X, y, X_test, y_test = load_split(0)
    assert X.shape == (4490, 123) and X_test.shape == (1924, 123)
    # λ = 1/n: n·f = Σ log(1 + exp(−y aᵀx)) + ½‖x‖², i.e. sklearn's C = 1 without intercept
    reference = LogisticRegression(C=1.0, fit_intercept=False, tol=1e-12, max_iter=10_000)
    w = reference.fit(X, y).coef_[0]
    x_star = Logistic(X, y, l2=1.0 / X.shape[0]).x_star_host
    np.testing.assert_allclose(x_star, w, atol=1e-4)
    direct = 100 * np.mean(np.sign(X_test @ x_star) == y_test)
    assert direct == pytest.approx(100 * np.mean(reference.predict(X_test) == y_test))
    for row in a5a_result["table"]:
        assert row["ERM dense %"] == pytest.approx(direct, abs=1e-12)
    # q = 1: Rand-d keeps every coordinate, so the sparsified accuracy is the dense one
    kept = np.broadcast_to(np.arange(123), (1, 3, 123))
    dense = sparsified_accuracy(X_test, y_test, x_star[None], kept)
    np.testing.assert_allclose(100 * dense, direct)


def test_a5a_mast_is_more_robust_at_high_sparsity(a5a_result) -> None:
    """The paper's qualitative claim, at the sparsest level q = 0.1."""
    row = a5a_result["table"][0]
    assert row["MAST median %"] > row["ERM median %"]
    assert row["MAST IQR %"] < row["ERM IQR %"]


# -- fallback and determinism (breast_cancer, fast) --
def test_fallback_to_breast_cancer(no_libsvm) -> None:
    result = reproduce(quick=True, seed=0)
    assert "breast_cancer" in result["title"] and "fallback" in result["title"]
    assert "breast_cancer" in result["notes"] and "standardized" in result["notes"]
    _check_contract(result)
    _check_boxes(result, per_box=5 * 40)
    assert [row["K"] for row in result["table"]] == [3, 9, 15, 21, 27]


def test_deterministic_for_a_seed(no_libsvm) -> None:
    first, second = reproduce(quick=True, seed=3), reproduce(quick=True, seed=3)
    assert first["table"] == second["table"]
    assert first["curves"] == second["curves"]
    other = reproduce(quick=True, seed=4)
    assert other["table"] != first["table"]


def test_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        reproduce(quick=True, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        reproduce(quick=True, seed=0.5)


# -- accuracy helpers --
def test_accuracy_by_hand() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    # scores 2, −1, 1, 0 → predictions +1, −1, +1, −1 (0 is predicted −1): all correct
    assert accuracy(X, y, np.array([2.0, -1.0])) == 1.0
    batch = accuracy(X, y, np.array([[2.0, -1.0], [-1.0, 1.0]]))
    np.testing.assert_array_equal(batch, [1.0, 0.25])


def test_sparsified_accuracy_by_hand() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    x = np.array([[2.0, 3.0]])
    # keep coordinate 0: scores 2, 0, 2, 0 → all correct; keep 1: scores 0, 3, 3, 0 → 2 of 4
    kept = np.array([[[0], [1], [0]]])
    np.testing.assert_array_equal(sparsified_accuracy(X, y, x, kept), [[1.0, 0.5, 1.0]])


def test_bad_inputs_of_the_accuracy_helpers() -> None:
    X, y = np.eye(3), np.array([1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="y must have length 3"):
        accuracy(X, y[:2], np.ones(3))
    with pytest.raises(ValueError, match="x must have last dimension d = 3"):
        accuracy(X, y, np.ones(4))
    with pytest.raises(ValueError, match="X must be 2-D"):
        accuracy(np.ones(3), y, np.ones(3))
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="kept must be a 3-D integer array"):
        sparsified_accuracy(X, y, x, np.zeros((2, 1), dtype=int))
    with pytest.raises(ValueError, match="kept must be a 3-D integer array"):
        sparsified_accuracy(X, y, x, np.zeros((2, 1, 1)))
    with pytest.raises(ValueError, match="same number of rows"):
        sparsified_accuracy(X, y, x, np.zeros((3, 1, 1), dtype=int))
    with pytest.raises(ValueError, match=r"kept: coordinates must lie in \[0, 3\)"):
        sparsified_accuracy(X, y, x, np.full((2, 1, 1), 3))
