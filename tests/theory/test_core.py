"""The Evidence value: stacking several checks into one."""

from __future__ import annotations

import numpy as np
import pytest

from theory import Evidence


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
