"""The compiled propagation of the symmetric fused step equals the NumPy loop, and dispatch.

``mastbench.exact.numba_kernel`` runs the whole propagation of (m, P) in one numba-compiled
loop in a reduced form (P·L₀ᵀ from PA entrywise, one product A·Z); these tests pin it to the
NumPy step (:class:`~mastbench.exact.diagonal_step.SymmetricDiagonalStep`, itself pinned to the
pattern formulas by ``tests/exact/test_diagonal_step.py``) and to the pattern-only propagation, and
check when :func:`~mastbench.exact.moment_maps.propagate` uses it.  Tests of the compiled loop
skip without numba; the dispatch tests without numba run everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastbench.problems import random as random_problems

from mastbench import exact
from mastbench.algorithms.mast import DSGD
from mastbench.backend import rng
from mastbench.exact import numba_kernel
from mastbench.exact.moment_maps import PatternStep, SketchedStep, propagate
from mastbench.sketches import Bernoulli, Discrete, Identity, RandK
from tests.exact.diagonal_cases import assert_close, diagonal_sketches
from tests.exact.numpy_loop import numpy_propagate


def _symmetric_step(sketch, rs: np.random.Generator, scale: float = 0.2) -> SketchedStep:
    d = sketch.d
    A = rs.normal(size=(d, d))
    A = A @ A.T / d + 0.1 * np.eye(d)
    c = rs.normal(size=d)
    step = SketchedStep(sketch, A, c, scale / (np.linalg.norm(A, 2) * sketch.L_S_max))
    assert step.symmetric_kernel is not None
    return step


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the dimension of each call of the compiled propagation (not running it)."""
    calls: list[int] = []

    def fake(factors, m0, P0, iters, checkpoints):
        calls.append(m0.shape[0])
        return "compiled", None

    monkeypatch.setattr(numba_kernel, "propagate_symmetric", fake)
    return calls


# -- the compiled loop equals the NumPy step -------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 5, 12])
def test_compiled_propagation_equals_numpy_loop(compiled, d):
    rs = np.random.default_rng(11 + d)
    points = np.array([0, 1, 17, 300])
    for sketch in diagonal_sketches(d, rs):
        step = _symmetric_step(sketch, rs)
        y0 = rs.normal(size=d)
        P0 = np.outer(y0, y0) + np.eye(d)
        fast = numba_kernel.propagate_symmetric(step.symmetric_kernel.factors, y0, P0, 300, points)
        reference = numpy_propagate(step, y0, P0, 300, points)
        for a, b in zip(fast, reference, strict=True):
            assert_close(a, b)
        np.testing.assert_array_equal(fast[1], np.swapaxes(fast[1], 1, 2))


@pytest.mark.parametrize("sketch", [Bernoulli(0.4, 6), RandK(6, 2), Identity(6)], ids=repr)
def test_compiled_propagation_equals_pattern_propagation(compiled, sketch):
    step = _symmetric_step(sketch, np.random.default_rng(3))
    y0 = np.linspace(-1.0, 2.0, 6)
    points = np.array([0, 1, 17, 300])
    fast = propagate(step, y0, np.outer(y0, y0), 300, points)
    slow = propagate(PatternStep(step), y0, np.outer(y0, y0), 300, points)
    for a, b in zip(fast, slow, strict=True):
        assert_close(a, b)


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 9),
    kind=st.sampled_from(["bernoulli", "randk", "identity"]),
    scale=st.floats(0.05, 0.45),
    start=st.integers(0, 40),
)
def test_compiled_propagation_equals_numpy_loop_property(compiled, seed, d, kind, scale, start):
    rs = np.random.default_rng(seed)
    sketch = {
        "bernoulli": lambda: Bernoulli(rs.uniform(0.1, 1.0, d)),
        "randk": lambda: RandK(d, int(rs.integers(1, d + 1))),
        "identity": lambda: Identity(d),
    }[kind]()
    step = _symmetric_step(sketch, rs, scale)
    y0 = rs.normal(size=d)
    points = np.array([start, start + 1, start + 60])
    fast = propagate(step, y0, np.outer(y0, y0), start + 60, points)
    reference = numpy_propagate(step, y0, np.outer(y0, y0), start + 60, points)
    for a, b in zip(fast, reference, strict=True):
        assert_close(a, b)


def test_compiled_propagation_with_no_steps_returns_the_start(compiled):
    step = _symmetric_step(Bernoulli(0.5, 4), np.random.default_rng(0))
    y0 = np.arange(4.0)
    P0 = np.outer(y0, y0) + np.eye(4)
    means, seconds = propagate(step, y0, P0, 0, np.array([0]))
    np.testing.assert_array_equal(means, y0[None])
    np.testing.assert_array_equal(seconds, P0[None])


def test_dsgd_moments_same_on_both_paths_at_the_benchmark_size(compiled, monkeypatch):
    d, iters = 30, 1000
    problem = random_problems.quadratic(d, 10.0, rng(4))
    sketch = Bernoulli(0.5, d)
    step = 0.5 / (problem.L * sketch.L_S_max)

    def run():
        return exact.moments(
            DSGD(sketch=sketch, gamma=step), problem, np.ones(d), iters, checkpoints=[0, 10, iters]
        )

    fast = run()
    monkeypatch.setattr(numba_kernel, "enabled", False)
    reference = run()
    for name in ("mean", "second", "dist2"):
        assert_close(np.asarray(getattr(fast, name)), np.asarray(getattr(reference, name)))


# -- dispatch --------------------------------------------------------------------------------


def test_propagate_dispatches_symmetric_fused_step_when_worthwhile(monkeypatch, spy):
    monkeypatch.setattr(numba_kernel, "_compiled", lambda: object())
    rs = np.random.default_rng(1)
    step = _symmetric_step(RandK(5, 2), rs)
    y0 = rs.normal(size=5)
    monkeypatch.setattr(numba_kernel, "MIN_WORK", 5**3 * 40)
    assert propagate(step, y0, np.eye(5), 40, np.array([0, 40]))[0] == "compiled"
    assert spy == [5]
    # the work counts the steps up to the last checkpoint
    means, _ = propagate(step, y0, np.eye(5), 40, np.array([0, 39]))
    assert spy == [5] and means.shape == (2, 5)
    monkeypatch.setattr(numba_kernel, "enabled", False)
    propagate(step, y0, np.eye(5), 40, np.array([0, 40]))
    assert spy == [5]


def test_propagate_sends_other_maps_to_the_affine_loop(monkeypatch, spy):
    """Maps without the fused symmetric kernel go to the compiled affine loop (faked here, so
    the test runs without numba), never to the symmetric one."""
    monkeypatch.setattr(numba_kernel, "_compiled", lambda: object())
    monkeypatch.setattr(numba_kernel, "MIN_WORK", 0.0)
    affine: list[int] = []

    def fake_affine(form, m0, P0, iters, checkpoints):
        affine.append(m0.shape[0])
        return np.zeros((len(checkpoints), m0.shape[0])), None

    monkeypatch.setattr(numba_kernel, "propagate_affine", fake_affine)
    rs = np.random.default_rng(2)
    A = rs.normal(size=(4, 4))
    c, y0 = rs.normal(size=4), rs.normal(size=4)
    discrete = Discrete(np.array([[2.0, 0, 2, 0], [0, 2.0, 0, 2]]), np.array([0.5, 0.5]))
    S = A @ A.T + np.eye(4)
    for step in (
        SketchedStep(RandK(4, 2), A, c, 0.01),  # non-symmetric A
        SketchedStep(discrete, S, c, 0.01),  # no closed-form patterns
        SketchedStep(RandK(4, 2), S, c, 0.01, compressor=Bernoulli(0.5, 4)),  # not option I
    ):
        assert step.symmetric_kernel is None
        means, _ = propagate(step, y0, np.eye(4), 20, np.array([0, 20]))
        assert means.shape == (2, 4)
    assert spy == [] and affine == [4, 4, 4]


def test_without_numba_the_numpy_loop_runs(monkeypatch, spy):
    monkeypatch.setattr(numba_kernel, "_compiled", lambda: None)
    monkeypatch.setattr(numba_kernel, "MIN_WORK", 0.0)
    assert not numba_kernel.available()
    step = _symmetric_step(Bernoulli(0.5, 3), np.random.default_rng(4))
    means, _ = propagate(step, np.ones(3), np.eye(3), 30, np.array([0, 30]))
    assert means.shape == (2, 3) and spy == []


def test_propagate_symmetric_without_numba_raises(monkeypatch):
    monkeypatch.setattr(numba_kernel, "_compiled", lambda: None)
    step = _symmetric_step(Bernoulli(0.5, 3), np.random.default_rng(5))
    with pytest.raises(RuntimeError, match="numba"):
        numba_kernel.propagate_symmetric(
            step.symmetric_kernel.factors, np.ones(3), np.eye(3), 3, np.array([0, 3])
        )


def test_small_propagations_stay_on_numpy_and_the_benchmark_size_does_not():
    # unit tests and quick verification: d <= 12 with at most 1000 steps
    assert not numba_kernel.worthwhile(12, 1000)
    assert not numba_kernel.worthwhile(3, 10_000)
    # bench --compare: d = 30, T = 1000, and the cost-slope sizes d >= 64 at 10 steps
    assert numba_kernel.worthwhile(30, 1000)
    assert numba_kernel.worthwhile(64, 10)


# -- compilation -----------------------------------------------------------------------------


def test_compiles_in_memory_without_a_writable_cache(monkeypatch):
    numba = pytest.importorskip("numba")
    njit = numba.njit

    def no_cache(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return njit(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", no_cache)
    kernel = numba_kernel._jit.__wrapped__("_propagate")
    assert kernel.py_func is numba_kernel._propagate


def test_disabled_jit_means_no_compiled_loop(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert numba_kernel._jit.__wrapped__("_propagate") is None
