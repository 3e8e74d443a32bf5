"""MAST convergence theorems: T-SC, convex variant, T-NC, T-ABC, T-VR, T-DIST, IST link.

Reference: Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
Sparsified Training", ICLR 2025, arXiv 2311.16086; mathematics and certainty tags in
``shared/theory/mast.md`` (§4 for the rates, §6 for the exact checks).  The paper's exact
constants were not available: every bound here is the *derived* statement of mast.md ([D]),
or a reported form ([R]/[U]) labelled as such.

Quadratic instances are measured exactly by enumerating every random branch
(:mod:`theory._mast_moments`); the logistic instance by Monte Carlo with Bonferroni confidence
intervals over the checkpoints (:mod:`mastbench.montecarlo`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mastbench.backend import rng
from mastbench.sketches import Bernoulli, Discrete, Identity, Permutation, RandK
from problems.mast_objective import MASTObjective
from problems.quadratic import Quadratic, QuadraticForm
from theory import Evidence, Instance, NegativeControl, theorem
from theory._mast_moments import (
    distributed_branches,
    dsgd_branches,
    lsvrdsg_recursion,
    minibatch_branches,
    quadratic_readout,
    sketch_support,
)

__all__: list[str] = []

PAPER = (
    "Demidovich, Malinovsky, Shulgin, Richtárik, MAST: Model-Agnostic Sparsified Training, "
    "ICLR 2025, arXiv 2311.16086"
)
#: Relative size of the absolute tolerance of exact comparisons (round-off of the moment map).
ATOL = 1e-11


# -- instances and exact settings --
def quadratic_instance(
    name: str,
    problem: Quadratic,
    sketch: Any,
    *,
    shift: str | np.ndarray = "random",
    seed: int = 0,
    iters: int = 100,
    **fields: Any,
) -> Instance:
    """An instance for the single-node rates: quadratic f, sketch D, shift v, start x0.

    ``shift`` is an array, or ``"random"`` (standard normal), ``"zero"``, ``"interpolation"``
    (v = x*, so Δ = 0).
    """
    gen = np.random.default_rng(seed)
    d = problem.d
    if isinstance(shift, str):
        shift = {
            "random": lambda: gen.standard_normal(d),
            "zero": lambda: np.zeros(d),
            "interpolation": lambda: problem.x_star_host.copy(),
        }[shift]()
    x0 = gen.standard_normal(d)
    return Instance(
        name,
        problem=problem,
        sketch=sketch,
        shift=np.asarray(shift, float),
        x0=x0,
        iters=iters,
        **fields,
    )


def _quadratic(d: int, kappa: float, seed: int, *, mu: float = 1.0) -> Quadratic:
    from problems.random import quadratic

    return quadratic(d, kappa, rng(seed), mu=mu)


@dataclass
class _Setting:
    """The exact constants of one quadratic instance (mast.md §2.1), in y = x − v."""

    A: np.ndarray
    c: np.ndarray
    A_bar: np.ndarray
    y_star: np.ndarray
    x_star_f: np.ndarray
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


def _setting(inst: Instance) -> _Setting:
    problem, sketch = inst.problem, inst.sketch
    A, b, _ = problem.quadratic_form()
    v = inst.shift
    objective = MASTObjective(problem, sketch, problem.asarray(v))
    return _Setting(
        A=A,
        c=A @ v - b,
        A_bar=objective.A_bar,
        y_star=objective.x_star_host - v,
        x_star_f=problem.x_star_host,
        objective=objective,
        L_f=problem.L,
        mu_f=problem.mu,
        L_D=sketch.L_D,
        mu_D=sketch.mu_D,
        L_S_max=sketch.L_S_max,
    )


def _dsgd_readouts(inst: Instance, s: _Setting, step: float, iters: int) -> dict[str, np.ndarray]:
    """Exact E‖x_t − x_D*‖², E f_D(x_t) − f_D*, E‖∇f_D(x_t)‖², E f(x_t) − f* for t ≤ iters."""
    y0 = inst.x0 - inst.shift
    ms, Ps = dsgd_branches(s.A, s.c, inst.sketch, step).moments(y0, np.outer(y0, y0), iters)
    return _readouts(ms, Ps, s, inst.shift)


def _readouts(ms: np.ndarray, Ps: np.ndarray, s: _Setting, v: np.ndarray) -> dict[str, Any]:
    d = s.A.shape[0]
    return {
        "dist2": quadratic_readout(ms, Ps, np.eye(d), s.y_star),
        "subopt_D": 0.5 * quadratic_readout(ms, Ps, s.A_bar, s.y_star),
        "gradnorm2_D": quadratic_readout(ms, Ps, s.A_bar @ s.A_bar, s.y_star),
        "subopt": 0.5 * quadratic_readout(ms, Ps, s.A, s.x_star_f - v),
    }


def _atol(*scales: float) -> float:
    return ATOL * max(1.0, *[abs(x) for x in scales])


def _finite_support(sketch: Any) -> list[str]:
    try:
        sketch_support(sketch)
    except ValueError as exc:
        return [f"the sketch support must be finite and enumerable ({exc})"]
    return []


def _sc_assumptions(inst: Instance) -> list[str]:
    out = _finite_support(inst.sketch)
    if inst.problem.mu <= 0:
        out.append("f must be μ_f-strongly convex (μ_f > 0)")
    return out


def _divergent_step(inst: Instance, p: dict[str, Any]) -> dict[str, Any]:
    """Step 3/λ_max(Ā) ≥ 3× any step the theorems allow; the mean recursion diverges."""
    return {**p, "step": 3.0 / _setting(inst).lam_max_A_bar, "iters": min(p.get("iters", 40), 40)}


STEP_CONTROL = NegativeControl("step 3/λ_max(Ā) (≥ 3× the max)", params=_divergent_step)


# -- T-SC --
def _sc_step(inst: Instance) -> float:
    return 1.0 / (inst.problem.L * inst.sketch.L_S_max)


def _sc_instances(quick: bool) -> list[Instance]:
    q1 = _quadratic(4, 10.0, 1)
    bern = Bernoulli(np.array([0.3, 0.5, 0.7, 0.9]))
    out = [
        quadratic_instance("bernoulli-d4 Δ", q1, bern, seed=1, iters=150, gap="delta"),
        quadratic_instance("bernoulli-d4 Δ'", q1, bern, seed=1, iters=150, gap="delta_prime"),
        quadratic_instance(
            "randk-d5-k2 Δ'",
            _quadratic(5, 5.0, 2),
            RandK(5, 2),
            seed=2,
            iters=150,
            gap="delta_prime",
        ),
        quadratic_instance(
            "interpolation v=x*",
            q1,
            RandK(4, 2),
            shift="interpolation",
            seed=3,
            iters=150,
            gap="delta",
        ),
    ]
    if not quick:
        out += [
            quadratic_instance(
                "randk-d6-k3 Δ", _quadratic(6, 30.0, 4), RandK(6, 3), seed=4, iters=600, gap="delta"
            ),
            quadratic_instance(
                "bernoulli-uniform-d5 Δ'",
                _quadratic(5, 100.0, 5),
                Bernoulli(np.full(5, 0.5)),
                seed=5,
                iters=600,
                gap="delta_prime",
            ),
        ]
    return out


def _sc_strategy() -> Any:
    from mastbench.strategies import mast_quadratic_cases

    return mast_quadratic_cases().map(
        lambda case: quadratic_instance(
            "hypothesis",
            case["problem"],
            case["sketch"],
            shift=case["shift"],
            seed=case["seed"],
            iters=60,
            gap=case["gap"],
        )
    )


@theorem(
    id="mast.sc",
    paper=PAPER,
    label="T-SC (strongly convex, DSGD option I, last iterate)",
    tag="R/D",
    statement=(
        "E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T ‖x^0 − x_D*‖² + 2γL_fL_S^max·Δ/(μ_fμ_D) for "
        "0 < γ ≤ 1/(L_fL_S^max); also with Δ' = f_D* − E f_S^inf ≤ Δ in place of Δ"
    ),
    algorithm="dsgd",
    measure="E||x_t - x_D*||^2 (exact, branch enumeration)",
    method="exact",
    instances=_sc_instances,
    assumptions=_sc_assumptions,
    default_params=lambda inst: {"step": _sc_step(inst), "iters": inst.iters},
    step_size=_sc_step,
    controls=(STEP_CONTROL, NegativeControl("bound x 0.5", bound_scale=0.5)),
    strategy=_sc_strategy,
)
def sc(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-SC: last-iterate rate of DSGD (option I) on a strongly convex f.

    Statement.  E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T ‖x^0 − x_D*‖² + 2γL_fL_S^max Δ/(μ_fμ_D),
    0 < γ ≤ 1/(L_fL_S^max); the same with the sharper Δ' := f_D* − E_S f_S^inf ≤ Δ
    (instance field ``gap``: ``"delta"`` or ``"delta_prime"``).  With v = x* (interpolation),
    Δ = 0 and the decay is purely geometric.

    Assumptions.  f L_f-smooth and μ_f-strongly convex; E[S] = I; finite support (so
    L_S^max < ∞).

    Reference.  arXiv 2311.16086, strongly convex theorem (Theorem 2 / 4.1 depending on the
    version); mast.md §4 "T-SC" and the key lemma.  Tag R/D: the rate factor, the step size
    and a Δ-neighbourhood are reported [R]; the constants are derived in mast.md [D].

    Measured exactly by propagating E y_t, E y_t y_tᵀ over the enumerated sketch support.
    """
    s = _setting(inst)
    step, iters = float(params["step"]), int(params["iters"])
    dist2 = _dsgd_readouts(inst, s, step, iters)["dist2"]
    gap = s.delta if inst.gap == "delta" else s.delta_prime
    mu = s.mu_f * s.mu_D
    t = np.arange(iters + 1)
    bound = (1 - step * mu) ** t * dist2[0] + 2 * step * s.L_f * s.L_S_max * gap / mu
    return Evidence(
        t,
        dist2,
        bound,
        atol=_atol(dist2[0]),
        extra={"Delta": s.delta, "Delta_prime": s.delta_prime, "gap": inst.gap},
    )


# -- convex variant --
def _convex_step(inst: Instance) -> float:
    return 1.0 / (2 * inst.problem.L * inst.sketch.L_S_max)


def _convex_instances(quick: bool) -> list[Instance]:
    out = [
        quadratic_instance(
            "singular-d4 bernoulli",
            _quadratic(4, 10.0, 6, mu=0.0),
            Bernoulli(np.array([0.4, 0.6, 0.8, 0.5])),
            seed=6,
            iters=150,
        ),
        quadratic_instance(
            "singular-d4 randk-2", _quadratic(4, 5.0, 7, mu=0.0), RandK(4, 2), seed=7, iters=150
        ),
    ]
    if not quick:
        out.append(
            quadratic_instance(
                "singular-d6 randk-3",
                _quadratic(6, 20.0, 8, mu=0.0),
                RandK(6, 3),
                seed=8,
                iters=800,
            )
        )
    return out


def _convex_assumptions(inst: Instance) -> list[str]:
    out = _finite_support(inst.sketch)
    if not isinstance(inst.problem, QuadraticForm):
        out.append("exact measurement needs a quadratic f")
        return out
    eig = np.linalg.eigvalsh(_setting(inst).A_bar)
    if eig[0] <= 1e-12 * eig[-1]:
        out.append("f_D must have a unique minimizer (Ā ≻ 0) for ‖x^0 − x_D*‖²")
    return out


@theorem(
    id="mast.convex",
    paper=PAPER,
    label="convex variant (DSGD option I, averaged suboptimality)",
    tag="D",
    statement=(
        "(1/T)Σ_{t<T} E[f_D(x^t) − f_D*] ≤ ‖x^0 − x_D*‖²/(γT) + 2γL_fL_S^max·Δ for "
        "0 < γ ≤ 1/(2L_fL_S^max), f convex"
    ),
    algorithm="dsgd",
    measure="(1/T) sum_{t<T} E[f_D(x_t) - f_D*] (exact)",
    method="exact",
    instances=_convex_instances,
    assumptions=_convex_assumptions,
    default_params=lambda inst: {"step": _convex_step(inst), "iters": inst.iters},
    step_size=_convex_step,
    controls=(STEP_CONTROL,),
    strategy=lambda: _sc_strategy_singular(),
)
def convex(inst: Instance, params: dict[str, Any]) -> Evidence:
    """Convex (not strongly convex) variant of T-SC for DSGD option I.

    Statement.  For convex L_f-smooth f and 0 < γ ≤ 1/(2L_fL_S^max),
    (1/T)Σ_{t<T} E[f_D(x^t) − f_D*] ≤ ‖x^0 − x_D*‖²/(γT) + 2γL_fL_S^max Δ, for every T ≥ 1.

    Assumptions.  f convex and L_f-smooth, E[S] = I, finite support; f_D with a unique
    minimizer x_D* (here Ā ≻ 0 although A is singular: the sketch's ridge M = Ā − A ⪰ 0
    regularizes).

    Reference.  arXiv 2311.16086 (the TL;DR mentions convex results); mast.md §4 "Convex
    variant".  Tag D: derived from the key lemma (−2γ + 2γ²L_fL_S^max ≤ −γ), not the paper's.
    """
    s = _setting(inst)
    step, iters = float(params["step"]), int(params["iters"])
    subopt = _dsgd_readouts(inst, s, step, iters)["subopt_D"]
    T = np.arange(1, iters + 1)
    measured = np.cumsum(subopt[:-1]) / T
    dist0 = float(np.sum((inst.x0 - s.objective.x_star_host) ** 2))
    bound = dist0 / (step * T) + 2 * step * s.L_f * s.L_S_max * s.delta
    return Evidence(T, measured, bound, atol=_atol(subopt[0]), extra={"Delta": s.delta})


def _sc_strategy_singular() -> Any:
    from mastbench.strategies import mast_quadratic_cases

    return mast_quadratic_cases(singular=True).map(
        lambda case: quadratic_instance(
            "hypothesis",
            case["problem"],
            case["sketch"],
            shift=case["shift"],
            seed=case["seed"],
            iters=60,
        )
    )


# -- T-NC --
def _nc_step(inst: Instance, T: int) -> float:
    sk = inst.sketch
    return 1.0 / (inst.problem.L * math.sqrt(sk.L_D * sk.L_S_max * T))


def _nc_instances(quick: bool) -> list[Instance]:
    horizons = (5, 20, 80, 200) if quick else (5, 20, 80, 300, 1000)
    return [
        quadratic_instance(
            "bernoulli-d4",
            _quadratic(4, 10.0, 1),
            Bernoulli(np.array([0.3, 0.5, 0.7, 0.9])),
            seed=1,
            horizons=horizons,
        ),
        quadratic_instance(
            "randk-d5-k2", _quadratic(5, 5.0, 2), RandK(5, 2), seed=2, horizons=horizons
        ),
    ]


def _nc_interpolation(inst: Instance) -> Instance:
    return quadratic_instance(
        inst.name + " v=x*",
        inst.problem,
        inst.sketch,
        shift="interpolation",
        seed=0,
        horizons=inst.horizons,
    )


@theorem(
    id="mast.nc",
    paper=PAPER,
    label="T-NC (nonconvex, DSGD option I, min gradient norm)",
    tag="R/D",
    statement=(
        "min_{t<T} E‖∇f_D(x^t)‖² ≤ 6(f_D(x^0) − f_D*)/(γT) + 2γL_f²L_DL_S^max·Δ for "
        "0 < γ ≤ 1/(L_f√(L_DL_S^max T))"
    ),
    algorithm="dsgd",
    measure="min_{t<T} E||grad f_D(x_t)||^2 (exact), for several horizons T",
    method="exact",
    instances=_nc_instances,
    assumptions=lambda inst: _finite_support(inst.sketch),
    default_params=lambda inst: {"horizons": tuple(inst.horizons)},
    step_size=lambda inst: _nc_step(inst, max(inst.horizons)),
    controls=(
        NegativeControl(
            "v=x* and step 3/λ_max(Ā)",
            instance=_nc_interpolation,
            params=lambda inst, p: {
                **p,
                "step": 3.0 / _setting(inst).lam_max_A_bar,
                "horizons": (5, 20, 40),
            },
        ),
    ),
    strategy=lambda: _nc_strategy(),
)
def nc(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-NC: O(1/√T) rate of DSGD (option I) for smooth, possibly nonconvex f.

    Statement.  With δ_0 = f_D(x^0) − f_D* and 0 < γ ≤ 1/(L_f√(L_DL_S^max T)),
    min_{0≤t<T} E‖∇f_D(x^t)‖² ≤ 6δ_0/(γT) + 2γL_f²L_DL_S^max Δ.
    Checked for each horizon T in ``params["horizons"]`` with γ_T = 1/(L_f√(L_DL_S^max T))
    (or the fixed ``params["step"]`` when given; ``step_size`` is γ for the largest horizon).

    Assumptions.  f L_f-smooth, bounded below; E[S] = I; finite support.

    Reference.  arXiv 2311.16086, nonconvex theorem (Theorem 3 / 4.2); mast.md §4 "T-NC"
    (Khaled–Richtárik ABC template with L = L_fL_D, A = L_fL_S^max, B = 0, C = 2AΔ).
    Tag R/D: step size and O(1/√T) reported [R], constants derived [D].  Quadratic instances
    are convex; the statement does not need convexity.
    """
    s = _setting(inst)
    measured, bound, atol = [], [], 0.0
    delta0 = None
    for T in params["horizons"]:
        step = float(params.get("step", _nc_step(inst, T)))
        r = _dsgd_readouts(inst, s, step, T)
        delta0 = r["subopt_D"][0]
        measured.append(np.min(r["gradnorm2_D"][:T]))
        bound.append(6 * delta0 / (step * T) + 2 * step * s.L_f**2 * s.L_D * s.L_S_max * s.delta)
        atol = max(atol, _atol(r["gradnorm2_D"][0]))
    return Evidence(
        np.asarray(params["horizons"]),
        measured,
        bound,
        atol=atol,
        extra={"Delta": s.delta, "delta0": delta0},
    )


def _nc_strategy() -> Any:
    from mastbench.strategies import mast_quadratic_cases

    return mast_quadratic_cases().map(
        lambda case: quadratic_instance(
            "hypothesis",
            case["problem"],
            case["sketch"],
            shift=case["shift"],
            seed=case["seed"],
            horizons=(5, 30),
        )
    )


# -- corollary of T-NC --
def _corollary_plan(inst: Instance) -> tuple[float, int, float]:
    """(γ, T, ε²) of the corollary for ε² = ``inst.eps2_fraction`` · ‖∇f_D(x^0)‖²."""
    s = _setting(inst)
    y0 = inst.x0 - inst.shift
    g0 = s.A_bar @ (y0 - s.y_star)
    eps2 = inst.eps2_fraction * float(g0 @ g0)
    delta0 = 0.5 * float((y0 - s.y_star) @ s.A_bar @ (y0 - s.y_star))
    a = s.L_f * s.L_S_max
    T = math.ceil(
        (12 * delta0 * s.L_f * s.L_D / eps2) * max(12 * delta0 * a / eps2, 4 * a * s.delta / eps2)
    )
    step = 1.0 / (s.L_f * math.sqrt(s.L_D * s.L_S_max * T))
    if s.delta > 0:
        step = min(step, eps2 / (4 * s.L_f**2 * s.L_D * s.L_S_max * s.delta))
    return step, T, eps2


@theorem(
    id="mast.nc-corollary",
    paper=PAPER,
    label="Corollary of T-NC (iteration complexity O(ε⁻⁴))",
    tag="D",
    statement=(
        "γ = min{1/(L_f√(L_DL_S^max T)), ε²/(4L_f²L_DL_S^maxΔ)} and "
        "T ≥ (12δ_0L_fL_D/ε²)·max{12δ_0L_fL_S^max/ε², 4L_fL_S^maxΔ/ε²} give "
        "min_{t<T} E‖∇f_D(x^t)‖² ≤ ε²"
    ),
    algorithm="dsgd",
    measure="min_{t<T} E||grad f_D(x_t)||^2 at the corollary's (γ, T) (exact)",
    method="exact",
    instances=lambda quick: [
        quadratic_instance(
            "bernoulli-d3",
            _quadratic(3, 3.0, 9),
            Bernoulli(np.array([0.6, 0.8, 0.9])),
            seed=9,
            eps2_fraction=0.5,
        ),
        quadratic_instance(
            "randk-d3-k2", _quadratic(3, 2.0, 10), RandK(3, 2), seed=10, eps2_fraction=0.5
        ),
    ],
    assumptions=lambda inst: _finite_support(inst.sketch),
    default_params=lambda inst: {},
    controls=(
        NegativeControl(
            "run 1 step instead of the corollary's T", params=lambda i, p: {**p, "run_iters": 1}
        ),
    ),
)
def nc_corollary(inst: Instance, params: dict[str, Any]) -> Evidence:
    """Corollary of T-NC: O(ε⁻⁴) iterations suffice for min_t E‖∇f_D(x^t)‖² ≤ ε².

    Statement.  For ε > 0, γ = min{1/(L_f√(L_DL_S^max T)), ε²/(4L_f²L_DL_S^max Δ)} and
    T ≥ (12δ_0L_fL_D/ε²)·max{12δ_0L_fL_S^max/ε², 4L_fL_S^maxΔ/ε²} imply
    min_{t<T} E‖∇f_D(x^t)‖² ≤ ε².  Checked with ε² a fixed fraction of ‖∇f_D(x^0)‖².

    Assumptions.  As T-NC.

    Reference.  arXiv 2311.16086, Corollary 1 / 4.3; mast.md §4 (Khaled–Richtárik Cor. 1
    algebra re-derived).  Tag D.  ``params["run_iters"]`` (negative control only) runs fewer
    steps than the corollary asks for.
    """
    step, T, eps2 = _corollary_plan(inst)
    T = int(params.get("run_iters", T))
    if T > 20_000:
        raise ValueError(f"the corollary asks for T = {T} steps; choose a larger ε")
    r = _dsgd_readouts(inst, _setting(inst), step, T)
    return Evidence(
        [T], [np.min(r["gradnorm2_D"][:T])], [eps2], atol=_atol(eps2), extra={"step": step, "T": T}
    )


# -- T-ABC --
def _restricted_inf(A: np.ndarray, b: np.ndarray, c0: float, v: np.ndarray, S: np.ndarray) -> float:
    """inf_z q(v + Sz) for q(x) = ½xᵀAx − bᵀx + c0 (convex, bounded below)."""
    H = S.T @ A @ S
    g = S.T @ (A @ v - b)
    return float(0.5 * v @ A @ v - b @ v + c0 - 0.5 * g @ np.linalg.pinv(H, hermitian=True) @ g)


def _abc_constants(inst: Instance) -> dict[str, float]:
    """A', C' of mast.md §4 T-ABC for minibatches of size b drawn with replacement.

    Per sketch S (f_{i,S} is L_iL_S-smooth, L_S = λ_max(SᵀS)): ABC(A_S, B, C_S) holds for the
    minibatch gradient with A_S = L_maxL_S/b, B = 1 − 1/b,
    C_S = (2L_maxL_S/b)(f_S^inf − (1/n)Σ_i f_{i,S}^inf).  Then f_D satisfies
    ABC(A', 0, C') with A' = max_S(A_S + B·L_fL_S) and C' = E_S C_S + 2A'Δ'.
    """
    problem, b = inst.problem, inst.batch
    X = np.asarray(problem.X, float)
    y = np.asarray(problem.y, float)
    n, d = X.shape
    l2 = problem.l2
    A, bb, c0 = problem.quadratic_form()
    v = inst.shift
    S_all, probs = sketch_support(inst.sketch)
    L_max, L_f = problem.L_max, problem.L
    B = 1.0 - 1.0 / b
    A_prime, C_mean = 0.0, 0.0
    for S, p in zip(S_all, probs, strict=True):
        L_S = float(np.linalg.eigvalsh(S.T @ S)[-1])
        f_S_inf = _restricted_inf(A, bb, c0, v, S)
        comp = np.mean(
            [
                _restricted_inf(
                    np.outer(X[i], X[i]) + l2 * np.eye(d), y[i] * X[i], 0.5 * y[i] ** 2, v, S
                )
                for i in range(n)
            ]
        )
        C_mean += p * (2 * L_max * L_S / b) * (f_S_inf - comp)
        A_prime = max(A_prime, L_max * L_S / b + B * L_f * L_S)
    objective = MASTObjective(problem, inst.sketch, problem.asarray(v))
    delta_prime = max(float(objective.minima_gap_sketchwise), 0.0)
    return {
        "A_prime": A_prime,
        "C_prime": C_mean + 2 * A_prime * delta_prime,
        "Delta_prime": delta_prime,
    }


def _abc_instance(name: str, seed: int, sketch: Any, batch: int, iters: int) -> Instance:
    from problems.random import least_squares

    problem = least_squares(4, sketch.d, rng(seed), l2=0.5)
    return quadratic_instance(name, problem, sketch, seed=seed, iters=iters, batch=batch)


def _abc_step(inst: Instance) -> float:
    return 1.0 / _abc_constants(inst)["A_prime"]


@theorem(
    id="mast.abc",
    paper=PAPER,
    label="T-ABC (DSGD option II, data minibatch, strongly convex)",
    tag="R/D",
    statement=(
        "If g_S satisfies ABC(A, B, C) w.r.t. f_S, f_D satisfies ABC(A', 0, C') with "
        "A' = A + B L_fL_S^max, C' = C + 2A'Δ'; then E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T‖x^0 − "
        "x_D*‖² + γC'/(μ_fμ_D) for 0 < γ ≤ 1/A'"
    ),
    algorithm="dsgd",
    measure="E||x_t - x_D*||^2 with data minibatches (exact, sketch x minibatch enumeration)",
    method="exact",
    instances=lambda quick: [
        _abc_instance(
            "lstsq-n4-d3 bernoulli b=1", 11, Bernoulli(np.array([0.5, 0.7, 0.9])), 1, 120
        ),
        _abc_instance("lstsq-n4-d3 randk-2 b=2", 12, RandK(3, 2), 2, 120),
    ],
    assumptions=_sc_assumptions,
    default_params=lambda inst: {"step": _abc_step(inst), "iters": inst.iters},
    step_size=_abc_step,
    controls=(STEP_CONTROL, NegativeControl("bound x 0.5", bound_scale=0.5)),
)
def abc(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-ABC: DSGD option II (data minibatches with replacement) on a strongly convex f.

    Statement.  If E[g_S | S] = ∇f_S and E‖g_S‖² ≤ 2A(f_S − f_S^inf) + B‖∇f_S‖² + C, then
    E‖g‖² ≤ 2A'(f_D − f_D*) + C' with A' = A + B L_fL_S^max, C' = C + 2A'Δ' (Δ' ≤ Δ), and
    for 0 < γ ≤ 1/A': E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T ‖x^0 − x_D*‖² + γC'/(μ_fμ_D).
    The per-sketch ABC constants of minibatching with replacement (Khaled–Richtárik) are
    computed exactly by enumeration (see ``_abc_constants``; C enters as its mean over S).

    Assumptions.  f = (1/n)Σf_i, each f_i convex and L_i-smooth, f μ_f-strongly convex;
    E[S] = I, finite support.

    Reference.  arXiv 2311.16086, inexact/ABC theorem (Theorem 4.3, Eqs. (8)–(9)); mast.md
    §3.1, §4 "T-ABC".  Tag R/D: existence reported, constants derived.
    """
    problem = inst.problem
    s = _setting(inst)
    step, iters = float(params["step"]), int(params["iters"])
    X = np.asarray(problem.X, float)
    y = np.asarray(problem.y, float)
    d = X.shape[1]
    A_i = np.einsum("ni,nj->nij", X, X) + problem.l2 * np.eye(d)
    c_i = np.einsum("nij,j->ni", A_i, inst.shift) - y[:, None] * X
    rec = minibatch_branches(A_i, c_i, inst.sketch, step, inst.batch)
    y0 = inst.x0 - inst.shift
    ms, Ps = rec.moments(y0, np.outer(y0, y0), iters)
    dist2 = _readouts(ms, Ps, s, inst.shift)["dist2"]
    constants = _abc_constants(inst)
    mu = s.mu_f * s.mu_D
    t = np.arange(iters + 1)
    bound = (1 - step * mu) ** t * dist2[0] + step * constants["C_prime"] / mu
    return Evidence(t, dist2, bound, atol=_atol(dist2[0]), extra=constants)


# -- T-VR --
def _uniform_discrete(sketch: Any) -> Discrete:
    values, probs = sketch.support()
    return Discrete(values, probs)


def _vr_constants(inst: Instance) -> tuple[float, float]:
    """(L, μ) of the L-SVRG theorem: L = max_j L_fλ_max(S_jᵀS_j), μ = μ_fμ_D."""
    S, _ = sketch_support(inst.sketch)
    L = inst.problem.L * float(np.max(np.linalg.eigvalsh(np.swapaxes(S, 1, 2) @ S)))
    return L, inst.problem.mu * inst.sketch.mu_D


def _vr_step(inst: Instance) -> float:
    return 1.0 / (6 * _vr_constants(inst)[0])


def _vr_instances(quick: bool) -> list[Instance]:
    out = [
        quadratic_instance(
            "randk-d3-k1 (N=3)",
            _quadratic(3, 4.0, 13),
            _uniform_discrete(RandK(3, 1)),
            seed=13,
            iters=300,
        ),
        quadratic_instance(
            "randk-d4-k2 (N=6)",
            _quadratic(4, 3.0, 14),
            _uniform_discrete(RandK(4, 2)),
            seed=14,
            iters=300,
        ),
    ]
    if not quick:
        out.append(
            quadratic_instance(
                "randk-d4-k2 p=1/2",
                _quadratic(4, 10.0, 15),
                _uniform_discrete(RandK(4, 2)),
                seed=15,
                iters=1000,
                prob=0.5,
            )
        )
    return out


def _vr_assumptions(inst: Instance) -> list[str]:
    out = _sc_assumptions(inst)
    if not isinstance(inst.sketch, Discrete) or not np.allclose(
        inst.sketch.weights, inst.sketch.weights[0]
    ):
        out.append("D must be uniform on N sketches (a Discrete with equal weights)")
    return out


def _vr_moments(
    inst: Instance, step: float, iters: int, batch: int, minibatch: str, prob: float
) -> tuple[Any, Any, np.ndarray, Any]:
    s = _setting(inst)
    S, _ = sketch_support(inst.sketch)
    rec, start = lsvrdsg_recursion(s.A, s.c, S, step, prob, batch, minibatch)
    y0 = inst.x0 - inst.shift
    z0 = np.concatenate([y0, y0, np.zeros_like(y0)])
    m0, P0 = start.step(z0, np.outer(z0, z0))
    return rec, (m0, P0), S, s


@theorem(
    id="mast.vr",
    paper=PAPER,
    label="T-VR at b = N (L-SVRDSG = L-SVRG over the sketches)",
    tag="R/D",
    statement=(
        "b = N, γ = 1/(6L), L = max_j L_fλ_max(S_jᵀS_j), μ = μ_fμ_D: E Φ^t ≤ (1 − min{μ/(6L), "
        "p/2})^t Φ^0, Φ^t = ‖x^t − x_D*‖² + (4γ²/(pN))Σ_j‖∇f_j(w^t) − ∇f_j(x_D*)‖²"
    ),
    algorithm="l_svrdsg",
    measure="E Phi_t, the L-SVRG Lyapunov function (exact, branch enumeration)",
    method="exact",
    instances=_vr_instances,
    assumptions=_vr_assumptions,
    default_params=lambda inst: {"step": _vr_step(inst), "iters": inst.iters},
    step_size=_vr_step,
    controls=(STEP_CONTROL, NegativeControl("bound x 0.5", bound_scale=0.5)),
)
def vr(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-VR with the full reference batch (b = N): L-SVRDSG is L-SVRG on f_D = (1/N)Σ_j f_j.

    Statement.  With f_j(x) = f(v + S_j(x − v)) convex and L-smooth, L = max_j L_fλ_max(S_jᵀS_j),
    f_D μ-strongly convex with μ = μ_fμ_D, p ∈ (0, 1] and γ = 1/(6L):
    E Φ^t ≤ (1 − min{μ/(6L), p/2})^t Φ^0 with
    Φ^t = ‖x^t − x_D*‖² + (4γ²/(pN)) Σ_j ‖∇f_j(w^t) − ∇f_j(x_D*)‖².

    Assumptions.  D uniform on N sketches; f L_f-smooth, μ_f-strongly convex.

    Reference.  arXiv 2311.16086, Theorem 5 (Algorithm 3, L-SVRDSG); Kovalev, Horváth,
    Richtárik (2020) L-SVRG theorem; mast.md §3.3, §4 "T-VR".  Tag R/D: exact convergence at
    b = N reported, constants those of L-SVRG (derived).
    """
    step, iters = float(params["step"]), int(params["iters"])
    prob = float(getattr(inst, "prob", None) or 1.0 / inst.sketch.num_outcomes)
    rec, (m0, P0), S, s = _vr_moments(inst, step, iters, _num_sketches(inst), "fixed", prob)
    ms, Ps = rec.moments(m0, P0, iters)
    d, N = s.A.shape[0], S.shape[0]
    H = np.einsum("nji,jk,nkl->nil", S, s.A, S)
    Q = np.zeros((3 * d, 3 * d))
    Q[:d, :d] = np.eye(d)
    Q[d : 2 * d, d : 2 * d] = (4 * step**2 / (prob * N)) * np.einsum("nij,nik->jk", H, H)
    center = np.concatenate([s.y_star, s.y_star, np.zeros(d)])
    phi = quadratic_readout(ms, Ps, Q, center)
    L, mu = _vr_constants(inst)
    t = np.arange(iters + 1)
    bound = (1 - min(mu / (6 * L), prob / 2)) ** t * phi[0]
    return Evidence(t, phi, bound, atol=_atol(phi[0]), extra={"L": L, "mu": mu, "p": prob})


def _num_sketches(inst: Instance) -> int:
    """N, the number of sketches of the instance's uniform Discrete distribution."""
    return int(inst.sketch.num_outcomes)


def _vr_limit(inst: Instance, step: float, batch: int, prob: float) -> float:
    rec, _, _, s = _vr_moments(inst, step, 0, batch, inst.minibatch, prob)
    m, P = rec.limit()
    d = s.A.shape[0]
    return float(quadratic_readout(m[:d], P[:d, :d], np.eye(d), s.y_star))


@theorem(
    id="mast.vr-neighbourhood",
    paper=PAPER,
    label="T-VR at b < N: shape of the neighbourhood",
    tag="R/U",
    statement=(
        "The limit R(b, γ) = lim_t E‖x^t − x_D*‖² of L-SVRDSG with reference minibatch b is 0 at "
        "b = N, non-increasing in b, and non-decreasing in γ"
    ),
    algorithm="l_svrdsg",
    measure="exact limit of E||x_t - x_D*||^2 (fixed point of the moment map)",
    method="exact",
    instances=lambda quick: [
        quadratic_instance(
            f"randk-d4-k2 (N=6) {variant}",
            _quadratic(4, 3.0, 14),
            _uniform_discrete(RandK(4, 2)),
            seed=14,
            minibatch=variant,
        )
        for variant in ("fixed", "resampled")
    ],
    assumptions=_vr_assumptions,
    default_params=lambda inst: {"step": _vr_step(inst)},
    step_size=_vr_step,
    controls=(NegativeControl("bound x 0.1", bound_scale=0.1),),
)
def vr_neighbourhood(inst: Instance, params: dict[str, Any]) -> Evidence:
    """Shape of the L-SVRDSG neighbourhood for reference minibatches b < N.

    Statement.  Checked point by point (``extra["checks"]`` names each point):
    (i) R(N, γ) = 0; (ii) R(b, γ) ≤ R(b − 1, γ) for 2 ≤ b ≤ N; (iii) R(b, γ/2) ≤ R(b, γ)
    for 1 ≤ b < N; R(b, γ) := lim_t E‖x^t − x_D*‖² (exact fixed point), p = 1/N.

    Assumptions.  As T-VR.

    Reference.  arXiv 2311.16086, Theorem 5 (neighbourhood ∝ (N − b)/b reported); mast.md §3.3,
    §4 "T-VR".  Tag R/U: the shape is reported, the paper's constant is uncertain; nothing
    beyond the shape is asserted.  ``inst.minibatch`` picks the variant (minibatch fixed per
    reference point, or resampled every step).
    """
    step = float(params["step"])
    N = _num_sketches(inst)
    prob = 1.0 / N
    R = {b: _vr_limit(inst, step, b, prob) for b in range(1, N + 1)}
    R_half = {b: _vr_limit(inst, step / 2, b, prob) for b in range(1, N)}
    measured, bound, checks = [], [], []
    for b in range(2, N + 1):
        measured.append(R[b])
        bound.append(0.0 if b == N else R[b - 1])
        checks.append(f"R({b}) ≤ " + ("0" if b == N else f"R({b - 1})"))
    for b in range(1, N):
        measured.append(R_half[b])
        bound.append(R[b])
        checks.append(f"R({b}, γ/2) ≤ R({b}, γ)")
    return Evidence(
        np.arange(len(measured)),
        measured,
        bound,
        atol=_atol(R[1]) * 10,
        extra={"checks": checks, "R": R, "R_half_step": R_half},
    )


# -- T-DIST --
def _client_quadratic(d: int, L: float, seed: int) -> Quadratic:
    """A random quadratic with eigenvalues in [L/4, L] (so L_f = L)."""
    return _quadratic(d, 4.0, seed, mu=L / 4)


def _dist_instance(
    name: str, problems: list[Quadratic], sketches: Any, seed: int, horizons: tuple[int, ...]
) -> Instance:
    gen = np.random.default_rng(seed)
    d = problems[0].d
    return Instance(
        name,
        problems=problems,
        sketches=sketches,
        shift=np.zeros(d),
        x0=gen.standard_normal(d),
        horizons=horizons,
    )


def _dist_instances(quick: bool) -> list[Instance]:
    horizons = (5, 20, 80) if quick else (5, 20, 80, 300)
    return [
        _dist_instance(
            "homogeneous randk-d3-k2 M=2",
            [_client_quadratic(3, 2.0, 16), _client_quadratic(3, 2.0, 17)],
            [RandK(3, 2), RandK(3, 2)],
            16,
            horizons,
        ),
        _dist_instance(
            "heterogeneous (10, I) + (1, Bern 0.2)",
            [_client_quadratic(3, 10.0, 18), _client_quadratic(3, 1.0, 19)],
            [Identity(3), Bernoulli(np.full(3, 0.2))],
            18,
            horizons,
        ),
        _dist_instance(
            "IST Perm-1 d=n=3",
            [_client_quadratic(3, 2.0, s) for s in (20, 21, 22)],
            Permutation(3, 3),
            20,
            horizons,
        ),
    ]


@dataclass
class _DistSetting:
    A_list: list[np.ndarray]
    c_list: list[np.ndarray]
    A_bar: np.ndarray
    y_star: np.ndarray
    L: float
    A_const: float
    D_max: float
    delta_dist: float
    sketches: list[Any]


def _dist_setting(inst: Instance) -> _DistSetting:
    from mastbench.algorithms._mast_setup import DistributedQuadraticMAST

    problems = inst.problems
    sketches = (
        [inst.sketches] * len(problems)
        if isinstance(inst.sketches, Permutation)
        else list(inst.sketches)
    )
    v = inst.shift
    objective = DistributedQuadraticMAST(problems, sketches, problems[0].asarray(v))
    forms = [p.quadratic_form() for p in problems]
    A_list = [A for A, _, _ in forms]
    c_list = [A @ v - b for A, b, _ in forms]
    L = float(np.mean([p.L * s.L_D for p, s in zip(problems, sketches, strict=True)]))
    A_const = max(p.L * s.L_S_max for p, s in zip(problems, sketches, strict=True))
    D_max = max(p.L**2 * s.L_D * s.L_S_max for p, s in zip(problems, sketches, strict=True))
    delta = objective.f_star - float(np.mean([p.f_star for p in problems]))
    return _DistSetting(
        A_list,
        c_list,
        objective.A_bar,
        objective.x_star_host - v,
        L,
        A_const,
        D_max,
        max(delta, 0.0),
        sketches,
    )


def _dist_assumptions(inst: Instance) -> list[str]:
    sketches = [inst.sketches] if isinstance(inst.sketches, Permutation) else inst.sketches
    return [r for s in sketches for r in _finite_support(s)]


def _dist_evaluate(inst: Instance, params: dict[str, Any], constant: str) -> Evidence:
    s = _dist_setting(inst)
    product = s.L * s.A_const if constant == "LA" else s.D_max
    measured, bound, atol = [], [], 0.0
    y0 = inst.x0 - inst.shift
    e0 = y0 - s.y_star
    delta0 = 0.5 * float(e0 @ s.A_bar @ e0)
    for T in params["horizons"]:
        step = float(params.get("step", 1.0 / math.sqrt(product * T)))
        rec = distributed_branches(
            s.A_list,
            s.c_list,
            inst.sketches if isinstance(inst.sketches, Permutation) else s.sketches,
            step,
        )
        ms, Ps = rec.moments(y0, np.outer(y0, y0), T)
        grad2 = quadratic_readout(ms, Ps, s.A_bar @ s.A_bar, s.y_star)
        measured.append(np.min(grad2[:T]))
        bound.append(6 * delta0 / (step * T) + 2 * step * product * s.delta_dist)
        atol = max(atol, _atol(grad2[0]))
    return Evidence(
        np.asarray(params["horizons"]),
        measured,
        bound,
        atol=atol,
        extra={"L*A": s.L * s.A_const, "D_max": s.D_max, "Delta_dist": s.delta_dist},
    )


def _dist_step(inst: Instance, constant: str) -> float:
    s = _dist_setting(inst)
    product = s.L * s.A_const if constant == "LA" else s.D_max
    return 1.0 / math.sqrt(product * max(inst.horizons))


_DIST_STEP_CONTROL = NegativeControl(
    "step 3/λ_max(Ā), bound x 0.01",
    bound_scale=0.01,
    params=lambda inst, p: {
        **p,
        "step": 3.0 / float(np.linalg.eigvalsh(_dist_setting(inst).A_bar)[-1]),
        "horizons": (5, 20, 40),
    },
)


@theorem(
    id="mast.dist",
    paper=PAPER,
    label="T-DIST, safe form (distributed DSGD / IST / FL)",
    tag="D",
    statement=(
        "min_{t<T} E‖∇f_D(x^t)‖² ≤ 6(f_D(x^0) − f_D*)/(γT) + 2γ·L·A·Δ_dist for "
        "0 < γ ≤ 1/√(LAT), L = (1/M)Σ_iL_{f_i}L_{D_i}, A = max_i L_{f_i}L_{S_i}^max, "
        "Δ_dist = f_D* − (1/M)Σ_i f_i^inf"
    ),
    algorithm="distributed_dsgd",
    measure="min_{t<T} E||grad f_D(x_t)||^2 (exact, joint sketch enumeration)",
    method="exact",
    instances=_dist_instances,
    assumptions=_dist_assumptions,
    default_params=lambda inst: {"horizons": tuple(inst.horizons)},
    step_size=lambda inst: _dist_step(inst, "LA"),
    controls=(_DIST_STEP_CONTROL,),
)
def dist(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-DIST, safe derived form, for distributed DSGD (M clients, per-client sketches).

    Statement.  With L = (1/M)Σ_i L_{f_i}L_{D_i} (smoothness of f_D),
    A = max_i L_{f_i}L_{S_i}^max and Δ_dist = f_D* − (1/M)Σ_i f_i^inf ≥ 0, for
    0 < γ ≤ 1/√(LAT): min_{t<T} E‖∇f_D(x^t)‖² ≤ 6(f_D(x^0) − f_D*)/(γT) + 2γLAΔ_dist.
    No independence between clients is needed (Jensen), so joint Permutation (IST) sketches
    are covered.

    Assumptions.  Each f_i L_{f_i}-smooth and bounded below; E[S_i] = I; finite supports.

    Reference.  arXiv 2311.16086, distributed theorem (Theorem 6 / 5.1); mast.md §3.2, §4
    "T-DIST".  Tag D: derived safe constant L·A (the paper reports D_max, see
    ``mast.dist-dmax``).
    """
    return _dist_evaluate(inst, params, "LA")


@theorem(
    id="mast.dist-dmax",
    paper=PAPER,
    label="T-DIST, reported D_max form",
    tag="R/U",
    statement=(
        "min_{t<T} E‖∇f_D(x^t)‖² ≤ 6(f_D(x^0) − f_D*)/(γT) + 2γ·D_max·Δ_dist for "
        "0 < γ ≤ 1/√(D_max T), D_max = max_i L_{f_i}²L_{D_i}L_{S_i}^max"
    ),
    algorithm="distributed_dsgd",
    measure="min_{t<T} E||grad f_D(x_t)||^2 (exact, joint sketch enumeration)",
    method="exact",
    instances=_dist_instances,
    assumptions=_dist_assumptions,
    default_params=lambda inst: {"horizons": tuple(inst.horizons)},
    step_size=lambda inst: _dist_step(inst, "Dmax"),
    controls=(_DIST_STEP_CONTROL,),
)
def dist_dmax(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-DIST in the form reported by reviews, with D_max in place of L·A.

    Statement.  As ``mast.dist`` with L·A replaced by D_max := max_i L_{f_i}²L_{D_i}L_{S_i}^max
    (step γ ≤ 1/√(D_max T)).  For homogeneous constants D_max = L·A; with heterogeneous
    constants L·A can exceed D_max (e.g. client 1: L_f = 10, no sketch; client 2: L_f = 1,
    L_D = 5, L_S^max = 25: D_max = 125, L·A = 187.5), where the reported form is *not* implied
    by the derived one.

    Assumptions.  As ``mast.dist``.

    Reference.  arXiv 2311.16086, distributed theorem; mast.md §4 "T-DIST" caveat.  Tag R/U:
    the exact form is uncertain; a violation on a heterogeneous instance would be a finding.
    """
    return _dist_evaluate(inst, params, "Dmax")


# -- IST link --
def _ist_instances(quick: bool) -> list[Instance]:
    out = [
        _dist_instance(
            "Perm-1 d=n=3",
            [_client_quadratic(3, 2.0, s) for s in (23, 24, 25)],
            Permutation(3, 3),
            23,
            (1,),
        ),
        _dist_instance(
            "Perm-1 d=n=4",
            [_client_quadratic(4, 3.0, s) for s in (26, 27, 28, 29)],
            Permutation(4, 4),
            26,
            (1,),
        ),
    ]
    return out[:1] if quick else out


def _perm_two(inst: Instance) -> Instance:
    problems = [_client_quadratic(4, 2.0, s) for s in (30, 31)]
    return _dist_instance("Perm-2 d=4 n=2", problems, Permutation(4, 2), 30, (1,))


@theorem(
    id="mast.ist-link",
    paper=PAPER,
    label="IST link (Perm-1 sketches on quadratics)",
    tag="D",
    statement=(
        "For Perm-1 (n = d clients) and quadratics f_i = ½xᵀA_ix − b_iᵀx: "
        "E[(1/n)Σ_iS_iA_iS_i] = n·D̄ with D̄ = (1/n)ΣDiag(A_i), and IST (v = 0) converges in "
        "mean to x_D* = (nD̄)⁻¹b̄"
    ),
    algorithm="distributed_dsgd",
    measure="max-abs differences: enumerated E[(1/n)ΣS_iA_iS_i] vs nD̄; x_D* and the exact "
    "limit of E x_t vs (nD̄)^{-1} b̄",
    method="deterministic",
    instances=_ist_instances,
    assumptions=_dist_assumptions,
    controls=(NegativeControl("Perm-2 instance (q = 2)", instance=_perm_two),),
)
def ist_link(inst: Instance, params: dict[str, Any]) -> Evidence:
    """IST link: independent subnetwork training is distributed DSGD with Perm-1 sketches.

    Statement.  With n = d clients, Perm-1 sketches and quadratics f_i = ½xᵀA_ix − b_iᵀx,
    E[(1/n)Σ_i S_iA_iS_i] = n·D̄, D̄ = (1/n)Σ_i Diag(A_i); hence f_D(x) = ½n xᵀD̄x − b̄ᵀx and
    IST (v = 0, any step with a contracting mean) has E x^t → x_D* = (nD̄)⁻¹b̄ ≠ x* in general
    (the IST paper's irreducible bias).

    Assumptions.  Perm-1 (q = d/n = 1); quadratic clients.  The Perm-2 control breaks q = 1.

    Reference.  arXiv 2311.16086 (IST as a special case) and Shulgin & Richtárik,
    arXiv 2306.16484, eqs. (5)–(6); mast.md §3.2.  Tag D.  Measured: the enumerated
    expectation (joint support of the Permutation), the minimizer of the enumerated f_D, and
    the exact fixed point of the mean recursion of IST.
    """
    problems, sketch = inst.problems, inst.sketches
    n = sketch.n
    forms = [p.quadratic_form() for p in problems]
    A_list = [A for A, _, _ in forms]
    b_bar = np.mean([b for _, b, _ in forms], axis=0)
    joint, probs = sketch.support()
    enumerated = sum(
        p * sum(np.diag(s) @ A @ np.diag(s) for s, A in zip(blocks, A_list, strict=True)) / n
        for blocks, p in zip(joint, probs, strict=True)
    )
    D_bar = np.mean([np.diag(np.diag(A)) for A in A_list], axis=0)
    predicted = np.linalg.solve(n * D_bar, b_bar)
    step = 1.0 / float(np.linalg.eigvalsh(enumerated)[-1])
    rec = distributed_branches(A_list, [-b for _, b, _ in forms], sketch, step)
    mean_limit = np.linalg.solve(np.eye(rec.n) - rec.K_mean, rec.h_mean)
    measured = [
        float(np.max(np.abs(enumerated - n * D_bar))),
        float(np.max(np.abs(np.linalg.solve(enumerated, b_bar) - predicted))),
        float(np.max(np.abs(mean_limit - predicted))),
    ]
    scale = max(float(np.max(np.abs(enumerated))), float(np.max(np.abs(predicted))))
    x_star = np.linalg.solve(np.mean(A_list, axis=0), b_bar)
    return Evidence(
        [0, 1, 2],
        measured,
        [0.0, 0.0, 0.0],
        atol=_atol(scale) * 100,
        extra={
            "x_D*": predicted,
            "x*": x_star,
            "checks": ["E[(1/n)ΣS_iA_iS_i] = nD̄", "argmin f_D = (nD̄)⁻¹b̄", "lim E x_t = (nD̄)⁻¹b̄"],
        },
    )


# -- T-SC on logistic regression (Monte Carlo) --
def _logistic_instances(quick: bool) -> list[Instance]:
    from problems.random import logistic

    problem = logistic(30, 3, rng(31), l2=0.5)
    return [
        Instance(
            "logistic n=30 d=3 randk-2",
            problem=problem,
            sketch=RandK(3, 2),
            shift=np.zeros(3),
            x0=np.array([1.0, -1.0, 0.5]),
            iters=60,
            replicates=2000 if quick else 20000,
            seed=0,
        ),
    ]


def _logistic_step(inst: Instance) -> float:
    return 1.0 / (inst.problem.L * inst.sketch.L_S_max)


@theorem(
    id="mast.sc-logistic",
    paper=PAPER,
    label="T-SC on ℓ2-regularized logistic regression (Monte Carlo)",
    tag="R/D",
    statement=(
        "E‖x^T − x_D*‖² ≤ (1 − γμ_fμ_D)^T ‖x^0 − x_D*‖² + 2γL_fL_S^max·Δ/(μ_fμ_D), "
        "0 < γ ≤ 1/(L_fL_S^max), with L_f = λ_max(XᵀX)/(4n) + λ, μ_f = λ"
    ),
    algorithm="dsgd",
    measure="E||x_t - x_D*||^2, Monte Carlo over batched replicates, Bonferroni 99% intervals",
    method="montecarlo",
    instances=_logistic_instances,
    assumptions=_sc_assumptions,
    default_params=lambda inst: {"step": _logistic_step(inst), "iters": inst.iters},
    step_size=_logistic_step,
    controls=(NegativeControl("bound x 0.5", bound_scale=0.5),),
)
def sc_logistic(inst: Instance, params: dict[str, Any]) -> Evidence:
    """T-SC on a small logistic-regression instance, measured by Monte Carlo.

    Statement.  As ``mast.sc`` with L_f = λ_max(XᵀX)/(4n) + λ and μ_f = λ (the ℓ2 term is
    inside f and is sketched with it, mast.md §2.2); Δ = f_D* − f* with f_D* from Newton's
    method on the enumerated f_D (``MASTObjective``).

    Assumptions.  As ``mast.sc``.

    Reference.  arXiv 2311.16086 (experiments: logistic regression on a5a, Rand-K, v = 0);
    mast.md §4 "T-SC", §6.2.  Tag R/D.  A violation is reported only when the lower end of a
    simultaneous (Bonferroni over checkpoints) 99% t-interval exceeds the bound.
    """
    from mastbench.algorithms.mast import dsgd
    from mastbench.montecarlo import from_trace

    problem, sketch = inst.problem, inst.sketch
    step, iters = float(params["step"]), int(params["iters"])
    objective = MASTObjective(problem, sketch, problem.asarray(inst.shift))
    trace = dsgd(
        problem,
        problem.asarray(inst.x0),
        sketch=sketch,
        step=step,
        iters=iters,
        rng=rng(inst.seed),
        replicates=inst.replicates,
        shift=problem.asarray(inst.shift),
        checkpoints=np.arange(0, iters + 1, 5),
        metrics=("dist2",),
    )
    est = from_trace(trace, "dist2", level=0.99)
    delta = max(float(objective.minima_gap), 0.0)
    mu = problem.mu * sketch.mu_D
    t = trace.iterations
    dist0 = float(np.sum((inst.x0 - objective.x_star_host) ** 2))
    bound = (1 - step * mu) ** t * dist0 + 2 * step * problem.L * sketch.L_S_max * delta / mu
    return Evidence(
        t,
        est.mean,
        bound,
        lower=est.lower,
        upper=est.upper,
        atol=_atol(dist0),
        extra={"Delta": delta, "replicates": inst.replicates},
    )
