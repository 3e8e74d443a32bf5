"""The ``mastbench`` command line: list, verify, run, report, falsify, bench, pepit, clean.

Exit status, one meaning each:

* 0 — every check holds (every command that succeeds);
* 1 — a theorem is violated, or a negative control goes undetected (``bench --compare``
  without ``--quick``: a goal is missed);
* 2 — a usage error: one line naming the argument (:class:`~mastbench.validation.UsageError`,
  and argparse's own errors);
* 3 — an internal or I/O error: one line naming the path or the failure (the traceback with
  ``--debug``); also a check that raised (recorded as an ``error`` verdict, the others go on);
* 4 — ``run``: a run diverged (a non-finite iterate; the first such iteration is printed).

Output to a closed pipe (``mastbench list | head``) ends quietly with status 141, as for any
program killed by SIGPIPE.  ``verify``, ``run`` and ``report`` run their jobs in parallel with
``-j N`` (joblib) or on a Dask cluster with ``--scheduler tcp://host:port``, and keep finished
runs in a results store (``--results DIR``), keyed by the code that produced them, so that a
rerun of unchanged code skips them; each says how many results it reused and computed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mastbench.theory import PACKAGES
from mastbench.validation import UsageError

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace) -> int:
    from mastbench import catalogue

    sections = catalogue.sections()
    if args.what is not None and args.what not in sections:
        raise UsageError(f"unknown section {args.what!r}; known sections: {', '.join(sections)}")
    for section, rows in sections.items():
        if args.what not in (None, section):
            continue
        print(f"{section}:")
        for name, description in rows:
            print(f"  {name:<34} {description}")
    return 0


def _selected_theorems(args: argparse.Namespace) -> list:
    from mastbench import theory

    if args.theorem:
        return [theory.get(t) for t in args.theorem]
    return theory.all(family=args.family)


def _check_selection(args: argparse.Namespace) -> None:
    """Usage errors for an unknown ``--theorem`` / theorem id or ``--family``."""
    ids = getattr(args, "theorem", None)
    family = getattr(args, "family", None)
    if not ids and family is None:
        return
    from mastbench import theory

    for theorem_id in [ids] if isinstance(ids, str) else ids or []:
        try:
            theory.get(theorem_id)
        except KeyError as exc:
            raise UsageError(exc.args[0]) from None
    if family is not None and family not in theory.families():
        raise UsageError(f"--family: unknown family {family!r}; known: {theory.families()}")


def _writable_dir(path: str | os.PathLike, option: str) -> Path:
    """Create ``path`` (a folder) if needed and check that a file can be written in it,
    before any computing; an :class:`OSError` naming ``option`` and the path otherwise."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        message = f"{option}: cannot write into the folder ({reason})"
        raise OSError(exc.errno, message, str(folder)) from exc
    return folder


def _store(args: argparse.Namespace, default: str | os.PathLike | None = None):
    """The ``--results`` store (else ``default``), its folder checked before any computing."""
    from mastbench.results import ResultStore

    root = args.results or default
    if root is None:
        return None
    return ResultStore(_writable_dir(root, "--results"))


def _format_ratio(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3g}"


def _summary_table(rows: Sequence[dict[str, Any]]) -> str:
    """The per-theorem table: theorem, label, tag, instances, status, nontrivial worst ratio."""
    header = ("theorem", "label", "tag", "instances", "status", "nontrivial worst ratio")
    cells = [header] + [
        (
            r["id"],
            r["label"],
            r["tag"],
            str(r["instances"]),
            r["status"],
            _format_ratio(r["nontrivial_ratio"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _json_value(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _cmd_verify(args: argparse.Namespace) -> int:
    from mastbench.jobs import execute, summarize_verdict, theorem_summary, verify_jobs, verify_line
    from mastbench.sweep import run_jobs

    if args.instance:
        return _cmd_verify_instance(args)
    store = _store(args)
    theorems = _selected_theorems(args)
    jobs = verify_jobs(theorems, quick=args.quick, controls=args.controls, modules=args.modules)
    by_id = {thm.id: thm for thm in theorems}
    remaining = {thm.id: 0 for thm in theorems}
    for job in jobs:
        remaining[job["theorem"]] += 1
    summaries: dict[str, list[dict[str, Any]]] = {thm.id: [] for thm in theorems}
    outcomes: list[dict[str, Any]] = []
    lines_to_stderr = not sys.stderr.isatty()

    def show(_index: int, rows: list) -> None:
        summary = summarize_verdict(rows)
        theorem_id = summary["theorem"]
        summaries[theorem_id].append(summary)
        if not args.json:
            print(verify_line(summary)[0], flush=True)
        remaining[theorem_id] -= 1
        if remaining[theorem_id] == 0:
            outcome = theorem_summary(by_id[theorem_id], summaries[theorem_id])
            outcomes.append(outcome)
            if lines_to_stderr:
                print(
                    f"verify [{len(outcomes)}/{len(theorems)}] {theorem_id}: {outcome['status']}",
                    file=sys.stderr,
                    flush=True,
                )

    run_jobs(
        jobs,
        execute,
        store=store,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        desc="verify",
        on_result=show,
        force=args.force,
    )
    outcomes += [theorem_summary(thm, []) for thm in theorems if not summaries[thm.id]]
    if store is not None:
        store.consolidate()
    failed = sum(o["status"] == "violated" for o in outcomes)
    errors = sum(o["status"] == "error" for o in outcomes)
    passed = sum(o["status"] == "holds" for o in outcomes)
    falsified = sum(o["status"] == "falsified" for o in outcomes)
    if args.json:
        keys = ("id", "label", "tag", "status", "instances", "worst_ratio", "nontrivial_ratio")
        print(json.dumps([{k: _json_value(o[k]) for k in keys} for o in outcomes], indent=1))
    else:
        checked = sum(1 for job in jobs if not job["control"])
        print()
        print(_summary_table(outcomes))
        print(
            f"{checked} checks and {len(jobs) - checked} negative controls on "
            f"{len(theorems)} theorems: {passed} passed, {failed} failed, {errors} errors, "
            f"{falsified} falsified, "
            f"{len(outcomes) - passed - failed - errors - falsified} not applicable"
        )
    return 1 if failed else 3 if errors else 0


def _parse_grid(items: Sequence[str]) -> dict[str, list]:
    from mastbench.problem_factory import parse_value

    grid: dict[str, list] = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise UsageError(f"--grid {item!r} must look like key=v1,v2,...")
        if key in grid:
            raise UsageError(f"--grid key {key!r} given twice")
        grid[key] = [parse_value(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _divergence(rows: Sequence[dict[str, Any]]) -> str | None:
    """Where a run diverged, from its rows: the first checkpoint whose iterate was not finite
    (the driver's ``diverged_at``), else the first with an infinite metric, and the checkpoint
    before it; ``None`` when it did not."""
    recorded = json.loads(rows[0]["params"] or "{}").get("diverged_at") if rows else None
    metrics = ("objective", "subopt", "dist2", "gradnorm2")
    bad = [r["iteration"] for r in rows if any(math.isinf(r[m]) for m in metrics)]
    first = int(recorded) if recorded is not None else min(bad, default=None)
    if first is None:
        return None
    before = max((r["iteration"] for r in rows if r["iteration"] < first), default=first - 1)
    if before == first - 1:
        return f"first non-finite iterate at t={first}"
    return (
        f"first non-finite iterate at a t in {before + 1}..{first} (checkpoints {before}, {first})"
    )


def _parse_settings(items: Sequence[str]) -> dict[str, Any]:
    from mastbench.problem_factory import parse_value

    settings: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise UsageError(f"--set {item!r} must look like key=value")
        if key in settings:
            raise UsageError(f"--set key {key!r} given twice")
        settings[key] = parse_value(value.strip())
    return settings


def _cmd_run(args: argparse.Namespace) -> int:
    from mastbench.jobs import execute, run_case, run_jobs_for
    from mastbench.sweep import run_jobs

    for name, value, low in (("--seed", args.seed, 0), ("--replicates", args.replicates, 1)):
        if value < low:
            raise UsageError(f"{name} must be >= {low}, got {value}")
    if args.iters is not None and args.iters < 0:
        raise UsageError(f"--iters must be >= 0, got {args.iters}")
    store = _store(args)
    jobs = run_jobs_for(
        args.algorithm,
        grid=_parse_grid(args.grid),
        seed=args.seed,
        replicates=args.replicates,
        iters=args.iters,
        problem=args.problem,
        sketch=args.sketch,
        regularizer=args.regularizer,
        constraint=args.constraint,
        step=args.step,
        settings=_parse_settings(args.settings),
        modules=args.modules,
    )
    described = set()
    for job in jobs:
        case = run_case(job)
        header = f"{args.algorithm} on {case.problem}: " + "; ".join(case.notes)
        if case.notes and header not in described:
            described.add(header)
            print(header)
    results = run_jobs(
        jobs,
        execute,
        store=store,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        desc="run",
        force=args.force,
    )
    metrics = ("objective", "subopt", "subopt_D", "dist2", "gradnorm2", "gap", "support")
    diverged = 0
    for job, rows in zip(jobs, results, strict=True):
        last = max((r["iteration"] for r in rows), default=0)
        # a metric without a column of its own (subopt_D) is kept in the row's extra JSON
        final = [{**json.loads(r["extra"] or "{}"), **r} for r in rows if r["iteration"] == last]
        means = {
            m: sum(float(r[m]) for r in final) / len(final)
            for m in metrics
            if final and all(r.get(m) is not None and not math.isnan(r[m]) for r in final)
        }
        shown = ", ".join(f"{m}={v:.4g}" for m, v in means.items())
        params = ", ".join(f"{k}={v}" for k, v in job["params"].items()) or "defaults"
        print(f"{args.algorithm} [{params}] t={last} (mean of {len(final)}): {shown}")
        where = _divergence(rows)
        if where is not None:
            diverged += 1
            print(f"{args.algorithm} [{params}] DIVERGED: {where}")
    print(f"{len(jobs)} runs done; the whole store is in {store.consolidate()}")
    return 4 if diverged else 0


def _family_reproductions(family: str) -> list[str]:
    from mastbench.report import discover_reproductions

    return [name for name in discover_reproductions() if name.rsplit(".", 1)[-1] == family]


def _cmd_report(args: argparse.Namespace) -> int:
    from mastbench import theory
    from mastbench.provenance import command_line
    from mastbench.report import build_report

    family = args.family
    if args.performance is not None and not Path(args.performance).is_file():
        raise UsageError(f"--performance {args.performance}: no such file")
    _writable_dir(args.output, "--output")
    store = _store(args, default=Path(args.output) / "results")
    if args.force:
        store.clear()
    report = build_report(
        args.output,
        theorems=theory.all(family=family) if family else None,
        reproductions=_family_reproductions(family) if family else None,
        quick=args.quick,
        results=store.root,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        modules=args.modules,
        performance=args.performance,
        command=command_line(),
    )
    print(report.summary())
    return 0 if report.ok else 1


def _cmd_clean(args: argparse.Namespace) -> int:
    from mastbench.results import ResultStore

    for root in args.stores:
        store = ResultStore(root)
        if not store.runs.is_dir():
            raise UsageError(f"{root} is not a results store (it has no runs/ folder)")
        print(f"removed {store.clear()} files from {root}")
    return 0


def _cmd_power(args: argparse.Namespace) -> int:
    from mastbench.power import catalogue, power
    from mastbench.power.matrix import format_matrix, format_summary
    from mastbench.results import atomic_write_bytes

    if args.json:
        _writable_dir(Path(args.json).parent, "--json")
    faults = catalogue(None if args.family is None else PACKAGES[args.family])
    if not faults:
        raise UsageError(f"--family: no fault of family {args.family!r} in the catalogue")
    report = power(
        faults,
        quick=not args.full,
        jobs=args.jobs,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(format_matrix(report))
    print(format_summary(report))
    if args.json:
        atomic_write_bytes(args.json, (json.dumps(report.to_json(), indent=1) + "\n").encode())
    return 0


def _cmd_pepit(args: argparse.Namespace) -> int:
    from mastbench import pepit_worst_case
    from mastbench.pepit_table import DEFAULT_ITERATIONS, MODELLED, pepit_rows, pepit_table
    from mastbench.report_tables import to_markdown

    if not pepit_worst_case.available():
        raise UsageError("pepit needs PEPit and cvxpy: pip install 'mastbench[pepit]'")
    unknown = sorted(set(args.theorem) - set(MODELLED))
    if unknown:
        raise UsageError(f"--theorem: PEPit models none of {unknown}; modelled: {list(MODELLED)}")
    iterations = args.iterations or DEFAULT_ITERATIONS
    rows = pepit_rows(args.theorem or None, quick=not args.full, iterations=iterations)
    print(to_markdown(pepit_table(rows)))
    return 0 if all(row.holds for row in rows) else 1


def _cmd_falsify(args: argparse.Namespace) -> int:
    import json

    from mastbench.falsify import falsify
    from mastbench.results import atomic_write_bytes
    from mastbench.threads import one_blas_thread

    one_blas_thread()
    if args.tightest:
        return _print_tightest(args)
    result = falsify(
        args.theorem, max_examples=args.max_examples, seed=args.seed, bound_scale=args.bound_scale
    )
    print(result.summary())
    if not result.found:
        return 0
    text = json.dumps(result.to_json(), indent=1)
    if args.output:
        atomic_write_bytes(args.output, (text + "\n").encode())
        print(f"counterexample written to {args.output}")
    else:
        print(text)
    return 1


def _print_tightest(args: argparse.Namespace) -> int:
    """``falsify --tightest``: the instance where the bound is most nearly attained."""
    import json
    import math

    from mastbench.falsify import tightest
    from mastbench.instance_io import encode_instance

    ratio, instance = tightest(args.theorem, max_examples=args.max_examples, seed=args.seed)
    if instance is None:
        print(f"{args.theorem}: no applicable instance in {args.max_examples} examples")
        return 0
    print(f"{args.theorem}: largest nontrivial ratio {ratio:.6g} on {instance.name}")
    print(json.dumps(encode_instance(instance, args.theorem), indent=1))
    return 1 if math.isfinite(ratio) and ratio > 1 else 0


def _cmd_verify_instance(args: argparse.Namespace) -> int:
    """``verify --instance FILE``: one theorem on the instance a file describes."""
    from mastbench import theory
    from mastbench.instance_io import load_instance
    from mastbench.jobs import verify_line
    from mastbench.threads import one_blas_thread
    from mastbench.verify import verify

    one_blas_thread()
    named, instance, params = load_instance(args.instance)
    if len(args.theorem) > 1 or (not args.theorem and named is None):
        raise UsageError(
            "--instance checks one theorem: give one --theorem ID (or a file that names it)"
        )
    thm = theory.get(args.theorem[0] if args.theorem else named)
    # the file's parameters are those of the theorem it names
    verdict = verify(thm, instance, params if named in (None, thm.id) else None)
    summary = {
        "theorem": thm.id,
        "instance": instance.name,
        "control": "",
        "status": verdict.status,
        "worst_ratio": verdict.worst_ratio,
        "tightness": verdict.tightness,
        "reasons": verdict.reasons,
    }
    line, failed = verify_line(summary)
    print(line)
    return 1 if failed else 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _scheduler_address(text: str) -> str:
    if "://" not in text:
        raise argparse.ArgumentTypeError(
            f"expected a scheduler address like tcp://host:8786, got {text!r}"
        )
    return text


def _common_options() -> argparse.ArgumentParser:
    """``--import`` and ``--debug``, shared by every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--import",
        dest="modules",
        action="append",
        default=[],
        metavar="MODULE",
        help="import this module first (a plugin that registers theorems or algorithms; "
        "looked up in the current folder first)",
    )
    common.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    return common


def _add_sweep_options(
    p: argparse.ArgumentParser, results: str | None, results_help: str | None = None
) -> None:
    p.add_argument(
        "-j", "--jobs", type=_positive_int, default=1, help="local worker processes (joblib)"
    )
    p.add_argument(
        "--scheduler",
        type=_scheduler_address,
        default=None,
        help="Dask scheduler address (tcp://host:port) for the jobs",
    )
    p.add_argument(
        "--results",
        default=results,
        metavar="DIR",
        help=results_help
        or "results store: finished runs of unchanged code are kept there and reused"
        + (f" (default: {results})" if results else ""),
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="recompute every result of this command, also those in the store "
        "(report: empty its store first)",
    )


def _cmd_bench(args: argparse.Namespace) -> int:
    from mastbench import _compare, bench

    if args.compare:
        unknown = sorted(set(args.only) - set(_compare.COMPARISONS))
        if unknown:
            known = ", ".join(_compare.COMPARISONS)
            raise UsageError(f"--only: unknown comparison(s) {unknown}; known: {known}")
        _writable_dir(Path(args.json).parent, "--json")
        command = "mastbench bench --compare" + "".join(
            [" --quick"] * args.quick
            + [f" --only {key}" for key in args.only]
            + ([f" --threads {args.threads}"] if args.threads is not None else [])
        )
        rows = bench.compare(
            quick=args.quick,
            only=args.only,
            threads=args.threads,
            progress=lambda key: print(f"measuring {key} ...", file=sys.stderr, flush=True),
        )
        print(bench.markdown(rows))
        path = bench.write_json(rows, args.json, command, threads=args.threads)
        print(f"wrote {path}", file=sys.stderr)
        # --quick is a smoke run at small sizes, where the goals (set for the full sizes) do
        # not apply: only a full run's exit status says whether a goal was missed
        return 1 if not args.quick and any(row.met is False for row in rows) else 0
    extra = args.asv_args[1:] if args.asv_args[:1] == ["--"] else args.asv_args
    return bench.run_asv(args.action, quick=not args.full, extra=extra)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mastbench`` command."""
    from mastbench import __version__

    parser = _Parser(
        prog="mastbench",
        description="Verify convergence theorems of sparsified training algorithms.",
    )
    parser.add_argument("--version", action="version", version=f"mastbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    common = [_common_options()]

    p = sub.add_parser(
        "list", parents=common, help="list sketches, problems, data sets, algorithms, theorems"
    )
    p.add_argument(
        "what",
        nargs="?",
        default=None,
        help="one section (sketches, problems, datasets, algorithms, theorems)",
    )
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser(
        "verify", parents=common, help="check the registered theorems on their instances"
    )
    p.add_argument("--family", default=None, help="only this paper family")
    p.add_argument("--theorem", action="append", default=[], help="only this theorem id")
    p.add_argument("--quick", action="store_true", help="small instances (seconds)")
    p.add_argument(
        "--no-controls", dest="controls", action="store_false", help="skip the negative controls"
    )
    p.add_argument(
        "--instance",
        default=None,
        metavar="FILE",
        help="check one theorem on the instance in this JSON file (as falsify prints it)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list, one object per theorem (id, label, tag, status, instances, "
        "worst_ratio, nontrivial_ratio), instead of the lines and the table",
    )
    _add_sweep_options(p, results=None)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser(
        "run",
        parents=common,
        help="run any algorithm of the table on a problem (over a grid) into the store",
        description="Build the whole run of ALGO on a problem and run it: the sketch (MAST), "
        "the regularizer (RAMDA family), the constraint set (Frank-Wolfe), the step (theory: "
        "the largest step of the algorithm's theorem, printed with it) and any keyword of "
        "the algorithm's function (--set). Exit status 4 when a run diverges. Example: "
        "mastbench run dsgd --problem quadratic:d=20,kappa=100 --sketch randk:k=5 "
        "--step theory --iters 200",
    )
    p.add_argument("algorithm", help="algorithm name (see mastbench list algorithms)")
    p.add_argument(
        "--problem",
        default=None,
        metavar="SPEC",
        help="quadratic:d=20,kappa=100 | least_squares:n=100,d=20 | logistic:n=200,d=20 | "
        "logistic:a5a (any data set of 'mastbench list datasets'; LIBSVM files from "
        "$MASTBENCH_DATA) | group_least_squares:p=8,K=1,k=2 | group_multinomial:digits "
        "(default: one per family)",
    )
    p.add_argument(
        "--sketch",
        default=None,
        metavar="SPEC",
        help="MAST family: randk:k=5 | randk:q=0.1 | bernoulli:p=0.3 | identity | "
        "permutation:n=4 | gaussian:m=8, of the problem's dimension (default randk:q=0.5)",
    )
    p.add_argument(
        "--regularizer",
        default=None,
        metavar="SPEC",
        help="RAMDA family: psi of F = f + psi, l1:lam=0.001 (default) | "
        "group_lasso:lam=0.01[,size=2] (a group problem's own groups without size)",
    )
    p.add_argument(
        "--constraint",
        default=None,
        metavar="SPEC",
        help="Frank-Wolfe family: l1:radius=1 (default) | l2:radius=R | linf:radius=R | "
        "simplex:radius=R | group_l1:radius=R[,size=2]",
    )
    p.add_argument(
        "--step",
        default=None,
        metavar="theory|VALUE",
        help="'theory': the largest step of the algorithm's theorem (the default where one "
        "exists); a number: the step (lr for the RAMDA family); Frank-Wolfe: a step rule",
    )
    p.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other keyword of the algorithm's function, e.g. option=II or batch_size=8 "
        "(repeatable; an unknown key lists the known ones)",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="values to sweep of a --set key, step or iters (repeatable; the runs are the "
        "Cartesian product)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the run's generator")
    p.add_argument("--replicates", type=int, default=1, help="replicates R per run (batched)")
    p.add_argument("--iters", type=int, default=None, help="iterations T (default 100)")
    _add_sweep_options(p, results="results")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "report", parents=common, help="write the report (tables, figures) from the store"
    )
    p.add_argument("--quick", action="store_true", help="small instances (well under a minute)")
    p.add_argument("--output", default="reports", help="report directory (default: reports)")
    p.add_argument(
        "--family",
        default=None,
        help="only this family's theorems and its reproduction module (mastbench.reproductions.F)",
    )
    p.add_argument(
        "--performance",
        default=None,
        help="benchmark table (JSON or CSV; default: OUTPUT/performance.json if present)",
    )
    _add_sweep_options(p, results=None, results_help="results store (default: OUTPUT/results)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "power",
        parents=common,
        help="inject the fault catalogue into the methods and report which theorems catch each",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="the built-in quick instances (the default; kept for symmetry with verify)",
    )
    p.add_argument("--full", action="store_true", help="the full instances instead")
    p.add_argument(
        "--family",
        default=None,
        choices=sorted(PACKAGES),
        help="only the faults of this family's algorithms (the family names verify takes)",
    )
    p.add_argument("--json", default=None, metavar="FILE", help="write the matrix as JSON")
    p.add_argument(
        "-j", "--jobs", type=_positive_int, default=1, help="faults run at once (processes)"
    )
    p.set_defaults(func=_cmd_power)

    p = sub.add_parser(
        "falsify", parents=common, help="search for a counterexample with hypothesis"
    )
    p.add_argument("theorem", help="theorem id")
    p.add_argument(
        "--max-examples", type=_positive_int, default=200, help="instances to try (default 200)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    p.add_argument(
        "--bound-scale",
        type=_positive_float,
        default=1.0,
        help="multiply the bound by this factor (below 1: search for nearly tight instances)",
    )
    p.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="write the counterexample's JSON here instead of printing it",
    )
    p.add_argument(
        "--tightest",
        action="store_true",
        help="adversarial search for the instance where the bound is most nearly attained",
    )
    p.set_defaults(func=_cmd_falsify)

    p = sub.add_parser(
        "bench",
        parents=common,
        help="run the asv suite, or --compare the fast paths in one run",
        description="asv wrapper: 'run' = asv run --python=same --quick, 'check', "
        "'continuous' = asv continuous main HEAD, 'publish', 'preview'. --compare measures "
        "the fast-path ratios in this process and writes a table.",
    )
    p.add_argument(
        "action",
        nargs="?",
        default="run",
        choices=["run", "check", "continuous", "publish", "preview"],
        help="asv action (default: run)",
    )
    p.add_argument("--full", action="store_true", help="without --quick (real timings)")
    p.add_argument("--compare", action="store_true", help="measure the fast-path ratios")
    p.add_argument("--quick", action="store_true", help="with --compare: small sizes (smoke)")
    p.add_argument(
        "--only", action="append", default=[], help="with --compare: only this comparison key"
    )
    p.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="with --compare: limit BLAS and PyTorch threads (e.g. 1 on a shared machine)",
    )
    p.add_argument(
        "--json",
        default="reports/performance.json",
        help="with --compare: where to write the JSON table",
    )
    p.add_argument("asv_args", nargs=argparse.REMAINDER, help="more asv arguments after --")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser(
        "pepit",
        parents=common,
        help="PEPit's exact worst case beside the coded bound and the measured value",
    )
    p.add_argument("--theorem", action="append", default=[], help="only this theorem id")
    p.add_argument(
        "--iterations",
        type=_positive_int,
        nargs="+",
        default=None,
        metavar="N",
        help="steps N of each row (default: 1 10)",
    )
    p.add_argument("--full", action="store_true", help="the full instances instead of quick")
    p.set_defaults(func=_cmd_pepit)

    p = sub.add_parser(
        "clean",
        parents=common,
        help="empty results stores (their runs and consolidated table, nothing else)",
    )
    p.add_argument("stores", nargs="+", metavar="DIR", help="results store folders")
    p.set_defaults(func=_cmd_clean)
    return parser


def _internal_error(exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc)
    elif isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or str(exc)
        print(f"mastbench: error: {reason}: {exc.filename}", file=sys.stderr)
    else:
        print(
            f"mastbench: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
    return 3


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mastbench`` console script (exit status: see the module docstring)."""
    from mastbench.jobs import import_plugins

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        import_plugins(args.modules)
        _check_selection(args)
        status = int(args.func(args))
        sys.stdout.flush()
        return status
    except UsageError as exc:
        print(f"mastbench: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        return _internal_error(exc, args.debug)


if __name__ == "__main__":
    sys.exit(main())
