"""The public MAST strategies reach the corners where wrong constants and tight bounds show."""

from __future__ import annotations

import numpy as np
from hypothesis import find, settings
from mastbench.problems.mast_objective import MASTObjective
from mastbench.theory.mast.rates_multi import _dist_case_instance, _distsetting

from mastbench import strategies
from mastbench.sketches import Bernoulli, Identity, RandK

SEARCH = settings(max_examples=2000, database=None, deadline=None)


def _found(strategy, condition):
    return find(strategy, condition, settings=SEARCH)


def test_keep_probabilities_reach_one_in_a_thousand():
    assert _found(strategies.keep_probabilities(), lambda p: p <= 1.0001e-3) >= 1e-3


def test_sketches_reach_tiny_keep_probabilities_and_rand_one():
    sketch = _found(
        strategies.mast_sketches(3),
        lambda s: isinstance(s, Bernoulli) and float(np.min(s.p)) < 2e-3,
    )
    assert sketch.L_S_max > 2.5e5
    assert _found(strategies.mast_sketches(4), lambda s: isinstance(s, RandK) and s.k == 1)


def test_quadratics_reach_condition_number_a_million():
    problem = _found(strategies.quadratics(), lambda q: q.L / q.mu > 1e5)
    assert problem.L / problem.mu <= 1e6 * (1 + 1e-9)


def test_quadratic_cases_reach_far_shifts_and_starts_near_x_D_star():
    def near(case):
        objective = MASTObjective(case["problem"], case["sketch"], case["shift"])
        return float(np.linalg.norm(case["x0"] - objective.x_star_host)) < 1e-4

    assert near(_found(strategies.mast_quadratic_cases(), near))
    far = _found(strategies.mast_quadratic_cases(), lambda c: np.linalg.norm(c["shift"]) > 100)
    assert np.linalg.norm(far["shift"]) > 100


def test_heterogeneous_clients_split_L_A_from_D_max():
    case = _found(
        strategies.mast_distributed_cases(heterogeneous=True),
        lambda c: (lambda s: s.L * s.A_const > 10 * s.D_max)(
            _distsetting(_dist_case_instance(c, (5,)))
        ),
    )
    assert isinstance(case["sketches"][0], Bernoulli)
    assert all(isinstance(s, Identity) for s in case["sketches"][1:])
    products = [
        p.L**2 * s.L_D * s.L_S_max for p, s in zip(case["problems"], case["sketches"], strict=True)
    ]
    assert max(products) <= 10 * min(products) * (1 + 1e-9)


def test_near_start_places_x0_at_the_requested_suboptimality():
    case = _found(
        strategies.mast_distributed_cases(heterogeneous=True),
        lambda c: (
            c["start"][0] == "near" and _distsetting(_dist_case_instance(c, (5,))).delta_dist > 0
        ),
    )
    inst = _dist_case_instance(case, (5,))
    s = _distsetting(inst)
    e = inst.x0 - inst.shift - s.y_star
    np.testing.assert_allclose(0.5 * e @ s.A_bar @ e, case["start"][1] * s.delta_dist / 3)
