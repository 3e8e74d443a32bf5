"""PEPit's worst case beside the coded bound and the measured value (``mastbench pepit``).

For each theorem whose method PEPit models (:mod:`mastbench.pepit_worst_case`), every
applicable built-in instance is run as :func:`mastbench.verify` runs it (the theorem's own
evidence, default parameters) and read at N steps; PEPit's worst case over the function class
of the theorem, with the instance's constants, goes next to it:

``fw.jaggi-primal``, ``fw.jaggi-dual``
    Open-loop Frank-Wolfe (instances with line search or a δ-approximate oracle are not
    modelled); L = the problem's smoothness constant, D = the set's Euclidean diameter.  The
    coded bound uses the curvature constant C_f of the instance, at most L·D²; the class
    bound is the same formula with C_f = L·D², Jaggi's bound for the whole class.
``ramda.pg-solver``
    Proximal gradient with step 1/L on each replicate's subproblem (L = max p, μ = min p,
    R = ‖Z⁰ − Z*‖); one row per instance and N, for the replicate closest to its worst case.
``mast.sc``
    DSGD with the identity sketch is gradient descent with step 1/L: the theorem's
    instances with S ~ Bernoulli/Rand-K replaced by S = I (f_D = f, Δ = 0), measured
    ‖x^N − x*‖² against the class of L-smooth μ-strongly convex f.
``mast.convex``
    The instances with the identity sketch: gradient descent with step 1/(2L), measured
    (1/N)Σ_{t<N}(f(x^t) − f*) against the class of L-smooth convex f (μ = 0, the theorem's
    hypothesis, even where the instance is strongly convex).

The hard check: a row holds when measured ≤ worst case + tolerance, the tolerance being the
solver's (:attr:`~mastbench.pepit_worst_case.WorstCase.tolerance`) plus the theorem's own
``atol`` (the certificate of f*).  Every instance belongs to the class, so a measured value
above the worst case is a bug in the algorithm, the measurement or the constants.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mastbench import pepit_worst_case as pep
from mastbench.report_tables import Table, format_cell
from mastbench.validation import check_int

__all__ = ["COLUMNS", "DEFAULT_ITERATIONS", "MODELLED", "PepitRow", "pepit_rows", "pepit_table"]

#: Steps N at which every row is read by default.
DEFAULT_ITERATIONS = (1, 10)

#: Columns of :func:`pepit_table`.
COLUMNS = (
    "theorem",
    "instance; class constants",
    "N",
    "measured",
    "bound",
    "class bound",
    "PEPit worst case",
    "class bound / worst",
    "measured / worst",
)


@dataclass(frozen=True)
class PepitRow:
    """One theorem × instance × N: measured, the coded bound and PEPit's worst case.

    Attributes
    ----------
    theorem, instance : str
        Theorem id and instance name.
    N : int
        Steps.
    constants : str
        The class constants the worst case is computed for.
    measured, bound, class_bound : float
        The theorem's measured value and coded bound at N, and the bound with the constants
        of the class (equal to ``bound`` except for Frank-Wolfe: C_f → L·D²).
    worst : WorstCase
        PEPit's worst case over the class.
    atol : float
        The theorem's tolerance on the measured value.
    """

    theorem: str
    instance: str
    N: int
    constants: str
    measured: float
    bound: float
    class_bound: float
    worst: pep.WorstCase
    atol: float

    @property
    def holds(self) -> bool:
        """measured ≤ worst case + the solver's tolerance + the theorem's atol."""
        return bool(self.measured <= self.worst.value + self.worst.tolerance + self.atol)

    @property
    def looseness(self) -> float:
        """class bound / worst case: how far the paper's bound is above the exact one (NaN
        when the worst case is not resolved)."""
        return self.class_bound / self.worst.value if self.worst.resolved else math.nan

    @property
    def tightness(self) -> float:
        """measured / worst case: how close the instance comes to the worst function (NaN
        when the worst case is not resolved)."""
        return self.measured / self.worst.value if self.worst.resolved else math.nan

    def cells(self) -> list[Any]:
        """The row as the report shows it, in the order of :data:`COLUMNS`."""
        return [
            self.theorem,
            f"{self.instance}; {self.constants}",
            self.N,
            self.measured,
            self.bound,
            self.class_bound,
            self.worst.value,
            self.looseness,
            self.tightness,
        ]


def _at(evidence: Any, N: int) -> tuple[float, float]:
    """(measured, bound) of a theorem's ``evidence`` at its one point t = N."""
    hit = np.flatnonzero(evidence.t == N)
    if hit.size != 1:
        raise ValueError(f"the evidence has {hit.size} points at t = {N}, expected 1")
    return float(evidence.measured[hit[0]]), float(evidence.bound[hit[0]])


def _evidence(thm: Any, instance: Any) -> Any:
    return thm.evidence(instance, thm.default_params(instance))


def _fw_rows(thm: Any, quick: bool, iterations: Sequence[int]) -> Iterable[PepitRow]:
    dual = thm.id == "fw.jaggi-dual"
    for inst in thm.instances(quick):
        params = thm.default_params(inst)
        if params.get("rule") != "open-loop" or params.get("delta", 0.0) != 0.0:
            continue
        L, D = float(inst.problem.L), float(inst.constraint.diameter_in(inst.problem.d))
        evidence = _evidence(thm, inst)
        for N in iterations:
            if dual and N < 2:
                continue
            measured, bound = _at(evidence, N)
            worst = (pep.frank_wolfe_dual if dual else pep.frank_wolfe_primal)(L, D, N)
            class_bound = (6.75 if dual else 2.0) * L * D**2 / (N + 2)
            constants = f"L={L:.3g}, D={D:.3g}"
            yield PepitRow(
                thm.id, inst.name, N, constants, measured, bound, class_bound, worst, evidence.atol
            )


def _pg_rows(thm: Any, quick: bool, iterations: Sequence[int]) -> Iterable[PepitRow]:
    from mastbench.algorithms import _subproblem as sub

    for inst in thm.instances(quick):
        params = thm.default_params(inst)
        J, replicates = int(params["iters"]), inst.V.shape[0]
        evidence = thm.evidence(inst, params)
        # The first part of the stacked evidence is rate (11): j = 1..J, replicates inner.
        gaps = evidence.measured[: J * replicates].reshape(J, replicates)
        bounds = evidence.bound[: J * replicates].reshape(J, replicates)
        Z_star = np.asarray(sub.solve_exact(inst.psi, inst.a, inst.V, inst.P, inst.C))
        R0 = np.linalg.norm(inst.Z0 - Z_star, axis=1)
        L, mu = inst.P.max(axis=1), inst.P.min(axis=1)
        for N in iterations:
            if N > J:
                raise ValueError(f"the evidence of {thm.id} stops at j = {J}, got N = {N}")
            rows = [
                PepitRow(
                    thm.id,
                    f"{inst.name} [replicate {r}]",
                    N,
                    f"L={L[r]:.3g}, μ={mu[r]:.3g}, R={R0[r]:.3g}",
                    float(gaps[N - 1, r]),
                    float(bounds[N - 1, r]),
                    float(bounds[N - 1, r]),
                    pep.proximal_gradient(float(L[r]), float(mu[r]), float(R0[r]), N),
                    evidence.atol,
                )
                for r in range(replicates)
            ]
            failed = [row for row in rows if not row.holds]
            resolved = [row for row in rows if row.worst.resolved]
            yield from failed or [
                max(resolved or rows, key=lambda row: row.measured / row.worst.value)
            ]


def _gd_rows(
    thm: Any, inst: Any, iterations: Sequence[int], *, mu: float, metric: str
) -> Iterable[PepitRow]:
    """Gradient descent (DSGD with S = I) at the theorem's step, against the class (L, μ)."""
    problem = inst.problem
    L = float(problem.L)
    R = float(np.linalg.norm(inst.x0 - problem.x_star_host))
    step = float(thm.default_params(inst)["step"])
    evidence = _evidence(thm, inst)
    constants = f"L={L:.3g}, μ={mu:.3g}, R={R:.3g}, γL={step * L:.3g}"
    for N in iterations:
        measured, bound = _at(evidence, N)
        worst = pep.gradient_descent(L, mu, R, N, step=step, metric=metric)
        yield PepitRow(
            thm.id, inst.name, N, constants, measured, bound, bound, worst, evidence.atol
        )


def _sc_rows(thm: Any, quick: bool, iterations: Sequence[int]) -> Iterable[PepitRow]:
    from mastbench.sketches import Identity

    seen = set()
    for inst in thm.instances(quick):
        problem = inst.problem
        key = (id(problem), inst.x0.tobytes())
        if key in seen or not problem.mu < problem.L:
            continue
        seen.add(key)
        gd = inst.replace(name=f"{inst.name} with S = I", sketch=Identity(problem.d))
        if thm.assumptions(gd):
            continue
        yield from _gd_rows(thm, gd, iterations, mu=float(problem.mu), metric="distance")


def _convex_rows(thm: Any, quick: bool, iterations: Sequence[int]) -> Iterable[PepitRow]:
    from mastbench.sketches import Identity

    for inst in thm.instances(quick):
        if isinstance(inst.sketch, Identity) and not thm.assumptions(inst):
            yield from _gd_rows(thm, inst, iterations, mu=0.0, metric="average value")


#: Theorem id → the rows of its PEPit comparison (theorem, quick, iterations).
MODELLED: dict[str, Callable[[Any, bool, Sequence[int]], Iterable[PepitRow]]] = {
    "fw.jaggi-primal": _fw_rows,
    "fw.jaggi-dual": _fw_rows,
    "ramda.pg-solver": _pg_rows,
    "mast.sc": _sc_rows,
    "mast.convex": _convex_rows,
}


def pepit_rows(
    theorems: Sequence[Any] | None = None,
    *,
    quick: bool = True,
    iterations: Sequence[int] = DEFAULT_ITERATIONS,
) -> list[PepitRow]:
    """The PEPit comparison of every modelled theorem among ``theorems``.

    Parameters
    ----------
    theorems : sequence of Theorem or theorem ids, optional
        Theorems to consider (default: every registered one); those not in :data:`MODELLED`
        are left out.
    quick : bool
        The theorems' quick instance lists.
    iterations : sequence of int
        The steps N ≥ 1 of each row (keep them small: the SDP grows as N²).

    Raises
    ------
    ImportError
        Without the ``pepit`` extra.
    """
    from mastbench import theory

    pep.require()
    iterations = [check_int("iterations", N, low=1) for N in iterations]
    if theorems is None:
        theorems = [theory.get(tid) for tid in MODELLED]
    selected = [theory.get(t) if isinstance(t, str) else t for t in theorems]
    rows: list[PepitRow] = []
    for thm in selected:
        if thm.id in MODELLED:
            rows.extend(MODELLED[thm.id](thm, quick, iterations))
    return rows


def pepit_table(rows: Sequence[PepitRow]) -> Table:
    """The report's table of ``rows``, with the solver and the tolerance in the notes."""
    solvers = sorted({row.worst.solver for row in rows}) or [pep.SOLVER]
    notes = (
        "PEPit worst case: the exact worst value of the measured quantity after N steps over "
        "the function class of the theorem with the instance's constants (dual value of the "
        f"PEP, SDP solved by {', '.join(solvers)} through cvxpy). Class bound: the coded "
        "bound with the class constants (Frank-Wolfe: C_f replaced by L·D²). A row holds "
        "when measured ≤ worst case + tolerance + the theorem's atol, with tolerance = "
        f"|dual − primal| + {pep.RTOL:g}·worst case + {pep.ATOL['optimal']:g}·scale "
        f"({pep.ATOL['optimal_inaccurate']:g}·scale for a solve that stalled, "
        "'optimal_inaccurate'), scale = L·D², L·R², or R² for distances. Ratios are '—' "
        "where the worst case is within ten tolerances of zero."
    )
    above = [f"{row.theorem} on {row.instance} at N = {row.N}" for row in rows if not row.holds]
    notes += (
        f" Rows above the worst case: {'; '.join(above)}."
        if above
        else f" Every row holds ({len(rows)} rows)."
    )
    stalled = sum(row.worst.status != "optimal" for row in rows)
    if stalled:
        notes += f" {stalled} of the {len(rows)} solves stalled."
    return Table(
        "PEPit worst case",
        list(COLUMNS),
        [[format_cell(cell) for cell in row.cells()] for row in rows],
        notes,
    )
