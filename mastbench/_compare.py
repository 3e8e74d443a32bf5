"""The measurements behind ``mastbench bench --compare`` (private; see :mod:`mastbench.bench`).

Each comparison is a function ``measure(quick) -> list[Row]`` timing a mastbench fast path
and its reference in the same process, one after the other, on the same data.  Per-step
times of mastbench algorithms come from the run's own clock: a :class:`~mastbench.trace.Trace`
records at each checkpoint the algorithm time elapsed, excluding the set-up and the metric
evaluations, so with checkpoints (0, T₁, T₂) the per-step time is
(time[T₂] − time[T₁]) / (T₂ − T₁), after T₁ warm-up steps.  References (the loops here, the
PyTorch and JAX programs of :mod:`mastbench._anchors`) are timed by the difference of two run
lengths, (t(T₂) − t(T₁)) / (T₂ − T₁), which cancels their fixed cost the same way.  Each
PyTorch/JAX reference is first fed the masks mastbench drew and must reproduce its iterates
(relative gap ≤ 1e-9), else its row is marked failed: the ratios compare one computation.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from mastbench.backend import rng, synchronize, to_numpy
from mastbench.bench import Row, Skip, _row, best_time, dense_quadratic_data

__all__ = ["COMPARISONS"]

#: (x₀ (R, d), masks (T, R, d), x_T (R, d)) of a short mastbench run, for the anchors to replay.
Replay = tuple[np.ndarray, np.ndarray, np.ndarray]


def _require(module: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Skip(f"{what} ({module}) is not available: {exc}") from None


def _dsgd() -> Callable[..., Any]:
    algorithms = _require("mastbench.algorithms.mast", "the MAST algorithms")
    return algorithms.dsgd


def _sketches() -> Any:
    return _require("mastbench.sketches", "the sketch distributions")


def _trace_step(run: Callable[..., Any], warm: int, iters: int, repeat: int = 2) -> float:
    """Best per-step time of ``run(iters, checkpoints=[0, warm, iters])`` by its own clock."""
    best = float("inf")
    for _ in range(repeat):
        trace = run(iters, checkpoints=[0, warm, iters])
        best = min(best, float(trace.time[-1] - trace.time[-2]) / (iters - warm))
    return best


def _per_step(run: Callable[[int], Any], short: int, long: int, repeat: int = 3) -> float:
    """Per-step time from two run lengths (the fixed cost of a run cancels)."""
    t_long = best_time(lambda: run(long), repeat=repeat)
    t_short = best_time(lambda: run(short), repeat=repeat)
    return max(t_long - t_short, 1e-12) / (long - short)


def _dense_quadratic(d: int, seed: int = 0) -> Any:
    from mastbench.problems import Quadratic

    return Quadratic(*dense_quadratic_data(d, seed))


# -- 1. batched replicates: one GEMM per step ------------------------------------------------


def _batched(quick: bool) -> list[Row]:
    dsgd = _dsgd()
    sk = _sketches()
    d, R = (256, 32) if quick else (2000, 256)
    warm, iters = (2, 6) if quick else (3, 23)
    problem = _dense_quadratic(d)
    A, b = problem.A, problem.b
    sketch = sk.Bernoulli(0.5, d)
    step = 0.5 / (problem.L * sketch.L_S_max)
    x0 = np.zeros(d)

    def run(iters: int, checkpoints: list[int]) -> Any:
        return dsgd(
            problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(1),
            replicates=R, checkpoints=checkpoints, metrics=["subopt"],
        )  # fmt: skip

    t_step = _trace_step(run, warm, iters)
    X = np.ones((R, d))
    t_gemm = best_time(lambda: X @ A, repeat=5)
    flops = 2.0 * R * d * d

    p = 0.5
    gen = np.random.default_rng(2)

    def loop(iters: int) -> np.ndarray:
        x = np.zeros((R, d))
        for _ in range(iters):
            for r in range(R):
                s = (gen.random(d) < p) / p
                g = s * (A @ (s * x[r]) - b)
                x[r] -= step * g
        return x

    loop_short, loop_long = (1, 2) if quick else (1, 3)
    t_loop = _per_step(loop, loop_short, loop_long, repeat=1)
    fraction = 100.0 * t_gemm / t_step
    return [
        _row(
            f"batched DSGD (Bernoulli p=0.5), dense quadratic d={d}, R={R}: "
            "FLOP rate / NumPy GEMM rate",
            fraction,
            "%",
            ">= 50",
            f"step {t_step * 1e3:.2f} ms = {flops / t_step / 1e9:.1f} GFLOP/s; "
            f"NumPy (R,d)@(d,d) {t_gemm * 1e3:.2f} ms = {flops / t_gemm / 1e9:.1f} GFLOP/s",
        ),
        _row(
            f"batched DSGD vs Python loop over R={R} replicates (NumPy GEMV per replicate)",
            t_loop / t_step,
            "x",
            ">= 1",
            f"loop {t_loop * 1e3:.1f} ms/step, batched {t_step * 1e3:.2f} ms/step",
        ),
    ]


# -- 2. Rand-K index path vs mask path --------------------------------------------------------


def _randk(quick: bool) -> list[Row]:
    dsgd = _dsgd()
    sk = _sketches()
    d, k, R = (512, 16, 4) if quick else (4096, 64, 8)
    problem = _dense_quadratic(d)
    sketch = sk.RandK(d, k)
    step = 0.5 / (problem.L * sketch.L_S_max)
    x0 = np.zeros(d)

    def runner(form: str) -> Callable[..., Any]:
        def run(iters: int, checkpoints: list[int]) -> Any:
            return dsgd(
                problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(3),
                replicates=R, form=form, checkpoints=checkpoints, metrics=["subopt"],
            )  # fmt: skip

        return run

    t_index = _trace_step(runner("index"), 5, 205 if quick else 1005, repeat=1)
    t_mask = _trace_step(runner("mask"), 2, 12 if quick else 22, repeat=1)
    return [
        _row(
            f"Rand-K index path vs dense mask path, d={d}, k={k}, R={R}: per-step speed-up",
            t_mask / t_index,
            "x",
            ">= 20",
            f"mask {t_mask * 1e3:.3f} ms/step, index {t_index * 1e3:.3f} ms/step",
        )
    ]


# -- 3. exact engine vs Monte Carlo -----------------------------------------------------------


def _exact_engine() -> Callable[..., Any]:
    """E‖x_t − x_D*‖² of DSGD option I by the exact engine: ``moments(problem, sketch, x0,
    step, iters)`` at checkpoints 0 and iters."""
    exact = _require("mastbench.exact", "the exact moment engine")
    if not hasattr(exact, "moments"):
        raise Skip("mastbench.exact has no moments")
    DSGD = _require("mastbench.algorithms.mast", "the MAST algorithms").DSGD

    def moments(problem: Any, sketch: Any, x0: Any, step: float, iters: int) -> Any:
        return exact.moments(DSGD(sketch=sketch, gamma=step), problem, x0, iters, [0, iters])

    return moments


def _exact(quick: bool) -> list[Row]:
    moments = _exact_engine()
    sk = _sketches()
    from mastbench.problems import random as random_problems

    d, iters = (10, 200) if quick else (30, 1000)
    problem = random_problems.quadratic(d, 10.0, rng(4))
    sketch = sk.Bernoulli(0.5, d)
    step = 0.5 / (problem.L * sketch.L_S_max)
    x0 = np.ones(d)

    pilot = 200 if quick else 2000
    DSGD = _require("mastbench.algorithms.mast", "the MAST algorithms").DSGD
    race = _race(DSGD(sketch=sketch, gamma=step), problem, x0, iters, pilot)

    sizes = (4, 8, 16) if quick else (64, 128, 256)
    steps = 5 if quick else 50
    costs = []
    for n in sizes:
        prob_n = random_problems.quadratic(n, 10.0, rng(n))
        sk_n = sk.Bernoulli(0.5, n)
        step_n = 0.5 / (prob_n.L * sk_n.L_S_max)

        def run(iters_n: int, p=prob_n, s=sk_n, g=step_n, n=n) -> Any:
            return moments(p, s, np.ones(n), g, iters_n)

        costs.append(_per_step(run, steps, 3 * steps, repeat=5))
    # sizes where the O(d³) matrix products dominate the fixed per-step overhead (about 14
    # NumPy calls on the NumPy loop, a few BLAS calls in the compiled loop of
    # mastbench.exact.numba_kernel, which with numba installed runs both lengths of every size,
    # iters·d³ >= MIN_WORK); 50 and 150 steps keep the fixed cost of a run from dominating
    slope = float(np.polyfit(np.log(sizes), np.log(costs), 1)[0])
    return [
        _row(
            f"exact engine vs Monte Carlo to 1% relative error (95%) on E‖x_t − x*‖², d={d}, "
            f"T={iters}, Bernoulli(0.5)",
            race["ratio"],
            "x",
            ">= 100",
            race["detail"],
        ),
        _row(
            f"exact engine cost per step vs d (log-log slope over d={sizes})",
            slope,
            "slope",
            "<= 3",
            "per-step ms at d="
            + ", ".join(f"{n}: {c * 1e3:.3f}" for n, c in zip(sizes, costs, strict=True)),
        ),
    ]


def _race(method: Any, problem: Any, x0: np.ndarray, iters: int, pilot: int) -> dict[str, Any]:
    """The exact engine against Monte Carlo on E‖x_T − x_D*‖²: each "exact engine vs Monte
    Carlo" row.

    The exact engine's time for T steps (best of 3, checkpoints 0 and T); Monte Carlo by the
    batched driver with ``pilot`` replicates (best of 3), whose sample sd/mean gives the
    replicates R needed for a 95 % confidence half-width of 1 % of the mean, R =
    ⌈(1.96·sd/(0.01·mean))²⌉, its time scaled linearly in R.
    """
    exact = _require("mastbench.exact", "the exact moment engine")
    driver = _require("mastbench.algorithms.driver", "the driver")

    def engine() -> Any:
        return exact.moments(method, problem, x0, iters, [0, iters])

    t_exact = best_time(engine, repeat=3)
    exact_value = float(np.asarray(engine().dist2, dtype=float)[-1])

    def monte_carlo() -> np.ndarray:
        trace = driver.run(
            method, problem, x0, iters=iters, rng=rng(5), replicates=pilot,
            checkpoints=[0, iters], metrics=["dist2"],
        )  # fmt: skip
        return np.asarray(trace.metrics["dist2"][-1], dtype=float)

    t_pilot = best_time(monte_carlo, repeat=3)
    samples = monte_carlo()
    mean, sd = float(samples.mean()), float(samples.std(ddof=1))
    needed = math.ceil((1.96 * sd / (0.01 * mean)) ** 2)
    t_mc = t_pilot * needed / pilot
    return {
        "ratio": t_mc / t_exact,
        "detail": (
            f"exact {t_exact * 1e3:.1f} ms; Monte Carlo needs R={needed} (sd/mean "
            f"{sd / mean:.2f} from a pilot of {pilot}), {t_pilot:.2f} s for the pilot, scaled "
            f"linearly to {t_mc:.1f} s; pilot mean off the exact value by "
            f"{100 * abs(mean - exact_value) / exact_value:.2f}%"
        ),
    }


def _block_sketch(d: int, blocks: int) -> Any:
    """Uniform Discrete over S_j = B·Diag(1[i ≡ j mod B]), j < B (E[S] = I)."""
    diagonals = np.stack([blocks * (np.arange(d) % blocks == j) for j in range(blocks)])
    return _sketches().Discrete(diagonals.astype(float), np.full(blocks, 1.0 / blocks))


def _method_instances(quick: bool) -> list[tuple[str, Any, Any, np.ndarray]]:
    """(label, method, problem, x₀) of each method with a moment map but option I.

    Sizes where the exact engine runs its compiled affine loop (iters·D³ ≥ ``MIN_WORK`` for
    the state dimension D), the joint support of IST stays small, and E‖x_T − x*‖² has a
    moderate spread (sd/mean ≲ 1, so that the pilot's estimate of R is reliable).
    """
    mast = _require("mastbench.algorithms.mast", "the MAST algorithms")
    sk = _sketches()
    from mastbench.problems import random as random_problems

    quadratic = random_problems.quadratic
    d, d_small, d_vr, blocks = (6, 6, 4, 2) if quick else (20, 14, 8, 4)
    n = 10 if quick else 50
    lsq = random_problems.least_squares(n, d, rng(4), l2=0.1)
    bern = sk.Bernoulli(0.5, d)
    option_two = mast.DSGD(
        sketch=bern, gamma=0.5 / (lsq.L_max * bern.L_S_max), option="II", batch_size=5
    )
    quad = quadratic(d_small, 10.0, rng(4))
    discrete = _block_sketch(d_small, blocks)
    importance = mast.DSGDImportance(sketch=discrete, gamma=0.1 / (quad.L * discrete.L_S_max))
    pair = mast.Clients([quadratic(d_small, 10.0, g) for g in rng(4).spawn(2)])
    ist = mast.DistributedDSGD(
        sketches=sk.Permutation(d_small, 2), gamma=0.5 / (4 * max(p.L for p in pair.problems))
    )
    trio = mast.Clients([quadratic(d, 10.0, g) for g in rng(6).spawn(3)])
    independent = mast.DistributedDSGD(
        sketches=[sk.RandK(d, d // 2) for _ in range(3)],
        gamma=0.5 / (4 * max(p.L for p in trio.problems)),
    )
    quad_vr = quadratic(d_vr, 10.0, rng(4))
    vr_sketch = _block_sketch(d_vr, blocks)
    l_svrdsg = mast.LSVRDSG(
        sketch=vr_sketch,
        gamma=1 / (6 * quad_vr.L * vr_sketch.L_S_max),
        prob=0.5,
        batch=blocks - 1,
    )
    return [
        (f"DSGD option II (least squares n={n}, b=5, Bernoulli(0.5)), d={d}", option_two, lsq,
         np.ones(d)),
        (f"DSGD importance sampling (Discrete, {blocks} block sketches), d={d_small}",
         importance, quad, np.ones(d_small)),
        (f"IST (distributed DSGD, joint Permutation({d_small}, 2)), d={d_small}", ist, pair,
         np.ones(d_small)),
        (f"distributed DSGD (3 clients, independent Rand-{d // 2}), d={d}", independent, trio,
         np.ones(d)),
        (f"L-SVRDSG (Discrete, {blocks} block sketches, b={blocks - 1}, p=1/2), d={d_vr} "
         f"(state 3d={3 * d_vr})", l_svrdsg, quad_vr, np.ones(d_vr)),
    ]  # fmt: skip


def _exact_methods(quick: bool) -> list[Row]:
    iters = 200 if quick else 1000
    pilot = 200 if quick else 2000
    rows = []
    for label, method, problem, x0 in _method_instances(quick):
        race = _race(method, problem, x0, iters, pilot)
        rows.append(
            _row(
                f"exact engine vs Monte Carlo to 1% relative error (95%) on E‖x_t − x*‖², "
                f"{label}, T={iters}",
                race["ratio"],
                "x",
                ">= 100",
                race["detail"],
            )
        )
    return rows


# -- 4. what a user would write instead: batched PyTorch and JAX -----------------------------


def _final_subopt(problem: Any, x: Any) -> tuple[float, float]:
    """Mean and standard error over replicates of f(x_T) − f* (host float64)."""
    values = np.asarray(problem.value(problem.asarray(np.asarray(x))), dtype=float)
    values = values - float(problem.f_star)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


def _xla_single_thread() -> None:
    """Keep XLA's CPU client to one thread when BLAS is limited to one (``--threads 1``).

    Effective only before JAX creates its CPU client, which this module does first.  The
    flags alone leave JAX 0.10's CPU client on every core (CPU time twice the wall time on two
    cores), so the client is created while this thread is pinned to one CPU: its worker threads
    inherit that affinity, and this thread's is restored.
    """
    from mastbench.bench import blas_threads

    if blas_threads() != 1 or "jax" in sys.modules:
        return
    flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    if not hasattr(os, "sched_setaffinity"):
        return
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        with contextlib.suppress(ImportError):  # the anchor reports a missing JAX itself
            import jax

            jax.devices("cpu")
    finally:
        os.sched_setaffinity(0, cpus)


class _Anchor:
    """One reference program: its per-step time, or why it was not measured, and a check."""

    def __init__(self, label: str):
        self.label = label
        self.step: float | None = None
        self.skipped: str | None = None
        self.mismatch: float | None = None
        self.subopt: tuple[float, float] | None = None
        self.note = ""

    def describe(self) -> str:
        if self.step is None:
            return f"{self.label}: skipped ({self.skipped})"
        mean, se = self.subopt
        return (
            f"{self.label} {self.step * 1e3:.3f} ms/step{self.note}, final subopt "
            f"{mean:.4g} ± {se:.2g}, iterates with mastbench's masks off by "
            f"{self.mismatch:.1e} (relative)"
        )


def _relative_gap(x: Any, reference: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.max(np.abs(x - reference)) / max(np.max(np.abs(reference)), 1e-300))


def _torch_anchor(
    kind: str, data: dict, problem: Any, x0: np.ndarray, step: float, p: float,
    lengths: tuple[int, int], replay: Replay,
) -> _Anchor:  # fmt: skip
    """Batched PyTorch DSGD: eager and ``torch.compile``-d update, the faster one kept."""
    anchor = _Anchor("PyTorch (R, d) tensors, no autograd")
    try:
        import torch  # noqa: F401
    except ImportError:
        anchor.skipped = "PyTorch is not installed (pip install '.[bench]')"
        return anchor
    from mastbench import _anchors

    grad = _anchors.torch_gradient(kind, data)
    short, long = lengths
    timings: dict[str, float] = {}
    failures: dict[str, str] = {}
    for compiled in (False, True):
        name = "compiled" if compiled else "eager"
        update = _anchors.torch_update(grad, step, compiled=compiled)

        def run(iters: int, update: Any = update) -> Any:
            return _anchors.torch_dsgd(update, x0, p=p, iters=iters, seed=11)

        try:
            run(2)  # compiles the update (torch.compile) outside the timing
            timings[name] = _per_step(run, short, long, repeat=2)
        except Exception as exc:  # torch.compile needs a working compiler tool chain
            failures[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    if not timings:
        anchor.skipped = "; ".join(f"{k}: {v}" for k, v in failures.items())
        return anchor
    best = min(timings, key=timings.get)
    anchor.step = timings[best]
    anchor.note = " (" + ", ".join(f"{k} {v * 1e3:.3f}" for k, v in timings.items())
    anchor.note += "".join(f", {k} unavailable: {v}" for k, v in failures.items())
    anchor.note += f"; {best} kept)"
    update = _anchors.torch_update(grad, step, compiled=best == "compiled")
    start, masks, expected = replay
    anchor.mismatch = _relative_gap(
        _anchors.torch_dsgd(update, start, p=p, iters=len(masks), masks=masks).numpy(), expected
    )
    anchor.subopt = _final_subopt(
        problem, _anchors.torch_dsgd(update, x0, p=p, iters=long, seed=12)
    )
    return anchor


def _jax_anchor(
    kind: str, data: dict, problem: Any, x0: np.ndarray, step: float, p: float,
    lengths: tuple[int, int], replay: Replay,
) -> _Anchor:  # fmt: skip
    """JAX DSGD: ``jax.vmap`` of the update inside a jitted ``lax.fori_loop``, float64."""
    anchor = _Anchor("JAX jit(fori_loop(vmap(step))), float64")
    _xla_single_thread()
    try:
        import jax
    except ImportError:
        anchor.skipped = "JAX is not installed (pip install '.[bench]')"
        return anchor
    from mastbench import _anchors

    x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        program = _anchors.jax_dsgd(_anchors.jax_gradient(kind, data), step=step, p=p)
        start, key = jax.numpy.asarray(x0), jax.random.key(11)

        def run(iters: int) -> Any:
            return program["run"](start, iters, key).block_until_ready()

        run(1)  # compiles once: the number of steps is traced
        short, long = lengths
        anchor.step = _per_step(run, short, long, repeat=2)
        first, masks, expected = replay
        anchor.mismatch = _relative_gap(
            program["replay"](jax.numpy.asarray(first), jax.numpy.asarray(masks)), expected
        )
        anchor.subopt = _final_subopt(problem, program["run"](start, long, jax.random.key(12)))
    finally:
        jax.config.update("jax_enable_x64", x64)
    return anchor


def _replay_case(
    problem: Any, sketch: Any, step: float, iters: int, replicates: int, seed: int
) -> Replay:
    """(x₀, masks (T, R, d), x_T) of a short mastbench run from a start x₀ (R, d).

    ``dsgd`` (option I, mask form) draws one (R, d) batch of masks per step from its
    generator and nothing else, so the same seed reproduces its draws here.
    """
    gen = rng(seed)
    masks = np.stack([to_numpy(sketch.sample(gen, replicates)) for _ in range(iters)])
    x0 = np.linspace(-1.0, 1.0, replicates * problem.d).reshape(replicates, problem.d)
    trace = _dsgd()(
        problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(seed),
        replicates=replicates, checkpoints=[iters], metrics=(),
    )  # fmt: skip
    return x0, masks, np.asarray(to_numpy(trace.x), dtype=float)


def _anchor_rows(
    what: str, ours: float, ours_detail: str, anchors: list[_Anchor], their: str = "",
    tol: float = 1e-9,
) -> list[Row]:  # fmt: skip
    """One row per anchor: its per-step time over mastbench's, failed if not the same map."""
    rows = []
    for anchor in anchors:
        name = f"{what} vs {anchor.label}{their}: per-step speed-up"
        if anchor.step is None:
            rows.append(Row(name, None, "x", ">= 1", None, f"skipped: {anchor.skipped}"))
            continue
        detail = f"{ours_detail}; {anchor.describe()}"
        ratio = anchor.step / ours
        if anchor.mismatch > tol:
            detail = f"NOT THE SAME COMPUTATION (tolerance {tol:g}); {detail}"
            rows.append(Row(name, ratio, "x", ">= 1", False, detail))
        else:
            rows.append(_row(name, ratio, "x", ">= 1", detail))
    return rows


def _anchors_quadratic(quick: bool) -> list[Row]:
    dsgd = _dsgd()
    sk = _sketches()
    d, R = (256, 32) if quick else (2000, 256)
    warm, iters = (2, 6) if quick else (3, 23)
    problem = _dense_quadratic(d)
    A, b = dense_quadratic_data(d)
    p = 0.5
    sketch = sk.Bernoulli(p, d)
    step = 0.5 / (problem.L * sketch.L_S_max)
    x0 = np.zeros((R, d))

    def run(iters: int, checkpoints: list[int]) -> Any:
        return dsgd(
            problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(1),
            replicates=R, checkpoints=checkpoints, metrics=["subopt"],
        )  # fmt: skip

    t_ours = _trace_step(run, warm, iters, repeat=1)
    subopt = _final_subopt(problem, run(iters, [iters]).x)
    replay = _replay_case(problem, sketch, step, 4, 3, seed=13)
    data = {"A": A, "b": b}
    lengths = (warm, iters)
    anchors = [
        _torch_anchor("quadratic", data, problem, x0, step, p, lengths, replay),
        _jax_anchor("quadratic", data, problem, x0, step, p, lengths, replay),
    ]
    t_ours = min(t_ours, _trace_step(run, warm, iters, repeat=1))  # before and after: drift
    ours_detail = (
        f"mastbench {t_ours * 1e3:.3f} ms/step, final subopt after {iters} steps "
        f"{subopt[0]:.4g} ± {subopt[1]:.2g}"
    )
    what = f"batched DSGD (Bernoulli p={p}), dense quadratic d={d}, R={R}, float64: mastbench"
    return _anchor_rows(what, t_ours, ours_detail, anchors)


def _a5a() -> tuple[Any, np.ndarray]:
    """a5a as loaded from its LIBSVM file: CSR features (11 % nonzeros) and ±1 labels."""
    datasets = _require("mastbench.problems.datasets", "the data set loader")
    try:
        data = datasets.load("a5a", data_dir=os.environ.get("MASTBENCH_DATA"), dense=False)
    except FileNotFoundError as exc:
        raise Skip(f"a5a not found ({exc}); set MASTBENCH_DATA") from None
    return data.X, data.y


def _anchors_a5a(quick: bool) -> list[Row]:
    dsgd = _dsgd()
    sk = _sketches()
    from mastbench.problems import Logistic

    X_sparse, y = _a5a()
    if quick:
        X_sparse, y = X_sparse[:500], y[:500]
    X_dense = X_sparse.toarray()
    R, iters = (10, 50) if quick else (100, 1000)
    short = iters // 5
    l2, p = 1e-3, 0.5
    problems = {"CSR": Logistic(X_sparse, y, l2), "dense": Logistic(X_dense, y, l2)}
    sketch = sk.Bernoulli(p, problems["CSR"].d)
    step = 0.5 / (problems["CSR"].L * sketch.L_S_max)
    x0 = np.zeros((R, sketch.d))
    runs: dict[str, Callable[..., Any]] = {}
    for form, problem in problems.items():
        _ = problem.f_star  # f* of the metric (a Newton solve) is set-up, not the run

        def run(iters: int, checkpoints: list[int], problem: Any = problem) -> Any:
            return dsgd(
                problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(6),
                replicates=R, checkpoints=checkpoints, metrics=["subopt"],
            )  # fmt: skip

        runs[form] = run
    ours = {form: _trace_step(run, short, iters, repeat=1) for form, run in runs.items()}
    subopt = _final_subopt(problems["dense"], runs["dense"](iters, [iters]).x)
    replay = _replay_case(problems["dense"], sketch, step, 5, 3, seed=14)
    data = {"X": X_dense, "y": y, "l2": l2}
    lengths = (short, iters)
    anchors = [
        _torch_anchor("logistic", data, problems["dense"], x0, step, p, lengths, replay),
        _jax_anchor("logistic", data, problems["dense"], x0, step, p, lengths, replay),
    ]
    for form, run in runs.items():  # measured before and after the references: load drift
        ours[form] = min(ours[form], _trace_step(run, short, iters, repeat=1))
    n, d = X_dense.shape
    density = X_sparse.nnz / (n * d)
    base = f"DSGD (Bernoulli p={p}), logistic a5a (n={n}, d={d}), {R} replicates × {iters} steps"
    rows = []
    for form, label in (("CSR", f"CSR, {100 * density:.0f} % nonzeros"), ("dense", "dense")):
        what = f"{base}: mastbench ({label} X)"
        detail = (
            f"mastbench ({form}) {ours[form] * 1e3:.3f} ms/step, final subopt "
            f"{subopt[0]:.4g} ± {subopt[1]:.2g}"
        )
        rows.extend(_anchor_rows(what, ours[form], detail, anchors, their=" (dense X)"))
    rows.append(_loop_row(X_dense, y, l2, p, step, R, iters, ours["CSR"], quick))
    return rows


def _loop_row(
    X: np.ndarray, y: np.ndarray, l2: float, p: float, step: float, R: int, iters: int,
    ours: float, quick: bool,
) -> Row:  # fmt: skip
    """Secondary line: the naive PyTorch loop (replicates in turn, autograd)."""
    name = (
        f"mastbench DSGD (CSR X) vs a naive PyTorch loop (replicates in turn, autograd), "
        f"a5a, {R} × {iters}"
    )
    try:
        import torch  # noqa: F401
    except ImportError:
        return Row(name, None, "x", ">= 10", None, "skipped: PyTorch is not installed")
    from mastbench._anchors import torch_dsgd_loop

    replicates = 1 if quick else 3
    t_loop = best_time(
        lambda: torch_dsgd_loop(X, y, l2=l2, p=p, step=step, iters=iters, replicates=replicates),
        repeat=1 if quick else 2,
    ) / (replicates * iters)
    per_step = t_loop * R
    return _row(
        name,
        per_step / ours,
        "x",
        ">= 10",
        f"loop {t_loop * 1e3:.3f} ms per replicate-step (best run of {replicates} replicates × "
        f"{iters}), × R = {per_step * 1e3:.1f} ms per batched step; mastbench "
        f"{ours * 1e3:.3f} ms/step",
    )


# -- 5. float32 against float64 -----------------------------------------------------------------


def _float32(quick: bool) -> list[Row]:
    dsgd = _dsgd()
    sk = _sketches()
    from mastbench.problems import Quadratic

    d, R = (256, 32) if quick else (2000, 256)
    warm, iters = (2, 6) if quick else (3, 23)
    A, b = dense_quadratic_data(d)
    sketch = sk.Bernoulli(0.5, d)
    step = 0.5 / (Quadratic(A, b).L * sketch.L_S_max)
    times, dtypes, gemm = {}, {}, {}
    for dtype in (np.float64, np.float32):
        problem = Quadratic(A.astype(dtype), b.astype(dtype))
        x0 = np.zeros((R, d), dtype=dtype)

        def run(iters: int, checkpoints: list[int], problem: Any = problem, x0: Any = x0) -> Any:
            return dsgd(
                problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(1),
                replicates=R, checkpoints=checkpoints, metrics=["subopt"],
            )  # fmt: skip

        name = np.dtype(dtype).name
        times[name] = _trace_step(run, warm, iters)
        dtypes[name] = np.dtype(run(1, [1]).x.dtype).name
        X, M = np.ones((R, d), dtype=dtype), A.astype(dtype)
        gemm[name] = best_time(lambda X=X, M=M: X @ M, repeat=5)
    ratio = times["float64"] / times["float32"]
    detail = (
        f"float64 {times['float64'] * 1e3:.3f} ms/step, float32 {times['float32'] * 1e3:.3f} "
        f"ms/step; NumPy GEMM float64/float32 {gemm['float64'] / gemm['float32']:.2f}x (the "
        f"ceiling); iterates returned as {dtypes['float32']} for float32 data"
    )
    name = (
        f"batched DSGD (Bernoulli p=0.5), dense quadratic d={d}, R={R}: float32 vs float64 "
        "per-step speed-up"
    )
    if dtypes["float32"] != "float32":
        return [Row(name, ratio, "x", ">= 1.6", False, f"float64 sneaks in: {detail}")]
    return [_row(name, ratio, "x", ">= 1.6", detail)]


# -- 6. peak memory against a stated formula --------------------------------------------------


def _peak_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        synchronize(getattr(result, "x", result))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _memory(quick: bool) -> list[Row]:
    dsgd = _dsgd()
    sk = _sketches()
    rows = []
    d, R, iters = (128, 16, 10) if quick else (1000, 256, 20)
    problem = _dense_quadratic(d)
    sketch = sk.Bernoulli(0.5, d)
    step = 0.5 / (problem.L * sketch.L_S_max)
    run = lambda: dsgd(  # noqa: E731
        problem, np.zeros(d), sketch=sketch, step=step, iters=iters, rng=rng(7),
        replicates=R, checkpoints=[0, iters], metrics=["subopt"],
    )  # fmt: skip
    run()
    peak = _peak_bytes(run)
    unit = 8 * (R * d + d * d)
    rows.append(
        _row(
            f"peak memory of batched DSGD, d={d}, R={R}, over 8·(R·d + d²) bytes",
            peak / unit,
            "x",
            "<= 12",
            f"peak {peak / 2**20:.1f} MiB (tracemalloc), 8·(R·d + d²) = {unit / 2**20:.1f} MiB",
        )
    )
    try:
        moments = _exact_engine()
    except Skip as reason:
        rows.append(Row("peak memory of the exact engine over 8·d² bytes", None, "x", "<= 40",
                        None, f"skipped: {reason}"))  # fmt: skip
        return rows
    from mastbench.problems import random as random_problems

    n = 16 if quick else 100
    prob_n = random_problems.quadratic(n, 10.0, rng(8))
    sk_n = sk.Bernoulli(0.5, n)
    step_n = 0.5 / (prob_n.L * sk_n.L_S_max)

    def engine() -> Any:
        return moments(prob_n, sk_n, np.ones(n), step_n, 50)

    engine()  # one-off costs (imports, loading the compiled loop) outside the measurement
    peak = _peak_bytes(engine)
    unit = 8 * n * n
    rows.append(
        _row(
            f"peak memory of the exact engine, d={n}, over 8·d² bytes",
            peak / unit,
            "x",
            "<= 40",
            f"peak {peak / 2**20:.2f} MiB (tracemalloc), 8·d² = {unit / 2**20:.3f} MiB",
        )
    )
    return rows


#: key → ((row name, goal) for each row it produces, measure function).
COMPARISONS: dict[str, tuple[list[tuple[str, str]], Callable[[bool], list[Row]]]] = {
    "batched": (
        [("batched DSGD: FLOP rate / NumPy GEMM rate", ">= 50"),
         ("batched DSGD vs Python loop over replicates", ">= 1")],
        _batched,
    ),
    "randk": ([("Rand-K index path vs dense mask path", ">= 20")], _randk),
    "exact": (
        [("exact engine vs Monte Carlo to 1% relative error", ">= 100"),
         ("exact engine cost per step vs d (log-log slope)", "<= 3")],
        _exact,
    ),
    "exact_methods": (
        [("exact engine vs Monte Carlo to 1% relative error, DSGD option II", ">= 100"),
         ("exact engine vs Monte Carlo to 1% relative error, importance sampling", ">= 100"),
         ("exact engine vs Monte Carlo to 1% relative error, IST", ">= 100"),
         ("exact engine vs Monte Carlo to 1% relative error, distributed DSGD", ">= 100"),
         ("exact engine vs Monte Carlo to 1% relative error, L-SVRDSG", ">= 100")],
        _exact_methods,
    ),
    "anchors": (
        [("dense quadratic: mastbench vs batched PyTorch", ">= 1"),
         ("dense quadratic: mastbench vs JAX", ">= 1")],
        _anchors_quadratic,
    ),
    "a5a": (
        [("a5a: mastbench (CSR) vs batched PyTorch", ">= 1"),
         ("a5a: mastbench (CSR) vs JAX", ">= 1"),
         ("a5a: mastbench (dense) vs batched PyTorch", ">= 1"),
         ("a5a: mastbench (dense) vs JAX", ">= 1"),
         ("a5a: mastbench (CSR) vs naive PyTorch loop", ">= 10")],
        _anchors_a5a,
    ),
    "float32": ([("batched DSGD: float32 vs float64 per step", ">= 1.6")], _float32),
    "memory": (
        [("peak memory of batched DSGD over 8·(R·d + d²) bytes", "<= 12"),
         ("peak memory of the exact engine over 8·d² bytes", "<= 40")],
        _memory,
    ),
}  # fmt: skip
