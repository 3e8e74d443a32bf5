"""``mastbench.cases``: specs sized to the problem, settings read from the algorithm's
function, the theorem's step, a plugin's algorithm."""

from __future__ import annotations

import numpy as np
import pytest

from mastbench.backend import rng
from mastbench.cases import RunOptions, build_case
from mastbench.cases.specs import make_constraint, make_regularizer, make_sketch
from mastbench.problem_factory import make_problem
from mastbench.sketches import Bernoulli, Discrete, Identity, Permutation, RandK
from mastbench.validation import UsageError


@pytest.mark.parametrize(
    ("spec", "d", "k"),
    [
        ("randk:k=5", 20, 5),
        ("randk:q=0.05", 123, 6),
        ("randk:q=0.2", 123, 25),
        ("randk:q=1", 123, 123),
        ("randk:q=0.001", 50, 1),
    ],
)
def test_rand_k_is_sized_to_the_dimension(spec, d, k):
    sketch = make_sketch(spec, d)
    assert isinstance(sketch, RandK) and (sketch.d, sketch.k) == (d, k)


def test_other_sketches_have_the_problems_dimension():
    bernoulli = make_sketch("bernoulli:p=0.3", 7)
    assert isinstance(bernoulli, Bernoulli)
    np.testing.assert_allclose(np.diag(bernoulli.mean()), np.full(7, 1.0))
    assert isinstance(make_sketch("identity", 7), Identity)
    permutation = make_sketch("permutation:n=4", 12)
    assert isinstance(permutation, Permutation) and (permutation.d, permutation.n) == (12, 4)
    with pytest.raises(UsageError, match=r"--sketch 'permutation:n=5': n must divide d"):
        make_sketch("permutation:n=5", 12)


def test_group_regularizer_and_constraint_take_the_problems_groups():
    problem = make_problem("group_least_squares:p=6,K=2,block=2,k=1")
    psi = make_regularizer("group_lasso:lam=0.5", problem.d, problem.groups)
    assert [list(g) for g in psi.groups] == [list(g) for g in problem.groups.members]
    contiguous = make_regularizer("group_lasso:lam=0.5,size=4", 12)
    assert [list(g) for g in contiguous.groups] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    ball = make_constraint("group_l1:radius=2", problem.d, problem.groups)
    np.testing.assert_array_equal(ball.labels, problem.groups.assignment)
    assert ball.radius == 2.0


def test_settings_are_the_keywords_of_the_algorithms_function():
    case = build_case("dsgd", RunOptions(settings={"option": "II", "batch_size": 4}, step="0.01"))
    assert case.kwargs["option"] == "II" and case.kwargs["batch_size"] == 4
    with pytest.raises(UsageError, match="its settings: shift, option, batch_size, replace"):
        build_case("dsgd", RunOptions(settings={"batchsize": 4}))


def test_l_svrdsg_samples_the_enumerated_support_of_the_sketch():
    case = build_case("l_svrdsg", RunOptions(problem="quadratic:d=5", sketch="randk:k=2"))
    sketch = case.kwargs["sketch"]
    assert isinstance(sketch, Discrete) and sketch.num_outcomes == 10  # C(5, 2)
    np.testing.assert_allclose(sketch.mean(), RandK(5, 2).mean())


def test_theory_step_follows_the_problems_curvature():
    """T-SC on a strongly convex problem, the convex variant (half the step) when μ = 0."""
    sc = build_case("dsgd", RunOptions(problem="least_squares:n=50,d=4", sketch="identity"))
    problem = make_problem("least_squares:n=50,d=4")
    assert sc.kwargs["step"] == pytest.approx(1.0 / problem.L) and "mast.sc " in sc.notes[-1]
    flat = "least_squares:n=3,d=6"  # more unknowns than samples: μ = 0
    convex = build_case("dsgd", RunOptions(problem=flat, sketch="identity"))
    assert convex.kwargs["step"] == pytest.approx(0.5 / make_problem(flat).L)
    assert "mast.convex" in convex.notes[-1]


def test_a_plugin_algorithm_gets_the_problem_start_step_and_iters(fake_family):
    case = build_case("fake_gd", RunOptions(problem="quadratic:d=3", step="0.1", iters=7))
    assert case.kwargs == {"step": 0.1, "iters": 7} and case.args[1].shape == (3,)
    trace = case.run(rng(0), 2)
    assert trace.iterations[-1] == 7 and trace.replicates == 2
    with pytest.raises(UsageError, match="--step: give fake_gd a step"):
        build_case("fake_gd", RunOptions())
