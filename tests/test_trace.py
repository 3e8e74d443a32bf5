import numpy as np
import pytest

from mastbench.trace import TraceRecorder, checkpoints


def test_checkpoints_contain_both_ends_and_are_sorted():
    points = checkpoints(1000, 20)
    assert points[0] == 0 and points[-1] == 1000
    assert np.all(np.diff(points) > 0)
    assert len(points) <= 21
    np.testing.assert_array_equal(checkpoints(5, None), np.arange(6))
    np.testing.assert_array_equal(checkpoints(10, every=4), [0, 4, 8, 10])


def test_recorder_builds_trace_of_the_right_shape():
    rec = TraceRecorder(
        "toy",
        10,
        {"norm2": lambda x: (x**2).sum(axis=1)},
        checkpoints=[0, 5, 10],
        keep_iterates=True,
    )
    x = np.ones((3, 2))
    for t in range(11):
        rec.record(t, x, grad_evals=t)
        x = x * 0.5
    trace = rec.finish(x)
    assert trace.metrics["norm2"].shape == (3, 3)
    np.testing.assert_allclose(trace.metrics["norm2"][:, 0], [2.0, 2.0 / 4**5, 2.0 / 4**10])
    np.testing.assert_array_equal(trace.counters["grad_evals"], [0, 5, 10])
    assert trace.iterates.shape == (3, 3, 2)
    assert np.all(np.diff(trace.time) >= 0)
    rows = list(trace.records())
    assert len(rows) == 9 and rows[0]["iteration"] == 0


def test_recorder_refuses_missing_checkpoints():
    rec = TraceRecorder("toy", 4, {"z": lambda x: x[:, 0]}, checkpoints=[0, 4])
    rec.record(0, np.zeros((1, 1)))
    with pytest.raises(RuntimeError, match="recorded 1 of 2"):
        rec.finish(np.zeros((1, 1)))


def test_checkpoints_outside_range_rejected():
    with pytest.raises(ValueError, match="checkpoints must be iterations within"):
        TraceRecorder("toy", 4, {}, checkpoints=[0, 5])
