"""The one driver refuses what is not a method or a problem by name, at the call."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.quadratic import Quadratic

import mastbench
from examples.decaying_dsgd import DecayingDSGD
from mastbench.backend import rng
from mastbench.sketches import Identity


def test_a_non_method_is_refused_by_name():
    with pytest.raises(TypeError, match="method must be a Method"):
        mastbench.run(object(), Quadratic(np.eye(2), np.ones(2)), iters=1)


def test_a_non_problem_is_refused_by_name():
    method = DecayingDSGD(Identity(2), step0=0.1, k0=1.0)
    with pytest.raises(TypeError, match="problem must be a mastbench problem"):
        mastbench.run(method, np.eye(2), iters=1, rng=rng(0))
