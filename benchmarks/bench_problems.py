"""Batched oracles of the foundation problems on every backend.

The gradient of a quadratic at R replicates is one GEMM, (R, d) @ (d, d); the logistic
minibatch gradient gathers R·b rows.  These are the inner loops of every algorithm, so
their cost bounds what the algorithms can reach.
"""

from __future__ import annotations

import numpy as np

from mastbench.backend import rng
from problems import Logistic, Quadratic
from problems import random as random_problems

from .common import XPBenchmark, size


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
        gen = rng(1, xp=self.xp)
        self.x = self.asarray(np.zeros((self.replicates, self.d)))
        self.idx = self.sync(gen.integers(0, self.n, (self.replicates, batch)))

    def time_grad_batch(self, cache: dict, backend: str, batch: int) -> None:
        self.sync(self.problem.grad_batch(self.x, self.idx))
