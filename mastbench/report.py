"""``mastbench report``: every table and figure of the report from one command.

:func:`build_report` fills the results store with what is missing (the verification of every
registered theorem on its instances, with its negative controls; the reproductions), then
writes into the output directory (default ``reports/``):

``theorems.md``, ``theorems.tex``
    The theorem table: theorem, paper label, tag, method, instances, holds, worst ratio
    (max measured/bound), tightness (measured/bound at the last point, largest over
    instances) and negative controls detected.
``tightness.md`` / ``.tex``, ``figures/tightness.png`` / ``.svg``
    How tight each theorem is: per theorem, the instance and point where measured/bound comes
    closest to 1, over the points that are not equal by construction
    (:attr:`mastbench.verify.Verdict.nontrivial_ratio`), and a heat map theorem × instance.
``figures/theorem-<id>.png`` / ``.svg``
    Per theorem, drawn as it declares (:attr:`mastbench.theory.Theorem.rate`, ``x_axis``,
    ``quantities``): measured and bound on log-log axes for a sublinear rate, semilog for a
    linear one, one panel per quantity, with the confidence band of Monte-Carlo estimates; a
    dot plot of measured/bound per point for statements that are not rates.
``pepit.md`` / ``.tex``
    PEPit's exact worst case beside the coded bound and the measured value, for the theorems
    PEPit models (:mod:`mastbench.pepit_table`); a measured value above the worst case is a
    failure.  Without the ``pepit`` extra the section says it was skipped.
``power.md`` / ``.tex``
    The verification-power catalogue (``mastbench power``), when ``<output>/power.json``
    exists (same format as the benchmark table).
``reproductions/<name>.md`` / ``.tex``, ``figures/repro-<name>-<curve>.png`` / ``.svg``
    Every module of :mod:`mastbench.reproductions` (discovered with :mod:`pkgutil`) exposes
    ``reproduce(quick: bool = True, seed: int = 0) -> dict`` with keys ``"title"``,
    ``"table"`` (list of row dicts), optional ``"curves"`` (name → ``{"x": list, "y": {series:
    list}, "xlabel", "ylabel", "logy"}``; a series whose values are lists is drawn as boxplots)
    and optional ``"notes"``.  Results are cached as
    JSON in the store (``<results>/reproductions/<name>-<quick|full>-seed<seed>.json``).
``performance.md`` / ``.tex``, ``figures/performance-history.png`` / ``.svg``
    The latest benchmark table, when the file written by ``mastbench bench --compare`` exists
    (default ``<output>/performance.json``, then ``<output>/performance.csv``; skipped when
    absent; format in :mod:`mastbench.report_inputs`), and the main asv benchmarks over
    commits when asv results exist (default ``.asv/results``).
``report.md``, ``index.html``, ``stamp.json``
    Everything in one Markdown file (figures linked) and one self-contained HTML page (inline
    CSS, figures embedded as palette PNG), each opening with a summary and a table of
    contents, and the stamp.

Progress goes to stderr as one line per theorem verified and per stage (also when stderr is
not a terminal), ending with the count of checks held, violated, falsified and not
applicable.

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
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mastbench import provenance
from mastbench._discovery import public_submodules
from mastbench.jobs import execute, summarize_verdict, verify_jobs
from mastbench.report_inputs import load_asv_history, load_performance, load_table
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
    "count_statuses",
    "discover_reproductions",
    "load_performance",
    "theorem_table",
    "tightness",
]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
th, td { padding: 0.25em 0.8em; text-align: left; }
img { max-width: 100%; }
nav ol { columns: 2; }
.summary td:first-child { font-weight: 600; }
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
    columns += ["Controls detected"]
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
            f"{len(detected)}/{len(controls)}" if controls else "—",
        ]
        rows.append(cells)
    notes = (
        "Worst ratio: max over instances and points of measured/bound (≤ 1: the bound held; "
        "it is 1 by construction where a rate bound starts at the measured value, see the "
        "tightness table for the ratio away from such points)."
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
        "ratio": [r["ratio"] for r in points],
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


def _nontrivial(rows: Sequence[Mapping[str, Any]], method: str) -> tuple[float, int | None]:
    """The verdict's nontrivial worst ratio and where it occurs, from a job's rows (rows
    stored before the verdict recorded it: every point but t = 0, unless pointwise)."""
    extra = json.loads(rows[0]["extra"]) if rows[0]["extra"] else {}
    if "nontrivial_ratio" in extra:
        return float(extra["nontrivial_ratio"]), extra.get("t_nontrivial")
    points = [
        r
        for r in rows
        if r["iteration"] is not None and (method == "pointwise" or r["iteration"] != 0)
    ]
    points = [r for r in points if not math.isnan(r["ratio"])]
    if not points:
        return math.nan, None
    worst = max(points, key=lambda r: r["ratio"])
    return float(worst["ratio"]), int(worst["iteration"])


def tightness(
    theorems: Sequence[Any], by_theorem: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]]
) -> tuple[Table, list[list[dict[str, Any]]]]:
    """The tightness table and the heat-map cells, from each theorem's job rows.

    Per theorem, the instance and point where the nontrivial worst ratio
    (:attr:`mastbench.verify.Verdict.nontrivial_ratio`) is largest; per theorem and instance,
    the cell ``{"ratio", "status", "instance"}`` of the heat map.
    """
    columns = ["Theorem", "Closest instance", "At", "Nontrivial ratio", "Worst ratio"]
    columns.append("Instances (heat-map columns)")
    rows, cells = [], []
    for thm in theorems:
        runs = [r for r in by_theorem.get(thm.id, []) if r and not r[0]["control"]]
        line = []
        for job in runs:
            ratio, at = _nontrivial(job, thm.method)
            applicable = job[0]["status"] != "not applicable"
            line.append(
                {
                    "instance": job[0]["instance"],
                    "status": job[0]["status"],
                    "ratio": ratio if applicable else math.nan,
                    "at": at,
                    "worst": _max([r["ratio"] for r in job]) if applicable else math.nan,
                }
            )
        cells.append(line)
        ranked = [c for c in line if not math.isnan(c["ratio"])]
        best = max(ranked, key=lambda c: c["ratio"]) if ranked else None
        names = "; ".join(f"{k + 1}: {c['instance']}" for k, c in enumerate(line))
        at = "—" if best is None or best["at"] is None else f"{thm.x_axis} = {best['at']}"
        rows.append(
            [
                thm.id,
                "—" if best is None else best["instance"],
                at,
                format_cell(math.nan if best is None else best["ratio"]),
                format_cell(_max([c["worst"] for c in line])),
                names,
            ]
        )
    notes = (
        "Nontrivial ratio: the largest measured/bound over the points that are not equal by "
        "construction (t = 0 of a rate bound, points the theorem marks trivial), at the instance "
        "and point named; close to 1: the bound is attained there.  Worst ratio: over every "
        "point, as the check uses it."
    )
    return Table("Tightness", columns, rows, notes), cells


def count_statuses(summaries: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, int]:
    """Counts of the checks by status, and of the negative controls run and detected."""
    counts = dict.fromkeys(("holds", "violated", "falsified", "not applicable"), 0)
    counts.update(controls=0, detected=0)
    for jobs in summaries.values():
        for s in jobs:
            if s["control"]:
                counts["controls"] += 1
                counts["detected"] += s["status"] == "violated"
            else:
                counts[s["status"]] = counts.get(s["status"], 0) + 1
    return counts


def _summary_table(n_theorems: int, counts: Mapping[str, int], repro: tuple[int, int]) -> Table:
    checks = sum(counts[k] for k in ("holds", "violated", "falsified", "not applicable"))
    rows = [
        ["Theorems checked", str(n_theorems)],
        ["Checks (theorem × instance)", str(checks)],
        ["Held", str(counts["holds"])],
        ["Violated", str(counts["violated"])],
        ["Falsified", str(counts["falsified"])],
        ["Not applicable", str(counts["not applicable"])],
        ["Negative controls detected", f"{counts['detected']}/{counts['controls']}"],
        ["Reproductions written", f"{repro[0]}/{repro[1]}"],
    ]
    return Table("Summary", ["", "Count"], rows)


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class _Page:
    """The sections of ``report.md`` and ``index.html``, in order, for the contents."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, list[str], list[str]]] = []

    def section(self, title: str) -> None:
        self.sections.append(
            (title, [f"## {title}\n"], [f'<h2 id="{_anchor(title)}">{title}</h2>'])
        )

    def add(self, md: str, body: str) -> None:
        self.sections[-1][1].append(md)
        self.sections[-1][2].append(body)

    def markdown(self, head: Sequence[str], footer: str) -> str:
        toc = [f"{k + 1}. [{t}](#{_anchor(t)})" for k, (t, _, _) in enumerate(self.sections)]
        parts = [*head, "## Contents\n", "\n".join(toc) + "\n"]
        parts += [text for _, md, _ in self.sections for text in md]
        return "\n".join([*parts, footer])

    def html(self, head: Sequence[str], footer: str) -> str:
        toc = "".join(
            f'<li><a href="#{_anchor(t)}">{html.escape(t)}</a></li>' for t, _, _ in self.sections
        )
        parts = [*head, f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>"]
        parts += [text for _, _, body in self.sections for text in body]
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>mastbench report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts)
            + f"\n{footer}\n</body>\n</html>\n"
        )


class _Progress:
    """One line per finished theorem and per stage on stderr (``enabled``: also when stderr is
    not a terminal)."""

    def __init__(self, enabled: bool, jobs: Sequence[Mapping[str, Any]]):
        self.enabled = enabled
        self.last = {job["theorem"]: k for k, job in enumerate(jobs)}
        self.total = len(self.last)
        self.done = 0
        self.statuses: dict[str, list[str]] = {}
        self.jobs = jobs

    def say(self, message: str) -> None:
        if self.enabled:
            print(f"report: {message}", file=sys.stderr, flush=True)

    def on_result(self, index: int, rows: Sequence[Mapping[str, Any]]) -> None:
        job = self.jobs[index]
        if not job["control"]:
            self.statuses.setdefault(job["theorem"], []).append(rows[0]["status"])
        if self.last[job["theorem"]] == index:
            self.done += 1
            statuses = self.statuses.get(job["theorem"], [])
            held = sum(s == "holds" for s in statuses)
            skipped = sum(s == "not applicable" for s in statuses)
            line = f"[{self.done}/{self.total}] {job['theorem']}: {held}/{len(statuses) - skipped}"
            self.say(line + " held" + (f" ({skipped} n/a)" if skipped else ""))


def build_report(
    output: str | Path = "reports",
    *,
    quick: bool = False,
    results: str | Path | None = None,
    n_jobs: int = 1,
    scheduler: str | None = None,
    modules: Sequence[str] = (),
    performance: str | Path | None = None,
    power: str | Path | None = None,
    asv_results: str | Path | None = ".asv/results",
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
    power : path, optional
        Power catalogue of ``mastbench power`` (default ``<output>/power.json`` when present).
    asv_results : path or None
        asv's results directory (skipped when absent or ``None``).
    theorems : sequence of Theorem or theorem ids, optional
        The theorems to verify and tabulate (default: every registered one).
    reproductions : sequence of str, optional
        Module names of reproductions (default: :func:`discover_reproductions`).
    seed : int
        Seed passed to every reproduction.
    command : str, optional
        The command recorded in the stamps (default: this process's command line).
    progress : bool, optional
        ``False``: silent.  Otherwise progress lines on stderr, and a progress bar over jobs
        when stderr is a TTY (or ``True``).
    """
    from mastbench import theory

    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"output must be a directory, got the file {output}")
    for name, path in (("performance", performance), ("power", power)):
        if path is not None and not Path(path).is_file():
            raise FileNotFoundError(f"{name}: no table at {path}")
    theorems = theory.all() if theorems is None else [_theorem(item) for item in theorems]
    store = ResultStore(results if results is not None else output / "results")
    writer = _Writer(output, command or provenance.command_line())
    jobs = verify_jobs(theorems, quick=quick, controls=True, modules=modules)
    tell = _Progress(progress is not False, jobs)
    tell.say(
        f"verifying {len(theorems)} theorems ({len(jobs)} jobs, finished ones from {store.root})"
    )
    job_rows = run_jobs(
        jobs,
        execute,
        store=store,
        n_jobs=n_jobs,
        scheduler=scheduler,
        progress=progress,
        on_result=tell.on_result,
    )
    store.consolidate()
    by_theorem: dict[str, list[list[dict[str, Any]]]] = {}
    for job, rows in zip(jobs, job_rows, strict=True):
        by_theorem.setdefault(job["theorem"], []).append(rows)
    summaries = {k: [summarize_verdict(r) for r in v] for k, v in by_theorem.items()}
    table, failures = theorem_table(theorems, summaries)
    writer.table("theorems", table)
    page = _Page()
    page.section("Theorems")
    page.add(to_markdown(table, level=0), to_html(table, level=0))

    tell.say("tightness")
    tight, cells = tightness(theorems, by_theorem)
    writer.table("tightness", tight)
    page.section("Tightness")
    if theorems:
        from mastbench.report_figures import heatmap_figure

        title = "Tightness: nontrivial worst ratio measured/bound, theorem × instance"
        png = writer.figure(heatmap_figure(title, [t.id for t in theorems], cells), "tightness")
        page.add(f"![{title}](figures/tightness.png)\n", _img(png, title))
    page.add(to_markdown(tight, level=0), to_html(tight, level=0))

    _pepit_section(writer, page, theorems, quick, failures, tell)

    power_path = Path(power) if power is not None else output / "power.json"
    power_table = load_table(power_path, "Verification power")
    if power_table is not None:
        writer.table("power", power_table)
        page.section("Verification power")
        page.add(to_markdown(power_table, level=0), to_html(power_table, level=0))

    tell.say(f"figures of {len(theorems)} theorems")
    page.section("Theorem figures")
    _theorem_sections(writer, page, theorems, by_theorem)

    module_names = discover_reproductions() if reproductions is None else list(reproductions)
    written = 0
    if module_names:
        page.section("Reproductions")
    for module_name in module_names:
        short = module_name.rsplit(".", 1)[-1]
        tell.say(f"reproduction {short}")
        try:
            result = _reproduce(module_name, quick, seed, store.root / "reproductions")
        except Exception as exc:
            failures.append(f"reproduction {short}: {type(exc).__name__}: {exc}")
            page.add(
                f"### {short}\n\nFailed: {type(exc).__name__}: {exc}\n",
                f"<h3>{html.escape(short)}</h3><p>Failed: {html.escape(str(exc))}</p>",
            )
            continue
        page.add(*_reproduction_section(writer, short, result))
        written += 1

    _performance_section(writer, page, output, performance, asv_results)

    counts = count_statuses(summaries)
    summary = _summary_table(len(theorems), counts, (written, len(module_names)))
    head_md = ["# mastbench report\n", to_markdown(summary)]
    head_html = [
        "<h1>mastbench report</h1>",
        to_html(summary).replace("<table>", '<table class="summary">', 1),
    ]
    writer.text("report.md", page.markdown(head_md, f"---\n\n*{writer.line}*\n"), "<!-- {} -->")
    footer = f"<footer>{html.escape(writer.line)}</footer>"
    index = writer.text("index.html", page.html(head_html, footer), "<!-- {} -->")
    stamp_json = json.dumps(writer.info, indent=2, sort_keys=True) + "\n"
    writer.files.append(atomic_write_bytes(output / "stamp.json", stamp_json.encode()))
    tell.say(
        f"{len(theorems)} theorems, {counts['holds']} checks held, {counts['violated']} violated, "
        f"{counts['falsified']} falsified, {counts['not applicable']} not applicable; controls "
        f"detected {counts['detected']}/{counts['controls']}; {len(writer.files)} files, "
        f"index.html {index.stat().st_size / 1e6:.2f} MB"
    )
    return Report(output, writer.files, failures)


def _pepit_section(
    writer: _Writer,
    page: _Page,
    theorems: Sequence[Any],
    quick: bool,
    failures: list[str],
    tell: _Progress,
) -> None:
    """PEPit's worst cases of the modelled theorems among ``theorems`` (none: no section)."""
    from mastbench import pepit_worst_case
    from mastbench.pepit_table import MODELLED, pepit_rows, pepit_table

    modelled = [thm for thm in theorems if thm.id in MODELLED]
    if not modelled:
        return
    page.section("PEPit worst case")
    if not pepit_worst_case.available():
        line = "Skipped: PEPit is not installed (pip install 'mastbench[pepit]')."
        page.add(line + "\n", f"<p>{html.escape(line)}</p>")
        return
    tell.say(f"PEPit worst cases of {len(modelled)} theorems")
    rows = pepit_rows(modelled, quick=quick)
    table = pepit_table(rows)
    writer.table("pepit", table)
    page.add(to_markdown(table, level=0), to_html(table, level=0))
    failures += [
        f"{row.theorem} on {row.instance}: measured {row.measured:.6g} exceeds PEPit's worst "
        f"case {row.worst.value:.6g} at N = {row.N}"
        for row in rows
        if not row.holds
    ]


def _theorem_sections(
    writer: _Writer,
    page: _Page,
    theorems: Sequence[Any],
    by_theorem: Mapping[str, Sequence[Any]],
) -> None:
    from mastbench.report_figures import theorem_figure

    for thm in theorems:
        runs = [rows for rows in by_theorem.get(thm.id, []) if rows and not rows[0]["control"]]
        series = [s for s in (_series(rows) for rows in runs) if s is not None]
        title = f"{thm.id} — {thm.label}"
        page.add(
            f"### {title}\n\n{thm.statement}\n\nMeasured: `{thm.measure}` ({thm.method}).\n",
            f"<h3>{html.escape(title)}</h3>\n<p>{html.escape(thm.statement)}</p>\n"
            f"<p>Measured: <code>{html.escape(thm.measure)}</code> ({thm.method}).</p>",
        )
        if not series:
            continue
        figure = theorem_figure(
            title,
            series,
            measure=thm.measure,
            rate=thm.rate,
            x_axis=thm.x_axis,
            quantities=thm.quantities,
        )
        stem = f"theorem-{_slug(thm.id)}"
        png = writer.figure(figure, stem)
        page.add(f"![{title}](figures/{stem}.png)\n", _img(png, title))


def _performance_section(
    writer: _Writer,
    page: _Page,
    output: Path,
    performance: str | Path | None,
    asv_results: str | Path | None,
) -> None:
    """The ``--compare`` table and the asv history, when either exists."""
    perf_path = Path(performance) if performance is not None else None
    if perf_path is None:
        perf_path = next(
            (p for p in (output / "performance.json", output / "performance.csv") if p.is_file()),
            output / "performance.json",
        )
    perf = load_performance(perf_path)
    history = load_asv_history(asv_results) if asv_results is not None else {}
    if perf is None and not history:
        return
    page.section("Performance")
    if perf is not None:
        writer.table("performance", perf)
        page.add(to_markdown(perf, level=3), to_html(perf, level=3))
    if history:
        from mastbench.report_figures import history_figure

        title = "Main benchmarks over commits (asv, oldest first)"
        png = writer.figure(history_figure(title, history), "performance-history")
        page.add(f"![{title}](figures/performance-history.png)\n", _img(png, title))


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
