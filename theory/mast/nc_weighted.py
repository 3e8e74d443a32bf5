"""T-NC of MAST in Khaled–Richtárik's weighted-average form (DSGD option I, nonconvex rate).

``mast.nc`` checks the min form min_{t<T} E‖∇f_D(x^t)‖² ≤ 6δ_0/(γT) + 2γL_f²L_DL_S^max·Δ.  The
proof template behind it (Khaled & Richtárik, "Better Theory for SGD in the Nonconvex World",
TMLR 2023, arXiv 2002.03329, Theorem 2) bounds a geometrically weighted average of the
gradient norms, which implies the min form; ``shared/theory/mast.md`` §4 ("T-NC", "tighter
form, valid for B = 0") and §6.2 ("Also check the weighted-average form").  Measured exactly by
moment propagation (:mod:`mastbench.exact`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from mastbench.theory import Measurement, NegativeControl
from mastbench.theory.mast.common import (
    atol,
    cancelled_scales,
    dsgd_readouts,
    dsgd_run,
    finite_support,
    horizon_theorem,
    quadratic_instance,
    random_quadratic,
    setting,
    start_gap,
)
from mastbench.theory.mast.instances import RunInstance
from mastbench.theory.mast.rates import nc_horizon_step, nc_interpolation, nc_step

from mastbench.sketches import Bernoulli, RandK

__all__ = ["khaled_richtarik_weights", "nc_weighted"]


def khaled_richtarik_weights(L: float, A: float, step: float, T: int) -> np.ndarray:
    """Weights w_t = w_{−1}/(1 + Lγ²A)^{t+1}, t = 0..T−1, normalized to sum to 1.

    Khaled–Richtárik (arXiv 2002.03329) Theorem 2 with w_{−1} > 0 arbitrary (it cancels).
    Computed in the log domain: for large Lγ²A the tail underflows to 0, never to NaN.
    """
    log_q = math.log1p(L * step**2 * A)
    logs = -log_q * np.arange(1, T + 1, dtype=float)
    w = np.exp(logs - logs[0])
    return w / np.sum(w)


def _instances(quick: bool) -> list[RunInstance]:
    horizons = (5, 20, 80, 200) if quick else (5, 20, 80, 300, 1000)
    out = [
        quadratic_instance(
            "bernoulli-d4 Δ",
            random_quadratic(4, 10.0, 1),
            Bernoulli(np.array([0.3, 0.5, 0.7, 0.9])),
            seed=1,
            horizons=horizons,
            gap="delta",
        ),
        quadratic_instance(
            "randk-d5-k2 Δ'",
            random_quadratic(5, 5.0, 2),
            RandK(5, 2),
            seed=2,
            horizons=horizons,
            gap="delta_prime",
        ),
        quadratic_instance(
            "randk-d4-k1 v=0 Δ",
            random_quadratic(4, 20.0, 3),
            RandK(4, 1),
            shift="zero",
            seed=3,
            horizons=horizons,
            gap="delta",
        ),
    ]
    if not quick:
        out.append(
            quadratic_instance(
                "bernoulli-uniform-d5 Δ",
                random_quadratic(5, 50.0, 5),
                Bernoulli(np.full(5, 0.5)),
                seed=5,
                horizons=horizons,
                gap="delta",
            )
        )
    return out


def _interpolation(inst: RunInstance) -> RunInstance:
    """v = x* (Δ = Δ' = 0): the γ-growing neighbourhood term cannot hide a violation."""
    return nc_interpolation(inst, gap="delta")


#: Ten times T-NC's step for the largest horizon, with (1 + Lγ²A)^T replaced by e, the bound
#: it has only for γ ≤ 1/√(LAT): the range-dependent constant used outside the range.
STEP_CONTROL = NegativeControl(
    "v=x*, step 10/√(LAT_max) with (1+Lγ²A)^T replaced by e",
    instance=_interpolation,
    params=lambda inst, p: {
        **p,
        "step": 10.0 * nc_step(inst, max(inst.horizons)),
        "factor": "e",
    },
    expect="measured",
)


def _strategy() -> Any:
    from mastbench.strategies import mast_quadratic_cases

    return mast_quadratic_cases().map(
        lambda case: quadratic_instance(
            "hypothesis",
            case["problem"],
            case["sketch"],
            shift=case["shift"],
            seed=case["seed"],
            x0=case["x0"],
            horizons=(5, 30),
            gap=case["gap"],
        )
    )


@horizon_theorem(
    id="mast.nc-weighted",
    optional_params=("factor",),
    label="T-NC, weighted-average form (Khaled–Richtárik Thm 2 template, B = 0)",
    tag="D",
    algorithm="dsgd",
    measure="weighted average of E||grad f_D(x_t)||^2 over t < T (exact), several horizons T",
    instances=_instances,
    assumptions=lambda inst: finite_support(inst.sketch),
    bound=lambda inst, params, T: _bound(inst, params, T),
    controls=(STEP_CONTROL, NegativeControl("bound x 0.3", bound_scale=0.3, expect="measured")),
    strategy=_strategy,
    implementation=dsgd_run(
        lambda inst, params: params.get("step", nc_step(inst, min(params["horizons"])))
    ),
)
def nc_weighted(inst: RunInstance, params: dict[str, Any]) -> Measurement:
    """T-NC in the weighted-average form of Khaled–Richtárik, for DSGD option I.

    Statement.  With δ_0 = f_D(x^0) − f_D*, r_t = E‖∇f_D(x^t)‖², L = L_fL_D, A = L_fL_S^max
    and w_t = w_{−1}/(1 + Lγ²A)^{t+1} (w_{−1} > 0), for every γ > 0 and T ≥ 1:
    Σ_{t<T} w_t r_t / Σ_{t<T} w_t ≤ (1 + Lγ²A)^T δ_0/(γT) + γL_f²L_DL_S^max·Δ, which is
    ≤ e·δ_0/(γT) + γL_f²L_DL_S^max·Δ for γ ≤ 1/(L_f√(L_DL_S^max T)); also with Δ' in place of Δ.

    For γ ≤ 1/√(LAT), (1 + Lγ²A)^T ≤ e.  The weighted average is ≥ min_{t<T} r_t, so this
    implies ``mast.nc`` (6δ_0/(γT) + 2γL_f²L_DL_S^maxΔ) with room to spare.  The instance
    field ``gap`` picks Δ or Δ' = f_D* − E_S f_S^inf ≤ Δ.

    Assumptions.  f L_f-smooth and bounded below; E[S] = I; finite support (L_S^max < ∞).
    No step-size restriction: with B = 0 the condition γ ≤ 1/(LB) of the template is void.

    Check.  For each horizon T in ``params["horizons"]``: run T steps with γ_T = 1/√(LAT)
    (or the fixed ``params["step"]``), take the exact r_t, t < T, from moment propagation and
    compare their w-weighted average with the bound.  ``params["factor"] = "e"`` (negative
    control only) replaces (1 + Lγ²A)^T by e, the bound it has only inside the step range.

    Derivation [D].  f_D is L-smooth (mast.md §2) and, by the key lemma (§4),
    E‖g^t‖² ≤ 2A(f_D(x^t) − f_D*) + C with C = 2AΔ (or 2AΔ'), i.e. ABC(A, B = 0, C).
    L-smoothness gives δ_{t+1} ≤ (1 + Lγ²A)δ_t − γr_t + Lγ²C/2 with δ_t = E f_D(x^t) − f_D*;
    multiplying by w_t/γ (w_t(1 + Lγ²A) = w_{t−1}) and summing telescopes to
    Σ_{t<T} w_t r_t ≤ w_{−1}δ_0/γ + (LγC/2)Σ_{t<T} w_t, and Σ_{t<T} w_t ≥ T w_{T−1} =
    T w_{−1}(1 + Lγ²A)^{−T}.  With B = 0 the factor 1 − LγB/2 is 1, which gives δ_0 instead of
    2δ_0, LγC/2 instead of LγC, and no step restriction.

    Reference.  Khaled & Richtárik, "Better Theory for SGD in the Nonconvex World", TMLR 2023,
    arXiv 2002.03329, Theorem 2 (weights w_k = w_{k−1}/(1 + Lγ²A), bound
    2(1 + Lγ²A)^K δ_0/(γK) + LCγ for γ ≤ 1/(LB)) — quoted from mast.md §4, not checked against
    the paper's text; the B = 0 sharpening above and the MAST mapping L = L_fL_D,
    A = L_fL_S^max, C = 2AΔ are derived in mast.md §4 [D].  MAST: arXiv 2311.16086, nonconvex
    theorem (Theorem 3 / 4.2).  Tag D.
    """
    s = setting(inst)
    L, A = s.L_f * s.L_D, s.L_f * s.L_S_max
    measured, factors, tol = [], [], 0.0
    for T in params["horizons"]:
        step = nc_horizon_step(inst, params, T)
        r = dsgd_readouts(inst, step, T)
        measured.append(float(khaled_richtarik_weights(L, A, step, T) @ r.gradnorm2_D[:T]))
        factors.append(_growth(L, A, step, T))
        tol = max(tol, atol(r.gradnorm2_D[0], cancelled_scales(inst)["gradnorm2"]))
    return Measurement(
        np.asarray(params["horizons"]),
        np.asarray(measured),
        atol=tol,
        extra={
            "Delta": s.delta,
            "Delta_prime": s.delta_prime,
            "gap": inst.gap,
            "delta0": start_gap(inst),
            "(1+Lγ²A)^T": factors,
        },
    )


def _growth(L: float, A: float, step: float, T: int) -> float:
    """(1 + Lγ²A)^T (inf when it overflows)."""
    with np.errstate(over="ignore"):
        return float(np.exp(T * math.log1p(L * step**2 * A)))


def _bound(inst: RunInstance, params: dict[str, Any], horizons: np.ndarray) -> np.ndarray:
    """(1 + Lγ²A)^T δ_0/(γT) + γLA·gap at each horizon T; with ``params["factor"] = "e"``
    (negative control only) e in place of (1 + Lγ²A)^T."""
    s = setting(inst)
    L, A = s.L_f * s.L_D, s.L_f * s.L_S_max
    gap = s.delta if inst.gap == "delta" else s.delta_prime
    factor_kind = params.get("factor", "exact")
    if factor_kind not in ("exact", "e"):
        raise ValueError(f"params['factor'] must be 'exact' or 'e', got {factor_kind!r}")
    delta0 = start_gap(inst)
    bound = []
    for T in horizons:
        step = nc_horizon_step(inst, params, int(T))
        factor = _growth(L, A, step, int(T)) if factor_kind == "exact" else math.e
        bound.append(factor * delta0 / (step * T) + step * L * A * gap)
    return np.array(bound)
