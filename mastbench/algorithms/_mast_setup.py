"""Argument checks and trace metrics shared by the MAST algorithms (private helpers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mastbench.backend import array_namespace, to_numpy
from mastbench.problems.base import Problem
from mastbench.validation import (
    check_finite,
    check_generator,
    check_int,
    check_positive,
    check_real_floating,
)

__all__ = [
    "METRICS",
    "DistributedQuadraticMAST",
    "broadcast_start",
    "check_common",
    "check_metrics",
    "check_shift",
    "check_sketch",
    "mast_metrics",
]


def check_common(step: Any, iters: Any, rng: Any, replicates: Any) -> tuple[float, int, int]:
    """Validate the arguments every MAST algorithm takes; return (step, iters, replicates)."""
    step = check_positive("step", step)
    iters = check_int("iters", iters, low=0)
    replicates = check_int("replicates", replicates, low=1)
    check_generator("rng", rng)
    return step, iters, replicates


def check_problem(name: str, problem: Any) -> Problem:
    """``problem`` must be a :class:`~problems.base.Problem`."""
    if not isinstance(problem, Problem):
        raise TypeError(f"{name} must be a problems.Problem, got {type(problem).__name__}")
    return problem


def check_sketch(name: str, sketch: Any, d: int) -> Any:
    """``sketch`` must be a sketch distribution of dimension ``d``."""
    if not (hasattr(sketch, "d") and hasattr(sketch, "sample")):
        raise TypeError(
            f"{name} must be a sketch distribution from mastbench.sketches, "
            f"got {type(sketch).__name__}"
        )
    if int(sketch.d) != d:
        raise ValueError(f"{name} has dimension {sketch.d}, but the problem has d={d}")
    return sketch


def check_shift(problem: Problem, shift: Any) -> Any:
    """The shift v as a (d,) array in the problem's namespace (zero when ``None``)."""
    xp = problem.xp
    if shift is None:
        return xp.zeros((problem.d,), dtype=problem.dtype, device=problem.device)
    if array_namespace(shift) is not xp:
        raise TypeError(f"shift must be an array of the problem's namespace {xp.__name__}")
    if tuple(shift.shape) != (problem.d,):
        raise ValueError(f"shift must have shape ({problem.d},), got {tuple(shift.shape)}")
    check_finite("shift", shift)
    return xp.asarray(shift, dtype=problem.dtype, device=problem.device)


def broadcast_start(problem: Problem, x0: Any, replicates: int) -> Any:
    """x0 of shape (d,) or (R, d) as a fresh (R, d) array (a copy the algorithm may mutate)."""
    xp = problem.xp
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


def _sqnorm(xp: Any, z: Any) -> Any:
    return xp.sum(z * z, axis=1)


#: Metrics the MAST algorithms record (where computable).
METRICS = ("subopt", "subopt_D", "dist2", "gradnorm2_D")


def check_metrics(metrics: Any) -> tuple[str, ...]:
    """``None`` (all of :data:`METRICS`) or a subset of them (empty: counters and time only)."""
    if metrics is None:
        return METRICS
    try:
        names = tuple(metrics)
    except TypeError:
        names = None
    if isinstance(metrics, str) or names is None or not all(isinstance(m, str) for m in names):
        raise TypeError("metrics must be a sequence of metric names")
    unknown = sorted(set(names) - set(METRICS))
    if unknown:
        raise ValueError(f"metrics must be a subset of {METRICS}, got {list(names)}")
    return names


def mast_metrics(
    base: Any, objective: Any, x0: Any, names: tuple[str, ...] = METRICS
) -> tuple[dict[str, Callable[[Any], Any]], dict[str, str]]:
    """Metrics f − f*, f_D − f_D*, ‖x − x_D*‖², ‖∇f_D‖² where they are computable.

    Parameters
    ----------
    base : Problem
        f (for ``subopt``).
    objective : MAST objective
        f_D with ``value``, ``grad``, ``x_star``, ``f_star`` (for the ``_D`` metrics).
    x0 : array, shape (R, d)
        Start, used to probe that each metric evaluates.

    Returns
    -------
    metrics : dict
        Name → function of the (R, d) batch.
    skipped : dict
        Name → why the metric is not recorded (e.g. f_D* needs an enumeration too large).
    """
    xp = array_namespace(x0)
    candidates: dict[str, Callable[[], Callable[[Any], Any]]] = {
        "subopt": lambda: _shifted(base.value, base.f_star),
        "subopt_D": lambda: _shifted(objective.value, objective.f_star),
        "dist2": lambda: _distance(xp, objective.x_star),
        "gradnorm2_D": lambda: lambda x: _sqnorm(xp, objective.grad(x)),
    }
    metrics: dict[str, Callable[[Any], Any]] = {}
    skipped: dict[str, str] = {}
    for name, build in candidates.items():
        if name not in names:
            continue
        try:
            fn = build()
            fn(x0)
        except (NotImplementedError, ValueError, OverflowError, MemoryError) as exc:
            skipped[name] = f"{type(exc).__name__}: {exc}"
            continue
        metrics[name] = fn
    return metrics, skipped


def _shifted(value: Callable[[Any], Any], minimum: float) -> Callable[[Any], Any]:
    minimum = float(minimum)
    return lambda x: value(x) - minimum


def _distance(xp: Any, center: Any) -> Callable[[Any], Any]:
    return lambda x: _sqnorm(xp, x - center)


class DistributedQuadraticMAST:
    """f_D(x) = (1/M) Σ_i E_{S_i} f_i(v + S_i(x − v)) for quadratic clients f_i (closed form).

    With y = x − v and c_i = ∇f_i(v): f_D(x) = (1/M)Σ_i [f_i(v) + c_iᵀy + ½yᵀĀ_iy], where
    Ā_i = E[S_iᵀA_iS_i] (``sketch.expected_sandwich``); hence x_D* = v − Ā⁻¹c̄ with
    Ā = mean Ā_i, c̄ = mean c_i (arXiv 2311.16086 §distributed; mast.md §3.2).  Raises
    ``ValueError`` when Ā is singular (no unique minimizer).
    """

    def __init__(self, problems: Sequence[Any], sketches: Sequence[Any], shift: Any):
        self.xp = problems[0].xp
        v = to_numpy(shift).astype(float)
        self._v = v
        A_bar = np.zeros((v.size, v.size))
        c_bar = np.zeros(v.size)
        const = 0.0
        A_all, b_all, c0_all = [], [], []
        for problem, sketch in zip(problems, sketches, strict=True):
            A, b, c0 = problem.quadratic_form()
            A_bar += np.asarray(sketch.expected_sandwich(A), dtype=float)
            c_bar += A @ v - b
            const += 0.5 * v @ A @ v - b @ v + c0
            A_all.append(A)
            b_all.append(b)
            c0_all.append(c0)
        M = len(problems)
        self.A_bar, self.c_bar, self.const = A_bar / M, c_bar / M, float(const) / M
        self.A = np.mean(A_all, axis=0)
        self.b = np.mean(b_all, axis=0)
        self.c0 = float(np.mean(c0_all))
        self._asarray = problems[0].asarray

    @property
    def x_star_host(self) -> np.ndarray:
        """x_D* = v − Ā⁻¹c̄."""
        eig = np.linalg.eigvalsh(self.A_bar)
        if eig[0] <= eig.size * np.finfo(float).eps * max(eig[-1], 1.0):
            raise ValueError("the distributed MAST objective has a singular Hessian")
        return self._v - np.linalg.solve(self.A_bar, self.c_bar)

    @property
    def x_star(self) -> Any:
        """x_D* in the problems' namespace."""
        return self._asarray(self.x_star_host)

    @property
    def f_star(self) -> float:
        """f_D* = f_D(x_D*)."""
        y = self.x_star_host - self._v
        return float(self.const + self.c_bar @ y + 0.5 * y @ self.A_bar @ y)

    def value(self, x: Any) -> Any:
        """f_D on a batch (R, d)."""
        xp = self.xp
        y = x - self._asarray(self._v)
        A_bar = self._asarray(self.A_bar)
        return (
            self.const
            + xp.sum(y * self._asarray(self.c_bar), axis=1)
            + 0.5 * xp.sum(y * (y @ A_bar), axis=1)
        )

    def grad(self, x: Any) -> Any:
        """∇f_D on a batch (R, d)."""
        y = x - self._asarray(self._v)
        return y @ self._asarray(self.A_bar) + self._asarray(self.c_bar)


class AverageQuadratic:
    """f = (1/M) Σ_i f_i for quadratic clients: value on batches and the closed-form f*."""

    def __init__(self, problems: Sequence[Any], A: np.ndarray, b: np.ndarray, c0: float):
        from mastbench.problems.quadratic import Quadratic

        self._problems = list(problems)
        self._reference = Quadratic(A, b)
        self._c0 = c0

    @property
    def f_star(self) -> float:
        """min f = c0 − ½ bᵀA⁺b."""
        return float(self._reference.f_star + self._c0)

    def value(self, x: Any) -> Any:
        """f on a batch (R, d)."""
        total = self._problems[0].value(x)
        for problem in self._problems[1:]:
            total = total + problem.value(x)
        return total / len(self._problems)
