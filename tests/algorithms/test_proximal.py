"""RAMDA family: the subproblem solvers, the algorithms' update rules, reductions to their
unregularized counterparts, schedules, backends and input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from mastbench.problems.composite import Composite
from mastbench.problems.group_sparse import random_group_logistic
from mastbench.problems.logistic import Logistic
from mastbench.problems.regularizers import L1, GroupLasso, Zero

from mastbench.algorithms import _subproblem as sub
from mastbench.algorithms import madgrad, mda, prox_gen, prox_sgd, prox_ssi, ramda, rmda
from mastbench.algorithms.proximal import expected_squared_gradient
from mastbench.backend import rng, to_numpy
from mastbench.strategies import ramda_subproblems
from tests.algorithms.cases import case_for


@pytest.fixture(scope="module")
def planted() -> Composite:
    return random_group_logistic(200, 6, 4, 2, rng(0), lam_ratio=0.4)


def _on(xp, problem: Composite) -> Composite:
    f = Logistic(xp.asarray(to_numpy(problem.f.X)), xp.asarray(to_numpy(problem.f.y)), problem.f.l2)
    return Composite(f, problem.psi)


# -- subproblem ---------------------------------------------------------------------------
@settings(max_examples=30)
@given(data=ramda_subproblems())
def test_exact_subproblem_is_stationary(data) -> None:
    psi, a, V, P, C = data
    Z = np.asarray(sub.solve_exact(psi, a, V, P, C))
    scale = 1.0 + np.abs(V).max() + np.abs(P * C).max()
    assert np.all(np.asarray(sub.subgradient_residual(psi, a, V, P, C, Z)) <= 1e-9 * scale)


@settings(max_examples=30)
@given(data=ramda_subproblems())
def test_screening_only_zeroes_exact_zeros(data) -> None:
    psi, a, V, P, C = data
    Z = np.asarray(sub.solve_exact(psi, a, V, P, C))
    screened = np.asarray(sub.screen(psi, a, V, P, C))
    assert not np.any(np.asarray(psi.support(Z))[screened])
    # and it is exact: every zero group of the solution is screened (Deleu & Bengio)
    np.testing.assert_array_equal(screened, ~np.asarray(psi.support(Z)))


def test_l1_exact_matches_closed_form() -> None:
    gen = np.random.default_rng(1)
    V, C = gen.standard_normal((2, 3, 7))
    P = gen.uniform(0.5, 2.0, (3, 7))
    Z = np.asarray(sub.solve_exact(L1(0.4), 2.0, V, P, C))
    x = C - V / P
    np.testing.assert_allclose(Z, np.sign(x) * np.maximum(np.abs(x) - 0.8 / P, 0), atol=0)


@pytest.mark.parametrize("stop", ["condition7", "heuristic"])
def test_pg_reaches_the_exact_solution(xp, stop) -> None:
    psi = GroupLasso.contiguous(5, 3, 0.4)
    gen = xp.rng(2)
    V, C, Z0 = gen.normal((3, 15)), gen.normal((3, 15)), gen.normal((3, 15))
    P = 0.5 + gen.random((3, 15))
    result = sub.solve_pg(psi, 1.5, V, P, C, Z0, tol=1e-9, stop=stop, max_iters=500)
    exact = sub.solve_exact(psi, 1.5, V, P, C)
    assert bool(np.all(to_numpy(result.satisfied)))
    tol = 1e-8 if stop == "condition7" else 1e-3
    np.testing.assert_allclose(to_numpy(result.Z), to_numpy(exact), atol=tol)
    if stop == "condition7":
        # condition (7): the certified residual bounds the true min-norm subgradient
        true = to_numpy(sub.subgradient_residual(psi, 1.5, V, P, C, result.Z))
        assert np.all(true <= to_numpy(result.residual) * (1 + 1e-9) + 1e-15)
        assert np.all(to_numpy(result.residual) <= 1e-9)
        q0 = to_numpy(sub.value(psi, 1.5, V, P, C, Z0))
        assert np.all(to_numpy(sub.value(psi, 1.5, V, P, C, result.Z)) <= q0)


def test_pg_heuristic_takes_at_least_two_steps() -> None:
    psi = GroupLasso.contiguous(2, 2, 10.0)
    V = np.zeros((1, 4))
    result = sub.solve_pg(psi, 1.0, V, np.ones((1, 4)), V, V, stop="heuristic")
    assert float(result.iterations[0]) == 2


def test_pg_reports_unmet_condition() -> None:
    psi = GroupLasso.contiguous(4, 3, 0.1)
    gen = np.random.default_rng(3)
    V, C = gen.standard_normal((2, 2, 12))
    P = np.exp(gen.uniform(0, np.log(1e3), (2, 12)))
    result = sub.solve_pg(psi, 1.0, V, P, C, C, tol=1e-14, max_iters=3)
    assert not np.any(np.asarray(result.satisfied))
    np.testing.assert_array_equal(np.asarray(result.iterations), [3, 3])


def test_pg_bad_input() -> None:
    psi, z = GroupLasso.contiguous(1, 2, 1.0), np.zeros((1, 2))
    with pytest.raises(ValueError, match="stop"):
        sub.solve_pg(psi, 1.0, z, z + 1, z, z, tol=1.0, stop="never")
    with pytest.raises(ValueError, match="tol"):
        sub.solve_pg(psi, 1.0, z, z + 1, z, z)


# -- update rules -------------------------------------------------------------------------
def test_ramda_first_step_by_hand(planted) -> None:
    """t = 1: s_1 = η, V = ηG, U = ηG², P = ∛U + ε, Ŵ¹ = exact argmin, W¹ = (1 − c)W⁰ + cŴ¹."""
    x0 = np.full(planted.d, 0.1)
    lr, c, eps = 0.05, 0.3, 1e-6
    trace = ramda(planted, x0, iters=1, lr=lr, momentum=c, eps=eps, solver="exact", output="avg")
    G = planted.f.grad(x0[None, :])
    hat = sub.solve_exact(planted.psi, lr, lr * G, np.cbrt(lr * G * G) + eps, x0[None, :])
    np.testing.assert_allclose(np.asarray(trace.x), (1 - c) * x0 + c * hat, atol=1e-14)


def test_rmda_first_steps_by_hand(planted) -> None:
    x0 = np.zeros(planted.d)
    lr = 0.2
    trace = rmda(planted, x0, iters=2, lr=lr, momentum=1.0)
    g1 = planted._grad_host(x0)
    V = lr * g1
    W1 = np.asarray(planted.psi.prox(x0 - V, lr))
    V = V + lr * math.sqrt(2) * planted._grad_host(W1)
    alpha = lr * (1 + math.sqrt(2))
    W2 = np.asarray(planted.psi.prox(x0 - V / math.sqrt(2), alpha / math.sqrt(2)))
    np.testing.assert_allclose(np.asarray(trace.x)[0], W2, atol=1e-14)


def test_prox_sgd_full_batch_is_proximal_gradient(planted) -> None:
    x0 = np.zeros(planted.d)
    trace = prox_sgd(planted, x0, iters=1, lr=0.5, rho=1.0)
    step = np.asarray(planted.psi.prox(x0 - 0.5 * planted._grad_host(x0), 0.5))
    np.testing.assert_allclose(np.asarray(trace.x)[0], step, atol=1e-15)


def test_prox_ssi_and_prox_gen_agree_without_momentum(planted) -> None:
    """With β1 = 0 and the same ε both take W − ηG/D then the D-weighted prox (exactly)."""
    x0 = np.zeros(planted.d)
    kw = dict(iters=5, lr=0.05, betas=(0.0, 0.999), eps=1e-6)
    a = prox_ssi(planted, x0, **kw)
    b = prox_gen(planted, x0, solver="exact", **kw)
    np.testing.assert_allclose(np.asarray(a.x), np.asarray(b.x), atol=1e-12)


def test_psi_zero_reduces_to_madgrad_and_mda() -> None:
    gen = rng(4)
    f = Logistic(gen.normal((80, 5)), np.where(np.arange(80) % 2 == 0, 1.0, -1.0), l2=0.01)
    problem = Composite(f, Zero())
    x0 = np.full(5, 0.2)
    kw = dict(iters=30, batch_size=4, replicates=3)
    a = ramda(problem, x0, rng=rng(5), solver="exact", output="avg", **kw)
    b = madgrad(f, x0, rng=rng(5), **kw)
    np.testing.assert_allclose(np.asarray(a.x), np.asarray(b.x), atol=1e-13)
    c = rmda(problem, x0, rng=rng(6), output="avg", **kw)
    d = mda(f, x0, rng=rng(6), **kw)
    np.testing.assert_allclose(np.asarray(c.x), np.asarray(d.x), atol=1e-13)
    l1_zero = ramda(Composite(f, L1(0.0)), x0, rng=rng(5), solver="exact", output="avg", **kw)
    np.testing.assert_allclose(np.asarray(l1_zero.x), np.asarray(b.x), atol=1e-13)


def test_pg_and_exact_solvers_agree(planted) -> None:
    x0 = np.zeros(planted.d)
    kw = dict(iters=40, lr=0.01, batch_size=10, replicates=2)
    pg = ramda(planted, x0, rng=rng(7), eps_sub=1e-10, pg_max_iters=2000, **kw)
    exact = ramda(planted, x0, rng=rng(7), solver="exact", **kw)
    np.testing.assert_allclose(np.asarray(pg.x), np.asarray(exact.x), atol=1e-7)
    assert pg.counters["unmet_condition7"][-1] == 0
    assert pg.counters["pg_iters"][-1] > 0


def test_restarts_and_ramp(planted) -> None:
    """A restart at k re-anchors W⁰ ← W and resets α: with c ramped to 1 in the last stage
    and full batch, the final stage equals a fresh run from the restart point."""
    x0 = np.zeros(planted.d)
    full = ramda(
        planted,
        x0,
        iters=30,
        lr=0.02,
        momentum=0.5,
        solver="exact",
        milestones=(20,),
        gamma=0.1,
        ramp=True,
        output="avg",
        keep_iterates=True,
        checkpoints=range(31),
    )
    W20 = full.iterates[20, 0]
    fresh = ramda(
        planted,
        W20,
        iters=10,
        lr=0.002,
        momentum=0.5,
        eps=1e-7,
        solver="exact",
        ramp=True,
        output="avg",
    )
    np.testing.assert_allclose(np.asarray(full.x), np.asarray(fresh.x), atol=1e-12)


def test_expected_squared_gradient_by_enumeration() -> None:
    """E[g∘g] for b = 2 with replacement, by enumerating all n² ordered pairs."""
    gen = rng(8)
    f = Logistic(gen.normal((6, 3)), np.array([1.0, -1, 1, -1, 1, 1]), l2=0.1)
    W = np.random.default_rng(9).standard_normal((2, 3))
    pairs = np.array([(i, j) for i in range(6) for j in range(6)])
    grads = np.stack([np.asarray(f.grad_batch(W, np.tile(p, (2, 1)))) for p in pairs])
    np.testing.assert_allclose(
        np.asarray(expected_squared_gradient(f, W, 2)), np.mean(grads**2, axis=0), atol=1e-14
    )


# -- backends and records -----------------------------------------------------------------
@pytest.mark.parametrize("algo", [ramda, rmda, prox_gen, prox_ssi, prox_sgd])
def test_backends_agree(xp, planted, algo) -> None:
    problem = _on(xp, planted)
    x0 = xp.asarray(np.zeros(planted.d))
    trace = algo(problem, x0, iters=15, batch_size=5, rng=xp.rng(10), replicates=3)
    ref = algo(planted, np.zeros(planted.d), iters=15, batch_size=5, rng=rng(10), replicates=3)
    if xp.name != "cupy":
        np.testing.assert_allclose(to_numpy(trace.x), to_numpy(ref.x), atol=1e-10)
    for name in ("objective", "stationarity2", "support", "subopt", "support_errors"):
        assert trace.metrics[name].shape == (trace.iterations.size, 3)
    assert np.all(trace.metrics["subopt"] >= -1e-12)


def test_full_batch_ramda_converges(planted) -> None:
    trace = ramda(planted, np.zeros(planted.d), iters=300, lr=0.01, momentum=1.0)
    subopt = trace.metrics["subopt"][:, 0]
    assert subopt[-1] < 1e-2 * subopt[1]
    assert np.all(np.diff(subopt[trace.iterations >= 100]) <= 1e-15)
    assert trace.final("support_errors")[0] == 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p, x: ramda(p.f, x, iters=3), "Composite"),
        (lambda p, x: ramda(p, x, iters=3, solver="newton"), "solver"),
        (lambda p, x: ramda(p, x, iters=3, stop="never"), "stop"),
        (lambda p, x: ramda(p, x, iters=3, momentum=0.0), "momentum"),
        (lambda p, x: ramda(p, x, iters=3, lr=-1.0), "lr"),
        (lambda p, x: ramda(p, x, iters=3, milestones=(2, 1)), "milestones"),
        (lambda p, x: ramda(p, x, iters=3, batch_size=2), "rng"),
        (lambda p, x: ramda(p, x, iters=3, track_moments=True), "batch_size"),
        (lambda p, x: ramda(p, x[:3], iters=3), "shape"),
        (lambda p, x: ramda(p, x, iters=-1), "iters"),
        (lambda p, x: prox_gen(p, x, iters=3, betas=(1.0, 0.5)), "betas"),
        (lambda p, x: prox_ssi(p, x, iters=3, betas=0.9), "betas"),
        (lambda p, x: prox_ssi(p, x, iters=3, betas=(0.9, "0.999")), r"betas\[1\]"),
        (lambda p, x: expected_squared_gradient(p.f, x[None, :], 0), "batch_size"),
        (lambda p, x: expected_squared_gradient(p.f, x, 2), "W"),
        (lambda p, x: expected_squared_gradient(p, x[None, :], 2), "FiniteSum"),
        (lambda p, x: prox_gen(p, x, iters=3, eps_sub=-1.0), "eps_sub"),
        (lambda p, x: prox_gen(p, x, iters=3, eps_sub_power=-1.0), "eps_sub_power"),
        (lambda p, x: prox_gen(p, x, iters=3, pg_max_iters=0), "pg_max_iters"),
        (lambda p, x: prox_gen(p, x, iters=3, rtol=-1.0), "rtol"),
        (lambda p, x: ramda(p, x * np.nan, iters=3), "x0"),
        (lambda p, x: ramda(p, x, iters=3, lr=lambda k: np.nan), r"lr\(1\)"),
        (lambda p, x: ramda(p, x, iters=3, momentum=lambda k: 1.5), r"momentum\(1\)"),
        (lambda p, x: prox_sgd(p, x, iters=3, rho=0.0), "rho"),
        (lambda p, x: prox_sgd(p, x, iters=3, rho="0.5"), "rho"),
        (lambda p, x: rmda(p, x, iters=3, momentum="0.5"), "momentum"),
        (lambda p, x: madgrad(p.f, x, iters=3, momentum=None), "momentum"),
        (lambda p, x: madgrad(p, x, iters=3), "Problem"),
        (lambda p, x: mda(p.f, x, iters=3, momentum=2.0), "momentum"),
        (lambda p, x: ramda(p, x, iters=3, replicates=0), "replicates"),
    ],
)
def test_bad_input(planted, call, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call(planted, np.zeros(planted.d))


def test_ramda_with_nuclear_norm_uses_pg() -> None:
    """Low-rank least squares: RAMDA's PG handles the nuclear norm (no exact solver)."""
    from mastbench.problems.least_squares import LeastSquares
    from mastbench.problems.regularizers import NuclearNorm

    gen = rng(11)
    f = LeastSquares(gen.normal((60, 12)), gen.normal((60,)), l2=0.1)
    problem = Composite(f, NuclearNorm(0.3, (3, 4)), tol=1e-9)
    x0 = np.zeros(12)
    trace = ramda(problem, x0, iters=200, lr=0.05, momentum=1.0, eps_sub=1e-8)
    assert trace.final("subopt")[0] < 1e-2 * trace.metrics["subopt"][1, 0]
    assert trace.counters["unmet_condition7"][-1] == 0
    with pytest.raises(NotImplementedError, match="pg"):
        ramda(problem, x0, iters=2, solver="exact")


@pytest.mark.parametrize(
    "name", ["ramda", "rmda", "prox_gen", "prox_ssi", "prox_sgd", "madgrad", "mda"]
)
def test_registered_cases_are_reproducible(xp, name) -> None:
    from mastbench.algorithms import get_algorithm

    spec = get_algorithm(name)
    assert spec.family == "ramda" and spec.stochastic
    args, kwargs = case_for(name)(xp.xp, xp.device)
    first = spec.run(*args, rng=xp.rng(12), replicates=2, **kwargs)
    again = spec.run(*args, rng=xp.rng(12), replicates=2, **kwargs)
    assert first.x.shape == (2, args[0].d)
    for metric, values in first.metrics.items():
        assert values.shape == (first.iterations.size, 2)
        np.testing.assert_array_equal(values, again.metrics[metric])
