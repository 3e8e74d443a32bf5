"""The fused DSGD option-I moment step equals the pattern-contraction formulas.

``mastbench.exact.diagonal_step`` folds the 15 quartic and 5 cubic pattern terms of
``mastbench.sketches`` into a few precomputed matrices; these tests pin it, on random
instances, to ``SketchedStep.pattern_second_step`` (the sketch's Q4/R3 contractions, which
``tests/test_sketches.py`` checks against enumeration of the support).
"""

from __future__ import annotations

import numpy as np
import pytest

from mastbench.exact.moment_maps import PatternStep, SketchedStep, propagate
from mastbench.sketches import (
    Bernoulli,
    Discrete,
    Identity,
    Permutation,
    RandK,
    _closed_form_patterns,
)
from tests.exact.diagonal_cases import assert_close, diagonal_sketches


def _instance(d: int, rs: np.random.Generator, symmetric: bool):
    A = rs.normal(size=(d, d))
    if symmetric:
        A = A @ A.T / d + 0.1 * np.eye(d)
    return A, rs.normal(size=d), rs.normal(size=(d, d)), rs.normal(size=d)


@pytest.mark.parametrize("d", [1, 2, 5, 12])
@pytest.mark.parametrize("symmetric", [True, False])
def test_general_kernel_equals_pattern_formulas(d, symmetric):
    rs = np.random.default_rng(100 * d + symmetric)
    for sketch in diagonal_sketches(d, rs):
        A, c, P, m = _instance(d, rs, symmetric)
        step = SketchedStep(sketch, A, c, 0.37 / max(1.0, float(np.abs(A).sum())))
        assert step._patterns is not None
        assert_close(step.second_step(P, m), step.pattern_second_step(P, m))
        # the fixed point assembles the map on basis matrices and at m = 0
        E = np.zeros((d, d))
        E[0, d - 1] = 1.0
        assert_close(step.second_step(E, 0 * m), step.pattern_second_step(E, 0 * m))


@pytest.mark.parametrize("d", [1, 2, 5, 12])
def test_symmetric_kernel_equals_symmetrized_pattern_step(d):
    rs = np.random.default_rng(7 + d)
    for sketch in diagonal_sketches(d, rs):
        A, c, P, m = _instance(d, rs, symmetric=True)
        P = P @ P.T
        step = SketchedStep(sketch, A, c, 0.21 / np.linalg.norm(A, 2))
        mean, second = step.advance(m, P)
        expected = step.pattern_second_step(P, m)
        assert_close(mean, step.mean_step(m))
        assert_close(second, 0.5 * (expected + expected.T))
        np.testing.assert_array_equal(second, second.T)


@pytest.mark.parametrize("sketch", [Bernoulli(0.4, 6), RandK(6, 2), Identity(6)], ids=repr)
@pytest.mark.parametrize("symmetric", [True, False])
def test_propagation_equals_pattern_propagation(sketch, symmetric):
    rs = np.random.default_rng(3)
    A, c, _, y0 = _instance(6, rs, symmetric)
    step = SketchedStep(sketch, A, c, 0.2 / (np.linalg.norm(A, 2) * sketch.L_S_max))
    points = np.array([0, 1, 17, 300])
    fast = propagate(step, y0, np.outer(y0, y0), 300, points)
    slow = propagate(PatternStep(step), y0, np.outer(y0, y0), 300, points)
    for a, b in zip(fast, slow, strict=True):
        assert_close(a, b)


def test_fused_kernel_only_for_option_one_with_closed_form_sketches():
    rs = np.random.default_rng(0)
    A, c, P, m = _instance(4, rs, symmetric=True)
    discrete = Discrete(np.array([[2.0, 0, 2, 0], [0, 2.0, 0, 2]]), np.array([0.5, 0.5]))
    assert _closed_form_patterns(discrete) is None
    assert SketchedStep(discrete, A, c, 0.1)._patterns is None
    comps = (np.stack([A, A]), np.stack([c, c]))
    minibatch = SketchedStep(RandK(4, 2), A, c, 0.1, components=comps, alpha=0.5, beta=0.5)
    assert minibatch._patterns is None
    compressed = SketchedStep(RandK(4, 2), A, c, 0.1, compressor=Bernoulli(0.5, 4))
    assert compressed._patterns is None
    perm = SketchedStep(Permutation(4, 2), A, c, 0.1)
    assert perm._patterns is not None
    assert_close(perm.second_step(P, m), SketchedStep(RandK(4, 2), A, c, 0.1).second_step(P, m))
