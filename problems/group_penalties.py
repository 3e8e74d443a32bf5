"""Group regularizers of SequentialAttention++ and the group-LASSO solver with a KKT certificate.

* Nonconvex group regularizers of form (1) of arXiv 2402.17902, R_q(β) = q⁻¹(Σ_i q(‖β_i‖₂)),
  for q ∈ :data:`Q_FUNCTIONS` (admissible: strictly increasing, subadditive, q(0) = 0, and
  unbounded so that q⁻¹ is defined on ℝ₊; the controls ``square`` and ``softmax`` are not
  subadditive).
* The mask-induced Σq penalties (§1.2 of ``shared/theory/seqattn.md``): Hoff's identity mask
  and Lemma 2.3 (powerpropagation) give group LASSO; Lemma 2.1 (unnormalized softmax mask)
  gives q(a) = W(2a²)²/4 + W(2a²)/2 with W the Lambert W function; Lemma 2.2 (ℓ1 mask) gives
  q(a) = (3/2)·2^{1/3}·a^{2/3}.
* :func:`group_lasso`: min_β 𝓛(β) + λ Σ_{i∉S} ‖β_i‖₂, solved as the composite problem
  :class:`problems.composite.Composite` (𝓛, :class:`~problems.regularizers.GroupLasso` with
  unit weights over the groups outside S) and certified by the KKT residual;
  :func:`threshold` (τ, the max-gradient group at β^S) and :func:`one_sparse_window`
  (bisection with a KKT check after :func:`problems.composite.newton_polish`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from mastbench.problems.composite import Composite, minimize_composite, newton_polish
from mastbench.problems.group_structured import GroupProblem
from mastbench.problems.regularizers import GroupLasso, Regularizer, Zero
from scipy.special import lambertw as _scipy_lambertw

from mastbench.validation import check_positive

__all__ = [
    "ADMISSIBLE_Q",
    "MASKS",
    "Q_FUNCTIONS",
    "WINDOW_RESOLUTION",
    "GroupLassoSolution",
    "MaskPenalty",
    "Threshold",
    "group_lasso",
    "group_lasso_kkt",
    "lambert_w",
    "one_sparse_window",
    "q_regularizer",
    "softmax_q",
    "softmax_q_inverse",
    "threshold",
]


def lambert_w(x: np.ndarray | float) -> np.ndarray:
    """Principal branch W₀ of the Lambert W function for x ≥ 0 (W e^W = x), float64."""
    x = np.asarray(x, dtype=float)
    if (x < 0).any():
        raise ValueError("lambert_w is used on x >= 0 only")
    return _scipy_lambertw(x).real


def softmax_q(a: np.ndarray | float) -> np.ndarray:
    """q(a) = W(2a²)²/4 + W(2a²)/2, the penalty of the unnormalized softmax mask (Lemma 2.1)."""
    w = lambert_w(2.0 * np.asarray(a, dtype=float) ** 2)
    return w * w / 4.0 + w / 2.0


def softmax_q_inverse(v: np.ndarray | float) -> np.ndarray:
    """q⁻¹(v) = √(W e^W / 2) with W = −1 + √(1 + 4v) (the inverse of :func:`softmax_q`).

    W is evaluated as 4v/(1 + √(1 + 4v)) to avoid cancellation for small v.
    """
    v = np.asarray(v, dtype=float)
    w = 4.0 * v / (1.0 + np.sqrt(1.0 + 4.0 * v))
    return np.sqrt(w * np.exp(w) / 2.0)


#: q and q⁻¹ by name.  ``square`` (superadditive) and ``softmax`` (Lemma 2.1, not subadditive
#: for a ≲ 1.5) are the negative controls of Theorem 1.1.
_Fn = Callable[[np.ndarray], np.ndarray]
Q_FUNCTIONS: dict[str, tuple[_Fn, _Fn]] = {
    "x": (lambda a: a, lambda v: v),
    "sqrt": (np.sqrt, np.square),
    "pow2/3": (lambda a: a ** (2.0 / 3.0), lambda v: v**1.5),
    "log1p": (np.log1p, np.expm1),
    "square": (np.square, np.sqrt),
    "softmax": (softmax_q, softmax_q_inverse),
}

#: The q covered by Theorem 1.1 (strictly increasing, subadditive, q(0) = 0, unbounded).
ADMISSIBLE_Q = ("x", "sqrt", "pow2/3", "log1p")


def q_regularizer(norms: np.ndarray, q: str) -> np.ndarray:
    """R_q = q⁻¹(Σ_i q(a_i)) over the last axis of the group norms ``norms`` (form (1))."""
    try:
        fn, inv = Q_FUNCTIONS[q]
    except (KeyError, TypeError):
        raise ValueError(f"q must be one of {tuple(Q_FUNCTIONS)}, got {q!r}") from None
    return inv(np.add.reduce(fn(np.asarray(norms, dtype=float)), axis=-1))


@dataclass(frozen=True)
class MaskPenalty:
    """A mask parameterization u_i = m(w_i)·β_i with its penalty and its Σq equivalent.

    Attributes
    ----------
    name : str
        ``hoff``, ``softmax`` (Lemma 2.1), ``l1`` (Lemma 2.2) or ``powerprop`` (Lemma 2.3).
    label : str
        The paper's label.
    mask : callable
        w ↦ m(w) (per group; powerprop has no w and uses m = ‖β_i‖).
    penalty : callable
        (w, β-group-norms) ↦ per-group penalty, divided by λ.
    q : callable
        a ↦ q(a), with min over factorizations of the penalty = q(‖u_i‖).
    optimal : callable
        a ↦ (w, ‖β_i‖) of the optimal factorization of a group of norm a.
    inner : callable or None
        (w, a) ↦ the penalty with β eliminated (‖β_i‖ = a/m(w)), for 1-D minimization.
    """

    name: str
    label: str
    mask: Callable[[np.ndarray], np.ndarray]
    penalty: Callable[[np.ndarray, np.ndarray], np.ndarray]
    q: Callable[[np.ndarray], np.ndarray]
    optimal: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    inner: Callable[[np.ndarray, np.ndarray], np.ndarray] | None


def _softmax_optimal(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = lambert_w(2.0 * a * a) / 2.0
    return w, a * np.exp(-w)


def _l1_optimal(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.cbrt(2.0 * a * a)
    return w, np.where(w > 0, a / np.where(w > 0, w, 1.0), 0.0)


#: The four mask parameterizations of §1.2 (Hoff 2017; Lemmas 2.1–2.3 of arXiv 2402.17902v1).
MASKS: dict[str, MaskPenalty] = {
    "hoff": MaskPenalty(
        "hoff",
        "Hoff 2017 / Axiotis-Yasuda identity mask",
        mask=lambda w: w,
        penalty=lambda w, b: 0.5 * (w * w + b * b),
        q=lambda a: a,
        optimal=lambda a: (np.sqrt(a), np.sqrt(a)),
        inner=lambda w, a: 0.5 * (w * w + (a / w) ** 2),
    ),
    "softmax": MaskPenalty(
        "softmax",
        "Lemma 2.1 (unnormalized softmax mask)",
        mask=np.exp,
        penalty=lambda w, b: w * w + b * b,
        q=softmax_q,
        optimal=_softmax_optimal,
        inner=lambda w, a: w * w + (a * np.exp(-w)) ** 2,
    ),
    "l1": MaskPenalty(
        "l1",
        "Lemma 2.2 (l1-regularized mask)",
        mask=lambda w: w,
        penalty=lambda w, b: np.abs(w) + b * b,
        q=lambda a: 1.5 * np.cbrt(2.0) * a ** (2.0 / 3.0),
        optimal=_l1_optimal,
        inner=lambda w, a: np.abs(w) + (a / w) ** 2,
    ),
    "powerprop": MaskPenalty(
        "powerprop",
        "Lemma 2.3 (group powerpropagation)",
        mask=lambda w: w,
        penalty=lambda w, b: b * b,
        q=lambda a: a,
        optimal=lambda a: (np.sqrt(a), np.sqrt(a)),
        inner=None,
    ),
}


# -- group LASSO ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupLassoSolution:
    """The group-LASSO minimizer with its KKT certificate.

    Attributes
    ----------
    x : numpy.ndarray
        The minimizer (host float64).
    value : float
        𝓛(x) + λ Σ_{i∉S} ‖x_i‖.
    kkt : float
        KKT residual (see :func:`group_lasso_kkt`).
    active : tuple of int
        Penalized groups with ‖x_i‖ > 1e-10·max_j ‖x_j‖ (S excluded).
    iterations : int
        FISTA iterations used.
    """

    x: np.ndarray
    value: float
    kkt: float
    active: tuple[int, ...]
    iterations: int


def _penalized(problem: GroupProblem, unpenalized: Iterable[int]) -> np.ndarray:
    free = set(int(i) for i in unpenalized)
    if any(i < 0 or i >= problem.groups.t for i in free):
        raise ValueError(f"unpenalized groups must lie in [0, {problem.groups.t})")
    return np.array([i not in free for i in range(problem.groups.t)])


def group_lasso_kkt(
    problem: GroupProblem, x: np.ndarray, lam: float, unpenalized: Iterable[int] = ()
) -> float:
    """KKT residual of min 𝓛 + λΣ_{i∉S}‖β_i‖ at x (0 iff x is the minimizer).

    max over groups of: ‖∇_i 𝓛‖ for i ∈ S; ‖∇_i 𝓛 + λ x_i/‖x_i‖‖ for active i ∉ S;
    max(0, ‖∇_i 𝓛‖ − λ) for inactive i ∉ S.
    """
    groups = problem.groups
    pen = _penalized(problem, unpenalized)
    g = problem.grad_host(x)
    norms = groups.norms_host(x)
    active = pen & (norms > 1e-10 * max(norms.max(), 1e-300))
    scale = np.where(active, lam / np.where(active, norms, 1.0), 0.0)
    shifted = g + x * scale[groups.assignment]
    res = groups.norms_host(shifted)
    inactive = pen & ~active
    res[inactive] = np.maximum(0.0, groups.norms_host(g)[inactive] - lam)
    return float(res.max())


def _penalty(problem: GroupProblem, lam: float, pen: np.ndarray) -> Regularizer:
    """λ Σ_{i∉S} ‖β_i‖₂ as a regularizer: unit group weights (λ_i = λ), the groups of S left
    out of the :class:`~problems.regularizers.GroupLasso` and hence free (ψ = 0 if all are)."""
    members = [problem.groups.members[i] for i in np.flatnonzero(pen)]
    if not members:
        return Zero()
    return GroupLasso(members, lam, d=problem.d, weights=np.ones(len(members)))


def group_lasso(
    problem: GroupProblem,
    lam: float,
    *,
    unpenalized: Iterable[int] = (),
    tol: float = 1e-11,
    max_iter: int = 20000,
    x0: np.ndarray | None = None,
) -> GroupLassoSolution:
    """Solve min_β 𝓛(β) + λ Σ_{i∉S} ‖β|_{T_i}‖₂ with a KKT certificate.

    The solver of :func:`problems.composite.minimize_composite` on
    F = 𝓛 + λ Σ_{i∉S} ‖β_i‖ (FISTA with gradient restart and step 1/L, then Newton on the
    active groups, repeated) from ``x0`` (default 0), to dist(0, ∂F) ≤ ``tol``·scale with
    scale = max(1, ‖∇𝓛(0)‖) (at most ``max_iter`` FISTA iterations per round).  That
    distance bounds the KKT residual of :func:`group_lasso_kkt` (the largest per-group
    residual), so the returned ``kkt`` is ≤ ``tol``·scale as well.

    Raises
    ------
    RuntimeError
        If the certificate is not reached.
    """
    lam = check_positive("lam", lam, strict=False)
    S = tuple(int(i) for i in unpenalized)
    pen = _penalized(problem, S)
    composite = Composite(problem, _penalty(problem, lam, pen))
    try:
        sol = minimize_composite(composite, tol=tol, max_iter=max_iter, x0=x0)
    except RuntimeError as err:
        raise RuntimeError(f"group_lasso: {err}") from err
    x = sol.x
    norms = problem.groups.norms_host(x)
    value = problem.value_host(x) + lam * float(np.sum(norms[pen]))
    active = tuple(int(i) for i in np.flatnonzero(pen & (norms > 1e-10 * max(norms.max(), 1e-300))))
    return GroupLassoSolution(x, value, group_lasso_kkt(problem, x, lam, S), active, sol.iterations)


@dataclass(frozen=True)
class Threshold:
    """τ(S) = max_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖ and where it is attained.

    Attributes
    ----------
    tau : float
        The threshold: for λ ≥ τ the group-LASSO solution (S unpenalized) is β^S.
    argmax : int
        The group attaining τ.
    margin : float
        (τ − second largest gradient norm)/τ: a unique argmax needs margin > 0.
    norms : numpy.ndarray
        ‖∇𝓛(β^S)|_{T_i}‖ for every group (0 inside S up to round-off).
    base : numpy.ndarray
        β^S.
    """

    tau: float
    argmax: int
    margin: float
    norms: np.ndarray
    base: np.ndarray


def threshold(problem: GroupProblem, unpenalized: Iterable[int] = ()) -> Threshold:
    """The group-LASSO threshold τ at β^S (Axiotis & Yasuda 2023, as used in 2402.17902 §1)."""
    S = tuple(sorted(int(i) for i in unpenalized))
    pen = _penalized(problem, S)
    base = problem.restricted_minimizer(S).x
    norms = problem.gradient_norms_host(base)
    outside = np.where(pen, norms, -np.inf)
    order = np.argsort(-outside)
    tau = float(outside[order[0]])
    second = float(outside[order[1]]) if pen.sum() > 1 else 0.0
    return Threshold(tau, int(order[0]), (tau - second) / tau if tau > 0 else 0.0, norms, base)


#: Relative width below which :func:`one_sparse_window` stops looking for a 1-sparse λ: the
#: KKT test it bisects with has tolerance 1e-9·max(1, τ).
WINDOW_RESOLUTION = 1e-8


def one_sparse_window(
    problem: GroupProblem, unpenalized: Iterable[int] = (), *, rtol: float = 1e-3
) -> tuple[float, float]:
    """[λ_low, τ): the λ for which the group-LASSO minimizer has exactly one active group ∉ S.

    Bisection on λ ∈ (0, τ) with a KKT check: at each trial λ, the 1-sparse candidate on the
    max-gradient group (Newton on S ∪ T_argmax) is the minimizer iff its KKT residual vanishes
    (then every other group satisfies ‖∇_i 𝓛‖ ≤ λ).  Returns (λ_low, τ) with λ_low accurate
    to ``rtol``·τ; λ_low = 0 when every λ ∈ (0, τ) is 1-sparse.  A window narrower than
    ``rtol``·τ (a near-tie of the two largest gradient norms) is bisected further, down to
    :data:`WINDOW_RESOLUTION`·τ, until a 1-sparse λ is found; narrower than that, the window
    is returned empty, (τ, τ).
    """
    S = tuple(sorted(int(i) for i in unpenalized))
    thr = threshold(problem, S)
    if thr.tau <= 0:
        raise ValueError("τ = 0: β^S is already the unconstrained minimizer")
    pen = _penalized(problem, S)
    groups = problem.groups
    start = thr.base.copy()
    j = groups.members[thr.argmax]
    g = problem.grad_host(thr.base)

    def one_sparse(lam: float) -> bool:
        x = start.copy()
        x[j] = -g[j] * 1e-3 / max(np.linalg.norm(g[j]), 1e-300)
        trial = newton_polish(Composite(problem, _penalty(problem, lam, pen)), x, max_steps=60)
        return group_lasso_kkt(problem, trial, lam, S) <= 1e-9 * max(1.0, thr.tau)

    lo, hi = 0.0, thr.tau
    if one_sparse(rtol * thr.tau):
        return 0.0, thr.tau
    while hi - lo > rtol * thr.tau or (hi == thr.tau and hi - lo > WINDOW_RESOLUTION * thr.tau):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if one_sparse(mid) else (mid, hi)
    return hi, thr.tau
