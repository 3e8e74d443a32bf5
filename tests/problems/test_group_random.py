"""Planted block-sparse instances: shapes, planted support, correlation, bad input."""

import numpy as np
import pytest
from mastbench.problems.group_random import planted_least_squares, planted_multinomial

from mastbench.backend import rng, to_numpy


def test_planted_least_squares_on_every_backend(xp):
    problem, support = planted_least_squares(30, 4, 2, xp.rng(0), block=2, kind="tiles", k=1)
    assert problem.groups.t == 2 and support.shape == (1,)
    assert problem.xp is xp.xp and problem.device == (xp.device or problem.device)
    X = to_numpy(problem.X)
    assert X.shape == (30, 4) and to_numpy(problem.Y).shape == (30, 2)


def test_equicorrelated_design_has_the_requested_correlation():
    problem, _ = planted_least_squares(20000, 4, 1, rng(1), correlation=0.6, k=1)
    corr = np.corrcoef(to_numpy(problem.X), rowvar=False)
    off = corr[~np.eye(4, dtype=bool)]
    np.testing.assert_allclose(off, 0.6, atol=0.03)


def test_planted_multinomial_labels_follow_the_planted_model():
    problem, support = planted_multinomial(3000, 4, 3, rng(2), k=1, scale=3.0)
    labels = to_numpy(problem.labels)
    assert set(np.unique(labels)) <= {0, 1, 2}
    # the planted rows carry the signal: the best single group is the planted one
    assert problem.best_k_groups(1).support == tuple(support)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: planted_least_squares(10, 4, 1, rng(0), correlation=1.0), "correlation"),
        (lambda: planted_least_squares(10, 4, 1, rng(0), k=9), "k"),
        (lambda: planted_least_squares(10, 4, 1, rng(0), kind="cols"), "kind"),
        (lambda: planted_least_squares(10, 4, 1, rng(0), noise=-1.0), "noise"),
        (lambda: planted_multinomial(10, 4, 1, rng(0)), "K"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_libsvm_binary_set_becomes_two_classes(libsvm_dir):
    from mastbench.problems.group_random import dataset_multinomial

    problem = dataset_multinomial("a1a", features=6, l2=0.05, data_dir=libsvm_dir)
    assert problem.K == 2 and problem.groups.t == 6
    assert len(problem.best_k_groups(2).support) == 2


def test_dataset_multinomial_rejects_regression():
    from mastbench.problems.group_random import dataset_multinomial

    with pytest.raises(ValueError, match="regression"):
        dataset_multinomial("diabetes")
