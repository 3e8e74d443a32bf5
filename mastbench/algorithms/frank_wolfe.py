"""Frank-Wolfe methods: vanilla FW with four step rules, away/pairwise FW, stochastic FW.

The public functions are thin wrappers running a :class:`~mastbench.algorithms.method.Method`
(:class:`FrankWolfe`, :class:`AwayFrankWolfe`, :class:`PairwiseFrankWolfe`,
:class:`StochasticFrankWolfe`) through :func:`mastbench.algorithms.driver.run`; each returns a
:class:`~mastbench.trace.Trace` with the metrics ``subopt`` (f(x_k) − f*), ``gap`` (the FW gap)
and ``support`` (the number of atoms, which from a zero start grows by at most one per FW
step; :mod:`mastbench.algorithms._fw_methods`), plus rule-specific diagnostics documented on
each function.  Step rules: :mod:`mastbench.algorithms._fw_steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mastbench.algorithms._fw_methods import AwayFrankWolfe, FrankWolfe, PairwiseFrankWolfe
from mastbench.algorithms._fw_steps import ETA, STEP_RULES, TAU, StepRule
from mastbench.algorithms._fw_stochastic import SFW_VARIANTS, StochasticFrankWolfe
from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.algorithms.driver import run
from mastbench.backend import Generator
from mastbench.trace import Trace

__all__ = [
    "ETA",
    "SFW_VARIANTS",
    "STEP_RULES",
    "TAU",
    "AwayFrankWolfe",
    "FrankWolfe",
    "PairwiseFrankWolfe",
    "StepRule",
    "StochasticFrankWolfe",
    "away_frank_wolfe",
    "frank_wolfe",
    "pairwise_frank_wolfe",
    "stochastic_frank_wolfe",
]


def _rows(problem: Any, constraint: Any, x0: Any) -> int:
    """The number R of rows of a start of shape (d,) or (R, d), once ``problem`` and
    ``constraint`` are checked (the driver checks x0 itself)."""
    from mastbench.problems.constraints import check_constraint

    check_constraint(problem, constraint)
    return int(x0.shape[0]) if getattr(x0, "ndim", 1) == 2 else 1


def frank_wolfe(
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    step: str = "open-loop",
    iters: int = 100,
    checkpoints: Iterable[int] | None = None,
    L_init: float | None = None,
    lmo: Callable[[Any, int], Any] | None = None,
    f_star: float | None = None,
    keep_iterates: bool = False,
    metrics: Any = None,
) -> Trace:
    """Frank-Wolfe (conditional gradient) over a compact convex set, batched over rows of x0.

    Update (Jaggi 2013, Alg. 1)::

        s_k = argmin_{s ∈ D} ⟨∇f(x_k), s⟩,   d_k = s_k − x_k,   g_k = −⟨∇f(x_k), d_k⟩
        x_{k+1} = x_k + γ_k d_k

    Parameters
    ----------
    problem : Problem
        Smooth convex objective (its namespace is the run's).
    constraint : Constraint
        The set D (:mod:`problems.constraints`).
    x0 : array, shape (d,) or (R, d)
        Feasible starting point(s).
    step : {"open-loop", "short", "line-search", "backtracking"}
        γ_k = 2/(k+2); the Demyanov–Rubinov short step min(g_k/(L‖d_k‖²), 1); exact line
        search (quadratics: γ = min(g_k/d_kᵀAd_k, 1)); AdaFW backtracking (τ = 2, η = 0.9).
    iters : int
        Number of FW steps.
    checkpoints : iterable of int, optional
        Iterations recorded (default log-spaced, see :func:`mastbench.trace.checkpoints`).
    L_init : float, optional
        Initial L estimate of the backtracking rule (estimated from a gradient difference
        when omitted).
    lmo : callable, optional
        ``lmo(g, k) -> s``, an inexact oracle replacing ``constraint.lmo`` (for Jaggi's
        δ-approximate LMO); it must return feasible points.
    f_star : float, optional
        The constrained minimum value (computed by projected FISTA when omitted).
    keep_iterates : bool
        Keep host copies of the iterates at the checkpoints.
    metrics : sequence of str, optional
        Record only these of ``subopt``, ``gap`` and ``support`` (default all; ``gap`` costs
        a gradient and an LMO call per checkpoint).  A string or a non-string entry raises
        ``TypeError``, an unknown name ``ValueError``.

    Returns
    -------
    Trace
        Metrics ``subopt``, ``gap``, ``support``, ``step_size`` (γ_{k−1}); with backtracking
        also ``L_est`` (L_{k−1}) and ``sufficient_decrease`` (f(x_k) − Q_{k−1}(γ_{k−1},
        L_{k−1}), ≤ round-off at accepted steps).

    References
    ----------
    M. Jaggi, "Revisiting Frank-Wolfe: Projection-Free Sparse Convex Optimization", ICML
    2013, Algorithm 1 and Theorems 1–2.  F. Pedregosa, G. Négiar, A. Askari, M. Jaggi,
    "Linearly Convergent Frank-Wolfe with Backtracking Line-Search", AISTATS 2020, Algorithm 1
    (AdaFW).  ``shared/theory/frank_wolfe.md`` §1–4.
    """
    replicates = _rows(problem, constraint, x0)
    method = FrankWolfe(constraint, StepRule(step, L_init), lmo=lmo, f_star=f_star)
    return run(
        method,
        problem,
        x0,
        iters=iters,
        replicates=replicates,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
        metrics=metrics,
    )


# -- away-step and pairwise FW ------------------------------------------------------------------


_ACTIVE_DOC = """
    Parameters
    ----------
    problem : Problem
        Smooth convex objective.
    constraint : L1Ball or Simplex
        A polytope with an explicit vertex list (``vertex_list``) and ``decompose``.
    x0 : array, shape (d,) or (R, d)
        Feasible start, written as a convex combination of vertices by ``decompose``.
    step : {"short", "line-search", "backtracking"}
        Step rule on [0, γ_max] (see :func:`frank_wolfe`).
    iters : int
        Number of steps.
    checkpoints : iterable of int, optional
        Iterations recorded.
    L_init : float, optional
        Initial L of the backtracking rule.
    f_star : float, optional
        The constrained minimum value (computed when omitted).

    Returns
    -------
    Trace
        Metrics of :func:`frank_wolfe` plus ``drop_steps`` (cumulative count of steps that
        removed a vertex from the active set) and ``active_size`` (|S_k|).

    References
    ----------
    S. Lacoste-Julien, M. Jaggi, "On the Global Linear Convergence of Frank-Wolfe
    Optimization Variants", NeurIPS 2015, Algorithms 1 and 2.  F. Pedregosa, G. Négiar,
    A. Askari, M. Jaggi, "Linearly Convergent Frank-Wolfe with Backtracking Line-Search",
    AISTATS 2020 (AdaAFW, AdaPFW).
"""


def _active_set_fw(method_class: type, name: str, summary: str) -> Callable[..., Trace]:
    """The public function running ``method_class``, named ``name``, documented by ``summary``
    followed by the parameters its two variants share."""

    def active_set_fw(
        problem: Any,
        constraint: Any,
        x0: Any,
        *,
        step: str = "line-search",
        iters: int = 100,
        checkpoints: Iterable[int] | None = None,
        L_init: float | None = None,
        f_star: float | None = None,
    ) -> Trace:
        replicates = _rows(problem, constraint, x0)
        method = method_class(constraint, StepRule(step, L_init), f_star=f_star)
        return run(method, problem, x0, iters=iters, replicates=replicates, checkpoints=checkpoints)

    active_set_fw.__name__ = active_set_fw.__qualname__ = name
    active_set_fw.__doc__ = summary + _ACTIVE_DOC
    return active_set_fw


away_frank_wolfe = _active_set_fw(
    AwayFrankWolfe,
    "away_frank_wolfe",
    """Away-step Frank-Wolfe with an active set (Lacoste-Julien & Jaggi 2015, Alg. 1).

    With x_k = Σ_{v ∈ S_k} λ_v v, s_k the FW vertex and v_k = argmax_{v ∈ S_k} ⟨∇f, v⟩: take
    the FW step d = s_k − x_k (γ_max = 1) when ⟨∇f, x_k − s_k⟩ ≥ ⟨∇f, v_k − x_k⟩, otherwise
    the away step d = x_k − v_k with γ_max = λ_v/(1 − λ_v); a step with γ = γ_max on an away
    direction drops v_k from S_k.
""",
)

pairwise_frank_wolfe = _active_set_fw(
    PairwiseFrankWolfe,
    "pairwise_frank_wolfe",
    """Pairwise Frank-Wolfe with an active set (Lacoste-Julien & Jaggi 2015, Alg. 2).

    Moves weight from the away vertex v_k = argmax_{v ∈ S_k} ⟨∇f, v⟩ to the FW vertex s_k:
    d = s_k − v_k, γ ∈ [0, λ_{v_k}]; γ = λ_{v_k} is a drop step (v_k leaves S_k).
""",
)


# -- stochastic FW for generalized linear finite sums -------------------------------------------


def stochastic_frank_wolfe(
    problem: Any,
    constraint: Any,
    x0: Any,
    *,
    variant: str = "SAG",
    batch_size: int = 1,
    iters: int = 1000,
    rng: Generator,
    replicates: int = 1,
    checkpoints: Iterable[int] | None = None,
    f_star: float | None = None,
) -> Trace:
    """Stochastic Frank-Wolfe for min_{w ∈ C} (1/n) Σ_i φ_i(x_iᵀw) (+ (l2/2)‖w‖²).

    Constant batch size b; batches are consecutive blocks of a fresh permutation per epoch
    (m = ⌊n/b⌋ steps per epoch).  With memory α ∈ R^{R×n} and r = Xᵀα (kept incrementally),
    each step t (Négiar et al. ICML 2020, Alg. 1 and copt ``minimize_sfw``):

    * ``"SAG"`` (the paper's): α_B ← φ'_B(X_B w_t)/n; r ← r + X_Bᵀ(α_B^new − α_B^old);
      direction r; γ_t = 2/(t+2).  α starts at 0.
    * ``"SAGA"``: as SAG but the direction r_old + (n/b)·X_Bᵀ(α_B^new − α_B^old), unbiased
      for every b (copt's r + (n−1)Δ for b = 1).
    * ``"MHK"`` (Mokhtari–Hassani–Karbasi): direction d_t = (1 − ρ_t)d_{t−1} + ρ_t ĝ_t with
      ĝ_t the minibatch gradient, γ_t = 2/(t+8), ρ_t = γ_t^{2/3} (the textbook estimator,
      decaying all coordinates; copt relaxes only the sampled ones).
    * ``"LF"`` (Lu–Freund GSFW): substitute predictions σ (σ = Xw_0 at start), α = φ'(σ)/n,
      γ_t = 2(2m+t)/((t+1)(4m+t)), ρ_t = 2m/(2m+t+1), σ_B ← σ_B + ρ_t(X_B s_t − σ_B).

    The ridge gradient l2·w is added to the direction exactly.  Then s_t = LMO(direction),
    w_{t+1} = w_t + γ_t(s_t − w_t).  Cost per step O(R·b·d) for the minibatch; the memory
    update is an in-place index assignment on NumPy and CuPy, and a one-hot mask (O(R·b·n))
    on namespaces without index assignment such as array_api_strict.

    Parameters
    ----------
    problem : Logistic or LeastSquares
        A generalized linear finite sum.
    constraint : Constraint
        The set C.
    x0 : array, shape (d,)
        Feasible start (shared by the replicates).
    variant : {"SAG", "SAGA", "MHK", "LF"}
        Estimator of the gradient.
    batch_size : int
        b, 1 ≤ b ≤ n.
    iters : int
        Number of minibatch steps.
    rng : Generator
        Source of the batch permutations.
    replicates : int
        R independent runs, batched.
    checkpoints : iterable of int, optional
        Iterations recorded.
    f_star : float, optional
        The constrained minimum value (computed when omitted).

    Returns
    -------
    Trace
        Metrics ``subopt``, ``gap`` (the true FW gap with the full gradient), ``support``,
        and for SAG/SAGA/LF ``memory_error`` = max |r − Xᵀα| recomputed exactly.

    References
    ----------
    G. Négiar, G. Dresdner, A. Tsai, L. El Ghaoui, F. Locatello, R. Freund, F. Pedregosa,
    "Stochastic Frank-Wolfe for Constrained Finite-Sum Minimization", ICML 2020, Algorithm 1.
    A. Mokhtari, H. Hassani, A. Karbasi, "Stochastic Conditional Gradient Methods", JMLR 2020.
    H. Lu, R. Freund, "Generalized Stochastic Frank-Wolfe Algorithm with Stochastic
    'Substitute' Gradient for Structured Convex Optimization", Math. Program. 2021.
    ``shared/theory/frank_wolfe.md`` §5.
    """
    _rows(problem, constraint, x0)
    if getattr(x0, "ndim", 1) == 2:
        if x0.shape[0] != 1:
            raise ValueError("x0 must be a single point of shape (d,) (replicates share it)")
        x0 = x0[0, ...]
    method = StochasticFrankWolfe(constraint, variant=variant, batch_size=batch_size, f_star=f_star)
    return run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
    )


# -- registration ----------------------------------------------------------------------------------
_JAGGI = "Jaggi, Revisiting Frank-Wolfe, ICML 2013, Alg. 1; Pedregosa et al. AISTATS 2020 (AdaFW)"
_LJ = "Lacoste-Julien & Jaggi, On the Global Linear Convergence of FW Variants, NeurIPS 2015"
register_algorithm(
    AlgorithmSpec(
        "frank_wolfe",
        "frank_wolfe",
        frank_wolfe,
        _JAGGI,
        False,
        method=FrankWolfe,
    )
)
register_algorithm(
    AlgorithmSpec(
        "away_frank_wolfe",
        "frank_wolfe",
        away_frank_wolfe,
        _LJ + ", Alg. 1",
        False,
        method=AwayFrankWolfe,
    )
)
register_algorithm(
    AlgorithmSpec(
        "pairwise_frank_wolfe",
        "frank_wolfe",
        pairwise_frank_wolfe,
        _LJ + ", Alg. 2",
        False,
        method=PairwiseFrankWolfe,
    )
)
register_algorithm(
    AlgorithmSpec(
        "stochastic_frank_wolfe",
        "frank_wolfe",
        stochastic_frank_wolfe,
        "Négiar et al., Stochastic Frank-Wolfe for Constrained Finite-Sum Minimization, ICML 2020",
        True,
        method=StochasticFrankWolfe,
    )
)
