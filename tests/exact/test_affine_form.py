"""The affine form s⁺ = M s + r of every moment map, and its compiled propagation.

``mastbench.exact.affine_form`` assembles, from a method's own quantities, one matrix M and
vector r acting on s = (m, vech P); ``mastbench.exact.numba_kernel.propagate_affine`` runs it
for all steps in one compiled call.  The reference is the NumPy step of each map
(:meth:`MomentMap.advance`, the same formulas the contract test pins to Monte Carlo): one
affine step must equal one NumPy step, and the NumPy affine loop and the compiled propagation
the NumPy loop, to rounding, for every method with a moment map (DSGD options I and II with
minibatches and a compressor, importance sampling over diagonal and dense Discrete sketches,
distributed DSGD with a joint Permutation (IST) or independent sketches, L-SVRDSG fixed and
resampled).  Tests of the compiled loop skip without numba; the others run everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.random import least_squares, quadratic

from mastbench import exact
from mastbench.algorithms.mast import DSGD, LSVRDSG, Clients, DistributedDSGD, DSGDImportance
from mastbench.backend import rng
from mastbench.exact import numba_kernel
from mastbench.exact.affine_form import (
    MAX_AFFINE_DIM,
    NUMPY_AFFINE_MAX_DIM,
    AffineForm,
    diagonal_moment_tensors,
)
from mastbench.exact.moment_maps import EnumeratedStep, SketchedStep, propagate
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Identity, Permutation, RandK
from tests.exact.numpy_loop import numpy_propagate


def _cases() -> dict[str, tuple]:
    """name → (method, problem): one case per method and variant, random data."""
    d = 5
    q = quadratic(d, 10.0, rng(1))
    lsq = least_squares(7, d, rng(2), l2=0.3)
    v = np.linspace(-1.0, 1.0, d)
    clients = Clients([quadratic(6, 5.0, g) for g in rng(3).spawn(3)])
    L_clients = max(p.L for p in clients)
    G = np.random.default_rng(4).normal(size=(d, d)) * 0.3
    dense = Discrete(np.stack([np.eye(d) + G, np.eye(d) - G]), np.array([0.5, 0.5]))
    uniform = Discrete(*RandK(4, 2).support())
    q4 = quadratic(4, 10.0, rng(5))
    return {
        "option I, Bernoulli with per-coordinate p": (
            DSGD(sketch=Bernoulli(np.linspace(0.4, 0.9, d)), gamma=0.1 / q.L, shift=v),
            q,
        ),
        "option II, with replacement": (
            DSGD(sketch=Identity(d), gamma=0.05 / lsq.L_max, option="II", batch_size=3),
            lsq,
        ),
        "option II, compressor": (
            DSGD(
                sketch=Bernoulli(0.6, d),
                gamma=0.05 / lsq.L_max,
                option="II",
                batch_size=2,
                replace=False,
                compressor=RandK(d, 3),
                shift=v,
            ),
            lsq,
        ),
        "option II, Discrete sketch": (
            DSGD(
                sketch=Discrete(*RandK(d, 3).support()),
                gamma=0.05 / lsq.L_max,
                option="II",
                batch_size=4,
                replace=False,
            ),
            lsq,
        ),
        "importance, diagonal Discrete": (
            DSGDImportance(sketch=Discrete(*RandK(d, 2).support()), gamma=0.1 / q.L, shift=v),
            q,
        ),
        "importance, dense Discrete": (DSGDImportance(sketch=dense, gamma=0.1 / q.L), q),
        "IST, joint Permutation": (
            DistributedDSGD(sketches=Permutation(6, 3), gamma=0.5 / (9 * L_clients)),
            clients,
        ),
        "distributed, independent sketches": (
            DistributedDSGD(
                sketches=[RandK(6, 2), Bernoulli(0.5, 6), Permutation(6, 3)],
                gamma=0.2 / (9 * L_clients),
                shift=np.ones(6),
            ),
            clients,
        ),
        "L-SVRDSG, fixed": (LSVRDSG(sketch=uniform, gamma=1 / (24 * q4.L), prob=0.3, batch=2), q4),
        "L-SVRDSG, resampled": (
            LSVRDSG(
                sketch=uniform, gamma=1 / (24 * q4.L), prob=0.5, batch=3, minibatch="resampled"
            ),
            q4,
        ),
    }


CASES = _cases()


def _state(D: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rs = np.random.default_rng(seed)
    m = rs.normal(size=D)
    X = rs.normal(size=(D, D))
    return m, X @ X.T / D + np.outer(m, m)


def _assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    """|actual − expected| ≤ rtol·max|expected| entrywise (P's entries range widely)."""
    scale = float(np.max(np.abs(expected)))
    assert np.max(np.abs(actual - expected)) <= rtol * scale, (
        np.max(np.abs(actual - expected)) / scale
    )


# -- one affine step is one step of the map ---------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_one_affine_step_is_one_numpy_step(name):
    method, problem = CASES[name]
    step = method.moment_map(problem)
    form = step.affine
    assert form is not None and form.dim == step.dim
    for seed in range(3):
        m, P = _state(step.dim, seed)
        expected_m, expected_P = step.advance(m, P)
        actual_m, actual_P = form.unpack(form.M @ form.pack(m, P) + form.r)
        _assert_close(actual_m, expected_m, 1e-13)
        _assert_close(actual_P, expected_P, 1e-13)


@pytest.mark.parametrize(
    "sketch",
    [Bernoulli(np.linspace(0.3, 1.0, 4)), RandK(4, 2), Identity(4), Permutation(4, 2)],
    ids=repr,
)
def test_moment_tensors_of_closed_forms_equal_enumeration(sketch):
    """μ3, μ4 from the pattern weights equal E[s⊗s⊗s(⊗s)] over the support."""
    mu3, mu4 = diagonal_moment_tensors(sketch)
    s, w = (sketch.marginal if isinstance(sketch, Permutation) else sketch).support()
    np.testing.assert_allclose(mu3, np.einsum("n,ni,nj,nk->ijk", w, s, s, s), atol=1e-12)
    np.testing.assert_allclose(mu4, np.einsum("n,ni,nj,nk,nl->ijkl", w, s, s, s, s), atol=1e-12)


def test_no_affine_form_for_a_dense_sketch_or_beyond_the_dimension_limit():
    d = 3
    A, c = np.eye(d), np.ones(d)
    assert diagonal_moment_tensors(Gaussian(d, 2)) is None
    G = np.full((d, d), 0.2)
    dense = Discrete(np.stack([np.eye(d) + G, np.eye(d) - G]), np.array([0.5, 0.5]))
    assert SketchedStep(dense, A, c, 0.1).affine is None
    big = MAX_AFFINE_DIM + 1
    assert SketchedStep(Bernoulli(0.5, big), np.eye(big), np.ones(big), 0.1).affine is None
    Ks = np.broadcast_to(np.eye(big), (2, big, big))
    assert EnumeratedStep(Ks, np.zeros((2, big)), np.array([0.5, 0.5])).affine is None


# -- the NumPy affine loop equals the NumPy loop of each map's step -----------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_affine_propagation_equals_numpy_loop(name):
    method, problem = CASES[name]
    step = method.moment_map(problem)
    m0, P0 = _state(step.dim, 7)
    points = np.array([0, 1, 2, 37, 400])
    fast_m, fast_P = step.affine.propagate(m0, P0, 400, points)
    slow_m, slow_P = numpy_propagate(step, m0, P0, 400, points)
    for t in range(len(points)):
        _assert_close(fast_m[t], slow_m[t], 1e-12)
        _assert_close(fast_P[t], slow_P[t], 1e-12)
        np.testing.assert_array_equal(fast_P[t], fast_P[t].T)


def test_small_maps_without_a_fused_step_propagate_by_their_affine_form(monkeypatch):
    """Without the compiled loop, maps of D ≤ NUMPY_AFFINE_MAX_DIM with no fused step run
    s⁺ = M s + r in NumPy; the fused DSGD step, larger maps and ``enabled = False`` do not."""
    calls: list[int] = []
    loop = AffineForm.propagate

    def spy(form, *args):
        calls.append(form.dim)
        return loop(form, *args)

    monkeypatch.setattr(AffineForm, "propagate", spy)
    monkeypatch.setattr(numba_kernel, "_compiled", lambda: None)
    points = np.array([0, 5])
    for name in ("option II, compressor", "distributed, independent sketches", "L-SVRDSG, fixed"):
        method, problem = CASES[name]
        step = method.moment_map(problem)
        propagate(step, *_state(step.dim, 1), 5, points)
        assert calls[-1] == step.dim <= NUMPY_AFFINE_MAX_DIM
    count = len(calls)
    method, problem = CASES["option I, Bernoulli with per-coordinate p"]
    step = method.moment_map(problem)
    assert step.symmetric_kernel is not None
    propagate(step, *_state(step.dim, 1), 5, points)
    big = NUMPY_AFFINE_MAX_DIM + 1
    wide = SketchedStep(RandK(big, 2), np.eye(big) + np.eye(big, k=1), np.ones(big), 0.1)
    propagate(wide, *_state(big, 1), 5, points)
    method, problem = CASES["option II, compressor"]
    step = method.moment_map(problem)
    numpy_propagate(step, *_state(step.dim, 1), 5, points)
    assert len(calls) == count


# -- the compiled propagation equals the NumPy loop ---------------------------------------------


@pytest.mark.parametrize("sparse", [False, True], ids=["dense M", "sparse M"])
@pytest.mark.parametrize("name", list(CASES))
def test_compiled_propagation_equals_numpy_loop(compiled, monkeypatch, name, sparse):
    monkeypatch.setattr(numba_kernel, "SPARSE_DENSITY", 1.0 if sparse else 0.0)
    method, problem = CASES[name]
    step = method.moment_map(problem)
    m0, P0 = _state(step.dim, 7)
    points = np.array([0, 1, 2, 37, 400])
    fast_m, fast_P = numba_kernel.propagate_affine(step.affine, m0, P0, 400, points)
    slow_m, slow_P = numpy_propagate(step, m0, P0, 400, points)
    for t in range(len(points)):
        _assert_close(fast_m[t], slow_m[t], 1e-12)
        _assert_close(fast_P[t], slow_P[t], 1e-12)
        np.testing.assert_array_equal(fast_P[t], fast_P[t].T)


@pytest.mark.parametrize("name", ["option II, compressor", "IST, joint Permutation"])
def test_exact_moments_use_the_compiled_loop_and_agree(compiled, monkeypatch, name):
    method, problem = CASES[name]
    calls = []
    kernel = numba_kernel.propagate_affine

    def spy(*args):
        calls.append(args[0].dim)
        return kernel(*args)

    monkeypatch.setattr(numba_kernel, "propagate_affine", spy)
    d = method.moment_objective(problem).shift_host.size
    x0 = np.linspace(1.0, -1.0, d)
    fast = exact.moments(method, problem, x0, 300, [0, 10, 300])
    assert calls == [d]
    monkeypatch.setattr(numba_kernel, "enabled", False)
    slow = exact.moments(method, problem, x0, 300, [0, 10, 300])
    assert calls == [d]
    for key in ("dist2", "subopt_D", "subopt", "gradnorm2_D"):
        _assert_close(getattr(fast, key), getattr(slow, key), 1e-12)
    _assert_close(fast.second, slow.second, 1e-12)


def test_small_propagations_do_not_compile(monkeypatch):
    method, problem = CASES["L-SVRDSG, fixed"]  # D = 12: 1000·12³ < MIN_WORK
    monkeypatch.setattr(numba_kernel, "propagate_affine", lambda *a: pytest.fail("compiled"))
    result = exact.moments(method, problem, np.ones(4), 1000, [0, 1000])
    assert result.dist2.shape == (2,)


def test_propagate_affine_without_numba_raises(monkeypatch):
    monkeypatch.setattr(numba_kernel, "_jit", lambda name: None)
    method, problem = CASES["importance, dense Discrete"]
    step = method.moment_map(problem)
    with pytest.raises(RuntimeError, match="numba"):
        numba_kernel.propagate_affine(step.affine, *_state(step.dim, 0), 3, np.array([0, 3]))
