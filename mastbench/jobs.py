"""The jobs of ``mastbench verify`` and ``mastbench run``: picklable specs and executors.

A job is a dict of plain values; :func:`execute` (a top-level function, so joblib and Dask
can ship it by reference) rebuilds everything from the spec in the worker and returns the
rows of the results store.  ``modules`` lists modules to import first in the worker: that is
how theorems and algorithms registered outside mastbench (a user's plugin, a test's fake
family) reach the workers.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from mastbench.results import trace_rows, verdict_rows
from mastbench.threads import one_blas_thread
from mastbench.validation import UsageError

__all__ = [
    "execute",
    "import_plugins",
    "run_case",
    "run_jobs_for",
    "summarize_verdict",
    "theorem_summary",
    "verify_jobs",
    "verify_line",
]

Rows = list[dict[str, Any]]


def import_plugins(modules: Iterable[str]) -> None:
    """Import each module named in ``modules`` (``--import``), looking in the current folder
    first, as ``python -m`` does, then on the usual path.

    Raises
    ------
    UsageError
        If a named module does not exist (an import error inside an existing plugin is the
        plugin's own and propagates unchanged).
    """
    modules = list(modules)
    here = os.getcwd()
    if modules and here not in sys.path:
        sys.path.insert(0, here)
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            raise UsageError(
                f"--import {name}: no module named {exc.name!r} in the current folder "
                "or on the Python path"
            ) from None


_INSTANCES: dict[tuple[str, bool, int], list[Any]] = {}


def _instances(thm: Any, quick: bool) -> list[Any]:
    """``thm.instances(quick)``, built once per process (jobs and workers share it)."""
    key = (thm, bool(quick))
    if key not in _INSTANCES:
        _INSTANCES[key] = list(thm.instances(quick))
    return _INSTANCES[key]


def verify_jobs(
    theorems: Sequence[Any],
    *,
    quick: bool,
    controls: bool = True,
    modules: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One job per (theorem, instance), plus one per negative control on the first instance."""
    jobs = []
    for thm in theorems:
        instances = _instances(thm, quick)
        base = {"kind": "verify", "theorem": thm.id, "quick": bool(quick), "modules": list(modules)}
        for index, instance in enumerate(instances):
            jobs.append({**base, "instance": index, "instance_name": instance.name, "control": ""})
        if controls and instances:
            for control in thm.controls:
                jobs.append(
                    {
                        **base,
                        "instance": 0,
                        "instance_name": instances[0].name,
                        "control": control.name,
                    }
                )
    return jobs


@lru_cache(maxsize=4)
def _plain_verdict(theorem_id: str, quick: bool, index: int) -> Any:
    """The plain verdict of built-in instance ``index``; a bound-scaled control of the same
    instance, run next in the same worker, re-checks its evidence."""
    from mastbench import theory
    from mastbench.verify import verify

    thm = theory.get(theorem_id)
    return verify(thm, _instances(thm, quick)[index])


def _execute_verify(job: Mapping[str, Any]) -> Rows:
    from mastbench import theory
    from mastbench.verify import Verdict, verify_control

    thm = theory.get(job["theorem"])
    instance = _instances(thm, job["quick"])[job["instance"]]
    if instance.name != job["instance_name"]:
        raise ValueError(
            f"{thm.id}: instance {job['instance']} is {instance.name!r}, "
            f"expected {job['instance_name']!r} (the instance list changed)"
        )
    if job["control"]:
        controls = [c for c in thm.controls if c.name == job["control"]]
        if not controls:
            raise ValueError(f"{thm.id} has no negative control named {job['control']!r}")
        scaled_only = controls[0].params is None and controls[0].instance is None

        def check() -> Any:
            plain = _plain_verdict(thm.id, job["quick"], job["instance"]) if scaled_only else None
            return verify_control(thm, instance, controls[0], plain)

    else:
        check = functools.partial(_plain_verdict, thm.id, job["quick"], job["instance"])
    try:
        verdict = check()
    except Exception as exc:
        verdict = Verdict(
            thm.id,
            instance.name,
            "error",
            reasons=[f"{type(exc).__name__}: {exc}"],
            method=thm.method,
        )
        error = "".join(traceback.format_exception(exc))
        return verdict_rows(
            verdict,
            theorem=thm,
            control=job["control"],
            traceback=error,
            **_instance_context(instance),
        )
    return verdict_rows(verdict, theorem=thm, control=job["control"], **_instance_context(instance))


def _describe(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else type(value).__name__


def _instance_context(instance: Any) -> dict[str, Any]:
    fields = instance.fields
    return {
        "problem": _describe(fields.get("problem")),
        "dataset": _describe(fields.get("dataset")),
        "sketch": _describe(fields.get("sketch")),
    }


#: Options of ``mastbench run`` a run job records (:class:`mastbench.cases.RunOptions`).
RUN_OPTIONS = ("problem", "sketch", "regularizer", "constraint", "step", "iters")


def run_jobs_for(
    algorithm: str,
    *,
    grid: Mapping[str, Sequence[Any]],
    seed: int,
    replicates: int,
    iters: int | None = None,
    problem: str | None = None,
    sketch: str | None = None,
    regularizer: str | None = None,
    constraint: str | None = None,
    step: str | None = None,
    settings: Mapping[str, Any] | None = None,
    modules: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One ``run`` job per point of the Cartesian product of ``grid``.

    The options are those of :class:`mastbench.cases.RunOptions` (``None``: the default;
    ``settings``: the ``--set`` keyword arguments).  A grid point sets ``step`` and ``iters``
    as those options, any other key as a setting.  The job records all of it, so its store
    key is the whole spec of the run.

    Raises
    ------
    UsageError
        If ``grid`` sweeps what the job sets itself: ``rng`` or ``replicates`` (from ``seed``
        and ``replicates``), or ``iters`` when ``iters`` is given.
    """
    for key, setting in (("rng", "seed"), ("replicates", "replicates"), ("iters", "iters")):
        if key in grid and (key != "iters" or iters is not None):
            raise UsageError(
                f"grid must not sweep {key!r}: the run sets it from {setting} "
                f"(--{setting} on the command line)"
            )
    points: list[dict[str, Any]] = [{}]
    for key, values in grid.items():
        points = [{**p, key: v} for p in points for v in values]
    base = {
        "problem": problem,
        "sketch": sketch,
        "regularizer": regularizer,
        "constraint": constraint,
        "step": step,
        "iters": iters,
    }
    return [
        {
            "kind": "run",
            "algorithm": algorithm,
            **base,
            "settings": dict(settings or {}),
            "params": point,
            "seed": seed,
            "replicates": replicates,
            "modules": list(modules),
        }
        for point in points
    ]


def run_case(job: Mapping[str, Any]) -> Any:
    """The :class:`~mastbench.cases.Case` of a ``run`` job (its grid point applied)."""
    from mastbench.cases import RunOptions, build_case

    point = dict(job["params"])
    chosen = {key: job[key] for key in RUN_OPTIONS}
    if "step" in point:
        chosen["step"] = str(point.pop("step"))
    if "iters" in point:
        chosen["iters"] = point.pop("iters")
    return build_case(job["algorithm"], RunOptions(**chosen, settings={**job["settings"], **point}))


def _execute_run(job: Mapping[str, Any]) -> Rows:
    from mastbench.backend import rng

    case = run_case(job)
    trace = case.run(rng(job["seed"]), job["replicates"])
    return trace_rows(
        trace,
        family=case.spec.family,
        problem=case.problem,
        seed=job["seed"],
        backend="numpy",
        params=case.params(),
    )


_EXECUTORS = {"verify": _execute_verify, "run": _execute_run}


def execute(job: Mapping[str, Any]) -> Rows:
    """Run one job (``kind`` ``"verify"`` or ``"run"``) and return its rows.

    The process running it uses one BLAS thread from then on
    (:func:`mastbench.threads.one_blas_thread`: the jobs are small, and parallelism comes
    from running several at once).
    """
    if job.get("kind") not in _EXECUTORS:
        raise ValueError(f"job kind must be one of {sorted(_EXECUTORS)}, got {job.get('kind')!r}")
    one_blas_thread()
    import_plugins(job.get("modules", ()))
    return _EXECUTORS[job["kind"]](job)


def summarize_verdict(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Status, worst ratio, tightness, nontrivial worst ratio (:attr:`Verdict.nontrivial_ratio`)
    and reasons of one verify job, from its rows."""
    first = rows[0]
    ratios = [r["ratio"] for r in rows if not math.isnan(r["ratio"])]
    extra = json.loads(first["extra"]) if first["extra"] else {}
    return {
        "theorem": first["theorem"],
        "instance": first["instance"],
        "control": first["control"],
        "status": first["status"],
        "worst_ratio": max(ratios) if ratios else math.nan,
        "tightness": ratios[-1] if ratios else math.nan,
        "nontrivial_ratio": _float(extra.get("nontrivial_ratio")),
        "reasons": extra.get("reasons", []),
        "params": first["params"],
    }


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _worst(values: Iterable[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else math.nan


def theorem_summary(thm: Any, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One theorem's outcome over its jobs (:func:`summarize_verdict` of each).

    ``status`` is ``violated`` when an instance violates the bound or a negative control goes
    undetected, else ``error`` when a check raised, else ``falsified`` when an instance is a
    counterexample to a theorem known to be false (not a failure), else ``holds`` when an
    instance holds, else ``not applicable``; ``worst_ratio`` and ``nontrivial_ratio`` are the
    largest over the instances (controls excluded); ``instances`` counts the instances checked.
    """
    checks = [s for s in summaries if not s["control"]]
    controls = [s for s in summaries if s["control"]]
    statuses = {s["status"] for s in checks}
    missed = any(s["status"] not in ("violated", "error") for s in controls)
    if "violated" in statuses or missed:
        status = "violated"
    elif "error" in statuses or any(s["status"] == "error" for s in controls):
        status = "error"
    elif "falsified" in statuses:
        status = "falsified"
    elif "holds" in statuses:
        status = "holds"
    else:
        status = "not applicable"
    return {
        "id": thm.id,
        "label": thm.label,
        "tag": thm.tag,
        "status": status,
        "instances": len(checks),
        "worst_ratio": _worst(s["worst_ratio"] for s in checks),
        "nontrivial_ratio": _worst(s["nontrivial_ratio"] for s in checks),
        "controls": {s["control"]: s["status"] == "violated" for s in controls},
    }


def verify_line(summary: Mapping[str, Any]) -> tuple[str, bool]:
    """The line ``mastbench verify`` prints for one job, and whether it failed."""
    if summary["control"] and summary["status"] == "error":
        reasons = "; ".join(summary["reasons"][:3])
        name = f"{summary['theorem']} control '{summary['control']}'"
        return f"[ ERR] {name}: error — {reasons}", True
    if summary["control"]:
        detected = summary["status"] == "violated"
        state = "detected" if detected else "NOT DETECTED"
        line = (
            f"[{'ok' if detected else 'FAIL':>4}] {summary['theorem']} control "
            f"'{summary['control']}': {state} (worst ratio {summary['worst_ratio']:.3g})"
        )
        return line, not detected
    status = summary["status"]
    # "falsified": a theorem known to be false, violated as expected (not a failure)
    marks = {"holds": "ok", "not applicable": "n/a", "falsified": "xf", "error": "ERR"}
    mark = marks.get(status, "FAIL")
    text = f"{summary['theorem']} on {summary['instance']}: {status}"
    if status in ("holds", "violated", "falsified"):
        text += f" (worst ratio {summary['worst_ratio']:.3g}, tightness {summary['tightness']:.3g})"
    if summary["reasons"]:
        text += " — " + "; ".join(summary["reasons"][:3])
    return f"[{mark:>4}] {text}", mark in ("FAIL", "ERR")
