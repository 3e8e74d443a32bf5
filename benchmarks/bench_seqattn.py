"""SequentialAttention++ (arXiv 2402.17902) and its baselines, on every backend.

Every class runs each algorithm of :data:`ALGORITHMS` (the gradient-based pruning methods
SA++, ACDC, block magnitude pruning and block powerpropagation, and the combinatorial group
IHT, group OMP, OMPR and Sequential Attention) on a planted block-sparse multiple-response
least-squares problem (:func:`problems.group_random.planted_least_squares`, feature-row
blocks), built once on the host in ``setup_cache``.  The gradient-based methods use Adam
(step 0.05, reset at every phase boundary) and R replicates batched as (R, d); the
combinatorial ones are deterministic (R = 1).

* :class:`Budget`: ``time_short_call`` (a call of a few steps: the per-call set-up of
  validation, trace and metrics) and ``time_budget``/``peakmem_budget`` (each algorithm's
  own fixed budget, the library's default phase schedule for the pruning methods), on
  W ∈ ℝ^{64×8} in t = 32 blocks of two rows, k = 4.
* :class:`Accuracy`: lower-is-better quantities after the same budgets on a small instance
  (t = 12 blocks, k = 3, correlated features) whose best k-group solution β*_k is found by
  brute force over the C(12, 3) supports in ``setup_cache`` — the loss gap
  𝓛(x_T) − 𝓛(β*_k) and the number of selected groups outside the planted support.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from mastbench.backend import rng, to_numpy

from .common import XPBenchmark, size

try:
    from mastbench.problems.group_random import planted_least_squares
    from mastbench.problems.group_structured import GroupLeastSquares, Groups

    from mastbench.algorithms.pruning import (
        acdc,
        block_magnitude_pruning,
        block_powerprop,
        group_omp,
        iht,
        ompr,
        sequential_attention,
        sequential_attention_pp,
    )
except ImportError:  # an older commit without the SequentialAttention++ family
    sequential_attention_pp = None

#: benchmarked algorithms, SA++ first.
ALGORITHMS = [
    "sequential_attention_pp",
    "acdc",
    "block_magnitude_pruning",
    "block_powerprop",
    "iht",
    "group_omp",
    "ompr",
    "sequential_attention",
]

#: a fixed budget per algorithm: its schedule (steps per phase, iterations, selections).
BUDGETS: dict[str, dict[str, int]] = {
    "sequential_attention_pp": {
        "dense_steps": size(100, 2),
        "sparsify_steps": size(50, 2),
        "sparse_steps": size(50, 2),
        "cycles": size(2, 1),
        "final_steps": size(200, 2),
    },
    "acdc": {
        "dense_steps": size(100, 2),
        "sparse_steps": size(100, 2),
        "cycles": size(2, 1),
        "final_steps": size(200, 2),
    },
    "block_magnitude_pruning": {"dense_steps": size(300, 3), "final_steps": size(200, 2)},
    "block_powerprop": {"dense_steps": size(300, 3), "final_steps": size(200, 2)},
    "iht": {"iters": size(2000, 4)},
    "group_omp": {},
    "ompr": {"iters": size(200, 2)},
    "sequential_attention": {"steps": size(100, 2)},
}

#: the shortest meaningful call of each algorithm (one step per phase, one selection).
SHORT_CALLS: dict[str, dict[str, int]] = {
    "sequential_attention_pp": {
        "dense_steps": 1,
        "sparsify_steps": 1,
        "sparse_steps": 1,
        "cycles": 0,
        "final_steps": 1,
    },
    "acdc": {"dense_steps": 1, "sparse_steps": 1, "cycles": 0, "final_steps": 1},
    "block_magnitude_pruning": {"dense_steps": 1, "final_steps": 1},
    "block_powerprop": {"dense_steps": 1, "final_steps": 1},
    "iht": {"iters": 1},
    "group_omp": {"steps": 1},
    "ompr": {"iters": 1},
    "sequential_attention": {"steps": 1},
}


def _require_seqattn() -> None:
    if sequential_attention_pp is None:
        raise NotImplementedError("mastbench.algorithms.pruning is not in this commit")


def _planted_cache(**instance: Any) -> dict:
    """Host data of a planted instance, its planted support and its Lipschitz constant L."""
    problem, support = planted_least_squares(rng=rng(0), **instance)
    return {
        "X": to_numpy(problem.X),
        "Y": to_numpy(problem.Y),
        "assignment": problem.groups.assignment,
        "planted": np.asarray(support),
        "L": problem.L,
    }


def _caller(
    algorithm: str, problem: Any, k: int, L: float, replicates: int, make_rng: Any
) -> Callable[[dict[str, int]], Any]:
    """``call(schedule) -> Trace`` running ``algorithm`` with the given schedule."""
    if algorithm == "iht":
        return lambda schedule: iht(problem, k=k, step=1.0 / L, **schedule)
    if algorithm == "group_omp":
        return lambda schedule: group_omp(problem, k=k, **schedule)
    if algorithm == "ompr":
        return lambda schedule: ompr(problem, k=k, k_prime=k, rule="accept", **schedule)
    if algorithm == "sequential_attention":
        return lambda schedule: sequential_attention(
            problem, k=k, rng=make_rng(1), replicates=replicates, **schedule
        )
    fn = {
        "sequential_attention_pp": sequential_attention_pp,
        "acdc": acdc,
        "block_magnitude_pruning": block_magnitude_pruning,
        "block_powerprop": block_powerprop,
    }[algorithm]
    return lambda schedule: fn(
        problem,
        k=k,
        step=0.05,
        optimizer="adam",
        rng=make_rng(1),
        replicates=replicates,
        **schedule,
    )


class _PlantedCase(XPBenchmark):
    """A planted instance built on the host once and moved to the backend in ``setup``.

    Each subclass defines its own ``setup_cache`` (asv keys the cache by the function's
    source line, so an inherited one would be shared across different instances).
    """

    params = (*XPBenchmark.params, ALGORITHMS)
    param_names = (*XPBenchmark.param_names, "algorithm")
    k: int
    replicates: int

    def _setup_call(self, cache: dict, backend: str, algorithm: str) -> None:
        _require_seqattn()
        super().setup(backend)
        self.problem = GroupLeastSquares(
            self.asarray(cache["X"]), self.asarray(cache["Y"]), Groups(cache["assignment"])
        )
        call = _caller(algorithm, self.problem, self.k, cache["L"], self.replicates, self.rng)
        self.call = lambda schedule: self.sync(call(schedule))


class Budget(_PlantedCase):
    """Time and peak memory of a short call and of a fixed budget (C(32, 4) > 20000 supports:
    no brute-force reference inside the call, metrics ``objective`` and ``support`` only)."""

    instance: ClassVar[dict[str, Any]] = {
        "n": size(500, 40),
        "p": size(64, 8),
        "K": size(8, 2),
        "block": 2,
        "k": size(4, 2),
        "noise": 1.0,
        "scale": 0.5,
        "correlation": 0.3,
    }
    k = instance["k"]
    replicates = size(8, 2)

    def setup_cache(self) -> dict:
        return _planted_cache(**self.instance)

    def setup(self, cache: dict, backend: str, algorithm: str) -> None:
        self._setup_call(cache, backend, algorithm)
        self.call(SHORT_CALLS[algorithm])

    def time_short_call(self, cache: dict, backend: str, algorithm: str) -> None:
        """A call of a few steps (one per phase, one selection or swap)."""
        self.call(SHORT_CALLS[algorithm])

    def time_budget(self, cache: dict, backend: str, algorithm: str) -> None:
        """The algorithm's fixed budget (:data:`BUDGETS`)."""
        self.call(BUDGETS[algorithm])

    def peakmem_budget(self, cache: dict, backend: str, algorithm: str) -> None:
        self.call(BUDGETS[algorithm])


class Accuracy(_PlantedCase):
    """Lower-is-better accuracy after the fixed budget, against brute force and the plant.

    Statistics of a seeded run, identical on every run of one commit: a change flags a
    change of the algorithm (or of its random stream), not noise.
    """

    instance: ClassVar[dict[str, Any]] = {
        "n": 200,
        "p": size(12, 6),
        "K": 4,
        "k": 3,
        "noise": 2.0,
        "scale": 0.3,
        "correlation": 0.6,
    }
    k = instance["k"]
    replicates = size(16, 2)

    def setup_cache(self) -> dict:
        cache = _planted_cache(**self.instance)
        problem = GroupLeastSquares(cache["X"], cache["Y"], Groups(cache["assignment"]))
        cache["best_value"] = problem.best_k_groups(self.k).value
        return cache

    def setup(self, cache: dict, backend: str, algorithm: str) -> None:
        self._setup_call(cache, backend, algorithm)
        self.trace = self.call(BUDGETS[algorithm])

    def track_loss_gap(self, cache: dict, backend: str, algorithm: str) -> float:
        """Mean over replicates of 𝓛(x_T) − 𝓛(β*_k), x_T the returned weights (k-group sparse
        except for Sequential Attention, whose unselected blocks keep their w-scaled θ)."""
        values = to_numpy(self.problem.value(self.trace.x))
        return float(np.mean(values) - cache["best_value"])

    def track_wrong_groups(self, cache: dict, backend: str, algorithm: str) -> float:
        """Mean over replicates of |Ŝ \\ S_planted|, Ŝ the k selected groups: the selection
        order of group OMP and Sequential Attention, else the k largest ‖x_T|_{T_i}‖."""
        order = self.trace.params.get("order")
        if order is not None:
            selected = np.atleast_2d(np.asarray(order))
        else:
            norms = self.problem.groups.norms_host(to_numpy(self.trace.x))
            selected = np.argsort(-norms, axis=-1, kind="stable")[:, : self.k]
        wrong = ~np.isin(selected, cache["planted"])
        return float(np.mean(np.sum(wrong, axis=-1)))

    track_loss_gap.unit = "loss gap"
    track_wrong_groups.unit = "groups"
