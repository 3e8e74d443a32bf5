"""Problem instances for the Frank-Wolfe theorems: a problem, a set, C_f and f*, on the host.

:class:`FWInstance` is the setting of the rate and invariant theorems; :class:`LMOInstance`
(a set and a batch of gradients) that of ``fw.lmo``.  The exact rational instances of the
reference trajectories are in :mod:`.trajectories`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.constraints import (
    Constraint,
    GroupL1Ball,
    L1Ball,
    L2Ball,
    LInfBall,
    NuclearBall,
    Simplex,
    constrained_minimum,
    curvature_constant,
)
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.quadratic import Quadratic
from mastbench.theory._core import Instance

from mastbench.backend import namespace, rng

__all__ = [
    "SETS",
    "FWInstance",
    "LMOInstance",
    "chop_l1_lmo",
    "conditioned_simplex_instance",
    "face_instance",
    "fw_instance",
    "fw_problem_instance",
    "make_constraint",
    "norm_simplex_instance",
    "segment_instance",
    "tie_instance",
]

#: Names of the constraint sets the FW instances use.
SETS = ("l1", "group", "nuclear", "l2", "linf", "simplex")


@dataclass(frozen=True, eq=False)
class FWInstance(Instance):
    """A convex problem over a compact convex set D, with its curvature constant and minimum.

    Attributes
    ----------
    problem : Problem
        The objective f (NumPy-backed): least squares, logistic regression or a quadratic.
    constraint : Constraint
        The set D (its LMO, projection, diameter).
    C_f : float
        Jaggi's curvature constant C_f = sup_{x,s ∈ D, γ ∈ (0,1]} (2/γ²)(f(y) − f(x) −
        ⟨∇f(x), y − x⟩), y = x + γ(s − x): exact for quadratics, the dominating-quadratic
        bound for logistic regression.
    f_star : float
        The certified constrained minimum f* = min_D f (an upper bound on it).
    f_star_gap : float
        The certificate of ``f_star``: f_star − f_star_gap ≤ f* ≤ f_star (its FW gap).
    x0 : numpy.ndarray
        The start x_0 ∈ D, shape (d,).
    rule : str
        The FW step rule of the rate theorems (``"open-loop"`` γ_k = 2/(k+2) or
        ``"line-search"``).
    batch_size : int or None
        The batch size b of stochastic FW (``fw.sfw``), None for the deterministic theorems.
    """

    problem: Any
    constraint: Constraint
    C_f: float
    f_star: float
    f_star_gap: float
    x0: np.ndarray
    rule: str = "open-loop"
    batch_size: int | None = None

    @cached_property
    def runs(self) -> dict[tuple[Any, ...], Any]:
        """The deterministic runs made on this instance, by the parameters that determine
        them, filled by the theorems that read them: a negative control that changes only
        what is checked of a run (a claimed monotonicity, f*) reuses the plain check's."""
        return {}


@dataclass(frozen=True, eq=False)
class LMOInstance(Instance):
    """A set D and a batch of gradients g on which its linear minimization oracle is checked.

    Attributes
    ----------
    constraint : Constraint
        The set D.
    grads : numpy.ndarray
        The gradients g, shape (n, d), one per row.
    """

    constraint: Constraint
    grads: np.ndarray


def make_constraint(kind: str, d: int, radius: float) -> Constraint:
    """The set ``kind`` in dimension d (nuclear: d must factor as m·n with m, n ≥ 2)."""
    if kind == "l1":
        return L1Ball(radius)
    if kind == "group":
        return GroupL1Ball(np.arange(d) * 3 // d if d >= 3 else np.zeros(d, dtype=int), radius)
    if kind == "nuclear":
        m = next((k for k in range(int(np.sqrt(d)), 1, -1) if d % k == 0), None)
        if m is None:
            raise ValueError(f"nuclear ball needs d = m·n with m, n ≥ 2, got d={d}")
        return NuclearBall((m, d // m), radius)
    if kind == "l2":
        return L2Ball(radius)
    if kind == "linf":
        return LInfBall(radius)
    if kind == "simplex":
        return Simplex(radius)
    raise ValueError(f"kind must be one of {SETS}, got {kind!r}")


def fw_instance(
    kind: str,
    d: int,
    seed: int,
    *,
    radius: float = 1.0,
    loss: str = "least_squares",
    n: int | None = None,
    name: str | None = None,
) -> FWInstance:
    """An FW instance: a random ``loss`` problem over the ``kind`` set, with C_f and f*.

    ``loss`` is ``"least_squares"`` (Gaussian design, n = 3d rows by default),
    ``"logistic"`` (l2 = 1e-3) or ``"quadratic"`` (condition number 10).
    """
    gen = rng(seed)
    n = 3 * d if n is None else n
    if loss == "least_squares":
        X = gen.normal((n, d))
        y = X @ gen.normal((d,)) + 0.1 * gen.normal((n,))
        problem: Any = LeastSquares(X, y)
    elif loss == "logistic":
        X = gen.normal((n, d))
        y = np.where(X @ gen.normal((d,)) >= 0, 1.0, -1.0)
        y = np.where(gen.random((n,)) < 0.1, -y, y)
        problem = Logistic(X, y, l2=1e-3)
    elif loss == "quadratic":
        import mastbench.problems.random as random_problems

        problem = random_problems.quadratic(d, 10.0, gen)
    else:
        raise ValueError(f"loss must be least_squares, logistic or quadratic, got {loss!r}")
    constraint = make_constraint(kind, d, radius)
    return fw_problem_instance(
        name or f"{loss}-{kind}-d{d}-r{radius:g}-s{seed}", problem, constraint
    )


def fw_problem_instance(
    name: str, problem: Any, constraint: Constraint, x0: Any = None
) -> FWInstance:
    """The FW instance of ``problem`` over ``constraint``: C_f, the certified f* and x0 (default
    0, or the first vertex α e_1 of a simplex)."""
    solution = constrained_minimum(problem, constraint)
    if x0 is None:
        x0 = np.zeros(problem.d)
        if isinstance(constraint, Simplex):
            x0[0] = constraint.radius
    return FWInstance(
        name,
        problem=problem,
        constraint=constraint,
        C_f=curvature_constant(problem, constraint),
        f_star=solution.f_star,
        f_star_gap=solution.gap,
        x0=np.asarray(x0, dtype=float),
    )


def face_instance(d: int, seed: int, *, kappa: float = 2.0, radius: float = 1.0) -> FWInstance:
    """½(x − c)ᵀA(x − c) over the simplex with the minimizer on a face (neither vertex nor
    interior): c pulls towards the first three vertices; A has eigenvalues in [1, κ].  The start
    x0 = radius·e_d is a vertex off that face (where vanilla FW zig-zags)."""
    gen = np.random.default_rng(seed)
    q, _ = np.linalg.qr(gen.normal(size=(d, d)))
    A = (q * np.geomspace(1.0, kappa, d)) @ q.T
    A = 0.5 * (A + A.T)
    c = np.full(d, -0.5 * radius)
    c[:3] = (0.8 * radius, 0.6 * radius, 0.4 * radius)
    xp = namespace("numpy")
    problem = Quadratic(xp.asarray(A), xp.asarray(A @ c))
    x0 = np.zeros(d)
    x0[-1] = radius
    return fw_problem_instance(
        f"face-simplex-d{d}-k{kappa:g}-s{seed}", problem, Simplex(radius), x0
    )


def norm_simplex_instance(d: int, *, radius: float = 1.0, start: int = 0) -> FWInstance:
    """f(x) = ‖x‖² over the simplex of radius α, from the vertex α e_start (Jaggi 2013, §3).

    f* = α²/d at the barycenter, C_f = 2·diam² = 4α² (f(y) − f(x) − ⟨∇f(x), y − x⟩ =
    ‖y − x‖²).  Open-loop FW adds one new vertex per step while k < d, so x_k spreads its mass
    over k + 1 vertices and the FW gap g(x_k) = 2(‖x_k‖² − min_i x_{k,i}) stays of order 1/k:
    Jaggi's example of a slow, sparse FW run.
    """
    if d < 2 or not 0 <= start < d:
        raise ValueError(f"need d ≥ 2 and 0 ≤ start < d, got d={d}, start={start}")
    xp = namespace("numpy")
    problem = Quadratic(xp.asarray(2.0 * np.eye(d)), xp.asarray(np.zeros(d)))
    x0 = np.zeros(d)
    x0[start] = radius
    return fw_problem_instance(
        f"norm-simplex-d{d}-r{radius:g}-v{start}", problem, Simplex(radius), x0
    )


def conditioned_simplex_instance(
    d: int, kappa: float, seed: int, *, start: int = 0, radius: float = 1.0
) -> FWInstance:
    """½(x − c)ᵀA(x − c) over the simplex of radius α from the vertex α e_start: A = Q diag(1
    .. κ) Qᵀ with a random rotation Q and c ~ N(0, I), both drawn from ``seed``.  A large κ
    with an unlucky rotation makes the first pairwise steps poor (slow linear convergence)."""
    if not 0 <= start < d:
        raise ValueError(f"start must be a vertex index in [0, {d}), got {start}")
    gen = np.random.default_rng(seed)
    q, _ = np.linalg.qr(gen.normal(size=(d, d)))
    A = (q * np.geomspace(1.0, kappa, d)) @ q.T
    A = 0.5 * (A + A.T)
    c = gen.normal(size=d)
    xp = namespace("numpy")
    problem = Quadratic(xp.asarray(A), xp.asarray(A @ c))
    x0 = np.zeros(d)
    x0[start] = radius
    name = f"conditioned-simplex-d{d}-k{kappa:g}-s{seed}-v{start}"
    return fw_problem_instance(name, problem, Simplex(radius), x0)


def segment_instance(c: float, *, d: int = 2, radius: float = 1.0) -> FWInstance:
    """½‖x − cα e_1‖² (up to a constant) over the ℓ1 ball of radius α, from x0 = −α e_1.

    The minimizer cα e_1 (|c| < 1) and every FW iterate lie on the segment [−α e_1, α e_1],
    which spans the diameter along the direction of largest curvature, so C_f = 4α² is
    attained by the first step: open-loop FW jumps (γ_0 = 1) to α e_1, and f(x_1) − f* =
    ½α²(1 − c)² = (3(1 − c)²/16)·2C_f/3, Jaggi's Theorem 1 bound at k = 1 (ratio → 3/4 as
    c → −1).  The other coordinates have zero gradient and stay 0.
    """
    if not -1.0 < c < 1.0:
        raise ValueError(f"c must lie in (-1, 1), got {c}")
    xp = namespace("numpy")
    b = np.zeros(d)
    b[0] = c * radius
    problem = Quadratic(xp.asarray(np.eye(d)), xp.asarray(b))
    x0 = np.zeros(d)
    x0[0] = -radius
    return fw_problem_instance(f"segment-l1-d{d}-c{c:g}", problem, L1Ball(radius), x0)


def tie_instance(d: int = 5, radius: float = 1.0) -> FWInstance:
    """f(x) = ½‖x − b‖² with |b_1| = |b_2| = ... tied: ∇f(0) = −b has tied maximal entries."""
    b = np.linspace(1.0, 0.2, d)
    b[1] = -b[0]
    problem = Quadratic(namespace("numpy").asarray(np.eye(d)), namespace("numpy").asarray(b))
    return fw_problem_instance(f"tied-l1-d{d}", problem, L1Ball(radius))


def chop_l1_lmo(radius: float) -> Any:
    """chop's ℓ1 LMO (``frank_wolfe.md`` §2): −α·sign(g) on *all* tied maximal coordinates.

    Infeasible (and adding several atoms at once) when the maximum of |g| is tied; used only
    by negative controls.
    """

    def lmo(g: np.ndarray, k: int = 0) -> np.ndarray:
        top = np.max(np.abs(g), axis=-1, keepdims=True)
        return -radius * np.sign(g) * (np.abs(g) == top)

    return lmo
