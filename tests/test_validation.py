import numpy as np
import pytest

from mastbench import validation as v


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, np.nan, [0.5, 0.0]])
def test_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match="p must"):
        v.check_probability("p", p)


def test_probability_accepts_one_and_vectors():
    np.testing.assert_array_equal(v.check_probability("p", [1.0, 0.3]), [1.0, 0.3])


def test_int_checks_name_the_argument():
    with pytest.raises(ValueError, match="k must be <= 4"):
        v.check_int("k", 5, low=1, high=4)
    with pytest.raises(TypeError, match="k must be an integer"):
        v.check_int("k", 2.0)
    with pytest.raises(TypeError, match="k must be an integer"):
        v.check_int("k", True)


def test_matrix_checks():
    with pytest.raises(ValueError, match="A must be square"):
        v.check_matrix("A", np.ones((2, 3)), square=True)
    with pytest.raises(ValueError, match="A must be symmetric"):
        v.check_symmetric("A", np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="A must be positive semidefinite"):
        v.check_psd("A", np.array([[1.0, 0.0], [0.0, -1.0]]))
    with pytest.raises(ValueError, match="must not contain NaN"):
        v.check_matrix("X", np.array([[np.nan]]))


def test_positive_and_range():
    with pytest.raises(ValueError, match="step must be > 0"):
        v.check_positive("step", 0.0)
    with pytest.raises(ValueError, match=r"q must lie in \(0, 1\)"):
        v.check_in_range("q", 1.0, 0.0, 1.0, low_open=True, high_open=True)
    assert v.check_in_range("q", 1.0, 0.0, 1.0, low_open=True, high_open=False) == 1.0


@pytest.mark.parametrize(
    ("value", "exc", "match"),
    [
        (float("nan"), ValueError, "f_star must be finite"),
        (float("-inf"), ValueError, "f_star must be finite"),
        ("0.5", TypeError, "f_star must be a real number"),
        (True, TypeError, "f_star must be a real number"),
    ],
)
def test_real_refuses_non_finite_and_non_numbers(value, exc, match):
    with pytest.raises(exc, match=match):
        v.check_real("f_star", value)


def test_real_accepts_any_sign():
    assert v.check_real("f_star", -2) == -2.0 and isinstance(
        v.check_real("f_star", np.int64(3)), float
    )


def test_generator_check_names_the_argument():
    from mastbench.backend import rng

    gen = rng(0)
    assert v.check_generator("rng", gen) is gen
    with pytest.raises(TypeError, match=r"rng must be a mastbench\.backend\.Generator"):
        v.check_generator("rng", np.random.default_rng(0))


def test_host_array_checks_shape_and_finiteness():
    np.testing.assert_array_equal(v.host_array("m", [1, 2], (2,)), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"m must have shape \(3,\), got \(2,\)"):
        v.host_array("m", [1.0, 2.0], (3,))
    with pytest.raises(ValueError, match=r"A must have shape \(2, 2\)"):
        v.host_array("A", np.ones(4), (2, 2))
    with pytest.raises(ValueError, match="A must not contain NaN"):
        v.host_array("A", np.full((1, 1), np.nan), (1, 1))


@pytest.mark.parametrize(
    "value",
    [np.array([0.5 + 0.1j]), ["a"], np.array([0.5, None])],
    ids=["complex", "str", "object"],
)
def test_probability_and_host_array_refuse_non_real_entries(value):
    with pytest.raises(TypeError, match="p must hold real numbers"):
        v.check_probability("p", value)
    with pytest.raises(TypeError, match="x0 must hold real numbers"):
        v.host_array("x0", value, (len(value),))


def test_check_checkpoints_sorts_and_accepts_integral_floats():
    from mastbench.validation import check_checkpoints

    np.testing.assert_array_equal(check_checkpoints([4, 0, 2, 2], 4), [0, 2, 4])
    np.testing.assert_array_equal(check_checkpoints(np.linspace(0, 4, 3), 4), [0, 2, 4])
    np.testing.assert_array_equal(check_checkpoints(iter([1, 3]), 4), [1, 3])


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        ([1.5], TypeError, "integers"),
        (["a"], TypeError, "integers"),
        ([True, False], TypeError, "integers"),
        ([[0, 1]], ValueError, "1-D"),
        ([], ValueError, "non-empty"),
        ([0, 5], ValueError, r"within \[0, iters=4\]"),
        ([-1], ValueError, r"within \[0, iters=4\]"),
    ],
)
def test_check_checkpoints_rejects_what_it_used_to_truncate_or_flatten(bad, exc, match):
    from mastbench.validation import check_checkpoints

    with pytest.raises(exc, match=match):
        check_checkpoints(bad, 4)


@pytest.mark.parametrize("bad", [4, (2,), (2, 3, 1), (0, 2), (2, 1.5)])
def test_nuclear_sets_check_their_matrix_shape_by_name(bad):
    from mastbench.problems.constraints import NuclearBall
    from mastbench.problems.regularizers import NuclearNorm

    for build in (lambda: NuclearBall(bad, 1.0), lambda: NuclearNorm(0.1, bad)):
        with pytest.raises((ValueError, TypeError), match="shape"):
            build()
