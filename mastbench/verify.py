"""Check a theorem's bound on an instance and say, with evidence, whether it holds.

The comparison rules (``shared/DESIGN.md``, "How a bound is checked"):

* exact, pointwise and deterministic methods: the bound holds at a point when
  ``measured <= bound * (1 + RTOL) + atol``, with ``atol`` a few ulps of the quantity's scale;
* Monte Carlo: a violation is declared only when the lower confidence bound of the estimate
  exceeds the bound (a statistically significant violation);
* an instance or parameter outside the theorem's assumptions gives ``not applicable`` and the
  reasons, never ``holds``; so does a measurement that raises
  :class:`~mastbench.theory.NotApplicable` (an assumption only the run can check, such as an
  inner optimization certified converged);
* checked as implemented: a theorem measured with the exact engine names the method it reads
  (``Theorem.implementation``); the method also runs through the driver on the instance, and
  Monte-Carlo means that disagree with the exact moments make the verdict ``violated`` ("the
  implementation disagrees with the exact dynamics at t = ...").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mastbench.theory import Evidence, Instance, NegativeControl, NotApplicable, Theorem

__all__ = [
    "RTOL",
    "STATUSES",
    "Verdict",
    "check_evidence",
    "check_params",
    "nontrivial_worst",
    "trivial_points",
    "verify",
    "verify_control",
]

#: Relative slack of exact comparisons (round-off only).
RTOL = 1e-9

#: Possible verdict statuses.
STATUSES = ("holds", "violated", "falsified", "not applicable")


@dataclass
class Verdict:
    """The outcome of checking one theorem on one instance.

    Attributes
    ----------
    theorem : str
        Theorem id.
    instance : str
        Instance name.
    status : str
        ``"holds"``, ``"violated"``, ``"falsified"`` (violated, by a theorem whose status is
        ``"falsified"``, or a counterexample found by ``mastbench falsify``) or
        ``"not applicable"``.
    worst_ratio : float
        max over points of measured / bound (``nan`` when not applicable).  A value ≤ 1 means
        the bound held everywhere.
    tightness : float
        measured / bound at the last point: how close the bound is where it matters most.
    t_worst : int or None
        Where the worst ratio occurred.
    nontrivial_ratio : float
        max of measured / bound over the points that do not hold with equality by
        construction (t = 0 of a rate bound, ``Evidence.trivial``): how tight the theorem is
        where it says something (``nan`` when no such point).
    t_nontrivial : int or None
        Where the nontrivial worst ratio occurred.
    reasons : list of str
        Violated assumptions (not applicable) or where the bound failed (violated).
    params : dict
        Parameters used (step size, iterations...).
    evidence : Evidence or None
        The measured quantity and the bound, point by point.
    method : str
        How the quantity was measured.
    """

    theorem: str
    instance: str
    status: str
    worst_ratio: float = math.nan
    tightness: float = math.nan
    t_worst: int | None = None
    reasons: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    evidence: Evidence | None = None
    method: str = ""
    nontrivial_ratio: float = math.nan
    t_nontrivial: int | None = None

    @property
    def holds(self) -> bool:
        """True when the bound held at every point."""
        return self.status == "holds"

    def summary(self) -> str:
        """One line: status, worst ratio and tightness."""
        text = f"{self.theorem} on {self.instance}: {self.status}"
        if self.status in ("holds", "violated", "falsified"):
            text += f" (worst ratio {self.worst_ratio:.3g}, tightness {self.tightness:.3g})"
        if self.reasons:
            text += " — " + "; ".join(self.reasons[:3])
        return text


def _ratios(measured: np.ndarray, bound: np.ndarray, atol: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = measured / bound
    # Where the bound is (numerically) zero, the ratio is 0 when the measurement is zero
    # within atol and infinite otherwise.
    tiny = np.abs(bound) <= max(atol, 0.0)
    ratio = np.where(tiny, np.where(measured <= bound + atol, 0.0, np.inf), ratio)
    return ratio


def check_evidence(evidence: Evidence, method: str) -> tuple[bool, np.ndarray, np.ndarray]:
    """Compare measured values with the bound point by point.

    Returns
    -------
    holds : bool
        True when no point violates the bound (significantly, for Monte Carlo).
    violated : numpy.ndarray of bool
        Which points violate.
    ratio : numpy.ndarray
        measured / bound at every point.
    """
    measured, bound = evidence.measured, evidence.bound
    if np.any(np.isnan(bound)):
        raise ValueError("the bound contains NaN")
    if np.any(np.isnan(measured)):
        raise ValueError("the measured quantity contains NaN")
    if method == "montecarlo":
        if evidence.lower is None:
            raise ValueError("Monte-Carlo evidence needs a lower confidence bound")
        violated = evidence.lower > bound + evidence.atol
    else:
        violated = measured > bound * (1 + RTOL) + evidence.atol
    return not bool(np.any(violated)), violated, _ratios(measured, bound, evidence.atol)


def _step_reasons(theorem: Theorem, instance: Instance, params: Mapping[str, Any]) -> list[str]:
    if theorem.step_size is None or "step" not in params:
        return []
    step = float(params["step"])
    high = float(theorem.step_size(instance))
    if not (0 < step <= high * (1 + RTOL)):
        return [f"step size {step:.6g} outside the theorem's range (0, {high:.6g}]"]
    return []


_INTEGRAL = ("iters", "steps", "epochs", "replicates", "stages", "seed", "batch_size")


def check_params(
    theorem: Theorem, defaults: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    """``params`` checked against the parameters ``theorem`` takes: the keys of its defaults
    and its ``optional_params``.

    Raises
    ------
    ValueError
        For a key the theorem does not take (the message lists those it takes).
    TypeError
        For an iteration count, a seed or a size (an integer default) that is not an integer.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping, got {type(params).__name__}")
    takes = set(defaults) | set(theorem.optional_params)
    unknown = sorted(set(params) - takes)
    if unknown:
        raise ValueError(
            f"{theorem.id} takes no parameter {', '.join(map(repr, unknown))}; "
            f"it takes {sorted(takes) or 'none'}"
        )
    for key, value in params.items():
        default = defaults.get(key)
        counts = key in _INTEGRAL or (isinstance(default, int) and not isinstance(default, bool))
        if counts and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
            raise TypeError(
                f"{theorem.id}: parameter {key!r} must be an integer, got {value!r} "
                f"({type(value).__name__})"
            )
    return dict(params)


#: Replicates, horizon and seed of the implementation check of exact theorems: each check costs
#: a few milliseconds to a few tens of milliseconds on the built-in instances.
IMPLEMENTATION_REPLICATES = 1000
IMPLEMENTATION_ITERS = 10
IMPLEMENTATION_SEED = 2311_16086


def implementation_agreement(
    theorem: Theorem, instance: Instance, params: Mapping[str, Any]
) -> Any:
    """Run the method an exact theorem reads (``theorem.implementation``) as implemented and
    compare it with its exact moments (:func:`mastbench.agreement.agreement`: R =
    :data:`IMPLEMENTATION_REPLICATES` replicates, t = 1..:data:`IMPLEMENTATION_ITERS`,
    intervals simultaneous at level 1 − 10⁻⁶)."""
    from mastbench.agreement import agreement
    from mastbench.backend import rng

    method, problem, x0 = theorem.implementation(instance, params)
    return agreement(
        method,
        problem,
        x0,
        IMPLEMENTATION_ITERS,
        rng=rng(IMPLEMENTATION_SEED),
        replicates=IMPLEMENTATION_REPLICATES,
    )


def verify(
    theorem: Theorem,
    instance: Instance,
    params: Mapping[str, Any] | None = None,
    *,
    check_assumptions: bool = True,
    bound_scale: float = 1.0,
    evidence: Evidence | None = None,
) -> Verdict:
    """Check ``theorem`` on ``instance``.

    Parameters
    ----------
    theorem : Theorem
        The theorem.
    instance : Instance
        The instance (from ``theorem.instances`` or a user's own).
    params : mapping, optional
        Overrides of ``theorem.default_params(instance)`` (step size, iterations...).
    check_assumptions : bool
        When False, measure even outside the assumptions (negative controls only).
    bound_scale : float
        Multiply the bound by this factor (negative controls only).
    evidence : Evidence, optional
        The evidence of an earlier check of the same theorem, instance and parameters, reused
        instead of evaluating again (a bound-scaled control re-checks its plain run).

    Returns
    -------
    Verdict
    """
    defaults = theorem.default_params(instance)
    merged = {**defaults, **check_params(theorem, defaults, params or {})}
    return _verdict(theorem, instance, merged, check_assumptions, bound_scale, evidence)


def _verdict(
    theorem: Theorem,
    instance: Instance,
    merged: dict[str, Any],
    check_assumptions: bool,
    bound_scale: float,
    evidence: Evidence | None,
) -> Verdict:
    if check_assumptions:
        reasons = list(theorem.assumptions(instance)) + _step_reasons(theorem, instance, merged)
        if reasons:
            return Verdict(
                theorem.id,
                instance.name,
                "not applicable",
                reasons=reasons,
                params=merged,
                method=theorem.method,
            )
    if evidence is None:
        try:
            evidence = theorem.evidence(instance, merged)
        except NotApplicable as err:
            return Verdict(
                theorem.id,
                instance.name,
                "not applicable",
                reasons=err.reasons,
                params=merged,
                method=theorem.method,
            )
    if bound_scale != 1.0:
        evidence = evidence.scaled(bound_scale)
    holds, violated, ratio = check_evidence(evidence, theorem.method)
    worst = int(np.argmax(ratio))
    nontrivial, t_nontrivial = nontrivial_worst(evidence, ratio, theorem.method)
    reasons = []
    status = "holds" if holds else "violated"
    if not holds:
        first = int(np.flatnonzero(violated)[0])
        reasons.append(
            f"at t={evidence.t[first]}: measured {evidence.measured[first]:.6g} > "
            f"bound {evidence.bound[first]:.6g}" + _check_name(evidence, first)
        )
        if theorem.status == "falsified" and check_assumptions and bound_scale == 1.0:
            status = "falsified"
            reasons.append(
                f"the statement is known to be false (counterexample: {theorem.counterexample!r})"
            )
    if check_assumptions and bound_scale == 1.0 and theorem.implementation is not None:
        agreement = implementation_agreement(theorem, instance, merged)
        if not agreement.holds:
            status = "violated"
            reasons.insert(0, agreement.reason)
    return Verdict(
        theorem=theorem.id,
        instance=instance.name,
        status=status,
        worst_ratio=float(ratio[worst]),
        tightness=float(ratio[-1]),
        t_worst=int(evidence.t[worst]),
        reasons=reasons,
        params=merged,
        evidence=evidence,
        method=theorem.method,
        nontrivial_ratio=nontrivial,
        t_nontrivial=t_nontrivial,
    )


def _check_name(evidence: Evidence, index: int) -> str:
    """`` (check: NAME)`` when ``evidence.extra["checks"]`` (or ``["rows"]``) names each point."""
    for key in ("checks", "rows"):
        names = evidence.extra.get(key)
        if isinstance(names, list | tuple) and len(names) == len(evidence.t):
            return f" (check: {names[index]})"
    return ""


def trivial_points(evidence: Evidence, method: str) -> np.ndarray:
    """Which points of ``evidence`` hold with equality by construction (see
    :attr:`Evidence.trivial`): by default t = 0 of a statement over iterations."""
    if evidence.trivial is not None:
        return evidence.trivial
    if method == "pointwise":
        return np.zeros(evidence.t.shape, dtype=bool)
    return evidence.t == 0


def nontrivial_worst(
    evidence: Evidence, ratio: np.ndarray, method: str
) -> tuple[float, int | None]:
    """The worst ratio over the points that are not trivial, and where it occurs."""
    keep = ~trivial_points(evidence, method)
    if not np.any(keep):
        return math.nan, None
    index = np.flatnonzero(keep)[int(np.argmax(ratio[keep]))]
    return float(ratio[index]), int(evidence.t[index])


def verify_control(
    theorem: Theorem, instance: Instance, control: NegativeControl, plain: Verdict | None = None
) -> Verdict:
    """Run a negative control: the verdict must be ``violated`` for the check to be able to fail.

    ``plain`` is the verdict of the plain check of ``theorem`` on ``instance``: a control that
    only scales the bound re-checks its evidence instead of running again.
    """
    target = control.instance(instance) if control.instance is not None else instance
    params = theorem.default_params(target)
    if control.params is not None:
        params = control.params(target, dict(params))
    reuse = (
        plain is not None
        and control.params is None
        and control.instance is None
        and plain.theorem == theorem.id
        and plain.instance == instance.name
        and plain.evidence is not None
    )
    verdict = _verdict(
        theorem,
        target,
        params,
        False,
        1.0 if control.bound_scale is None else control.bound_scale,
        plain.evidence if reuse else None,
    )
    verdict.instance = f"{target.name} [control: {control.name}]"
    return verdict
