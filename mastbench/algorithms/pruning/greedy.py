"""Combinatorial block-sparse methods: group OMP, OMPR, group IHT, Sequential Attention.

Restricted minimizations β^S = argmin{𝓛(β): supp β ⊆ ∪_{i∈S} T_i} are exact
(:meth:`mastbench.problems.group_structured.GroupProblem.restricted_minimizer`, one per
replicate and step); selections use the gradient computed in the problem's namespace.  Each
method is a frozen dataclass run by :func:`mastbench.algorithms.driver.run`; the public
functions are thin wrappers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from mastbench.algorithms.driver import run
from mastbench.algorithms.method import MethodBase
from mastbench.algorithms.pruning.blocks import check_group_count, sparse_metrics, top_k_mask
from mastbench.backend import Generator, to_numpy
from mastbench.problems.group_penalties import one_sparse_window
from mastbench.problems.group_structured import GroupProblem
from mastbench.trace import Trace
from mastbench.validation import check_in_range, check_int, check_positive

__all__ = [
    "IHT",
    "OMPR",
    "GroupOMP",
    "SequentialAttention",
    "group_omp",
    "iht",
    "ompr",
    "sequential_attention",
]

RULES = ("literal", "accept")


def _gradient_norms(problem: GroupProblem, x: Any) -> np.ndarray:
    """‖∇𝓛(x)|_{T_i}‖ (R, t) computed in the problem's namespace, returned on the host."""
    return np.array(to_numpy(problem.group_norms(problem.grad(x))), dtype=float)


def _rows(problem: GroupProblem, rows: list[np.ndarray]) -> Any:
    """Host rows as one (R, d) array of the problem."""
    return problem.asarray(np.stack(rows))


class IterateState(NamedTuple):
    """The (R, d) iterate batch."""

    x: Any


class SelectionState(NamedTuple):
    """Group OMP: β^{S} (R, d) and the selection order (R, j) on the host."""

    x: Any
    order: np.ndarray


class SwapState(NamedTuple):
    """OMPR: β^{S} (R, d), 𝓛(β^S) (R,), the supports S₀..S_r of each replicate and the first
    step of period-2 cycling (None while none)."""

    x: Any
    values: np.ndarray
    supports: tuple[tuple[tuple[int, ...], ...], ...]
    cycle: tuple[int | None, ...]


class AttentionState(NamedTuple):
    """Sequential Attention: θ (R, d), attention w (R, t), the 0/1 selected groups (R, t),
    the output u = θ ⊙ expand(s(w)) (R, d), this round's λ (R, 1), the selection order
    (R, j), every round's λ and the (θ, w) each selection was made from on the host, and the
    step size in use."""

    theta: Any
    w: Any
    selected: Any
    u: Any
    lam: Any
    order: np.ndarray
    lams: tuple[tuple[float, ...], ...]
    ends: tuple[tuple[np.ndarray, np.ndarray], ...]
    step_size: float


@dataclass(frozen=True)
class GroupOMP(MethodBase):
    """Group OMP: each step adds argmax_{i∉S} ‖∇𝓛(β^S)|_{T_i}‖₂ and refits β^S exactly; the
    start is β^∅ = 0 whatever the driver hands to ``init``; ``k`` is the sparsity of the
    reference β*_k of the metrics.  See :func:`group_omp`."""

    name: ClassVar[str] = "group_omp"
    stochastic: ClassVar[bool] = False

    k: int

    def __post_init__(self) -> None:
        check_int("k", self.k, low=1)

    def init(self, problem: GroupProblem, x0: Any, rng: Any) -> SelectionState:
        check_group_count(problem, self.k)
        order = np.zeros((x0.shape[0], 0), dtype=np.int64)
        return SelectionState(problem.xp.zeros_like(x0), order)

    def step(
        self, problem: GroupProblem, state: SelectionState, k: int, rng: Any
    ) -> SelectionState:
        if state.order.shape[1] >= problem.groups.t:
            raise ValueError(f"group_omp: all t = {problem.groups.t} groups are selected")
        norms = _gradient_norms(problem, state.x)
        np.put_along_axis(norms, state.order, -np.inf, axis=1)
        order = np.concatenate([state.order, np.argmax(norms, axis=1)[:, None]], axis=1)
        rows = [problem.restricted_minimizer(support).x for support in order]
        return SelectionState(_rows(problem, rows), order)

    def output(self, state: SelectionState) -> Any:
        return state.x

    def metrics(self, problem: GroupProblem, x0: Any) -> dict[str, Any]:
        return sparse_metrics(problem, self.k)

    def summary(self, state: SelectionState) -> dict[str, Any]:
        return {"order": [[int(i) for i in row] for row in state.order]}


@dataclass(frozen=True)
class OMPR(MethodBase):
    """OMPR (SA++ App. B, Algorithm 2, concrete form [D]): each step adds the max-gradient
    group outside S and drops the smallest group of β^S, always (``"literal"``) or when the
    loss decreases (``"accept"``).  ``init``: the first support (default: the k′ groups with
    the smallest ‖∇𝓛(0)|_{T_i}‖).  See :func:`ompr`."""

    name: ClassVar[str] = "ompr"
    stochastic: ClassVar[bool] = False

    k: int
    k_prime: int
    rule: str = "literal"
    init_support: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_int("k", self.k, low=1)
        check_int("k_prime", self.k_prime, low=1)
        if self.rule not in RULES:
            raise ValueError(f"rule must be 'literal' or 'accept', got {self.rule!r}")

    def first_support(self, problem: GroupProblem) -> tuple[int, ...]:
        """S₀: ``init_support`` checked, or the k′ groups of smallest gradient norm at 0."""
        t = problem.groups.t
        if self.init_support is None:
            zero = problem.xp.zeros((1, problem.d), dtype=problem.dtype, device=problem.device)
            order = np.argsort(_gradient_norms(problem, zero)[0])
            return tuple(sorted(int(i) for i in order[: self.k_prime]))
        support = sorted(int(i) for i in self.init_support)
        if len(set(support)) != self.k_prime or min(support) < 0 or max(support) >= t:
            raise ValueError(f"init must hold {self.k_prime} distinct group ids in [0, t)")
        return tuple(support)

    def init(self, problem: GroupProblem, x0: Any, rng: Any) -> SwapState:
        check_group_count(problem, self.k)
        check_group_count(problem, self.k_prime, "k_prime")
        if self.k_prime >= problem.groups.t:
            raise ValueError(f"k_prime must be < t = {problem.groups.t} for a swap to exist")
        support = self.first_support(problem)
        sol = problem.restricted_minimizer(support)
        R = x0.shape[0]
        return SwapState(
            _rows(problem, [sol.x] * R),
            np.full(R, sol.value),
            ((support,),) * R,
            (None,) * R,
        )

    def step(self, problem: GroupProblem, state: SwapState, k: int, rng: Any) -> SwapState:
        grads = _gradient_norms(problem, state.x)
        x_host = np.array(to_numpy(state.x), dtype=float)
        rows, values, supports, cycles = [], state.values.copy(), [], []
        for r, history in enumerate(state.supports):
            support, x_r = list(history[-1]), x_host[r]
            norms = grads[r].copy()
            norms[support] = -np.inf
            add = int(np.argmax(norms))
            own = problem.groups.norms_host(x_r)[support]
            drop = support[int(np.argmin(own))]
            candidate = sorted([*(i for i in support if i != drop), add])
            new = problem.restricted_minimizer(candidate)
            if self.rule == "literal" or new.value < values[r]:
                support, x_r, values[r] = candidate, new.x, new.value
            history = (*history, tuple(support))
            cycle = state.cycle[r]
            if cycle is None and k >= 1 and history[-1] == history[-3] != history[-2]:
                cycle = k
            rows.append(x_r)
            supports.append(history)
            cycles.append(cycle)
        return SwapState(_rows(problem, rows), values, tuple(supports), tuple(cycles))

    def output(self, state: SwapState) -> Any:
        return state.x

    def metrics(self, problem: GroupProblem, x0: Any) -> dict[str, Any]:
        return sparse_metrics(problem, self.k)

    def summary(self, state: SwapState) -> dict[str, Any]:
        return {"supports": [list(h) for h in state.supports], "cycle": list(state.cycle)}


@dataclass(frozen=True)
class IHT(MethodBase):
    """Group IHT: β ← H_k(β − η∇𝓛(β)), H_k keeping the k groups of largest ‖·‖₂.
    See :func:`iht`."""

    name: ClassVar[str] = "iht"
    stochastic: ClassVar[bool] = False

    k: int
    step_size: float

    def __post_init__(self) -> None:
        check_int("k", self.k, low=1)
        check_positive("step", self.step_size)

    def init(self, problem: GroupProblem, x0: Any, rng: Any) -> IterateState:
        check_group_count(problem, self.k)
        return IterateState(x0)

    def step(self, problem: GroupProblem, state: IterateState, k: int, rng: Any) -> IterateState:
        z = state.x - self.step_size * problem.grad(state.x)
        return IterateState(z * problem.expand(top_k_mask(problem.group_norms(z), self.k)))

    def output(self, state: IterateState) -> Any:
        return state.x

    def metrics(self, problem: GroupProblem, x0: Any) -> dict[str, Any]:
        return sparse_metrics(problem, self.k)


@dataclass(frozen=True)
class SequentialAttention(MethodBase):
    """Sequential Attention, regularized linear form: k rounds of ``steps`` gradient steps on
    𝓛(θ ⊙ expand(s(w))) + (λ/2)(‖w_S̄‖² + ‖θ_S̄‖²), each round ending with the selection of
    argmax_{i∉S} |w_i| (S grows when the next round starts; the output is u of the round).
    ``step_size`` None: 0.5/L.  ``lam`` None: λ at ``position`` in each replicate's 1-sparse
    window.  See :func:`sequential_attention`."""

    name: ClassVar[str] = "sequential_attention"
    stochastic: ClassVar[bool] = True

    k: int
    steps: int
    step_size: float | None = None
    lam: float | None = None
    position: float = 0.25
    init_scale: float = 1e-3

    def __post_init__(self) -> None:
        check_int("k", self.k, low=1)
        check_int("steps", self.steps, low=1)
        if self.step_size is not None:
            check_positive("step", self.step_size)
        check_in_range("position", self.position, 0.0, 1.0, low_open=False, high_open=True)
        check_positive("init_scale", self.init_scale)
        if self.lam is not None:
            check_positive("lam", self.lam)

    def _noise(self, problem: GroupProblem, rng: Generator, shape: tuple[int, int]) -> Any:
        return rng.normal(shape, dtype=problem.dtype) * self.init_scale

    def init(self, problem: GroupProblem, x0: Any, rng: Generator) -> AttentionState:
        check_group_count(problem, self.k)
        xp, R, t = problem.xp, x0.shape[0], problem.groups.t
        theta = self._noise(problem, rng, (R, problem.d))
        w = self._noise(problem, rng, (R, t))
        selected = xp.zeros((R, t), dtype=problem.dtype, device=problem.device)
        step = 0.5 / problem.L if self.step_size is None else float(self.step_size)
        lam = xp.zeros((R, 1), dtype=problem.dtype, device=problem.device)
        order = np.zeros((R, 0), np.int64)
        state = AttentionState(theta, w, selected, theta, lam, order, (), (), step)
        return self._with_output(problem, state)

    def _with_output(self, problem: GroupProblem, state: AttentionState) -> AttentionState:
        """``state`` with u = θ ⊙ expand(s(w)), s_i(w) = 1 on S and w_i elsewhere."""
        selected = state.selected
        return state._replace(u=state.theta * problem.expand(selected + (1 - selected) * state.w))

    def _pick(self, problem: GroupProblem, state: AttentionState) -> AttentionState:
        """End of a round: append argmax_{i∉S} |w_i| to the order and keep the (θ, w) it was
        read from (S grows when the next round starts, so the output stays the trained u)."""
        xp, w = problem.xp, state.w
        score = xp.where(state.selected > 0, xp.full_like(w, -1.0), xp.abs(w))
        pick = np.asarray(to_numpy(xp.argmax(score, axis=-1)), dtype=np.int64)[:, None]
        end = (np.array(to_numpy(state.theta), copy=True), np.array(to_numpy(w), copy=True))
        return state._replace(
            order=np.concatenate([state.order, pick], axis=1), ends=(*state.ends, end)
        )

    def _start_round(
        self, problem: GroupProblem, state: AttentionState, rng: Generator
    ) -> AttentionState:
        """S ← S ∪ {last pick}; λ of each replicate for this round; fresh (θ, w) on the
        unselected groups."""
        R, j = state.order.shape
        xp = problem.xp
        selected = state.selected
        if j > 0:
            ids = xp.arange(problem.groups.t, device=problem.device)
            last = xp.asarray(state.order[:, -1], device=problem.device)
            selected = selected + xp.astype(ids[None, :] == last[:, None], problem.dtype)
        if self.lam is None:
            # the window depends on the selected set only: one bisection per distinct set
            sets = [tuple(sorted(state.order[r, :j].tolist())) for r in range(R)]
            windows = {S: one_sparse_window(problem, S) for S in set(sets)}
            values = [low + self.position * (tau - low) for low, tau in map(windows.get, sets)]
        else:
            values = [float(self.lam)] * R
        free, kept = 1 - selected, problem.expand(selected)
        fresh = self._noise(problem, rng, (R, problem.d))
        theta = kept * state.theta + (1 - kept) * fresh
        w = selected + free * self._noise(problem, rng, (R, problem.groups.t))
        return state._replace(
            theta=theta,
            w=w,
            selected=selected,
            lam=problem.asarray(np.asarray(values)[:, None]),
            lams=(*state.lams, tuple(values)),
        )

    def step(
        self, problem: GroupProblem, state: AttentionState, k: int, rng: Generator
    ) -> AttentionState:
        round_, inner = divmod(k, self.steps)
        if round_ >= self.k:
            raise ValueError(f"sequential_attention runs k·steps = {self.k * self.steps} steps")
        if inner == 0:
            state = self._start_round(problem, state, rng)
        selected, theta, w, lam = state.selected, state.theta, state.w, state.lam
        free = 1 - selected
        s_coords = problem.expand(selected + free * w)
        g = problem.grad(theta * s_coords)
        g_theta = g * s_coords + lam * theta * problem.expand(free)
        g_w = free * ((g * theta) @ problem.membership + lam * w)
        step = state.step_size
        state = state._replace(theta=theta - step * g_theta, w=w - step * g_w)
        state = self._with_output(problem, state)
        return self._pick(problem, state) if inner + 1 == self.steps else state

    def output(self, state: AttentionState) -> Any:
        return state.u

    def metrics(self, problem: GroupProblem, x0: Any) -> dict[str, Any]:
        return sparse_metrics(problem, self.k)

    def summary(self, state: AttentionState) -> dict[str, Any]:
        R, d = state.theta.shape
        t = state.w.shape[1]
        return {
            "order": state.order,
            "lam": np.asarray(state.lams).T,
            "step": state.step_size,
            "theta_at_pick": np.stack([e[0] for e in state.ends], axis=1).reshape(R, -1, d),
            "w_at_pick": np.stack([e[1] for e in state.ends], axis=1).reshape(R, -1, t),
        }


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
    trace = run(GroupOMP(k), problem, iters=steps, checkpoints=range(steps + 1))
    trace.params["order"] = trace.params["order"][0]
    return trace


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
    support = None if init is None else tuple(int(i) for i in init)
    method = OMPR(k, k_prime, rule=rule, init_support=support)
    trace = run(
        method, problem, iters=iters, checkpoints=range(check_int("iters", iters, low=0) + 1)
    )
    trace.params["supports"] = trace.params["supports"][0]
    trace.params["cycle"] = trace.params["cycle"][0]
    return trace


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
    method = IHT(check_group_count(problem, k), step)
    return run(method, problem, x0, iters=iters, replicates=replicates, keep_iterates=keep_iterates)


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
    (rate ∝ τ − λ).  ``params["order"]`` is the (R, k) selection order, ``params["lam"]``
    the (R, k) λ of each round, and ``params["theta_at_pick"]`` (R, k, d) and
    ``params["w_at_pick"]`` (R, k, t) the (θ, w) each selection was read from.

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
        Metrics of u = θ ⊙ s(w); ``params["order"]``, ``params["lam"]``,
        ``params["theta_at_pick"]`` and ``params["w_at_pick"]``.

    References
    ----------
    T. Yasuda, M. Bateni, L. Chen, M. Fahrbach, G. Fu, V. Mirrokni, Sequential Attention for
    Feature Selection, ICLR 2023, arXiv 2209.14881.
    """
    method = SequentialAttention(
        check_group_count(problem, k),
        steps,
        step_size=step,
        lam=lam,
        position=position,
        init_scale=init_scale,
    )
    if rng is None:
        raise ValueError("rng is required (random initialization of w and θ)")
    return run(method, problem, iters=k * steps, rng=rng, replicates=replicates)
