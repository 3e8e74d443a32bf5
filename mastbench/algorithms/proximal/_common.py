"""What every method of the RAMDA family shares: the gradient oracle, the recorded metrics,
schedules and the checks of their hyperparameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mastbench.algorithms.method import MethodBase, Metric, Unavailable
from mastbench.backend import Generator
from mastbench.problems.base import FiniteSum, Problem
from mastbench.problems.composite import Composite
from mastbench.validation import check_in_range, check_int

__all__ = [
    "ProxMethod",
    "Schedule",
    "check_betas",
    "check_choice",
    "check_composite",
    "check_milestones",
    "check_oracle",
    "check_smooth",
    "check_weight",
    "composite_metrics",
    "gradient",
    "smooth_metrics",
    "value_at",
]

#: A constant, or k ↦ value at the global step k = 1, …, T.
Schedule = float | Callable[[int], float]


def value_at(schedule: Schedule, k: int) -> float:
    """The value of ``schedule`` at the global step k (1-based)."""
    return float(schedule(k)) if callable(schedule) else float(schedule)


def gradient(f: Problem, W: Any, batch_size: int | None, rng: Generator | None) -> Any:
    """G = ∇f_ξ(W) for the (R, d) batch W: the full ∇f when ``batch_size`` is None, otherwise
    the mean gradient of ``batch_size`` components drawn uniformly with replacement per
    replicate (one ``rng.integers`` draw of shape (R, b))."""
    if batch_size is None:
        return f.grad(W)
    idx = rng.integers(0, f.n, (W.shape[0], batch_size))
    return f.grad_batch(W, idx)


def check_oracle(f: Problem, batch_size: int | None, rng: Generator | None) -> int | None:
    """``batch_size`` checked against f (a FiniteSum when given) and ``rng`` (required then)."""
    if batch_size is None:
        return None
    if not isinstance(f, FiniteSum):
        raise TypeError("batch_size needs a finite-sum f (problems.FiniteSum)")
    batch_size = check_int("batch_size", batch_size, low=1)
    if rng is None:
        raise ValueError("rng is required when batch_size is given (stochastic gradients)")
    return batch_size


def composite_metrics(problem: Composite, track_optimum: bool) -> dict[str, Callable[[Any], Any]]:
    """F, dist(0, ∂F)², the number of active groups and, with ``track_optimum``, F − F* and
    |supp Δ S*| of an (R, d) batch."""
    xp = problem.xp
    metrics: dict[str, Callable[[Any], Any]] = {
        "objective": problem.value,
        "stationarity2": problem.stationarity2,
        "support": lambda W: xp.sum(xp.astype(problem.support(W), W.dtype), axis=-1),
    }
    if track_optimum:
        metrics["subopt"] = lambda W: problem.value(W) - problem.F_star
        metrics["support_errors"] = problem.support_errors
    return metrics


def smooth_metrics(f: Problem) -> dict[str, Callable[[Any], Any]]:
    """f and ‖∇f‖² of an (R, d) batch."""
    xp = f.xp
    return {"objective": f.value, "gradnorm2": lambda z: xp.sum(f.grad(z) ** 2, axis=-1)}


def check_composite(problem: Any) -> Composite:
    if not isinstance(problem, Composite):
        raise TypeError(f"problem must be a problems.Composite, got {type(problem).__name__}")
    return problem


def check_smooth(f: Any) -> Problem:
    if not isinstance(f, Problem):
        raise TypeError(f"f must be a problems.Problem, got {type(f).__name__}")
    return f


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_weight(name: str, value: Any) -> float:
    """A momentum weight c (or ρ) in (0, 1]: 1 keeps only the newest term."""
    return check_in_range(name, value, 0.0, 1.0, low_open=True, high_open=False)


def check_milestones(milestones: tuple[int, ...], iters: int) -> tuple[int, ...]:
    ms = tuple(check_int("milestones[i]", m, low=1, high=iters) for m in milestones)
    if list(ms) != sorted(set(ms)):
        raise ValueError(f"milestones must be strictly increasing, got {milestones}")
    return ms


def check_betas(betas: tuple[float, float]) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    b1, b2 = (
        check_in_range(f"betas[{i}]", b, 0.0, 1.0, low_open=False, high_open=True)
        for i, b in enumerate(betas)
    )
    return b1, b2


@dataclass(frozen=True, kw_only=True)
class ProxMethod(MethodBase):
    """A method on F = f + ψ whose state has the iterate W, the step count k and the PG steps
    spent (ProxGen, ProxSSI, ProxSGD): it records the composite metrics of W and the
    counters ``grad_evals`` and ``pg_iters``."""

    batch_size: int | None = None
    track_optimum: bool = True

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.batch_size is not None

    def output(self, state: Any) -> Any:
        return state.W

    def metrics(self, problem: Any, x0: Any) -> dict[str, Metric | Unavailable]:
        return dict(composite_metrics(problem, self.track_optimum))

    def counters(self, state: Any) -> dict[str, float]:
        return {"grad_evals": state.k * (self.batch_size or 1), "pg_iters": state.pg_iters}
