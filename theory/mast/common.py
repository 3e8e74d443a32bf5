"""Shared pieces of the MAST rate theorems: instances, exact constants, controls.

Used by :mod:`.rates` (single-node rates) and :mod:`.rates_multi`
(variance reduction, distributed, IST).  Reference: arXiv 2311.16086; ``shared/theory/mast.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from mastbench.problems.mast_objective import MASTObjective
from mastbench.problems.quadratic import Quadratic
from mastbench.theory import NegativeControl, Theorem, theorem
from mastbench.theory.mast.instances import RunInstance

from mastbench import exact
from mastbench.algorithms.mast import DSGD
from mastbench.backend import rng

__all__ = [
    "ATOL",
    "PAPER",
    "STEP_CONTROL",
    "atol",
    "cancelled_scales",
    "dsgd_readouts",
    "dsgd_run",
    "finite_support",
    "fixed_step_theorem",
    "horizon_theorem",
    "identity_theorem",
    "quadratic_instance",
    "random_quadratic",
    "sc_assumptions",
    "setting",
    "sketch_support",
    "start_distance2",
    "start_error",
    "start_gap",
]

PAPER = (
    "Demidovich, Malinovsky, Shulgin, Richtárik, MAST: Model-Agnostic Sparsified Training, "
    "ICLR 2025, arXiv 2311.16086"
)
#: Relative size of the absolute tolerance of exact comparisons (round-off of the moment map).
ATOL = 1e-11


# -- the kinds of theorem --
def fixed_step_theorem(
    step: Callable[[Any], float], **fields: Any
) -> Callable[[Callable[..., Any]], Theorem]:
    """Register a MAST rate over t = 0..T at one step γ: its parameters are
    ``{"step": step(instance), "iters": instance.iters}`` and ``step(instance)`` is the largest
    step the theorem allows (``Theorem.step_size``); ``fields`` are the theorem's others, by
    default measured exactly (``method="exact"``) with a linear rate (``rate="linear"``)."""
    return theorem(
        paper=PAPER,
        default_params=lambda inst: {"step": step(inst), "iters": inst.iters},
        step_size=step,
        **{"method": "exact", "rate": "linear", **fields},
    )


def horizon_theorem(**fields: Any) -> Callable[[Callable[..., Any]], Theorem]:
    """Register a MAST rate on min_{t<T} (or an average over t < T), checked exactly at each
    horizon T of ``instance.horizons`` with that horizon's step, or with a fixed
    ``params["step"]``; ``fields`` are the theorem's others (further ``optional_params``
    included)."""
    optional = ("step", *fields.pop("optional_params", ()))
    return theorem(
        paper=PAPER,
        method="exact",
        x_axis="horizon T",
        optional_params=optional,
        default_params=lambda inst: {"horizons": tuple(inst.horizons)},
        **fields,
    )


def identity_theorem(**fields: Any) -> Callable[[Callable[..., Any]], Theorem]:
    """Register a MAST identity checked to round-off: the measured values are differences
    whose bound is 0 at every point, with no rate; ``fields`` are the theorem's others."""
    return theorem(paper=PAPER, rate="none", bound=_zero_bound, **fields)


def _zero_bound(inst: Any, params: Mapping[str, Any], t: Any) -> np.ndarray:
    return np.zeros(np.shape(t))


# -- instances and exact settings --
def quadratic_instance(
    name: str,
    problem: Quadratic,
    sketch: Any,
    *,
    shift: str | np.ndarray = "random",
    seed: int = 0,
    iters: int = 100,
    x0: np.ndarray | None = None,
    kind: type[RunInstance] = RunInstance,
    **fields: Any,
) -> RunInstance:
    """An instance for the single-node rates: quadratic f, sketch D, shift v, start x0.

    ``shift`` is an array, or ``"random"`` (standard normal), ``"zero"``, ``"interpolation"``
    (v = x*, so Δ = 0); ``x0`` is standard normal from ``seed`` unless given; ``kind`` is the
    instance class and ``fields`` its further fields.
    """
    gen = np.random.default_rng(seed)
    d = problem.d
    if isinstance(shift, str):
        shift = {
            "random": lambda: gen.standard_normal(d),
            "zero": lambda: np.zeros(d),
            "interpolation": lambda: problem.x_star_host.copy(),
        }[shift]()
    start = gen.standard_normal(d)
    x0 = start if x0 is None else np.asarray(x0, float)
    return kind(
        name,
        problem=problem,
        sketch=sketch,
        shift=np.asarray(shift, float),
        x0=x0,
        iters=iters,
        **fields,
    )


def random_quadratic(d: int, kappa: float, seed: int, *, mu: float = 1.0) -> Quadratic:
    """A random quadratic with eigenvalues log-spaced in [μ, μκ] (``problems.random``)."""
    from mastbench.problems import random as random_problems

    return random_problems.quadratic(d, kappa, rng(seed), mu=mu)


@dataclass
class _Setting:
    """The exact constants of one quadratic instance (mast.md §2.1), in y = x − v."""

    A_bar: np.ndarray
    y_star: np.ndarray
    objective: MASTObjective
    L_f: float
    mu_f: float
    L_D: float
    mu_D: float
    L_S_max: float

    @property
    def delta(self) -> float:
        """Δ = f_D* − f* (clipped at 0 against round-off)."""
        return max(float(self.objective.minima_gap), 0.0)

    @property
    def delta_prime(self) -> float:
        """Δ' = f_D* − E_S f_S^inf (clipped at 0 against round-off)."""
        return max(float(self.objective.minima_gap_sketchwise), 0.0)

    @property
    def lam_max_A_bar(self) -> float:
        return float(np.linalg.eigvalsh(self.A_bar)[-1])


def setting(inst: RunInstance) -> _Setting:
    problem, sketch = inst.problem, inst.sketch
    v = inst.shift
    objective = MASTObjective(problem, sketch, problem.asarray(v))
    return _Setting(
        A_bar=objective.A_bar,
        y_star=objective.x_star_host - v,
        objective=objective,
        L_f=problem.L,
        mu_f=problem.mu,
        L_D=sketch.L_D,
        mu_D=sketch.mu_D,
        L_S_max=sketch.L_S_max,
    )


def start_error(inst: RunInstance) -> np.ndarray:
    """x^0 − x_D*, computed in y = x − v as the exact readouts are."""
    return inst.x0 - inst.shift - setting(inst).y_star


def start_distance2(inst: RunInstance) -> float:
    """‖x^0 − x_D*‖²."""
    return float(np.sum((inst.x0 - setting(inst).objective.x_star_host) ** 2))


def start_gap(inst: RunInstance) -> float:
    """δ_0 = f_D(x^0) − f_D* = ½(x^0 − x_D*)ᵀĀ(x^0 − x_D*) on a quadratic f."""
    e = start_error(inst)
    return 0.5 * float(e @ setting(inst).A_bar @ e)


def dsgd_readouts(inst: RunInstance, step: float, iters: int) -> exact.ExactMoments:
    """Exact E‖x_t − x_D*‖², E f_D(x_t) − f_D*, E‖∇f_D(x_t)‖², E f(x_t) − f* for t ≤ iters."""
    method = DSGD(sketch=inst.sketch, gamma=step, shift=inst.shift)
    return exact.moments(method, inst.problem, inst.x0, iters)


def dsgd_run(
    step: Callable[[RunInstance, Mapping[str, Any]], float],
) -> Callable[[RunInstance, Mapping[str, Any]], tuple[Any, Any, Any]]:
    """``Theorem.implementation`` of a DSGD option I theorem: the method of
    :func:`dsgd_readouts` with step ``step(instance, params)``, on the instance's f and x^0."""

    def run(inst: RunInstance, params: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        method = DSGD(sketch=inst.sketch, gamma=step(inst, params), shift=inst.shift)
        return method, inst.problem, inst.x0

    return run


def sketch_support(sketch: Any) -> tuple[np.ndarray, np.ndarray]:
    """Support of a single-client sketch as (N, d, d) matrices and (N,) probabilities."""
    single = getattr(sketch, "marginal", sketch)
    values, probs = single.support(exact.MAX_BRANCHES)
    if values.ndim == 2:
        values = np.einsum("ni,ij->nij", values, np.eye(values.shape[1]))
    return values, probs


def atol(*scales: float) -> float:
    return ATOL * max(1.0, *[abs(x) for x in scales])


def cancelled_scales(inst: RunInstance) -> dict[str, float]:
    """Sizes of the terms that cancel in the exact readouts (computed in y = x − v).

    ``dist2`` = tr P − 2y*ᵀm + ‖y*‖² cancels ‖y*‖², ``gradnorm2`` = tr(ĀPĀ) + 2cᵀĀm + ‖c‖²
    cancels ‖c‖² = ‖Āy*‖², ``subopt`` cancels ½y*ᵀĀy*: with a far shift and a start near x_D*
    their round-off dominates the readout, so the tolerance scales with them.
    """
    s = setting(inst)
    grad = s.A_bar @ s.y_star
    return {
        "dist2": float(s.y_star @ s.y_star),
        "gradnorm2": float(grad @ grad),
        "subopt": 0.5 * float(s.y_star @ grad),
    }


def finite_support(sketch: Any) -> list[str]:
    try:
        sketch_support(sketch)
    except ValueError as exc:
        return [f"the sketch support must be finite and enumerable ({exc})"]
    return []


def sc_assumptions(inst: RunInstance) -> list[str]:
    out = finite_support(inst.sketch)
    if inst.problem.mu <= 0:
        out.append("f must be μ_f-strongly convex (μ_f > 0)")
    return out


def _divergent_step(inst: RunInstance, p: dict[str, Any]) -> dict[str, Any]:
    """Step 3/λ_max(Ā) ≥ 3× any step the theorems allow; the mean recursion diverges."""
    return {**p, "step": 3.0 / setting(inst).lam_max_A_bar, "iters": min(p.get("iters", 40), 40)}


STEP_CONTROL = NegativeControl(
    "step 3/λ_max(Ā) (≥ 3× the max)", params=_divergent_step, expect="measured"
)
