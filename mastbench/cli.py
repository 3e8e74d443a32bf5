"""The ``mastbench`` command line: list, verify, falsify (and the families' own commands).

Errors in user input print one line (``mastbench: error: ...``) and exit with status 2;
``verify`` exits with status 1 when a theorem is violated or a negative control goes
undetected, and 0 only when every check holds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace) -> int:
    from mastbench import catalogue

    for section, rows in catalogue.sections().items():
        if args.what not in (None, section):
            continue
        print(f"{section}:")
        for name, description in rows:
            print(f"  {name:<34} {description}")
    return 0


def _selected_theorems(args: argparse.Namespace) -> list:
    import theory

    if args.theorem:
        return [theory.get(t) for t in args.theorem]
    return theory.all(family=args.family)


def _cmd_verify(args: argparse.Namespace) -> int:
    from mastbench.verify import verify, verify_control

    theorems = _selected_theorems(args)
    failures = 0
    checked = 0
    for thm in theorems:
        instances = list(thm.instances(args.quick))
        for instance in instances:
            verdict = verify(thm, instance)
            checked += 1
            mark = {"holds": "ok", "not applicable": "n/a"}.get(verdict.status, "FAIL")
            failures += mark == "FAIL"
            print(f"[{mark:>4}] {verdict.summary()}")
        if args.controls and instances:
            for control in thm.controls:
                verdict = verify_control(thm, instances[0], control)
                detected = verdict.status == "violated"
                failures += not detected
                state = "detected" if detected else "NOT DETECTED"
                print(
                    f"[{'ok' if detected else 'FAIL':>4}] {thm.id} control '{control.name}': "
                    f"{state} (worst ratio {verdict.worst_ratio:.3g})"
                )
    print(f"{checked} checks on {len(theorems)} theorems; {failures} failed")
    return 1 if failures else 0


def _cmd_falsify(args: argparse.Namespace) -> int:
    from mastbench.falsify import falsify

    counterexample = falsify(args.theorem, max_examples=args.max_examples, seed=args.seed)
    if counterexample is None:
        print(f"{args.theorem}: no counterexample in {args.max_examples} examples")
        return 0
    print(f"{args.theorem}: falsified\n{counterexample}")
    return 1


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

    parser = argparse.ArgumentParser(
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
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("falsify", help="search for a counterexample with hypothesis")
    p.add_argument("theorem", help="theorem id")
    p.add_argument("--max-examples", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
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
    except (ValueError, KeyError, TypeError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mastbench: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
