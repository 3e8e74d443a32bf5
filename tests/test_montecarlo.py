"""Monte-Carlo estimates: intervals, coverage, Bonferroni, traces, bad input."""

import numpy as np
import pytest
from mastbench.problems.random import quadratic

from mastbench.algorithms import dsgd
from mastbench.backend import rng
from mastbench.montecarlo import Estimate, estimate, from_trace
from mastbench.sketches import RandK


def test_mean_stderr_and_t_interval():
    data = np.arange(10.0)
    est = estimate(data, level=0.95)
    assert isinstance(est, Estimate) and est.n == 10 and not est.simultaneous
    np.testing.assert_allclose(est.mean, [4.5])
    np.testing.assert_allclose(est.stderr, [np.std(data, ddof=1) / np.sqrt(10)])
    # t_{0.975} with 9 degrees of freedom is 2.262157 (statistical tables).
    np.testing.assert_allclose(est.upper - est.mean, 2.262157 * est.stderr, rtol=1e-6)
    normal = estimate(data, level=0.95, method="normal")
    np.testing.assert_allclose(normal.upper - normal.mean, 1.959964 * est.stderr, rtol=1e-6)
    assert est.contains(4.5).all() and not est.contains(100.0).any()


@pytest.mark.parametrize("method", ["t", "normal"])
def test_pointwise_coverage_is_close_to_the_level(method):
    gen = np.random.default_rng(0)
    rows = gen.normal(3.0, 2.0, size=(4000, 50))
    covered = estimate(rows, level=0.9, method=method).contains(3.0).mean()
    assert abs(covered - 0.9) < 4 * np.sqrt(0.9 * 0.1 / 4000) + (0.01 if method == "normal" else 0)


def test_bonferroni_gives_simultaneous_coverage():
    gen = np.random.default_rng(1)
    K, experiments = 20, 400
    joint = [
        estimate(gen.normal(size=(K, 8)), level=0.9, simultaneous=True).contains(0.0).all()
        for _ in range(experiments)
    ]
    assert np.mean(joint) >= 0.9 - 4 * np.sqrt(0.9 * 0.1 / experiments)
    single = estimate(gen.normal(size=(K, 8)), level=0.9, simultaneous=True)
    assert single.point_level == pytest.approx(1 - 0.1 / K)
    unadjusted = [
        estimate(gen.normal(size=(K, 8)), level=0.9).contains(0.0).all() for _ in range(200)
    ]
    assert np.mean(unadjusted) < 0.5


def test_from_trace_estimates_each_checkpoint():
    problem = quadratic(4, 5.0, rng(0))
    trace = dsgd(
        problem,
        problem.asarray(np.ones(4)),
        sketch=RandK(4, 2),
        step=0.01,
        iters=10,
        rng=rng(1),
        replicates=64,
    )
    est = from_trace(trace, "dist2")
    assert est.mean.shape == trace.iterations.shape and est.simultaneous
    np.testing.assert_allclose(est.mean, trace.metrics["dist2"].mean(axis=1))
    assert np.all(est.lower <= est.mean) and np.all(est.mean <= est.upper)
    with pytest.raises(KeyError, match="recorded metrics"):
        from_trace(trace, "loss")
    with pytest.raises(TypeError, match="Trace"):
        from_trace({"dist2": 1}, "dist2")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"samples": [1.0]}, ValueError, "at least 2 replicates"),
        ({"samples": [1.0, np.nan]}, ValueError, "finite"),
        ({"samples": np.zeros((2, 2, 2))}, ValueError, "shape"),
        ({"samples": [1.0, 2.0], "level": 1.0}, ValueError, "level must lie in"),
        ({"samples": [1.0, 2.0], "level": 0.0}, ValueError, "level must lie in"),
        ({"samples": [1.0, 2.0], "method": "bootstrap"}, ValueError, "method must be"),
        ({"samples": [1.0, 2.0], "simultaneous": "yes"}, TypeError, "simultaneous"),
    ],
)
def test_bad_input(kwargs, error, message):
    samples = kwargs.pop("samples")
    with pytest.raises(error, match=message):
        estimate(samples, **kwargs)


def test_interval_describes_how_it_was_built():
    est = estimate(np.arange(30.0).reshape(3, 10), level=0.9, simultaneous=True)
    assert est.interval() == {
        "level": 0.9,
        "point_level": pytest.approx(1 - 0.1 / 3),
        "method": "t",
        "n": 10,
        "simultaneous": True,
        "points": 3,
    }
