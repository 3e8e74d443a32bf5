"""Block sparsification: SequentialAttention++ and its baselines (arXiv 2402.17902).

Gradient-based methods (batched over R replicates, (R, d) arrays, in the problem's namespace):

* :func:`sequential_attention_pp` — SA++ (Alg. 1 + §3.2–3.5 of ``shared/theory/seqattn.md``);
* :func:`acdc` — alternating compressed / decompressed training (Peste et al. 2021);
* :func:`block_magnitude_pruning` — dense training, keep the top-k blocks by ‖W_B‖_F, fine-tune;
* :func:`block_powerprop` — Ŵ_B = ‖V_B‖·V_B (group powerpropagation, Lemma 2.3), prune by
  ‖V_B‖², fine-tune.

Combinatorial methods (exact restricted minimizations; :mod:`mastbench.algorithms._greedy`):
:func:`group_omp`, :func:`ompr`, :func:`iht`, :func:`sequential_attention`.

The problem is a :class:`problems.group_structured.GroupProblem`; every algorithm returns a
:class:`~mastbench.trace.Trace` with metrics ``objective``, ``support`` and, when the best
k-group solution can be enumerated, ``subopt`` (vs β*_k) and ``recovery``.
"""

from __future__ import annotations

from typing import Any

from mastbench.algorithms._greedy import group_omp, iht, ompr, sequential_attention
from mastbench.algorithms._phases import (
    Optimizer,
    Parameterization,
    check_group_count,
    initial_weights,
    run_phases,
)
from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.backend import Generator
from mastbench.problems.group_structured import GroupProblem
from mastbench.trace import Trace
from mastbench.validation import check_int, check_positive

__all__ = [
    "acdc",
    "block_magnitude_pruning",
    "block_powerprop",
    "group_omp",
    "iht",
    "ompr",
    "sequential_attention",
    "sequential_attention_pp",
]

PAPER = "Yasuda, Axiotis, Fu, Bateni, Mirrokni, SequentialAttention++, arXiv 2402.17902"


def _steps(**steps: int) -> dict[str, int]:
    return {name: check_int(name, value, low=0) for name, value in steps.items()}


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
    k = check_group_count(problem, k)
    s = _steps(
        dense_steps=dense_steps,
        sparsify_steps=sparsify_steps,
        sparse_steps=sparse_steps,
        cycles=cycles,
        final_steps=final_steps,
    )
    plan = [("dense", s["dense_steps"])]
    for _ in range(s["cycles"]):
        plan += [("sparsify", s["sparsify_steps"]), ("sparse", s["sparse_steps"])]
        plan += [("dense", s["dense_steps"])]
    plan += [("sparsify", s["sparsify_steps"]), ("sparse", s["final_steps"])]
    plan = [(p, n) for p, n in plan if n > 0 or p == "sparse"]
    density = k / problem.groups.t
    param = Parameterization("attention", problem, clip=(density, 1.0 / density) if clip else None)
    W = initial_weights(problem, x0, rng, replicates, check_positive("init_scale", init_scale))
    return run_phases(
        "sequential_attention_pp",
        problem,
        W,
        param=param,
        plan=plan,
        k=k,
        optimizer=Optimizer(optimizer, step, momentum),
        weight_decay=weight_decay,
        logit_decay=logit_decay,
        mode=mode,
        reset_optimizer=True,
        c=c,
        params={"k": k, "step": step, "plan": plan, "mode": mode, "clip": clip},
    )


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
    problem : GroupProblem
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
        Number R of independent runs, batched as (R, d).
    dense_steps, sparse_steps, final_steps, cycles : int
        Phase lengths and the number of [sparse → dense] cycles.
    weight_decay : float
        Decay on W.
    optimizer, momentum : str, float
        ``"momentum"`` or ``"adam"``.
    mode : str
        ``"pruning"`` (zero masked weights) or ``"masking"``.
    reset_optimizer : bool
        Zero the optimizer state at every flip.
    init_scale : float
        Scale of the random initialization.

    Returns
    -------
    Trace
        Metrics ``objective``, ``support``, ``subopt`` and ``recovery`` (vs the brute-force
        best k-group solution) of the effective weights; ``params["boundaries"]`` per phase.

    References
    ----------
    A. Peste, E. Iofinova, A. Vladu, D. Alistarh, AC/DC: Alternating Compressed/DeCompressed
    Training of Deep Neural Networks, NeurIPS 2021, arXiv 2106.12379.
    """
    k = check_group_count(problem, k)
    s = _steps(
        dense_steps=dense_steps, sparse_steps=sparse_steps, cycles=cycles, final_steps=final_steps
    )
    plan = [("dense", s["dense_steps"])]
    for _ in range(s["cycles"]):
        plan += [("sparse", s["sparse_steps"]), ("dense", s["dense_steps"])]
    plan += [("sparse", s["final_steps"])]
    W = initial_weights(problem, x0, rng, replicates, check_positive("init_scale", init_scale))
    return run_phases(
        "acdc",
        problem,
        W,
        param=Parameterization("plain", problem),
        plan=plan,
        k=k,
        optimizer=Optimizer(optimizer, step, momentum),
        weight_decay=weight_decay,
        logit_decay=0.0,
        mode=mode,
        reset_optimizer=reset_optimizer,
        c=4.0,
        params={"k": k, "step": step, "plan": plan, "mode": mode},
    )


def _train_then_prune(
    name: str,
    parameterization: str,
    problem: GroupProblem,
    x0: Any,
    *,
    k: int,
    step: float,
    rng: Generator | None,
    replicates: int,
    dense_steps: int,
    final_steps: int,
    weight_decay: float,
    optimizer: str,
    momentum: float,
    init_scale: float,
) -> Trace:
    """Dense training, one prune to the k largest blocks, fine-tuning on the support (optimizer
    reset at the prune): the shared schedule of magnitude pruning and powerprop."""
    k = check_group_count(problem, k)
    s = _steps(dense_steps=dense_steps, final_steps=final_steps)
    plan = [("dense", s["dense_steps"]), ("sparse", s["final_steps"])]
    W = initial_weights(problem, x0, rng, replicates, check_positive("init_scale", init_scale))
    return run_phases(
        name,
        problem,
        W,
        param=Parameterization(parameterization, problem),
        plan=plan,
        k=k,
        optimizer=Optimizer(optimizer, step, momentum),
        weight_decay=weight_decay,
        logit_decay=0.0,
        mode="pruning",
        reset_optimizer=True,
        c=4.0,
        params={"k": k, "step": step, "plan": plan},
    )


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
    problem : GroupProblem
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
        Number R of independent runs, batched as (R, d).
    dense_steps, final_steps : int
        Dense training and fine-tuning lengths.
    weight_decay : float
        Decay on W.
    optimizer, momentum : str, float
        ``"momentum"`` or ``"adam"``.
    init_scale : float
        Scale of the random initialization.

    Returns
    -------
    Trace
        Metrics ``objective``, ``support``, ``subopt`` and ``recovery`` (vs the brute-force
        best k-group solution) of the effective weights; ``params["boundaries"]`` per phase.

    References
    ----------
    The magnitude baseline of arXiv 2402.17902 §4 (block version, per-layer top-k).
    """
    return _train_then_prune(
        "block_magnitude_pruning",
        "plain",
        problem,
        x0,
        k=k,
        step=step,
        rng=rng,
        replicates=replicates,
        dense_steps=dense_steps,
        final_steps=final_steps,
        weight_decay=weight_decay,
        optimizer=optimizer,
        momentum=momentum,
        init_scale=init_scale,
    )


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
    problem : GroupProblem
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
        Number R of independent runs, batched as (R, d).
    dense_steps, final_steps : int
        Training and fine-tuning lengths.
    weight_decay : float
        Decay on V (group LASSO of strength weight_decay/2 on Ŵ).
    optimizer, momentum : str, float
        ``"momentum"`` or ``"adam"``.
    init_scale : float
        Scale of the random initialization of V.

    Returns
    -------
    Trace
        Metrics ``objective``, ``support``, ``subopt`` and ``recovery`` (vs the brute-force
        best k-group solution) of the effective weights; ``params["boundaries"]`` per phase.

    References
    ----------
    J. Schwarz et al., Powerpropagation, NeurIPS 2021, arXiv 2110.00296; group form: Lemma 2.3
    of arXiv 2402.17902.
    """
    return _train_then_prune(
        "block_powerprop",
        "powerprop",
        problem,
        x0,
        k=k,
        step=step,
        rng=rng,
        replicates=replicates,
        dense_steps=dense_steps,
        final_steps=final_steps,
        weight_decay=weight_decay,
        optimizer=optimizer,
        momentum=momentum,
        init_scale=init_scale,
    )


# -- the algorithm table -------------------------------------------------------------------
SA_PAPER = "Yasuda, Bateni, Chen, Fahrbach, Fu, Mirrokni, Sequential Attention, arXiv 2209.14881"


def _case(groups: int = 4, size: int = 2, **kwargs: Any):
    """make_case: a planted least-squares problem (60 samples, ``groups`` groups of ``size``,
    2 planted) and the keyword arguments ``kwargs``."""

    def make_case(xp: Any, device: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        from mastbench.backend import rng
        from mastbench.problems.group_random import planted_least_squares

        problem, _ = planted_least_squares(60, groups, size, rng(0, xp, device), k=2)
        return (problem,), dict(kwargs)

    return make_case


_PHASE = {"k": 2, "step": 0.05, "dense_steps": 5, "final_steps": 5}
for _fn, _paper, _stochastic, _make_case in (
    (
        sequential_attention_pp,
        PAPER,
        True,
        _case(**_PHASE, sparsify_steps=3, sparse_steps=3, cycles=1),
    ),
    (acdc, PAPER, True, _case(**_PHASE, sparse_steps=3, cycles=1)),
    (block_magnitude_pruning, PAPER, True, _case(**_PHASE)),
    (block_powerprop, PAPER, True, _case(**_PHASE)),
    (iht, PAPER, False, _case(k=2, step=0.05, iters=5)),
    (group_omp, PAPER, False, _case(k=2)),
    (ompr, PAPER, False, _case(k=1, k_prime=2, iters=3)),
    (sequential_attention, SA_PAPER, True, _case(groups=5, size=1, k=2, steps=50)),
):
    register_algorithm(
        AlgorithmSpec(
            name=_fn.__name__,
            family="seqattn",
            run=_fn,
            paper=_paper,
            stochastic=_stochastic,
            make_case=_make_case,
        )
    )
