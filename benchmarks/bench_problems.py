"""Batched oracles of the foundation problems on every backend.

The gradient of a quadratic at R replicates is one GEMM, (R, d) @ (d, d); the logistic
minibatch gradient gathers R·b rows; the full logistic gradient at R points is two products
with the design matrix, dense or sparse (LIBSVM sets are sparse).  These are the inner loops
of every algorithm, so their cost bounds what the algorithms can reach.
"""

from __future__ import annotations

import numpy as np
from mastbench.problems import Logistic, Quadratic
from mastbench.problems import random as random_problems

from mastbench.backend import rng

from .common import XPBenchmark, binary_design, random_labels, size


class QuadraticGrad(XPBenchmark):
    """∇f at R points of a dense quadratic: one (R, d) @ (d, d) product."""

    params = (*XPBenchmark.params, [size(256, 4)])
    param_names = (*XPBenchmark.param_names, "replicates")
    d = size(2000, 16)

    def setup_cache(self) -> dict:
        problem = random_problems.quadratic(self.d, 100.0, rng(0))
        return {"A": problem.A, "b": problem.b}

    def setup(self, cache: dict, backend: str, replicates: int) -> None:
        super().setup(backend)
        self.problem = Quadratic(self.asarray(cache["A"]), self.asarray(cache["b"]))
        self.x = self.asarray(np.ones((replicates, self.d)))

    def time_grad(self, cache: dict, backend: str, replicates: int) -> None:
        self.sync(self.problem.grad(self.x))

    def peakmem_grad(self, cache: dict, backend: str, replicates: int) -> None:
        self.sync(self.problem.grad(self.x))


class LogisticGradBatch(XPBenchmark):
    """Minibatch gradients of logistic regression at R points (b rows each)."""

    params = (*XPBenchmark.params, [size(1, 1), size(32, 2)])
    param_names = (*XPBenchmark.param_names, "batch")
    n, d, replicates = size(2000, 20), size(100, 5), size(256, 3)

    def setup_cache(self) -> dict:
        problem = random_problems.logistic(self.n, self.d, rng(0))
        return {"X": problem.X, "y": problem.y, "l2": problem.l2}

    def setup(self, cache: dict, backend: str, batch: int) -> None:
        super().setup(backend)
        self.problem = Logistic(self.asarray(cache["X"]), self.asarray(cache["y"]), cache["l2"])
        gen = self.rng(1)
        self.x = self.asarray(np.zeros((self.replicates, self.d)))
        self.idx = self.sync(gen.integers(0, self.n, (self.replicates, batch)))

    def time_grad_batch(self, cache: dict, backend: str, batch: int) -> None:
        self.sync(self.problem.grad_batch(self.x, self.idx))


class LogisticGradDesign:
    """∇f at R points of logistic regression on an a5a-shaped binary design, dense vs CSR.

    n = 6414, d = 123, 11 % nonzeros (as a5a): two (R, n)-sized products with X per gradient,
    O(R·n·d) dense and O(R·nnz) sparse.  NumPy only (SciPy sparse data live on the host).
    """

    params = (["dense", "sparse"],)
    param_names = ("storage",)
    n, d, replicates, density = size(6414, 50), size(123, 8), size(100, 3), 0.11

    def setup_cache(self) -> dict:
        generator = np.random.default_rng(0)
        X = binary_design(self.n, self.d, self.density, generator)
        return {"X": X, "y": random_labels(self.n, generator)}

    def setup(self, cache: dict, storage: str) -> None:
        X = cache["X"] if storage == "sparse" else cache["X"].toarray()
        self.problem = Logistic(X, cache["y"], 1e-3)
        self.x = np.random.default_rng(1).normal(size=(self.replicates, self.d)) * 0.1

    def time_grad(self, cache: dict, storage: str) -> None:
        self.problem.grad(self.x)

    def peakmem_grad(self, cache: dict, storage: str) -> None:
        self.problem.grad(self.x)
