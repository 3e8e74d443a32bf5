"""The one driver: runs any :class:`~mastbench.algorithms.method.Method` and records a Trace.

``run`` owns what every algorithm used to write again: the replicate batch, the checkpoints
(log-spaced by default), the metrics, the oracle counters, the timing of the steps alone and
the divergence check (the first checkpoint with a non-finite iterate).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from mastbench.algorithms.method import Method, Unavailable, select_metrics
from mastbench.backend import array_namespace, as_generator, synchronize, to_numpy
from mastbench.trace import Trace
from mastbench.trace import checkpoints as default_checkpoints
from mastbench.validation import (
    check_checkpoints,
    check_finite,
    check_int,
    check_real_floating,
)

__all__ = ["broadcast_start", "run"]


def broadcast_start(problem: Any, x0: Any, replicates: int) -> Any:
    """x0 of shape (d,) or (R, d) as a fresh (R, d) array of the problem's dtype and device.

    ``None`` is the zero start.  A start of another namespace, non-real, non-finite or of
    another shape is refused by name.
    """
    xp = problem.xp
    if x0 is None:
        return xp.zeros((replicates, problem.d), dtype=problem.dtype, device=problem.device)
    if not hasattr(x0, "shape") or array_namespace(x0) is not xp:
        raise TypeError(f"x0 must be an array of the problem's namespace {xp.__name__}")
    check_real_floating("x0", x0)
    shape = tuple(x0.shape)
    if shape not in ((problem.d,), (replicates, problem.d)):
        raise ValueError(
            f"x0 must have shape ({problem.d},) or (replicates={replicates}, {problem.d}), "
            f"got {shape}"
        )
    check_finite("x0", x0)
    x0 = xp.asarray(x0, dtype=problem.dtype, device=problem.device)
    return xp.asarray(xp.broadcast_to(x0, (replicates, problem.d)), copy=True)


def _host(value: Any) -> np.ndarray:
    """A recorded value as a flat host array: floating values keep their dtype (a float32
    run records float32 metrics), integers and booleans become float64."""
    values = np.asarray(to_numpy(value)).reshape(-1)
    return values if values.dtype.kind == "f" else values.astype(float)


def run(
    method: Method,
    problem: Any,
    x0: Any = None,
    *,
    iters: int,
    rng: Any = None,
    replicates: int = 1,
    checkpoints: Iterable[int] | None = None,
    metrics: Any = None,
    keep_iterates: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Trace:
    """Run ``method`` on ``problem`` for ``iters`` steps, R replicates batched as one array.

    Parameters
    ----------
    method : Method
        The algorithm and its hyperparameters.
    problem : Problem
        What it minimizes (its namespace and device are the run's).
    x0 : array, shape (d,) or (R, d), optional
        Start (default zero), copied, cast to the problem's dtype; a (d,) start is shared.
    iters : int
        Number of steps T ≥ 0.
    rng : Generator, int or numpy.random.Generator, optional
        Source of all randomness, required when ``method.stochastic``: a
        :func:`mastbench.backend.rng` generator of the problem's namespace and device, or a seed
        (``rng(seed, problem.xp, problem.device)``), or for NumPy problems a NumPy generator
        (drawn from); see :func:`mastbench.backend.as_generator`.
    replicates : int, default 1
        Number R ≥ 1 of independent runs.
    checkpoints : iterable of int, optional
        Iterations in [0, T] recorded (default log-spaced, :func:`mastbench.trace.checkpoints`).
    metrics : sequence of str or mapping, optional
        A subset of the method's default metrics (``None``: all), or a mapping name →
        function of the (R, d) batch used instead.
    keep_iterates : bool, default False
        Also keep host copies of the iterates at the checkpoints.
    params : mapping, optional
        Extra entries for ``Trace.params`` (after the method's own).

    Returns
    -------
    Trace
        Metrics, the method's diagnostics and counters at the checkpoints; ``time`` counts the
        steps only; ``diverged_at`` is the first checkpoint whose iterate batch is not finite
        (``None`` when every recorded iterate is finite); ``params`` ends with the method's
        summary of its final state.

    Notes
    -----
    Dtypes: the run computes in ``problem.dtype``.  Float32 data give float32 iterates, a
    float32 ``Trace.x`` and float32 metrics and diagnostics (integer counts are recorded as
    float64); the random draws are those of float64 (uniforms drawn and compared in float64
    on the host, values cast), and exact constants are computed in float64 from the data.
    """
    if not isinstance(method, Method):
        raise TypeError(
            "method must be a Method (init, step, output, metrics, diagnostics, counters, "
            f"params; see mastbench.algorithms.method), got {type(method).__name__}"
        )
    if not all(hasattr(problem, name) for name in ("xp", "d", "dtype", "device")):
        raise TypeError(
            "problem must be a mastbench problem (with xp, d, dtype and device), "
            f"got {type(problem).__name__}"
        )
    iters = check_int("iters", iters, low=0)
    replicates = check_int("replicates", replicates, low=1)
    if method.stochastic or rng is not None:
        rng = as_generator(rng, problem.xp, problem.device)
    points = default_checkpoints(iters) if checkpoints is None else checkpoints
    iterations = check_checkpoints(points, iters)
    x = broadcast_start(problem, x0, replicates)
    state = method.init(problem, x, rng)
    chosen = select_metrics(method.metrics(problem, x), metrics, where=method.name)
    skipped = {k: v.reason for k, v in chosen.items() if isinstance(v, Unavailable)}
    fns = {k: v for k, v in chosen.items() if not isinstance(v, Unavailable)}
    run_params = {**method.params(), "iters": iters, "replicates": replicates}
    if skipped:
        run_params["skipped_metrics"] = skipped
    run_params.update(params or {})

    values: dict[str, list[np.ndarray]] = {}
    counters: dict[str, list[float]] = {}
    times: list[float] = []
    kept: list[np.ndarray] = []
    diverged_at: int | None = None
    elapsed = 0.0

    def record(t: int, state: Any) -> None:
        nonlocal diverged_at
        x = method.output(state)
        xp = array_namespace(x)
        for name, fn in fns.items():
            values.setdefault(name, []).append(_host(fn(x)))
        for name, value in method.diagnostics(state).items():
            values.setdefault(name, []).append(_host(value))
        for name, value in method.counters(state).items():
            counters.setdefault(name, []).append(float(value))
        if diverged_at is None and not bool(xp.all(xp.isfinite(x))):
            diverged_at = t
        if keep_iterates:
            kept.append(np.array(to_numpy(x), copy=True))
        times.append(elapsed)

    due = {int(t) for t in iterations}
    if 0 in due:
        record(0, state)
    started = time.perf_counter()
    for k in range(iters):
        state = method.step(problem, state, k, rng)
        if k + 1 in due:
            synchronize(method.output(state))
            elapsed += time.perf_counter() - started
            record(k + 1, state)
            started = time.perf_counter()
    run_params["diverged_at"] = diverged_at
    run_params.update(method.summary(state))
    return Trace(
        algorithm=method.name,
        iterations=iterations,
        metrics={k: np.stack(v) for k, v in values.items()},
        counters={k: np.asarray(v) for k, v in counters.items()},
        time=np.asarray(times),
        x=method.output(state),
        params=run_params,
        iterates=np.stack(kept) if keep_iterates else None,
        diverged_at=diverged_at,
    )
