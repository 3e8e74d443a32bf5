"""A user's own method: Double Sketched GD with a decaying step schedule.

The update of MAST's Algorithm 1 (option I), x^{k+1} = x^k − γ_k S_kᵀ∇f(S_k x^k) (shift
v = 0), with the step γ_k = γ_0 / (1 + k/k_0) instead of a constant one.  It is a
:class:`~mastbench.algorithms.method.Method`: a frozen dataclass of hyperparameters with
``init``/``step``/``output`` on an explicit state, so the one driver runs it::

    import mastbench
    trace = mastbench.run(DecayingDSGD(Identity(d), step0=0.1, k0=10.0), f, x0, iters=100)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from mastbench.algorithms.method import MethodBase


class State(NamedTuple):
    """The iterate batch x, shape (R, d), and the number of gradient evaluations."""

    x: Any
    grad_evals: int


@dataclass(frozen=True)
class DecayingDSGD(MethodBase):
    """DSGD with γ_k = γ_0 / (1 + k/k_0) (Demidovich et al., MAST, arXiv 2311.16086, Alg. 1).

    Attributes
    ----------
    sketch : diagonal sketch distribution
        D, with E[S] = I (e.g. ``mastbench.sketches.RandK``).
    step0 : float
        γ_0 > 0, the first step.
    k0 : float
        k_0 > 0, the number of steps after which the step has halved.
    """

    name: ClassVar[str] = "decaying_dsgd"
    stochastic: ClassVar[bool] = True
    sketch: Any
    step0: float
    k0: float

    def __post_init__(self) -> None:
        for name in ("step0", "k0"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")

    def step_size(self, k: int) -> float:
        """γ_k, the step of iteration k (0-based)."""
        return self.step0 / (1.0 + k / self.k0)

    def init(self, problem: Any, x0: Any, rng: Any) -> State:
        return State(x0, 0)

    def step(self, problem: Any, state: State, k: int, rng: Any) -> State:
        s = self.sketch.sample(rng, state.x.shape[0])
        gradient = s * problem.grad(s * state.x)
        return State(state.x - self.step_size(k) * gradient, state.grad_evals + 1)

    def output(self, state: State) -> Any:
        return state.x

    def metrics(self, problem: Any, x0: Any) -> dict[str, Any]:
        xp, x_star = problem.xp, problem.x_star
        return {"dist2": lambda x: xp.sum((x - x_star) ** 2, axis=1)}

    def counters(self, state: State) -> dict[str, float]:
        return {"grad_evals": float(state.grad_evals)}
