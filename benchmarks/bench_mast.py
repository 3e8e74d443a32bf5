"""MAST (arXiv 2311.16086): Double Sketched GD and its variants, on every backend.

* :class:`DSGDStep`: one step and a fixed budget of ``dsgd`` on a dense quadratic, batched
  over R replicates, for the Bernoulli mask path and the Rand-K index and mask paths; the
  per-step time with the per-call set-up removed is tracked as ``track_seconds_per_step``.
* :class:`DSGDMemory`: peak memory of a batched run (O(R·d + d²) expected).
* :class:`VariantsBudget`: a fixed budget of ``distributed_dsgd`` and ``l_svrdsg``.
* :class:`DSGDAccuracy`: lower-is-better quantities — mean f − f* after a fixed budget,
  iterations until the mean ‖x_t − x_D*‖² falls below ε·‖x_0 − x_D*‖².
* :class:`ExactEngine`: time and peak memory of the exact moment engine, and its error
  against brute-force enumeration of every sketch path on a tiny instance.
"""

from __future__ import annotations

import numpy as np

from mastbench.bench import dense_quadratic_data

from .common import XPBenchmark, size

try:
    from mastbench.algorithms.mast import DSGD, distributed_dsgd, dsgd, l_svrdsg
    from mastbench.sketches import Bernoulli, Discrete, Permutation, RandK
except ImportError:  # an older commit without MAST: asv skips the classes below
    dsgd = None

try:
    from mastbench import exact

    exact.moments  # noqa: B018 (an older commit has no exact.moments: asv skips ExactEngine)
except (ImportError, AttributeError):
    exact = None

#: sketch cases of :class:`DSGDStep`: name → (sketch factory of d, dsgd ``form``).
SKETCH_CASES = {
    "bernoulli-mask": (lambda d: Bernoulli(0.5, d), "mask"),
    "randk-index": (lambda d: RandK(d, max(1, d // 64)), "index"),
    "randk-mask": (lambda d: RandK(d, max(1, d // 64)), "mask"),
}


def _require_mast() -> None:
    if dsgd is None:
        raise NotImplementedError("mastbench.algorithms.mast is not in this commit")


def _quadratic_cache(d: int) -> dict:
    A, b = dense_quadratic_data(d)
    return {"A": A, "b": b, "L": float(np.linalg.eigvalsh(A)[-1])}


class _QuadraticCase(XPBenchmark):
    """A dense quadratic of dimension ``d`` built on the host once, moved in ``setup``.

    Each subclass defines its own ``setup_cache`` (asv keys the cache by the function's
    source line, so an inherited one would be shared across different ``d``).
    """

    d = size(512, 16)
    replicates = size(64, 2)

    def _setup_problem(self, cache: dict, backend: str, sketch: object = None) -> None:
        """The problem on ``backend``; with a ``sketch``, also the step 0.5/(L·L_S^max)."""
        _require_mast()
        super().setup(backend)
        from mastbench.problems import Quadratic

        self.problem = Quadratic(self.asarray(cache["A"]), self.asarray(cache["b"]))
        self.x0 = self.asarray(np.zeros(self.d))
        if sketch is not None:
            self.sketch = sketch
            self.step = 0.5 / (cache["L"] * sketch.L_S_max)

    def _run(self, iters: int, **kwargs) -> object:
        kwargs.setdefault("metrics", ["subopt"])  # f − f* only: no per-call set-up of f_D
        return self.sync(
            dsgd(
                self.problem,
                self.x0,
                sketch=self.sketch,
                step=self.step,
                iters=iters,
                rng=self.rng(0),
                replicates=self.replicates,
                **kwargs,
            )
        )


class DSGDStep(_QuadraticCase):
    """``dsgd`` steps: Bernoulli mask path, Rand-K (k = d/64) index path and mask path."""

    params = (*XPBenchmark.params, list(SKETCH_CASES))
    param_names = (*XPBenchmark.param_names, "sketch")
    d = size(512, 16)
    budget = size(30, 4)

    def setup_cache(self) -> dict:
        return _quadratic_cache(self.d)

    def setup(self, cache: dict, backend: str, sketch: str) -> None:
        make, self.form = SKETCH_CASES[sketch]
        self._setup_problem(cache, backend, make(self.d))
        self._run(1, form=self.form, checkpoints=[1])

    def time_one_step(self, cache: dict, backend: str, sketch: str) -> None:
        """One call with one step (includes the per-call set-up of metrics and sampler)."""
        self._run(1, form=self.form, checkpoints=[1])

    def time_budget(self, cache: dict, backend: str, sketch: str) -> None:
        """A fixed budget of steps, metrics at the end only."""
        self._run(self.budget, form=self.form, checkpoints=[self.budget])

    def track_seconds_per_step(self, cache: dict, backend: str, sketch: str) -> float:
        """Per-step time by the run's own clock (set-up and metrics excluded), after 2 steps."""
        trace = self._run(self.budget, form=self.form, checkpoints=[0, 2, self.budget])
        return float(trace.time[-1] - trace.time[-2]) / (self.budget - 2)

    track_seconds_per_step.unit = "seconds"


class DSGDMemory(_QuadraticCase):
    """Peak memory of a batched Bernoulli run: the (R, d) iterates plus the (d, d) data."""

    d = size(1024, 16)
    replicates = size(256, 2)

    def setup_cache(self) -> dict:
        return _quadratic_cache(self.d)

    def setup(self, cache: dict, backend: str) -> None:
        self._setup_problem(cache, backend, Bernoulli(0.5, self.d))

    def peakmem_budget(self, cache: dict, backend: str) -> None:
        self._run(size(10, 2), checkpoints=[0, size(10, 2)])


class VariantsBudget(XPBenchmark):
    """A fixed budget of the distributed (IST) and variance-reduced variants."""

    params = (*XPBenchmark.params, ["distributed_dsgd", "l_svrdsg"])
    param_names = (*XPBenchmark.param_names, "algorithm")
    d = size(256, 8)
    clients = 4
    budget = size(50, 3)
    replicates = size(32, 2)

    def setup_cache(self) -> dict:
        data = [dense_quadratic_data(self.d, seed) for seed in range(self.clients)]
        L = max(float(np.linalg.eigvalsh(A)[-1]) for A, _ in data)
        return {"data": data, "L": L}

    def setup(self, cache: dict, backend: str, algorithm: str) -> None:
        _require_mast()
        super().setup(backend)
        from mastbench.problems import Quadratic

        problems = [Quadratic(self.asarray(A), self.asarray(b)) for A, b in cache["data"]]
        x0 = self.asarray(np.zeros(self.d))
        common = {"rng": self.rng(0), "replicates": self.replicates}
        if algorithm == "distributed_dsgd":
            sketches = Permutation(self.d, self.clients)
            self.call = lambda: distributed_dsgd(
                problems, x0, sketches=sketches, step=0.25 / cache["L"], iters=self.budget,
                checkpoints=[self.budget], **common,
            )  # fmt: skip
        else:
            blocks = np.kron(np.eye(self.clients), np.ones(self.d // self.clients))
            sketch = Discrete(blocks * self.clients, np.full(self.clients, 1.0 / self.clients))
            self.call = lambda: l_svrdsg(
                problems[0], x0, sketch=sketch, step=1.0 / (24 * cache["L"] * self.clients**2),
                iters=self.budget, checkpoints=[self.budget], batch=2, **common,
            )  # fmt: skip

    def time_budget(self, cache: dict, backend: str, algorithm: str) -> None:
        self.sync(self.call())

    def peakmem_budget(self, cache: dict, backend: str, algorithm: str) -> None:
        self.sync(self.call())


class DSGDAccuracy(_QuadraticCase):
    """Lower-is-better accuracy of ``dsgd`` (Bernoulli p = 0.5) at a fixed budget.

    These are statistics of a seeded run, identical on every run of one commit: a change
    flags a change of the algorithm (or of its random stream), not noise.
    """

    d = size(100, 8)
    replicates = size(64, 4)
    budget = size(2000, 40)
    eps = 1e-2

    def setup_cache(self) -> dict:
        return _quadratic_cache(self.d)

    def setup(self, cache: dict, backend: str) -> None:
        self._setup_problem(cache, backend, Bernoulli(0.5, self.d))
        self.trace = self._run(
            self.budget, checkpoints=np.arange(self.budget + 1), metrics=["subopt", "dist2"]
        )

    def track_subopt_after_budget(self, cache: dict, backend: str) -> float:
        """Mean f(x_T) − f* over the replicates."""
        return float(np.mean(self.trace.metrics["subopt"][-1]))

    def track_iterations_to_eps(self, cache: dict, backend: str) -> float:
        """First t with mean ‖x_t − x_D*‖² ≤ ε·‖x_0 − x_D*‖² (the budget + 1 if never)."""
        dist2 = np.mean(self.trace.metrics["dist2"], axis=1)
        below = np.flatnonzero(dist2 <= self.eps * dist2[0])
        return float(self.trace.iterations[below[0]] if below.size else self.budget + 1)

    track_subopt_after_budget.unit = "f - f*"
    track_iterations_to_eps.unit = "iterations"


class ExactEngine:
    """The exact moment engine (host NumPy): time and memory vs d, error vs enumeration."""

    params = ([size(16, 3), size(64, 4)],)
    param_names = ("d",)
    iters = size(200, 5)

    def setup(self, d: int) -> None:
        if exact is None or dsgd is None:
            raise NotImplementedError("mastbench.exact is not in this commit")
        from mastbench.problems import Quadratic

        A, b = dense_quadratic_data(d, seed=d)
        self.problem = Quadratic(A, b)
        self.sketch = Bernoulli(0.5, d)
        self.step = 0.5 / (self.problem.L * self.sketch.L_S_max)
        self.x0 = np.ones(d)

    def _moments(self, iters: int) -> object:
        return exact.moments(
            DSGD(sketch=self.sketch, gamma=self.step), self.problem, self.x0, iters,
            checkpoints=[0, iters],
        )  # fmt: skip

    def time_moments(self, d: int) -> None:
        self._moments(self.iters)

    def peakmem_moments(self, d: int) -> None:
        self._moments(self.iters)

    def track_error_vs_enumeration(self, d: int) -> float:
        """max_t |E‖x_t − x_D*‖²(engine) − (enumeration of all paths)| / E‖x_0 − x_D*‖².

        Enumeration on a fixed tiny instance (d = 3, 4 steps: 8⁴ paths), whatever ``d``.
        """
        from mastbench.problems import Quadratic

        A, b = dense_quadratic_data(3, seed=3)
        problem, sketch, steps = Quadratic(A, b), Bernoulli(0.5, 3), 4
        step = 0.5 / (problem.L * sketch.L_S_max)
        x0 = np.array([1.0, -2.0, 0.5])
        result = exact.moments(
            DSGD(sketch=sketch, gamma=step), problem, x0, steps, checkpoints=np.arange(steps + 1)
        )
        masks, probs = sketch.support()
        x_D = _x_star_D(problem, sketch)
        states, weights = x0[None, :], np.ones(1)
        brute = [float(np.sum((x0 - x_D) ** 2))]
        for _ in range(steps):
            y = states[:, None, :] * masks[None, :, :]
            grads = masks[None, :, :] * (y @ A - b)
            states = (states[:, None, :] - step * grads).reshape(-1, 3)
            weights = (weights[:, None] * probs[None, :]).reshape(-1)
            brute.append(float(weights @ np.sum((states - x_D) ** 2, axis=1)))
        engine = np.asarray(result.dist2, dtype=float)
        return float(np.max(np.abs(engine - np.asarray(brute))) / brute[0])

    track_error_vs_enumeration.unit = "relative error"


def _x_star_D(problem: object, sketch: object) -> np.ndarray:
    """x_D* = (E[SAS])⁻¹ E[S] b for f_D(x) = E f(Sx) with v = 0 (mast.md §1)."""
    A, b, _ = problem.quadratic_form()
    return np.linalg.solve(sketch.expected_sandwich(A), sketch.mean() @ b)
