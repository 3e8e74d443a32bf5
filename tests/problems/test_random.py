"""Bad arguments of the random problem generators fail at the call, naming the argument."""

import mastbench.problems.random as random_problems
import numpy as np
import pytest

from mastbench.backend import rng


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: random_problems.quadratic(3, 2.0, None), TypeError, "rng must be"),
        (
            lambda: random_problems.quadratic(3, 2.0, np.random.default_rng(0)),
            TypeError,
            "rng must be",
        ),
        (lambda: random_problems.least_squares(5, 3, None), TypeError, "rng must be"),
        (lambda: random_problems.least_squares(5, 3, rng(0), noise=-1.0), ValueError, "noise"),
        (lambda: random_problems.logistic(5, 3, None), TypeError, "rng must be"),
        (lambda: random_problems.logistic(5, 3, rng(0), flip=1.5), ValueError, "flip"),
        (lambda: random_problems.logistic(5, 3, rng(0), flip=-0.1), ValueError, "flip"),
    ],
)
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_flip_at_the_ends_is_allowed():
    clean = random_problems.logistic(8, 2, rng(0), flip=0.0)
    flipped = random_problems.logistic(8, 2, rng(0), flip=1.0)
    np.testing.assert_array_equal(np.asarray(flipped.y), -np.asarray(clean.y))
