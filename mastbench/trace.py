"""The record of one algorithm run: metrics of R replicates at checkpoint iterations.

Every algorithm in :mod:`mastbench.algorithms` returns a :class:`Trace`.  Metrics are stored
on the host as ``(n_checkpoints, R)`` NumPy arrays (in the run's floating dtype, float64 for
counts), one column per replicate, so a trace can be averaged, compared with a bound, or
written to the results store without knowing which backend produced it.  The final iterates
stay in the namespace and dtype of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mastbench.backend import synchronize, to_numpy
from mastbench.validation import check_checkpoints, check_int

__all__ = ["Trace", "TraceRecorder", "checkpoints"]


def checkpoints(iters: int, num: int | None = 50, *, every: int | None = None) -> np.ndarray:
    """Iterations at which metrics are recorded: 0, ``iters`` and log-spaced points between.

    Parameters
    ----------
    iters : int
        Number of iterations of the run (the last checkpoint).
    num : int or None
        Approximate number of log-spaced checkpoints; ``None`` records every iteration.
    every : int, optional
        Record every ``every`` iterations instead (overrides ``num``).

    Returns
    -------
    numpy.ndarray
        Sorted unique int64 iteration indices in ``[0, iters]``, always containing both ends.
    """
    iters = check_int("iters", iters, low=0)
    if every is not None:
        every = check_int("every", every, low=1)
        points = np.arange(0, iters + 1, every)
    elif num is None or num >= iters + 1:
        points = np.arange(iters + 1)
    else:
        num = check_int("num", num, low=2)
        points = np.unique(np.round(np.geomspace(1, iters, num - 1)).astype(np.int64))
        points = np.concatenate([[0], points])
    return np.unique(np.concatenate([points, [0, iters]])).astype(np.int64)


@dataclass
class Trace:
    """Metrics of a batched run at checkpoint iterations.

    Attributes
    ----------
    algorithm : str
        Name of the algorithm that produced the trace.
    iterations : numpy.ndarray
        (C,) checkpoint iteration indices.
    metrics : dict of str to numpy.ndarray
        Each metric as a (C, R) array: row c is checkpoint ``iterations[c]``, column r is
        replicate r.  Common names: ``subopt`` (f − f*), ``subopt_D`` (f_D − f_D*), ``dist2``
        (‖x − x*‖²), ``gradnorm2``, ``gap`` (FW gap), ``support`` (nonzeros or groups).
    counters : dict of str to numpy.ndarray
        Cumulative oracle counts at each checkpoint, shape (C,) (per replicate), e.g.
        ``grad_evals`` and ``coords_touched``.
    time : numpy.ndarray
        (C,) wall-clock seconds spent in the algorithm's steps (metric evaluation excluded).
    x : array
        Final iterates, shape (R, d), in the namespace of the run.
    params : dict
        Parameters of the run (step size, sketch, seed, ...), for the results store.
    iterates : numpy.ndarray or None
        (C, R, d) iterates at the checkpoints when ``keep_iterates=True`` was asked.
    diverged_at : int or None
        The first checkpoint at which some replicate's iterate is not finite (``None``: every
        recorded iterate is finite).
    """

    algorithm: str
    iterations: np.ndarray
    metrics: dict[str, np.ndarray]
    counters: dict[str, np.ndarray]
    time: np.ndarray
    x: Any
    params: dict[str, Any] = field(default_factory=dict)
    iterates: np.ndarray | None = None
    diverged_at: int | None = None

    @property
    def replicates(self) -> int:
        """Number of replicates R."""
        return int(next(iter(self.metrics.values())).shape[1]) if self.metrics else 0

    def mean(self, name: str) -> np.ndarray:
        """Mean of metric ``name`` over replicates, shape (C,)."""
        return self.metrics[name].mean(axis=1)

    def final(self, name: str) -> np.ndarray:
        """Metric ``name`` at the last checkpoint, shape (R,)."""
        return self.metrics[name][-1]

    def records(self) -> Iterable[dict[str, Any]]:
        """Long-format rows (one per checkpoint × replicate) for the results store."""
        for c, t in enumerate(self.iterations):
            for r in range(self.replicates):
                row: dict[str, Any] = {
                    "algorithm": self.algorithm,
                    "replicate": r,
                    "iteration": int(t),
                    "time": float(self.time[c]),
                }
                row.update({k: float(v[c, r]) for k, v in self.metrics.items()})
                row.update({k: float(v[c]) for k, v in self.counters.items()})
                yield row


class TraceRecorder:
    """Collects metrics at checkpoints while an algorithm runs; builds the :class:`Trace`.

    Parameters
    ----------
    algorithm : str
        Name of the algorithm.
    iters : int
        Number of iterations.
    metrics : mapping of str to callable
        Each callable maps the (R, d) iterate batch to an (R,) array of the metric.
    checkpoints : array-like of int, optional
        Iterations to record (default: :func:`checkpoints` ``(iters)``).
    params : dict, optional
        Stored in the trace.
    keep_iterates : bool
        Also store the iterates at the checkpoints (host copies).

    Notes
    -----
    The clock runs only between calls to :meth:`record`, and the device is synchronized before
    every reading, so ``Trace.time`` measures the algorithm's own work.
    """

    def __init__(
        self,
        algorithm: str,
        iters: int,
        metrics: Mapping[str, Callable[[Any], Any]],
        *,
        checkpoints: Iterable[int] | None = None,
        params: dict[str, Any] | None = None,
        keep_iterates: bool = False,
    ):
        self.algorithm = algorithm
        self.iters = check_int("iters", iters, low=0)
        points = globals()["checkpoints"](iters) if checkpoints is None else checkpoints
        self.iterations = check_checkpoints(points, self.iters)
        self._due = set(int(t) for t in self.iterations)
        self._metric_fns = dict(metrics)
        self._values: dict[str, list[np.ndarray]] = {k: [] for k in self._metric_fns}
        self._counters: dict[str, list[float]] = {}
        self._times: list[float] = []
        self._iterates: list[np.ndarray] | None = [] if keep_iterates else None
        self.params = dict(params or {})
        self._elapsed = 0.0
        self._started = time.perf_counter()

    def due(self, t: int) -> bool:
        """Whether iteration ``t`` is a checkpoint."""
        return t in self._due

    def record(self, t: int, x: Any, **counters: float) -> None:
        """Record the metrics of iterate batch ``x`` at iteration ``t`` if it is a checkpoint."""
        if t not in self._due:
            return
        synchronize(x)
        self._elapsed += time.perf_counter() - self._started
        for name, fn in self._metric_fns.items():
            self._values[name].append(np.asarray(to_numpy(fn(x)), dtype=float).reshape(-1))
        for name, value in counters.items():
            self._counters.setdefault(name, []).append(float(value))
        self._times.append(self._elapsed)
        if self._iterates is not None:
            self._iterates.append(to_numpy(x).copy())
        self._started = time.perf_counter()

    def finish(self, x: Any) -> Trace:
        """Return the :class:`Trace` with final iterates ``x``."""
        if len(self._times) != self.iterations.size:
            raise RuntimeError(
                f"{self.algorithm}: recorded {len(self._times)} of "
                f"{self.iterations.size} checkpoints"
            )
        return Trace(
            algorithm=self.algorithm,
            iterations=self.iterations,
            metrics={k: np.stack(v) for k, v in self._values.items()},
            counters={k: np.asarray(v) for k, v in self._counters.items()},
            time=np.asarray(self._times),
            x=x,
            params=self.params,
            iterates=None if self._iterates is None else np.stack(self._iterates),
        )
