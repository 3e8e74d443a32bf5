"""A user's own theorem about the user's own method (:mod:`examples.decaying_dsgd`).

Check it with ``mastbench verify --import examples.my_theorem --theorem example.decaying-gd``.
Importing this module registers the theorem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from mastbench.problems.quadratic import Quadratic
from mastbench.theory import Instance, Measurement, NegativeControl, theorem

import mastbench
from examples.decaying_dsgd import DecayingDSGD
from mastbench.backend import rng
from mastbench.sketches import Identity

ITERS = 60


@dataclass(frozen=True, eq=False)
class GDInstance(Instance):
    """A quadratic, a start and a sketch (the theorem asks for the identity)."""

    problem: Quadratic
    x0: np.ndarray
    sketch: Any


def _instance(name: str, eigenvalues: list[float], x0: list[float]) -> GDInstance:
    """f(x) = ½xᵀAx − bᵀx with A = Diag(eigenvalues) rotated, x* = (1, ..., 1)."""
    d = len(eigenvalues)
    Q = np.linalg.qr(np.random.default_rng(d).standard_normal((d, d)))[0]
    A = Q @ np.diag(eigenvalues) @ Q.T
    A = (A + A.T) / 2
    problem = Quadratic(A, A @ np.ones(d))
    start = np.ones(d) + Q @ np.asarray(x0, dtype=float)
    return GDInstance(name, problem, start, Identity(d))


def _instances(quick: bool) -> list[GDInstance]:
    return [
        _instance("1-D, attained", [2.0], [3.0]),
        _instance("d=5, kappa=10, start on the mu direction", [1, 2, 4, 7, 10.0], [2, 0, 0, 0, 0]),
        _instance("d=5, kappa=10, mixed start", [1, 2, 4, 7, 10.0], [0.3, -0.5, 0.5, 1, 3]),
    ]


def _step_range(instance: GDInstance) -> float:
    """The largest γ_0 of the theorem: 2/(L + μ)."""
    problem = instance.problem
    return 2.0 / (problem.L + problem.mu)


def _assumptions(instance: GDInstance) -> list[str]:
    problem = instance.problem
    wrong = []
    if not isinstance(instance.sketch, Identity):
        wrong.append(
            f"the sketch must be the identity (no sparsification), got {instance.sketch!r}"
        )
    if problem.mu <= 0:
        wrong.append("f must be strongly convex (mu > 0)")
    return wrong


@theorem(
    id="example.decaying-gd",
    paper="mastbench example: a user's own method and theorem",
    label="decaying-step GD contracts",
    tag="D",
    statement="‖x_t − x*‖ ≤ Π_{s<t} (1 − γ_s μ) ‖x_0 − x*‖ for γ_s ≤ 2/(L + μ)",
    algorithm="decaying_dsgd",
    measure="‖x_t − x*‖",
    method="deterministic",
    instances=_instances,
    assumptions=_assumptions,
    default_params=lambda instance: {"step0": 0.9 * _step_range(instance), "k0": 10.0},
    step_size=_step_range,
    bound=lambda instance, params, t: _bound(instance, params, t),
    controls=(
        NegativeControl(
            "step0 1.05 x 2/(L + mu), mixed start",
            params=lambda instance, params: {**params, "step0": 1.05 * _step_range(instance)},
            instance=lambda instance: _instances(True)[2],
        ),
    ),
)
def decaying_gd(instance: GDInstance, params: dict[str, Any]) -> Measurement:
    """Gradient descent with steps γ_t = γ_0/(1 + t/k_0) on a μ-strongly convex, L-smooth
    quadratic contracts at every step: for 0 < γ_t ≤ 2/(L + μ),

        ‖x_{t+1} − x*‖ ≤ max_λ |1 − γ_t λ| · ‖x_t − x*‖ = (1 − γ_t μ) ‖x_t − x*‖,

    so ‖x_t − x*‖ ≤ Π_{s<t} (1 − γ_s μ) ‖x_0 − x*‖ (equality when x_0 − x* is an eigenvector
    of eigenvalue μ).  Checked by running :class:`~examples.decaying_dsgd.DecayingDSGD` with
    the identity sketch through the one driver, at every iteration.  (``step_size`` is the
    range of γ_0; the schedule only decreases.)  Tag D: derived here.
    """
    problem = instance.problem
    method = DecayingDSGD(instance.sketch, step0=float(params["step0"]), k0=float(params["k0"]))
    trace = mastbench.run(
        method,
        problem,
        problem.asarray(instance.x0),
        iters=ITERS,
        rng=rng(0),
        checkpoints=range(ITERS + 1),
    )
    measured = np.sqrt(trace.metrics["dist2"][:, 0])
    return Measurement(trace.iterations, measured, atol=1e-12 * max(measured[0], 1.0))


def _bound(instance: GDInstance, params: dict[str, Any], t: np.ndarray) -> np.ndarray:
    """Π_{s<t} (1 − γ_s μ) ‖x_0 − x*‖, from the statement alone."""
    problem = instance.problem
    schedule = DecayingDSGD(instance.sketch, step0=float(params["step0"]), k0=float(params["k0"]))
    steps = np.array([schedule.step_size(k) for k in range(int(np.max(t)))])
    factors = np.concatenate([[1.0], np.cumprod(1.0 - steps * problem.mu)])
    distance = np.linalg.norm(np.asarray(instance.x0) - np.asarray(problem.x_star))
    return factors[np.asarray(t, dtype=int)] * distance
