"""PEPit's worst cases against closed forms known independently of PEPit and of this code."""

import pytest

from mastbench import pepit_worst_case as pep

needs_pepit = pytest.mark.skipif(not pep.available(), reason="needs the pepit extra")

#: Accuracy asked of the solver against a closed form (Clarabel reaches about 1e-8).
RTOL = 1e-6


@needs_pepit
@pytest.mark.parametrize("N", [1, 3, 8])
def test_gradient_descent_matches_drori_teboulle(N):
    """GD with step 1/L on L-smooth convex f: f(x_N) − f* ≤ L‖x⁰ − x*‖²/(4N + 2), attained
    (Drori & Teboulle 2014, Theorem 3.1); L = 3 and R = 2 also exercise the rescaling."""
    L, R = 3.0, 2.0
    worst = pep.gradient_descent(L, 0.0, R, N, step=1 / L, metric="value")
    exact = L * R**2 / (4 * N + 2)
    assert worst.value == pytest.approx(exact, rel=RTOL)
    assert worst.primal == pytest.approx(exact, rel=RTOL)
    assert abs(worst.value - exact) <= worst.tolerance


@needs_pepit
@pytest.mark.parametrize(("mu", "N"), [(0.5, 2), (2.0, 5)])
def test_gradient_descent_distance_contracts_at_the_exact_rate(mu, N):
    """‖x_N − x*‖² ≤ max(|1 − γL|, |1 − γμ|)^{2N} R², attained by a quadratic (the
    eigen-direction of μ): with γ = 1/L the factor is (1 − μ/L)^{2N}."""
    L, R = 4.0, 3.0
    worst = pep.gradient_descent(L, mu, R, N, step=1 / L, metric="distance")
    exact = (1 - mu / L) ** (2 * N) * R**2
    assert worst.value == pytest.approx(exact, rel=RTOL)


@needs_pepit
def test_one_frank_wolfe_step_attains_half_L_D_squared():
    """x_1 = s_0 (γ_0 = 1): f(s_0) − f* ≤ ⟨∇f(x_0), s_0 − x*⟩ + (L/2)‖s_0 − x_0‖² ≤ LD²/2, attained
    on a segment of length D with the minimizer at the end away from the oracle's choice."""
    L, D = 2.0, 1.5
    assert pep.frank_wolfe_primal(L, D, 1).value == pytest.approx(L * D**2 / 2, rel=RTOL)


@needs_pepit
@pytest.mark.parametrize("N", [2, 5])
def test_frank_wolfe_worst_cases_lie_below_jaggis_bounds(N):
    """Jaggi 2013: f(x_N) − f* ≤ 2LD²/(N+2) and min_{1≤k≤N} g(x_k) ≤ (27/4)LD²/(N+2)."""
    L, D = 1.0, 1.0
    primal, dual = pep.frank_wolfe_primal(L, D, N), pep.frank_wolfe_dual(L, D, N)
    assert primal.value <= 2 * L * D**2 / (N + 2)
    assert dual.value <= 6.75 * L * D**2 / (N + 2)


@needs_pepit
def test_proximal_gradient_lies_below_eq_11_and_at_most_gd_with_psi_zero():
    """PG (step 1/L) with ψ = 0 is GD, so its worst case is at least GD's; both lie below
    RAMDA's (11), (L/2)(1 − μ/L)^N R²."""
    L, mu, R, N = 2.0, 0.2, 1.0, 4
    pg = pep.proximal_gradient(L, mu, R, N)
    gd = pep.gradient_descent(L, mu, R, N, step=1 / L, metric="value")
    assert gd.value <= pg.value + pg.tolerance
    assert pg.value <= L / 2 * (1 - mu / L) ** N * R**2


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pep.frank_wolfe_primal(-1.0, 1.0, 3), "L must be > 0"),
        (lambda: pep.frank_wolfe_dual(1.0, 1.0, 0), "N must be >= 1"),
        (lambda: pep.proximal_gradient(1.0, 1.0, 1.0, 3), "mu must lie in"),
        (lambda: pep.gradient_descent(1.0, 0.0, 1.0, 3, step=2.0, metric="value"), "step·L"),
        (lambda: pep.gradient_descent(1.0, 0.0, 1.0, 3, step=1.0, metric="norm"), "metric"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_stalled_solve_is_credited_the_reduced_accuracy_and_is_not_resolved():
    """Clarabel's "optimal_inaccurate" (PG, μ/L = 0.69, N = 10: 2.2e-6 where the exact worst
    case is below 1e-10) guarantees only its reduced tolerances; rescaling keeps them."""
    stalled = pep.WorstCase(2.2e-6, 2.1e-6, "CLARABEL", "optimal_inaccurate", 1e-4)
    assert not stalled.resolved and stalled.tolerance >= 1e-4
    solved = pep.WorstCase(0.5, 0.5, "CLARABEL", "optimal", pep.ATOL["optimal"])
    assert solved.resolved
    assert solved.scaled(4.0).tolerance == pytest.approx(4 * solved.tolerance)
