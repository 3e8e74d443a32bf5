"""Problem spec strings for ``mastbench run --problem``."""

import numpy as np
import pytest
from mastbench.problems import LeastSquares, Logistic, Quadratic, datasets

from mastbench.problem_factory import make_problem, parse_spec, parse_value
from mastbench.validation import UsageError


def test_parse_spec_and_values():
    assert parse_spec("quadratic") == ("quadratic", {})
    assert parse_spec("quadratic:d=5,kappa=1e3,x=on") == (
        "quadratic",
        {"d": 5, "kappa": 1e3, "x": "on"},
    )
    assert parse_spec("logistic:a5a,l2=0.5") == ("logistic", {"dataset": "a5a", "l2": 0.5})
    assert [parse_value(v) for v in ("3", "0.5", "True", "rand_k")] == [3, 0.5, True, "rand_k"]


def test_random_problems_follow_their_options():
    q = make_problem("quadratic:d=6,kappa=50,seed=2")
    assert isinstance(q, Quadratic) and q.d == 6
    assert q.L / q.mu == pytest.approx(50)
    again = make_problem("quadratic:d=6,kappa=50,seed=2")
    np.testing.assert_array_equal(q.quadratic_form()[0], again.quadratic_form()[0])
    assert not np.array_equal(
        q.quadratic_form()[0], make_problem("quadratic:d=6,kappa=50").quadratic_form()[0]
    )
    ls = make_problem("least_squares:n=30,d=4,l2=0.1")
    assert isinstance(ls, LeastSquares) and (ls.n, ls.d) == (30, 4)
    lg = make_problem("logistic:n=40,d=3")
    assert isinstance(lg, Logistic) and (lg.n, lg.d) == (40, 3)


def test_libsvm_data_set_has_its_declared_features(libsvm_dir, monkeypatch):
    monkeypatch.setenv("MASTBENCH_DATA", str(libsvm_dir))
    problem = make_problem("logistic:a5a,l2=0.01")
    assert isinstance(problem, Logistic) and problem.d == 123 and problem.n == 6414
    _, y = datasets.load("a5a").arrays()
    np.testing.assert_array_equal(problem.y, y)


def test_bundled_data_set_needs_no_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("MASTBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    problem = make_problem("logistic:breast_cancer")
    assert isinstance(problem, Logistic) and (problem.n, problem.d) == (569, 30)


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("", ValueError, "non-empty"),
        ("cubic", ValueError, "unknown problem 'cubic'"),
        ("quadratic:d=3,zeta=2", ValueError, "unknown options: zeta"),
        ("quadratic:d=", ValueError, "key=value"),
        ("quadratic:d=0", ValueError, "d"),
        ("logistic:nope_data_set", UsageError, "unknown data set 'nope_data_set'"),
        ("quadratic:d=-2", UsageError, "quadratic:d=-2"),
        ("quadratic:d=3,d=4", ValueError, "option 'd' is given twice"),
        ("logistic:a5a,a9a", ValueError, "option 'dataset' is given twice"),
        ("logistic:a5a,dataset=a9a", ValueError, "option 'dataset' is given twice"),
    ],
)
def test_bad_specs_are_rejected(spec, error, match, monkeypatch, tmp_path):
    monkeypatch.setenv("MASTBENCH_DATA", str(tmp_path))
    with pytest.raises(error, match=match):
        make_problem(spec)


def test_a_missing_libsvm_file_says_where_to_put_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MASTBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="a5a"):
        make_problem("logistic:a5a")
