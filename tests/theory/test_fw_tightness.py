"""Adversarial searches behind the tight built-in instances of the Frank-Wolfe rates (slow tier).

Each search runs the theorem's own check over a family of instances and compares the best
nontrivial worst ratio it finds with the built-in instance and with what the docstring says.
"""

import numpy as np
import pytest
from mastbench.problems.quadratic import Quadratic
from mastbench.theory.frank_wolfe.instances import (
    FWInstance,
    conditioned_simplex_instance,
    fw_problem_instance,
    make_constraint,
    norm_simplex_instance,
    segment_instance,
)
from scipy.optimize import minimize

from mastbench import theory
from mastbench.backend import namespace
from mastbench.verify import verify

pytestmark = pytest.mark.slow


def _built_in(theorem_id: str, prefix: str) -> FWInstance:
    thm = theory.get(theorem_id)
    return next(i for i in thm.instances(True) if i.name.startswith(prefix))


def test_pairwise_linear_tight_instance_is_the_best_of_the_grid():
    thm = theory.get("fw.pairwise-linear")
    params = {"variant": "pairwise", "iters": 40}
    found = max(
        verify(
            thm, conditioned_simplex_instance(d, kappa, seed, start=start), params
        ).nontrivial_ratio
        for d in (2, 3, 4)
        for kappa in (2.0, 10.0, 100.0)
        for seed in range(15)
        for start in range(d)
    )
    verdict = verify(thm, _built_in("fw.pairwise-linear", "conditioned"))
    assert verdict.status == "holds" and verdict.t_nontrivial == 1
    assert verdict.nontrivial_ratio >= found - 1e-12
    assert verdict.nontrivial_ratio >= 0.5


def _random_quadratic(z: np.ndarray, d: int, kind: str) -> FWInstance:
    """½(x − c)ᵀA(x − c) with A = MMᵀ + 1e-3 I and c read from the search vector z."""
    M = z[: d * d].reshape(d, d)
    A = M @ M.T + 1e-3 * np.eye(d)
    c = z[d * d : d * d + d]
    xp = namespace("numpy")
    x0 = np.zeros(d)
    x0[0] = 1.0 if kind == "simplex" else 0.0
    problem = Quadratic(xp.asarray(A), xp.asarray(A @ c))
    return fw_problem_instance(f"searched-{kind}-d{d}", problem, make_constraint(kind, d, 1.0), x0)


def test_jaggi_dual_search_stays_where_the_docstring_says():
    """The best ratio over the searched families is the built-in ‖x‖² on the simplex, 0.1646
    = (10/9)/(27/4), well below the 0.43 that summing the descent inequality allows at K = 2."""
    thm = theory.get("fw.jaggi-dual")
    params = {"rule": "open-loop", "iters": 40, "lmo": "exact"}

    def ratio(instance: FWInstance) -> float:
        return verify(thm, instance, params).nontrivial_ratio

    found = [ratio(segment_instance(c)) for c in np.linspace(-0.95, 0.95, 39)]
    found += [ratio(norm_simplex_instance(d)) for d in range(2, 11)]
    for kind in ("simplex", "l1"):
        for d in (2, 3):
            for seed in range(2):
                z0 = np.random.default_rng(seed).normal(size=d * d + d)
                result = minimize(
                    lambda z, d=d, kind=kind: -ratio(_random_quadratic(z, d, kind)),
                    z0,
                    method="Nelder-Mead",
                    options={"maxfev": 100},
                )
                found.append(-result.fun)
    verdict = verify(thm, _built_in("fw.jaggi-dual", "norm-simplex"))
    assert verdict.status == "holds" and verdict.t_nontrivial == 2
    np.testing.assert_allclose(verdict.nontrivial_ratio, (10 / 9) / 6.75, rtol=1e-12)
    assert max(found) <= verdict.nontrivial_ratio + 1e-3
    K = 2
    gamma = 2.0 / (np.arange(1, K + 1) + 2)
    assert (1 + np.sum(gamma**2)) / (2 * np.sum(gamma)) / (6.75 / (K + 2)) < 0.44
