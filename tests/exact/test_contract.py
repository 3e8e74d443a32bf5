"""Contract: every method with a moment map runs as its moment map says.

Over the algorithm table, for every method that declares a moment map, on hypothesis-generated
small quadratic instances: R = 2000 replicates run by the driver
(:func:`mastbench.algorithms.driver.run`) agree with :func:`mastbench.exact.moments` at every
t = 1..T — each coordinate of E x_t and E‖x_t − x_D*‖² lies in its Monte-Carlo confidence
interval, the C·(d + 1) intervals simultaneous at level 1 − 10⁻⁶ by Bonferroni
(:func:`mastbench.agreement.agreement`).  Pinned cases (the index paths, option II with a
compressor, IST, L-SVRDSG with b < N) and a few generated examples per method by default;
100 generated under ``HYPOTHESIS_PROFILE=thorough``.  Step sizes stay inside the stable range,
where the iterates are light-tailed and the intervals' normal approximation holds at R = 2000.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mastbench.problems.random import least_squares, quadratic

from mastbench.agreement import agreement
from mastbench.algorithms import all_algorithms
from mastbench.algorithms.mast import DSGD, LSVRDSG, Clients, DistributedDSGD, DSGDImportance
from mastbench.backend import rng
from mastbench.sketches import Bernoulli, Discrete, Identity, Permutation, RandK

EXAMPLES = 100 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 4
ITERS = 12
CHECKPOINTS = (1, 2, 3, 6, 12)

seeds = st.integers(0, 2**32 - 1)


def _vector(draw, d, scale=1.0):
    return np.array(draw(st.lists(st.floats(-scale, scale), min_size=d, max_size=d)))


@st.composite
def _diagonal_sketch(draw, d, joint=True):
    kinds = ["bernoulli", "randk", "identity"] + (["permutation"] if joint else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "bernoulli":
        return Bernoulli(np.array(draw(st.lists(st.floats(0.3, 1.0), min_size=d, max_size=d))))
    if kind == "randk":
        return RandK(d, draw(st.integers(1, d)))
    if kind == "identity":
        return Identity(d)
    return Permutation(d, draw(st.sampled_from([n for n in (1, 2, 3, 4) if d % n == 0])))


@st.composite
def dsgd_cases(draw):
    """DSGD options I (index or mask form) and II (minibatches, a compressor)."""
    d = draw(st.integers(2, 4))
    option = draw(st.sampled_from(["I", "II"]))
    sketch = draw(_diagonal_sketch(d))
    if option == "I":
        problem = quadratic(d, draw(st.floats(1.0, 20.0)), rng(draw(seeds)))
        kwargs = {"form": draw(st.sampled_from(["auto", "mask"]))}
        L = problem.L
    else:
        n = draw(st.integers(2, 5))
        problem = least_squares(n, d, rng(draw(seeds)), l2=draw(st.floats(0.05, 1.0)))
        replace = draw(st.booleans())
        kwargs = {
            "option": "II",
            "batch_size": draw(st.integers(1, n)),
            "replace": replace,
            "compressor": draw(st.sampled_from([None, RandK(d, max(1, d // 2))])),
        }
        L = problem.L_max * (1 if kwargs["compressor"] is None else kwargs["compressor"].L_S_max)
    # inside the stable range, where the iterates stay light-tailed (the CLT applies at R)
    gamma = draw(st.floats(0.1, 1.0)) / (L * sketch.L_S_max)
    shift = draw(st.sampled_from([None, _vector(draw, d)]))
    method = DSGD(sketch=sketch, gamma=gamma, shift=shift, **kwargs)
    return method, problem, _vector(draw, d, 2.0)


@st.composite
def importance_cases(draw):
    """Importance sampling over a diagonal or a dense Discrete sketch, default or random q."""
    d = draw(st.integers(2, 4))
    problem = quadratic(d, draw(st.floats(1.0, 20.0)), rng(draw(seeds)))
    if draw(st.booleans()):
        sketch = Discrete(*draw(_diagonal_sketch(d, joint=False)).support())
    else:
        G = _vector(draw, d * d, 0.8).reshape(d, d)
        sketch = Discrete(np.stack([np.eye(d) + G, np.eye(d) - G]), np.array([0.5, 0.5]))
    q = None
    if draw(st.booleans()):
        q = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=sketch.num_outcomes,
                                   max_size=sketch.num_outcomes)))  # fmt: skip
        q = q / q.sum()
    gamma = draw(st.floats(0.05, 0.5)) / (problem.L * sketch.L_S_max)
    method = DSGDImportance(sketch=sketch, gamma=gamma, shift=_vector(draw, d), q=q)
    return method, problem, _vector(draw, d, 2.0)


@st.composite
def distributed_cases(draw):
    """Distributed DSGD: a joint Permutation (IST) or independent per-client sketches."""
    M = draw(st.integers(2, 3))
    d = M * draw(st.integers(1, 2))
    problems = [quadratic(d, draw(st.floats(1.0, 10.0)), g) for g in rng(draw(seeds)).spawn(M)]
    if draw(st.booleans()):
        sketches = Permutation(d, M)
        L_S_max = float(M * M)
    else:
        sketches = [draw(_diagonal_sketch(d)) for _ in range(M)]
        L_S_max = max(s.L_S_max for s in sketches)
    gamma = draw(st.floats(0.1, 1.0)) / (max(p.L for p in problems) * L_S_max)
    form = draw(st.sampled_from(["auto", "mask"]))
    method = DistributedDSGD(sketches=sketches, gamma=gamma, shift=_vector(draw, d), form=form)
    return method, Clients(problems), _vector(draw, d, 2.0)


@st.composite
def l_svrdsg_cases(draw):
    """L-SVRDSG with a reference minibatch b ≤ N, fixed or resampled."""
    d = draw(st.integers(2, 4))
    k = draw(st.integers(1, d))
    sketch = Discrete(*RandK(d, k).support())
    N = math.comb(d, k)
    problem = quadratic(d, draw(st.floats(1.0, 20.0)), rng(draw(seeds)))
    method = LSVRDSG(
        sketch=sketch,
        gamma=draw(st.floats(0.2, 1.0)) / (6 * problem.L * RandK(d, k).L_S_max),
        shift=_vector(draw, d),
        prob=draw(st.floats(0.1, 1.0)),
        batch=draw(st.integers(1, N)),
        minibatch=draw(st.sampled_from(["fixed", "resampled"])),
    )
    return method, problem, _vector(draw, d, 2.0)


#: algorithm name → hypothesis strategy of (method, problem, x0).
CASES = {
    "dsgd": dsgd_cases(),
    "dsgd_importance": importance_cases(),
    "distributed_dsgd": distributed_cases(),
    "l_svrdsg": l_svrdsg_cases(),
}


def _pinned() -> dict:
    """Cases every run checks besides the generated ones: the index path of Rand-K and of a
    Permutation block, option II with a compressor, IST, and L-SVRDSG with b < N."""
    q4 = quadratic(4, 10.0, rng(11))
    v = np.array([0.5, -1.0, 0.0, 1.0])
    x0 = np.array([1.0, 2.0, -1.0, 0.5])
    lsq = least_squares(5, 4, rng(12), l2=0.2)
    clients = Clients([quadratic(4, 5.0, g) for g in rng(13).spawn(2)])
    L_clients = max(p.L for p in clients)
    return {
        "dsgd": [
            (DSGD(sketch=RandK(4, 2), gamma=0.8 / (q4.L * 4), shift=v), q4, x0),
            (DSGD(sketch=Permutation(4, 2), gamma=0.8 / (q4.L * 4), shift=v), q4, x0),
            (
                DSGD(
                    sketch=Bernoulli(np.full(4, 0.6)),
                    gamma=0.3 / (lsq.L_max * 4 / 0.36),
                    option="II",
                    batch_size=2,
                    replace=False,
                    compressor=RandK(4, 2),
                ),
                lsq,
                x0,
            ),
        ],
        "dsgd_importance": [
            (DSGDImportance(sketch=Discrete(*RandK(4, 2).support()), gamma=0.1 / q4.L), q4, x0)
        ],
        "distributed_dsgd": [
            (DistributedDSGD(sketches=Permutation(4, 2), gamma=0.8 / (4 * L_clients)), clients, x0),
            (
                DistributedDSGD(sketches=[RandK(4, 1), RandK(4, 3)], gamma=0.5 / (16 * L_clients)),
                clients,
                x0,
            ),
        ],
        "l_svrdsg": [
            (
                LSVRDSG(
                    sketch=Discrete(*RandK(4, 2).support()),
                    gamma=1 / (6 * q4.L * 4),
                    shift=v,
                    prob=0.5,
                    batch=2,
                ),
                q4,
                x0,
            )
        ],
    }


PINNED = _pinned()

WITH_MOMENT_MAP = sorted(
    spec.name
    for spec in all_algorithms()
    if spec.method is not None and callable(getattr(spec.method, "moment_map", None))
)


def test_every_method_with_a_moment_map_is_under_contract():
    assert WITH_MOMENT_MAP == sorted(CASES) == sorted(PINNED)


@pytest.mark.parametrize("name", WITH_MOMENT_MAP)
def test_driver_monte_carlo_agrees_with_exact_moments(name):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
    @given(case=CASES[name], seed=seeds)
    def check(case, seed):
        method, problem, x0 = case
        result = agreement(
            method, problem, x0, ITERS, rng=rng(seed), replicates=2000, checkpoints=CHECKPOINTS
        )
        assert result.holds, result.reason

    for case in PINNED[name]:
        check = example(case=case, seed=1)(check)
    check()
