"""``mastbench report``: every table and figure of the report from one command.

:func:`build_report` fills the results store with what is missing (the verification of every
registered theorem on its instances, with its negative controls; the reproductions), then
writes into the output directory (default ``reports/``):

``theorems.md``, ``theorems.tex``
    The theorem table: theorem, paper label, tag, method, instances, holds, worst ratio
    (max measured/bound), tightness (measured/bound at the last point, largest over
    instances) and negative controls detected.
``figures/theorem-<id>.png`` / ``.svg``
    Per theorem: the measured quantity and its bound over the iterations of every instance
    (log scale when positive), with the confidence band of Monte-Carlo estimates.
``reproductions/<name>.md`` / ``.tex``, ``figures/repro-<name>-<curve>.png`` / ``.svg``
    Every module of :mod:`mastbench.reproductions` (discovered with :mod:`pkgutil`) exposes
    ``reproduce(quick: bool = True, seed: int = 0) -> dict`` with keys ``"title"``,
    ``"table"`` (list of row dicts), optional ``"curves"`` (name → ``{"x": list, "y": {series:
    list}, "xlabel", "ylabel", "logy"}``; a series whose values are lists is drawn as boxplots)
    and optional ``"notes"``.  Results are cached as
    JSON in the store (``<results>/reproductions/<name>-<quick|full>-seed<seed>.json``).
``performance.md`` / ``.tex``
    The latest benchmark table, when the file written by ``mastbench bench --compare`` exists
    (default ``<output>/performance.json``, then ``<output>/performance.csv``; skipped when
    absent).  Expected format: JSON, either a list of row objects or an object
    ``{"title": str, "rows": [row objects], "notes": str, "stamp": {"command", "commit",
    "machine", ...}}`` (all keys but ``rows`` optional); or CSV with a header line.  Columns
    are shown as they come, in order of first appearance.
``report.md``, ``index.html``, ``stamp.json``
    Everything in one Markdown file (figures linked) and one self-contained HTML page (inline
    CSS, figures embedded as base64 PNG), and the stamp.

Every artifact is stamped with the command that made it, the package version, the commit and
the machine (:mod:`mastbench.provenance`): text files on their first line (and the HTML
footer) with the UTC date, figures in their metadata without a date.  Seeds are fixed, so a
rerun reproduces every file byte for byte apart from the stamp lines.
"""

from __future__ import annotations

import base64
import html
import importlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastbench import provenance
from mastbench._discovery import public_submodules
from mastbench.jobs import execute, summarize_verdict, verify_jobs
from mastbench.report_tables import (
    Table,
    format_cell,
    table_from_rows,
    to_html,
    to_latex,
    to_markdown,
)
from mastbench.results import ResultStore, atomic_write_bytes, to_json
from mastbench.sweep import run_jobs

__all__ = [
    "Report",
    "build_report",
    "discover_reproductions",
    "load_performance",
    "theorem_table",
]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
th, td { padding: 0.25em 0.8em; text-align: left; }
img { max-width: 100%; }
.notes, footer { color: #555; font-size: 0.85em; }
pre { white-space: pre-wrap; }
"""


@dataclass
class Report:
    """What :func:`build_report` wrote and what failed.

    Attributes
    ----------
    output : Path
        The report directory.
    files : list of Path
        Every file written.
    failures : list of str
        Violated theorems, undetected controls, failed reproductions.
    """

    output: Path
    files: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every theorem held, every control was detected and nothing failed."""
        return not self.failures

    def summary(self) -> str:
        """A few lines: files written and failures."""
        lines = [f"report written to {self.output} ({len(self.files)} files)"]
        lines += [f"FAIL {failure}" for failure in self.failures]
        return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _max(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else math.nan


def theorem_table(
    theorems: Sequence[Any], summaries: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[Table, list[str]]:
    """The theorem table and the failures, from each theorem's job summaries.

    Parameters
    ----------
    theorems : sequence of Theorem
        The theorems, in table order.
    summaries : mapping
        Theorem id → :func:`mastbench.jobs.summarize_verdict` of each of its jobs.
    """
    columns = ["Theorem", "Label", "Tag", "Method", "Instances", "Holds", "Worst ratio"]
    columns += ["Tightness", "Controls detected"]
    rows, failures = [], []
    for thm in theorems:
        checks = [s for s in summaries.get(thm.id, []) if not s["control"]]
        controls = [s for s in summaries.get(thm.id, []) if s["control"]]
        applicable = [s for s in checks if s["status"] != "not applicable"]
        held = [s for s in applicable if s["status"] == "holds"]
        detected = [s for s in controls if s["status"] == "violated"]
        failures += [
            f"{thm.id} on {s['instance']}: {s['status']}"
            for s in applicable
            if s["status"] not in ("holds", "falsified")
        ]
        failures += [
            f"{thm.id} control '{s['control']}' not detected"
            for s in controls
            if s["status"] != "violated"
        ]
        holds = f"{len(held)}/{len(applicable)}" if applicable else "n/a"
        if len(applicable) < len(checks):
            holds += f" ({len(checks) - len(applicable)} n/a)"
        cells = [
            thm.id,
            thm.label,
            thm.tag,
            thm.method,
            str(len(checks)),
            holds,
            format_cell(_max([s["worst_ratio"] for s in applicable])),
            format_cell(_max([s["tightness"] for s in applicable])),
            f"{len(detected)}/{len(controls)}" if controls else "—",
        ]
        rows.append(cells)
    notes = (
        "Worst ratio: max over instances and iterations of measured/bound (≤ 1: the bound "
        "held); tightness: measured/bound at the last iteration, largest over instances."
    )
    if not theorems:
        notes = "No theorems are registered."
    return Table("Theorems", columns, rows, notes), failures


def _series(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    points = [r for r in rows if r["iteration"] is not None]
    if not points:
        return None
    out: dict[str, Any] = {
        "name": points[0]["instance"],
        "t": [r["iteration"] for r in points],
        "measured": [r["measured"] for r in points],
        "bound": [r["bound"] for r in points],
    }
    if not any(math.isnan(r["lower"]) or math.isnan(r["upper"]) for r in points):
        out["lower"] = [r["lower"] for r in points]
        out["upper"] = [r["upper"] for r in points]
    return out


def discover_reproductions() -> list[str]:
    """Full module names of the reproductions in :mod:`mastbench.reproductions`, sorted."""
    return public_submodules("mastbench.reproductions")


def _check_reproduction(name: str, result: Any) -> dict[str, Any]:
    if not isinstance(result, Mapping):
        raise TypeError(f"{name}.reproduce must return a dict, got {type(result).__name__}")
    if not isinstance(result.get("title"), str):
        raise ValueError(f"{name}.reproduce result needs a 'title' string")
    table = result.get("table")
    if not isinstance(table, list) or not all(isinstance(r, Mapping) for r in table):
        raise ValueError(f"{name}.reproduce result needs a 'table' list of row dicts")
    for curve_name, curve in (result.get("curves") or {}).items():
        if not isinstance(curve, Mapping) or "x" not in curve or "y" not in curve:
            raise ValueError(f"{name}.reproduce curve {curve_name!r} needs 'x' and 'y'")
    return json.loads(to_json(dict(result), sort_keys=False))


def _reproduce(module_name: str, quick: bool, seed: int, cache: Path) -> dict[str, Any]:
    short = module_name.rsplit(".", 1)[-1]
    path = cache / f"{short}-{'quick' if quick else 'full'}-seed{seed}.json"
    if path.is_file():
        return json.loads(path.read_text())
    module = importlib.import_module(module_name)
    result = _check_reproduction(module_name, module.reproduce(quick=quick, seed=seed))
    atomic_write_bytes(path, to_json(result, sort_keys=False).encode())
    return result


def load_performance(path: str | Path) -> Table | None:
    """The benchmark table at ``path`` (JSON or CSV, see the module docstring), or ``None``
    when the file does not exist."""
    import csv

    path = Path(path)
    if not path.is_file():
        return None
    title, notes = "Performance", ""
    if path.suffix == ".csv":
        with open(path, newline="") as fh:
            rows: list[Any] = list(csv.DictReader(fh))
    else:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, Mapping):
            title = str(data.get("title", title))
            notes = str(data.get("notes", ""))
            stamp = data.get("stamp") or {}
            if stamp:
                notes = " ".join(
                    [notes, "Measured by " + ", ".join(f"{k}: {v}" for k, v in stamp.items())]
                ).strip()
            rows = data.get("rows")
        else:
            rows = data
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise ValueError(f"{path}: expected a list of row objects (see mastbench.report)")
    return table_from_rows(title, rows, notes)


def _theorem(item: Any) -> Any:
    """A Theorem from a Theorem or a registered id (KeyError lists the known ids)."""
    from mastbench import theory

    if isinstance(item, str):
        return theory.get(item)
    if not isinstance(item, theory.Theorem):
        raise TypeError(
            f"theorems: expected Theorem objects or theorem ids, got {type(item).__name__}"
        )
    return item


class _Writer:
    """Writes stamped text files and figures, remembering what it wrote."""

    def __init__(self, output: Path, command: str):
        self.output = output
        self.info = provenance.stamp(command)
        self.line = provenance.stamp_line(self.info)
        self.figure_line = provenance.stamp_line(provenance.stamp(command, date=False))
        self.files: list[Path] = []

    def text(self, relative: str, body: str, comment: str) -> Path:
        stamped = comment.format(self.line) + "\n" + body
        path = atomic_write_bytes(self.output / relative, stamped.encode())
        self.files.append(path)
        return path

    def table(self, stem: str, table: Table) -> None:
        self.text(f"{stem}.md", to_markdown(table), "<!-- {} -->")
        self.text(f"{stem}.tex", to_latex(table), "% {}")

    def figure(self, figure: Any, stem: str) -> bytes:
        from mastbench.report_figures import save_figure

        paths = save_figure(figure, self.output / "figures" / stem, self.figure_line)
        self.files += list(paths.values())
        return paths["png"].read_bytes()


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def build_report(
    output: str | Path = "reports",
    *,
    quick: bool = False,
    results: str | Path | None = None,
    n_jobs: int = 1,
    scheduler: str | None = None,
    modules: Sequence[str] = (),
    performance: str | Path | None = None,
    theorems: Sequence[Any] | None = None,
    reproductions: Sequence[str] | None = None,
    seed: int = 0,
    command: str | None = None,
    progress: bool | None = None,
) -> Report:
    """Run what is missing and write the report (see the module docstring).

    Parameters
    ----------
    output : path
        Report directory.
    quick : bool
        Small instances and quick reproductions.
    results : path, optional
        Results store (default ``<output>/results``).
    n_jobs, scheduler
        Where the verification jobs run (see :func:`mastbench.sweep.run_jobs`).
    modules : sequence of str
        Modules the workers import first (plugins registering theorems).
    performance : path, optional
        Benchmark table (default ``<output>/performance.json``, then ``.csv``).
    theorems : sequence of Theorem or theorem ids, optional
        The theorems to verify and tabulate (default: every registered one).
    reproductions : sequence of str, optional
        Module names of reproductions (default: :func:`discover_reproductions`).
    seed : int
        Seed passed to every reproduction.
    command : str, optional
        The command recorded in the stamps (default: this process's command line).
    progress : bool, optional
        Progress bar over jobs (default: when stderr is a TTY).
    """
    from mastbench import theory

    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"output must be a directory, got the file {output}")
    if performance is not None and not Path(performance).is_file():
        raise FileNotFoundError(f"performance: no benchmark table at {performance}")
    theorems = theory.all() if theorems is None else [_theorem(item) for item in theorems]
    store = ResultStore(results if results is not None else output / "results")
    writer = _Writer(output, command or provenance.command_line())
    jobs = verify_jobs(theorems, quick=quick, controls=True, modules=modules)
    job_rows = run_jobs(
        jobs, execute, store=store, n_jobs=n_jobs, scheduler=scheduler, progress=progress
    )
    store.consolidate()
    by_theorem: dict[str, list[list[dict[str, Any]]]] = {}
    for job, rows in zip(jobs, job_rows, strict=True):
        by_theorem.setdefault(job["theorem"], []).append(rows)
    summaries = {k: [summarize_verdict(r) for r in v] for k, v in by_theorem.items()}
    table, failures = theorem_table(theorems, summaries)
    writer.table("theorems", table)

    md = ["# mastbench report", "", to_markdown(table)]
    body = ["<h1>mastbench report</h1>", to_html(table)]
    md_details, html_details = _theorem_sections(writer, theorems, by_theorem)
    md += md_details
    body += html_details

    module_names = discover_reproductions() if reproductions is None else list(reproductions)
    if module_names:
        md.append("## Reproductions\n")
        body.append("<h2>Reproductions</h2>")
    for module_name in module_names:
        short = module_name.rsplit(".", 1)[-1]
        try:
            result = _reproduce(module_name, quick, seed, store.root / "reproductions")
        except Exception as exc:
            failures.append(f"reproduction {short}: {type(exc).__name__}: {exc}")
            md.append(f"### {short}\n\nFailed: {type(exc).__name__}: {exc}\n")
            body.append(f"<h3>{html.escape(short)}</h3><p>Failed: {html.escape(str(exc))}</p>")
            continue
        repro_md, repro_html = _reproduction_section(writer, short, result)
        md.append(repro_md)
        body.append(repro_html)

    perf_path = Path(performance) if performance is not None else None
    if perf_path is None:
        perf_path = next(
            (p for p in (output / "performance.json", output / "performance.csv") if p.is_file()),
            output / "performance.json",
        )
    perf = load_performance(perf_path)
    if perf is not None:
        writer.table("performance", perf)
        md.append(to_markdown(perf))
        body.append(to_html(perf))

    md.append(f"---\n\n*{writer.line}*\n")
    writer.text("report.md", "\n".join(md), "<!-- {} -->")
    footer = f"<footer>{html.escape(writer.line)}</footer>"
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>mastbench report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n{footer}\n</body>\n</html>\n"
    )
    writer.text("index.html", page, "<!-- {} -->")
    stamp_json = json.dumps(writer.info, indent=2, sort_keys=True) + "\n"
    writer.files.append(atomic_write_bytes(output / "stamp.json", stamp_json.encode()))
    return Report(output, writer.files, failures)


def _theorem_sections(
    writer: _Writer, theorems: Sequence[Any], by_theorem: Mapping[str, Sequence[Any]]
) -> tuple[list[str], list[str]]:
    from mastbench.report_figures import theorem_figure

    md, body = [], []
    for thm in theorems:
        runs = [rows for rows in by_theorem.get(thm.id, []) if rows and not rows[0]["control"]]
        series = [s for s in (_series(rows) for rows in runs) if s is not None]
        title = f"{thm.id} — {thm.label}"
        md.append(f"### {title}\n\n{thm.statement}\n\nMeasured: `{thm.measure}` ({thm.method}).\n")
        body.append(f"<h3>{html.escape(title)}</h3>")
        body.append(f"<p>{html.escape(thm.statement)}</p>")
        body.append(f"<p>Measured: <code>{html.escape(thm.measure)}</code> ({thm.method}).</p>")
        if not series:
            continue
        stem = f"theorem-{_slug(thm.id)}"
        png = writer.figure(theorem_figure(title, thm.measure, series), stem)
        md.append(f"![{title}](figures/{stem}.png)\n")
        body.append(_img(png, title))
    return md, body


def _reproduction_section(
    writer: _Writer, short: str, result: Mapping[str, Any]
) -> tuple[str, str]:
    from mastbench.report_figures import curve_figure

    table = table_from_rows(result["title"], result["table"], result.get("notes", ""))
    writer.table(f"reproductions/{short}", table)
    md = [to_markdown(table, level=3)]
    body = [to_html(table, level=3)]
    for curve_name, curve in sorted((result.get("curves") or {}).items()):
        title = f"{result['title']}: {curve_name}"
        stem = f"repro-{_slug(short)}-{_slug(curve_name)}"
        png = writer.figure(curve_figure(title, curve), stem)
        md.append(f"![{title}](figures/{stem}.png)\n")
        body.append(_img(png, title))
    return "\n".join(md), "\n".join(body)
