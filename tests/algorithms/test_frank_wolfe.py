"""Frank-Wolfe algorithms: step rules, gap certificate, sparsity, active sets, stochastic FW."""

import sys

import numpy as np
import pytest
from mastbench.problems.constraints import (
    GroupL1Ball,
    L1Ball,
    L2Ball,
    NuclearBall,
    Simplex,
    constrained_minimum,
)
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.quadratic import Quadratic
from mastbench.theory.frank_wolfe.instances import face_instance

import mastbench.algorithms as algorithms
from mastbench.algorithms import all_algorithms, get_algorithm
from mastbench.algorithms.frank_wolfe import (
    SFW_VARIANTS,
    STEP_RULES,
    TAU,
    away_frank_wolfe,
    frank_wolfe,
    pairwise_frank_wolfe,
    stochastic_frank_wolfe,
)
from mastbench.backend import rng, to_numpy
from tests.algorithms.cases import case_for


def _least_squares(xp=None, n=40, d=8, seed=0):
    gen = rng(seed) if xp is None else xp.rng(seed)
    X = gen.normal((n, d))
    return LeastSquares(X, X @ gen.normal((d,)) + 0.1 * gen.normal((n,)))


def _logistic(xp=None, n=50, d=6, seed=1):
    gen = rng(seed) if xp is None else xp.rng(seed)
    X = gen.normal((n, d))
    y = 2.0 * gen.xp.astype(X @ gen.normal((d,)) >= 0, X.dtype) - 1.0
    return Logistic(X, y, l2=1e-3)


def _zeros(problem, R=None):
    shape = (problem.d,) if R is None else (R, problem.d)
    return problem.xp.zeros(shape, dtype=problem.dtype, device=problem.device)


def test_both_access_paths_reach_the_functions():
    module = sys.modules["mastbench.algorithms.frank_wolfe"]
    assert algorithms.frank_wolfe is module.frank_wolfe is frank_wolfe
    assert callable(algorithms.frank_wolfe)
    for name in ("away_frank_wolfe", "pairwise_frank_wolfe", "stochastic_frank_wolfe"):
        assert getattr(algorithms, name) is getattr(module, name)
        assert name in algorithms.__all__


def test_registered_in_the_table():
    names = {spec.name for spec in all_algorithms("frank_wolfe")}
    assert names == {
        "frank_wolfe",
        "away_frank_wolfe",
        "pairwise_frank_wolfe",
        "stochastic_frank_wolfe",
    }
    assert get_algorithm("stochastic_frank_wolfe").stochastic


@pytest.mark.parametrize(
    "name", ["frank_wolfe", "away_frank_wolfe", "pairwise_frank_wolfe", "stochastic_frank_wolfe"]
)
def test_table_cases_run_on_every_backend(name, xp):
    spec = get_algorithm(name)
    args, kwargs = case_for(name)(xp.xp, xp.device)
    if spec.stochastic:
        kwargs = {**kwargs, "rng": xp.rng(0), "replicates": 2}
    trace = spec.run(*args, **kwargs)
    assert trace.metrics["subopt"].shape[0] == trace.iterations.size
    assert np.all(np.isfinite(trace.metrics["gap"]))


@pytest.mark.parametrize("step", STEP_RULES)
def test_gap_certifies_and_backends_agree(step, xp):
    problem = _least_squares(xp)
    ball = L1Ball(1.0)
    trace = frank_wolfe(problem, ball, _zeros(problem), step=step, iters=60)
    subopt, gap = trace.metrics["subopt"], trace.metrics["gap"]
    assert trace.iterations[0] == 0 and trace.iterations[-1] == 60
    assert subopt.shape == gap.shape == (trace.iterations.size, 1)
    atol = 1e-12 * max(1.0, problem.f_star)
    assert np.all(gap >= subopt - atol) and np.all(subopt >= -atol)
    assert subopt[-1, 0] < subopt[0, 0]
    assert ball.contains(trace.x)
    ref = frank_wolfe(_least_squares(), ball, np.zeros(8), step=step, iters=60)
    np.testing.assert_allclose(subopt, ref.metrics["subopt"], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("step", STEP_RULES)
@pytest.mark.parametrize(
    "constraint",
    [L1Ball(2.0), GroupL1Ball(np.arange(8) // 2, 2.0), NuclearBall((2, 4), 2.0)],
    ids=repr,
)
def test_each_step_adds_at_most_one_atom(step, constraint, xp):
    problem = _least_squares(xp, seed=2)
    trace = frank_wolfe(
        problem, constraint, _zeros(problem), step=step, iters=12, checkpoints=range(13)
    )
    support = trace.metrics["support"][:, 0]
    assert np.all(support <= np.arange(13))
    assert np.all(np.diff(support) <= 1)
    assert support[-1] >= 1


def test_open_loop_and_short_steps_follow_their_formulas():
    gen = rng(3)
    X = gen.normal((30, 5))
    problem = LeastSquares(X, X @ gen.normal((5,)))
    ball = L1Ball(1.0)
    trace = frank_wolfe(
        problem, ball, np.zeros(5), step="open-loop", iters=10, checkpoints=range(11)
    )
    np.testing.assert_allclose(trace.metrics["step_size"][1:, 0], 2 / (np.arange(10) + 2))
    x = np.zeros(5)
    g = problem.grad(x)
    d = ball.lmo(g) - x
    expected = min(-(g @ d) / (problem.L * d @ d), 1.0)
    short = frank_wolfe(problem, ball, x, step="short", iters=1, checkpoints=[0, 1])
    np.testing.assert_allclose(short.x[0], x + expected * d)


def test_line_search_is_exact_on_quadratics():
    gen = np.random.default_rng(4)
    M = gen.normal(size=(5, 5))
    problem = Quadratic(M @ M.T + np.eye(5), gen.normal(size=5))
    ball = L1Ball(0.7)
    x = ball.project(gen.normal(size=5))
    trace = frank_wolfe(problem, ball, x, step="line-search", iters=1, checkpoints=[0, 1])
    d = ball.lmo(problem.grad(x)) - x
    grid = np.linspace(0, 1, 20001)
    best = np.min(problem.value(x[None, :] + grid[:, None] * d[None, :]))
    assert float(problem.value(trace.x[0])) <= best + 1e-14


def test_backtracking_sufficient_decrease_and_bounded_L(xp):
    problem = _logistic(xp)
    trace = frank_wolfe(
        problem, L1Ball(3.0), _zeros(problem), step="backtracking", iters=80, checkpoints=range(81)
    )
    f_scale = max(1.0, abs(problem.f_star))
    assert np.all(trace.metrics["sufficient_decrease"] <= 10 * np.finfo(float).eps * f_scale * 2)
    L_est = trace.metrics["L_est"]
    assert np.all(L_est <= max(TAU * problem.L, L_est[0, 0]) * (1 + 1e-12))
    assert np.all(L_est > 0)


def test_backtracking_recovers_from_a_tiny_initial_L():
    problem = _least_squares()
    trace = frank_wolfe(
        problem,
        L1Ball(1.0),
        np.zeros(8),
        step="backtracking",
        iters=30,
        L_init=1e-6,
        checkpoints=range(31),
    )
    assert np.all(trace.metrics["sufficient_decrease"][1:] <= 1e-13 * max(1, problem.f_star))
    assert trace.metrics["L_est"][-1, 0] > 1e-3


def test_batched_starts_match_single_runs():
    problem = _least_squares()
    ball = L1Ball(1.0)
    starts = np.stack([np.zeros(8), ball.lmo(np.ones(8)), ball.project(np.arange(8.0))])
    batch = frank_wolfe(problem, ball, starts, step="backtracking", iters=25)
    for r in range(3):
        single = frank_wolfe(problem, ball, starts[r], step="backtracking", iters=25)
        np.testing.assert_allclose(
            batch.metrics["subopt"][:, r], single.metrics["subopt"][:, 0], atol=1e-13
        )


def test_inexact_lmo_is_used():
    problem = _least_squares()
    ball = L1Ball(1.0)
    calls = []

    def lmo(g, k):
        calls.append(k)
        return ball.lmo(g)

    frank_wolfe(problem, ball, np.zeros(8), iters=5, lmo=lmo)
    assert calls == [0, 1, 2, 3, 4]


def test_metrics_selection_records_the_same_values():
    problem = _least_squares()
    ball = L1Ball(1.0)
    full = frank_wolfe(problem, ball, np.zeros(8), step="short", iters=6)
    gap_only = frank_wolfe(problem, ball, np.zeros(8), step="short", iters=6, metrics=("gap",))
    assert set(gap_only.metrics) == {"gap", "step_size"}
    np.testing.assert_array_equal(gap_only.metrics["gap"], full.metrics["gap"])
    np.testing.assert_array_equal(np.asarray(gap_only.x), np.asarray(full.x))
    with pytest.raises(ValueError, match="unknown"):
        frank_wolfe(problem, ball, np.zeros(8), metrics=("dist2",))
    with pytest.raises(TypeError, match="sequence of metric names"):
        frank_wolfe(problem, ball, np.zeros(8), metrics="gap")


def test_frank_wolfe_bad_input():
    problem = _least_squares()
    ball = L1Ball(1.0)
    with pytest.raises(ValueError, match="step must be one of"):
        frank_wolfe(problem, ball, np.zeros(8), step="armijo")
    with pytest.raises(ValueError, match="x0 must lie in the constraint set"):
        frank_wolfe(problem, ball, np.ones(8))
    with pytest.raises(ValueError, match="x0 must have shape"):
        frank_wolfe(problem, ball, np.zeros(7))
    with pytest.raises(ValueError, match="iters"):
        frank_wolfe(problem, ball, np.zeros(8), iters=-1)
    with pytest.raises(ValueError, match="quadratic problems only"):
        frank_wolfe(Logistic(np.eye(3), np.ones(3), l2=0.1), ball, np.zeros(3), step="line-search")
    with pytest.raises(ValueError, match="L_init"):
        frank_wolfe(problem, ball, np.zeros(8), step="backtracking", L_init=-1.0)
    import array_api_strict as strict

    with pytest.raises(TypeError, match="namespace"):
        frank_wolfe(problem, ball, strict.zeros(8, dtype=strict.float64))
    with pytest.raises(ValueError, match="f_star must be finite"):
        frank_wolfe(problem, ball, np.zeros(8), f_star=float("nan"))
    with pytest.raises(TypeError, match="constraint must be"):
        frank_wolfe(problem, "l1", np.zeros(8))
    with pytest.raises(ValueError, match="d=8"):
        frank_wolfe(problem, NuclearBall((2, 2), 1.0), np.zeros(8))
    for run in (frank_wolfe, away_frank_wolfe, pairwise_frank_wolfe):
        with pytest.raises(TypeError, match=r"problem must be a problems\.Problem"):
            run("least squares", ball, np.zeros(8))


# -- away and pairwise --------------------------------------------------------------------------


@pytest.mark.parametrize("method", [away_frank_wolfe, pairwise_frank_wolfe])
@pytest.mark.parametrize("step", ["short", "line-search", "backtracking"])
def test_active_set_variants_converge_linearly_on_a_face(method, step):
    instance = face_instance(5, 11)
    problem = instance.problem
    trace = method(
        problem, instance.constraint, instance.x0, step=step, iters=300, f_star=instance.f_star
    )
    assert trace.metrics["subopt"][-1, 0] <= 1e-12
    assert instance.constraint.contains(trace.x)
    assert np.all(trace.metrics["gap"] >= trace.metrics["subopt"] - 1e-13)
    # the start vertex e_d is off the optimal face: its weight is removed exactly, and the
    # active set ends on the three vertices of that face
    assert trace.x[0, -1] == 0.0
    assert trace.metrics["active_size"][-1, 0] == 3
    if method is pairwise_frank_wolfe:
        assert trace.metrics["drop_steps"][-1, 0] >= 1
    vanilla = frank_wolfe(
        problem,
        instance.constraint,
        instance.x0,
        step="open-loop",
        iters=300,
        f_star=instance.f_star,
    )
    assert vanilla.metrics["subopt"][-1, 0] > 1e3 * max(trace.metrics["subopt"][-1, 0], 1e-16)


@pytest.mark.parametrize("method", [away_frank_wolfe, pairwise_frank_wolfe])
def test_active_set_on_l1_ball_from_zero_converges(method, xp):
    problem = _least_squares(xp, n=30, d=6, seed=5)
    ball = L1Ball(0.3)
    trace = method(
        problem, ball, _zeros(problem), step="line-search", iters=60, checkpoints=range(61)
    )
    assert np.all(np.diff(trace.metrics["drop_steps"][:, 0]) >= 0)
    assert ball.contains(trace.x)
    sol = constrained_minimum(_least_squares(n=30, d=6, seed=5), ball)
    np.testing.assert_allclose(to_numpy(trace.x)[0], sol.x, atol=1e-7)


def test_active_set_bad_input():
    problem = _least_squares()
    with pytest.raises(ValueError, match="needs step"):
        pairwise_frank_wolfe(problem, L1Ball(1.0), np.zeros(8), step="open-loop")
    with pytest.raises(TypeError, match="polytope"):
        away_frank_wolfe(problem, L2Ball(1.0), np.zeros(8))
    with pytest.raises(ValueError, match="x0 must lie"):
        pairwise_frank_wolfe(problem, Simplex(1.0), np.zeros(8))


# -- stochastic FW ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", SFW_VARIANTS)
def test_sfw_memory_consistency_and_progress(variant, xp):
    problem = _logistic(xp, n=24, d=5)
    ball = L1Ball(2.0)
    trace = stochastic_frank_wolfe(
        problem,
        ball,
        _zeros(problem),
        variant=variant,
        batch_size=3,
        iters=120,
        rng=xp.rng(1),
        replicates=3,
    )
    assert trace.metrics["subopt"].shape == (trace.iterations.size, 3)
    if variant != "MHK":
        assert np.max(trace.metrics["memory_error"]) <= 1e-13
    assert np.all(trace.metrics["gap"] >= trace.metrics["subopt"] - 1e-12)
    assert np.mean(trace.metrics["subopt"][-1]) < 0.2 * np.mean(trace.metrics["subopt"][0])
    assert ball.contains(trace.x)
    assert np.all(trace.metrics["support"][-1] <= 5)
    assert trace.counters["grad_evals"][-1] == 3 * 120 + (24 if variant == "LF" else 0)


def test_sfw_is_reproducible_and_replicates_differ():
    problem = _logistic(n=20, d=4)
    kwargs = {"variant": "SAG", "batch_size": 2, "iters": 50, "replicates": 2}
    a = stochastic_frank_wolfe(problem, L1Ball(1.0), np.zeros(4), rng=rng(5), **kwargs)
    b = stochastic_frank_wolfe(problem, L1Ball(1.0), np.zeros(4), rng=rng(5), **kwargs)
    np.testing.assert_array_equal(a.metrics["subopt"], b.metrics["subopt"])
    assert not np.allclose(a.metrics["subopt"][-1, 0], a.metrics["subopt"][-1, 1])


def test_sfw_full_batch_sag_is_deterministic_fw():
    problem = _least_squares()
    ball = L1Ball(1.0)
    sfw = stochastic_frank_wolfe(
        problem, ball, np.zeros(8), batch_size=problem.n, iters=30, rng=rng(0)
    )
    fw = frank_wolfe(
        problem, ball, np.zeros(8), step="open-loop", iters=30, checkpoints=sfw.iterations
    )
    np.testing.assert_allclose(sfw.metrics["subopt"], fw.metrics["subopt"], atol=1e-12)


def test_sfw_bad_input():
    problem = _least_squares()
    ball = L1Ball(1.0)
    with pytest.raises(ValueError, match="variant"):
        stochastic_frank_wolfe(problem, ball, np.zeros(8), variant="SVRG", rng=rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        stochastic_frank_wolfe(problem, ball, np.zeros(8), batch_size=problem.n + 1, rng=rng(0))
    with pytest.raises(TypeError, match="rng must be"):
        stochastic_frank_wolfe(problem, ball, np.zeros(8), rng="0")
    with pytest.raises(TypeError, match="generalized linear"):
        stochastic_frank_wolfe(Quadratic(np.eye(8), np.ones(8)), ball, np.zeros(8), rng=rng(0))
    with pytest.raises(ValueError, match="single point"):
        stochastic_frank_wolfe(problem, ball, np.zeros((2, 8)), rng=rng(0))
    with pytest.raises(ValueError, match="replicates"):
        stochastic_frank_wolfe(problem, ball, np.zeros(8), rng=rng(0), replicates=0)


# -- first steps by hand ------------------------------------------------------------------------
# f(x) = ½xᵀAx − bᵀx, ∇f = Ax − b; each expected iterate below is worked out by hand from the
# papers' pseudo-code, independently of the implementation.


def test_open_loop_first_steps_by_hand():
    # ℓ1 ball α = 1, A = I, b = (0.3, −0.8), x0 = 0.  g0 = (−0.3, 0.8): s0 = −e2, γ0 = 1 →
    # x1 = (0, −1); g1 = (−0.3, −0.2): s1 = e1, γ1 = 2/3 → x2 = (2/3, −1/3); g2 = (0.3667,
    # 0.4667): s2 = −e2, γ2 = 1/2 → x3 = (1/3, −2/3).
    problem = Quadratic(np.eye(2), np.array([0.3, -0.8]))
    trace = frank_wolfe(
        problem,
        L1Ball(1.0),
        np.zeros(2),
        step="open-loop",
        iters=3,
        keep_iterates=True,
        checkpoints=range(4),
    )
    expected = [[0, 0], [0, -1], [2 / 3, -1 / 3], [1 / 3, -2 / 3]]
    np.testing.assert_allclose(trace.iterates[:, 0], expected, atol=1e-15)
    np.testing.assert_allclose(trace.metrics["step_size"][1:, 0], [1, 2 / 3, 1 / 2])


def test_short_step_and_line_search_first_steps_by_hand():
    # short step, A = I (L = 1), b = (0.3, −0.8): d0 = (0, −1), g = 0.8, ‖d‖² = 1 → γ0 = 0.8,
    # x1 = (0, −0.8); ∇f(x1) = (−0.3, 0): d1 = (1, 0.8), g = 0.3, ‖d‖² = 1.64 → γ1 = 15/82.
    problem = Quadratic(np.eye(2), np.array([0.3, -0.8]))
    short = frank_wolfe(
        problem,
        L1Ball(1.0),
        np.zeros(2),
        step="short",
        iters=2,
        keep_iterates=True,
        checkpoints=range(3),
    )
    np.testing.assert_allclose(
        short.iterates[:, 0], [[0, 0], [0, -0.8], [15 / 82, -0.8 + 0.8 * 15 / 82]], atol=1e-15
    )
    # line search, A = diag(2, 1), b = (0.6, −0.8): d0 = (0, −1), dᵀAd = 1 → γ0 = 0.8;
    # ∇f(x1) = (−0.6, 0): d1 = (1, 0.8), g = 0.6, dᵀAd = 2 + 0.64 → γ1 = 5/22.
    problem = Quadratic(np.diag([2.0, 1.0]), np.array([0.6, -0.8]))
    exact = frank_wolfe(
        problem,
        L1Ball(1.0),
        np.zeros(2),
        step="line-search",
        iters=2,
        keep_iterates=True,
        checkpoints=range(3),
    )
    np.testing.assert_allclose(
        exact.iterates[:, 0], [[0, 0], [0, -0.8], [5 / 22, -0.8 + 0.8 * 5 / 22]], atol=1e-15
    )


def test_backtracking_first_steps_by_hand():
    # A = I (L = 1), b = (0.3, −0.8), L0 = 1/4.  Step 0: d = (0, −1), g = 0.8, ‖d‖² = 1; L = 1/4
    # and 1/2 give γ = 1 with f(x0 + d) = −0.3 above the models −0.675 and −0.55; L = 1 gives
    # γ = 0.8 and f = −0.32 = Q (accepted), x1 = (0, −0.8).  Step 1: warm start
    # min(0.3²/(2·0.32·1.64), 1) = 0.0857 < ηL = 0.9, so L = 0.9: γ = 0.3/(0.9·1.64) fails
    # (f − Q = γ·0.3(1/2 − 1/1.8)... > 0), L = 1.8: γ = 0.3/(1.8·1.64) is accepted.
    problem = Quadratic(np.eye(2), np.array([0.3, -0.8]))
    trace = frank_wolfe(
        problem,
        L1Ball(1.0),
        np.zeros(2),
        step="backtracking",
        L_init=0.25,
        iters=2,
        keep_iterates=True,
        checkpoints=range(3),
    )
    gamma1 = 0.3 / (1.8 * 1.64)
    np.testing.assert_allclose(trace.metrics["L_est"][:, 0], [0.25, 1.0, 1.8], rtol=1e-15)
    np.testing.assert_allclose(trace.metrics["step_size"][1:, 0], [0.8, gamma1], rtol=1e-14)
    np.testing.assert_allclose(
        trace.iterates[:, 0], [[0, 0], [0, -0.8], [gamma1, -0.8 + 0.8 * gamma1]], atol=1e-15
    )


_SIMPLEX_A, _SIMPLEX_B = np.diag([2.0, 1.0, 1.0]), np.array([0.0, 0.6, 0.05])


def test_away_step_first_steps_by_hand():
    # simplex, A = diag(2, 1, 1) (L = 2), b = (0, 0.6, 0.05), x0 = e1, short steps.
    # Step 0: g = (2, −0.6, −0.05), s = e2, S = {e1}: FW step d = e2 − e1, g·= 2.6, ‖d‖² = 2,
    # γ = 0.65 → x1 = (0.35, 0.65, 0).  Step 1: g = (0.7, 0.05, −0.05), s = e3, v = e1;
    # ⟨g, x⟩ = 0.2775: FW gap 0.3275 < away gap 0.4225, so the away step d = x − e1 =
    # (−0.65, 0.65, 0), γ_max = 0.35/0.65, γ = 0.4225/(2·0.845) = 0.25 → x2 = (0.1875, 0.8125, 0).
    # Step 2: g = (0.375, 0.2125, −0.05), ⟨g, x⟩ = 0.24296875: FW gap 0.29296875 ≥ away gap
    # 0.13203125, FW step to e3 with γ = 0.29296875/(2·1.6953125).
    problem = Quadratic(_SIMPLEX_A, _SIMPLEX_B)
    trace = away_frank_wolfe(
        problem,
        Simplex(1.0),
        np.array([1.0, 0, 0]),
        step="short",
        iters=3,
        checkpoints=range(4),
    )
    gamma2 = 0.29296875 / (2 * 1.6953125)
    x2 = np.array([0.1875, 0.8125, 0.0])
    x3 = x2 + gamma2 * (np.array([0, 0, 1.0]) - x2)
    np.testing.assert_allclose(trace.metrics["step_size"][1:, 0], [0.65, 0.25, gamma2])
    np.testing.assert_allclose(to_numpy(trace.x)[0], x3, atol=1e-15)
    np.testing.assert_array_equal(trace.metrics["active_size"][:, 0], [1, 2, 2, 3])
    np.testing.assert_array_equal(trace.metrics["drop_steps"][:, 0], [0, 0, 0, 0])


def test_pairwise_first_steps_by_hand():
    # same problem.  Step 0 as above (x1 = (0.35, 0.65, 0)).  Step 1: g = (0.7, 0.05, −0.05),
    # s = e3, v = e1: d = e3 − e1, γ_max = 0.35, g·= 0.75, ‖d‖² = 2 → γ = 0.1875, x2 =
    # (0.1625, 0.65, 0.1875).  Step 2: g = (0.325, 0.05, 0.1375), s = e2, v = e1: d = e2 − e1,
    # γ_max = 0.1625, g·= 0.275 → γ = 0.06875, x3 = (0.09375, 0.71875, 0.1875).
    problem = Quadratic(_SIMPLEX_A, _SIMPLEX_B)
    trace = pairwise_frank_wolfe(
        problem,
        Simplex(1.0),
        np.array([1.0, 0, 0]),
        step="short",
        iters=3,
        checkpoints=range(4),
    )
    np.testing.assert_allclose(trace.metrics["step_size"][1:, 0], [0.65, 0.1875, 0.06875])
    np.testing.assert_allclose(to_numpy(trace.x)[0], [0.09375, 0.71875, 0.1875], atol=1e-15)


def test_pairwise_drop_step_by_hand():
    # A = I, b = (0, 0, 1), simplex, x0 = e1, short steps (L = 1).  Step 0: g = (1, 0, −1),
    # s = e3, v = e1, d = e3 − e1, γ_max = 1, g·= 2, ‖d‖² = 2 → γ = 1 = γ_max: a drop step,
    # x1 = e3 = the minimizer.
    problem = Quadratic(np.eye(3), np.array([0.0, 0.0, 1.0]))
    trace = pairwise_frank_wolfe(
        problem, Simplex(1.0), np.array([1.0, 0, 0]), step="short", iters=1, checkpoints=[0, 1]
    )
    np.testing.assert_array_equal(to_numpy(trace.x)[0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(trace.metrics["drop_steps"][:, 0], [0, 1])
    np.testing.assert_array_equal(trace.metrics["active_size"][:, 0], [1, 1])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sag_sfw_first_steps_by_hand(seed):
    # X = I (n = d = 2), y = (1, −2), b = 1 (m = 2), ℓ1 ball α = 1, w0 = 0; φ'_i(z) = z − y_i.
    # The first sample i refreshes α_i = −y_i/2: i = 0 gives r = (−1/2, 0), s = e1, w1 = e1;
    # then i = 1: α_1 = (0 + 2)/2 = 1, r = (−1/2, 1), s = −e2, w2 = e1 + (2/3)(−e2 − e1).
    # i = 1 first gives r = (0, 1), w1 = −e2; then α_0 = (0 − 1)/2, r = (−1/2, 1), s = −e2,
    # w2 = −e2.
    problem = LeastSquares(np.eye(2), np.array([1.0, -2.0]))
    first = int(rng(seed).permutations(1, 2)[0, 0])
    trace = stochastic_frank_wolfe(
        problem,
        L1Ball(1.0),
        np.zeros(2),
        batch_size=1,
        iters=2,
        rng=rng(seed),
        checkpoints=[0, 1, 2],
    )
    w2 = [1 / 3, -2 / 3] if first == 0 else [0.0, -1.0]
    np.testing.assert_allclose(to_numpy(trace.x)[0], w2, atol=1e-15)


def test_methods_run_through_the_driver_as_the_wrappers_do():
    from mastbench.algorithms.driver import run
    from mastbench.algorithms.frank_wolfe import FrankWolfe, PairwiseFrankWolfe, StepRule

    problem = _least_squares()
    ball = L1Ball(1.0)
    method = FrankWolfe(ball, StepRule("backtracking", L_init=2.0))
    direct = run(method, problem, np.zeros(8), iters=15)
    wrapped = frank_wolfe(problem, ball, np.zeros(8), step="backtracking", L_init=2.0, iters=15)
    for name in wrapped.metrics:
        np.testing.assert_array_equal(direct.metrics[name], wrapped.metrics[name])
    assert direct.params["rule"] == repr(StepRule("backtracking", 2.0))
    with pytest.raises(TypeError, match="rule must be a StepRule"):
        FrankWolfe(ball, "short")
    with pytest.raises(TypeError, match="constraint must be"):
        run(FrankWolfe("l1"), problem, np.zeros(8), iters=1)
    with pytest.raises(ValueError, match="needs step"):
        PairwiseFrankWolfe(ball, StepRule("open-loop"))
