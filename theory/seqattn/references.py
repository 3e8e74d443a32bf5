"""Reference trajectories of IHT, group OMP, OMPR and Sequential Attention.

Theorems: ``seqattn.iht-reference``, ``seqattn.omp-reference``, ``seqattn.ompr-reference``,
``seqattn.sa-reference``. Each runs the method users run (the
:class:`~mastbench.algorithms.method.Method` through the driver, every step recorded) on a
small least-squares instance and compares it step by step with an independent reference written
here from the papers' pseudo-code, on the quadratic form 𝓛(β) = ½βᵀHβ − bᵀβ + c of the problem
(H and b read from its Hessian and gradient at 0; restricted minimizers solved from H_SS β_S =
b_S, not by the library's solver).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.theory._core import Evidence, NegativeControl
from mastbench.theory._registry import theorem
from mastbench.theory.seqattn.common import (
    PAPER,
    PAPER_SA,
    SparseInstance,
    correlated_least_squares,
    least_squares,
)
from mastbench.theory.seqattn.strategies import (
    attention_instances,
    iht_instances,
    omp_rate_instances,
    ompr_instances,
)

from mastbench.algorithms.driver import run
from mastbench.algorithms.pruning import IHT, OMPR, GroupOMP, SequentialAttention
from mastbench.backend import rng

#: Relative tolerance of an iterate against its reference (solves of a well-conditioned H).
TOLERANCE = 1e-9


class Quadratic:
    """The quadratic form of a least-squares GroupProblem, with its groups' coordinates."""

    def __init__(self, problem: Any):
        zero = np.zeros(problem.d)
        self.H = np.asarray(problem.hessian_host(zero), dtype=float)
        self.b = -np.asarray(problem.grad_host(zero), dtype=float)
        self.groups = problem.groups

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.H @ x - self.b

    def group_norms(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(np.bincount(self.groups.assignment, weights=x * x, minlength=self.groups.t))

    def restricted(self, support: Any) -> np.ndarray:
        """argmin over supp β ⊆ ∪_{i∈S} T_i: H_CC β_C = b_C on the coordinates C of S."""
        coords = np.flatnonzero(np.isin(self.groups.assignment, list(support)))
        x = np.zeros(self.b.size)
        x[coords] = np.linalg.solve(self.H[np.ix_(coords, coords)], self.b[coords])
        return x

    def value(self, x: np.ndarray) -> float:
        return float(0.5 * x @ self.H @ x - self.b @ x)


def reference_iht(q: Quadratic, k: int, step: float, iters: int) -> np.ndarray:
    """Blumensath & Davies (2009), group form: z = β − η∇𝓛(β); keep the k groups of largest
    ‖z_i‖₂, zero the others.  Iterates (iters + 1, d) from β₀ = 0."""
    x = np.zeros(q.b.size)
    out = [x]
    for _ in range(iters):
        z = x - step * q.grad(x)
        keep = np.argsort(-q.group_norms(z), kind="stable")[:k]
        x = np.where(np.isin(q.groups.assignment, keep), z, 0.0)
        out.append(x)
    return np.array(out)


def reference_omp(q: Quadratic, steps: int) -> tuple[list[int], np.ndarray]:
    """Group OMP: add argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖₂, refit β^S.  (order, iterates)."""
    order: list[int] = []
    x = np.zeros(q.b.size)
    out = [x]
    for _ in range(steps):
        norms = q.group_norms(q.grad(x))
        norms[order] = -np.inf
        order.append(int(np.argmax(norms)))
        x = q.restricted(order)
        out.append(x)
    return order, np.array(out)


def reference_ompr(
    q: Quadratic, support: list[int], iters: int, rule: str, sign: float = 1.0
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """SA++ Algorithm 2 (App. B): add i = argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖, drop
    j = argmin_{j∈S} ‖β^S|_{T_j}‖; swap always (literal) or when 𝓛 decreases (accept;
    ``sign = −1`` accepts an increase instead, the negative control's wrong reference)."""
    S = sorted(support)
    x = q.restricted(S)
    supports, out = [tuple(S)], [x]
    for _ in range(iters):
        norms = q.group_norms(q.grad(x))
        norms[S] = -np.inf
        add = int(np.argmax(norms))
        drop = S[int(np.argmin(q.group_norms(x)[S]))]
        candidate = sorted([i for i in S if i != drop] + [add])
        new = q.restricted(candidate)
        if rule == "literal" or sign * (q.value(new) - q.value(x)) < 0:
            S, x = candidate, new
        supports.append(tuple(S))
        out.append(x)
    return supports, np.array(out)


def _iterates(method: Any, problem: Any, iters: int) -> np.ndarray:
    """The method's iterates (iters + 1, d) at every step, run by the driver (R = 1)."""
    trace = run(method, problem, iters=iters, checkpoints=range(iters + 1), keep_iterates=True)
    return trace.iterates[:, 0, :]


#: Magnitude past which a Sequential Attention run counts as blown up (see ``sa-reference``).
OVERFLOW = 1e100


def _distance(
    xs: np.ndarray, ref: np.ndarray, axis: int | tuple[int, ...] = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(max_i |x_t − ref_t|, TOLERANCE·max(1, max_i |ref_t,i|)) per step t ≥ 1, the maxima
    over ``axis``.

    A run that overflows is compared as it is: an entry non-finite in both with the same value
    (the same infinity, or NaN in both) agrees; one non-finite on one side only is an infinite
    discrepancy; the tolerance reads the finite entries of the reference.
    """
    same = (xs == ref) | (np.isnan(xs) & np.isnan(ref))
    diff = np.where(same, 0.0, np.abs(xs - ref))
    gap = np.max(np.where(np.isnan(diff), np.inf, diff), axis=axis)[1:]
    scale = np.max(np.where(np.isfinite(ref), np.abs(ref), 0.0), axis=axis)
    return gap, TOLERANCE * np.maximum(1.0, scale)[1:]


def _instances(quick: bool) -> list[SparseInstance]:
    out = [SparseInstance("ls-t8-k2", problem=least_squares(61, 80, 8, 2, 1, 2), k=2, iters=12)]
    if not quick:
        out.append(
            SparseInstance(
                "ls-rows2-t6-k3", problem=least_squares(62, 60, 12, 1, 2, 3), k=3, iters=20
            )
        )
    return out


def _reference_theorem(**fields: Any) -> Any:
    """The decorator of a step-by-step reference check (tag C, deterministic, one point per
    iteration t; SA++ and :func:`_instances` unless ``fields`` name others)."""
    return theorem(
        **{"paper": PAPER, "instances": _instances, **fields},
        tag="C",
        method="deterministic",
        rate="none",
        x_axis="iteration t",
    )


# -- IHT --------------------------------------------------------------------------------------
@_reference_theorem(
    id="seqattn.iht-reference",
    label="group IHT step by step (Blumensath & Davies 2009; SA++ baseline)",
    algorithm="iht",
    measure="max_i |β_t − β_t^ref| (relative to max(1, ‖β_t^ref‖_∞)); 𝓛(β*_k) against 𝓛(β_t)",
    default_params=lambda inst: {"step_scale": 1.0},
    controls=(
        NegativeControl("reference step x 1.01", params=lambda i, p: {**p, "step_scale": 1.01}),
    ),
    strategy=iht_instances,
)
def iht_reference(instance: SparseInstance, params: dict[str, Any]) -> Evidence:
    """Group IHT as implemented equals its pseudo-code, step by step.

    Statement. IHT's iterates equal β_{t+1} = H_k(β_t − η∇𝓛(β_t)) from β₀ = 0 at every step

    In detail: β_{t+1} = H_k(β_t − η∇𝓛(β_t)), H_k keeping the k groups of largest ‖·‖₂
    (Blumensath & Davies 2009, group form as in ``shared/theory/seqattn.md`` §5), β₀ = 0,
    η = 1/L_{2k}.
    Measured: the :class:`~mastbench.algorithms.pruning.IHT` iterates at every step against
    :func:`reference_iht` on the quadratic form (bound: 1e-9 relative), and 𝓛(β*_k) ≤ 𝓛(β_t)
    (every iterate is k-group sparse; β*_k by enumeration).  Control: the
    reference takes a 1 % longer step (an IHT step off by 1 %): a mismatch at t ≥ 1.
    Assumptions: none (a deterministic identity; ties in ‖z_i‖ have probability 0).
    Reference: T. Blumensath, M. E. Davies, Iterative Hard Thresholding for Compressed
    Sensing, ACHA 2009; arXiv 2402.17902 (the IHT baseline); tag C.
    """
    problem, k, iters = instance.problem, instance.k, instance.iters
    step = 1.0 / problem.restricted_constants(2 * k).L
    xs = _iterates(IHT(k, step), problem, iters)
    ref = reference_iht(Quadratic(problem), k, step * params["step_scale"], iters)
    gap, tol = _distance(xs, ref)
    t = np.arange(1, iters + 1)
    best = problem.best_k_groups(k).value
    values = np.array([problem.value_host(x) for x in xs[1:]])
    return Evidence.stacked(
        [(t, gap, tol), (t, np.full(iters, best), values)],
        atol=1e-12 * max(1.0, abs(best)),
        extra={"step": step, "best_k_value": best},
    )


# -- group OMP ---------------------------------------------------------------------------------
@_reference_theorem(
    id="seqattn.omp-reference",
    label="group OMP step by step (fully corrective greedy; SA++ §1)",
    algorithm="group_omp",
    measure="selection mismatches; max_i |β^{S_j} − β^{S_j, ref}| (relative); 𝓛(β*_k) vs 𝓛",
    default_params=lambda inst: {"reference_pick": "max"},
    controls=(
        NegativeControl(
            "reference picks the second largest gradient group",
            params=lambda i, p: {**p, "reference_pick": "second"},
        ),
    ),
    strategy=omp_rate_instances,
)
def omp_reference(instance: SparseInstance, params: dict[str, Any]) -> Evidence:
    """Group OMP as implemented equals its pseudo-code, step by step.

    Statement. group OMP selects argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖₂ and returns β^S = argmin
    over supp β ⊆ T_S at every step

    In detail: S₀ = ∅, S_{j+1} = S_j ∪ {argmax_{i∉S_j} ‖∇𝓛(β^{S_j})|_{T_i}‖₂},
    β^S = argmin{𝓛(β) : supp β ⊆ ∪_{i∈S} T_i}.
    Measured: per step j ≥ 1, [order_j ≠ order_j^ref] (bound 0) and the distance of
    :class:`~mastbench.algorithms.pruning.GroupOMP`'s β^{S_j} to :func:`reference_omp`'s,
    whose refits solve H_SS β_S = b_S (bound 1e-9 relative), over k steps; and
    𝓛(β*_k) ≤ 𝓛(β^{S_j}) (|S_j| ≤ k; β*_k by enumeration).  Control: a
    reference that takes the second-largest group (a wrong argmax): a mismatch at j = 1.
    Assumptions: none (unique argmax with probability 1 on continuous data).
    Reference: arXiv 2402.17902 §1 (group OMP); ``shared/theory/seqattn.md`` §2; tag C.
    """
    problem, steps = instance.problem, instance.k
    trace = run(
        GroupOMP(instance.k), problem, iters=steps, checkpoints=range(steps + 1), keep_iterates=True
    )
    q = Quadratic(problem)
    if params["reference_pick"] == "second":
        order, ref = _second_pick_omp(q, steps)
    else:
        order, ref = reference_omp(q, steps)
    mismatch = (np.array(trace.params["order"][0]) != np.array(order)).astype(float)
    gap, tol = _distance(trace.iterates[:, 0, :], ref)
    t = np.arange(1, steps + 1)
    best = problem.best_k_groups(instance.k).value
    values = trace.metrics["objective"][1:, 0]
    return Evidence.stacked(
        [(t, mismatch, 0.0), (t, gap, tol), (t, np.full(steps, best), values)],
        atol=1e-12 * max(1.0, abs(best)),
        extra={"order": order, "best_k_value": best},
    )


def _second_pick_omp(q: Quadratic, steps: int) -> tuple[list[int], np.ndarray]:
    """The control's wrong reference: OMP picking the second-largest gradient group first."""
    order, _ = reference_omp(q, steps)
    norms = q.group_norms(q.grad(np.zeros(q.b.size)))
    order[0] = int(np.argsort(-norms)[1])
    return order, np.array([q.restricted(order[:j]) for j in range(steps + 1)])


# -- OMPR --------------------------------------------------------------------------------------
@_reference_theorem(
    id="seqattn.ompr-reference",
    label="OMPR step by step (SA++ App. B, Algorithm 2)",
    algorithm="ompr",
    measure="support mismatches and max_i |β^{S_r} − β^{S_r, ref}| (relative), both rules",
    default_params=lambda inst: {"accept_sign": 1.0},
    controls=(
        NegativeControl(
            "reference accepts a swap that increases the loss",
            params=lambda i, p: {**p, "accept_sign": -1.0},
        ),
    ),
    strategy=ompr_instances,
)
def ompr_reference(instance: SparseInstance, params: dict[str, Any]) -> Evidence:
    """OMPR as implemented equals Algorithm 2, step by step, under both swap rules.

    Statement. OMPR adds argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖, drops argmin_{j∈S} ‖β^S|_{T_j}‖ and
    swaps always (literal rule) or when 𝓛 decreases (accept rule), at every step

    In detail: from S₀ (here the k′ = k + 1 groups of smallest ‖∇𝓛(0)|_{T_i}‖, a bad start),
    add i = argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖₂, drop j = argmin_{j∈S} ‖β^S|_{T_j}‖₂, and set
    S ← S ∪ {i} \\ {j} always (``"literal"``) or when 𝓛(β^{S′}) < 𝓛(β^S) (``"accept"``).
    Measured: per swap r ≥ 1 and rule, [S_r ≠ S_r^ref] (bound 0) and the distance of
    :class:`~mastbench.algorithms.pruning.OMPR`'s β^{S_r} to :func:`reference_ompr`'s
    (bound 1e-9 relative).  Control: the reference's accept test with its sign flipped.
    Assumptions: none (no ties with probability 1).
    Reference: arXiv 2402.17902v1 Appendix B, Algorithm 2; tag C.
    Support mismatches against 0 and a discrepancy against round-off (the refits solve the
    same small systems, so the iterates agree exactly): a nontrivial ratio of 0 is the
    expected outcome, and no instance approaches the tolerance.
    """
    problem, k, iters = instance.problem, instance.k, instance.iters
    q = Quadratic(problem)
    k_prime = k + 1
    start = sorted(int(i) for i in np.argsort(q.group_norms(q.grad(np.zeros(q.b.size))))[:k_prime])
    parts = []
    t = np.arange(1, iters + 1)
    for rule in ("literal", "accept"):
        method = OMPR(k, k_prime, rule=rule, init_support=tuple(start))
        trace = run(method, problem, iters=iters, checkpoints=range(iters + 1), keep_iterates=True)
        supports, ref = reference_ompr(q, start, iters, rule, params["accept_sign"])
        got = trace.params["supports"][0]
        mismatch = np.array([got[r] != supports[r] for r in range(1, iters + 1)], dtype=float)
        gap, tol = _distance(trace.iterates[:, 0, :], ref)
        parts += [(t, mismatch, 0.0), (t, gap, tol)]
    return Evidence.stacked(parts, extra={"start": start})


# -- Sequential Attention ------------------------------------------------------------------------
def reference_sequential_attention(
    q: Quadratic,
    noise: Any,
    lams: np.ndarray,
    steps: int,
    step: float,
    *,
    init_scale: float,
    decay_selected: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Regularized linear Sequential Attention (Yasuda et al. 2023, as in ``seqattn.md`` §4).

    Each round j has S the groups picked so far and s_i(w) = 1 on S, w_i off S; θ and w off S
    restart from ``init_scale``·(the next two draws of ``noise``: θ of shape (R, d), then w of
    shape (R, t)), θ on S is kept; ``steps`` gradient steps of size η on
    𝓛(θ ⊙ s(w)) + (λ_j/2)(‖w_S̄‖² + ‖θ_S̄‖²) follow (λ_j = ``lams[:, j]``), and the round ends
    by picking argmax_{i∉S} |w_i|.  ``decay_selected=True`` also decays θ on S (the pitfall
    of §4 step 5; a control's wrong reference).  Returns u_t = θ_t ⊙ s(w_t) at every step
    (T + 1, R, d), u_0 the start of the first round, and the picks (R, k).
    """
    a, t = q.groups.assignment, q.groups.t
    R, k = lams.shape
    theta = init_scale * noise((R, a.size))
    w = init_scale * noise((R, t))
    selected = np.zeros((R, t))
    picks, us = np.zeros((R, 0), dtype=int), []
    for j in range(k):
        if j > 0:
            selected[np.arange(R), picks[:, -1]] = 1.0
        fresh_theta, fresh_w = init_scale * noise((R, a.size)), init_scale * noise((R, t))
        theta = np.where(selected[:, a] > 0, theta, fresh_theta)
        w = np.where(selected > 0, 1.0, fresh_w)
        lam = lams[:, j : j + 1]
        decayed = np.ones_like(theta) if decay_selected else 1.0 - selected[:, a]
        if j == 0:
            us.append(theta * w[:, a])
        for _ in range(steps):
            s = np.where(selected > 0, 1.0, w)
            residual = (theta * s[:, a]) @ q.H - q.b
            grad_theta = residual * s[:, a] + lam * decayed * theta
            block = np.stack([np.bincount(a, weights=v, minlength=t) for v in residual * theta])
            grad_w = (1.0 - selected) * (block + lam * w)
            theta, w = theta - step * grad_theta, w - step * grad_w
            us.append(theta * np.where(selected > 0, 1.0, w)[:, a])
        score = np.where(selected > 0, -1.0, np.abs(w))
        picks = np.concatenate([picks, np.argmax(score, axis=1)[:, None]], axis=1)
    return np.array(us), picks


def _attention_instances(quick: bool) -> list[SparseInstance]:
    out = [
        SparseInstance(
            "ls-n60-d8-k3", problem=correlated_least_squares(3, 60, 8, 0.5), k=3, steps=25, seed=5
        )
    ]
    if not quick:
        out.append(
            SparseInstance(
                "ls-rows2-t6-k2", problem=least_squares(63, 60, 12, 1, 2, 2), k=2, steps=40, seed=6
            )
        )
    return out


@_reference_theorem(
    id="seqattn.sa-reference",
    paper=PAPER_SA,
    instances=_attention_instances,
    label="Sequential Attention step by step (regularized linear form, ICLR 2023)",
    algorithm="sequential_attention",
    measure="max_i |u_t − u_t^ref| (relative to max(1, ‖u_t^ref‖_∞)); selection mismatches",
    default_params=lambda inst: {"decay_selected": False, "replicates": 2},
    controls=(
        NegativeControl(
            "reference decays the selected features too",
            params=lambda i, p: {**p, "decay_selected": True},
            expect="trained weights",
        ),
    ),
    strategy=attention_instances,
)
def sa_reference(instance: SparseInstance, params: dict[str, Any]) -> Evidence:
    """Sequential Attention as implemented equals its pseudo-code, step by step.

    Statement. The trained weights u_t = θ_t ⊙ s(w_t) of Sequential Attention equal those of
    the regularized linear form of Yasuda et al. (2023) at every gradient step of every
    round, and its selection order equals the reference's

    In detail: with S the selected groups, s_i(w) = 1 on S and w_i off S, each of k rounds
    restarts θ_S̄ and w_S̄ from ``init_scale`` noise (the generator's draws in their
    documented order: θ (R, d) then w (R, t) at the start and at every round), runs
    ``steps`` gradient steps of size η on 𝓛(θ ⊙ s(w)) + (λ/2)(‖w_S̄‖² + ‖θ_S̄‖²) and picks
    argmax_{i∉S} |w_i|.  Measured (every step, two replicates): the
    :class:`~mastbench.algorithms.pruning.SequentialAttention` output u_t, run by the driver,
    against :func:`reference_sequential_attention` on the quadratic form (H, b), driven by a
    copy of the same generator and the λ the method recorded per round (bound 1e-9
    relative); [pick_j ≠ pick_j^ref] per round (bound 0).  The trained weights are what a
    wrong update changes while the selection order survives it (a halved update still picks
    the same groups); ``seqattn.omp-equivalence`` checks the order and that λ lies in the
    1-sparse window.

    A run that blows up (no global step bound holds for the bilinear θ ⊙ w) is compared until
    either trajectory exceeds :data:`OVERFLOW` in magnitude (``extra["compared_until"]``):
    past it, rounding differences grow like the run itself (falsify found such instances).

    A reference trajectory is checked against round-off: the discrepancy is ~1e-16 of the
    scale, so a nontrivial worst ratio near 0 (measured/tolerance) is the expected outcome,
    and no instance approaches the tolerance.  Control: a reference that decays the selected
    features too (the pitfall of ``seqattn.md`` §4 step 5): a mismatch from the first step
    of the second round.

    Assumptions: least squares (a quadratic 𝓛); no ties (continuous random data).
    Reference: T. Yasuda et al., Sequential Attention for Feature Selection, ICLR 2023,
    arXiv 2209.14881 (regularized linear form as in ``shared/theory/seqattn.md`` §4); tag C.
    """
    problem, k, steps = instance.problem, instance.k, instance.steps
    R = int(params["replicates"])
    method = SequentialAttention(k, steps)
    iters = k * steps
    trace = run(
        method,
        problem,
        rng=rng(instance.seed),
        replicates=R,
        iters=iters,
        checkpoints=range(iters + 1),
        keep_iterates=True,
    )
    draws = rng(instance.seed)
    ref, picks = reference_sequential_attention(
        Quadratic(problem),
        lambda shape: np.asarray(draws.normal(shape)),
        np.asarray(trace.params["lam"], dtype=float),
        steps,
        float(trace.params["step"]),
        init_scale=method.init_scale,
        decay_selected=bool(params["decay_selected"]),
    )
    xs = trace.iterates
    gap, tol = _distance(xs, ref, axis=(1, 2))
    # A run that blows up (the bilinear θ ⊙ w has no global step bound) is compared until
    # either side leaves OVERFLOW: past it, rounding differences grow like the run itself.
    bounded = np.all(np.abs(xs) < OVERFLOW, axis=(1, 2)) & np.all(
        np.abs(ref) < OVERFLOW, axis=(1, 2)
    )
    stop = int(np.argmin(bounded)) if not bounded.all() else iters + 1
    t = trace.iterations[1:stop]
    gap, tol = gap[: t.size], tol[: t.size]
    rounds = np.arange(1, k + 1) * steps
    mismatch = np.sum(np.asarray(trace.params["order"]) != picks, axis=0).astype(float)
    kept = rounds < stop
    return Evidence.stacked(
        [(t, gap, tol), (rounds[kept], mismatch[kept], 0.0)],
        extra={
            "checks": ["trained weights u_t = u_t^ref"] * t.size
            + ["pick_j = pick_j^ref"] * int(kept.sum()),
            "order": picks.tolist(),
            "lam": np.asarray(trace.params["lam"]).tolist(),
            "compared_until": stop - 1,
        },
    )
