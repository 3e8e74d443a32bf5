"""Argument checks, trace metrics and distributed objectives shared by the MAST algorithms."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from mastbench.algorithms.method import Unavailable
from mastbench.backend import array_namespace, to_numpy
from mastbench.problems.base import Problem
from mastbench.validation import check_finite

__all__ = [
    "METRICS",
    "DistributedQuadraticMAST",
    "MASTMetrics",
    "check_problem",
    "check_shift",
    "check_sketch",
    "mast_metrics",
]


def check_problem(name: str, problem: Any) -> Problem:
    """``problem`` must be a :class:`~problems.base.Problem`."""
    if not isinstance(problem, Problem):
        raise TypeError(f"{name} must be a problems.Problem, got {type(problem).__name__}")
    return problem


def check_sketch(name: str, sketch: Any, d: int | None = None) -> Any:
    """``sketch`` must be a sketch distribution (of dimension ``d`` when given)."""
    if not (hasattr(sketch, "d") and hasattr(sketch, "sample")):
        raise TypeError(
            f"{name} must be a sketch distribution from mastbench.sketches, "
            f"got {type(sketch).__name__}"
        )
    if d is not None and int(sketch.d) != d:
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


def _sqnorm(xp: Any, z: Any) -> Any:
    return xp.sum(z * z, axis=1)


#: Metrics the MAST algorithms record (where computable).
METRICS = ("subopt", "subopt_D", "dist2", "gradnorm2_D")


class MASTMetrics(Mapping):
    """Metrics f − f*, f_D − f_D*, ‖x − x_D*‖², ‖∇f_D‖², each built when first looked up.

    A metric that cannot be evaluated (e.g. f_D* needs an enumeration too large) is an
    :class:`~mastbench.algorithms.method.Unavailable` with the reason; each is probed on
    ``x0`` when looked up, so a run that records none of them (``metrics=()``) computes no
    f_D* at all.

    Parameters
    ----------
    base : Problem
        f (for ``subopt``).
    objective : MAST objective
        f_D with ``value``, ``grad``, ``x_star``, ``f_star`` (for the ``_D`` metrics).
    x0 : array, shape (R, d)
        Start, used to probe that each metric evaluates.
    """

    def __init__(self, base: Any, objective: Any, x0: Any):
        self._base, self._objective, self._x0 = base, objective, x0
        self._built: dict[str, Callable[[Any], Any] | Unavailable] = {}

    def _build(self, name: str) -> Callable[[Any], Any]:
        xp = array_namespace(self._x0)
        base, objective = self._base, self._objective
        if name == "subopt":
            return _shifted(base.value, base.f_star)
        if name == "subopt_D":
            return _shifted(objective.value, objective.f_star)
        if name == "dist2":
            return _distance(xp, objective.x_star)
        return lambda x: _sqnorm(xp, objective.grad(x))

    def __getitem__(self, name: str) -> Callable[[Any], Any] | Unavailable:
        if name not in METRICS:
            raise KeyError(name)
        if name not in self._built:
            try:
                fn = self._build(name)
                fn(self._x0)
            except (NotImplementedError, ValueError, OverflowError, MemoryError) as exc:
                self._built[name] = Unavailable(f"{type(exc).__name__}: {exc}")
            else:
                self._built[name] = fn
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(METRICS)

    def __len__(self) -> int:
        return len(METRICS)


def mast_metrics(base: Any, objective: Any, x0: Any) -> MASTMetrics:
    """The metrics of a MAST run on f = ``base`` with MAST objective ``objective``."""
    return MASTMetrics(base, objective, x0)


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
    def shift_host(self) -> np.ndarray:
        """v on the host."""
        return self._v

    @property
    def f_shift(self) -> float:
        """f(v) = (1/M) Σ_i f_i(v)."""
        return self.const

    @property
    def c_shift(self) -> np.ndarray:
        """c̄ = ∇f(v) = (1/M) Σ_i ∇f_i(v)."""
        return self.c_bar

    @property
    def problem_hessian(self) -> np.ndarray:
        """A = (1/M) Σ_i A_i, the Hessian of f."""
        return self.A

    @property
    def problem_f_star(self) -> float:
        """f* = min f = c0 − ½ bᵀA⁺b."""
        from mastbench.problems.quadratic import Quadratic

        return float(Quadratic(self.A, self.b).f_star + self.c0)

    @property
    def y_star_host(self) -> np.ndarray:
        """y* = x_D* − v = −Ā⁻¹c̄."""
        eig = np.linalg.eigvalsh(self.A_bar)
        if eig[0] <= eig.size * np.finfo(float).eps * max(eig[-1], 1.0):
            raise ValueError("the distributed MAST objective has a singular Hessian")
        return np.linalg.solve(self.A_bar, -self.c_bar)

    @property
    def x_star_host(self) -> np.ndarray:
        """x_D* = v − Ā⁻¹c̄."""
        return self._v + self.y_star_host

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
