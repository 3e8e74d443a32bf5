"""Every registered algorithm, of every family, on its own small case, on every backend.

The test cases of the algorithm table (``tests/algorithms/cases``, imported from the
repository this file is in) give each algorithm a ``make_case(xp, device)`` building a small
valid call on any backend.  Timing that call with R replicates
covers families as they land without a benchmark module of their own; it measures the
per-call overhead at small sizes (validation, trace, metrics), where a Python loop hiding
in a hot path shows up first.  The larger family-specific benchmarks live beside this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mastbench.backend import rng

from .common import XPBenchmark, size

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.append(ROOT)  # asv imports the suite without the repository on the path

try:
    from mastbench.algorithms import all_algorithms, get_algorithm
    from tests.algorithms.cases import case_for

    NAMES = [spec.name for spec in all_algorithms()]
except ImportError:  # an older commit without the registry or its test cases
    NAMES = []


class RegisteredAlgorithm(XPBenchmark):
    """``run(*case, rng=..., replicates=R)`` of each registered algorithm's small case."""

    params = (*XPBenchmark.params, NAMES or ["none"])
    param_names = (*XPBenchmark.param_names, "algorithm")
    replicates = size(64, 2)

    def setup(self, backend: str, algorithm: str) -> None:
        if algorithm not in NAMES:
            raise NotImplementedError("no algorithm registry in this commit")
        super().setup(backend)
        spec = get_algorithm(algorithm)
        args, kwargs = case_for(algorithm)(self.xp, self.device)
        if spec.stochastic:
            kwargs = {**kwargs, "replicates": self.replicates}
        self.spec, self.args, self.kwargs = spec, args, kwargs
        self._call()

    def _call(self) -> object:
        extra = {"rng": rng(0, xp=self.xp, device=self.device)} if self.spec.stochastic else {}
        return self.sync(self.spec.run(*self.args, **self.kwargs, **extra))

    def time_small_case(self, backend: str, algorithm: str) -> None:
        self._call()

    def peakmem_small_case(self, backend: str, algorithm: str) -> None:
        self._call()
