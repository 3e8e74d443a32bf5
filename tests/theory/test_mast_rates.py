"""MAST rate theorems: they hold on the quick instances, their controls are detected, and the
branch-enumeration moments agree with brute force and with the batched algorithms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings

import theory
from mastbench.algorithms import distributed_dsgd, dsgd, l_svrdsg
from mastbench.backend import rng
from mastbench.montecarlo import estimate, from_trace
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Permutation, RandK
from mastbench.verify import verify, verify_control
from problems.random import least_squares, quadratic
from theory._mast_moments import (
    distributed_branches,
    dsgd_branches,
    lsvrdsg_recursion,
    minibatch_branches,
    quadratic_readout,
)
from theory._mast_rates import quadratic_instance

RATE_IDS = (
    "mast.sc",
    "mast.convex",
    "mast.nc",
    "mast.nc-corollary",
    "mast.abc",
    "mast.vr",
    "mast.vr-neighbourhood",
    "mast.dist",
    "mast.dist-dmax",
    "mast.ist-link",
    "mast.sc-logistic",
)
CASES = [(tid, i) for tid in RATE_IDS for i in range(len(theory.get(tid).instances(True)))]
CONTROLS = [(tid, c.name) for tid in RATE_IDS for c in theory.get(tid).controls]


@pytest.mark.parametrize(("theorem_id", "index"), CASES, ids=lambda v: str(v))
def test_theorem_holds_on_quick_instances(theorem_id, index):
    thm = theory.get(theorem_id)
    verdict = verify(thm, thm.instances(True)[index])
    assert verdict.status == "holds", verdict.summary()
    assert verdict.worst_ratio <= 1 + 1e-9


@pytest.mark.parametrize(("theorem_id", "control"), CONTROLS, ids=lambda v: str(v))
def test_negative_controls_are_detected(theorem_id, control):
    thm = theory.get(theorem_id)
    chosen = next(c for c in thm.controls if c.name == control)
    verdict = verify_control(thm, thm.instances(True)[0], chosen)
    assert verdict.status == "violated", verdict.summary()


def test_every_rate_theorem_is_documented_and_tagged():
    for theorem_id in RATE_IDS:
        thm = theory.get(theorem_id)
        assert "2311.16086" in thm.paper and thm.tag in ("D", "R/D", "R/U")
        assert "Statement." in thm.doc and "Reference." in thm.doc
        assert thm.controls, theorem_id


def test_interpolation_gives_pure_geometric_decay():
    thm = theory.get("mast.sc")
    inst = next(i for i in thm.instances(True) if "interpolation" in i.name)
    evidence = verify(thm, inst).evidence
    assert evidence.extra["Delta"] < 1e-12
    t = evidence.t
    assert np.all(
        evidence.measured
        <= evidence.bound[0]
        * (1 - thm.default_params(inst)["step"] * inst.problem.mu * inst.sketch.mu_D) ** t
        * (1 + 1e-9)
        + 1e-12
    )


def test_sharper_gap_gives_smaller_bound():
    thm = theory.get("mast.sc")
    delta, prime = thm.instances(True)[:2]
    ev_delta, ev_prime = verify(thm, delta).evidence, verify(thm, prime).evidence
    np.testing.assert_allclose(ev_delta.measured, ev_prime.measured)
    assert ev_prime.extra["Delta_prime"] < ev_delta.extra["Delta"]
    assert np.all(ev_prime.bound <= ev_delta.bound) and ev_prime.bound[-1] < ev_delta.bound[-1]


def test_assumptions_and_step_range_give_not_applicable():
    sc = theory.get("mast.sc")
    singular = quadratic_instance("singular", quadratic(3, 5.0, rng(0), mu=0.0), RandK(3, 1))
    assert "strongly convex" in verify(sc, singular).reasons[0]
    gaussian = quadratic_instance("gaussian", quadratic(3, 5.0, rng(0)), Gaussian(3, 2))
    assert "finite" in verify(sc, gaussian).reasons[0]
    inst = sc.instances(True)[0]
    beyond = verify(sc, inst, {"step": 1.01 * sc.step_size(inst)})
    assert beyond.status == "not applicable" and "outside" in beyond.reasons[0]
    vr = theory.get("mast.vr")
    skewed = quadratic_instance(
        "skewed",
        quadratic(2, 2.0, rng(0)),
        Discrete(np.array([[4 / 3, 4 / 3], [0.0, 0.0]]), np.array([0.75, 0.25])),
    )
    assert any("uniform" in r for r in verify(vr, skewed).reasons)


@settings(max_examples=8)
@given(theory.get("mast.sc").strategy())
def test_sc_holds_on_generated_instances(instance):
    verdict = verify(theory.get("mast.sc"), instance)
    assert verdict.status in ("holds", "not applicable"), verdict.summary()


# -- the exact branch-enumeration moments --
def _brute_force_dsgd(A, c, sketch, step, y0, T):
    """E‖y_T − y*‖² by enumerating all |supp|^T sketch paths."""
    values, probs = sketch.support()
    y_star = -np.linalg.solve(sketch.expected_sandwich(A), c)
    total = 0.0
    for path in itertools.product(range(len(probs)), repeat=T):
        y = y0.copy()
        for j in path:
            s = values[j]
            y = y - step * s * (A @ (s * y) + c)
        total += np.prod(probs[list(path)]) * np.sum((y - y_star) ** 2)
    return total


def test_moments_equal_brute_force_path_enumeration():
    problem = quadratic(3, 4.0, rng(5))
    A, b, _ = problem.quadratic_form()
    v = np.array([0.2, -0.1, 0.4])
    c = A @ v - b
    y0 = np.array([1.0, -2.0, 0.5])
    for sketch in (Bernoulli(np.array([0.4, 0.6, 0.9])), RandK(3, 2)):
        y_star = -np.linalg.solve(sketch.expected_sandwich(A), c)
        ms, Ps = dsgd_branches(A, c, sketch, 0.1).moments(y0, np.outer(y0, y0), 4)
        exact = quadratic_readout(ms, Ps, np.eye(3), y_star)
        for T in (1, 4):
            np.testing.assert_allclose(
                exact[T], _brute_force_dsgd(A, c, sketch, 0.1, y0, T), rtol=1e-12
            )


def _inside(estimate_, exact):
    assert np.all(estimate_.contains(exact)), (estimate_.lower, exact, estimate_.upper)


def test_exact_moments_agree_with_batched_dsgd_monte_carlo():
    problem = quadratic(4, 5.0, rng(2))
    sketch = RandK(4, 2)
    v = np.array([0.5, 0.0, -0.5, 1.0])
    x0 = np.array([1.0, 1.0, -1.0, 0.0])
    A, b, _ = problem.quadratic_form()
    y_star = -np.linalg.solve(sketch.expected_sandwich(A), A @ v - b)
    step, T = 0.05, 40
    ms, Ps = dsgd_branches(A, A @ v - b, sketch, step).moments(x0 - v, np.outer(x0 - v, x0 - v), T)
    exact = quadratic_readout(ms, Ps, np.eye(4), y_star)
    trace = dsgd(
        problem,
        x0,
        sketch=sketch,
        step=step,
        iters=T,
        rng=rng(3),
        replicates=20000,
        shift=v,
        checkpoints=[5, 20, 40],
        metrics=("dist2",),
    )
    est = from_trace(trace, "dist2", level=0.999)
    _inside(est, exact[trace.iterations])


def test_exact_minibatch_moments_agree_with_option_two_monte_carlo():
    problem = least_squares(3, 2, rng(4), l2=0.3)
    sketch = Bernoulli(np.array([0.5, 0.8]))
    X, y = problem.X, problem.y
    A_i = np.einsum("ni,nj->nij", X, X) + 0.3 * np.eye(2)
    c_i = -y[:, None] * X
    x0 = np.array([1.0, -1.0])
    _, Ps = minibatch_branches(A_i, c_i, sketch, 0.1, 2).moments(x0, np.outer(x0, x0), 15)
    exact = np.einsum("tii->t", Ps)
    trace = dsgd(
        problem,
        x0,
        sketch=sketch,
        step=0.1,
        iters=15,
        rng=rng(5),
        replicates=20000,
        option="II",
        batch_size=2,
        checkpoints=[3, 15],
        keep_iterates=True,
        metrics=("dist2",),
    )
    est = estimate(np.sum(trace.iterates**2, axis=2), level=0.999, simultaneous=True)
    _inside(est, exact[trace.iterations])


def test_exact_moments_agree_with_ist_monte_carlo():
    problems = [quadratic(3, 3.0, g) for g in rng(6).spawn(3)]
    forms = [p.quadratic_form() for p in problems]
    x0 = np.array([1.0, 0.0, -1.0])
    rec = distributed_branches(
        [A for A, _, _ in forms], [-b for _, b, _ in forms], Permutation(3, 3), 0.1
    )
    _, Ps = rec.moments(x0, np.outer(x0, x0), 20)
    trace = distributed_dsgd(
        problems,
        x0,
        sketches=Permutation(3, 3),
        step=0.1,
        iters=20,
        rng=rng(7),
        replicates=20000,
        checkpoints=[5, 20],
        keep_iterates=True,
    )
    est = estimate(np.sum(trace.iterates**2, axis=2), level=0.999, simultaneous=True)
    _inside(est, np.einsum("tii->t", Ps)[trace.iterations])


@pytest.mark.parametrize("minibatch", ["fixed", "resampled"])
def test_exact_lsvrdsg_moments_agree_with_monte_carlo(minibatch):
    problem = quadratic(3, 3.0, rng(8))
    values, probs = RandK(3, 1).support()
    sketch = Discrete(values, probs)
    A, b, _ = problem.quadratic_form()
    S = np.einsum("ni,ij->nij", values, np.eye(3))
    x0 = np.array([1.0, -1.0, 2.0])
    step, prob, batch, T = 0.05, 0.3, 2, 30
    rec, start = lsvrdsg_recursion(A, -b, S, step, prob, batch, minibatch)
    z0 = np.concatenate([x0, x0, np.zeros(3)])
    m0, P0 = start.step(z0, np.outer(z0, z0))
    _, Ps = rec.moments(m0, P0, T)
    exact = np.einsum("tii->t", Ps[:, :3, :3])
    trace = l_svrdsg(
        problem,
        x0,
        sketch=sketch,
        step=step,
        iters=T,
        rng=rng(9),
        replicates=20000,
        prob=prob,
        batch=batch,
        minibatch=minibatch,
        checkpoints=[10, 30],
        keep_iterates=True,
    )
    est = estimate(np.sum(trace.iterates**2, axis=2), level=0.999, simultaneous=True)
    _inside(est, exact[trace.iterations])


def test_limit_is_the_fixed_point_and_divergence_is_reported():
    problem = quadratic(3, 4.0, rng(10))
    A, b, _ = problem.quadratic_form()
    rec = dsgd_branches(A, -b, RandK(3, 2), 0.05)
    m, P = rec.limit()
    m1, P1 = rec.step(m, P)
    np.testing.assert_allclose(m1, m, atol=1e-12)
    np.testing.assert_allclose(P1, P, atol=1e-12)
    _, Ps = rec.moments(np.zeros(3), np.zeros((3, 3)), 3000)
    np.testing.assert_allclose(Ps[-1], P, rtol=1e-8)
    with pytest.raises(ValueError, match="diverges"):
        dsgd_branches(A, -b, RandK(3, 2), 10.0).limit()
