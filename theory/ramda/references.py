"""Reference trajectories of the RAMDA family: every algorithm, step by step, against an
independent few-line reference written from its paper's update equations.

* ``ramda.reference-prox-sgd`` — ProxSGD (Yang et al. 2020; arXiv 2403.14398 App. A.1), with
  exact rational arithmetic (:class:`fractions.Fraction`) on the ℓ1 instance;
* ``ramda.reference-rmda`` — RMDA (arXiv 2112.02612; arXiv 2403.14398 §2), with a restart and
  the momentum ramp;
* ``ramda.reference-ramda`` — RAMDA (arXiv 2403.14398, Algorithm 1, eqs. (2)–(5)), with a
  restart and the ramp, subproblem (4) solved exactly and by PG (Algorithm 2);
* ``ramda.reference-prox-gen`` — ProxGen as ProxAdamW (eq. (6), Algorithm 3);
* ``ramda.reference-prox-ssi`` — ProxSSI (Deleu & Bengio 2021, as in ``ramda_exp``);
* ``ramda.reference-madgrad`` and ``ramda.reference-mda`` — the unregularized counterparts.

Each check runs the public function a user runs on a tiny deterministic (full-gradient)
least-squares instance, records every iterate, and compares it with the reference: measured
is max_i |x_t,i − x^ref_t,i|/max(1, max|x^ref|) at each t = 0..T, bound is the round-off
allowance tol = 1e-12, plus PG's accuracy ε_0/ε_min where PG solves the subproblem
(:func:`pg_allowance`; that comparison is one step at a time, from the run's own state).  The
learning rate η_k = η/(1 + a·k) and the weight c_k = c/(1 + b·k) are schedules, so an
off-by-one in k shows; the instances make soft-thresholding zero some coordinates along the
way, so a wrong threshold shows.  The references share nothing with the implementation: the
gradient, the proximal maps and the subproblem solutions are written out here.

The measured value is a discrepancy and the bound a round-off allowance, so a nontrivial worst
ratio near 0 (a few ulps against 1e-12, or PG's residual against its worst case ε_0/ε_min) is
the expected outcome of a correct implementation; no
instance can approach the bound without a bug, and a bug as small as η × (1 + 1e-6) (the
controls) exceeds it by 10⁵.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np
from mastbench.problems.composite import Composite
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.regularizers import L1, GroupLasso
from mastbench.theory._core import Measurement, NegativeControl

from mastbench import algorithms

from .common import ramda_theorem
from .instances import ReferenceInstance
from .strategies import reference_instances

__all__ = [
    "ReferenceData",
    "adam_prox_path",
    "dual_averaging_path",
    "madgrad_reference",
    "mda_reference",
    "pg_allowance",
    "prox_gen_reference",
    "prox_sgd_path",
    "prox_sgd_reference",
    "prox_ssi_reference",
    "ramda_reference",
    "reference_data",
    "rmda_reference",
    "smooth_dual_averaging_path",
]


#: The design, targets and start of the instances (small dyadic rationals: exact in binary).
_X = ((1, 2, 0, -1), (0, 1, -2, 1), (2, -1, 1, 0), (1, 0, 1, 2))
_Y = (1, -2, Fraction(1, 2), 1)
_X0 = (Fraction(1, 2), Fraction(-1, 4), 1, 0)
_L2 = Fraction(1, 8)
_LAM = Fraction(1, 4)
_LAM_GROUP = 0.5


@cache
def _problem(regularizer: str) -> Composite:
    f = LeastSquares(np.array(_X, dtype=float), np.array([float(v) for v in _Y]), l2=float(_L2))
    psi = L1(float(_LAM)) if regularizer == "l1" else GroupLasso.contiguous(2, 2, _LAM_GROUP)
    return Composite(f, psi)


def _instance(regularizer: str, **fields: Any) -> ReferenceInstance:
    described = ", ".join(f"{k}={v}" for k, v in fields.items())
    lam = "1/4" if regularizer == "l1" else f"{_LAM_GROUP:g}"
    name = f"least squares n=4 d=4 l2=1/8, {regularizer} λ={lam}" + (
        f" ({described})" if described else ""
    )
    x0 = np.array([float(v) for v in _X0])
    return ReferenceInstance(name, _problem(regularizer), regularizer, x0=x0, **fields)


@dataclass(frozen=True)
class ReferenceData:
    """The data of a reference instance as the references read them: the entries of X, y and
    W⁰ and the constants l2 and λ as exact rationals (a float converts to a
    :class:`~fractions.Fraction` exactly), the groups and their weights w_g (group lasso; empty
    for ℓ1).  f = (1/2n)‖Xw − y‖² + (l2/2)‖w‖², ψ = λ‖·‖₁ or λ Σ_g w_g‖w_g‖."""

    X: tuple[tuple[Fraction, ...], ...]
    y: tuple[Fraction, ...]
    x0: tuple[Fraction, ...]
    l2: Fraction
    lam: Fraction
    groups: tuple[tuple[int, ...], ...] = ()
    weights: tuple[float, ...] = ()

    @property
    def d(self) -> int:
        """The dimension."""
        return len(self.x0)


def reference_data(instance: ReferenceInstance) -> ReferenceData:
    """The :class:`ReferenceData` of ``instance`` (read from its problem and start)."""
    f, psi = instance.problem.f, instance.problem.psi

    def exact(values: Any) -> tuple[Fraction, ...]:
        return tuple(Fraction(float(v)) for v in np.asarray(values, dtype=float).ravel())

    groups = getattr(psi, "groups", ())
    return ReferenceData(
        X=tuple(exact(row) for row in np.asarray(f.X, dtype=float)),
        y=exact(f.y),
        x0=exact(instance.x0),
        l2=Fraction(float(f.l2)),
        lam=Fraction(float(psi.lam)),
        groups=tuple(tuple(int(i) for i in g) for g in groups),
        weights=tuple(float(w) for w in getattr(psi, "weights", ())),
    )


# -- the references (written from the papers' update equations) ---------------------------
def _gradient(data: ReferenceData, w: Any) -> Any:
    """∇f(w) = Xᵀ(Xw − y)/n + l2·w for f = (1/2n)‖Xw − y‖² + (l2/2)‖w‖², entry by entry (works
    on Fractions and floats)."""
    X, y = data.X, data.y
    n, d = len(X), data.d
    residual = [sum(X[i][j] * w[j] for j in range(d)) - y[i] for i in range(n)]
    return [sum(X[i][j] * residual[i] for i in range(n)) / n + data.l2 * w[j] for j in range(d)]


def _soft(x: Any, threshold: Any) -> Any:
    """sign(x)·max(|x| − threshold, 0), entrywise (the prox of threshold·|·|)."""
    return [
        (abs(v) - u if abs(v) > u else 0 * v) * (1 if v > 0 else -1)
        for v, u in zip(x, threshold, strict=True)
    ]


def _prox(data: ReferenceData, y: Any, tau: Any) -> Any:
    """prox of τψ: ℓ1 soft-thresholding at τλ, or per group the shrinkage
    max(0, 1 − τλw_g/‖y_g‖)·y_g of the group lasso λ Σ_g w_g‖W_g‖ (free coordinates kept)."""
    if not data.groups:
        return _soft(y, [tau * data.lam] * len(y))
    out = list(y)
    for group, weight in zip(data.groups, data.weights, strict=True):
        norm = math.hypot(*(y[i] for i in group))
        threshold = tau * float(data.lam) * weight
        shrink = max(0.0, 1.0 - threshold / norm) if norm > 0 else 0.0
        for i in group:
            out[i] = shrink * y[i]
    return out


def _schedule(value: float, decay: float) -> Callable[[int], float]:
    """k ↦ value/(1 + decay·k), the schedule η_k (or c_k) of the global step k = 1, 2, …"""
    return lambda k: value / (1 + decay * k)


def prox_sgd_path(data: ReferenceData, T: int, lr: Any, rho: Any) -> list[list[Any]]:
    """ProxSGD with unit step: buf_1 = ρG¹, buf_k = (1 − ρ)buf_{k−1} + ρG^k,
    W^k = prox_{ηψ}(W^{k−1} − η buf_k); exact in Fractions for ℓ1 with rational η, ρ."""
    W = list(data.x0) if not data.groups else [float(v) for v in data.x0]
    path, buf = [W], None
    for _ in range(T):
        G = _gradient(data, W)
        buf = (
            [rho * g for g in G]
            if buf is None
            else [(1 - rho) * b + rho * g for b, g in zip(buf, G, strict=True)]
        )
        W = _prox(data, [w - lr * b for w, b in zip(W, buf, strict=True)], lr)
        path.append(W)
    return path


def dual_averaging_path(
    data: ReferenceData,
    T: int,
    params: Mapping[str, Any],
    hat_of: Callable[[np.ndarray, np.ndarray, np.ndarray, float, int, float], np.ndarray],
    driven_by: Sequence[np.ndarray] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(Ŵ^t, W^t) for t = 0..T of the momentumized dual averaging (arXiv 2403.14398,
    Algorithm 1): s_t = γ^r η_k √t, α_t = Σ s, V = Σ s G, U = Σ s G∘G, Ŵ^t from
    ``hat_of(W⁰, V, U, α, t, ε)``, W^t = (1 − c_k)W^{t−1} + c_k Ŵ^t; a restart after each
    milestone m (η, ε ← γ·, t, α, V, U ← 0, W⁰ ← W^m) and, with the ramp, c_k ← min(c_k √i, 1)
    after the last milestone, i = k − last.  With ``driven_by`` (the iterates W^0..W^T of a
    run), step k starts from ``driven_by[k − 1]`` instead of the reference's own W^{k−1}: the
    paths are then one reference step from each state of that run."""
    lr = _schedule(params["lr"], params["lr_decay"])
    weight = _schedule(params["momentum"], params["momentum_decay"])
    milestones = tuple(params.get("milestones", ()))
    last = milestones[-1] if milestones else 0
    d = data.d
    W = np.array([float(v) for v in data.x0])
    anchor, V, U = W.copy(), np.zeros(d), np.zeros(d)
    alpha, t, scale, eps = 0.0, 0, 1.0, float(params.get("eps", 0.0))
    hats, averages = [W.copy()], [W.copy()]
    for k in range(1, T + 1):
        if driven_by is not None:
            W = np.asarray(driven_by[k - 1], dtype=float)
        G = np.array(_gradient(data, list(W)), dtype=float)
        if k - 1 in milestones:
            scale, eps = scale * params["gamma"], eps * params["gamma"]
            anchor, V, U, alpha, t = W.copy(), np.zeros(d), np.zeros(d), 0.0, 0
        t += 1
        s = scale * lr(k) * math.sqrt(t)
        alpha, V, U = alpha + s, V + s * G, U + s * G * G
        hat = hat_of(anchor, V, U, alpha, t, eps)
        c = weight(k)
        if params.get("ramp") and k > last:
            c = min(c * math.sqrt(k - last), 1.0)
        W = (1 - c) * W + c * hat
        hats.append(hat)
        averages.append(W)
    return hats, averages


def _rmda_hat(data: ReferenceData) -> Callable[..., np.ndarray]:
    """RMDA: Ŵ^t = prox_{(α_t/√t)ψ}(W⁰ − V^t/√t)."""

    def hat(anchor: Any, V: Any, U: Any, alpha: float, t: int, eps: float) -> np.ndarray:
        beta = math.sqrt(t)
        return np.array(_prox(data, list(anchor - V / beta), alpha / beta))

    return hat


def _ramda_hat(data: ReferenceData) -> Callable[..., np.ndarray]:
    """RAMDA (4) with ψ = λ‖·‖₁ and P = ∛U + ε: coordinatewise
    Ŵ_i = sign(x_i)·max(|x_i| − αλ/P_i, 0), x = W⁰ − V/P."""

    def hat(anchor: Any, V: Any, U: Any, alpha: float, t: int, eps: float) -> np.ndarray:
        P = np.cbrt(U) + eps
        return np.array(_soft(list(anchor - V / P), list(alpha * float(data.lam) / P)))

    return hat


def adam_prox_path(
    data: ReferenceData,
    T: int,
    params: Mapping[str, Any],
    weight_decay: float,
    subproblems: list[tuple[np.ndarray, np.ndarray]] | None = None,
    driven_by: Sequence[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """ProxAdamW / ProxSSI with ψ = λ‖·‖₁: W' = W(1 − η·wd), Adam moments with bias
    correction, D = √v̂ + ε, W^k = argmin ⟨η m̂, W⟩ + ½‖W − W'‖²_D + ηλ‖W‖₁, i.e.
    soft-thresholding of W' − η m̂/D at ηλ/D.  Each step's (D, W') is appended to
    ``subproblems`` when given; ``driven_by`` as in :func:`dual_averaging_path`."""
    lr, eps = params["lr"], params["eps"]
    b1, b2 = params["betas"]
    W = np.array([float(x) for x in data.x0])
    m, v = np.zeros(data.d), np.zeros(data.d)
    path = [W.copy()]
    for k in range(1, T + 1):
        if driven_by is not None:
            W = np.asarray(driven_by[k - 1], dtype=float)
        G = np.array(_gradient(data, list(W)), dtype=float)
        W = W * (1 - lr * weight_decay)
        m, v = b1 * m + (1 - b1) * G, b2 * v + (1 - b2) * G**2
        D = np.sqrt(v / (1 - b2**k)) + eps
        if subproblems is not None:
            subproblems.append((D, W))
        W = np.array(_soft(list(W - lr * (m / (1 - b1**k)) / D), list(lr * float(data.lam) / D)))
        path.append(W)
    return path


def smooth_dual_averaging_path(
    data: ReferenceData, T: int, params: Mapping[str, Any], adaptive: bool
) -> list[np.ndarray]:
    """MADGRAD (adaptive): λ_k = η√k, s += λ_k g, v += λ_k g∘g, z = x⁰ − s/(∛v + ε);
    MDA: z = x⁰ − s/√k; then x = (1 − c)x + c·z."""
    lr, c, eps = params["lr"], params["momentum"], params.get("eps", 0.0)
    x0 = np.array([float(v) for v in data.x0])
    x, s, v = x0.copy(), np.zeros(data.d), np.zeros(data.d)
    path = [x.copy()]
    for k in range(1, T + 1):
        g = np.array(_gradient(data, list(x)), dtype=float)
        s, v = s + lr * math.sqrt(k) * g, v + lr * math.sqrt(k) * g * g
        z = x0 - s / (np.cbrt(v) + eps) if adaptive else x0 - s / math.sqrt(k)
        x = (1 - c) * x + c * z
        path.append(x)
    return path


# -- the check ------------------------------------------------------------------------------
def _implementation(
    name: str, instance: ReferenceInstance, problem: Any, T: int, **kwargs: Any
) -> np.ndarray:
    """The iterates t = 0..T of the public function ``name`` on ``problem`` (the instance's
    F, or its f) from ``instance.x0`` (one replicate), shape (T+1, d)."""
    x0 = problem.asarray(np.asarray(instance.x0, dtype=float))
    trace = getattr(algorithms, name)(
        problem, x0, iters=T, checkpoints=range(T + 1), keep_iterates=True, **kwargs
    )
    return np.asarray(trace.iterates)[:, 0, :]


def _compare(pairs: list[tuple[np.ndarray, Any]], extra: dict[str, Any]) -> Measurement:
    """max_i |x_t,i − x^ref_t,i|/max(1, max|x^ref|) at every t, over the pairs
    (implementation, reference) of the same T + 1 iterates."""
    deviation, size = 0.0, 0.0
    for implemented, reference in pairs:
        ref = np.array([[float(v) for v in row] for row in reference])
        deviation = np.maximum(deviation, np.abs(implemented - ref).max(axis=1))
        size = max(size, float(np.abs(ref).max()))
    T = pairs[0][0].shape[0] - 1
    return Measurement(
        t=np.arange(T + 1),
        measured=deviation / max(1.0, size),
        extra={"comparison": "max_i |x_t,i − x^ref_t,i|/max(1, max|x^ref|) per step", **extra},
    )


def _allowance(instance: ReferenceInstance, params: Mapping[str, Any], t: Any) -> np.ndarray:
    """The round-off allowance ``instance.tol`` at every step, plus, where PG solves the
    subproblem, its accuracy ε_0/ε_min (:func:`pg_allowance`)."""
    return np.full(np.shape(t), instance.tol + pg_allowance(instance, params))


def pg_allowance(instance: ReferenceInstance, params: Mapping[str, Any]) -> float:
    """How far a PG-solved step may lie from the exact one: condition (7) leaves a residual
    s ∈ ∂Q(Ŵ) with ‖s‖ ≤ ε_t ≤ ε_0 (:data:`PG_ACCURACY`), and Q is strongly convex with
    modulus min P ≥ ε_min (the preconditioner floor ε, times γ per restart), so
    ‖Ŵ − Ŵ*‖ ≤ ε_0/ε_min; 0 for an exact solver.  The comparison is made one step at a time
    (from the run's own state), so the errors of earlier steps do not compound."""
    if instance.solver != "pg":
        return 0.0
    restarts = len(tuple(params.get("milestones", ())))
    return PG_ACCURACY / (float(params["eps"]) * float(params.get("gamma", 1.0)) ** restarts)


def _perturbed(params: Mapping[str, Any]) -> float:
    """The implementation's learning-rate factor (1 + ``lr_error``; 1 unless a control)."""
    return 1.0 + float(params.get("lr_error", 0.0))


_CONTROL = NegativeControl(
    "implementation's η × (1 + 1e-6), reference unchanged",
    params=lambda i, p: {**p, "lr_error": 1e-6},
    expect="measured",
)


#: PG's accuracy ε_0 (condition (7) with ε_t = ε_0·t^(−0.6)) and step budget T2 in the
#: PG-solved reference checks (:func:`pg_allowance`).
PG_ACCURACY = 1e-12
PG_BUDGET = 5000


def _pg_budget_reasons(
    steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]], power: float = 0.6
) -> list[str]:
    """Why PG cannot be trusted to meet condition (7) within :data:`PG_BUDGET` steps on the
    subproblems (P, warm start, exact solution) of steps k = 1, 2, …: Theorem 1's iteration
    count :func:`~mastbench.theory.ramda.theorems.pg_iterations_bound` (L = max P, μ = min P,
    R0 the warm start's distance to the solution, ε_k = ε_0·k^(−0.6), no larger than the
    implementation's stage-local ε_t) exceeds the budget."""
    from .theorems import pg_iterations_bound

    for k, (P, warm, solution) in enumerate(steps, start=1):
        R0 = np.linalg.norm(np.asarray(warm) - np.asarray(solution))
        needed = float(pg_iterations_bound(P.max(), P.min(), R0, PG_ACCURACY * k**-power))
        if needed > PG_BUDGET:
            return [
                f"PG may need up to {needed:.3g} > {PG_BUDGET} steps for condition (7) at "
                f"step {k} (Theorem 1, max P/min P = {P.max() / P.min():.3g}): the "
                "implementation's subproblem is then not solved to the accuracy the allowance "
                "assumes"
            ]
    return []


def _ramda_assumptions(instance: ReferenceInstance) -> list[str]:
    """A PG-solved instance: PG's budget suffices on every subproblem (4) of the reference
    run (P^t = ∛U^t + ε, warm start W^{t−1}, solution Ŵ^t)."""
    if instance.solver != "pg":
        return []
    data, params = reference_data(instance), _scheduled(_ramda_defaults, instance)
    curvatures: list[np.ndarray] = []
    exact_hat = _ramda_hat(data)

    def hat(anchor: Any, V: Any, U: Any, alpha: float, t: int, eps: float) -> np.ndarray:
        curvatures.append(np.cbrt(U) + eps)
        return exact_hat(anchor, V, U, alpha, t, eps)

    hats, averages = dual_averaging_path(data, int(params["iters"]), params, hat)
    return _pg_budget_reasons(list(zip(curvatures, averages[:-1], hats[1:], strict=True)))


def _prox_gen_assumptions(instance: ReferenceInstance) -> list[str]:
    """A PG-solved instance: PG's budget suffices on every subproblem (6) of the reference
    run (D = √v̂ + ε, warm start W', solution W^k)."""
    if instance.solver != "pg":
        return []
    params, subproblems = _scheduled(_prox_gen_defaults, instance), []
    path = adam_prox_path(
        reference_data(instance), int(params["iters"]), params, params["weight_decay"], subproblems
    )
    steps = [(D, warm, W) for (D, warm), W in zip(subproblems, path[1:], strict=True)]
    return _pg_budget_reasons(steps)


def _scheduled(
    defaults: Callable[[ReferenceInstance], dict[str, Any]], instance: ReferenceInstance
) -> dict[str, Any]:
    """The parameters ``defaults(instance)`` updated by ``instance.schedule``."""
    return {**defaults(instance), **instance.schedule}


def _reference_theorem(
    defaults: Callable[[ReferenceInstance], dict[str, Any]], **declared: Any
) -> Callable[[Callable[..., Measurement]], Any]:
    """Register a reference-trajectory theorem: a deterministic identity (no rate) over the
    iterations, bound the round-off allowance, control :data:`_CONTROL`, parameters
    ``defaults(instance)`` updated by ``instance.schedule``."""
    return ramda_theorem(
        rate="none",
        x_axis="iteration t",
        tag="C",
        method="deterministic",
        default_params=lambda inst: _scheduled(defaults, inst),
        controls=(_CONTROL,),
        bound=_allowance,
        **declared,
    )


def _solver_instances(quick: bool) -> list[ReferenceInstance]:
    """The ℓ1 instance with the subproblem solved exactly and by PG."""
    return [_instance("l1", solver="exact", tol=1e-12), _instance("l1", solver="pg", tol=1e-12)]


@_reference_theorem(
    lambda inst: {"iters": 8, "lr": 0.25, "rho": 0.375},
    id="ramda.reference-prox-sgd",
    strategy=lambda: reference_instances("prox_sgd", regularizers=("l1", "group")),
    label="ProxSGD update (Yang et al. 2020; App. A.1)",
    algorithm="prox_sgd",
    measure="max_i |W_t,i − W^ref_t,i|",
    instances=lambda quick: [_instance("l1"), _instance("group")],
)
def prox_sgd_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """ProxSGD step by step against an independent reference.

    Statement.
        With the full gradient G^k = ∇f(W^{k−1}), ProxSGD with unit step (Yang et al., ICLR
        2020, as used by arXiv 2403.14398, App. A.1) is buf_1 = ρG¹,
        buf_k = (1 − ρ)buf_{k−1} + ρG^k, W^k = prox_{ηψ}(W^{k−1} − η buf_k).

    Check
        ``prox_sgd`` (full batch, T = 8, η = 1/4, ρ = 3/8) against the reference computed in
        exact rational arithmetic (:class:`fractions.Fraction`: the data, η, ρ, λ and l2 are
        dyadic rationals, and the ℓ1 prox is rational) on the ℓ1 instance, and in floats on
        the group-lasso instance; allowance 1e-12·max(1, max|W^ref|).  The comparison is an
        identity, so the worst ratio is ≈ 0 on a correct implementation; the bound is a
        round-off allowance, not a rate.
    Control
        The implementation's η × (1 + 1e-6) (the reference keeps η) is reported at t = 1.
    Reference
        Yang et al., ProxSGD, ICLR 2020; arXiv 2403.14398, App. A.1; ramda.md §5.  Tag C.
    """
    T, rho = int(params["iters"]), params["rho"]
    lr = Fraction(params["lr"]) if instance.regularizer == "l1" else float(params["lr"])
    implemented = _implementation(
        "prox_sgd",
        instance,
        instance.problem,
        T,
        lr=float(lr) * _perturbed(params),
        rho=float(rho),
        track_optimum=False,
    )
    exact_rho = Fraction(rho) if instance.regularizer == "l1" else float(rho)
    reference = prox_sgd_path(reference_data(instance), T, lr, exact_rho)
    return _compare([(implemented, reference)], {"exact": instance.regularizer == "l1"})


def _dual_averaging_params(inst: ReferenceInstance) -> dict[str, Any]:
    return {
        "iters": 8,
        "lr": 0.3,
        "lr_decay": 0.25,
        "momentum": 0.6,
        "momentum_decay": 0.5,
        "milestones": (4,),
        "gamma": 0.5,
        "ramp": True,
    }


def _dual_averaging_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    factor = _perturbed(params)
    return {
        "lr": _schedule(params["lr"] * factor, params["lr_decay"]),
        "momentum": _schedule(params["momentum"], params["momentum_decay"]),
        "milestones": tuple(params["milestones"]),
        "gamma": params["gamma"],
        "ramp": params["ramp"],
        "track_optimum": False,
    }


@_reference_theorem(
    _dual_averaging_params,
    id="ramda.reference-rmda",
    strategy=lambda: reference_instances("dual_averaging", regularizers=("l1", "group")),
    label="RMDA update (arXiv 2112.02612; arXiv 2403.14398 §2, App. A.1)",
    algorithm="rmda",
    measure="max_i |Ŵ_t,i − Ŵ^ref_t,i| and |W_t,i − W^ref_t,i|",
    instances=lambda quick: [_instance("l1"), _instance("group")],
)
def rmda_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """RMDA step by step against an independent reference.

    Statement.
        RMDA (Huang & Lee, ICLR 2022, as described in arXiv 2403.14398 §2: RAMDA with
        P^t = √t·I): G^t = ∇f(W^{t−1}), s_t = η_k√t, α_t = Σ s_i, V^t = Σ s_i G^i,
        Ŵ^t = prox_{(α_t/√t)ψ}(W⁰ − V^t/√t), W^t = (1 − c_k)W^{t−1} + c_kŴ^t; the stage-wise
        restart of App. A.1 (after step m: η ← γη, t, α, V ← 0, W⁰ ← W^m) and the ramp
        c_k ← min(c_k√i, 1) in the final stage.

    Check
        ``rmda`` (full batch, T = 8, η_k = 0.3/(1 + k/4), c_k = 0.6/(1 + k/2), milestone 4,
        γ = 1/2, ramp) with ``output="hat"`` and ``"avg"`` against the reference, on ℓ1 and
        group-lasso instances; allowance 1e-12·max(1, max|W^ref|) (an identity: worst
        ratio ≈ 0 on a correct implementation).
    Control
        The implementation's η × (1 + 1e-6) is reported at t = 1.
    Reference
        arXiv 2112.02612; arXiv 2403.14398 §2, Table 6, App. A.1; ramda.md §4, §8.  Tag C.
    """
    T, data = int(params["iters"]), reference_data(instance)
    kwargs = _dual_averaging_kwargs(params)
    hats, averages = dual_averaging_path(data, T, params, _rmda_hat(data))
    pairs = [
        (_implementation("rmda", instance, instance.problem, T, output=out, **kwargs), path)
        for out, path in (("hat", hats), ("avg", averages))
    ]
    return _compare(pairs, {})


def _ramda_defaults(inst: ReferenceInstance) -> dict[str, Any]:
    return {**_dual_averaging_params(inst), "eps": 1e-3}


@_reference_theorem(
    _ramda_defaults,
    id="ramda.reference-ramda",
    assumptions=_ramda_assumptions,
    strategy=lambda: reference_instances("ramda", solvers=("exact", "pg")),
    label="Algorithm 1, eqs. (2)–(5)",
    algorithm="ramda",
    measure="max_i |Ŵ_t,i − Ŵ^ref_t,i| and |W_t,i − W^ref_t,i|",
    instances=_solver_instances,
)
def ramda_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """RAMDA step by step against an independent reference.

    Statement.
        RAMDA (arXiv 2403.14398, Algorithm 1): G^t = ∇f(W^{t−1}), s_t = η_k√t,
        α_t = Σ s_i, V^t = Σ s_i G^i, U^t = Σ s_i G^i∘G^i, P^t = Diag(∛U^t + ε),
        Ŵ^t = argmin_W α_tψ(W) + ⟨V^t, W⟩ + ½⟨W − W⁰, P^t(W − W⁰)⟩ (4),
        W^t = (1 − c_k)W^{t−1} + c_kŴ^t (5); the restart of App. A.1 (η, ε ← γ·, t, α, V,
        U ← 0, W⁰ ← W^m) and the ramp in the final stage.

    Check
        ``ramda`` (full batch, T = 8, ε = 1e-3, the schedules of ``ramda.reference-rmda``)
        with ``output="hat"`` and ``"avg"``, subproblem solved exactly (allowance
        1e-12·scale) and by PG (Algorithm 2 with condition (7) at ε_t = 1e-12·t^{−0.6},
        allowance 1e-12 + ε_0/ε_min: 2e-9 here, ε_min = γε), against the reference with
        ψ = λ‖·‖₁, whose (4) is the coordinatewise soft-thresholding of W⁰ − V/P at α_tλ/P.
        The PG-solved run is compared one step at a time (the reference step from the run's
        own W^{t−1}): a PG error within its accuracy is amplified by later steps where the
        iteration is expansive (a falsify search found ×10 per step on a singular 4 × 4
        least squares with λ = 0), so the whole-path comparison has no allowance that holds
        on every instance.  An identity: the worst ratio is ≈ 0 on a correct
        implementation.  Assumption (PG-solved instances only): Theorem 1's iteration count
        for every subproblem of the reference run is within the budget of 5000 PG steps.
    Control
        The implementation's η × (1 + 1e-6) is reported at t = 1.
    Reference
        arXiv 2403.14398, Algorithm 1, eqs. (2)–(5), Algorithm 2, App. A.1; ramda.md §2, §3,
        §8.  Tag C.
    """
    T = int(params["iters"])
    kwargs = {
        **_dual_averaging_kwargs(params),
        "eps": params["eps"],
        "solver": instance.solver,
        "eps_sub": PG_ACCURACY,
        "pg_max_iters": PG_BUDGET,
    }
    data = reference_data(instance)
    hat, avg = (
        _implementation("ramda", instance, instance.problem, T, output=out, **kwargs)
        for out in ("hat", "avg")
    )
    driven = avg if instance.solver == "pg" else None
    hats, averages = dual_averaging_path(data, T, params, _ramda_hat(data), driven_by=driven)
    return _compare([(hat, hats), (avg, averages)], {"solver": instance.solver})


_ADAM = {"iters": 8, "lr": 0.05, "betas": (0.625, 0.75)}


def _adam_implementation(
    name: str, instance: ReferenceInstance, params: Mapping[str, Any], **kwargs: Any
) -> np.ndarray:
    """The iterates of the Adam-preconditioned method ``name`` (prox_gen or prox_ssi) with
    the learning rate, betas and ε of ``params``."""
    return _implementation(
        name,
        instance,
        instance.problem,
        int(params["iters"]),
        lr=params["lr"] * _perturbed(params),
        betas=tuple(params["betas"]),
        eps=params["eps"],
        track_optimum=False,
        **kwargs,
    )


def _prox_gen_defaults(inst: ReferenceInstance) -> dict[str, Any]:
    return {**_ADAM, "eps": 1e-2, "weight_decay": 0.5}


@_reference_theorem(
    _prox_gen_defaults,
    id="ramda.reference-prox-gen",
    assumptions=_prox_gen_assumptions,
    strategy=lambda: reference_instances("adam", solvers=("exact", "pg")),
    label="eq. (6), Algorithm 3 (ProxGen as ProxAdamW)",
    algorithm="prox_gen",
    measure="max_i |W_t,i − W^ref_t,i|",
    instances=_solver_instances,
)
def prox_gen_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """ProxGen (ProxAdamW) step by step against an independent reference.

    Statement.
        ProxGen (Yun et al., NeurIPS 2021) with the AdamW preconditioner, as in the
        official ``ProxAdamW`` (arXiv 2403.14398, eq. (6), Algorithm 3): W' = W^{k−1}(1 − η·wd),
        m_k = β1m_{k−1} + (1 − β1)G^k, v_k = β2v_{k−1} + (1 − β2)G^k∘G^k,
        m̂ = m_k/(1 − β1^k), v̂ = v_k/(1 − β2^k), D = Diag(√v̂ + ε),
        W^k = argmin_W ⟨ηm̂, W⟩ + ½⟨W − W', D(W − W')⟩ + ηψ(W).

    Check
        ``prox_gen`` (full batch, T = 8, η = 0.05, β = (5/8, 3/4), ε = 1e-2, wd = 1/2),
        subproblem exact (allowance 1e-12·scale) and by PG (to 1e-12, allowance
        1e-12 + ε_0/ε = 1e-10·scale; compared one step at a time as in
        ``ramda.reference-ramda``, with the same assumption on PG's budget), against the
        reference with ψ = λ‖·‖₁ (soft-thresholding of W' − ηm̂/D at ηλ/D).  An identity:
        the worst ratio is ≈ 0 on a correct implementation.
    Control
        The implementation's η × (1 + 1e-6) is reported at t = 1.
    Reference
        Yun et al. 2021; arXiv 2403.14398, eq. (6), Algorithm 3, App. B.1; ramda.md §5.  Tag C.
    """
    T = int(params["iters"])
    implemented = _adam_implementation(
        "prox_gen",
        instance,
        params,
        weight_decay=params["weight_decay"],
        solver=instance.solver,
        eps_sub=PG_ACCURACY,
        pg_max_iters=PG_BUDGET,
    )
    driven = implemented if instance.solver == "pg" else None
    reference = adam_prox_path(
        reference_data(instance), T, params, params["weight_decay"], driven_by=driven
    )
    return _compare([(implemented, reference)], {"solver": instance.solver})


@_reference_theorem(
    lambda inst: {**_ADAM, "eps": 1e-2},
    id="ramda.reference-prox-ssi",
    strategy=lambda: reference_instances("adam"),
    label="ProxSSI (Deleu & Bengio 2021; Table 6)",
    algorithm="prox_ssi",
    measure="max_i |W_t,i − W^ref_t,i|",
    instances=lambda quick: [_instance("l1")],
)
def prox_ssi_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """ProxSSI step by step against an independent reference.

    Statement.
        ProxSSI (Deleu & Bengio 2021, as in ``ramda_exp``): Adam moments with bias correction,
        D = √v̂ + ε, X = W^{k−1} − ηm̂/D, W^k = argmin_Z ½Σ D_i(Z_i − X_i)² + ηψ(Z).

    Check
        ``prox_ssi`` (full batch, T = 8, η = 0.05, β = (5/8, 3/4), ε = 1e-2) against the
        reference with ψ = λ‖·‖₁ (soft-thresholding of X at ηλ/D); allowance
        1e-12·max(1, max|W^ref|).  An identity: the worst ratio is ≈ 0 when correct.
    Control
        The implementation's η × (1 + 1e-6) is reported at t = 1.
    Reference
        Deleu & Bengio, arXiv 2102.03869; arXiv 2403.14398, Table 6; ramda.md §5.  Tag C.
    """
    implemented = _adam_implementation("prox_ssi", instance, params)
    reference = adam_prox_path(reference_data(instance), int(params["iters"]), params, 0.0)
    return _compare([(implemented, reference)], {})


def _smooth_check(name: str, instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    T, adaptive = int(params["iters"]), name == "madgrad"
    kwargs = {"eps": params["eps"]} if adaptive else {}
    implemented = _implementation(
        name,
        instance,
        instance.problem.f,
        T,
        lr=params["lr"] * _perturbed(params),
        momentum=params["momentum"],
        **kwargs,
    )
    reference = smooth_dual_averaging_path(reference_data(instance), T, params, adaptive)
    return _compare([(implemented, reference)], {})


@_reference_theorem(
    lambda inst: {"iters": 8, "lr": 0.2, "momentum": 0.4, "eps": 1e-3},
    id="ramda.reference-madgrad",
    strategy=lambda: reference_instances("madgrad"),
    label="MADGRAD (Defazio & Jelassi 2022; Table 6)",
    algorithm="madgrad",
    measure="max_i |x_t,i − x^ref_t,i|",
    instances=lambda quick: [_instance("l1")],
)
def madgrad_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """MADGRAD step by step against an independent reference.

    Statement.
        MADGRAD (Defazio & Jelassi, JMLR 2022, arXiv 2101.11075; RAMDA with ψ = 0): with
        g^k = ∇f(x^{k−1}), λ_k = η√k, s^k = s^{k−1} + λ_kg^k, v^k = v^{k−1} + λ_kg^k∘g^k,
        z^k = x⁰ − s^k/(∛v^k + ε), x^k = (1 − c)x^{k−1} + cz^k.

    Check
        ``madgrad`` on the smooth part f of the instance (full batch, T = 8, η = 0.2,
        c = 0.4, ε = 1e-3) against the reference; allowance 1e-12·max(1, max|x^ref|).  An
        identity: the worst ratio is ≈ 0 on a correct implementation.
    Control
        The implementation's η × (1 + 1e-6) is reported at t = 1.
    Reference
        arXiv 2101.11075; arXiv 2403.14398 §2, Table 6.  Tag C.
    """
    return _smooth_check("madgrad", instance, params)


@_reference_theorem(
    lambda inst: {"iters": 8, "lr": 0.2, "momentum": 0.4},
    id="ramda.reference-mda",
    strategy=lambda: reference_instances("mda"),
    label="MDA (Jelassi & Defazio 2020; Table 6)",
    algorithm="mda",
    measure="max_i |x_t,i − x^ref_t,i|",
    instances=lambda quick: [_instance("l1")],
)
def mda_reference(instance: ReferenceInstance, params: Mapping[str, Any]) -> Measurement:
    """MDA step by step against an independent reference.

    Statement.
        MDA (Jelassi & Defazio 2020, arXiv 2010.10502; RMDA with ψ = 0): with
        g^k = ∇f(x^{k−1}), s^k = s^{k−1} + η√k g^k, z^k = x⁰ − s^k/√k,
        x^k = (1 − c)x^{k−1} + cz^k.

    Check
        ``mda`` on the smooth part f of the instance (full batch, T = 8, η = 0.2, c = 0.4)
        against the reference; allowance 1e-12·max(1, max|x^ref|).  An identity: the worst
        ratio is ≈ 0 on a correct implementation.
    Control
        The implementation's η × (1 + 1e-6) is reported at t = 1.
    Reference
        arXiv 2010.10502; arXiv 2403.14398, Table 6.  Tag C.
    """
    return _smooth_check("mda", instance, params)
