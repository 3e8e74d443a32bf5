"""Exact worst cases of first-order methods by performance estimation (PEPit).

A performance estimation problem (PEP) asks for the largest value of a performance metric
after N steps of a method over every function of a class (Drori & Teboulle 2014; Taylor,
Hendrickx & Glineur 2017); PEPit (Goujaud, Moucer, Glineur, Hendrickx, Taylor, Dieuleveut,
MIT licence, optional extra ``mastbench[pepit]``) writes it as a semidefinite program.  Each
function here is one method of the seed papers with the metric its theorem bounds:

* :func:`frank_wolfe_primal`, :func:`frank_wolfe_dual`: Frank-Wolfe with the open-loop step
  γ_k = 2/(k+2) on f L-smooth convex over a closed convex set of diameter ≤ D (Jaggi 2013,
  Theorems 1 and 2);
* :func:`proximal_gradient`: proximal gradient with step 1/L on F = f + ψ, f L-smooth and
  μ-strongly convex, ψ closed convex (RAMDA's subproblem solver, arXiv 2403.14398, eq. (11));
* :func:`gradient_descent`: x_{t+1} = x_t − γ∇f(x_t) on f L-smooth and μ-strongly convex
  (μ = 0: convex), which is DSGD with the identity sketch (MAST, arXiv 2311.16086).

Constants: ``L`` smoothness, ``mu`` strong convexity, ``D`` the Euclidean diameter of the set,
``R`` the distance ‖x⁰ − x*‖ (x* a minimizer), ``N`` the number of steps.

Every class is invariant under x ↦ x/s and f ↦ f/(L s²), so each SDP is solved once at L = 1
and D = 1 (or R = 1) with the same μ/L and step·L, and scaled: by L·D² (or L·R²) for function
values and gaps, by R² for squared distances.  Normalized solves are cached.

The SDPs are solved by Clarabel (an interior-point solver installed with cvxpy), not by SCS,
cvxpy's fallback that PEPit picks when MOSEK is absent: SCS stops at a relative accuracy near
1e-4, and its dual value then falls *below* the worst case (Frank-Wolfe, N = 10: 0.078261
against 0.078290), which would not be an upper bound.  Clarabel agrees with Drori and
Teboulle's closed form L R²/(4N + 2) for gradient descent with step 1/L to about 1e-8 relative.
When it stalls it reports "optimal_inaccurate" and guarantees only its reduced tolerances
(absolute gap 5e-5, feasibility 1e-4 on the normalized SDP): proximal gradient with μ/L = 0.69
and N = 10 then returns 2.2e-6 where the exact worst case is below 1e-10.  The absolute
accuracy credited to a solve (:data:`ATOL`) follows its status, and a worst case within ten
times its tolerance of zero is not resolved (:attr:`WorstCase.resolved`).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from functools import cache

from mastbench.validation import check_in_range, check_int, check_positive

__all__ = [
    "ATOL",
    "RTOL",
    "SOLVER",
    "WorstCase",
    "available",
    "frank_wolfe_dual",
    "frank_wolfe_primal",
    "gradient_descent",
    "proximal_gradient",
    "require",
]

#: The SDP solver, through cvxpy.
SOLVER = "CLARABEL"

#: Relative accuracy credited to the solver on top of its own primal-dual gap.
RTOL = 1e-6

#: Absolute accuracy of a solve on the normalized SDP (L = 1, D or R = 1), by solver status:
#: Clarabel's tolerances (1e-8) with a margin, and its reduced tolerances when it stalls.
ATOL = {"optimal": 1e-7, "optimal_inaccurate": 1e-4}

#: Metrics of :func:`gradient_descent`.
GD_METRICS = ("distance", "value", "average value")


def available() -> bool:
    """True when PEPit and cvxpy are importable (the ``pepit`` extra is installed)."""
    return all(importlib.util.find_spec(name) is not None for name in ("PEPit", "cvxpy"))


def require() -> None:
    """Raise ImportError with the install command when the ``pepit`` extra is missing."""
    if not available():
        raise ImportError("PEPit worst cases need PEPit and cvxpy: pip install 'mastbench[pepit]'")


@dataclass(frozen=True)
class WorstCase:
    """PEPit's worst case of one metric over a function class.

    Attributes
    ----------
    value : float
        The dual value of the PEP: an upper bound on the metric over the whole class, up to
        the solver's accuracy.
    primal : float
        The metric on the worst-case function the solver found (a lower bound, attained).
    solver : str
        The SDP solver that produced both.
    status : str
        The solver's status through cvxpy: ``"optimal"``, or ``"optimal_inaccurate"`` when it
        stopped at its reduced tolerances.
    atol : float
        The absolute accuracy of the solve (:data:`ATOL` of the status, in the metric's
        units).
    """

    value: float
    primal: float
    solver: str
    status: str
    atol: float

    @property
    def tolerance(self) -> float:
        """Accuracy of ``value``: the primal-dual gap + :data:`RTOL` × |value| + ``atol``."""
        return abs(self.value - self.primal) + RTOL * abs(self.value) + self.atol

    @property
    def resolved(self) -> bool:
        """True when ``value`` exceeds ten times its tolerance (ratios to it are meaningful)."""
        return self.value > 10 * self.tolerance

    def scaled(self, factor: float) -> WorstCase:
        """The worst case of the class rescaled by ``factor`` (see the module docstring)."""
        return WorstCase(
            self.value * factor,
            self.primal * factor,
            self.solver,
            self.status,
            self.atol * factor,
        )


def _solve(problem: object) -> WorstCase:
    with warnings.catch_warnings():
        # cvxpy warns on "optimal_inaccurate"; the status sets the accuracy credited instead.
        warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
        value = problem.solve(wrapper="cvxpy", solver=SOLVER, verbose=0)
    status = problem.wrapper.prob.status
    if value is None or status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"PEPit's SDP was not solved: solver status {status!r}")
    primal = float(problem.objective.eval())
    return WorstCase(float(value), primal, problem.wrapper.solver_name, status, ATOL[status])


def _check_steps(N: int) -> int:
    return check_int("N", N, low=1)


def _check_mu(L: float, mu: float) -> float:
    return check_in_range("mu", mu, 0.0, L, low_open=False, high_open=True)


# -- Frank-Wolfe -------------------------------------------------------------------------------


@cache
def _frank_wolfe(N: int, dual: bool) -> WorstCase:
    from PEPit import PEP
    from PEPit.functions import ConvexIndicatorFunction, SmoothConvexFunction
    from PEPit.primitive_steps import linear_optimization_step

    pep = PEP()
    f = pep.declare_function(SmoothConvexFunction, L=1.0)
    indicator = pep.declare_function(ConvexIndicatorFunction, D=1.0)
    objective = f + indicator
    x_star = objective.stationary_point()
    f_star = objective(x_star)
    x = pep.set_initial_point()
    f(x)
    indicator(x)
    for k in range(N + 1):
        if k == N and not dual:
            break
        g = f.gradient(x)
        s, _, _ = linear_optimization_step(g, indicator)
        if dual and k >= 1:
            pep.set_performance_metric(g * (x - s))
        if k < N:
            x = x + 2.0 / (k + 2) * (s - x)
    if not dual:
        pep.set_performance_metric(objective(x) - f_star)
    return _solve(pep)


def frank_wolfe_primal(L: float, D: float, N: int) -> WorstCase:
    """Worst case of f(x_N) − f* after N open-loop Frank-Wolfe steps.

    Class: f convex and L-smooth on Rⁿ, minimized over a closed convex set of Euclidean
    diameter ≤ D; x⁰ in the set; exact linear minimization oracle; x_{k+1} = x_k +
    γ_k(s_k − x_k) with γ_k = 2/(k+2).  Jaggi 2013, Theorem 1 bounds it by 2LD²/(N+2)
    (with C_f ≤ L·D²).
    """
    L, D, N = check_positive("L", L), check_positive("D", D), _check_steps(N)
    return _frank_wolfe(N, False).scaled(L * D**2)


def frank_wolfe_dual(L: float, D: float, N: int) -> WorstCase:
    """Worst case of min_{1≤k≤N} g(x_k), the best Frank-Wolfe gap g(x) = max_s⟨∇f(x), x − s⟩.

    Same class and method as :func:`frank_wolfe_primal`; Jaggi 2013, Theorem 2 bounds it by
    (27/4)LD²/(N+2) for N ≥ 2.
    """
    L, D, N = check_positive("L", L), check_positive("D", D), _check_steps(N)
    return _frank_wolfe(N, True).scaled(L * D**2)


# -- proximal gradient -------------------------------------------------------------------------


@cache
def _proximal_gradient(mu: float, N: int) -> WorstCase:
    from PEPit import PEP
    from PEPit.functions import ConvexFunction, SmoothStronglyConvexFunction
    from PEPit.primitive_steps import proximal_step

    pep = PEP()
    f = pep.declare_function(SmoothStronglyConvexFunction, L=1.0, mu=mu)
    psi = pep.declare_function(ConvexFunction)
    objective = f + psi
    x_star = objective.stationary_point()
    f_star = objective(x_star)
    x = pep.set_initial_point()
    pep.set_initial_condition((x - x_star) ** 2 <= 1)
    for _ in range(N):
        x, _, _ = proximal_step(x - f.gradient(x), psi, 1.0)
    pep.set_performance_metric(objective(x) - f_star)
    return _solve(pep)


def proximal_gradient(L: float, mu: float, R: float, N: int) -> WorstCase:
    """Worst case of F(x_N) − F* for proximal gradient with step 1/L.

    Class: F = f + ψ with f L-smooth and μ-strongly convex and ψ closed convex (proper);
    x_{j+1} = prox_{ψ/L}(x_j − ∇f(x_j)/L); ‖x⁰ − x*‖ ≤ R.  RAMDA's eq. (11) bounds it by
    (L/2)(1 − μ/L)^N R².
    """
    L = check_positive("L", L)
    mu, R, N = _check_mu(L, mu), check_positive("R", R), _check_steps(N)
    return _proximal_gradient(mu / L, N).scaled(L * R**2)


# -- gradient descent --------------------------------------------------------------------------


@cache
def _gradient_descent(mu: float, step: float, N: int, metric: str) -> WorstCase:
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    pep = PEP()
    f = pep.declare_function(SmoothStronglyConvexFunction, L=1.0, mu=mu)
    x_star = f.stationary_point()
    f_star = f(x_star)
    x = pep.set_initial_point()
    pep.set_initial_condition((x - x_star) ** 2 <= 1)
    total = 0 * f_star
    for _ in range(N):
        total = total + (f(x) - f_star) / N
        x = x - step * f.gradient(x)
    if metric == "distance":
        pep.set_performance_metric((x - x_star) ** 2)
    elif metric == "value":
        pep.set_performance_metric(f(x) - f_star)
    else:
        pep.set_performance_metric(total)
    return _solve(pep)


def gradient_descent(
    L: float, mu: float, R: float, N: int, *, step: float, metric: str
) -> WorstCase:
    """Worst case of gradient descent x_{t+1} = x_t − γ∇f(x_t) after N steps.

    Class: f L-smooth and μ-strongly convex (μ = 0: convex) on Rⁿ; ‖x⁰ − x*‖ ≤ R; step
    γ = ``step`` in (0, 2/L).  ``metric``: ``"distance"`` ‖x_N − x*‖², ``"value"``
    f(x_N) − f*, ``"average value"`` (1/N)Σ_{t<N}(f(x_t) − f*).
    """
    L = check_positive("L", L)
    mu, R, N = _check_mu(L, mu), check_positive("R", R), _check_steps(N)
    h = check_in_range(
        "step·L", check_positive("step", step) * L, 0.0, 2.0, low_open=True, high_open=True
    )
    if metric not in GD_METRICS:
        raise ValueError(f"metric must be one of {GD_METRICS}, got {metric!r}")
    scale = R**2 if metric == "distance" else L * R**2
    return _gradient_descent(mu / L, h, N, metric).scaled(scale)
