"""The MAST objective f_D(x) = E_S f(v + S(x − v)): oracles, closed forms, minima gaps."""

import mastbench.problems.random as random_problems
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastbench.problems import LeastSquares, Logistic, MASTObjective, Quadratic
from mastbench.theory.mast.strategies import mast_instances

from mastbench import strategies as mst
from mastbench.backend import rng, to_numpy
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Identity, Permutation, RandK


def _dense_discrete(d, seed=0):
    gen = np.random.default_rng(seed)
    B = gen.normal(size=(d, d))
    return Discrete(np.stack([np.eye(d) + B, np.eye(d) - B, np.eye(d)]), np.array([0.3, 0.3, 0.4]))


def _sketch(kind, d):
    return {
        "bernoulli": lambda: Bernoulli(np.linspace(0.3, 0.9, d)),
        "randk": lambda: RandK(d, 2),
        "dense": lambda: _dense_discrete(d),
    }[kind]()


def _brute_force(problem, sketch, v, x):
    """Σ_n p_n f(v + S_n(x − v)) with full matrices, one outcome at a time (host).

    A Permutation sketch's single-client distribution is its marginal Rand-(d/n).
    """
    outcomes, probs = getattr(sketch, "marginal", sketch).support()
    mats = [np.diag(s) for s in outcomes] if outcomes.ndim == 2 else list(outcomes)
    return sum(p * problem.value_host(v + S @ (x - v)) for S, p in zip(mats, probs, strict=True))


@pytest.mark.parametrize("kind", ["bernoulli", "randk", "dense"])
@pytest.mark.parametrize("family", ["quadratic", "logistic"])
def test_gradient_and_value_on_every_backend(xp, kind, family):
    gen = xp.rng(1)
    d = 4
    problem = (
        random_problems.quadratic(d, 20.0, gen)
        if family == "quadratic"
        else random_problems.logistic(40, d, gen, l2=0.1)
    )
    v = np.array([0.5, -1.0, 0.25, 1.0])
    F = MASTObjective(problem, _sketch(kind, d), xp.asarray(v))
    points = np.random.default_rng(2).normal(size=(3, d))
    x = xp.asarray(points)
    values, grads = F.value(x), F.grad(x)
    assert values.shape == (3,) and grads.shape == (3, d)
    if xp.device is not None:
        assert values.device == xp.device and grads.device == xp.device
    brute = [_brute_force(problem, F.sketch, v, p) for p in points]
    np.testing.assert_allclose(to_numpy(values), brute, rtol=1e-12, atol=1e-12)
    single = F.value(xp.asarray(points[0]))
    assert single.shape == () and abs(float(single) - brute[0]) <= 1e-12 * max(1, abs(brute[0]))
    # central finite differences of the value
    h = 1e-6
    eye = np.eye(d)
    fd = np.array(
        [
            [(F.value_host(p + h * e) - F.value_host(p - h * e)) / (2 * h) for e in eye]
            for p in points
        ]
    )
    np.testing.assert_allclose(to_numpy(grads), fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["bernoulli", "randk", "dense"])
def test_hessian_matches_finite_differences_of_the_gradient(kind):
    problem = random_problems.logistic(30, 3, rng(4), l2=0.05)
    F = MASTObjective(problem, _sketch(kind, 3), np.array([1.0, -0.5, 0.2]))
    x = np.array([0.3, 0.1, -0.7])
    h = 1e-6
    fd = np.array([(F.grad_host(x + h * e) - F.grad_host(x - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(to_numpy(F.hess(x)), fd.T, rtol=1e-6, atol=1e-8)


@given(data=st.data())
def test_quadratic_closed_form_equals_enumeration(data):
    sketch = data.draw(mst.sketches(max_d=4))
    d = sketch.d
    problem = data.draw(mst.quadratics(d=d))
    gen = np.random.default_rng(data.draw(mst.seeds()))
    v, x = gen.normal(size=d), gen.normal(size=(3, d))
    F = MASTObjective(problem, sketch, v)
    brute = np.array([_brute_force(problem, sketch, v, p) for p in x])
    scale = max(1.0, float(np.max(np.abs(brute))))
    np.testing.assert_allclose(F.value(x), brute, rtol=0, atol=1e-10 * scale)
    probs = F.support()[1]
    np.testing.assert_allclose(F.sketch_values(x) @ probs, F.value(x), rtol=0, atol=1e-10 * scale)
    grads = np.einsum("rnd,n->rd", F.sketch_grads(x), probs)
    np.testing.assert_allclose(grads, F.grad(x), rtol=0, atol=1e-9 * scale)
    # f_D(v) = f(v) under E S = I, and the regularizer form f_D = f + ½‖x − v‖²_M
    assert F.value_host(v) == pytest.approx(problem.value_host(v), abs=1e-10 * scale)
    reg = problem.value(x) + 0.5 * np.einsum("ri,ij,rj->r", x - v, F.M, x - v)
    np.testing.assert_allclose(F.value(x), reg, rtol=0, atol=1e-10 * scale)


def test_regularizer_formulas_of_the_reference():
    """M for Bernoulli and Rand-K as written in mast.md §2.1 (independent of the sketch code)."""
    problem = random_problems.quadratic(5, 30.0, rng(3))
    A = problem.quadratic_form()[0]
    p = np.array([0.2, 0.4, 0.5, 0.8, 1.0])
    np.testing.assert_allclose(
        MASTObjective(problem, Bernoulli(p)).M, np.diag(np.diag(A) * (1 - p) / p), atol=1e-12
    )
    d, k = 5, 2
    expected = (d - k) / (k * (d - 1)) * (d * np.diag(np.diag(A)) - A)
    np.testing.assert_allclose(MASTObjective(problem, RandK(d, k)).M, expected, atol=1e-12)


@given(data=st.data())
def test_minima_and_gaps_against_direct_solves(data):
    sketch = data.draw(mst.sketches(max_d=4))
    d = sketch.d
    problem = data.draw(mst.quadratics(d=d))
    v = np.random.default_rng(data.draw(mst.seeds())).normal(size=d)
    F = MASTObjective(problem, sketch, v)
    A, b, _ = problem.quadratic_form()
    outcomes, probs = F.support()
    mats = np.array([np.diag(s) for s in outcomes]) if outcomes.ndim == 2 else outcomes
    A_bar = np.einsum("n,nki,kl,nlj->ij", probs, mats, A, mats)
    x_D = np.linalg.solve(A_bar, A_bar @ v - (A @ v - b))
    scale = max(1.0, abs(problem.f_star), float(np.abs(A).max()) * float(v @ v))
    np.testing.assert_allclose(F.x_star_host, x_D, atol=1e-8 * max(1.0, np.abs(x_D).max()))
    assert F.f_star == pytest.approx(F.value_host(x_D), abs=1e-10 * scale)
    assert F.minima_gap == pytest.approx(F.f_star - problem.f_star, abs=1e-9 * scale)
    # T-GAP (e): f* ≤ f_D* ≤ f* + (L/2)(L_D − 1)‖x* − v‖², and 0 ≤ Δ' ≤ Δ
    tol = 1e-9 * scale
    upper = 0.5 * problem.L * (sketch.L_D - 1) * float(np.sum((problem.x_star_host - v) ** 2))
    assert -tol <= F.minima_gap <= upper + tol
    assert -tol <= F.minima_gap_sketchwise <= F.minima_gap + tol
    assert F.expected_sketch_infimum >= problem.f_star - tol


def test_interpolation_at_the_minimizer():
    problem = random_problems.quadratic(4, 10.0, rng(5))
    F = MASTObjective(problem, Bernoulli(np.array([0.3, 0.5, 0.7, 0.9])), problem.x_star_host)
    assert abs(F.minima_gap) <= 1e-12
    np.testing.assert_allclose(F.x_star_host, problem.x_star_host, atol=1e-12)
    logistic = random_problems.logistic(30, 3, rng(6), l2=0.1)
    x_star = MASTObjective(logistic, RandK(3, 1)).problem_x_star_host
    G = MASTObjective(logistic, RandK(3, 1), x_star)
    assert abs(G.minima_gap) <= 1e-12
    np.testing.assert_allclose(G.x_star_host, x_star, atol=1e-9)


@pytest.mark.parametrize("t", [1.0, -2.5])
def test_duplicated_feature_least_squares_interpolates(t):
    """mast.md §2.3(g): X = [a a], y = t·a, v = 0, Rand-1 in d = 2: Δ = 0, x_D* = (t/2, t/2)."""
    a = np.array([1.0, -2.0, 0.5])
    X = np.stack([a, a], axis=1)
    problem = LeastSquares(X, t * a)
    F = MASTObjective(problem, RandK(2, 1))
    assert problem.mu == 0 and problem.f_star == pytest.approx(0, abs=1e-14)
    assert abs(F.minima_gap) <= 1e-12 and abs(F.f_star) <= 1e-12
    np.testing.assert_allclose(F.x_star_host, [t / 2, t / 2], atol=1e-12)
    assert np.linalg.norm(F.x_star_host) > 0


@pytest.mark.parametrize("kind", ["bernoulli", "randk", "dense"])
def test_logistic_minimizer_and_gap_relations(kind):
    problem = random_problems.logistic(60, 4, rng(7), l2=0.05)
    v = np.array([1.0, 0.0, -1.0, 0.5])
    F = MASTObjective(problem, _sketch(kind, 4), v)
    assert F.certificate <= 1e-11
    assert np.linalg.norm(F.grad_host(F.x_star_host)) <= 1e-11
    assert F.problem_f_star == pytest.approx(problem.f_star, abs=1e-12)
    assert F.minima_gap >= 0 and F.minima_gap_sketchwise >= -1e-12
    assert F.minima_gap_sketchwise <= F.minima_gap + 1e-12
    x = np.random.default_rng(0).normal(size=(5, 4))
    assert np.all(F.value(x) >= problem.value(x) - 1e-12)  # Jensen, T-GAP (b)
    assert F.mu == pytest.approx(0.05 * F.sketch.mu_D) and F.L <= problem.L * F.sketch.L_D + 1e-12


def test_logistic_sketch_infima_match_a_restricted_solve():
    """f_S^inf = min over the kept coordinates of f, the others fixed at v (scipy BFGS)."""
    from scipy.optimize import minimize

    problem = random_problems.logistic(50, 3, rng(8), l2=0.2)
    v = np.array([0.5, 1.0, -1.0])
    F = MASTObjective(problem, Bernoulli(np.array([0.5, 0.6, 0.7])), v)
    outcomes, probs = F.support()
    assert outcomes.shape == (8, 3)
    for s, infimum in zip(outcomes, F.sketch_infima, strict=True):
        kept = s != 0

        def restricted(z, kept=kept):
            point = v.copy()
            point[kept] = z
            return problem.value_host(point)

        if not kept.any():
            assert infimum == pytest.approx(problem.value_host(v), abs=1e-15)
            continue
        best = minimize(restricted, v[kept], method="BFGS", options={"gtol": 1e-10}).fun
        assert infimum == pytest.approx(best, abs=1e-9)
    assert F.expected_sketch_infimum == pytest.approx(F.sketch_infima @ probs)


def test_permutation_acts_through_its_marginal():
    problem = random_problems.quadratic(4, 5.0, rng(9))
    v = np.ones(4)
    P = MASTObjective(problem, Permutation(4, 2), v)
    R = MASTObjective(problem, RandK(4, 2), v)
    assert P.minima_gap == pytest.approx(R.minima_gap, abs=1e-12)
    assert P.minima_gap_sketchwise == pytest.approx(R.minima_gap_sketchwise, abs=1e-12)


def test_gaussian_sketch_quadratic_closed_form_only():
    problem = random_problems.quadratic(3, 5.0, rng(10))
    v = np.array([1.0, 2.0, -1.0])
    F = MASTObjective(problem, Gaussian(3, 2), v)
    assert F.value_host(v) == pytest.approx(problem.value_host(v), abs=1e-12)
    assert F.minima_gap >= 0
    with pytest.raises(ValueError, match="cannot be enumerated"):
        F.expected_sketch_infimum  # noqa: B018
    logistic = random_problems.logistic(20, 3, rng(11), l2=0.1)
    with pytest.raises(ValueError, match="not quadratic"):
        MASTObjective(logistic, Gaussian(3, 2))


def test_bad_input():
    problem = random_problems.quadratic(3, 5.0, rng(12))
    with pytest.raises(TypeError, match="problem must be a Problem"):
        MASTObjective(np.eye(3), Identity(3))
    with pytest.raises(TypeError, match="sketch must be a sketch"):
        MASTObjective(problem, np.eye(3))
    with pytest.raises(ValueError, match="dimension"):
        MASTObjective(problem, Identity(4))
    with pytest.raises(ValueError, match="shift"):
        MASTObjective(problem, Identity(3), np.ones(4))
    with pytest.raises(ValueError, match="shift"):
        MASTObjective(problem, Identity(3), np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="max_outcomes"):
        MASTObjective(problem, Identity(3), max_outcomes=0)
    logistic = random_problems.logistic(20, 13, rng(13), l2=0.1)
    with pytest.raises(ValueError, match="support"):
        MASTObjective(logistic, Bernoulli(0.5, d=13))
    flat = Logistic(to_numpy(logistic.X)[:, :3], to_numpy(logistic.y), l2=0.0)
    with pytest.raises(ValueError, match="μ_f > 0"):
        MASTObjective(flat, RandK(3, 1)).x_star_host  # noqa: B018
    F = MASTObjective(random_problems.logistic(20, 3, rng(14), l2=0.1), RandK(3, 1))
    with pytest.raises(ValueError, match="quadratic problems only"):
        F.A_bar  # noqa: B018
    with pytest.raises(ValueError, match="single point"):
        F.hess(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        F.value(np.zeros(4))
    singular = Quadratic(np.diag([1.0, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="unbounded"):
        MASTObjective(singular, Identity(2)).x_star_host  # noqa: B018


def test_constants_aliases_and_certificate():
    problem = random_problems.quadratic(4, 10.0, rng(15))
    F = MASTObjective(problem, RandK(4, 2), np.ones(4))
    eig = np.linalg.eigvalsh(F.A_bar)
    assert F.L == pytest.approx(eig[-1]) and F.mu == pytest.approx(eig[0])
    np.testing.assert_array_equal(F.hess(F.x_star), F.A_bar)
    np.testing.assert_array_equal(F.x_D_star, F.x_star_host)
    assert F.f_D_star == F.f_star and F.certificate <= 1e-12 * max(1.0, F.L)
    logistic = random_problems.logistic(30, 3, rng(16), l2=0.1)
    G = MASTObjective(logistic, Bernoulli(np.array([0.4, 0.6, 0.8])), np.ones(3))
    points = np.random.default_rng(3).normal(size=(5, 3)) * 3
    top = max(np.linalg.eigvalsh(G.hess(p))[-1] for p in points)
    assert top <= G.L <= logistic.L * G.sketch.L_D


def test_expected_sketch_grad_norm2_by_brute_force(xp):
    problem = random_problems.logistic(25, 3, xp.rng(17), l2=0.1)
    sketch = _dense_discrete(3, seed=4)
    v = np.array([0.2, -0.3, 1.0])
    F = MASTObjective(problem, sketch, xp.asarray(v))
    x = np.random.default_rng(5).normal(size=(2, 3))
    outcomes, probs = sketch.support()
    expected = [
        sum(
            p * np.sum((S.T @ problem.grad_host(v + S @ (point - v))) ** 2)
            for S, p in zip(outcomes, probs, strict=True)
        )
        for point in x
    ]
    measured = to_numpy(F.expected_sketch_grad_norm2(xp.asarray(x)))
    np.testing.assert_allclose(measured, expected, rtol=1e-12)


def test_gaussian_closed_form_on_every_backend(xp):
    problem = random_problems.quadratic(3, 5.0, xp.rng(18))
    F = MASTObjective(problem, Gaussian(3, 4))
    x = xp.asarray(np.random.default_rng(6).normal(size=(4, 3)))
    A = problem.quadratic_form()[0]
    host = to_numpy(x)
    reg = to_numpy(problem.value(x)) + 0.5 * np.einsum("ri,ij,rj->r", host, F.A_bar - A, host)
    np.testing.assert_allclose(to_numpy(F.value(x)), reg, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        to_numpy(F.grad(x)), host @ F.A_bar - to_numpy(problem.b), atol=1e-12
    )


@settings(max_examples=10)
@given(instance=mast_instances(logistic=True, max_d=3))
def test_logistic_minima_gap_relations(instance):
    """T-GAP (e) and Δ' ≤ Δ on random logistic instances (Newton on the enumerated f_D)."""
    F = MASTObjective(instance.problem, instance.sketch, instance.shift)
    problem = instance.problem
    tol = 1e-10 * max(1.0, abs(F.problem_f_star))
    dist = float(np.sum((F.problem_x_star_host - instance.shift) ** 2))
    assert -tol <= F.minima_gap <= 0.5 * problem.L * (instance.sketch.L_D - 1) * dist + tol
    assert -tol <= F.minima_gap_sketchwise <= F.minima_gap + tol
    assert F.certificate <= 1e-11 * max(1.0, np.linalg.norm(F.grad_host(F.shift_host)))
