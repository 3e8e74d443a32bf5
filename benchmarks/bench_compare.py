"""The comparisons of ``mastbench bench --compare`` as asv benchmarks, tracked over commits.

``mastbench bench --compare`` reports each fast path as a ratio measured in one run; here the
two sides of every ratio are separate asv benchmarks (NumPy, where the reference is a NumPy
or PyTorch program), so a regression on either side shows up in ``asv continuous``.

* :class:`BatchedReplicates`: one batched DSGD step against NumPy's own (R, d) @ (d, d) GEMM
  and against a Python loop over the replicates (issue 7, fast path 1).
* :class:`BatchedAnchors`: five batched DSGD steps on the dense quadratic (d = 2000, R = 256),
  mastbench against the same update written in PyTorch (tensors (R, d), no autograd) and in
  JAX (jit of a ``lax.fori_loop`` over a ``vmap``-ed step, float64), from
  :mod:`mastbench._anchors` (skipped where the library is missing).
* :class:`ExactVersusMonteCarlo`: the exact moment engine against the batched Monte Carlo run
  that estimates E‖x_T − x*‖² to 1 % (R = 3821 replicates at full size, the count
  ``--compare`` derives from a pilot) at d = 30, T = 1000 (fast path 3).
* :class:`HandWrittenTorchLoop`: DSGD on an a5a-shaped logistic problem (6414 × 123, 11 %
  nonzeros, binary), mastbench with a sparse or dense design against the hand-written
  PyTorch loop of :func:`mastbench._anchors.torch_dsgd_loop` (fast path 4; skipped without
  PyTorch).
"""

from __future__ import annotations

import numpy as np

from mastbench.backend import rng
from mastbench.bench import dense_quadratic_data

from .common import binary_design, random_labels, size

try:
    from mastbench.problems import Logistic, Quadratic
    from mastbench.problems import random as random_problems

    from mastbench import _anchors, exact
    from mastbench.algorithms import dsgd
    from mastbench.algorithms.mast import DSGD
    from mastbench.sketches import Bernoulli
except ImportError:  # an older commit without these: asv skips the classes below
    dsgd = None


def _require() -> None:
    if dsgd is None:
        raise NotImplementedError("the compared fast paths are not in this commit")


class BatchedReplicates:
    """One DSGD step (Bernoulli p = 1/2) at R replicates: batched, GEMM, Python loop."""

    params = (["batched", "gemm", "loop"],)
    param_names = ("implementation",)
    d, replicates = size(2000, 16), size(256, 4)

    def setup_cache(self) -> dict:
        A, b = dense_quadratic_data(self.d)
        return {"A": A, "b": b, "L": float(np.linalg.eigvalsh(A)[-1])}

    def setup(self, cache: dict, implementation: str) -> None:
        _require()
        self.problem = Quadratic(cache["A"], cache["b"])
        self.sketch = Bernoulli(0.5, self.d)
        self.step = 0.5 / (cache["L"] * self.sketch.L_S_max)
        self.x = np.ones((self.replicates, self.d))
        self.generator = np.random.default_rng(0)

    def time_step(self, cache: dict, implementation: str) -> None:
        """One step: ``dsgd`` (set-up included), the bare GEMM, or the per-replicate loop."""
        if implementation == "batched":
            dsgd(
                self.problem, np.zeros(self.d), sketch=self.sketch, step=self.step, iters=1,
                rng=rng(1), replicates=self.replicates, checkpoints=[1], metrics=(),
            )  # fmt: skip
        elif implementation == "gemm":
            self.x @ cache["A"]
        else:
            A, b = cache["A"], cache["b"]
            for r in range(self.replicates):
                s = (self.generator.random(self.d) < 0.5) / 0.5
                self.x[r] -= self.step * s * (A @ (s * self.x[r]) - b)


class BatchedAnchors:
    """Five DSGD steps (Bernoulli p = 1/2), R replicates batched: mastbench, PyTorch, JAX."""

    params = (["mastbench", "torch", "jax"],)
    param_names = ("implementation",)
    d, replicates, steps = size(2000, 16), size(256, 4), 5
    timeout = 300

    def setup_cache(self) -> dict:
        A, b = dense_quadratic_data(self.d)
        return {"A": A, "b": b, "L": float(np.linalg.eigvalsh(A)[-1])}

    def setup(self, cache: dict, implementation: str) -> None:
        _require()
        self.sketch = Bernoulli(0.5, self.d)
        self.step = 0.5 / (cache["L"] * self.sketch.L_S_max)
        self.x0 = np.zeros((self.replicates, self.d))
        data = {"A": cache["A"], "b": cache["b"]}
        if implementation == "mastbench":
            self.problem = Quadratic(cache["A"], cache["b"])
        elif implementation == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise NotImplementedError("PyTorch is not installed") from None
            self.update = _anchors.torch_update(
                _anchors.torch_gradient("quadratic", data), self.step
            )
        else:
            try:
                import jax
            except ImportError:
                raise NotImplementedError("JAX is not installed") from None
            jax.config.update("jax_enable_x64", True)
            program = _anchors.jax_dsgd(
                _anchors.jax_gradient("quadratic", data), step=self.step, p=0.5
            )
            self.run_jax = program["run"]
            self.start, self.key = jax.numpy.asarray(self.x0), jax.random.key(0)
        self.time_steps(cache, implementation)  # compiles (JAX) outside the timing

    def time_steps(self, cache: dict, implementation: str) -> None:
        if implementation == "mastbench":
            dsgd(
                self.problem, self.x0, sketch=self.sketch, step=self.step, iters=self.steps,
                rng=rng(1), replicates=self.replicates, checkpoints=[self.steps], metrics=(),
            )  # fmt: skip
        elif implementation == "torch":
            _anchors.torch_dsgd(self.update, self.x0, p=0.5, iters=self.steps)
        else:
            self.run_jax(self.start, self.steps, self.key).block_until_ready()


class ExactVersusMonteCarlo:
    """E‖x_T − x*‖² of DSGD (Bernoulli p = 1/2), exactly or by R Monte Carlo replicates."""

    params = (["exact", "monte-carlo"],)
    param_names = ("method",)
    d, iters, replicates = size(30, 4), size(1000, 10), size(3821, 8)
    timeout = 600

    def setup(self, method: str) -> None:
        _require()
        self.problem = random_problems.quadratic(self.d, 10.0, rng(4))
        self.sketch = Bernoulli(0.5, self.d)
        self.step = 0.5 / (self.problem.L * self.sketch.L_S_max)
        self.x0 = np.ones(self.d)
        self.time_run(method)  # loads the compiled propagation (numba) outside the timing

    def time_run(self, method: str) -> None:
        if method == "exact":
            exact.moments(
                DSGD(sketch=self.sketch, gamma=self.step), self.problem, self.x0, self.iters,
                checkpoints=[0, self.iters],
            )  # fmt: skip
        else:
            dsgd(
                self.problem, self.x0, sketch=self.sketch, step=self.step, iters=self.iters,
                rng=rng(5), replicates=self.replicates, checkpoints=[0, self.iters],
                metrics=["dist2"],
            )  # fmt: skip


class HandWrittenTorchLoop:
    """DSGD on logistic regression, R replicates × T steps: mastbench or a PyTorch loop."""

    params = (["mastbench-sparse", "mastbench-dense", "torch-loop"],)
    param_names = ("implementation",)
    n, d, density = size(6414, 40), size(123, 6), 0.11
    replicates, iters = size(100, 2), size(50, 3)
    timeout = 600

    def setup_cache(self) -> dict:
        generator = np.random.default_rng(0)
        X = binary_design(self.n, self.d, self.density, generator)
        return {"X": X, "y": random_labels(self.n, generator)}

    def setup(self, cache: dict, implementation: str) -> None:
        _require()
        if implementation == "torch-loop":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise NotImplementedError("PyTorch is not installed") from None
        self.dense = cache["X"].toarray()
        sparse = implementation != "mastbench-dense"
        self.problem = Logistic(cache["X"] if sparse else self.dense, cache["y"], 1e-3)
        self.sketch = Bernoulli(0.5, self.d)
        self.step = 0.5 / (self.problem.L * self.sketch.L_S_max)

    def time_run(self, cache: dict, implementation: str) -> None:
        if implementation == "torch-loop":
            _anchors.torch_dsgd_loop(
                self.dense, cache["y"], l2=1e-3, p=0.5, step=self.step,
                iters=self.iters, replicates=self.replicates,
            )  # fmt: skip
        else:
            dsgd(
                self.problem, np.zeros(self.d), sketch=self.sketch, step=self.step,
                iters=self.iters, rng=rng(6), replicates=self.replicates, metrics=(),
                checkpoints=[self.iters],
            )  # fmt: skip
