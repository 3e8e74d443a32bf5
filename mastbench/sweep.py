"""Run independent jobs serially, on local processes (joblib) or on a Dask cluster.

A job is a small picklable spec (a dict of plain values) executed by a top-level function
``execute(job) -> rows``; :func:`run_jobs` skips the jobs already in the
:class:`~mastbench.results.ResultStore`, runs the rest, and records each one in the store as
soon as it finishes, so a sweep killed at any moment resumes where it stopped.  A job is
stored under :func:`store_key`: its spec and the code that produced it (mastbench's version,
the hash of its source and of the plugin modules the job imports), so results of changed code
are recomputed, never replayed.

Backends: ``n_jobs=1`` runs in this process (no extra dependency); ``n_jobs=N`` uses joblib's
process pool (``loky``), whose workers die with the sweep (on Linux);
``scheduler="tcp://host:port"`` sends the jobs to a Dask cluster through joblib's Dask
backend.  joblib and dask are the ``sweep`` extra
(``pip install mastbench[sweep]``) and are imported only when asked for.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mastbench.provenance import source_hash
from mastbench.results import ResultStore, job_key

__all__ = ["SCHEDULER_TIMEOUT", "progress_bar", "require", "run_jobs", "store_key"]

Rows = list[dict[str, Any]]


def require(module: str, extra: str) -> Any:
    """Import ``module`` or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed for this; install it with pip install 'mastbench[{extra}]'"
        ) from exc


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


class _TextBar:
    """``desc: done/total`` rewritten in place on stderr (when tqdm is not installed)."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.done = total, desc, 0
        self._show()

    def _show(self) -> None:
        sys.stderr.write(f"\r{self.desc}: {self.done}/{self.total} jobs")
        sys.stderr.flush()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished jobs."""
        self.done += n
        self._show()

    def close(self) -> None:
        """End the line."""
        sys.stderr.write("\n")
        sys.stderr.flush()


def progress_bar(total: int, desc: str, enabled: bool | None = None) -> Any:
    """A bar on stderr over ``total`` jobs (tqdm when installed, else a plain counter); a
    no-op when disabled or, by default, when stderr is not a TTY."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextBar(total, desc)
    return tqdm(total=total, desc=desc, unit="job", file=sys.stderr, leave=False)


def store_key(job: Mapping[str, Any]) -> str:
    """The store key of ``job``: :func:`~mastbench.results.job_key` of the spec together with
    :func:`~mastbench.provenance.source_hash` of mastbench and of the job's ``modules``."""
    return job_key({"job": dict(job), "code": source_hash(tuple(job.get("modules", ())))})


def _die_with_parent() -> None:
    """Initializer of a local worker process: on Linux, the kernel kills the worker when the
    process that started it dies (``PR_SET_PDEATHSIG``), so a sweep killed with SIGKILL leaves
    no worker behind; elsewhere the workers end after loky's idle timeout."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _call(execute: Callable[[Mapping[str, Any]], Rows], key: str, job: Mapping[str, Any]):
    return key, execute(job)


#: Seconds to wait for a Dask scheduler to answer before giving up.
SCHEDULER_TIMEOUT = 5.0


@contextlib.contextmanager
def _dask_backend(scheduler: str) -> Iterator[None]:
    joblib = require("joblib", "sweep")
    distributed = require("distributed", "sweep")
    try:
        client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"scheduler {scheduler}: no Dask scheduler answered within {SCHEDULER_TIMEOUT:g} s"
        ) from exc
    with client, joblib.parallel_config(backend="dask"):
        yield


def _parallel(
    execute: Callable[[Mapping[str, Any]], Rows],
    todo: Sequence[tuple[str, Mapping[str, Any]]],
    n_jobs: int,
    scheduler: str | None,
) -> Iterator[tuple[str, Rows]]:
    if n_jobs == 1 and scheduler is None:
        for key, job in todo:
            yield _call(execute, key, job)
        return
    joblib = require("joblib", "sweep")
    if scheduler is not None:
        context = _dask_backend(scheduler)
    else:
        context = joblib.parallel_config(backend="loky", initializer=_die_with_parent)
    with context:
        parallel = joblib.Parallel(
            n_jobs=-1 if scheduler is not None else n_jobs, return_as="generator_unordered"
        )
        yield from parallel(joblib.delayed(_call)(execute, key, job) for key, job in todo)


def run_jobs(
    jobs: Sequence[Mapping[str, Any]],
    execute: Callable[[Mapping[str, Any]], Rows],
    *,
    store: ResultStore | None = None,
    n_jobs: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
    desc: str = "jobs",
    on_result: Callable[[int, Rows], None] | None = None,
    force: bool = False,
) -> list[Rows]:
    """Run ``jobs`` (skipping those in ``store``) and return their rows in job order.

    Parameters
    ----------
    jobs : sequence of mapping
        Picklable job specs; :func:`~mastbench.results.job_key` of a spec is its store key.
    execute : callable
        Top-level function ``execute(job) -> list of row dicts`` (picklable by reference).
    store : ResultStore, optional
        Where finished runs are recorded as they complete; without it nothing is persisted.
    n_jobs : int
        Local worker processes (1: run in this process).
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``); overrides ``n_jobs``.  A
        scheduler that does not answer within :data:`SCHEDULER_TIMEOUT` seconds raises
        :class:`ConnectionError`.
    progress : bool, optional
        Show a progress bar (default: when stderr is a TTY).
    desc : str
        Label of the progress bar.
    on_result : callable, optional
        Called as ``on_result(index, rows)`` for every job, in the order of ``jobs``, as soon
        as it and all the jobs before it are done (to print results while a sweep runs).
    force : bool
        Recompute every job, also those in ``store`` (their files are replaced).

    Returns
    -------
    list of list of dict
        The rows of each job, in the order of ``jobs``.
    """
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise ValueError(f"scheduler must be an address like tcp://host:8786, got {scheduler!r}")
    keys = [store_key(job) for job in jobs]
    results: dict[str, Rows] = {}
    if store is not None:
        store.discard_partial()
        if not force:
            stored = set(store.keys())
            results = store.get_many(key for key in keys if key in stored)
    todo = [(key, job) for key, job in dict(zip(keys, jobs, strict=True)).items()]
    todo = [(key, job) for key, job in todo if key not in results]
    bar = progress_bar(len(todo), desc, progress)
    reported = 0

    def report_ready() -> None:
        nonlocal reported
        while reported < len(keys) and keys[reported] in results:
            if on_result is not None:
                on_result(reported, results[keys[reported]])
            reported += 1

    report_ready()
    try:
        for key, rows in _parallel(execute, todo, n_jobs, scheduler):
            if store is not None:
                store.put(key, rows)
            results[key] = rows
            bar.update(1)
            report_ready()
    finally:
        bar.close()
    reused = len(dict.fromkeys(keys)) - len(todo)
    reused_text = f"reused {reused} stored results, " if store is not None else ""
    where = f" (store {store.root})" if store is not None else ""
    print(f"{desc}: {reused_text}computed {len(todo)}{where}", file=sys.stderr, flush=True)
    return [results[key] for key in keys]
