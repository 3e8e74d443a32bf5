"""The phased block-pruning methods of the SequentialAttention++ family (arXiv 2402.17902).

SA++ (:class:`SequentialAttentionPP`), ACDC (:class:`ACDC`), block magnitude pruning
(:class:`BlockMagnitudePruning`) and block powerpropagation (:class:`BlockPowerprop`) are one
loop over a plan of phases (dense / sparsify / sparse) on a parameterization of the weights
(:mod:`.parameterization`), trained with momentum or Adam (:mod:`.optimizer`).  Each is a
frozen dataclass of its hyperparameters run by :func:`mastbench.algorithms.driver.run`; the
public functions are thin wrappers.  The schedule of the sparsification phase is
sparsity(τ) = s(1 − e^{−cτ})/(1 − e^{−c}) (§3.2, c = 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from mastbench.algorithms._docstrings import filled
from mastbench.algorithms.driver import run
from mastbench.algorithms.method import MethodBase
from mastbench.algorithms.pruning.blocks import check_group_count, sparse_metrics, top_k_mask
from mastbench.algorithms.pruning.optimizer import Moments, check_optimizer, optimizer_update
from mastbench.algorithms.pruning.parameterization import Parameterization
from mastbench.backend import Generator, to_numpy
from mastbench.problems.group_structured import GroupProblem
from mastbench.trace import Trace
from mastbench.validation import check_int, check_positive

__all__ = [
    "ACDC",
    "PHASES",
    "BlockMagnitudePruning",
    "BlockPowerprop",
    "PhaseState",
    "PhasedPruning",
    "SequentialAttentionPP",
    "acdc",
    "block_magnitude_pruning",
    "block_powerprop",
    "kept_blocks",
    "sequential_attention_pp",
    "sparsity_schedule",
]

PHASES = ("dense", "sparsify", "sparse")
MODES = ("masking", "pruning")


def sparsity_schedule(tau: float | np.ndarray, target: float, c: float = 4.0) -> np.ndarray:
    """sparsity(τ) = s·(1 − e^{−cτ})/(1 − e^{−c}) for τ ∈ [0, 1] (SA++ §3.2, c = 4)."""
    tau = np.asarray(tau, dtype=float)
    c = check_positive("c", c)
    return target * (1.0 - np.exp(-c * tau)) / (1.0 - math.exp(-c))


def kept_blocks(steps: int, n_blocks: int, k: int, c: float = 4.0) -> np.ndarray:
    """Blocks kept after each of the ``steps`` pruning steps of one sparsification phase.

    k(j) = round((1 − sparsity(j/steps))·N), j = 1..steps, with target sparsity 1 − k/N, so
    k(steps) = k; non-increasing in j.
    """
    steps = check_int("steps", steps, low=1)
    target = 1.0 - k / n_blocks
    sparsity = sparsity_schedule(np.arange(1, steps + 1) / steps, target, c)
    kept = np.round((1.0 - sparsity) * n_blocks).astype(int)
    kept[-1] = k
    return np.maximum(kept, k)


class PhaseState(NamedTuple):
    """State of a phased pruning method, batched over R replicates.

    Attributes
    ----------
    W : array (R, d)
        Trained weights (V for powerprop).
    logits : array (R, t)
        Attention logits L (SA++; zero and untrained otherwise).
    mask : array (R, t)
        0/1 block mask.
    x : array (R, d)
        Effective weights Ŵ of (W, logits, mask), the output.
    moments : Moments
        Optimizer memory (zeroed at every boundary when the method resets it).
    phase : int
        Index in the plan of the phase in progress (−1 before the first step).
    done : int
        Steps taken in that phase.
    boundaries : tuple of dict
        One record per phase entered: its name, start step, the scores, mask and weights W
        when it starts, and the optimizer memory's Σ‖·‖² before and after the reset.
    """

    W: Any
    logits: Any
    mask: Any
    x: Any
    moments: Moments
    phase: int
    done: int
    boundaries: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class PhasedPruning(MethodBase):
    """A plan of dense / sparsify / sparse phases on a parameterization of the weights.

    dense: mask ≡ 1.  sparsify: before each of its steps, keep the k(j) blocks of
    :func:`kept_blocks` with the largest scores among the survivors (backward selection).
    sparse: the mask is frozen; entering it from a dense phase sets mask = top-k(scores).
    ``mode="pruning"`` zeroes W on blocks as they are masked (they come back as zeros in the
    next dense phase); ``"masking"`` keeps their values.  A phase is entered at the start of
    its first step (phases of zero steps at once, and those ending the plan after its last
    step); entering one zeroes the optimizer memory when ``reset_optimizer``.  Each step
    minimizes 𝓛(Ŵ) + (wd/2)‖W‖² (+ (wd_L/2)‖L‖² for SA++) by one optimizer step.

    Attributes
    ----------
    k : int
        Number of blocks kept.
    step_size : float
        Optimizer step size η.
    weight_decay : float
        Decay wd on W.
    optimizer : str
        ``"momentum"`` or ``"adam"``.
    momentum : float
        Heavy-ball β in [0, 1).
    init_scale : float
        Scale of the standard normal initialization of W.
    random_init : bool
        Start from ``init_scale`` × standard normal (R, d) drawn from ``rng`` instead of the
        start the driver hands to ``init``.
    """

    k: int
    step_size: float
    weight_decay: float = 0.0
    optimizer: str = "momentum"
    momentum: float = 0.9
    init_scale: float = 0.1
    random_init: bool = True

    kind: ClassVar[str] = "plain"
    mode: ClassVar[str] = "pruning"
    reset_optimizer: ClassVar[bool] = True
    logit_decay: ClassVar[float] = 0.0
    c: ClassVar[float] = 4.0
    clip: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_int("k", self.k, low=1)
        check_positive("step", self.step_size)
        check_positive("weight_decay", self.weight_decay, strict=False)
        check_positive("logit_decay", self.logit_decay, strict=False)
        check_positive("init_scale", self.init_scale)
        check_positive("c", self.c)
        check_optimizer(self.optimizer, self.momentum)
        if self.mode not in MODES:
            raise ValueError(f"mode must be 'masking' or 'pruning', got {self.mode!r}")
        for name in ("dense_steps", "sparsify_steps", "sparse_steps", "cycles", "final_steps"):
            if hasattr(self, name):
                check_int(name, getattr(self, name), low=0)

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        """Random only through the initialization."""
        return self.random_init

    def plan(self) -> tuple[tuple[str, int], ...]:
        """The phases (name, steps) in order."""
        raise NotImplementedError

    @property
    def total(self) -> int:
        """Number of steps of the plan."""
        return sum(steps for _, steps in self.plan())

    def parameterization(self, problem: GroupProblem) -> Parameterization:
        """Ŵ as a function of (W, logits, mask) on ``problem``."""
        density = self.k / problem.groups.t
        clip = (density, 1.0 / density) if self.clip else None
        return Parameterization(self.kind, problem, clip=clip)

    def _trained(self, W: Any, logits: Any) -> tuple[Any, ...]:
        return (W, logits) if self.kind == "attention" else (W,)

    def init(self, problem: GroupProblem, x0: Any, rng: Generator | None) -> PhaseState:
        check_group_count(problem, self.k)
        xp = problem.xp
        W = x0
        if self.random_init:
            W = rng.normal(tuple(x0.shape), dtype=problem.dtype) * self.init_scale
        logits = xp.zeros(
            (W.shape[0], problem.groups.t), dtype=problem.dtype, device=problem.device
        )
        mask = xp.ones_like(logits)
        x = self.parameterization(problem).effective(W, logits, mask)
        moments = Moments.zeros(self.optimizer, self._trained(W, logits))
        state = PhaseState(W, logits, mask, x, moments, -1, 0, ())
        return self._advance(problem, state, 0) if self.total == 0 else state

    def _advance(self, problem: GroupProblem, state: PhaseState, start: int) -> PhaseState:
        """Enter the next phases while the one in progress is complete."""
        plan = self.plan()
        while state.phase + 1 < len(plan) and (
            state.phase < 0 or state.done >= plan[state.phase][1]
        ):
            state = self._enter(problem, state, state.phase + 1, start)
        return state

    def _enter(
        self, problem: GroupProblem, state: PhaseState, index: int, start: int
    ) -> PhaseState:
        """The boundary of phase ``index`` (starting at step ``start``)."""
        phase = self.plan()[index][0]
        param = self.parameterization(problem)
        xp, W, mask = problem.xp, state.W, state.mask
        before = state.moments.norm2()
        moments = state.moments
        if self.reset_optimizer:
            moments = Moments.zeros(self.optimizer, self._trained(W, state.logits))
        if phase == "dense":
            mask = xp.ones_like(mask)
        elif phase == "sparse" and float(to_numpy(xp.max(xp.sum(mask, axis=-1)))) > self.k:
            mask = top_k_mask(param.scores(W, state.logits), self.k)
            if self.mode == "pruning":
                W = W * problem.expand(mask)
        record = {
            "phase": phase,
            "start": start,
            "scores": to_numpy(param.scores(W, state.logits)),
            "mask": to_numpy(mask),
            "weights": to_numpy(W),
            "state_norm_before_reset": before,
            "state_norm_after_reset": moments.norm2(),
        }
        return state._replace(
            W=W,
            mask=mask,
            x=param.effective(W, state.logits, mask),
            moments=moments,
            phase=index,
            done=0,
            boundaries=(*state.boundaries, record),
        )

    def step(self, problem: GroupProblem, state: PhaseState, k: int, rng: Any) -> PhaseState:
        state = self._advance(problem, state, k)
        phase, steps = self.plan()[state.phase]
        param = self.parameterization(problem)
        xp, W, logits, mask = problem.xp, state.W, state.logits, state.mask
        if phase == "sparsify":
            kept = int(kept_blocks(steps, problem.groups.t, self.k, self.c)[state.done])
            scores = param.scores(W, logits)
            survivors = xp.where(mask > 0, scores, xp.full_like(scores, -math.inf))
            mask = mask * top_k_mask(survivors, kept)
            if self.mode == "pruning":
                W = W * problem.expand(mask)
        gW, gL, _ = param.gradients(W, logits, mask)
        gW = gW + self.weight_decay * W
        if gL is None:
            (W,), moments = optimizer_update(
                self.optimizer, self.step_size, self.momentum, state.moments, (W,), (gW,)
            )
        else:
            (W, logits), moments = optimizer_update(
                self.optimizer,
                self.step_size,
                self.momentum,
                state.moments,
                (W, logits),
                (gW, gL + self.logit_decay * logits),
            )
        state = state._replace(
            W=W,
            logits=logits,
            mask=mask,
            x=param.effective(W, logits, mask),
            moments=moments,
            done=state.done + 1,
        )
        return self._advance(problem, state, k + 1) if k + 1 == self.total else state

    def output(self, state: PhaseState) -> Any:
        return state.x

    def metrics(self, problem: GroupProblem, x0: Any) -> dict[str, Any]:
        return sparse_metrics(problem, self.k)

    def summary(self, state: PhaseState) -> dict[str, Any]:
        return {
            "plan": list(self.plan()),
            "boundaries": list(state.boundaries),
            "final_mask": to_numpy(state.mask),
        }


@dataclass(frozen=True)
class SequentialAttentionPP(PhasedPruning):
    """SequentialAttention++ (arXiv 2402.17902, Alg. 1, §3, App. C.1); see
    :func:`sequential_attention_pp`.  Plan: dense → cycles × [sparsify → sparse → dense] →
    sparsify → final sparse; selection by the attention A = N·softmax(L)."""

    name: ClassVar[str] = "sequential_attention_pp"
    kind: ClassVar[str] = "attention"

    weight_decay: float = 1e-2
    dense_steps: int = 100
    sparsify_steps: int = 50
    sparse_steps: int = 50
    cycles: int = 2
    final_steps: int = 200
    c: float = 4.0
    logit_decay: float = 0.0
    mode: str = "masking"
    clip: bool = False

    def plan(self) -> tuple[tuple[str, int], ...]:
        plan = [("dense", self.dense_steps)]
        for _ in range(self.cycles):
            plan += [("sparsify", self.sparsify_steps), ("sparse", self.sparse_steps)]
            plan += [("dense", self.dense_steps)]
        plan += [("sparsify", self.sparsify_steps), ("sparse", self.final_steps)]
        # empty dense and sparsify phases are dropped; an empty sparse phase still sets top-k
        return tuple((p, n) for p, n in plan if n > 0 or p == "sparse")


@dataclass(frozen=True)
class ACDC(PhasedPruning):
    """AC/DC (Peste et al. 2021), block version; see :func:`acdc`.  Plan: dense →
    cycles × [sparse → dense] → final sparse; selection by ‖W_B‖_F."""

    name: ClassVar[str] = "acdc"

    dense_steps: int = 100
    sparse_steps: int = 100
    cycles: int = 2
    final_steps: int = 200
    mode: str = "pruning"
    reset_optimizer: bool = True

    def plan(self) -> tuple[tuple[str, int], ...]:
        plan = [("dense", self.dense_steps)]
        for _ in range(self.cycles):
            plan += [("sparse", self.sparse_steps), ("dense", self.dense_steps)]
        return (*plan, ("sparse", self.final_steps))


@dataclass(frozen=True)
class _TrainThenPrune(PhasedPruning):
    """Dense training, one prune to the k largest blocks, fine-tuning on the support
    (optimizer reset at the prune): the plan of magnitude pruning and powerprop."""

    dense_steps: int = 300
    final_steps: int = 200

    def plan(self) -> tuple[tuple[str, int], ...]:
        return (("dense", self.dense_steps), ("sparse", self.final_steps))


@dataclass(frozen=True)
class BlockMagnitudePruning(_TrainThenPrune):
    """Block magnitude pruning (selection by ‖W_B‖_F); see :func:`block_magnitude_pruning`."""

    name: ClassVar[str] = "block_magnitude_pruning"


@dataclass(frozen=True)
class BlockPowerprop(_TrainThenPrune):
    """Block powerpropagation Ŵ_B = ‖V_B‖·V_B (selection by ‖V_B‖²); see
    :func:`block_powerprop`."""

    name: ClassVar[str] = "block_powerprop"
    kind: ClassVar[str] = "powerprop"

    weight_decay: float = 1e-3
    init_scale: float = 0.3


#: The arguments of the public functions that are not hyperparameter fields of their method.
_RUN_ARGUMENTS = ("problem", "x0", "k", "step", "rng", "replicates")


def _run(method_class: type[PhasedPruning], arguments: Mapping[str, Any]) -> Trace:
    """Run ``method_class`` as its public function was called, for its whole plan.

    ``arguments`` are that function's ``locals()``: ``problem``, ``x0``, ``k`` (checked
    against the problem's groups), ``step`` (the field ``step_size``), ``rng``,
    ``replicates``, and the method's other hyperparameters under their field names.  A start
    ``x0 = None`` is a random one, which needs ``rng``.
    """
    problem, x0, rng = arguments["problem"], arguments["x0"], arguments["rng"]
    method = method_class(
        k=check_group_count(problem, arguments["k"]),
        step_size=arguments["step"],
        random_init=x0 is None,
        **{name: value for name, value in arguments.items() if name not in _RUN_ARGUMENTS},
    )
    if rng is None and x0 is None:
        raise ValueError("rng is required when x0 is None (random initialization)")
    return run(method, problem, x0, iters=method.total, rng=rng, replicates=arguments["replicates"])


#: The parameters and results that the baselines share, filled into their docstrings.
_DOC = {
    "start": """problem : GroupProblem
        Group-structured loss (:mod:`problems.group_structured`).
    x0 : array, optional
        Initial weights, (d,) or (R, d); default ``init_scale`` × standard normal.
    k : int
        Number of blocks kept.
    step : float
        Optimizer step size.
    rng : Generator, optional
        Random generator (needed when ``x0`` is None).
    replicates : int
        Number R of independent runs, batched as (R, d).""",
    "optimizer": """optimizer, momentum : str, float
        ``"momentum"`` or ``"adam"``.""",
    "trace": """Metrics ``objective``, ``support``, ``subopt`` and ``recovery`` (vs the brute-force
        best k-group solution) of the effective weights; ``params["boundaries"]`` per phase.""",
}


def sequential_attention_pp(
    problem: GroupProblem,
    x0: Any = None,
    *,
    k: int,
    step: float,
    rng: Generator | None = None,
    replicates: int = 1,
    dense_steps: int = 100,
    sparsify_steps: int = 50,
    sparse_steps: int = 50,
    cycles: int = 2,
    final_steps: int = 200,
    c: float = 4.0,
    weight_decay: float = 1e-2,
    logit_decay: float = 0.0,
    optimizer: str = "momentum",
    momentum: float = 0.9,
    mode: str = "masking",
    clip: bool = False,
    init_scale: float = 0.1,
) -> Trace:
    """SequentialAttention++ block sparsification (arXiv 2402.17902, Alg. 1, §3, App. C.1).

    Parameters W ∈ ℝ^{R×d} and one logit per block L ∈ ℝ^{R×t} (L = 0 at start, so A ≡ 1);
    A = N·softmax(L) (N = t blocks, mean(A) = 1), effective weights Ŵ = W ⊙ expand(A ⊙ mask).
    Minimizes 𝓛(Ŵ) + (wd/2)‖W‖² + (wd_L/2)‖L‖² with momentum or Adam through the phases

        dense → cycles × [sparsification → sparse → dense] → sparsification → final sparse,

    where the sparsification phase prunes, before each step j, the survivors with the lowest A
    down to k(j) = round((1 − s(1 − e^{−cj/n})/(1 − e^{−c}))·N) blocks, s = 1 − k/N (c = 4),
    and the sparse phases keep the mask frozen.  With ``sparsify_steps = 0`` the mask of a
    sparse phase is top-k(A) at the end of the preceding dense phase (Alg. 1 without §3.2).
    The optimizer state is reset at every boundary (App. C.1).  Weight decay on W is what
    makes A informative: at a stationary point of the unregularized loss ∂𝓛/∂L = 0, while
    with decay λ‖W‖² the infimum over L is (λ/N)(Σ_i‖u_i‖)² (squared group ℓ1, §1.2).
    ``mode="pruning"`` zeroes masked weights; ``"masking"`` keeps them.  ``clip`` clips A to
    [density, 1/density], density = k/N (one reading of App. C.1, [U]).

    Returns
    -------
    Trace
        Metrics of Ŵ; ``params["boundaries"]`` records each phase start (scores = A, mask,
        optimizer state norms before/after reset); final ``x`` = Ŵ (k-group sparse).

    References
    ----------
    T. Yasuda, K. Axiotis, G. Fu, M. Bateni, V. Mirrokni, SequentialAttention++ for Block
    Sparsification, arXiv 2402.17902 (Algorithm 1, §3, Appendix C.1).
    """
    return _run(SequentialAttentionPP, locals())


@filled(_DOC)
def acdc(
    problem: GroupProblem,
    x0: Any = None,
    *,
    k: int,
    step: float,
    rng: Generator | None = None,
    replicates: int = 1,
    dense_steps: int = 100,
    sparse_steps: int = 100,
    cycles: int = 2,
    final_steps: int = 200,
    weight_decay: float = 0.0,
    optimizer: str = "momentum",
    momentum: float = 0.9,
    mode: str = "pruning",
    reset_optimizer: bool = True,
    init_scale: float = 0.1,
) -> Trace:
    """AC/DC (Peste et al. 2021; IST-DASLab/ACDC, jaxpruner), block version.

    dense warm-up → cycles × [sparse → dense] → final sparse.  Entering a sparse phase:
    mask ← top-k blocks by ‖W_B‖_F (pruned weights zeroed in ``"pruning"`` mode, the
    original); the mask is frozen during the phase; a dense phase sets mask ≡ 1 and pruned
    weights come back as zeros.  Optimizer reset at every flip when ``reset_optimizer``.

    Parameters
    ----------
    %(start)s
    dense_steps, sparse_steps, final_steps, cycles : int
        Phase lengths and the number of [sparse → dense] cycles.
    weight_decay : float
        Decay on W.
    %(optimizer)s
    mode : str
        ``"pruning"`` (zero masked weights) or ``"masking"``.
    reset_optimizer : bool
        Zero the optimizer state at every flip.
    init_scale : float
        Scale of the random initialization.

    Returns
    -------
    Trace
        %(trace)s

    References
    ----------
    A. Peste, E. Iofinova, A. Vladu, D. Alistarh, AC/DC: Alternating Compressed/DeCompressed
    Training of Deep Neural Networks, NeurIPS 2021, arXiv 2106.12379.
    """
    return _run(ACDC, locals())


@filled(_DOC)
def block_magnitude_pruning(
    problem: GroupProblem,
    x0: Any = None,
    *,
    k: int,
    step: float,
    rng: Generator | None = None,
    replicates: int = 1,
    dense_steps: int = 300,
    final_steps: int = 200,
    weight_decay: float = 0.0,
    optimizer: str = "momentum",
    momentum: float = 0.9,
    init_scale: float = 0.1,
) -> Trace:
    """Block magnitude pruning: train dense, keep the k blocks with the largest ‖W_B‖_F,
    zero the rest, fine-tune on the support (optimizer reset at the prune).

    Parameters
    ----------
    %(start)s
    dense_steps, final_steps : int
        Dense training and fine-tuning lengths.
    weight_decay : float
        Decay on W.
    %(optimizer)s
    init_scale : float
        Scale of the random initialization.

    Returns
    -------
    Trace
        %(trace)s

    References
    ----------
    The magnitude baseline of arXiv 2402.17902 §4 (block version, per-layer top-k).
    """
    return _run(BlockMagnitudePruning, locals())


@filled(_DOC)
def block_powerprop(
    problem: GroupProblem,
    x0: Any = None,
    *,
    k: int,
    step: float,
    rng: Generator | None = None,
    replicates: int = 1,
    dense_steps: int = 300,
    final_steps: int = 200,
    weight_decay: float = 1e-3,
    optimizer: str = "momentum",
    momentum: float = 0.9,
    init_scale: float = 0.3,
) -> Trace:
    """Block powerpropagation (Schwarz et al. 2021, group form of SA++ Lemma 2.3).

    Ŵ_B = ‖V_B‖₂·V_B; train V on 𝓛(Ŵ) + (wd/2)‖V‖² (= group LASSO with λ = wd/2 on Ŵ by
    Lemma 2.3), keep the k blocks with the largest ‖Ŵ_B‖ = ‖V_B‖², fine-tune on them.

    Parameters
    ----------
    %(start)s
    dense_steps, final_steps : int
        Training and fine-tuning lengths.
    weight_decay : float
        Decay on V (group LASSO of strength weight_decay/2 on Ŵ).
    %(optimizer)s
    init_scale : float
        Scale of the random initialization of V.

    Returns
    -------
    Trace
        %(trace)s

    References
    ----------
    J. Schwarz et al., Powerpropagation, NeurIPS 2021, arXiv 2110.00296; group form: Lemma 2.3
    of arXiv 2402.17902.
    """
    return _run(BlockPowerprop, locals())
