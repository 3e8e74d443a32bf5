"""The phased pruning methods as implemented: SA++, ACDC, block magnitude pruning, powerprop.

Theorems ``seqattn.sa-pp-reference``, ``seqattn.acdc-reference``,
``seqattn.magnitude-pruning-reference`` and ``seqattn.powerprop-reference`` run each method
(its :class:`~mastbench.algorithms.method.Method` through the driver, every step recorded,
from a fixed start) on a small group least-squares instance and check, at every step:

1. the effective weights Ŵ_t against an independent reference of the method written here
   from the papers (:func:`reference_phased`: phases, masks, chain rule, heavy-ball momentum
   with its reset at every boundary);
2. the sparsity the method promises: the number of nonzero blocks of Ŵ_t equals the
   schedule (all blocks in a dense phase; k(j) = round((1 − s(1 − e^{−cj/n})/(1 − e^{−c}))·N)
   at step j of an n-step sparsification, SA++ §3.2; k in a sparse phase), so masks are
   block-structured and exactly k-sparse when sparse;
3. 𝓛(Ŵ_t) ≥ 𝓛(β*_k) whenever Ŵ_t is k-group sparse (β*_k the brute-force best k-group
   solution: a value below it is a bug, not a success).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.theory._core import Evidence, NegativeControl
from mastbench.theory._registry import theorem
from mastbench.theory.seqattn.common import PAPER, SparseInstance, least_squares
from mastbench.theory.seqattn.references import TOLERANCE, Quadratic
from mastbench.theory.seqattn.strategies import phased_instances

from mastbench.algorithms.driver import run
from mastbench.algorithms.pruning import (
    ACDC,
    BlockMagnitudePruning,
    BlockPowerprop,
    SequentialAttentionPP,
)

PEST = (
    "A. Peste, E. Iofinova, A. Vladu, D. Alistarh, AC/DC: Alternating Compressed/DeCompressed "
    "Training of Deep Neural Networks, NeurIPS 2021, arXiv 2106.12379"
)
SCHWARZ = (
    "J. Schwarz, S. Jayakumar, R. Pascanu, P. E. Latham, Y. W. Teh, Powerpropagation: A "
    "Sparsity Inducing Weight Reparameterisation, NeurIPS 2021, arXiv 2110.00296"
)


def _softmax(L: np.ndarray) -> np.ndarray:
    e = np.exp(L - L.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _top(scores: np.ndarray, m: int) -> np.ndarray:
    """0/1 rows keeping the m largest scores of each row."""
    out = np.zeros_like(scores)
    np.put_along_axis(out, np.argsort(-scores, axis=1, kind="stable")[:, :m], 1.0, axis=1)
    return out


def reference_phased(
    q: Quadratic,
    x0: np.ndarray,
    plan: list[tuple[str, int]],
    *,
    kind: str,
    k: int,
    step: float,
    momentum: float,
    weight_decay: float,
    mode: str,
    c: float = 4.0,
    exponent: float = 2.0,
    schedule_shift: int = 0,
    reset: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Ŵ_t (T + 1, R, d) and the number of kept blocks (T + 1, R) of a phased method.

    ``kind``: ``"plain"`` Ŵ = W ⊙ m; ``"powerprop"`` Ŵ_B = ‖V_B‖^{α−1}V_B ⊙ m (α =
    ``exponent``, 2 in SA++ Lemma 2.3; scores ‖Ŵ_B‖ = ‖V_B‖^α); ``"attention"``
    Ŵ = W ⊙ (A ⊙ m), A = N·softmax(L) (SA++ Algorithm 1; scores A).  Entering a phase zeroes
    the momentum; a dense phase sets m ≡ 1, a sparse one m = top-k(scores) (if m has more than
    k blocks), a sparsification prunes the survivors to k(j + ``schedule_shift``) before its
    step j; ``mode="pruning"`` zeroes W where m = 0.  Each step is heavy ball
    v ← βv + ∇, p ← p − ηv on 𝓛(Ŵ) + (wd/2)‖W‖² (W and, for attention, L).  ``reset=False``
    keeps the momentum across boundaries (a control's wrong reference).
    """
    a, N = q.groups.assignment, q.groups.t
    W, L, m = x0.copy(), np.zeros((x0.shape[0], N)), np.ones((x0.shape[0], N))

    def norms(V: np.ndarray) -> np.ndarray:
        return np.sqrt(np.stack([np.bincount(a, weights=v * v, minlength=N) for v in V]))

    def block_sum(V: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(a, weights=v, minlength=N) for v in V])

    def multiplier(W: np.ndarray, L: np.ndarray, m: np.ndarray) -> np.ndarray:
        if kind == "attention":
            return N * _softmax(L) * m
        if kind == "powerprop":
            return norms(W) ** (exponent - 1) * m
        return m

    def scores(W: np.ndarray, L: np.ndarray) -> np.ndarray:
        if kind == "attention":
            return N * _softmax(L)
        return norms(W) ** (exponent if kind == "powerprop" else 1)

    xs, kept = [W * multiplier(W, L, m)[:, a]], [m.sum(axis=1)]
    s = 1.0 - k / N
    vW, vL = np.zeros_like(W), np.zeros_like(L)
    for phase, n in plan:
        if reset:
            vW, vL = np.zeros_like(W), np.zeros_like(L)
        if phase == "dense":
            m = np.ones_like(m)
        elif phase == "sparse" and m.sum(axis=1).max() > k:
            m = _top(scores(W, L), k)
            W = W * m[:, a] if mode == "pruning" else W
        for j in range(1, n + 1):
            if phase == "sparsify":
                frac = (1 - np.exp(-c * (j + schedule_shift) / n)) / (1 - np.exp(-c))
                size = max(k, int(np.round((1 - s * frac) * N)))
                m = m * _top(np.where(m > 0, scores(W, L), -np.inf), size)
                W = W * m[:, a] if mode == "pruning" else W
            g = (W * multiplier(W, L, m)[:, a]) @ q.H - q.b
            if kind == "attention":
                sm = _softmax(L)
                gW = g * (N * sm * m)[:, a]
                h = block_sum(g * W) * m
                gL = N * sm * (h - (h * sm).sum(axis=1, keepdims=True))
                vL = momentum * vL + gL
                L = L - step * vL
            elif kind == "powerprop":
                r = norms(W)
                safe = np.where(r > 0, r, 1.0)
                inner = np.where(
                    r > 0, block_sum(g * W) * (exponent - 1) * safe ** (exponent - 3), 0
                )
                gW = m[:, a] * (r[:, a] ** (exponent - 1) * g + inner[:, a] * W)
            else:
                gW = g * m[:, a]
            vW = momentum * vW + gW + weight_decay * W
            W = W - step * vW
            xs.append(W * multiplier(W, L, m)[:, a])
            kept.append(m.sum(axis=1))
    return np.array(xs), np.array(kept)


def _instances(quick: bool) -> list[SparseInstance]:
    out = [SparseInstance("ls-rows-t6-k2", problem=least_squares(71, 60, 6, 2, 1, 2), k=2, seed=1)]
    if not quick:
        out.append(
            SparseInstance(
                "ls-rows2-t5-k3", problem=least_squares(72, 80, 10, 1, 2, 3), k=3, seed=2
            )
        )
    return out


def _evaluate(
    method: Any, kind: str, mode: str, instance: SparseInstance, params: dict[str, Any]
) -> Evidence:
    """Trajectory vs :func:`reference_phased` (``kind`` and ``mode`` the paper's, not read from
    the method), kept blocks vs the schedule, 𝓛 ≥ 𝓛(β*_k)."""
    problem = instance.problem
    x0 = 0.3 * np.random.default_rng(instance.seed).standard_normal((2, problem.d))
    plan = method.plan()
    trace = run(
        method,
        problem,
        problem.asarray(x0),
        iters=method.total,
        replicates=2,
        checkpoints=range(method.total + 1),
        keep_iterates=True,
    )
    xs = trace.iterates
    ref, kept = reference_phased(
        Quadratic(problem),
        x0,
        list(plan),
        kind=kind,
        k=method.k,
        step=method.step_size,
        momentum=method.momentum,
        weight_decay=method.weight_decay,
        mode=params["mode"] or mode,
        exponent=params["exponent"],
        schedule_shift=params["schedule_shift"],
        reset=params["reset"],
    )
    t = trace.iterations[1:]
    gap = np.max(np.abs(xs - ref), axis=(1, 2))[1:]
    tol = TOLERANCE * np.maximum(1.0, np.max(np.abs(ref), axis=(1, 2)))[1:]
    blocks = np.count_nonzero(problem.groups.norms_host(xs.reshape(-1, problem.d)) > 0, axis=1)
    blocks = blocks.reshape(xs.shape[:2])
    off_schedule = np.max(np.abs(blocks - kept), axis=1)[1:]
    best = problem.best_k_groups(method.k).value
    values = np.array([[problem.value_host(x) for x in row] for row in xs])
    sparse = np.all(blocks <= method.k, axis=1)
    parts = [(t, gap, tol), (t, off_schedule, 0.0)]
    if np.any(sparse[1:]):
        steps = trace.iterations[sparse]
        parts.append((steps, np.full(steps.size, best), values[sparse].min(axis=1)))
    return Evidence.stacked(
        parts,
        atol=1e-12 * max(1.0, abs(best)),
        extra={"plan": list(plan), "kept": kept[:, 0].tolist(), "best_k_value": best},
    )


_DEFAULTS = {"exponent": 2.0, "schedule_shift": 0, "mode": None, "reset": True}
_SHIFT = NegativeControl(
    "reference schedule one step ahead", params=lambda i, p: {**p, "schedule_shift": 1}
)


def _step_size(instance: SparseInstance, scale: float = 0.5) -> float:
    """``scale``/L: a step that trains without diverging on the instances."""
    return scale / instance.problem.L


def _register(
    theorem_id: str, algorithm: str, kind: str, mode: str, build: Any, doc: str, **fields: Any
):
    def evaluate(instance: SparseInstance, params: dict[str, Any]) -> Evidence:
        return _evaluate(build(instance), kind, mode, instance, params)

    evaluate.__doc__ = doc
    return theorem(
        id=theorem_id,
        rate="none",
        x_axis="iteration t",
        paper=fields.pop("paper", PAPER),
        tag="C",
        algorithm=algorithm,
        measure=(
            "max |Ŵ_t − Ŵ_t^ref| (relative); |#nonzero blocks of Ŵ_t − schedule|; "
            "𝓛(β*_k) against 𝓛(Ŵ_t) when k-sparse"
        ),
        method="deterministic",
        instances=_instances,
        default_params=lambda inst: dict(_DEFAULTS),
        strategy=phased_instances,
        **fields,
    )(evaluate)


sa_pp_reference = _register(
    "seqattn.sa-pp-reference",
    "sequential_attention_pp",
    "attention",
    "masking",
    lambda inst: SequentialAttentionPP(
        k=inst.k,
        step_size=_step_size(inst, 0.5 / inst.problem.groups.t**2),
        dense_steps=4,
        sparsify_steps=4,
        sparse_steps=3,
        cycles=1,
        final_steps=100,
        random_init=False,
    ),
    """SequentialAttention++ as implemented: Algorithm 1 with the §3.2 schedule, step by step.

    Statement. SA++'s Ŵ_t equals Algorithm 1 with the exponential schedule at every step; Ŵ_t
    has exactly the scheduled number of nonzero blocks; 𝓛(Ŵ_t) ≥ 𝓛(β*_k) when k-sparse

    In detail: SA++ trains W and one logit per block with Ŵ = W ⊙ (A ⊙ m), A = N·softmax(L),
    on 𝓛(Ŵ) + (wd/2)‖W‖² by heavy ball reset at every phase boundary, through
    dense → [sparsify → sparse → dense] → sparsify → sparse; the sparsification prunes the
    survivors of lowest A to k(j) = round((1 − s(1 − e^{−cj/n})/(1 − e^{−c}))·N), s = 1 − k/N,
    c = 4, before its step j; sparse phases freeze the mask ("masking": masked W kept).
    Measured (every step, two replicates from a fixed start): Ŵ_t against
    :func:`reference_phased` (bound 1e-9 relative); |#nonzero blocks − k(j)| (bound 0);
    𝓛(β*_k) ≤ 𝓛(Ŵ_t) on k-sparse steps, nearly attained: the final sparse phase of 100
    steps trains the k kept blocks close to β*_k (nontrivial ratio 0.999 on the quick
    instance, 0.126 with 3 final steps).  Control: the reference's schedule one step ahead
    (an off-by-one schedule): a mismatch at the first sparsification step.
    Step η = 0.5/(N²λ), λ the smoothness of 𝓛 in Ŵ (``problem.L``): A ≤ N, so 𝓛(W ⊙ A)
    has curvature up to N²λ in W.  At η = 0.5/λ, W and the logits diverged on some generated
    instances (max |Ŵ| × 1e13 in 22 steps) until the softmax underflowed: A_B = 0 exactly on
    kept blocks, and Ŵ_t had fewer nonzero blocks than the schedule while method and
    reference agreed.
    Assumptions: none (a deterministic identity on continuous data).
    Reference: arXiv 2402.17902v1 Algorithm 1, §3.2 and App. C.1; tag C.
    """,
    label="Algorithm 1 + §3.2 schedule (SA++), step by step",
    controls=(_SHIFT,),
)


acdc_reference = _register(
    "seqattn.acdc-reference",
    "acdc",
    "plain",
    "pruning",
    lambda inst: ACDC(
        k=inst.k,
        step_size=_step_size(inst),
        dense_steps=4,
        sparse_steps=3,
        cycles=1,
        final_steps=3,
        random_init=False,
    ),
    """AC/DC as implemented: alternating dense and sparse phases, step by step.

    Statement. ACDC's Ŵ_t equals alternating dense / top-k sparse training with pruned weights
    reintroduced as zeros at every step; Ŵ_t is k-group sparse in sparse phases; 𝓛(Ŵ_t) ≥
    𝓛(β*_k) there

    In detail: dense → [sparse → dense] → sparse; entering a sparse phase keeps the k blocks
    of largest ‖W_B‖_F and zeroes the others (pruned weights come back as zeros in the next
    dense phase), the mask is frozen during the phase, and the optimizer state is reset at
    every flip (heavy ball on 𝓛(W ⊙ m)).
    Measured (every step, two replicates from a fixed start): Ŵ_t against
    :func:`reference_phased` (bound 1e-9 relative); |#nonzero blocks − N or k| (bound 0);
    𝓛(β*_k) ≤ 𝓛(Ŵ_t) on k-sparse steps.  Control: a reference that keeps the pruned weights
    (masking mode): a mismatch in the dense phase after the first sparse phase.
    Assumptions: none (a deterministic identity on continuous data).
    Reference: Peste et al., AC/DC, NeurIPS 2021, arXiv 2106.12379 (IST-DASLab/ACDC,
    jaxpruner), block version as in arXiv 2402.17902 §4; tag C.
    """,
    paper=PEST,
    label="AC/DC, block version, step by step",
    controls=(
        NegativeControl(
            "reference keeps pruned weights (masking)", params=lambda i, p: {**p, "mode": "masking"}
        ),
    ),
)


magnitude_pruning_reference = _register(
    "seqattn.magnitude-pruning-reference",
    "block_magnitude_pruning",
    "plain",
    "pruning",
    lambda inst: BlockMagnitudePruning(
        k=inst.k, step_size=_step_size(inst), dense_steps=6, final_steps=4, random_init=False
    ),
    """Block magnitude pruning as implemented, step by step.

    Statement. magnitude pruning's Ŵ_t equals dense training, top-k by ‖W_B‖_F, fine-tuning at
    every step; k-group sparse after the prune with 𝓛(Ŵ_t) ≥ 𝓛(β*_k)

    In detail: train dense, keep the k blocks of largest ‖W_B‖_F, zero the rest, fine-tune
    on the support with the optimizer state reset at the prune.
    Measured (every step, two replicates from a fixed start): Ŵ_t against
    :func:`reference_phased` (bound 1e-9 relative); |#nonzero blocks − N or k| (bound 0);
    𝓛(β*_k) ≤ 𝓛(Ŵ_t) on k-sparse steps.  Control: a reference that keeps its momentum at
    the prune: a mismatch at the first fine-tuning step.
    Assumptions: none (a deterministic identity on continuous data).
    Reference: the magnitude baseline of arXiv 2402.17902 §4 (block version); tag C.
    """,
    label="block magnitude pruning, step by step",
    controls=(
        NegativeControl(
            "reference keeps its momentum at the prune", params=lambda i, p: {**p, "reset": False}
        ),
    ),
)


powerprop_reference = _register(
    "seqattn.powerprop-reference",
    "block_powerprop",
    "powerprop",
    "pruning",
    lambda inst: BlockPowerprop(
        k=inst.k, step_size=_step_size(inst, 0.1), dense_steps=6, final_steps=4, random_init=False
    ),
    """Block powerpropagation as implemented, step by step.

    Statement. powerprop's Ŵ_t equals training V with Ŵ_B = ‖V_B‖V_B, a top-k prune by ‖V_B‖²
    and fine-tuning at every step; k-group sparse after the prune with 𝓛(Ŵ_t) ≥ 𝓛(β*_k)

    In detail: Ŵ_B = ‖V_B‖^{α−1}V_B with α = 2 (group powerprop; Lemma 2.3 of SA++ makes
    weight decay on V a group LASSO on Ŵ); train V on 𝓛(Ŵ) + (wd/2)‖V‖², keep the k blocks
    of largest ‖Ŵ_B‖ = ‖V_B‖², fine-tune on them (optimizer reset at the prune).
    Measured (every step, two replicates from a fixed start): Ŵ_t against
    :func:`reference_phased` with its own chain rule ∂Ŵ/∂V (bound 1e-9 relative);
    |#nonzero blocks − N or k| (bound 0); 𝓛(β*_k) ≤ 𝓛(Ŵ_t) on k-sparse steps.  Control: the
    reference with α = 1 (the power forgotten, Ŵ = V): a mismatch at t = 1.
    Assumptions: none (a deterministic identity on continuous data).
    Reference: Schwarz et al., Powerpropagation, NeurIPS 2021, arXiv 2110.00296; group form
    arXiv 2402.17902 Lemma 2.3; tag C.
    """,
    paper=SCHWARZ,
    label="block powerpropagation, step by step",
    controls=(
        NegativeControl(
            "reference exponent α = 1 (power forgotten)",
            params=lambda i, p: {**p, "exponent": 1.0},
        ),
    ),
)
