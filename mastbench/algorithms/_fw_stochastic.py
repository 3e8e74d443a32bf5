"""Stochastic Frank-Wolfe for generalized linear finite sums as a :class:`Method` (see
:func:`~mastbench.algorithms.frank_wolfe.stochastic_frank_wolfe` for the update)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from mastbench.algorithms._fw_methods import check_f_star, check_feasible, fw_metrics
from mastbench.algorithms.method import MethodBase
from mastbench.backend import array_namespace, scatter_add_rows
from mastbench.problems.design import row_inner_products, take_rows, weighted_row_sum
from mastbench.validation import check_int

__all__ = ["SFW_VARIANTS", "SFWState", "StochasticFrankWolfe"]

#: Variants of :func:`~mastbench.algorithms.frank_wolfe.stochastic_frank_wolfe`.
SFW_VARIANTS = ("SAG", "SAGA", "MHK", "LF")


def glm_derivative(problem: Any) -> Callable[[Any, Any], Any]:
    """φ'_i(z) of the per-sample loss φ_i(x_iᵀw) (the ridge term is handled separately).

    Raises
    ------
    TypeError
        When ``problem`` is not a generalized linear finite sum (Logistic or LeastSquares).
    """
    from mastbench.problems.least_squares import LeastSquares
    from mastbench.problems.logistic import Logistic, _sigmoid

    if isinstance(problem, Logistic):
        xp = problem.xp
        return lambda z, y: -_sigmoid(xp, -y * z) * y
    if isinstance(problem, LeastSquares):
        return lambda z, y: z - y
    raise TypeError(
        f"stochastic_frank_wolfe needs a generalized linear finite sum (Logistic or "
        f"LeastSquares), got {type(problem).__name__}"
    )


class SFWState(NamedTuple):
    """State of :class:`StochasticFrankWolfe`, batched over R replicates.

    Attributes
    ----------
    w : array, shape (R, d)
        Iterates w_t.
    alpha : array, shape (R, n)
        Memory α (SAG/SAGA/LF; zeros for MHK).
    r : array, shape (R, d)
        The aggregate Xᵀα kept incrementally (MHK: the averaged direction d_t).
    sigma : array, shape (R, n) or None
        LF: the substitute predictions σ.
    perm : array, shape (R, n) or None
        The batch permutation of the current epoch.
    design : array or sparse matrix, shape (n, d)
        The design X (constant), for the memory check.
    grad_evals : int
        Per-sample gradient evaluations so far.
    """

    w: Any
    alpha: Any
    r: Any
    sigma: Any
    perm: Any
    design: Any
    grad_evals: int


@dataclass(frozen=True)
class StochasticFrankWolfe(MethodBase):
    """Stochastic FW with constant batch size (Négiar et al. 2020, Alg. 1; MHK; LF).

    Parameters
    ----------
    constraint : Constraint
        The set C.
    variant : {"SAG", "SAGA", "MHK", "LF"}
        Estimator of the gradient.
    batch_size : int
        b ≥ 1 (at most n, checked at ``init``).
    f_star : float or None
        The constrained minimum value (computed when ``None``).
    """

    name: ClassVar[str] = "stochastic_frank_wolfe"
    stochastic: ClassVar[bool] = True

    constraint: Any
    variant: str = "SAG"
    batch_size: int = 1
    f_star: float | None = None

    def __post_init__(self) -> None:
        if self.variant not in SFW_VARIANTS:
            raise ValueError(f"variant must be one of {SFW_VARIANTS}, got {self.variant!r}")
        object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, low=1))
        object.__setattr__(self, "f_star", check_f_star(self.f_star))

    def init(self, problem: Any, x0: Any, rng: Any) -> SFWState:
        derivative = glm_derivative(problem)
        check_int("batch_size", self.batch_size, low=1, high=problem.n)
        check_feasible(problem, self.constraint, x0)
        xp, X, n = problem.xp, problem.X, problem.n
        sigma = None
        if self.variant == "LF":
            sigma = row_inner_products(X, x0)
            alpha = derivative(sigma, problem.y[None, :]) / n
        else:
            alpha = xp.zeros((x0.shape[0], n), dtype=x0.dtype, device=problem.device)
        evals = n if self.variant == "LF" else 0
        return SFWState(x0, alpha, weighted_row_sum(X, alpha), sigma, None, X, evals)

    def step(self, problem: Any, state: SFWState, k: int, rng: Any) -> SFWState:
        xp, X, y, l2 = problem.xp, problem.X, problem.y, problem.l2
        derivative = glm_derivative(problem)
        n, d, b = problem.n, problem.d, self.batch_size
        w, alpha, r, sigma, perm = state.w, state.alpha, state.r, state.sigma, state.perm
        R, m = w.shape[0], n // b
        j = k % m
        if j == 0:
            perm = rng.permutations(R, n)
        idx = perm[:, j * b : (j + 1) * b]
        rows = xp.reshape(take_rows(X, xp.reshape(idx, (-1,)), xp), (R, b, d))
        labels = xp.reshape(xp.take(y, xp.reshape(idx, (-1,))), (R, b))
        if self.variant == "MHK":
            gamma = 2.0 / (k + 8)
            rho = gamma ** (2.0 / 3.0)
            z = xp.sum(rows * w[:, None, :], axis=-1)
            g_hat = xp.sum(rows * derivative(z, labels)[..., None], axis=1) / b
            r = g_hat if k == 0 else (1 - rho) * r + rho * g_hat
            direction = r + l2 * w
        elif self.variant == "LF":
            gamma = 2.0 * (2 * m + k) / ((k + 1) * (4 * m + k))
            rho = 2.0 * m / (2 * m + k + 1)
            direction = r + l2 * w
        else:
            gamma = 2.0 / (k + 2)
            z = xp.sum(rows * w[:, None, :], axis=-1)
            delta = derivative(z, labels) / n - xp.take_along_axis(alpha, idx, axis=1)
            change = xp.sum(rows * delta[..., None], axis=1)
            alpha = scatter_add_rows(alpha, idx, delta)
            direction = (r + (n / b) * change if self.variant == "SAGA" else r + change) + l2 * w
            r = r + change
        s = self.constraint.lmo(direction)
        w = w + gamma * (s - w)
        if self.variant == "LF":
            sigma_b = xp.take_along_axis(sigma, idx, axis=1)
            target = xp.sum(rows * s[:, None, :], axis=-1)
            new_sigma = sigma_b + rho * (target - sigma_b)
            sigma = scatter_add_rows(sigma, idx, new_sigma - sigma_b)
            delta = derivative(new_sigma, labels) / n - xp.take_along_axis(alpha, idx, axis=1)
            alpha = scatter_add_rows(alpha, idx, delta)
            r = r + xp.sum(rows * delta[..., None], axis=1)
        return SFWState(w, alpha, r, sigma, perm, X, state.grad_evals + b)

    def output(self, state: SFWState) -> Any:
        return state.w

    def metrics(self, problem: Any, x0: Any) -> dict[str, Any]:
        return fw_metrics(problem, self.constraint, self.f_star)

    def diagnostics(self, state: SFWState) -> dict[str, Any]:
        """``memory_error`` = max |r − Xᵀα| recomputed exactly (SAG, SAGA, LF)."""
        if self.variant == "MHK":
            return {}
        xp = array_namespace(state.w)
        return {
            "memory_error": xp.max(
                xp.abs(state.r - weighted_row_sum(state.design, state.alpha)), axis=1
            )
        }

    def counters(self, state: SFWState) -> dict[str, float]:
        return {"grad_evals": state.grad_evals}
