"""Combinatorial block-sparse methods: group OMP, OMPR, group IHT, Sequential Attention.

Restricted minimizations β^S = argmin{𝓛(β): supp β ⊆ ∪_{i∈S} T_i} are exact
(:meth:`problems.group_structured.GroupProblem.restricted_minimizer`); selections use the gradient
computed in the problem's namespace.  Re-exported by :mod:`mastbench.algorithms.pruning`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mastbench.algorithms._phases import (
    check_group_count,
    initial_weights,
    sparse_metrics,
    top_k_mask,
)
from mastbench.backend import Generator, to_numpy
from mastbench.problems.group_structured import GroupProblem
from mastbench.trace import Trace, TraceRecorder, checkpoints
from mastbench.validation import check_in_range, check_int, check_positive

__all__ = ["group_omp", "iht", "ompr", "sequential_attention"]


def _gradient_norms(problem: GroupProblem, x_host: np.ndarray) -> np.ndarray:
    """‖∇𝓛(x)|_{T_i}‖ computed in the problem's namespace, returned on the host."""
    x = problem.asarray(x_host)
    return to_numpy(problem.group_norms(problem.grad(x)))


def _batch(problem: GroupProblem, x_host: np.ndarray) -> Any:
    return problem.asarray(x_host[None, :])


def group_omp(problem: GroupProblem, *, k: int, steps: int | None = None) -> Trace:
    """Group orthogonal matching pursuit (fully corrective greedy; SA++ §1, [D] rate §2).

    S₀ = ∅; S_{j+1} = S_j ∪ {argmax_{i∉S_j} ‖∇𝓛(β^{S_j})|_{T_i}‖₂}; iterate β^{S_j}.
    Metrics at every selection j = 0..steps (default k) against the best k-group solution;
    ``params["order"]`` is the selection order.

    Parameters
    ----------
    problem : GroupProblem
        Group-structured loss.
    k : int
        Sparsity of the reference solution β*_k.
    steps : int, optional
        Number of selections (default k).

    Returns
    -------
    Trace
        One checkpoint per selection, x = β^{S_steps} (R = 1).

    References
    ----------
    arXiv 2402.17902 §1 ("group OMP"); the rate is derived in ``shared/theory/seqattn.md`` §2.
    """
    k = check_group_count(problem, k)
    steps = k if steps is None else check_group_count(problem, steps, "steps")
    recorder = TraceRecorder(
        "group_omp", steps, sparse_metrics(problem, k), checkpoints=range(steps + 1)
    )
    support: list[int] = []
    x = np.zeros(problem.d)
    recorder.record(0, _batch(problem, x))
    for j in range(steps):
        norms = _gradient_norms(problem, x)
        norms[support] = -np.inf
        support.append(int(np.argmax(norms)))
        x = problem.restricted_minimizer(support).x
        recorder.record(j + 1, _batch(problem, x))
    recorder.params.update({"k": k, "order": list(support)})
    return recorder.finish(_batch(problem, x))


def ompr(
    problem: GroupProblem,
    *,
    k: int,
    k_prime: int,
    iters: int,
    init: Any = None,
    rule: str = "literal",
) -> Trace:
    """OMPR via nonconvex regularization (SA++ App. B, Algorithm 2; concrete form [D]).

    With |S| = k′: add i = argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖₂ (the group the near-threshold
    q-regularized problem selects, Theorem 1.1 + Axiotis–Yasuda Lemma 3.2), drop
    j = argmin_{j∈S} ‖β^S|_{T_j}‖₂, S ← S ∪ {i} \\ {j}.  ``rule="literal"`` always swaps (it
    can cycle); ``rule="accept"`` swaps only when 𝓛(β^{S′}) < 𝓛(β^S), else stops.
    ``init``: the initial k′ groups (default: the k′ groups with the smallest ‖∇𝓛(0)|_{T_i}‖,
    a deliberately bad start).  ``params["supports"]`` lists S_r; ``params["cycle"]`` is the
    first r with S_{r+1} = S_{r−1} (period-2 cycling) or None.

    Parameters
    ----------
    problem : GroupProblem
        Group-structured loss.
    k : int
        Sparsity of the reference solution β*_k.
    k_prime : int
        Size k′ of the maintained support.
    iters : int
        Number R of swaps.
    init : sequence of int, optional
        Initial support.
    rule : str
        ``"literal"`` or ``"accept"``.

    Returns
    -------
    Trace
        One checkpoint per swap, x = β^{S_R} (R = 1).

    References
    ----------
    arXiv 2402.17902v1, Appendix B, Algorithm 2 and Theorem B.3.
    """
    k = check_group_count(problem, k)
    k_prime = check_group_count(problem, k_prime, "k_prime")
    if k_prime >= problem.groups.t:
        raise ValueError(f"k_prime must be < t = {problem.groups.t} for a swap to exist")
    iters = check_int("iters", iters, low=0)
    if rule not in ("literal", "accept"):
        raise ValueError(f"rule must be 'literal' or 'accept', got {rule!r}")
    if init is None:
        order = np.argsort(_gradient_norms(problem, np.zeros(problem.d)))
        support = sorted(int(i) for i in order[:k_prime])
    else:
        support = sorted(int(i) for i in init)
        if len(set(support)) != k_prime or min(support) < 0 or max(support) >= problem.groups.t:
            raise ValueError(f"init must hold {k_prime} distinct group ids in [0, t)")
    metrics = sparse_metrics(problem, k)
    recorder = TraceRecorder("ompr", iters, metrics, checkpoints=range(iters + 1))
    sol = problem.restricted_minimizer(support)
    supports, cycle = [tuple(support)], None
    recorder.record(0, _batch(problem, sol.x))
    for r in range(iters):
        norms = _gradient_norms(problem, sol.x)
        norms[list(support)] = -np.inf
        add = int(np.argmax(norms))
        own = problem.groups.norms_host(sol.x)[list(support)]
        drop = support[int(np.argmin(own))]
        candidate = sorted([*(i for i in support if i != drop), add])
        new = problem.restricted_minimizer(candidate)
        if rule == "literal" or new.value < sol.value:
            support, sol = candidate, new
        supports.append(tuple(support))
        if cycle is None and r >= 1 and supports[-1] == supports[-3] != supports[-2]:
            cycle = r
        recorder.record(r + 1, _batch(problem, sol.x))
    recorder.params.update({"k": k, "k_prime": k_prime, "rule": rule})
    recorder.params.update({"supports": supports, "cycle": cycle})
    return recorder.finish(_batch(problem, sol.x))


def iht(
    problem: GroupProblem,
    x0: Any = None,
    *,
    k: int,
    step: float,
    iters: int,
    replicates: int = 1,
    keep_iterates: bool = False,
) -> Trace:
    """Group iterative hard thresholding (Blumensath & Davies 2009; group form, SA++ §5).

    β ← H_k(β − η∇𝓛(β)), H_k keeping the k groups of largest ‖·‖₂ (the Euclidean projection
    onto k-group-sparse vectors for disjoint groups).  x0 (d,) or (R, d), default 0.

    Parameters
    ----------
    problem : GroupProblem
        Group-structured loss.
    x0 : array, optional
        Start, (d,) or (R, d).
    k : int
        Number of groups kept.
    step : float
        Step size η.
    iters : int
        Number of iterations.
    replicates : int
        R (when x0 is None).
    keep_iterates : bool
        Store the iterates at the checkpoints.

    Returns
    -------
    Trace
        Metrics of the k-group-sparse iterates.

    References
    ----------
    T. Blumensath, M. E. Davies, Iterative Hard Thresholding for Compressed Sensing, ACHA 2009.
    """
    k = check_group_count(problem, k)
    step = check_positive("step", step)
    iters = check_int("iters", iters, low=0)
    if x0 is None:
        x = problem.xp.zeros(
            (check_int("replicates", replicates, low=1), problem.d),
            dtype=problem.dtype,
            device=problem.device,
        )
    else:
        x = initial_weights(problem, x0, None, replicates, 1.0)
    recorder = TraceRecorder(
        "iht",
        iters,
        sparse_metrics(problem, k),
        checkpoints=checkpoints(iters),
        params={"k": k, "step": step},
        keep_iterates=keep_iterates,
    )
    recorder.record(0, x)
    for t in range(iters):
        z = x - step * problem.grad(x)
        x = z * problem.expand(top_k_mask(problem.group_norms(z), k))
        recorder.record(t + 1, x)
    return recorder.finish(x)


def sequential_attention(
    problem: GroupProblem,
    *,
    k: int,
    steps: int,
    step: float | None = None,
    rng: Generator | None = None,
    replicates: int = 1,
    lam: float | None = None,
    position: float = 0.25,
    init_scale: float = 1e-3,
) -> Trace:
    """Sequential Attention for feature (group) selection, linear-regression form.

    Yasuda et al., ICLR 2023 (arXiv 2209.14881), regularized linear form of
    ``shared/theory/seqattn.md`` §4: with S the selected groups and s_i(w) = 1 (i ∈ S), w_i
    otherwise, each of k rounds runs ``steps`` gradient steps on

        𝓛(u) + (λ/2)(‖w_S̄‖² + ‖θ_S̄‖²),  u = θ ⊙ expand(s(w)),

    then selects argmax_{i∉S} |w_i|; at each round the unselected (w, θ) restart from
    ``init_scale`` noise (``reset_weights`` of the released code).  By Hoff's identity the
    inner problem is the group LASSO with S unpenalized; λ defaults to
    λ_low + ``position``·(τ − λ_low) inside its 1-sparse window [λ_low, τ)
    (:func:`problems.group_penalties.one_sparse_window`) of each replicate's selected set
    (computed once per distinct set); nearer λ_low the selected group escapes 0 faster
    (rate ∝ τ − λ).  ``params["order"]`` is the (R, k) selection order.

    Parameters
    ----------
    problem : GroupProblem
        Group-structured least squares (any group loss works; the equivalence is for LS).
    k : int
        Number of groups selected.
    steps : int
        Gradient steps per selection round.
    step : float, optional
        Step size (default 0.5/L).
    rng : Generator
        Random initialization.
    replicates : int
        R runs batched as (R, d).
    lam : float, optional
        Fixed λ instead of the window rule.
    position : float
        Where in the 1-sparse window λ is taken.
    init_scale : float
        Scale of the initialization of w and θ.

    Returns
    -------
    Trace
        Metrics of u = θ ⊙ s(w); ``params["order"]`` (R, k).

    References
    ----------
    T. Yasuda, M. Bateni, L. Chen, M. Fahrbach, G. Fu, V. Mirrokni, Sequential Attention for
    Feature Selection, ICLR 2023, arXiv 2209.14881.
    """
    from mastbench.problems.group_penalties import one_sparse_window

    k = check_group_count(problem, k)
    steps = check_int("steps", steps, low=1)
    step = 0.5 / problem.L if step is None else check_positive("step", step)
    xp, t = problem.xp, problem.groups.t
    R = check_int("replicates", replicates, low=1)
    position = check_in_range("position", position, 0.0, 1.0, low_open=False, high_open=True)
    init_scale = check_positive("init_scale", init_scale)
    if rng is None:
        raise ValueError("rng is required (random initialization of w and θ)")
    theta = initial_weights(problem, None, rng, R, init_scale)
    w = problem.asarray(to_numpy(rng.normal((R, t)))) * init_scale
    selected = xp.zeros((R, t), dtype=problem.dtype, device=problem.device)
    ids = xp.arange(t, device=problem.device)
    order = np.zeros((R, k), dtype=np.int64)
    recorder = TraceRecorder(
        "sequential_attention", k * steps, sparse_metrics(problem, k), params={"k": k}
    )
    recorder.record(0, theta * problem.expand(selected + (1 - selected) * w))

    lams = []
    for j in range(k):
        if lam is None:
            # the window depends on the selected set only: one bisection per distinct set
            sets = [tuple(sorted(order[r, :j].tolist())) for r in range(R)]
            windows = {S: one_sparse_window(problem, S) for S in set(sets)}
            values = [low + position * (tau - low) for low, tau in map(windows.get, sets)]
        else:
            values = [check_positive("lam", lam)] * R
        lams.append(values)
        lam_r = problem.asarray(np.asarray(values)[:, None])
        free = 1 - selected
        kept, penalized = problem.expand(selected), problem.expand(free)
        fresh = initial_weights(problem, None, rng, R, init_scale)
        theta = kept * theta + (1 - kept) * fresh
        w = selected + free * problem.asarray(to_numpy(rng.normal((R, t)))) * init_scale
        for i in range(steps):
            s_coords = problem.expand(selected + free * w)
            g = problem.grad(theta * s_coords)
            g_theta = g * s_coords + lam_r * theta * penalized
            g_w = free * ((g * theta) @ problem.membership + lam_r * w)
            theta, w = theta - step * g_theta, w - step * g_w
            if recorder.due(j * steps + i + 1):
                recorder.record(j * steps + i + 1, theta * problem.expand(selected + free * w))
        score = xp.where(selected > 0, xp.full_like(w, -1.0), xp.abs(w))
        pick = xp.argmax(score, axis=-1)
        order[:, j] = to_numpy(pick)
        selected = selected + xp.astype(ids[None, :] == pick[:, None], problem.dtype)
    recorder.params.update({"order": order, "lam": np.asarray(lams).T, "step": step})
    return recorder.finish(theta * problem.expand(selected + (1 - selected) * w))
