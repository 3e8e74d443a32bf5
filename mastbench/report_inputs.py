"""Inputs of the report that other commands write: benchmark tables, the power catalogue and
the asv history.

``performance.json`` (``mastbench bench --compare``) and ``power.json`` (``mastbench power``)
are read by :func:`load_table`: JSON, either a list of row objects or an object ``{"title":
str, "rows": [row objects], "notes": str, "stamp": {"command", "commit", "machine", ...}}``
(all keys but ``rows`` optional), or CSV with a header line.  Columns are shown as they come,
in order of first appearance.

:func:`load_asv_history` reads airspeed velocity's results directory (``.asv/results``: one
folder per machine, one JSON file per commit and environment, format version 2 with
``result_columns``) into the series :func:`mastbench.report_figures.history_figure` draws.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mastbench.report_tables import Table, table_from_rows

__all__ = ["MAIN_BENCHMARKS", "load_asv_history", "load_performance", "load_table"]

#: Benchmarks drawn over commits: asv's timing benchmarks (``time_*``), at most this many.
MAIN_BENCHMARKS = 12


def load_table(path: str | Path, title: str) -> Table | None:
    """The table at ``path`` (JSON or CSV, see the module docstring), or ``None`` when the
    file does not exist; ``title`` is used when the file names none."""
    path = Path(path)
    if not path.is_file():
        return None
    notes = ""
    if path.suffix == ".csv":
        with open(path, newline="") as fh:
            rows: Any = list(csv.DictReader(fh))
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
        raise ValueError(f"{path}: expected a list of row objects (see mastbench.report_inputs)")
    return table_from_rows(title, rows, notes)


def load_performance(path: str | Path) -> Table | None:
    """The benchmark table of ``mastbench bench --compare`` (see :func:`load_table`)."""
    return load_table(path, "Performance")


def _number(value: Any) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


def _runs(root: Path) -> list[dict[str, Any]]:
    """Every readable result file under ``root``, oldest commit first."""
    runs = []
    for path in sorted(root.glob("*/*.json")):
        if path.name == "machine.json":
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, Mapping) and isinstance(data.get("results"), Mapping):
            runs.append(data)
    return sorted(runs, key=lambda d: (d.get("date") or 0, str(d.get("commit_hash", ""))))


def _values(entry: Any, columns: list[str]) -> tuple[list[float], list[str]]:
    """A result entry's values and the labels of their parameter combinations."""
    if not isinstance(entry, list):
        return [_number(entry)], [""]
    result = entry[columns.index("result")] if "result" in columns else entry[0]
    params = entry[columns.index("params")] if "params" in columns and len(entry) > 1 else []
    values = result if isinstance(result, list) else [result]
    labels = [", ".join(map(str, combo)) for combo in itertools.product(*params)] if params else []
    if len(labels) != len(values):
        labels = [str(k) for k in range(len(values))] if len(values) > 1 else [""]
    return [_number(v) for v in values], labels


def load_asv_history(root: str | Path, *, max_series: int = 4) -> dict[str, dict[str, Any]]:
    """The main benchmarks (:data:`MAIN_BENCHMARKS`) over commits, from asv's results.

    Returns benchmark name → ``{"commits": [short hashes, oldest first], "unit": "seconds",
    "series": {parameter label: [value or NaN per commit]}}`` (at most ``max_series`` parameter
    combinations each); empty when ``root`` holds no results.
    """
    root = Path(root)
    if not root.is_dir():
        return {}
    runs = _runs(root)
    names = sorted(
        {
            name
            for run in runs
            for name in run["results"]
            if name.rsplit(".", 1)[-1].startswith("time_")
        }
    )[:MAIN_BENCHMARKS]
    history: dict[str, dict[str, Any]] = {}
    commits = [str(run.get("commit_hash", "?"))[:8] for run in runs]
    for name in names:
        series: dict[str, list[float]] = {}
        for index, run in enumerate(runs):
            columns = list(run.get("result_columns") or ["result", "params"])
            if name not in run["results"]:
                continue
            values, labels = _values(run["results"][name], columns)
            for label, value in zip(labels, values, strict=True):
                series.setdefault(label or "value", [math.nan] * len(runs))[index] = value
        kept = dict(itertools.islice(series.items(), max_series))
        if any(math.isfinite(v) for ys in kept.values() for v in ys):
            history[name] = {"commits": commits, "unit": "seconds", "series": kept}
    return history
