"""Shared machinery of the asv suite: the backend base class and the benchmark sizes.

Every benchmark class that runs array code derives from :class:`XPBenchmark`, the pattern of
SciPy's ``benchmarks/common.py``: the first asv parameter is the backend name, ``setup``
skips (``NotImplementedError``, which asv records as "skipped") when that backend does not
work on this machine, and :meth:`XPBenchmark.sync` blocks on device work so that a timed
call measures the GPU work it launched, not only the launch.

Problem data is built once per environment, on the host, in each class's ``setup_cache``
(asv pickles its return value and passes it to ``setup`` and to every benchmark as the first
argument); ``setup`` only moves it to the backend.

Sizes come from :func:`size`: the full benchmark size, or a tiny one when the environment
variable ``MASTBENCH_BENCH_SIZE=tiny`` is set (the CI smoke test sets it before importing the
benchmark modules, so that every benchmark runs once in seconds).

``MASTBENCH_BENCH_BACKENDS`` (comma-separated, e.g. ``cupy,torch``) restricts the backends the
suite is parametrized over (default: all of :data:`mastbench.backend.BACKENDS`);
``benchmarks/gpu-check.sh`` uses it to run the suite on the GPU backends only.  PyTorch runs on
CUDA when a CUDA device is visible, on the CPU otherwise.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mastbench.backend import BACKENDS, Generator, available, namespace, rng, synchronize

__all__ = ["XPBenchmark", "binary_design", "random_labels", "selected_backends", "size", "tiny"]


def tiny() -> bool:
    """True when the suite runs at smoke-test sizes (``MASTBENCH_BENCH_SIZE=tiny``)."""
    return os.environ.get("MASTBENCH_BENCH_SIZE", "full") == "tiny"


def size(full: Any, small: Any) -> Any:
    """``full`` for real benchmark runs, ``small`` under ``MASTBENCH_BENCH_SIZE=tiny``."""
    return small if tiny() else full


def selected_backends() -> tuple[str, ...]:
    """The backends named in ``MASTBENCH_BENCH_BACKENDS`` (all of ``BACKENDS`` when unset).

    Raises
    ------
    ValueError
        If a name is not one of ``BACKENDS``.
    """
    names = [n.strip() for n in os.environ.get("MASTBENCH_BENCH_BACKENDS", "").split(",")]
    names = [n for n in names if n]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown:
        raise ValueError(f"MASTBENCH_BENCH_BACKENDS: unknown backends {unknown}; known {BACKENDS}")
    return tuple(names) if names else BACKENDS


def _torch_device() -> Any:
    """CUDA when PyTorch sees a device, else ``None`` (the CPU)."""
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else None


def binary_design(n: int, d: int, density: float, generator: np.random.Generator) -> Any:
    """A random (n, d) CSR design of ones at a fraction ``density`` of the entries.

    The shape of a binary LIBSVM set without reading one (a5a: 6414 × 123, 11 % nonzeros).
    """
    import scipy.sparse as sp

    X = sp.random_array((n, d), density=density, rng=generator, format="csr")
    X.data[:] = 1.0
    return X


def random_labels(n: int, generator: np.random.Generator) -> np.ndarray:
    """n labels ±1, each with probability 1/2."""
    return np.where(generator.random(n) < 0.5, -1.0, 1.0)


class XPBenchmark:
    """Base class of benchmarks run on every array backend.

    Subclasses extend ``params``/``param_names`` after the backend and call
    ``super().setup(backend)`` first in their own ``setup`` (after the cache argument when
    they define ``setup_cache``).  Attributes set: ``backend``, ``xp``, ``device``.

    Examples
    --------
    ::

        class Grad(XPBenchmark):
            params = (*XPBenchmark.params, [100, 1000])
            param_names = (*XPBenchmark.param_names, "d")

            def setup(self, backend, d):
                super().setup(backend)
                self.x = self.asarray(np.ones(d))

            def time_grad(self, backend, d):
                self.sync(self.xp.sum(self.x))
    """

    backends: tuple[str, ...] = selected_backends()
    params: tuple = (list(selected_backends()),)
    param_names: tuple[str, ...] = ("backend",)
    timeout = 300

    def setup(self, backend: str, *args: Any) -> None:
        """Select the backend; raise ``NotImplementedError`` (asv: skipped) when absent."""
        if backend not in available():
            raise NotImplementedError(f"backend {backend!r} is not available on this machine")
        self.backend = backend
        self.xp = namespace(backend)
        self.device = _torch_device() if backend == "torch" else None

    def asarray(self, host: np.ndarray) -> Any:
        """Copy a host array to the backend's device, keeping its dtype."""
        if self.device is None:
            return self.sync(self.xp.asarray(host))
        return self.sync(self.xp.asarray(host, device=self.device))

    def rng(self, seed: int) -> Generator:
        """A generator of arrays on the backend's device."""
        return rng(seed, self.xp, self.device)

    def sync(self, result: Any) -> Any:
        """Block until the device work that produced ``result`` is done; return ``result``.

        ``result`` may be an array, a ``Trace`` (its final iterates are synchronized) or a
        tuple of them.
        """
        if isinstance(result, tuple | list):
            for item in result:
                self.sync(item)
            return result
        array = getattr(result, "x", result)
        if array is not None and not isinstance(array, int | float | str | dict):
            synchronize(array)
        return result
