"""Monte-Carlo estimates with confidence intervals from batched replicates.

Used where exact moments do not exist (logistic regression, pruning schedules): the R
replicates of a :class:`~mastbench.trace.Trace` are i.i.d. draws of a metric at each
checkpoint, and the expected value is estimated by the sample mean with a confidence interval

    mean ± q · s/√R,

q the Student-t (default) or normal quantile at the stated two-sided level.  When many
checkpoints are compared at once, ``simultaneous=True`` applies the Bonferroni correction
(each interval at level 1 − (1 − level)/K), so all K intervals hold together with probability
at least ``level``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from mastbench.trace import Trace
from mastbench.validation import check_in_range

__all__ = ["Estimate", "estimate", "from_trace"]

METHODS = ("t", "normal")


@dataclass(frozen=True)
class Estimate:
    """Sample means with standard errors and confidence intervals, point by point.

    Attributes
    ----------
    mean, stderr, lower, upper : numpy.ndarray
        Shape (K,): sample mean, standard error s/√n, and interval ends.
    level : float
        Confidence level requested (for all K together when ``simultaneous``).
    point_level : float
        Level of each single interval (``level`` or its Bonferroni correction).
    n : int
        Number of replicates per point.
    method : str
        ``"t"`` or ``"normal"``.
    simultaneous : bool
        Whether the Bonferroni correction over the K points was applied.
    """

    mean: np.ndarray
    stderr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    point_level: float
    n: int
    method: str
    simultaneous: bool

    def interval(self) -> dict[str, Any]:
        """How the intervals were built: level, per-point level, method, replicates, Bonferroni."""
        return {
            "level": self.level,
            "point_level": self.point_level,
            "method": self.method,
            "n": self.n,
            "simultaneous": self.simultaneous,
            "points": int(self.mean.size),
        }

    def contains(self, value: Any) -> np.ndarray:
        """Whether each interval contains ``value`` (scalar or shape (K,))."""
        value = np.broadcast_to(np.asarray(value, dtype=float), self.mean.shape)
        return (self.lower <= value) & (value <= self.upper)


def _quantile(point_level: float, n: int, method: str) -> float:
    tail = 0.5 * (1.0 + point_level)
    if method == "t":
        return float(special.stdtrit(n - 1, tail))
    return float(special.ndtri(tail))


def estimate(
    samples: Any, *, level: float = 0.95, method: str = "t", simultaneous: bool = False
) -> Estimate:
    """Estimate the mean of each row of ``samples`` with a confidence interval.

    Parameters
    ----------
    samples : array-like, shape (K, n) or (n,)
        n i.i.d. replicates of K quantities (rows).
    level : float
        Two-sided confidence level in (0, 1).
    method : {"t", "normal"}
        Student-t quantile with n − 1 degrees of freedom, or the normal quantile.
    simultaneous : bool
        Bonferroni over the K rows: every row's interval at level 1 − (1 − level)/K.

    Returns
    -------
    Estimate

    Raises
    ------
    ValueError
        On fewer than 2 replicates, non-finite samples, a level outside (0, 1) or an unknown
        method.
    """
    level = check_in_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(simultaneous, bool):
        raise TypeError(f"simultaneous must be a bool, got {type(simultaneous).__name__}")
    data = np.asarray(samples, dtype=float)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError(f"samples must have shape (K, n) or (n,), got {data.shape}")
    K, n = data.shape
    if n < 2:
        raise ValueError(f"samples need at least 2 replicates per point, got {n}")
    if not np.all(np.isfinite(data)):
        raise ValueError("samples must be finite")
    point_level = 1.0 - (1.0 - level) / K if simultaneous else level
    mean = data.mean(axis=1)
    stderr = data.std(axis=1, ddof=1) / np.sqrt(n)
    half = _quantile(point_level, n, method) * stderr
    return Estimate(
        mean, stderr, mean - half, mean + half, level, point_level, n, method, simultaneous
    )


def from_trace(
    trace: Trace,
    metric: str,
    *,
    level: float = 0.95,
    method: str = "t",
    simultaneous: bool = True,
) -> Estimate:
    """Estimate E[metric] at every checkpoint of ``trace`` from its replicates.

    Parameters
    ----------
    trace : Trace
        A batched run; its replicates are i.i.d.
    metric : str
        Name of a recorded metric.
    level, method : see :func:`estimate`
    simultaneous : bool
        Bonferroni over the checkpoints (default True: the intervals are compared with a
        bound at every checkpoint at once).

    Returns
    -------
    Estimate
        One interval per checkpoint (``trace.iterations``).
    """
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a mastbench.trace.Trace, got {type(trace).__name__}")
    if metric not in trace.metrics:
        known = ", ".join(sorted(trace.metrics))
        raise KeyError(f"trace has no metric {metric!r}; recorded metrics: {known}")
    return estimate(trace.metrics[metric], level=level, method=method, simultaneous=simultaneous)
