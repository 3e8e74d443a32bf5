"""``mastbench bench``: run the asv suite, and compare the fast paths in one process.

Two jobs:

* :func:`run_asv` drives `asv <https://asv.readthedocs.io>`_ on the suite in ``benchmarks/``
  (machine information is recorded non-interactively with ``asv machine --yes`` first).
* :func:`compare` measures the ratios that the performance issue asks for, all in the same
  run and the same process, so that every number is relative to a reference measured
  alongside it (never to a figure from another day): batched replicates against NumPy's own
  GEMM rate and against a Python loop, the Rand-K index path against the mask path, the exact
  moment engine against Monte Carlo, mastbench against the same batched DSGD written in
  PyTorch and in JAX (and against a naive PyTorch loop), float32 against float64, and peak
  memory against a stated formula.  The table goes to stdout as Markdown and to
  ``reports/performance.json`` as ``{"stamp": {...}, "rows": [{"name", "value", "unit",
  "goal", "met", "detail"}]}``; a row whose ingredients are missing (PyTorch, the data set,
  an unmerged module) has ``value = None`` and says why in ``detail``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from mastbench.threads import blas_threads

__all__ = [
    "ASV_ACTIONS",
    "Row",
    "best_time",
    "blas_threads",
    "compare",
    "dense_quadratic_data",
    "markdown",
    "run_asv",
    "write_json",
]

#: The asv sub-commands :func:`run_asv` knows, with the arguments it adds to each.
ASV_ACTIONS: dict[str, tuple[str, ...]] = {
    "run": ("run", "--python=same"),
    "check": ("check", "--python=same"),
    "continuous": ("continuous", "main", "HEAD"),
    "publish": ("publish",),
    "preview": ("preview",),
}


def _root() -> Path:
    return Path(__file__).resolve().parent.parent


def run_asv(
    action: str = "run",
    *,
    quick: bool = True,
    extra: Sequence[str] = (),
    asv: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> int:
    """Run one asv action on the suite and return asv's exit status.

    Parameters
    ----------
    action : {"run", "check", "continuous", "publish", "preview"}
        ``run`` = ``asv run --python=same --set-commit-hash HEAD`` (the current environment,
        no build; results saved under the checked-out commit, so that ``publish``, ``compare``
        and the history see them; uncommitted edits are recorded as that commit);
        ``check`` = ``asv check --python=same`` (imports and validates the suite);
        ``continuous`` = ``asv continuous main HEAD`` (builds both commits in virtualenvs
        and reports significant changes); ``publish`` / ``preview`` render and serve the
        HTML pages of the recorded results.
    quick : bool
        Add ``--quick`` to ``run`` and ``continuous`` (each benchmark once: a validity check,
        not a timing).
    extra : sequence of str
        More arguments for asv (e.g. ``["--bench", "QuadraticGrad"]``).
    asv : str, optional
        The asv executable (default: ``asv`` beside this Python, else on ``PATH``).
    cwd : path, optional
        The project root holding ``asv.conf.json`` (default: this checkout).

    Raises
    ------
    ValueError
        If ``action`` is unknown.
    FileNotFoundError
        If asv is not installed (``pip install -e .[bench]``).
    """
    if action not in ASV_ACTIONS:
        raise ValueError(f"action must be one of {sorted(ASV_ACTIONS)}, got {action!r}")
    exe = [asv] if asv else _find_asv()
    root = Path(cwd) if cwd is not None else _root()
    machine = subprocess.run([*exe, "machine", "--yes"], cwd=root, capture_output=True, text=True)
    if machine.returncode != 0:
        sys.stderr.write(machine.stdout + machine.stderr)
        return machine.returncode
    command = [*exe, *ASV_ACTIONS[action]]
    if quick and action in ("run", "continuous"):
        command.append("--quick")
    if action == "run":
        head = _git_head(root)
        if head is None:
            print(
                f"warning: {root} is not a git checkout; asv will not save these results",
                file=sys.stderr,
            )
        else:
            command += ["--set-commit-hash", head]
    command.extend(extra)
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, cwd=root).returncode


def _git_head(root: Path) -> str | None:
    """The commit checked out in ``root`` (asv's repository), or ``None``."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def _find_asv() -> list[str]:
    """The asv command: the executable beside this Python, else on ``PATH``, else
    ``python -m asv`` when asv is importable."""
    beside = Path(sys.executable).with_name("asv")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("asv")
    if found is not None:
        return [found]
    try:
        import asv  # noqa: F401
    except ImportError:
        raise FileNotFoundError(
            "asv is not installed; install the bench extra: pip install '.[bench]'"
        ) from None
    return [sys.executable, "-m", "asv"]


def dense_quadratic_data(d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Host data (A, b) of a dense benchmark quadratic ½xᵀAx − bᵀx, built in BLAS time.

    A = GGᵀ/(4d) + I with G standard normal (d × d): dense, symmetric positive definite,
    eigenvalues in [1, ≈ 2]; b standard normal.  Cheaper than a random orthogonal basis (no
    QR), so benchmark set-up stays small next to what it measures.
    """
    gen = np.random.default_rng(seed)
    G = gen.standard_normal((d, d))
    A = G @ G.T / (4.0 * d) + np.eye(d)
    return 0.5 * (A + A.T), gen.standard_normal(d)


# -- the comparison table --------------------------------------------------------------------


@dataclass
class Row:
    """One measured ratio of the comparison table.

    Attributes
    ----------
    name : str
        What is compared.
    value : float or None
        The measured ratio (``None`` when the row could not be measured).
    unit : str
        Unit of ``value`` (``"x"`` for a speed-up, ``"%"``, ``"slope"``, ...).
    goal : str
        The target, e.g. ``">= 20"``.
    met : bool or None
        Whether ``value`` meets ``goal`` (``None`` when not measured).
    detail : str
        The raw timings behind the ratio, or why the row was skipped.
    """

    name: str
    value: float | None
    unit: str
    goal: str
    met: bool | None
    detail: str


class Skip(Exception):
    """A comparison row cannot be measured here (missing package, data set or module)."""


def _goal_met(value: float, goal: str) -> bool:
    op, threshold = goal.split()
    return value >= float(threshold) if op == ">=" else value <= float(threshold)


def _row(name: str, value: float, unit: str, goal: str, detail: str) -> Row:
    return Row(name, float(value), unit, goal, _goal_met(float(value), goal), detail)


def best_time(fn: Callable[[], Any], *, repeat: int = 3, number: int = 1) -> float:
    """Best wall time in seconds of ``number`` calls of ``fn`` over ``repeat`` repetitions.

    The result of the last call is synchronized (GPU work finished) before the clock stops.
    """
    from mastbench.backend import synchronize

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            result = fn()
        synchronize(getattr(result, "x", result))
        best = min(best, time.perf_counter() - start)
    return best / number


def stamp(command: str) -> dict[str, Any]:
    """Provenance of a comparison run: command, time, commit, machine, library versions.

    ``blas_threads_default``/``torch_threads_default`` are the libraries' own thread counts;
    a ``--threads`` limit in force during the run is stamped separately as ``threads``.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=_root(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    try:  # numba compiles the exact engine's propagation (mastbench.exact.numba_kernel)
        versions["numba"] = metadata.version("numba")
    except metadata.PackageNotFoundError:
        versions["numba"] = None
    try:
        import torch

        versions["torch"] = torch.__version__
        versions["torch_threads_default"] = torch.get_num_threads()
    except ImportError:
        versions["torch"] = None
    try:
        versions["jax"] = metadata.version("jax")
    except metadata.PackageNotFoundError:
        versions["jax"] = None
    return {
        "command": command,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "blas_threads_default": blas_threads(),
        **versions,
    }


def markdown(rows: Sequence[Row]) -> str:
    """The comparison rows as a Markdown table."""
    lines = ["| comparison | value | goal | met | detail |", "|---|---|---|---|---|"]
    for row in rows:
        value = "—" if row.value is None else f"{row.value:.3g} {row.unit}"
        met = {True: "yes", False: "**no**", None: "skipped"}[row.met]
        lines.append(f"| {row.name} | {value} | {row.goal} | {met} | {row.detail} |")
    return "\n".join(lines)


def write_json(
    rows: Sequence[Row], path: str | os.PathLike[str], command: str, **extra_stamp: Any
) -> Path:
    """Write ``{"stamp": ..., "rows": [...]}`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"stamp": {**stamp(command), **extra_stamp}, "rows": [asdict(r) for r in rows]}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)
    return path


def compare(
    *,
    quick: bool = False,
    only: Sequence[str] = (),
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Measure every fast-path ratio in this process and return the rows.

    Parameters
    ----------
    quick : bool
        Smaller sizes throughout (a smoke run in seconds; the ratios are then not the ones
        the goals refer to).
    only : sequence of str
        Run only the comparisons whose key (see ``mastbench._compare.COMPARISONS``) is listed.
    threads : int, optional
        Limit BLAS (and PyTorch) to this many threads for the whole run, references
        included.  On a shared machine, multi-threaded BLAS on oversubscribed cores can be
        slower than one thread by orders of magnitude on small products.
    progress : callable, optional
        Called with each comparison's key before it runs.
    """
    from mastbench import _compare

    unknown = set(only) - set(_compare.COMPARISONS)
    if unknown:
        raise ValueError(
            f"only: unknown comparison(s) {sorted(unknown)}; known: {list(_compare.COMPARISONS)}"
        )
    if threads is None:
        return _measure(_compare.COMPARISONS, only, quick, progress)
    from mastbench.threads import limited_blas
    from mastbench.validation import check_int

    threads = check_int("threads", threads, low=1)  # before PyTorch's count is changed
    try:
        import torch

        torch_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    try:
        with limited_blas(threads):
            return _measure(_compare.COMPARISONS, only, quick, progress)
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)


def _measure(
    comparisons: dict, only: Sequence[str], quick: bool, progress: Callable[[str], None] | None
) -> list[Row]:
    rows: list[Row] = []
    for key, (names, measure) in comparisons.items():
        if only and key not in only:
            continue
        if progress is not None:
            progress(key)
        try:
            rows.extend(measure(quick))
        except Skip as reason:
            rows.extend(
                Row(name, None, "", goal, None, f"skipped: {reason}") for name, goal in names
            )
    return rows
