"""Regularizers: exact proxes (against numerical minimization), Moreau/Fenchel identities,
the exact stationarity measure, supports, and input validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastbench.problems.regularizers import L1, GroupLasso, NuclearNorm, Zero
from scipy.optimize import minimize

from mastbench.backend import to_numpy
from mastbench.strategies import group_lasso_regularizers


def _brute_prox(psi, x: np.ndarray, step: float) -> np.ndarray:
    """argmin_z step·ψ(z) + ½‖z − x‖² by Powell from several starts (no gradients)."""
    best, best_val = None, np.inf
    for start in (x, np.zeros_like(x), 0.5 * x):
        res = minimize(
            lambda z: step * float(psi.value(z)) + 0.5 * float(np.sum((z - x) ** 2)),
            start,
            method="Powell",
            options={"xtol": 1e-10, "ftol": 1e-14, "maxiter": 20000},
        )
        if res.fun < best_val:
            best, best_val = res.x, res.fun
    return best


def _objective(psi, x, step, z):
    return step * float(psi.value(z)) + 0.5 * float(np.sum((z - x) ** 2))


@pytest.mark.parametrize(
    "psi",
    [
        L1(0.7),
        GroupLasso([[0, 1], [2, 3, 4]], 0.6),
        GroupLasso([[0, 3], [1]], 0.4, d=5),
        NuclearNorm(0.5, (2, 3)),
    ],
    ids=["l1", "glasso", "glasso-free", "nuclear"],
)
def test_prox_is_the_minimizer(psi) -> None:
    gen = np.random.default_rng(0)
    d = 6 if isinstance(psi, NuclearNorm) else 5
    for _ in range(3):
        x = gen.standard_normal(d)
        step = float(gen.uniform(0.3, 2.0))
        z = np.asarray(psi.prox(x, step))
        brute = _brute_prox(psi, x, step)
        gap = _objective(psi, x, step, brute) - _objective(psi, x, step, z)
        assert gap >= -1e-9
        # 1-strong convexity: a point with a smaller value cannot be far from the minimizer.
        assert 0.5 * np.sum((z - brute) ** 2) <= gap + 1e-9


@pytest.mark.parametrize(
    "psi",
    [L1(0.3), GroupLasso.contiguous(4, 3, 0.5), NuclearNorm(0.4, (3, 4)), Zero()],
    ids=["l1", "glasso", "nuclear", "zero"],
)
def test_prox_optimality_and_fenchel_equality(xp, psi) -> None:
    """r = (x − p)/t lies in ∂ψ(p) (dist2 = 0) and ⟨r, p⟩ = ψ(p) for a norm (Moreau)."""
    x = xp.rng(1).normal((5, 12))
    step = 0.8
    p = psi.prox(x, step)
    r = (x - p) / step
    np.testing.assert_allclose(to_numpy(psi.dist2(p, -r)), 0.0, atol=1e-24)
    inner = to_numpy(xp.xp.sum(r * p, axis=-1))
    np.testing.assert_allclose(inner, to_numpy(psi.value(p)), atol=1e-12)


def test_moreau_decomposition_group_lasso() -> None:
    """x = prox_{tψ}(x) + t·Proj_{B*}(x/t), B* = {‖y_g‖ ≤ λ_g} the dual-norm ball."""
    psi = GroupLasso.contiguous(5, 3, 0.7)
    x = np.random.default_rng(2).standard_normal((4, 15))
    t = 1.3
    y = x / t
    norms = np.asarray(psi.group_norms(y))
    scale = np.minimum(1.0, psi.thresholds() / norms)
    proj = np.asarray(psi.unblocks(np.asarray(psi.blocks(y)) * scale[..., None], y))
    np.testing.assert_allclose(np.asarray(psi.prox(x, t)) + t * proj, x, atol=1e-13)


def test_group_lasso_weights_and_value() -> None:
    psi = GroupLasso([[0, 1, 2, 3], [4]], 0.5)
    np.testing.assert_allclose(psi.thresholds(), [1.0, 0.5])
    x = np.array([1.0, 1.0, 1.0, 1.0, -3.0])
    assert float(psi.value(x)) == pytest.approx(0.5 * 2 * 2 + 0.5 * 3)
    assert float(psi.weighted_sparsity(np.array([0, 0, 0, 0, 1.0]))) == pytest.approx(0.8)


def test_group_lasso_explicit_weights() -> None:
    """Per-group weights replace √|g|; a zero weight leaves its group unshrunk."""
    psi = GroupLasso([[0, 1, 2, 3], [4], [5, 6]], 0.5, weights=[1.0, 2.0, 0.0], d=8)
    np.testing.assert_allclose(psi.thresholds(), [0.5, 1.0, 0.0])
    x = np.array([1.0, 1.0, 1.0, 1.0, -3.0, 3.0, 4.0, 7.0])
    assert float(psi.value(x)) == pytest.approx(0.5 * 2 + 1.0 * 3)
    out = np.asarray(psi.prox(x, 1.0))
    np.testing.assert_allclose(out, [0.75, 0.75, 0.75, 0.75, -2.0, 3.0, 4.0, 7.0])


def test_dist2_by_hand() -> None:
    """One active and one zero group, worked out by hand."""
    psi = GroupLasso([[0, 1], [2, 3]], 1.0 / np.sqrt(2))  # λ_g = 1
    x = np.array([3.0, 4.0, 0.0, 0.0])
    g = np.array([0.0, 0.0, 3.0, 4.0])
    expected = (0.6**2 + 0.8**2) + (5.0 - 1.0) ** 2
    assert float(psi.dist2(x, g)) == pytest.approx(expected)
    assert float(psi.dist2(x, np.array([-0.6, -0.8, 0.1, 0.1]))) == pytest.approx(0.0)


def test_dist2_matches_brute_force_min_norm_subgradient() -> None:
    """dist(0, g + ∂ψ(x)) against a numerical minimization over the subdifferential."""
    psi = GroupLasso([[0, 1], [2, 3]], 0.5)
    x = np.array([0.0, 0.0, 1.0, -2.0])
    g = np.array([1.5, -0.3, 0.2, 0.4])
    lam = psi.thresholds()

    def sq(u):  # u parametrizes the zero group's subgradient in the ball of radius λ_0
        v = u / max(1.0, np.linalg.norm(u) / lam[0])
        return float(np.sum((g[:2] + v) ** 2))

    best = minimize(sq, np.zeros(2), method="Nelder-Mead", options={"fatol": 1e-14}).fun
    active = g[2:] + lam[1] * x[2:] / np.linalg.norm(x[2:])
    assert float(psi.dist2(x, g)) == pytest.approx(best + float(active @ active), abs=1e-8)


def test_nuclear_dist2_zero_iff_stationary() -> None:
    psi = NuclearNorm(0.3, (3, 3))
    x = np.random.default_rng(4).standard_normal(9)
    p = np.asarray(psi.prox(x, 4.0))
    assert int(np.sum(psi.support(p))) < 3
    assert float(psi.dist2(p, -(x - p) / 4.0)) == pytest.approx(0.0, abs=1e-20)
    assert float(psi.dist2(p, (x - p) / 4.0)) > 1e-3


@given(psi=group_lasso_regularizers(), seed=st.integers(0, 2**16), step=st.floats(0.05, 5.0))
def test_group_prox_nonexpansive_and_zeroes(psi, seed, step) -> None:
    gen = np.random.default_rng(seed)
    x, y = gen.standard_normal((2, psi.d))
    px, py = np.asarray(psi.prox(x, step)), np.asarray(psi.prox(y, step))
    assert np.linalg.norm(px - py) <= np.linalg.norm(x - y) + 1e-12
    small = np.asarray(psi.group_norms(x)) <= step * psi.thresholds()
    assert not np.any(np.asarray(psi.support(px))[small])


def test_batched_step_per_point(xp) -> None:
    psi = GroupLasso.contiguous(3, 2, 1.0)
    x = xp.rng(3).normal((2, 6))
    steps = xp.asarray([0.1, 10.0], dtype=x.dtype)
    out = to_numpy(psi.prox(x, steps))
    np.testing.assert_allclose(out[0], to_numpy(psi.prox(x[0:1, :], 0.1))[0], atol=1e-15)
    assert np.all(out[1] == 0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: L1(-1.0), "lam"),
        (lambda: GroupLasso([], 1.0), "groups"),
        (lambda: GroupLasso([[0, 1], [1, 2]], 1.0), "disjoint"),
        (lambda: GroupLasso([[0], []], 1.0), "empty"),
        (lambda: GroupLasso([[-1, 0]], 1.0), "non-negative"),
        (lambda: GroupLasso([[0, 5]], 1.0, d=3), "d=3"),
        (lambda: NuclearNorm(1.0, (2,)), "shape"),
        (lambda: L1(1.0).prox(np.ones(3), -1.0), "step"),
        (lambda: GroupLasso([[0, 1]], 1.0).prox(np.ones(3), 1.0), "last dimension"),
        (lambda: L1(1.0).prox(np.ones((2, 3)), np.ones(3)), "step"),
        (lambda: GroupLasso([[0], [1]], 1.0, weights=[1.0]), "one value per group"),
        (lambda: GroupLasso([[0], [1]], 1.0, weights=[1.0, -1.0]), "non-negative"),
        (lambda: GroupLasso([[0], [1]], 1.0, weights=[1.0, np.inf]), "finite"),
    ],
)
def test_bad_input(make, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        make()
