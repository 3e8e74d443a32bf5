"""MAST lemmas: sketch constants, smoothness of f_D, T-GAP, key lemma.

Each lemma is checked exactly: the sketch support is enumerated, the MAST objective
f_D(x) = E_S f(v + S(x − v)) is evaluated in closed form (quadratics) or by enumeration
(logistic regression), minimizers come from closed forms or Newton to ‖∇‖ ≤ 1e-12·scale
(:class:`problems.MASTObjective`).  A statement is a list of rows ``measured ≤ bound``;
equalities are two rows.  ``Measurement.extra["rows"]`` names every row.

Reference: Demidovich, Malinovsky, Shulgin, Richtárik, "MAST: Model-Agnostic Sparsified
Training", arXiv 2311.16086 (ICLR 2025); the mathematics is ``shared/theory/mast.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems import LeastSquares, Logistic, MASTObjective
from mastbench.problems.quadratic import Quadratic
from mastbench.theory._core import Measurement, NegativeControl
from mastbench.theory._registry import theorem
from mastbench.theory.mast.instances import ObjectiveInstance, SketchInstance
from mastbench.theory.mast.strategies import mast_instances

from mastbench.backend import Generator, rng, to_numpy
from mastbench.sketches import (
    DEFAULT_MAX_OUTCOMES,
    Bernoulli,
    Discrete,
    Identity,
    Permutation,
    RandK,
    Sketch,
)

__all__ = ["ScaledSketch", "reference_constants"]

PAPER = (
    "Demidovich, Malinovsky, Shulgin, Richtárik, 'MAST: Model-Agnostic Sparsified Training', "
    "arXiv 2311.16086 (ICLR 2025)"
)


# -- helpers ---------------------------------------------------------------------------------
class ScaledSketch(Sketch):
    """c·S with S ~ ``base``: E[cS] = c·I violates Assumption 1 for c ≠ 1 (negative controls).

    Parameters
    ----------
    base : Sketch
        A sketch with a finite support (a Permutation acts through its marginal).
    factor : float
        The scale c.
    """

    def __init__(self, base: Sketch, factor: float):
        self.base = getattr(base, "marginal", base)
        self.factor = float(factor)
        self.d = self.base.d
        self.diagonal = self.base.diagonal

    def sample(self, rng: Generator, size: int, dtype: Any = None) -> Any:
        return self.factor * self.base.sample(rng, size, dtype=dtype)

    def support(self, max_outcomes: int = DEFAULT_MAX_OUTCOMES) -> tuple[np.ndarray, np.ndarray]:
        outcomes, probs = self.base.support(max_outcomes)
        return self.factor * outcomes, probs

    def __repr__(self) -> str:
        return f"ScaledSketch({self.base!r}, factor={self.factor:g})"


def reference_constants(sketch: Any) -> dict[str, Any] | None:
    """E[SᵀS], L_D, μ_D, L_S^max from the table of ``mast.md`` §1.2 (None if not tabulated)."""
    d = sketch.d
    if isinstance(sketch, Bernoulli):
        p = sketch.p
        return {
            "gram": np.diag(1 / p),
            "L_D": 1 / p.min(),
            "mu_D": 1 / p.max(),
            "L_S_max": 1 / p.min() ** 2,
        }
    if isinstance(sketch, RandK):
        r = d / sketch.k
        return {"gram": r * np.eye(d), "L_D": r, "mu_D": r, "L_S_max": r**2}
    if isinstance(sketch, Permutation):
        n = sketch.n
        return {"gram": n * np.eye(d), "L_D": n, "mu_D": n, "L_S_max": n**2}
    if isinstance(sketch, Identity):
        return {"gram": np.eye(d), "L_D": 1.0, "mu_D": 1.0, "L_S_max": 1.0}
    return None


def _support_matrices(sketch: Any) -> tuple[np.ndarray, np.ndarray]:
    """Single-sketch support as (N, d, d) matrices (a Permutation: its clients, mixed)."""
    outcomes, probs = sketch.support()
    if isinstance(sketch, Permutation):  # joint (N, n, d): every client has the marginal law
        n = outcomes.shape[1]
        outcomes, probs = outcomes.reshape(-1, sketch.d), np.repeat(probs / n, n)
    if outcomes.ndim == 2:
        outcomes = np.einsum("ni,ij->nij", outcomes, np.eye(sketch.d))
    return outcomes, probs


def _support_violation(sketch: Any) -> list[str]:
    try:
        _support_matrices(sketch)
    except ValueError as exc:
        return [f"the sketch support must be finite and enumerable ({exc})"]
    return []


def _assumption_1(sketch: Any) -> list[str]:
    mats, probs = _support_matrices(sketch)
    error = float(np.max(np.abs(np.einsum("n,nij->ij", probs, mats) - np.eye(sketch.d))))
    if error <= 1e-10 * max(1.0, float(np.max(np.abs(mats)))):
        return []
    return [f"Assumption 1 (E S = I) fails: max |E S − I| = {error:.3g}"]


class _Rows:
    """Named rows measured ≤ bound: the measurement of a lemma and its bound, side by side."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.measured: list[float] = []
        self.bound: list[float] = []
        self.atol = 0.0
        self.extra: dict[str, Any] = {}

    def add(self, name: str, measured: Any, bound: Any) -> None:
        measured, bound = np.broadcast_arrays(np.asarray(measured, float), np.asarray(bound, float))
        for k, (m, b) in enumerate(zip(measured.ravel(), bound.ravel(), strict=True)):
            self.names.append(name if measured.size == 1 else f"{name} [{k}]")
            self.measured.append(float(m))
            self.bound.append(float(b))

    def equal(self, name: str, value: Any, reference: Any) -> None:
        """value = reference as two rows, both sides shifted by K = max(|value|, |reference|)
        so that they are nonnegative (the relative slack and bound scaling then act as for
        any upper bound)."""
        value, reference = np.asarray(value, float), np.asarray(reference, float)
        offset = np.maximum(np.abs(value), np.abs(reference))
        self.add(f"{name} (≤)", value + offset, reference + offset)
        self.add(f"{name} (≥)", reference + offset, value + offset)

    def finish(self, atol: float, **extra: Any) -> _Rows:
        """The rows with the absolute tolerance of the comparison and what else to report."""
        self.atol, self.extra = atol, extra
        return self

    def measurement(self) -> Measurement:
        return Measurement(
            np.arange(len(self.names)),
            np.array(self.measured),
            atol=self.atol,
            extra={"rows": list(self.names), **self.extra},
        )

    def bounds(self) -> np.ndarray:
        return np.array(self.bound)


def _objective(instance: ObjectiveInstance) -> MASTObjective:
    return MASTObjective(instance.problem, instance.sketch, instance.shift)


def _points(instance: ObjectiveInstance, F: MASTObjective) -> np.ndarray:
    """The instance's points, plus v, x* and x_D* (where the bounds are tightest)."""
    extra = [F.shift_host, F.problem_x_star_host, F.x_star_host]
    return np.vstack([np.asarray(instance.points, float), *extra])


def _scale(F: MASTObjective, points: np.ndarray) -> float:
    values = np.abs(to_numpy(F.problem.value(F.asarray(points))))
    return max(1.0, float(values.max()), abs(F.problem_f_star))


def _random_points(d: int, seed: int, count: int = 6, radius: float = 2.0) -> np.ndarray:
    return radius * np.random.default_rng(seed).normal(size=(count, d))


# -- instances -------------------------------------------------------------------------------
def _quadratic_instance(name: str, d: int, sketch: Any, seed: int, *, kappa: float = 20.0):
    import mastbench.problems.random as random_problems

    problem = random_problems.quadratic(d, kappa, rng(seed))
    shift = np.random.default_rng(seed + 1).normal(size=d)
    return ObjectiveInstance(
        name, problem=problem, sketch=sketch, shift=shift, points=_random_points(d, seed + 2)
    )


def _logistic_instance(name: str, d: int, sketch: Any, seed: int, *, l2: float = 0.05):
    import mastbench.problems.random as random_problems

    problem = random_problems.logistic(40, d, rng(seed), l2=l2)
    shift = np.random.default_rng(seed + 1).normal(size=d)
    return ObjectiveInstance(
        name, problem=problem, sketch=sketch, shift=shift, points=_random_points(d, seed + 2)
    )


def _dense_discrete(d: int, seed: int) -> Discrete:
    B = np.random.default_rng(seed).normal(size=(d, d))
    mats = np.stack([np.eye(d) + B, np.eye(d) - B, np.eye(d)])
    return Discrete(mats, np.array([0.3, 0.3, 0.4]))


def _at_minimizer(instance: ObjectiveInstance, name: str) -> ObjectiveInstance:
    """The instance with the shift at the minimizer of f (interpolation: Δ = 0)."""
    x_star = _objective(instance).problem_x_star_host
    return instance.replace(name, shift=x_star, interpolation=True)


def _duplicated_features(t: float = 1.5) -> ObjectiveInstance:
    """mast.md §2.3(g): X = [a a], y = t·a, v = 0, Rand-1 in d = 2: Δ = 0 with v ≠ x*."""
    a = np.array([1.0, -2.0, 0.5, 1.5])
    problem = LeastSquares(np.stack([a, a], axis=1), t * a)
    return ObjectiveInstance(
        "duplicated-feature LS, Rand-1",
        problem=problem,
        sketch=RandK(2, 1),
        shift=np.zeros(2),
        points=_random_points(2, 3),
        interpolation=True,
    )


def _a5a_instance(features: int = 4) -> list[ObjectiveInstance]:
    """a5a restricted to its first informative features (when the data set is available)."""
    from mastbench.problems import datasets

    try:
        data = datasets.load("a5a")
    except FileNotFoundError:
        return []
    X = data.X[:, np.argsort(-np.count_nonzero(data.X, axis=0))[:features]]
    problem = Logistic(X, data.y, l2=1e-2)
    return [
        ObjectiveInstance(
            f"a5a[:, {features} features] logistic, Bernoulli(0.5)",
            problem=problem,
            sketch=Bernoulli(0.5, d=features),
            shift=np.zeros(features),
            points=_random_points(features, 4),
        )
    ]


_P4 = np.array([0.3, 0.5, 0.7, 0.9])


def _objective_instances(quick: bool) -> list[ObjectiveInstance]:
    first = _quadratic_instance("quadratic d=4, Bernoulli(.3,.5,.7,.9)", 4, Bernoulli(_P4), 0)
    out = [
        first,
        _quadratic_instance("quadratic d=5, Rand-2", 5, RandK(5, 2), 10),
        _quadratic_instance("quadratic d=4, Perm-2", 4, Permutation(4, 2), 20),
        _quadratic_instance("quadratic d=3, dense discrete", 3, _dense_discrete(3, 1), 30),
        _logistic_instance("logistic d=4, Bernoulli(.3,.5,.7,.9)", 4, Bernoulli(_P4), 40),
        _logistic_instance("logistic d=4, Rand-2", 4, RandK(4, 2), 50),
    ]
    if not quick:
        out += [
            _quadratic_instance("quadratic d=6, Rand-3, κ=1e3", 6, RandK(6, 3), 60, kappa=1e3),
            _quadratic_instance("quadratic d=6, Bernoulli(0.2)", 6, Bernoulli(0.2, d=6), 70),
            _logistic_instance("logistic d=5, Perm-5", 5, Permutation(5, 5), 80),
            _logistic_instance("logistic d=3, dense discrete", 3, _dense_discrete(3, 2), 90),
            *_a5a_instance(),
        ]
    return out


# -- mast.sketch-constants -------------------------------------------------------------------
def _sketch_instances(quick: bool) -> list[SketchInstance]:
    sketches = [Bernoulli(_P4), RandK(5, 2), Permutation(4, 2), Identity(3), _dense_discrete(3, 0)]
    if not quick:
        sketches += [
            Bernoulli(np.array([0.1, 0.25, 0.5, 0.75, 1.0, 0.6])),
            RandK(6, 3),
            Permutation(6, 3),
            Permutation(4, 4),
            RandK(7, 1),
        ]
    return [SketchInstance(repr(s), sketch=s) for s in sketches]


def _sketch_strategy() -> Any:
    from mastbench.strategies import sketches

    return sketches(max_d=4).map(lambda s: SketchInstance(repr(s), sketch=s))


def _table_with_L_S_max_as_L_D(instance: SketchInstance, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "wrong_L_S_max": True}


@theorem(
    id="mast.sketch-constants",
    paper=PAPER,
    label="Assumption 1 and the sketch constants (§1.1-1.2)",
    tag="D",
    algorithm=None,
    measure="enumerated moments vs closed forms",
    method="exact",
    rate="none",
    instances=_sketch_instances,
    assumptions=lambda inst: _support_violation(inst.sketch),
    default_params=lambda inst: {"wrong_L_S_max": False},
    bound=lambda inst, params, t: _sketch_constants_rows(inst, params).bounds(),
    controls=(
        NegativeControl("bound x 0.5", bound_scale=0.5, expect="measured"),
        NegativeControl(
            "L_S^max replaced by L_D",
            params=_table_with_L_S_max_as_L_D,
            expect="L_S^max vs closed form",
        ),
        NegativeControl(
            "E S = I/2",
            instance=lambda inst: inst.replace(sketch=ScaledSketch(inst.sketch, 0.5)),
            expect="E S = I",
        ),
    ),
    strategy=_sketch_strategy,
)
def sketch_constants(instance: SketchInstance, params: dict[str, Any]) -> Measurement:
    """Sketch constants of MAST: Assumption 1, E[SᵀS], L_D, μ_D, L_S^max.

    Statement.  E S = I; E[SᵀS] ⪰ I so L_D ≥ μ_D ≥ 1; the closed forms E[SᵀS], L_D = λ_max(E
    SᵀS), μ_D = λ_min(E SᵀS), L_S^max = sup λ_max(SᵀS) equal the enumeration of the support and
    the table of mast.md §1.2; for Perm-q, (1/n)Σ_i S_i = I for every joint outcome.

    In full ([D], ``mast.md`` §1.1–1.2; the L_S^max values are reported by reviews [R])::

        E_{S~D}[S] = I,   E[SᵀS] − I = E[(S − I)ᵀ(S − I)] ⪰ 0,   so μ_D ≥ 1,
        L_D = λ_max(E SᵀS),  μ_D = λ_min(E SᵀS),  L_S^max = max_{S ∈ supp D} λ_max(SᵀS),

    with the table: Bernoulli(p) Diag(1/p), 1/p_min, 1/p_max, 1/p_min²; Rand-K (d/K)I, d/K,
    d/K, (d/K)²; Perm-q (n blocks) nI, n, n, n²; identity I, 1, 1, 1.  For Perm-q every joint
    outcome satisfies (1/n)Σ_i S_i = I ("perfect reconstruction", IST arXiv 2306.16484).

    Assumptions: a finite, enumerable support.

    Check (exact): every moment is enumerated from ``support()`` here and compared, as equalities
    (two rows each) with the sketch's own closed forms and with the table where it applies;
    1 ≤ μ_D as a row.  Negative controls: bound × 0.5; L_S^max replaced by L_D (a common
    mistake: the step-size constant is the worst sketch, not the mean); the sketch scaled to
    E S = I/2.

    Reference: arXiv 2311.16086, Assumption 1 and Examples 1–2; ``shared/theory/mast.md`` §1.
    """
    return _sketch_constants_rows(instance, params).measurement()


def _sketch_constants_rows(instance: SketchInstance, params: dict[str, Any]) -> _Rows:
    """The rows of :func:`sketch_constants`: each measured value beside its bound."""
    sketch = instance.sketch
    mats, probs = _support_matrices(sketch)
    d = sketch.d
    mean = np.einsum("n,nij->ij", probs, mats)
    gram = np.einsum("n,nki,nkj->ij", probs, mats, mats)
    eig = np.linalg.eigvalsh(gram)
    L_S_max = float(np.max(np.linalg.eigvalsh(np.einsum("nki,nkj->nij", mats, mats))))
    rows = _Rows()
    rows.equal("E S = I", mean, np.eye(d))
    rows.add("1 ≤ μ_D", 1.0, eig[0])
    own = {
        "gram": sketch.expected_gram(),
        "L_D": sketch.L_D,
        "mu_D": sketch.mu_D,
        "L_S_max": sketch.L_S_max,
    }
    tables = [("closed form", own)]
    table = reference_constants(getattr(sketch, "base", sketch))
    if table is not None:
        tables.append(("mast.md §1.2", table))
    for label, values in tables:
        rows.equal(f"E[SᵀS] vs {label}", gram, values["gram"])
        rows.equal(f"L_D vs {label}", eig[-1], values["L_D"])
        rows.equal(f"μ_D vs {label}", eig[0], values["mu_D"])
        claimed = values["L_D"] if params.get("wrong_L_S_max") else values["L_S_max"]
        rows.equal(f"L_S^max vs {label}", L_S_max, claimed)
    if isinstance(sketch, Permutation):
        joint, _ = sketch.support()
        rows.equal("(1/n)Σ_i S_i = I", joint.mean(axis=1), np.ones_like(joint[:, 0, :]))
    atol = 1e-12 * max(1.0, L_S_max)
    return rows.finish(atol, L_D=eig[-1], mu_D=eig[0], L_S_max=L_S_max)


# -- mast.smoothness -------------------------------------------------------------------------
def _objective_strategy(*, logistic: bool | None = None) -> Any:
    return mast_instances(logistic=logistic)


def _L_D_is_one(instance: ObjectiveInstance, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "L_D": 1.0}


@theorem(
    id="mast.smoothness",
    paper=PAPER,
    label="Lemma (smoothness, convexity, strong convexity of f_D)",
    tag="R/D",
    algorithm=None,
    measure="eigenvalues of ∇²f_D (enumerated) and of SᵀAS",
    method="exact",
    rate="none",
    instances=_objective_instances,
    assumptions=lambda inst: _support_violation(inst.sketch),
    default_params=lambda inst: {"L_D": float(inst.sketch.L_D), "mu_D": float(inst.sketch.mu_D)},
    bound=lambda inst, params, t: _smoothness_rows(inst, params).bounds(),
    controls=(
        NegativeControl("bound x 0.5", bound_scale=0.5, expect="measured"),
        NegativeControl("L_D replaced by 1", params=_L_D_is_one, expect="L(f_D) ≤ L_f L_D"),
    ),
    strategy=_objective_strategy,
)
def smoothness(instance: ObjectiveInstance, params: dict[str, Any]) -> Measurement:
    """Smoothness and strong convexity of the MAST objective f_D.

    Statement.  If f is convex, L_f-smooth and μ_f-strongly convex, then f_D is convex and μ_f
    μ_D I ⪯ ∇²f_D(x) ⪯ L_f L_D I; each f_S is L_f λ_max(SᵀS)-smooth; for quadratics ∇²f_D =
    E[SᵀAS] = Ā exactly.

    In full ([R]: the lemma exists; [D]: proofs in ``mast.md`` §2).  If f is convex, L_f-smooth
    and μ_f-strongly convex, for every x::

        0 ⪯ μ_f μ_D I ⪯ ∇²f_D(x) = E[Sᵀ∇²f(v + S(x − v))S] ⪯ L_f L_D I,
        ∇²f_S(x) = Sᵀ∇²f(·)S ⪯ L_f λ_max(SᵀS) I ⪯ L_f L_S^max I,

    and for a quadratic f (Hessian A) ∇²f_D = Ā = E[SᵀAS], so L(f_D) = λ_max(Ā) and
    μ(f_D) = λ_min(Ā) exactly (:attr:`problems.MASTObjective.L`).  For logistic regression the
    code's L(f_D) = λ_max(E[SᵀH̄S]), H̄ = XᵀX/(4n) + λI, lies between sup_x λ_max(∇²f_D(x))
    and L_f L_D.

    Assumptions: f convex and C² (quadratic, least squares, logistic); a finite support
    (enumeration).  E S = I is not needed.

    Check (exact): Ā, resp. ∇²f_D(x) at the instance's points, v, x* and x_D*, is enumerated
    over the support; rows λ_max ≤ L_f L_D, μ_f μ_D ≤ λ_min, 0 ≤ λ_min, per-sketch
    λ_max(SᵀAS) ≤ L_f λ_max(SᵀS) ≤ L_f L_S^max, and for quadratics λ_max(Ā) = L(f_D),
    λ_min(Ā) = μ(f_D) (two rows each).  ``params`` L_D, mu_D are the constants used in the
    bounds.  Negative controls: bound × 0.5; L_D replaced by 1 (f_D claimed as smooth as f).

    Reference: arXiv 2311.16086, Lemmas on f_D (numbering varies, ``mast.md`` §0);
    ``shared/theory/mast.md`` §2.
    """
    return _smoothness_rows(instance, params).measurement()


def _smoothness_rows(instance: ObjectiveInstance, params: dict[str, Any]) -> _Rows:
    """The rows of :func:`smoothness`: each measured value beside its bound."""
    F = _objective(instance)
    problem = F.problem
    L_f, mu_f = problem.L, problem.mu
    L_D, mu_D = float(params["L_D"]), float(params["mu_D"])
    mats, probs = _support_matrices(instance.sketch)
    rows = _Rows()
    if F.quadratic:
        A = problem.quadratic_form()[0]
        hessians = [np.einsum("n,nki,kl,nlj->ij", probs, mats, A, mats)]
        per_sketch = np.einsum("nki,kl,nlj->nij", mats, A, mats)
        lam = np.linalg.eigvalsh(hessians[0])
        rows.equal("λ_max(Ā) = L(f_D)", lam[-1], F.L)
        if F.mu > 0:
            rows.equal("λ_min(Ā) = μ(f_D)", lam[0], F.mu)
    else:
        points = _points(instance, F)
        hessians = [to_numpy(F.hess(F.asarray(x))) for x in points]
        x0 = points[0]
        inner = [
            to_numpy(problem.hess(problem.asarray(F.shift_host + S @ (x0 - F.shift_host))))
            for S in mats
        ]
        per_sketch = np.einsum("nki,nkl,nlj->nij", mats, np.array(inner), mats)
    eigs = np.array([np.linalg.eigvalsh(H) for H in hessians])
    rows.add("λ_max(∇²f_D) ≤ L(f_D)", eigs[:, -1], F.L * np.ones(len(eigs)))
    rows.add("L(f_D) ≤ L_f L_D", F.L, L_f * L_D)
    rows.add("λ_max(∇²f_D) ≤ L_f L_D", eigs[:, -1], L_f * L_D)
    rows.add("μ_f μ_D ≤ λ_min(∇²f_D)", mu_f * mu_D, eigs[:, 0])
    rows.add("convexity: 0 ≤ λ_min(∇²f_D)", -eigs[:, 0], 0.0)
    gram_max = np.array([np.linalg.eigvalsh(S.T @ S)[-1] for S in mats])
    sketch_max = np.array([np.linalg.eigvalsh(0.5 * (H + H.T))[-1] for H in per_sketch])
    rows.add("λ_max(∇²f_S) ≤ L_f λ_max(SᵀS)", sketch_max, L_f * gram_max)
    rows.add("L_f λ_max(SᵀS) ≤ L_f L_S^max", L_f * gram_max.max(), L_f * instance.sketch.L_S_max)
    atol = 1e-11 * max(1.0, L_f * L_D)
    return rows.finish(atol, L_f=L_f, mu_f=mu_f, L_fD=F.L, mu_fD=F.mu)


# -- mast.gap --------------------------------------------------------------------------------
def _gap_instances(quick: bool) -> list[ObjectiveInstance]:
    base = _objective_instances(quick)
    return [
        *base,
        _at_minimizer(base[0], "quadratic d=4, Bernoulli, v = x*"),
        _at_minimizer(base[4], "logistic d=4, Bernoulli, v = x*"),
        _duplicated_features(),
    ]


def _gap_assumptions(instance: ObjectiveInstance) -> list[str]:
    return _support_violation(instance.sketch) or _assumption_1(instance.sketch)


@theorem(
    id="mast.gap",
    paper=PAPER,
    label="T-GAP (a)-(g): the minima of f and f_D",
    tag="R/D",
    algorithm=None,
    measure="f_D, f, Δ = f_D* − f*, ‖x_D* − x*‖² (closed forms or Newton)",
    method="exact",
    rate="none",
    instances=_gap_instances,
    assumptions=_gap_assumptions,
    default_params=lambda inst: {"L_D": float(inst.sketch.L_D)},
    bound=lambda inst, params, t: _gap_rows(inst, params).bounds(),
    controls=(
        NegativeControl("bound x 0.5", bound_scale=0.5, expect="measured"),
        NegativeControl(
            "L_D replaced by 1", params=_L_D_is_one, expect="(d) ‖x−v‖²_{G−I} ≤ (L_D − 1)‖x−v‖²"
        ),
        NegativeControl(
            "E S = I/2",
            instance=lambda inst: inst.replace(sketch=ScaledSketch(inst.sketch, 0.5)),
            expect="(b) f(x) ≤ f_D(x)",
        ),
    ),
    strategy=_objective_strategy,
)
def gap(instance: ObjectiveInstance, params: dict[str, Any]) -> Measurement:
    """T-GAP: the minima of f and of the MAST objective f_D are close.

    Statement.  Under E S = I: f* ≤ f_D* ≤ f* + (L_f/2)(L_D − 1)‖x* − v‖²; f ≤ f_D (f convex); f
    + (μ_f/2)‖x − v‖²_{E SᵀS − I} ≤ f_D ≤ f + (L_f/2)‖x − v‖²_{E SᵀS − I}; f(x_D*) − f* ≤ Δ and
    ‖x_D* − x*‖² ≤ (2/μ_f)Δ ≤ (L_f/μ_f)(L_D − 1)‖x* − v‖²; (μ_f/2)(μ_D − 1)‖x_D* − v‖² ≤ Δ, so Δ
    = 0 iff v = x* when μ_f > 0, μ_D > 1.

    In full ([R]: a theorem bounds f_D* − f* with ‖x* − v‖² and says MAST solutions
    approximately solve min f; [D]: the inequalities, ``mast.md`` §2.3).  Let Δ = f_D* − f*,
    G = E[SᵀS].  Under Assumption 1 (E S = I):

    (a) f_D(x) ≥ f*, hence f_D* ≥ f*;
    (b) f convex: f_D(x) ≥ f(x) (Jensen);
    (c) f μ_f-strongly convex:
        f_D(x) ≥ f(x) + (μ_f/2)‖x − v‖²_{G−I} ≥ f(x) + (μ_f/2)(μ_D − 1)‖x − v‖²;
    (d) f L_f-smooth: f_D(x) ≤ f(x) + (L_f/2)‖x − v‖²_{G−I} ≤ f(x) + (L_f/2)(L_D − 1)‖x − v‖²;
    (e) f* ≤ f_D* ≤ f* + (L_f/2)(L_D − 1)‖x* − v‖²;
    (f) f(x_D*) − f* ≤ Δ; if μ_f > 0, ‖x_D* − x*‖² ≤ (2/μ_f)Δ ≤ (L_f/μ_f)(L_D − 1)‖x* − v‖²;
    (g) if μ_f > 0: (μ_f/2)(μ_D − 1)‖x_D* − v‖² ≤ Δ, so v = x* gives Δ = 0 and, when μ_D > 1,
        Δ = 0 forces v = x*; without strong convexity Δ = 0 with v ≠ x* is possible
        (duplicated features, X = [a a], y = t·a, Rand-1: x_D* = (t/2, t/2)).

    Assumptions: E S = I; f convex, L_f-smooth (L_f = ``problem.L``, a global bound for
    logistic regression), μ_f = ``problem.mu``; rows of (c), (f), (g) need μ_f > 0; a finite
    support for non-quadratic f.  Logistic regression: the ℓ2 term is inside f (§2.2).

    Check (exact): closed forms for quadratics, Newton on the enumerated f_D otherwise, at the
    instance's points and at v, x*, x_D*; each inequality is a row, written with
    nonnegative sides (values minus f*).  Instances flagged ``interpolation`` add Δ ≤ 0.
    Negative controls: bound × 0.5; L_D replaced by 1 (claims Δ ≤ 0); a sketch with
    E S = I/2 (violates Assumption 1; f_D ≥ f then fails).

    Reference: arXiv 2311.16086, the minima-gap theorem (T-GAP; numbering varies);
    ``shared/theory/mast.md`` §2.3.
    """
    return _gap_rows(instance, params).measurement()


def _gap_rows(instance: ObjectiveInstance, params: dict[str, Any]) -> _Rows:
    """The rows of :func:`gap`: each measured value beside its bound."""
    F = _objective(instance)
    problem = F.problem
    L_f, mu_f = problem.L, problem.mu
    L_D = float(params["L_D"])
    mats, probs = _support_matrices(instance.sketch)
    G = np.einsum("n,nki,nkj->ij", probs, mats, mats)
    G_minus_I = G - np.eye(F.d)
    eig = np.linalg.eigvalsh(G)
    v, x_star, x_D = F.shift_host, F.problem_x_star_host, F.x_star_host
    f_star, delta = F.problem_f_star, F.minima_gap
    points = _points(instance, F)
    f_x = to_numpy(problem.value(problem.asarray(points))) - f_star
    fD_x = to_numpy(F.value(F.asarray(points))) - f_star
    y = points - v
    norm_G = np.einsum("ri,ij,rj->r", y, G_minus_I, y)
    norm2 = np.sum(y * y, axis=1)
    dist_v = float(np.sum((x_star - v) ** 2))
    rows = _Rows()
    rows.add("(a) f* ≤ f_D(x)", 0.0, fD_x)
    rows.add("(b) f(x) ≤ f_D(x)", f_x, fD_x)
    rows.add("(d) f_D ≤ f + (L_f/2)‖x−v‖²_{G−I}", fD_x, f_x + 0.5 * L_f * norm_G)
    rows.add("(d) ‖x−v‖²_{G−I} ≤ (L_D − 1)‖x−v‖²", norm_G, (L_D - 1) * norm2)
    rows.add("(e) 0 ≤ Δ", -delta, 0.0)
    rows.add("(e) Δ ≤ (L_f/2)(L_D − 1)‖x* − v‖²", delta, 0.5 * L_f * (L_D - 1) * dist_v)
    rows.add("(f) f(x_D*) − f* ≤ Δ", problem.value_host(x_D) - f_star, delta)
    if mu_f > 0:
        rows.add("(c) f + (μ_f/2)‖x−v‖²_{G−I} ≤ f_D", f_x + 0.5 * mu_f * norm_G, fD_x)
        rows.add("(c) (μ_D − 1)‖x−v‖² ≤ ‖x−v‖²_{G−I}", (eig[0] - 1) * norm2, norm_G)
        dist_D = float(np.sum((x_D - x_star) ** 2))
        rows.add("(f) ‖x_D* − x*‖² ≤ (2/μ_f)Δ", dist_D, 2 * delta / mu_f)
        rows.add(
            "(f) (2/μ_f)Δ ≤ (L_f/μ_f)(L_D − 1)‖x* − v‖²",
            2 * delta / mu_f,
            L_f / mu_f * (L_D - 1) * dist_v,
        )
        rows.add(
            "(g) (μ_f/2)(μ_D − 1)‖x_D* − v‖² ≤ Δ",
            0.5 * mu_f * (eig[0] - 1) * float(np.sum((x_D - v) ** 2)),
            delta,
        )
    if instance.interpolation:
        rows.add("(g) interpolation: Δ ≤ 0", delta, 0.0)
    atol = 1e-10 * _scale(F, points)
    return rows.finish(atol, delta=delta, f_star=f_star, f_D_star=F.f_star)


# -- mast.key-lemma --------------------------------------------------------------------------
def key_lemma_tight_instance() -> ObjectiveInstance:
    """The key lemma's first two rows attained with equality: f = x² − x on R, Bernoulli(0.3).

    For a 1-D quadratic, f_S is an (L_fS²)-smooth quadratic, so ‖∇f_S‖² = 2L_fS²(f_S − f_S^inf)
    for every outcome S, and with S ∈ {0, 1/p} the second row is an equality too: the first
    two rows hold with equality at every point, so an L_f understated by 1 % is violated there.
    """
    problem = Quadratic(np.array([[2.0]]), np.array([1.0]))
    return ObjectiveInstance(
        "tight 1-D quadratic, Bernoulli(0.3)",
        problem=problem,
        sketch=Bernoulli(np.array([0.3])),
        shift=np.array([0.5]),
        points=_random_points(1, 7),
    )


def _key_instances(quick: bool) -> list[ObjectiveInstance]:
    base = _objective_instances(quick)
    return [
        *base,
        _at_minimizer(base[0], "quadratic d=4, Bernoulli, v = x*"),
        key_lemma_tight_instance(),
    ]


def _no_neighbourhood(instance: ObjectiveInstance, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "neighbourhood": False}


def _understated_L_f(instance: ObjectiveInstance, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "L_f_scale": 0.99}


@theorem(
    id="mast.key-lemma",
    paper=PAPER,
    label="Key lemma (ABC for f_D): E‖∇f_S‖² ≤ 2 L_f L_S^max (f_D − E f_S^inf)",
    tag="D",
    algorithm=None,
    measure="E_S‖∇f_S(x)‖² by enumeration",
    method="pointwise",
    instances=_key_instances,
    assumptions=lambda inst: _support_violation(inst.sketch),
    default_params=lambda inst: {"neighbourhood": True},
    bound=lambda inst, params, t: _key_lemma_rows(inst, params).bounds(),
    controls=(
        NegativeControl(
            "without the neighbourhood term",
            params=_no_neighbourhood,
            expect="E‖∇f_S‖² ≤ 2L_f L_S^max (f_D − f_D*)",
        ),
        NegativeControl(
            "f taken as 0.99·L_f-smooth on the tight 1-D instance",
            params=_understated_L_f,
            instance=lambda inst: key_lemma_tight_instance(),
            expect="E‖∇f_S‖² ≤ 2L_f E[L_S (f_S − f_S^inf)]",
        ),
    ),
    strategy=_objective_strategy,
)
def key_lemma(instance: ObjectiveInstance, params: dict[str, Any]) -> Measurement:
    """Key lemma of the MAST SGD rates: the ABC inequality for the double sketched gradient.

    Statement.  For L_f-smooth f bounded below and every x: E_S‖∇f_S(x)‖² ≤ 2 L_f
    E[λ_max(SᵀS)(f_S(x) − f_S^inf)] ≤ 2 L_f L_S^max (f_D(x) − E_S f_S^inf) ≤ 2 L_f L_S^max
    (f_D(x) − f_D^inf) + 2 L_f L_S^max Δ, with Δ' = f_D^inf − E f_S^inf ≤ Δ.

    In full ([D], ``mast.md`` §4; [R]: "the neighbourhood depends on f̃^inf − f^inf rather
    than the gradient variance").  For h L-smooth and bounded below, ‖∇h(x)‖² ≤ 2L(h(x) − inf h)
    (no convexity needed).  f_S(x) = f(v + S(x − v)) is L_f λ_max(SᵀS)-smooth, so for every x::

        E_S‖∇f_S(x)‖² ≤ 2 L_f E_S[λ_max(SᵀS)(f_S(x) − f_S^inf)]
                      ≤ 2 L_f L_S^max (f_D(x) − E_S f_S^inf)
                      = 2 L_f L_S^max (f_D(x) − f_D^inf) + 2 L_f L_S^max Δ'
                      ≤ 2 L_f L_S^max (f_D(x) − f_D^inf) + 2 L_f L_S^max Δ,

    with Δ' = f_D^inf − E_S f_S^inf ≤ Δ = f_D^inf − f^inf, since f_S^inf ≥ f^inf.  This is the
    ABC condition for f_D with A = L_f L_S^max, B = 0, C = 2 L_f L_S^max Δ.

    Assumptions: f L_f-smooth (``problem.L``, a global bound for logistic regression) and
    bounded below; a finite support (L_S^max < ∞).  E S = I is not needed.

    Check (pointwise, exact by enumeration also for logistic regression, with f_S^inf from
    closed forms or Newton over range(S)): each inequality of the chain is a row at the
    instance's points and at v, x*, x_D*.  Tight: on :func:`key_lemma_tight_instance` the first
    two rows are equalities.  Negative controls: the neighbourhood dropped (E‖∇f_S‖² ≤
    2 L_f L_S^max (f_D(x) − f_D^inf) fails at x = x_D* unless Δ' = 0); the smoothness
    hypothesis understated by 1 % (0.99·L_f) on the tight instance.  (E S = I is not a
    hypothesis of this lemma, so a sketch of mean I/2 is no control for it.)

    Reference: arXiv 2311.16086, the lemma behind the SGD theorems; ``shared/theory/mast.md`` §4.
    """
    return _key_lemma_rows(instance, params).measurement()


def _key_lemma_rows(instance: ObjectiveInstance, params: dict[str, Any]) -> _Rows:
    """The rows of :func:`key_lemma`: each measured value beside its bound."""
    F = _objective(instance)
    L_f = F.problem.L * float(params.get("L_f_scale", 1.0))
    _, F_probs = F.support()
    per_sketch_L = np.array([np.linalg.eigvalsh(S.T @ S)[-1] for S in _matrices_of(F)])
    L_S_max = float(per_sketch_L.max())
    points = _points(instance, F)
    x = F.asarray(points)
    grad2 = to_numpy(F.expected_sketch_grad_norm2(x))
    f_S = to_numpy(F.sketch_values(x))  # (K, N), outcomes in F's support order
    excess = f_S - F.sketch_infima[None, :]
    f_D = to_numpy(F.value(x))
    E_inf, f_D_star = F.expected_sketch_infimum, F.f_star
    delta, delta_prime = F.minima_gap, F.minima_gap_sketchwise
    rows = _Rows()
    rows.add(
        "E‖∇f_S‖² ≤ 2L_f E[L_S (f_S − f_S^inf)]",
        grad2,
        2 * L_f * (excess * per_sketch_L[None, :]) @ F_probs,
    )
    rows.add(
        "E[L_S (f_S − f_S^inf)] ≤ L_S^max (f_D − E f_S^inf)",
        (excess * per_sketch_L[None, :]) @ F_probs,
        L_S_max * (f_D - E_inf),
    )
    if params.get("neighbourhood", True):
        rows.add(
            "E‖∇f_S‖² ≤ 2L_f L_S^max (f_D − E f_S^inf)", grad2, 2 * L_f * L_S_max * (f_D - E_inf)
        )
        rows.add("Δ' ≤ Δ", delta_prime, delta)
        rows.add("f_D − E f_S^inf ≤ f_D − f_D* + Δ", f_D - E_inf, f_D - f_D_star + delta)
    else:
        rows.add(
            "E‖∇f_S‖² ≤ 2L_f L_S^max (f_D − f_D*)", grad2, 2 * L_f * L_S_max * (f_D - f_D_star)
        )
    scale = _scale(F, points)
    atol = 1e-10 * max(1.0, L_f * L_S_max) * scale
    return rows.finish(atol, delta=delta, delta_prime=delta_prime, L_S_max=L_S_max)


def _matrices_of(F: MASTObjective) -> np.ndarray:
    outcomes, _ = F.support()
    if outcomes.ndim == 2:
        return np.einsum("ni,ij->nij", outcomes, np.eye(F.d))
    return outcomes
