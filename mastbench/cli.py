"""The ``mastbench`` command line: list, verify, run, report, falsify (and the families' own).

Errors in user input print one line (``mastbench: error: ...``) and exit with status 2;
``verify`` exits with status 1 when a theorem is violated or a negative control goes
undetected, and 0 only when every check holds; ``report`` likewise, and also when a
reproduction fails.  ``verify``, ``run`` and ``report`` run their jobs in parallel with
``-j N`` (joblib) or on a Dask cluster with ``--scheduler tcp://host:port``, and keep finished
runs in a results store (``--results DIR``) so that a rerun skips them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace) -> int:
    from mastbench import catalogue

    sections = catalogue.sections()
    if args.what is not None and args.what not in sections:
        raise ValueError(f"unknown section {args.what!r}; known sections: {', '.join(sections)}")
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


def _import_modules(args: argparse.Namespace) -> None:
    import importlib

    for name in args.modules:
        importlib.import_module(name)


def _store(args: argparse.Namespace):
    from mastbench.results import ResultStore

    return ResultStore(args.results) if args.results else None


def _cmd_verify(args: argparse.Namespace) -> int:
    from mastbench.jobs import execute, summarize_verdict, verify_jobs, verify_line
    from mastbench.sweep import run_jobs

    _import_modules(args)
    if args.instance:
        return _cmd_verify_instance(args)
    theorems = _selected_theorems(args)
    jobs = verify_jobs(theorems, quick=args.quick, controls=args.controls, modules=args.modules)
    store = _store(args)
    failures = 0

    def show(_index: int, rows: list) -> None:
        nonlocal failures
        line, failed = verify_line(summarize_verdict(rows))
        failures += failed
        print(line, flush=True)

    run_jobs(
        jobs,
        execute,
        store=store,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        desc="verify",
        on_result=show,
    )
    if store is not None:
        store.consolidate()
    checked = sum(1 for job in jobs if not job["control"])
    controls = len(jobs) - checked
    print(
        f"{checked} checks and {controls} negative controls on {len(theorems)} theorems; "
        f"{failures} failed"
    )
    return 1 if failures else 0


def _parse_grid(items: Sequence[str]) -> dict[str, list]:
    from mastbench.problem_factory import parse_value

    grid: dict[str, list] = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise ValueError(f"--grid {item!r} must look like key=v1,v2,...")
        if key in grid:
            raise ValueError(f"--grid key {key!r} given twice")
        grid[key] = [parse_value(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _cmd_run(args: argparse.Namespace) -> int:
    import math

    from mastbench.algorithms import get_algorithm
    from mastbench.jobs import execute, run_jobs_for
    from mastbench.results import ResultStore
    from mastbench.sweep import run_jobs

    _import_modules(args)
    for name, value, low in (("--seed", args.seed, 0), ("--replicates", args.replicates, 1)):
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    if args.iters is not None and args.iters < 0:
        raise ValueError(f"--iters must be >= 0, got {args.iters}")
    get_algorithm(args.algorithm)
    if args.problem:
        from mastbench.problem_factory import make_problem

        make_problem(args.problem)
    jobs = run_jobs_for(
        args.algorithm,
        problem=args.problem,
        grid=_parse_grid(args.grid),
        seed=args.seed,
        replicates=args.replicates,
        iters=args.iters,
        modules=args.modules,
    )
    store = ResultStore(args.results)
    results = run_jobs(
        jobs, execute, store=store, n_jobs=args.jobs, scheduler=args.scheduler, desc="run"
    )
    metrics = ("objective", "subopt", "dist2", "gradnorm2", "gap", "support")
    for job, rows in zip(jobs, results, strict=True):
        last = max((r["iteration"] for r in rows), default=0)
        final = [r for r in rows if r["iteration"] == last]
        means = {
            m: sum(r[m] for r in final) / len(final)
            for m in metrics
            if final and not any(math.isnan(r[m]) for r in final)
        }
        shown = ", ".join(f"{m}={v:.4g}" for m, v in means.items())
        params = ", ".join(f"{k}={v}" for k, v in job["params"].items()) or "defaults"
        print(f"{args.algorithm} [{params}] t={last} (mean of {len(final)}): {shown}")
    print(f"{len(jobs)} runs done; the whole store is in {store.consolidate()}")
    return 0


def _family_reproductions(family: str) -> list[str]:
    from mastbench.report import discover_reproductions

    return [name for name in discover_reproductions() if name.rsplit(".", 1)[-1] == family]


def _cmd_report(args: argparse.Namespace) -> int:
    from mastbench.provenance import command_line
    from mastbench.report import build_report

    _import_modules(args)
    from mastbench import theory

    family = args.family
    report = build_report(
        args.output,
        theorems=theory.all(family=family) if family else None,
        reproductions=_family_reproductions(family) if family else None,
        quick=args.quick,
        results=args.results,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        modules=args.modules,
        performance=args.performance,
        command=command_line(),
    )
    print(report.summary())
    return 0 if report.ok else 1


def _cmd_falsify(args: argparse.Namespace) -> int:
    import json

    from mastbench.falsify import falsify
    from mastbench.results import atomic_write_bytes

    _import_modules(args)
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
    from mastbench.verify import verify

    named, instance, params = load_instance(args.instance)
    if len(args.theorem) > 1 or (not args.theorem and named is None):
        raise ValueError(
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
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _add_sweep_options(
    p: argparse.ArgumentParser, results: str | None, results_help: str | None = None
) -> None:
    p.add_argument(
        "-j", "--jobs", type=_positive_int, default=1, help="local worker processes (joblib)"
    )
    p.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (tcp://host:port) for the jobs"
    )
    p.add_argument(
        "--results",
        default=results,
        metavar="DIR",
        help=results_help
        or "results store: finished runs are kept there and skipped on rerun"
        + (f" (default: {results})" if results else ""),
    )
    p.add_argument(
        "--import",
        dest="modules",
        action="append",
        default=[],
        metavar="MODULE",
        help="import this module first (plugins that register theorems or algorithms)",
    )


def _cmd_bench(args: argparse.Namespace) -> int:
    from mastbench import bench

    if args.compare:
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
        return 1 if any(row.met is False for row in rows) else 0
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

    p = sub.add_parser("list", help="list sketches, problems, data sets, algorithms, theorems")
    p.add_argument(
        "what",
        nargs="?",
        default=None,
        help="one section (sketches, problems, datasets, algorithms, theorems)",
    )
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("verify", help="check the registered theorems on their instances")
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
    _add_sweep_options(p, results=None)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("run", help="run a registered algorithm (over a grid) into the store")
    p.add_argument("algorithm", help="algorithm name (see mastbench list algorithms)")
    p.add_argument(
        "--problem",
        default=None,
        help="problem spec, e.g. quadratic:d=20,kappa=100 or logistic:a5a "
        "(default: the algorithm's own small case)",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="parameter values to sweep (repeatable; the runs are the Cartesian product)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the run's generator")
    p.add_argument("--replicates", type=int, default=1, help="replicates R per run (batched)")
    p.add_argument("--iters", type=int, default=None, help="iterations per run")
    _add_sweep_options(p, results="results")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("report", help="write the report (tables, figures) from the store")
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

    p = sub.add_parser("falsify", help="search for a counterexample with hypothesis")
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
    p.add_argument(
        "--import",
        dest="modules",
        action="append",
        default=[],
        metavar="MODULE",
        help="import this module first (plugins that register theorems)",
    )
    p.set_defaults(func=_cmd_falsify)

    p = sub.add_parser(
        "bench",
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
        type=int,
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mastbench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, KeyError, TypeError, FileNotFoundError, ImportError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mastbench: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
