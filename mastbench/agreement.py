"""Checked as implemented: the method as run by the driver against its exact moments.

A method that declares a moment map is run twice on the same quadratic instance: R batched
replicates through :func:`mastbench.algorithms.driver.run` (the code users run), and
:func:`mastbench.exact.moments` (its moment map).  At every compared iteration t the exact
E x_t and E‖x_t − x_D*‖² must lie in confidence intervals around the Monte-Carlo means of the
d coordinates of x_t and of ‖x_t − x_D*‖²; the intervals are simultaneous over all C·(d + 1)
compared quantities (Bonferroni), so an instance that agrees is reported as disagreeing with
probability at most about 1 − ``level``.  The coordinates' intervals use the *exact*
variance Var x_t[j] = E x_t[j]² − (E x_t[j])² (normal quantile): a sample that misses rare
sketch outcomes cannot shrink them.  E‖x_t − x_D*‖² has no exact variance here (it needs
fourth moments) and uses the sample's (Student t); it is compared only at the t where the
sample spread reaches a quarter of the exact tr Cov x_t.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from mastbench.algorithms.driver import run
from mastbench.exact.engine import moments
from mastbench.validation import check_in_range, check_int

__all__ = ["Agreement", "agreement"]

DISAGREES = "the implementation disagrees with the exact dynamics at t ="

#: Default simultaneous level: a correct method is reported in disagreement with probability
#: at most 1e-6 per instance.
LEVEL = 1.0 - 1e-6


@dataclass(frozen=True)
class Agreement:
    """Whether a method's batched runs agree with its exact moments, and where not.

    Attributes
    ----------
    holds : bool
        Every exact value lies in its simultaneous interval.
    reason : str
        Empty when it holds; else "the implementation disagrees with the exact dynamics at
        t = …" with the quantity and the interval.
    first_t : int or None
        The first compared iteration with a value outside its interval.
    worst : float
        max over the compared quantities of |MC mean − exact| / (interval half-width):
        ≤ 1 where it holds.
    iterations : numpy.ndarray
        The compared iterations.
    replicates : int
        R.
    level : float
        The simultaneous confidence level.
    checked : bool
        False when R replicates cannot sample the sketch's rare outcomes often enough for the
        intervals to be valid (then ``holds`` is True and ``reason`` says why nothing was
        compared).
    """

    holds: bool
    reason: str
    first_t: int | None
    worst: float
    iterations: np.ndarray
    replicates: int
    level: float
    checked: bool = True


#: A coordinate kept with probability p is compared only when R·p reaches this count: below
#: it, the replicates miss the rare outcomes (of size 1/p) that carry the mean, and no
#: interval from R draws is valid.
MIN_EXPECTED_KEEPS = 30.0


def smallest_keep_probability(method: Any) -> float:
    """The smallest probability that one draw of the method's sketch(es) keeps a coordinate
    (1 when the method has no sketch with a finite support)."""
    sketches = getattr(method, "sketches", None) or getattr(method, "sketch", None)
    if not isinstance(sketches, list | tuple):
        sketches = [sketches]
    smallest = 1.0
    for sketch in sketches:
        single = getattr(sketch, "marginal", sketch)
        if single is None or not hasattr(single, "support"):
            continue
        try:
            outcomes, probs = single.support()
        except ValueError:  # a support too large to enumerate: nothing rare is known
            continue
        if outcomes.ndim == 3:
            kept = np.any(outcomes != 0, axis=1)  # column j of S_i is not zero
        else:
            kept = outcomes != 0
        smallest = min(smallest, float(np.min(probs @ kept)))
    return smallest


def agreement(
    method: Any,
    problem: Any,
    x0: Any,
    iters: int,
    *,
    rng: Any,
    replicates: int = 2000,
    checkpoints: Any = None,
    level: float = LEVEL,
) -> Agreement:
    """Compare the driver's R replicates of ``method`` with ``exact.moments`` of it.

    Parameters
    ----------
    method : Method with a moment map
        E.g. :class:`~mastbench.algorithms.mast.DSGD`.
    problem : quadratic problem
        As the driver takes it (:class:`~mastbench.algorithms.mast.Clients` for the
        distributed method), NumPy arrays.
    x0 : array, shape (d,)
        The deterministic start.
    iters : int
        Horizon T ≥ 1.
    rng : Generator
        Source of the replicates' randomness.
    replicates : int
        R ≥ 2.
    checkpoints : sequence of int, optional
        Compared iterations (default 1..T); t = 0 is deterministic and never compared.
    level : float
        Simultaneous confidence level in (0, 1).

    Returns
    -------
    Agreement
    """
    iters = check_int("iters", iters, low=1)
    replicates = check_int("replicates", replicates, low=2)
    level = check_in_range("level", level, 0.0, 1.0, low_open=True, high_open=True)
    points = np.arange(1, iters + 1) if checkpoints is None else np.asarray(checkpoints)
    points = np.unique(points[points > 0]).astype(np.int64)
    keep = smallest_keep_probability(method)
    if replicates * keep < MIN_EXPECTED_KEEPS:
        reason = (
            f"not compared: a coordinate is kept with probability {keep:.3g}, so R = "
            f"{replicates} replicates expect {replicates * keep:.3g} keeps (fewer than "
            f"{MIN_EXPECTED_KEEPS:g})"
        )
        return Agreement(True, reason, None, 0.0, points, replicates, level, checked=False)
    exact = moments(method, problem, x0, iters, checkpoints=points)
    trace = run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=points,
        metrics=(),
        keep_iterates=True,
    )
    X = trace.iterates  # (C, R, d)
    C, _, d = X.shape
    if not np.all(np.isfinite(X)):
        bad = int(points[np.flatnonzero(~np.all(np.isfinite(X), axis=(1, 2)))[0]])
        reason = f"{DISAGREES} {bad}: a replicate is not finite"
        return Agreement(False, reason, bad, float("inf"), points, replicates, level)
    dist2 = np.sum((X - exact.x_D_star) ** 2, axis=2)  # (C, R)
    mean = np.concatenate([X.mean(axis=1), dist2.mean(axis=1)[:, None]], axis=1)  # (C, d+1)
    value = np.concatenate([exact.mean, exact.dist2[:, None]], axis=1)
    second = np.diagonal(exact.second, axis1=1, axis2=2)
    # the variance is a difference of moments: below its round-off it is not known to be 0
    var = np.maximum(second - exact.mean**2, 64 * np.finfo(float).eps * second)
    tail = 1.0 - (1.0 - level) / (2 * C * (d + 1))  # two-sided, Bonferroni over C(d + 1)
    half = np.empty((C, d + 1))
    half[:, :d] = special.ndtri(tail) * np.sqrt(var / replicates)
    half[:, d] = special.stdtrit(replicates - 1, tail) * dist2.std(axis=1, ddof=1)
    half[:, d] /= np.sqrt(replicates)
    # E‖x − x_D*‖² is compared only where the sample saw the spread the exact covariance
    # predicts, and only for a sample mean above the exact value: rare sketch outcomes missed
    # by all R replicates pull the sample mean of this heavy-tailed nonnegative quantity down
    # and shrink its interval with it, so a low sample mean is no evidence of a disagreement
    # (a p = 1e-3 Bernoulli instance showed it); a high one needs large values the sample saw.
    seen = X.var(axis=1, ddof=1).sum(axis=1) >= 0.25 * var.sum(axis=1)
    seen &= mean[:, d] > value[:, d]
    slack = 1e-9 * np.maximum(1.0, np.abs(value))  # a deterministic quantity: rounding only
    gap = np.abs(mean - value)
    outside = gap > half + slack
    outside[:, d] &= seen
    ratio = gap / (half + slack)
    ratio[:, d] = np.where(seen, ratio[:, d], 0.0)
    worst = float(ratio.max())
    if not outside.any():
        return Agreement(True, "", None, worst, points, replicates, level)
    c, q = (int(i) for i in np.argwhere(outside)[0])
    what = f"E x_t[{q}]" if q < d else "E‖x_t − x_D*‖²"
    reason = (
        f"{DISAGREES} {int(points[c])}: {what} = {value[c, q]:.6g} exactly, Monte Carlo "
        f"{mean[c, q]:.6g} ± {half[c, q]:.3g} (R = {replicates}, simultaneous level {level})"
    )
    return Agreement(False, reason, int(points[c]), worst, points, replicates, level)
