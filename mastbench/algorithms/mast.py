"""MAST: Double Sketched (S)GD and its variants, as Methods batched over R replicates.

Reference: Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
Sparsified Training", ICLR 2025, arXiv 2311.16086 (Algorithm 1 "Double Sketched (S)GD", the
distributed method, Algorithm 3 L-SVRDSG); mathematics in ``shared/theory/mast.md`` §3.

Every algorithm minimizes the MAST objective f_D(x) = E_{S~D} f(v + S(x − v)) with the
double-sketched gradient ∇f_S(x) = Sᵀ∇f(v + S(x − v)), and runs R replicates as one (R, d)
array.  Rand-K and Permutation sketches use the index form (cost ∝ k per replicate),
Bernoulli/Identity the mask form, Gaussian/Discrete the matrix form.

Each algorithm is a :class:`~mastbench.algorithms.method.Method` (:class:`DSGD`,
:class:`DSGDImportance`, :class:`DistributedDSGD`, :class:`LSVRDSG`) run by
:func:`mastbench.algorithms.driver.run`; the public functions validate their arguments, build
the method and run it.  On NumPy and CuPy a step may update the iterate batch of the state in
place (an O(k) scatter instead of an O(d) copy): a state is consumed by the next step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from mastbench.algorithms import _mast_moments
from mastbench.algorithms._mast_setup import (
    AverageQuadratic,
    DistributedQuadraticMAST,
    check_problem,
    check_shift,
    check_sketch,
    mast_metrics,
)
from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.algorithms._sketch_ops import (
    Draw,
    Sampler,
    SparseGradient,
    descend,
    host_lambda_max_gram,
    scatter_subtract,
)
from mastbench.algorithms.driver import broadcast_start, run
from mastbench.algorithms.method import MethodBase
from mastbench.backend import Generator, to_numpy
from mastbench.problems.base import FiniteSum, Problem
from mastbench.trace import Trace
from mastbench.validation import check_int, check_positive

__all__ = [
    "DSGD",
    "LSVRDSG",
    "Clients",
    "DSGDImportance",
    "DistributedDSGD",
    "distributed_dsgd",
    "dsgd",
    "dsgd_importance",
    "importance_estimates",
    "importance_probabilities",
    "l_svrdsg",
]

PAPER = "Demidovich, Malinovsky, Shulgin, Richtárik, MAST, arXiv 2311.16086"


def _unpack(problem: Any, sketch: Any, shift: Any) -> tuple[Problem, Any, Any]:
    """(f, D, v) from a problem with ``sketch``/``shift``, or from a ``MASTObjective``."""
    from mastbench.problems.mast_objective import MASTObjective

    if isinstance(problem, MASTObjective):
        if sketch is not None or shift is not None:
            raise ValueError(
                "pass either a MASTObjective, or a problem with sketch= (and shift=), not both"
            )
        return problem.problem, problem.sketch, problem.shift
    problem = check_problem("problem", problem)
    if sketch is None:
        raise TypeError("sketch is required (or pass a problems.MASTObjective as problem)")
    return problem, check_sketch("sketch", sketch, problem.d), shift


def _objective(problem: Problem, sketch: Any, v: Any) -> Any:
    """f_D for the metrics, or a stand-in saying why it cannot be evaluated exactly (a
    non-quadratic f with a support too large to enumerate); the run itself needs neither."""
    from mastbench.problems.mast_objective import MASTObjective

    try:
        return MASTObjective(problem, sketch, v)
    except ValueError as exc:  # f_D not computable (support too large): its metrics are skipped
        return _Unavailable(str(exc))


# -- Double Sketched (S)GD, options I and II ---------------------------------------------------
class DSGDState(NamedTuple):
    """State of :class:`DSGD`: the (R, d) iterates, the shift v and cumulative counters.

    ``oracle`` is the restricted-gradient oracle of the index form (``None`` otherwise),
    built once from the problem; ``coords_touched`` is a float, or a 0-d array left on the
    device in mask form (converted at checkpoints only).
    """

    x: Any
    v: Any
    oracle: SparseGradient | None
    grad_evals: float
    sample_grads: float
    coords_touched: Any


class _OneSketch(MethodBase):
    """What the single-sketch MAST methods share (their ``sketch`` D and ``shift`` v): the
    iterate batch ``x`` of their state, the metrics of f and f_D, one gradient evaluation of d
    coordinates per step unless they count otherwise, and f_D = E f(v + S(x − v)), whose
    geometry the exact engine reads."""

    def output(self, state: Any) -> Any:
        return state.x

    def metrics(self, problem: Problem, x0: Any) -> Mapping[str, Any]:
        v = check_shift(problem, self.shift)
        return mast_metrics(problem, _objective(problem, self.sketch, v), x0)

    def counters(self, state: Any) -> dict[str, float]:
        return {
            "grad_evals": state.grad_evals,
            "coords_touched": state.grad_evals * state.x.shape[1],
        }

    def moment_objective(self, problem: Problem) -> Any:
        from mastbench.problems.mast_objective import MASTObjective

        return MASTObjective(problem, self.sketch, self.shift)


@dataclass(frozen=True, eq=False)
class DSGD(_OneSketch):
    """Double Sketched (S)GD as a :class:`~mastbench.algorithms.method.Method`.

    The hyperparameters of :func:`dsgd` (which documents them): ``sketch`` D, ``gamma`` γ
    (its ``step``), ``shift`` v (``None``: 0), ``option``, ``batch_size``, ``replace``,
    ``compressor`` and ``form``.  Checks that need no problem are done here; :func:`dsgd`
    checks the rest.
    """

    sketch: Any
    gamma: float
    shift: Any = None
    option: str = "I"
    batch_size: int | None = None
    replace: bool = True
    compressor: Any = None
    form: str = "auto"
    sampler: Sampler = field(init=False, repr=False)
    compress: Sampler | None = field(init=False, repr=False)

    name: ClassVar[str] = "dsgd"

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", check_positive("step", self.gamma))
        if self.option not in ("I", "II"):
            raise ValueError(f"option must be 'I' or 'II', got {self.option!r}")
        if not isinstance(self.replace, bool):
            raise TypeError(f"replace must be a bool, got {type(self.replace).__name__}")
        if self.option == "II" and self.batch_size is None:
            raise ValueError("option 'II' needs batch_size")
        if self.option == "I" and self.batch_size is not None:
            raise ValueError("batch_size is only used with option 'II'")
        check_sketch("sketch", self.sketch)
        if self.compressor is not None:
            check_sketch("compressor", self.compressor)
        if self.compressor is not None and not getattr(self.compressor, "diagonal", True):
            raise ValueError("compressor must be a diagonal sketch distribution")
        dense = self.option == "II" or self.compressor is not None
        sampler = Sampler(self.sketch, "mask" if dense and self.form == "auto" else self.form)
        if dense and sampler.form == "index":
            raise ValueError("form='index' is not available with option 'II' or a compressor")
        compress = None if self.compressor is None else Sampler(self.compressor, "mask")
        object.__setattr__(self, "sampler", sampler)
        object.__setattr__(self, "compress", compress)

    def init(self, problem: Problem, x0: Any, rng: Generator) -> DSGDState:
        v = check_shift(problem, self.shift)
        oracle = SparseGradient(problem, v) if self.sampler.form == "index" else None
        return DSGDState(x0, v, oracle, 0.0, 0.0, 0.0)

    def step(self, problem: Problem, state: DSGDState, k: int, rng: Generator) -> DSGDState:
        xp = problem.xp
        x, v, oracle = state.x, state.v, state.oracle
        replicates = x.shape[0]
        sample_grads = state.sample_grads
        draw = self.sampler.draw(rng, replicates, problem.dtype)
        if draw.form == "index":
            idx = draw.values
            w = draw.scale * oracle.deviation(xp, x, idx)
            g_idx = draw.scale * oracle(xp, idx, w)
            x = scatter_subtract(xp, x, idx, self.gamma * g_idx)
        else:
            zero_shift = self.shift is None
            y = draw.point(xp, None if zero_shift else v, x if zero_shift else x - v)
            if self.option == "I":
                g = problem.grad(y)
            else:
                batch = (
                    rng.integers(0, problem.n, (replicates, self.batch_size))
                    if self.replace
                    else rng.subsets(replicates, problem.n, self.batch_size)
                )
                g = problem.grad_batch(y, batch)
                sample_grads += self.batch_size
            g = draw.adjoint(xp, g)
            if self.compress is not None:
                g = self.compress.draw(rng, replicates, problem.dtype).adjoint(xp, g)
            x = descend(xp, x, self.gamma, g)
        coords = state.coords_touched + draw.coords(xp)
        return DSGDState(x, v, oracle, state.grad_evals + 1, sample_grads, coords)

    def counters(self, state: DSGDState) -> dict[str, Any]:
        return {
            "grad_evals": state.grad_evals,
            "sample_grads": state.sample_grads,
            "coords_touched": state.coords_touched,
        }

    def moment_map(self, problem: Problem) -> Any:
        """The exact engine's moment map of this method on a quadratic ``problem``
        (:mod:`mastbench.algorithms._mast_moments`)."""
        return _mast_moments.dsgd_map(self, problem)

    def params(self) -> dict[str, Any]:
        return {
            "step": self.gamma,
            "sketch": repr(self.sketch),
            "option": self.option,
            "batch_size": self.batch_size,
            "replace": self.replace,
            "compressor": None if self.compressor is None else repr(self.compressor),
            "form": self.sampler.form,
        }


def dsgd(
    problem: Problem,
    x0: Any,
    *,
    sketch: Any = None,
    step: float,
    iters: int,
    rng: Generator,
    replicates: int = 1,
    shift: Any = None,
    option: str = "I",
    batch_size: int | None = None,
    replace: bool = True,
    compressor: Any = None,
    form: str = "auto",
    checkpoints: Any = None,
    keep_iterates: bool = False,
    metrics: Any = None,
) -> Trace:
    """Double Sketched (S)GD (arXiv 2311.16086, Algorithm 1, options I and II).

    Update, for each replicate independently, with a fresh S^t ~ D every step::

        option I:   g^t = S^tᵀ ∇f(v + S^t(x^t − v))
        option II:  g^t = S^tᵀ (1/b) Σ_{i∈B^t} ∇f_i(v + S^t(x^t − v)),  B^t a data minibatch
        optional:   g^t ← Q(g^t),  Q an unbiased compressor (fresh draw, E Q(g) = g)
        x^{t+1} = x^t − γ g^t

    Option II with a compressor is the ABC setting of mast.md §3.1 / T-ABC.  The draws of
    S^t, of the minibatch B^t and of the compressor are independent of each other and of
    the past, and independent across replicates.

    Parameters
    ----------
    problem : Problem or MASTObjective
        f (a :class:`~problems.base.FiniteSum` for option II), or the MAST objective
        f_D = ``MASTObjective(f, D, v)`` itself (then ``sketch`` and ``shift`` must be
        omitted: passing either raises ``ValueError``).  Anything else raises ``TypeError``.
    x0 : array, shape (d,) or (replicates, d)
        Start x^0, an array of the problem's namespace (else ``TypeError``), finite, of one
        of the two shapes (else ``ValueError``); a (d,) start is shared by every replicate.
        It is copied, never modified.
    sketch : sketch distribution, optional when ``problem`` is a MASTObjective
        D, with E[S] = I (:mod:`mastbench.sketches`); required otherwise (``TypeError``
        when missing or not a sketch distribution); its dimension must equal ``problem.d``
        (``ValueError``).  A Permutation sketch is used through its first block (marginal
        Rand-(d/n)).
    step : float
        Step size γ > 0, finite (``TypeError`` if not a real number, ``ValueError`` if
        ≤ 0 or not finite).  No upper bound is enforced: the rate theorems in
        :mod:`theory.mast` state the range in which they hold (e.g. γ ≤ 1/(L L_S^max) in
        the strongly convex rate).
    iters : int
        Number of steps T ≥ 0 (``TypeError`` if not an integer, ``ValueError`` if < 0).
    rng : Generator
        Source of all randomness (:func:`mastbench.backend.rng`); anything else raises
        ``TypeError``.
    replicates : int, default 1
        Number R ≥ 1 of independent runs, batched as one (R, d) array.
    shift : array, shape (d,), optional
        v, an array of the problem's namespace (``TypeError``), of shape (d,)
        (``ValueError``) and finite; default ``None`` means v = 0.
    option : {"I", "II"}, default "I"
        "I": exact sketched gradient; "II": data-minibatch gradient (any other value raises
        ``ValueError``).  Option II needs a :class:`~problems.base.FiniteSum` problem
        (``TypeError`` otherwise).
    batch_size : int, optional
        Minibatch size b, 1 ≤ b ≤ n (``ValueError`` outside).  Required with option II and
        forbidden with option I (``ValueError`` in both cases).
    replace : bool, default True
        Option II: draw the b indices of B^t uniformly with (True) or without (False)
        replacement; ignored with option I.  A non-bool raises ``TypeError``.
    compressor : sketch distribution, optional
        An unbiased diagonal compressor applied to g^t: Q(g) = Diag(s) g with s drawn
        from the distribution (e.g. ``RandK(d, k)``: ω = d/k − 1).  Must have dimension d
        and be diagonal (``ValueError``).  Default ``None``: no compression.
    form : {"auto", "mask", "index"}, default "auto"
        How the sketch is applied (see :class:`~mastbench.algorithms._sketch_ops.Sampler`):
        "auto" uses the index form for Rand-K and Permutation (cost ∝ k per replicate), the
        mask form for other diagonal sketches and the matrix form otherwise; "index" needs a
        Rand-K or Permutation sketch and "mask" a diagonal one (``ValueError``).  Option II
        and compressors use the mask form ("auto" resolves to it; "index" raises
        ``ValueError``).  The form changes the cost, not the distribution of the iterates.
    checkpoints : array-like of int, optional
        Iterations in [0, iters] at which metrics are recorded (``ValueError`` outside);
        default :func:`mastbench.trace.checkpoints` (log-spaced, including 0 and iters).
    keep_iterates : bool, default False
        Also store the (R, d) iterates at the checkpoints in ``Trace.iterates``.
    metrics : sequence of str, optional
        Record only these of ``subopt``, ``subopt_D``, ``dist2``, ``gradnorm2_D`` (default
        all; the ``_D`` metrics cost an enumeration of the support for non-quadratic f; an
        empty sequence records only counters and time, for benchmarks).  A string or a
        non-string entry raises ``TypeError``, an unknown name ``ValueError``.

    Returns
    -------
    Trace
        ``algorithm="dsgd"``.  Metrics, each (C, R): ``subopt`` (f(x) − f*), ``subopt_D``
        (f_D(x) − f_D*), ``dist2`` (‖x − x_D*‖²), ``gradnorm2_D`` (‖∇f_D(x)‖²), where
        computable (``params["skipped_metrics"]`` maps each missing one to the reason).
        Counters, cumulative, per replicate: ``grad_evals`` (oracle calls of ∇f or of a
        minibatch gradient: one per step), ``sample_grads`` (component gradients ∇f_i, b per
        step with option II, 0 with option I) and ``coords_touched`` (coordinates kept by
        S^t, mean over replicates).  ``x`` is x^T, shape (R, d); ``params`` records
        ``step``, ``iters``, ``replicates``, ``sketch``, ``option``, ``batch_size``,
        ``replace``, ``compressor`` and the resolved ``form``.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments, as listed under Parameters.

    References
    ----------
    .. [1] Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
       Sparsified Training", ICLR 2025, arXiv 2311.16086: Algorithm 1 (Double Sketched
       (S)GD; header [C], options I/II [R], the step line x^{t+1} = x^t − γ g^t [D]) and the
       ABC condition, eqs. (8)–(9) [R; exact form U].  Tags as in ``shared/theory/mast.md``
       §3.1: [C] confirmed, [R] reported by reviews, [D] derived there, [U] uncertain.
    """
    problem, sketch, shift = _unpack(problem, sketch, shift)
    if option == "II":
        if not isinstance(problem, FiniteSum):
            raise TypeError("option 'II' needs a problems.FiniteSum (it samples data)")
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, low=1, high=problem.n)
    if compressor is not None:
        compressor = check_sketch("compressor", compressor, problem.d)
    method = DSGD(
        sketch=sketch,
        gamma=step,
        shift=shift,
        option=option,
        batch_size=batch_size,
        replace=replace,
        compressor=compressor,
        form=form,
    )
    return run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
        metrics=metrics,
        keep_iterates=keep_iterates,
    )


# -- importance sampling over a finite sketch distribution -------------------------------------
def importance_probabilities(sketch: Any) -> np.ndarray:
    """Default importance sampling over a Discrete sketch: q_j ∝ w_j λ_max(S_jᵀS_j).

    With these q the key-lemma constant becomes A = L_f E[L_S] instead of L_f L_S^max
    (mast.md §3.1, [D]).  Sketches with S_j = 0 get q_j = 0 (their gradient is zero).
    """
    matrices, weights = _discrete(sketch)
    score = weights * host_lambda_max_gram(matrices)
    if not np.any(score > 0):
        raise ValueError("every sketch in the support is zero; importance sampling undefined")
    return score / score.sum()


def _discrete(sketch: Any) -> tuple[np.ndarray, np.ndarray]:
    from mastbench.sketches import Discrete

    if not isinstance(sketch, Discrete):
        raise TypeError(
            f"sketch must be a mastbench.sketches.Discrete, got {type(sketch).__name__}"
        )
    return (
        np.asarray(to_numpy(sketch.matrices), dtype=float),
        np.asarray(to_numpy(sketch.weights), dtype=float),
    )


def _table(problem: Problem, sketch: Any, matrices: np.ndarray) -> tuple[Any, str]:
    """The support of a Discrete sketch on the problem's device: diagonals or matrices."""
    if getattr(sketch, "diagonal", False):
        return problem.asarray(np.einsum("nii->ni", matrices)), "mask"
    return problem.asarray(matrices), "matrix"


def _check_q(q: Any, matrices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    q = np.asarray(to_numpy(q), dtype=float)
    N = weights.size
    if q.shape != (N,):
        raise ValueError(f"q must have shape ({N},), got {q.shape}")
    if not np.all(np.isfinite(q)) or np.any(q < 0):
        raise ValueError("q must be finite and nonnegative")
    if not np.isclose(q.sum(), 1.0, rtol=0, atol=1e-12):
        raise ValueError(f"q must sum to 1, got {q.sum()!r}")
    needed = (weights > 0) & (np.abs(matrices).reshape(N, -1).max(axis=1) > 0)
    if np.any(needed & (q == 0)):
        raise ValueError("q must be > 0 wherever w_j > 0 and S_j ≠ 0 (else the estimate is biased)")
    return q


def importance_estimates(
    problem: Problem, x: Any, *, sketch: Any = None, q: Any = None, shift: Any = None
) -> Any:
    """The N possible importance-sampled gradients (w_j/q_j) S_jᵀ∇f(v + S_j(x − v)).

    Parameters
    ----------
    problem : Problem
        f.
    x : array, shape (d,)
        Point.
    sketch : Discrete
        D = Σ_j w_j δ_{S_j}.
    q : array-like, shape (N,), optional
        Sampling probabilities (default :func:`importance_probabilities`).
    shift : array, optional
        v.

    Returns
    -------
    array, shape (N, d)
        Row j is the estimate when index j is drawn; Σ_j q_j · row_j = ∇f_D(x) (unbiased),
        rows with q_j = 0 are zero.
    """
    problem, sketch, shift = _unpack(problem, sketch, shift)
    matrices, weights = _discrete(sketch)
    q = importance_probabilities(sketch) if q is None else _check_q(q, matrices, weights)
    v = check_shift(problem, shift)
    xp = problem.xp
    ratio = np.divide(weights, q, out=np.zeros_like(q), where=q > 0)
    table, form = _table(problem, sketch, matrices)
    z = broadcast_start(problem, x, matrices.shape[0]) - v
    draw = Draw(form, table)
    g = draw.gradient(xp, problem, v, z)
    return problem.asarray(ratio)[:, None] * g


class ImportanceState(NamedTuple):
    """State of :class:`DSGDImportance`: iterates, the sampling tables (support and ratios
    w_j/q_j on the problem's device; the CDF of q, host float64, and its last positive index)
    and the step count."""

    x: Any
    v: Any
    table: Any
    form: str
    ratio: Any
    cdf: Any
    last: int
    grad_evals: float


@dataclass(frozen=True, eq=False)
class DSGDImportance(_OneSketch):
    """DSGD with importance sampling over a Discrete sketch, as a Method.

    Hyperparameters of :func:`dsgd_importance`: ``sketch`` (Discrete), ``gamma`` γ (its
    ``step``), ``shift`` v and ``q`` (``None``: :func:`importance_probabilities`);
    ``probabilities`` holds the q in use, on the host.
    """

    sketch: Any
    gamma: float
    shift: Any = None
    q: Any = None
    probabilities: np.ndarray = field(init=False, repr=False)

    name: ClassVar[str] = "dsgd_importance"

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", check_positive("step", self.gamma))
        matrices, weights = _discrete(self.sketch)
        q = (
            importance_probabilities(self.sketch)
            if self.q is None
            else _check_q(self.q, matrices, weights)
        )
        object.__setattr__(self, "probabilities", q)

    def init(self, problem: Problem, x0: Any, rng: Generator) -> ImportanceState:
        matrices, weights = _discrete(self.sketch)
        q = self.probabilities
        table, form = _table(problem, self.sketch, matrices)
        ratio = problem.asarray(np.divide(weights, q, out=np.zeros_like(q), where=q > 0))
        cdf = np.minimum(np.cumsum(q), 1.0)
        last = int(np.flatnonzero(q > 0)[-1])
        v = check_shift(problem, self.shift)
        return ImportanceState(x0, v, table, form, ratio, cdf, last, 0.0)

    def step(
        self, problem: Problem, state: ImportanceState, k: int, rng: Generator
    ) -> ImportanceState:
        xp = problem.xp
        x = state.x
        j = xp.minimum(rng.categorical(state.cdf, x.shape[0]), state.last)
        draw = Draw(state.form, xp.take(state.table, j, axis=0))
        g = draw.gradient(xp, problem, state.v, x - state.v)
        x = x - self.gamma * xp.take(state.ratio, j)[:, None] * g
        return state._replace(x=x, grad_evals=state.grad_evals + 1)

    def moment_map(self, problem: Problem) -> Any:
        """The exact engine's moment map of this method on a quadratic ``problem``
        (:mod:`mastbench.algorithms._mast_moments`)."""
        return _mast_moments.importance_map(self, problem)

    def params(self) -> dict[str, Any]:
        return {"step": self.gamma, "q": self.probabilities.tolist()}


def dsgd_importance(
    problem: Problem,
    x0: Any,
    *,
    sketch: Any = None,
    step: float,
    iters: int,
    rng: Generator,
    replicates: int = 1,
    shift: Any = None,
    q: Any = None,
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """DSGD with importance sampling over a Discrete sketch distribution (mast.md §3.1, [D]).

    For D = Σ_j w_j δ_{S_j}, draw j^t ~ q and step::

        x^{t+1} = x^t − γ (w_j/q_j) S_jᵀ ∇f(v + S_j(x^t − v)),

    unbiased for ∇f_D(x^t).  Default q_j ∝ w_j λ_max(S_jᵀS_j); any q with q_j > 0 wherever
    w_j S_j ≠ 0 is accepted.

    Parameters
    ----------
    problem, x0, step, iters, rng, replicates, shift, checkpoints, keep_iterates
        As in :func:`dsgd` (``problem`` may again be a ``MASTObjective`` whose sketch is a
        Discrete distribution).
    sketch : Discrete
        D = Σ_j w_j δ_{S_j} (:class:`~mastbench.sketches.Discrete`, ``TypeError``
        otherwise), of dimension d.  Diagonal supports are applied in mask form, others in
        matrix form.
    q : array-like, shape (N,), optional
        Sampling probabilities over the N support points: finite, ≥ 0, summing to 1 within
        1e-12, and q_j > 0 wherever w_j > 0 and S_j ≠ 0 (else the estimate is biased); any
        violation raises ``ValueError``.  Default :func:`importance_probabilities`,
        q_j ∝ w_j λ_max(S_jᵀS_j) (``ValueError`` if every S_j is zero).

    Returns
    -------
    Trace
        ``algorithm="dsgd_importance"``.  Metrics as :func:`dsgd` (all four, where
        computable).  Counters: ``grad_evals`` (one ∇f call per step) and ``coords_touched``
        (d per step: the dense forms touch every coordinate).  ``params`` records ``step``,
        ``iters``, ``replicates``, ``q`` (the probabilities used) and ``skipped_metrics``.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments, as listed under Parameters and in :func:`dsgd`.

    References
    ----------
    .. [1] Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
       Sparsified Training", ICLR 2025, arXiv 2311.16086.  The abstract's "SGD with general
       sampling" is [U]; this importance sampling over sketches, its unbiasedness and the
       constant A = L_f E[L_S] for the default q are derived in ``shared/theory/mast.md``
       §3.1 [D], not taken from the paper.
    """
    problem, sketch, shift = _unpack(problem, sketch, shift)
    method = DSGDImportance(sketch=sketch, gamma=step, shift=shift, q=q)
    return run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


# -- distributed DSGD / IST --------------------------------------------------------------------
class Clients:
    """M client problems f_1, …, f_M as the one problem the driver runs (f = (1/M) Σ f_i).

    Attributes
    ----------
    problems : tuple of Problem
        The clients, with equal dimension and namespace.
    d, xp, dtype, device
        Those of the first client.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        first = self.problems[0]
        self.d, self.xp, self.dtype, self.device = first.d, first.xp, first.dtype, first.device

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)


def _client_list(problem: Clients | Sequence[Problem]) -> tuple[Problem, ...]:
    return problem.problems if isinstance(problem, Clients) else tuple(problem)


class DistributedState(NamedTuple):
    """State of :class:`DistributedDSGD`: iterates, shift, per-client index oracles (``None``
    in mask/matrix form) and the cumulative counters."""

    x: Any
    v: Any
    oracles: tuple[SparseGradient | None, ...]
    grad_evals: float
    coords_touched: Any


@dataclass(frozen=True, eq=False)
class DistributedDSGD(MethodBase):
    """Distributed Double Sketched GD (IST, federated submodels) as a Method.

    Hyperparameters of :func:`distributed_dsgd`: ``sketches`` (a joint Permutation with one
    block per client, or a sequence of per-client distributions), ``gamma`` γ (its ``step``),
    ``shift`` v and ``form``.  Runs on :class:`Clients`.
    """

    sketches: Any
    gamma: float
    shift: Any = None
    form: str = "auto"
    samplers: tuple[Sampler, ...] = field(init=False, repr=False)

    name: ClassVar[str] = "distributed_dsgd"

    def __post_init__(self) -> None:
        from mastbench.sketches import Permutation

        object.__setattr__(self, "gamma", check_positive("step", self.gamma))
        if isinstance(self.sketches, Permutation):
            n = self.sketches.n
            samplers = tuple(Sampler(self.sketches, self.form, block=i) for i in range(n))
        else:
            object.__setattr__(self, "sketches", tuple(self.sketches))
            for i, s in enumerate(self.sketches):
                check_sketch(f"sketches[{i}]", s)
            samplers = tuple(Sampler(s, self.form) for s in self.sketches)
        object.__setattr__(self, "samplers", samplers)

    @property
    def joint(self) -> bool:
        """Whether the clients' sketches are the blocks of one Permutation."""
        return not isinstance(self.sketches, tuple)

    @property
    def marginals(self) -> list[Any]:
        """Each client's sketch distribution (Rand-(d/M) for a joint Permutation)."""
        from mastbench.sketches import RandK

        if self.joint:
            M = self.sketches.n
            return [RandK(self.sketches.d, self.sketches.d // M)] * M
        return list(self.sketches)

    def init(self, problem: Clients, x0: Any, rng: Generator) -> DistributedState:
        clients = problem.problems
        v = check_shift(clients[0], self.shift)
        oracles = tuple(
            SparseGradient(p, v) if s.form == "index" else None
            for p, s in zip(clients, self.samplers, strict=True)
        )
        return DistributedState(x0, v, oracles, 0.0, 0.0)

    def step(
        self, problem: Clients, state: DistributedState, k: int, rng: Generator
    ) -> DistributedState:
        xp = problem.xp
        x, v = state.x, state.v
        replicates = x.shape[0]
        if self.joint:
            blocks = (
                self.sketches.sample_indices(rng, replicates)
                if self.samplers[0].form == "index"
                else self.sketches.sample(rng, replicates, dtype=problem.dtype)
            )
            draws = [s.split(blocks) for s in self.samplers]
        else:
            draws = [s.draw(rng, replicates, problem.dtype) for s in self.samplers]
        zero_shift = self.shift is None
        z = x if zero_shift else x - v
        update = xp.zeros_like(x)
        coords = state.coords_touched
        for client, draw, oracle in zip(problem.problems, draws, state.oracles, strict=True):
            if draw.form == "index":
                idx = draw.values
                w = draw.scale * xp.take_along_axis(z, idx, axis=1)
                update = scatter_subtract(xp, update, idx, -draw.scale * oracle(xp, idx, w))
            else:
                update = update + draw.gradient(xp, client, None if zero_shift else v, z)
            coords = coords + draw.coords(xp)
        M = len(self.samplers)
        x = x - (self.gamma / M) * update
        return DistributedState(x, v, state.oracles, float(M * (k + 1)), coords)

    def output(self, state: DistributedState) -> Any:
        return state.x

    def metrics(self, problem: Clients, x0: Any) -> Mapping[str, Any]:
        v = check_shift(problem.problems[0], self.shift)
        base, objective = _distributed_objectives(problem.problems, self.marginals, v)
        return mast_metrics(base, objective, x0)

    def counters(self, state: DistributedState) -> dict[str, Any]:
        return {"grad_evals": state.grad_evals, "coords_touched": state.coords_touched}

    def moment_map(self, problem: Clients | Sequence[Problem]) -> Any:
        """The exact engine's moment map on quadratic clients (a :class:`Clients` or a
        sequence of problems)."""
        return _mast_moments.distributed_map(self, _client_list(problem))

    def moment_objective(self, problem: Clients | Sequence[Problem]) -> Any:
        """f_D = (1/M) Σ_i E f_i(v + S_i(x − v)) of quadratic clients (closed form)."""
        clients = _client_list(problem)
        v = _mast_moments.host_shift(self.shift, clients[0].d)
        return DistributedQuadraticMAST(clients, self.marginals, v)

    def params(self) -> dict[str, Any]:
        return {"step": self.gamma, "clients": len(self.samplers), "joint": self.joint}


def distributed_dsgd(
    problems: Sequence[Problem],
    x0: Any,
    *,
    sketches: Any,
    step: float,
    iters: int,
    rng: Generator,
    replicates: int = 1,
    shift: Any = None,
    form: str = "auto",
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """Distributed Double Sketched GD: IST and federated submodels (mast.md §3.2).

    M clients with f = (1/M) Σ_i f_i; the server samples S_1^t, …, S_M^t (independent
    draws of per-client distributions D_i, or jointly: one Permutation(d, M) gives client i
    block i, which is IST with perfect reconstruction (1/M) Σ_i S_i = I) and steps::

        x^{t+1} = x^t − (γ/M) Σ_i S_i^tᵀ ∇f_i(v + S_i^t(x^t − v)).

    It minimizes f_D(x) = (1/M) Σ_i E f_i(v + S_i(x − v)); for Perm-1 on quadratics the
    limit is x_D* = (n D̄)⁻¹ b̄ (v = 0), not x* — the IST bias.

    Parameters
    ----------
    problems : sequence of Problem
        f_1, …, f_M, M ≥ 1 (a non-empty sequence of :class:`~problems.base.Problem`, else
        ``TypeError``), all with the same d and namespace (``ValueError`` otherwise).
    x0 : array, shape (d,) or (replicates, d)
        Start, as in :func:`dsgd` (checked against ``problems[0]``).
    sketches : sketch distribution or sequence of them
        Either one :class:`~mastbench.sketches.Permutation` with n = M blocks, sampled
        jointly (client i gets block i of the same permutation; ``ValueError`` if n ≠ M),
        or a sequence of exactly M independent per-client distributions D_i
        (``ValueError`` otherwise), each of dimension d (``TypeError``/``ValueError`` as in
        :func:`dsgd`).
    step, iters, rng, replicates, shift
        As in :func:`dsgd` (γ, T, the generator, R, v).
    form : {"auto", "mask", "index"}, default "auto"
        How each client's sketch is applied, as ``form`` of :func:`dsgd` (``ValueError``
        for an unknown form or one the sketch does not support).
    checkpoints, keep_iterates
        As in :func:`dsgd`.

    Returns
    -------
    Trace
        ``algorithm="distributed_dsgd"``.  Metrics as :func:`dsgd`, with f = (1/M) Σ_i f_i
        and f_D the distributed MAST objective whose per-client sketch is D_i (Rand-(d/M)
        for a joint permutation, its marginal).  They need quadratic clients (closed
        forms); for other clients every metric is skipped (``params["skipped_metrics"]``
        says why) and only counters and time are recorded.  Counters: ``grad_evals`` (M
        client gradients per step) and ``coords_touched`` (coordinates kept, summed over
        clients, mean over replicates).  ``params`` records ``step``, ``iters``,
        ``replicates``, ``clients`` (M) and ``joint``.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments, as listed under Parameters.

    References
    ----------
    .. [1] Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
       Sparsified Training", ICLR 2025, arXiv 2311.16086: the distributed method and its
       theorem (Theorem 6 in some versions) [R]; the server broadcast of
       y_i^t = v + S_i^t(x^t − v) and per-client D_i [R]; the update line and the IST bias
       x_D* = (n D̄)⁻¹ b̄ are derived in ``shared/theory/mast.md`` §3.2 [D].
    .. [2] E. Shulgin, P. Richtárik, "Towards a Better Theoretical Understanding of
       Independent Subnetwork Training", arXiv 2306.16484: IST with Perm-q sketches and
       perfect reconstruction, eqs. (5)–(6) [C]; with one local step it is this method with
       v = 0 and a joint Permutation.
    """
    from mastbench.sketches import Permutation

    if isinstance(problems, Problem) or not isinstance(problems, Sequence) or not problems:
        raise TypeError("problems must be a non-empty sequence of problems.Problem")
    for i, p in enumerate(problems):
        check_problem(f"problems[{i}]", p)
    first = problems[0]
    for i, p in enumerate(problems):
        if p.d != first.d or p.xp is not first.xp:
            raise ValueError(f"problems[{i}] differs from problems[0] in dimension or namespace")
    M, d = len(problems), first.d
    if isinstance(sketches, Permutation):
        check_sketch("sketches", sketches, d)
        if sketches.n != M:
            raise ValueError(
                f"a joint Permutation sketch needs n = M = {M} blocks, got {sketches.n}"
            )
    else:
        if not isinstance(sketches, Sequence) or len(sketches) != M:
            raise ValueError(f"sketches must be a joint Permutation or a sequence of {M} sketches")
        for i, s in enumerate(sketches):
            check_sketch(f"sketches[{i}]", s, d)
    method = DistributedDSGD(sketches=sketches, gamma=step, shift=shift, form=form)
    return run(
        method,
        Clients(problems),
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


def _distributed_objectives(
    problems: Sequence[Problem], sketches: Sequence[Any], v: Any
) -> tuple[Any, Any]:
    from mastbench.problems.quadratic import QuadraticForm

    if not all(isinstance(p, QuadraticForm) for p in problems):
        return _Unavailable("f* of the average of non-quadratic clients"), _Unavailable(
            "f_D of non-quadratic clients (no closed form)"
        )
    objective = DistributedQuadraticMAST(problems, sketches, v)
    return AverageQuadratic(problems, objective.A, objective.b, objective.c0), objective


class _Unavailable:
    """Stands for an objective whose metrics cannot be computed; every access says why."""

    def __init__(self, reason: str):
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(self.reason)


# -- L-SVRDSG ----------------------------------------------------------------------------------
class LSVRDSGState(NamedTuple):
    """State of :class:`LSVRDSG`: iterates x, reference points w, reference gradients G (all
    (R, d)), the support table on the device, the shift and the cumulative count of sketched
    gradients."""

    x: Any
    w: Any
    G: Any
    v: Any
    table: Any
    form: str
    grad_evals: float


@dataclass(frozen=True, eq=False)
class LSVRDSG(_OneSketch):
    """L-SVRDSG as a Method.

    Hyperparameters of :func:`l_svrdsg`: ``sketch`` (Discrete, uniform weights), ``gamma`` γ
    (its ``step``), ``shift`` v, ``prob`` p (``None``: 1/N), ``batch`` b (``None``: N) and
    ``minibatch``.
    """

    sketch: Any
    gamma: float
    shift: Any = None
    prob: float | None = None
    batch: int | None = None
    minibatch: str = "fixed"

    name: ClassVar[str] = "l_svrdsg"

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", check_positive("step", self.gamma))
        _, weights = _discrete(self.sketch)
        N = weights.size
        if not np.allclose(weights, 1.0 / N, rtol=0, atol=1e-12):
            raise ValueError("l_svrdsg needs a Discrete sketch with uniform weights 1/N")
        prob = 1.0 / N if self.prob is None else check_positive("prob", self.prob)
        if prob > 1:
            raise ValueError(f"prob must lie in (0, 1], got {prob}")
        batch = N if self.batch is None else check_int("batch", self.batch, low=1, high=N)
        if self.minibatch not in ("fixed", "resampled"):
            raise ValueError(f"minibatch must be 'fixed' or 'resampled', got {self.minibatch!r}")
        object.__setattr__(self, "prob", prob)
        object.__setattr__(self, "batch", batch)

    @property
    def N(self) -> int:
        """The number of sketches in the support."""
        return int(self.sketch.num_outcomes)

    def _sketched_grad(self, problem: Problem, state: Any, points: Any, values: Any) -> Any:
        return Draw(state.form, values).gradient(problem.xp, problem, state.v, points - state.v)

    def _reference(self, problem: Problem, state: Any, w: Any, rng: Generator) -> Any:
        """G = (1/b) Σ_{k∈B} ∇f_k(w) over a fresh b-subset B per replicate."""
        xp = problem.xp
        replicates, d = w.shape
        B = xp.reshape(rng.subsets(replicates, self.N, self.batch), (-1,))
        S = xp.take(state.table, B, axis=0)
        w_rep = xp.reshape(xp.broadcast_to(w[:, None, :], (replicates, self.batch, d)), (-1, d))
        g = xp.reshape(self._sketched_grad(problem, state, w_rep, S), (replicates, self.batch, d))
        return xp.mean(g, axis=1)

    def init(self, problem: Problem, x0: Any, rng: Generator) -> LSVRDSGState:
        matrices, _ = _discrete(self.sketch)
        table, form = _table(problem, self.sketch, matrices)
        v = check_shift(problem, self.shift)
        w = problem.xp.asarray(x0, copy=True)
        state = LSVRDSGState(x0, w, None, v, table, form, float(self.batch))
        return state._replace(G=self._reference(problem, state, w, rng))

    def step(self, problem: Problem, state: LSVRDSGState, k: int, rng: Generator) -> LSVRDSGState:
        xp = problem.xp
        x, w, G = state.x, state.w, state.G
        replicates = x.shape[0]
        j = rng.integers(0, self.N, (replicates,))
        S = xp.take(state.table, j, axis=0)
        g = (
            self._sketched_grad(problem, state, x, S)
            - self._sketched_grad(problem, state, w, S)
            + G
        )
        coin = rng.below(self.prob, (replicates,))
        x_new = x - self.gamma * g
        w = xp.where(coin[:, None], x, w)
        evals = state.grad_evals + 2.0
        if self.minibatch == "resampled":
            G = self._reference(problem, state, w, rng)
            evals += self.batch
        else:
            refreshed = float(np.mean(to_numpy(coin)))
            if refreshed > 0:
                G = xp.where(coin[:, None], self._reference(problem, state, w, rng), G)
            evals += self.batch * refreshed
        return state._replace(x=x_new, w=w, G=G, grad_evals=evals)

    def moment_map(self, problem: Problem) -> Any:
        """The exact engine's moment map of this method on a quadratic ``problem``
        (:mod:`mastbench.algorithms._mast_moments`)."""
        return _mast_moments.l_svrdsg_map(self, problem)

    def params(self) -> dict[str, Any]:
        return {
            "step": self.gamma,
            "prob": self.prob,
            "batch": self.batch,
            "minibatch": self.minibatch,
            "N": self.N,
        }


def l_svrdsg(
    problem: Problem,
    x0: Any,
    *,
    sketch: Any = None,
    step: float,
    iters: int,
    rng: Generator,
    replicates: int = 1,
    shift: Any = None,
    prob: float | None = None,
    batch: int | None = None,
    minibatch: str = "fixed",
    checkpoints: Any = None,
    keep_iterates: bool = False,
) -> Trace:
    """L-SVRDSG: loopless variance-reduced double sketched gradient (mast.md §3.3, [R/D]).

    D is uniform on {S_1, …, S_N} (a :class:`~mastbench.sketches.Discrete` with equal
    weights), f_D = (1/N) Σ_j f_j with f_j(x) = f(v + S_j(x − v)).  With w^0 = x^0::

        j_t ~ Unif[N]
        g^t = ∇f_{j_t}(x^t) − ∇f_{j_t}(w^t) + G^t
        x^{t+1} = x^t − γ g^t
        with probability p: w^{t+1} = x^t, else w^{t+1} = w^t
        minibatch="fixed":      G^t = (1/b) Σ_{k∈B} ∇f_k(w^t), B (|B| = b, without
                                replacement) drawn anew only when w changes (and at t = 0)
        minibatch="resampled":  a fresh B every step (g^t unbiased)

    With b = N, G^t = ∇f_D(w^t) and this is L-SVRG on the finite sum over sketches.

    Parameters
    ----------
    problem, x0, step, iters, rng, replicates, shift, checkpoints, keep_iterates
        As in :func:`dsgd` (``problem`` may be a ``MASTObjective`` with a Discrete sketch).
        No upper bound on γ is enforced; the L-SVRG-type range is stated by the theorems in
        :mod:`theory.mast`.
    sketch : Discrete
        Uniform over N sketches: a :class:`~mastbench.sketches.Discrete` (``TypeError``
        otherwise) whose weights all equal 1/N within 1e-12 (``ValueError`` otherwise).
    prob : float, optional
        p ∈ (0, 1], the probability of moving the reference point each step (``TypeError``
        if not a real number, ``ValueError`` outside (0, 1]); default 1/N.
    batch : int, optional
        b ∈ [1, N], the number of sketches (drawn without replacement) in the reference
        gradient G (``TypeError``/``ValueError`` outside); default N (exact ∇f_D(w)).
    minibatch : {"fixed", "resampled"}, default "fixed"
        The two variants above (``ValueError`` otherwise).

    Returns
    -------
    Trace
        ``algorithm="l_svrdsg"``.  Metrics as :func:`dsgd` (all four, where computable).
        Counters: ``grad_evals`` counts sketched gradients ∇f_j, mean over replicates: b for
        G^0, then 2 per step plus b per step ("resampled") or b times the fraction of
        replicates whose reference moved ("fixed", b·p per step on average);
        ``coords_touched`` is d·``grad_evals`` (dense forms).  ``params`` records ``step``,
        ``iters``, ``replicates``, ``prob``, ``batch``, ``minibatch``, ``N`` and
        ``skipped_metrics``.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments, as listed under Parameters and in :func:`dsgd`.

    References
    ----------
    .. [1] Y. Demidovich, G. Malinovsky, E. Shulgin, P. Richtárik, "MAST: Model-Agnostic
       Sparsified Training", ICLR 2025, arXiv 2311.16086: Algorithm 3 (L-SVRDSG) and its
       theorem (Theorem 5 in some versions) [R: the name, the finite set of N sketches, the
       minibatch of b sketches without replacement, the (N − b)/b neighbourhood, exact
       linear convergence at b = N].  The precise update above is reconstructed in
       ``shared/theory/mast.md`` §3.3 [D]; the "resampled" variant is [U].
    .. [2] D. Kovalev, S. Horváth, P. Richtárik, "Don't Jump Through Hoops and Remove Those
       Loops: SVRG and Katyusha are Better Without the Outer Loop", ALT 2020,
       arXiv 1901.08689: L-SVRG, Algorithm 1, which this is with b = N on the finite sum
       f_D = (1/N) Σ_j f_j.
    """
    problem, sketch, shift = _unpack(problem, sketch, shift)
    method = LSVRDSG(
        sketch=sketch,
        gamma=step,
        shift=shift,
        prob=prob,
        batch=batch,
        minibatch=minibatch,
    )
    return run(
        method,
        problem,
        x0,
        iters=iters,
        rng=rng,
        replicates=replicates,
        checkpoints=checkpoints,
        keep_iterates=keep_iterates,
    )


for _name, _run, _method, _label in (
    ("dsgd", dsgd, DSGD, "Algorithm 1 (Double Sketched (S)GD), options I/II"),
    (
        "dsgd_importance",
        dsgd_importance,
        DSGDImportance,
        "§3.1 importance sampling [D]",
    ),
    (
        "distributed_dsgd",
        distributed_dsgd,
        DistributedDSGD,
        "distributed DSGD / IST",
    ),
    ("l_svrdsg", l_svrdsg, LSVRDSG, "Algorithm 3 (L-SVRDSG)"),
):
    register_algorithm(
        AlgorithmSpec(
            name=_name,
            family="mast",
            run=_run,
            paper=f"{PAPER}, {_label}",
            stochastic=True,
            method=_method,
        )
    )
