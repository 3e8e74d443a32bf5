"""The measurements behind ``mastbench bench --compare`` (private; see :mod:`mastbench.bench`).

Each comparison is a function ``measure(quick) -> list[Row]`` timing a mastbench fast path
and its reference in the same process, one after the other, on the same data.  Per-step
times of mastbench algorithms come from the run's own clock: a :class:`~mastbench.trace.Trace`
records at each checkpoint the algorithm time elapsed, excluding the set-up and the metric
evaluations, so with checkpoints (0, T₁, T₂) the per-step time is
(time[T₂] − time[T₁]) / (T₂ − T₁), after T₁ warm-up steps.  References written here (loops,
the PyTorch loop) are timed by the difference of two run lengths,
(t(T₂) − t(T₁)) / (T₂ − T₁), which cancels their fixed cost the same way.
"""

from __future__ import annotations

import math
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from mastbench.backend import rng, synchronize
from mastbench.bench import Row, Skip, _row, best_time, dense_quadratic_data

__all__ = ["COMPARISONS"]


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


def _exact_dist2(result: Any) -> np.ndarray:
    return np.asarray(result.dist2, dtype=float)


def _exact(quick: bool) -> list[Row]:
    moments = _exact_engine()
    dsgd = _dsgd()
    sk = _sketches()
    from mastbench.problems import random as random_problems

    d, iters = (10, 200) if quick else (30, 1000)
    problem = random_problems.quadratic(d, 10.0, rng(4))
    sketch = sk.Bernoulli(0.5, d)
    step = 0.5 / (problem.L * sketch.L_S_max)
    x0 = np.ones(d)

    def engine() -> Any:
        return moments(problem, sketch, x0, step, iters)

    t_exact = best_time(engine, repeat=3)
    exact_value = float(_exact_dist2(engine())[-1])

    pilot = 200 if quick else 2000

    def monte_carlo(replicates: int, seed: int) -> np.ndarray:
        trace = dsgd(
            problem, x0, sketch=sketch, step=step, iters=iters, rng=rng(seed),
            replicates=replicates, checkpoints=[0, iters], metrics=["dist2"],
        )  # fmt: skip
        return np.asarray(trace.metrics["dist2"][-1], dtype=float)

    t_pilot = best_time(lambda: monte_carlo(pilot, 5), repeat=3)  # as the exact side
    samples = monte_carlo(pilot, 5)
    mean, sd = float(samples.mean()), float(samples.std(ddof=1))
    needed = math.ceil((1.96 * sd / (0.01 * mean)) ** 2)
    t_mc = t_pilot * needed / pilot
    mc_error = abs(mean - exact_value) / exact_value

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
            t_mc / t_exact,
            "x",
            ">= 100",
            f"exact {t_exact * 1e3:.1f} ms; Monte Carlo needs R={needed} (sd/mean "
            f"{sd / mean:.2f} from a pilot of {pilot}), {t_pilot:.2f} s for the pilot, "
            f"scaled linearly to {t_mc:.1f} s; pilot mean off the exact value by "
            f"{100 * mc_error:.2f}%",
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


# -- 4. hand-written PyTorch loop vs mastbench -------------------------------------------------


def _a5a() -> tuple[Any, np.ndarray]:
    """a5a as loaded from its LIBSVM file: CSR features (11 % nonzeros) and ±1 labels."""
    datasets = _require("mastbench.problems.datasets", "the data set loader")
    try:
        data = datasets.load("a5a", data_dir=os.environ.get("MASTBENCH_DATA"), dense=False)
    except FileNotFoundError as exc:
        raise Skip(f"a5a not found ({exc}); set MASTBENCH_DATA") from None
    return data.X, data.y


def torch_dsgd_loop(
    X: np.ndarray, y: np.ndarray, *, l2: float, p: float, step: float, iters: int, replicates: int
) -> np.ndarray:
    """DSGD on logistic regression as a researcher would write it in PyTorch (CPU).

    One replicate after the other; each step draws a Bernoulli mask s = c/p, evaluates the
    loss at the sketched point s ⊙ x with autograd and moves x by −γ s ⊙ ∇f(s ⊙ x).
    """
    import torch

    torch.manual_seed(0)
    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    d = Xt.shape[1]
    finals = []
    for _ in range(replicates):
        x = torch.zeros(d, dtype=torch.float64)
        for _ in range(iters):
            s = (torch.rand(d, dtype=torch.float64) < p).to(torch.float64) / p
            z = (s * x).requires_grad_(True)
            loss = torch.nn.functional.softplus(-yt * (Xt @ z)).mean() + 0.5 * l2 * (z * z).sum()
            (g,) = torch.autograd.grad(loss, z)
            with torch.no_grad():
                x = x - step * s * g
        finals.append(x)
    return torch.stack(finals).numpy()


def _torch(quick: bool) -> list[Row]:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise Skip("PyTorch is not installed (pip install '.[bench]')") from None
    dsgd = _dsgd()
    sk = _sketches()
    from mastbench.problems import Logistic

    X_sparse, y = _a5a()
    if quick:
        X_sparse, y = X_sparse[:500], y[:500]
    X_dense = X_sparse.toarray()
    R, iters = (10, 50) if quick else (100, 1000)
    torch_replicates = 2 if quick else 5
    repeats = 1 if quick else 3  # best of 3 on both sides
    l2, p = 1e-3, 0.5

    def ours(X: Any) -> float:
        problem = Logistic(X, y, l2)
        sketch = sk.Bernoulli(p, problem.d)
        step = 0.5 / (problem.L * sketch.L_S_max)

        def run() -> Any:
            return dsgd(
                problem, np.zeros(problem.d), sketch=sketch, step=step, iters=iters, rng=rng(6),
                replicates=R, checkpoints=[0, iters], metrics=["subopt"],
            )  # fmt: skip

        _ = problem.f_star  # f* of the metric (a Newton solve) is cached set-up, not the run
        return best_time(run, repeat=repeats)

    t_sparse, t_dense = ours(X_sparse), ours(X_dense)
    problem = Logistic(X_sparse, y, l2)
    step = 0.5 / (problem.L * sk.Bernoulli(p, problem.d).L_S_max)
    t_torch = best_time(
        lambda: torch_dsgd_loop(
            X_dense, y, l2=l2, p=p, step=step, iters=iters, replicates=torch_replicates
        ),
        repeat=repeats,
    ) * (R / torch_replicates)
    n, d = X_dense.shape
    density = X_sparse.nnz / (n * d)
    torch_detail = (
        f"PyTorch {t_torch:.1f} s (dense float64 X, autograd; best of {repeats} on "
        f"{torch_replicates} replicates, scaled by {R}/{torch_replicates}: its replicates run "
        "one after another)"
    )
    what = f"logistic a5a (n={n}, d={d}), {R} replicates × {iters} steps"
    return [
        _row(
            f"mastbench DSGD (a5a as loaded: CSR, {100 * density:.0f} % nonzeros) vs "
            f"hand-written PyTorch (CPU) loop, {what}",
            t_torch / t_sparse,
            "x",
            ">= 10",
            f"mastbench {t_sparse:.2f} s (f* of the subopt metric solved beforehand); "
            f"{torch_detail}",
        ),
        _row(
            f"mastbench DSGD with the dense X vs the same PyTorch loop, {what}",
            t_torch / t_dense,
            "x",
            ">= 1",
            f"mastbench {t_dense:.2f} s (two float64 GEMMs per step); {torch_detail}",
        ),
    ]


# -- 5. peak memory against a stated formula --------------------------------------------------


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
        return moments(prob_n, sk_n, x0=np.ones(n), step=step_n, iters=50, checkpoints=[0, 50])

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
    "torch": ([("mastbench DSGD vs hand-written PyTorch loop, logistic a5a", ">= 10")], _torch),
    "memory": (
        [("peak memory of batched DSGD over 8·(R·d + d²) bytes", "<= 12"),
         ("peak memory of the exact engine over 8·d² bytes", "<= 40")],
        _memory,
    ),
}  # fmt: skip
