"""The results store: a long-format table, one row per run × checkpoint, written atomically.

Columns (:data:`COLUMNS`, in the spirit of benchopt):

=============  ======  ==========================================================
column         type    meaning
=============  ======  ==========================================================
family         str     paper family (``mast``, ``ramda``, ...)
algorithm      str     algorithm name
theorem        str     theorem id (verification runs)
instance       str     instance name (verification runs)
control        str     negative-control name ("" for ordinary checks)
problem        str     problem (spec string or class name)
dataset        str     data set name
sketch         str     sketch distribution
params         str     JSON object of the run's parameters
replicate      int     replicate index (``None`` for expectations)
seed           int     seed of the run's generator
iteration      int     checkpoint iteration (point index of pointwise statements)
time           float   seconds spent in the algorithm up to the checkpoint
objective      float   f(x_t)
subopt         float   f(x_t) − f*
dist2          float   ‖x_t − x*‖²
gradnorm2      float   ‖∇f(x_t)‖²
gap            float   Frank-Wolfe gap
support        float   support size (nonzeros or groups)
measure        str     the theorem's measured quantity
measured       float   its value (exact, or Monte-Carlo estimate)
lower, upper   float   Monte-Carlo confidence interval of ``measured``
bound          float   the theorem's bound at the point
ratio          float   measured / bound (as :func:`mastbench.verify.check_evidence`)
holds          bool    whether the bound held at the point (``None`` for plain runs)
status         str     verdict of the whole check (holds / violated / not applicable)
backend        str     array namespace of the run
versions       str     JSON object of library versions (:func:`provenance.versions`)
commit         str     git commit of the code
source         str     mastbench's version and source hash (:func:`provenance.source_hash`)
extra          str     JSON object of everything else (other metrics, counters, reasons)
=============  ======  ==========================================================

Storage: :class:`ResultStore` keeps one file per finished run under ``runs/``, named by a
stable hash of the job spec (:func:`job_key`), plus a consolidated view
(:meth:`ResultStore.consolidate`).  Files are Parquet when ``pyarrow`` is installed and CSV
otherwise; both are read back.  Every file is written to a hidden temporary file in the same
directory, flushed and fsynced, then renamed over its final name with :func:`os.replace`, so a
reader never sees a half-written file and a process killed at any moment loses no finished
run; rerunning the same sweep skips the runs whose files exist.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mastbench import provenance

__all__ = [
    "COLUMNS",
    "FORMATS",
    "STALE_AFTER",
    "ResultStore",
    "atomic_write_bytes",
    "default_format",
    "job_key",
    "normalize_row",
    "read_table",
    "to_json",
    "trace_rows",
    "verdict_rows",
    "write_table",
]

_STR = (
    "family algorithm theorem instance control problem dataset sketch params measure status "
    "backend versions commit source extra"
).split()
_INT = ["replicate", "seed", "iteration"]
_FLOAT = (
    "time objective subopt dist2 gradnorm2 gap support measured lower upper bound ratio"
).split()
_BOOL = ["holds"]

#: The columns of the results table, in order.
COLUMNS: tuple[str, ...] = (
    "family",
    "algorithm",
    "theorem",
    "instance",
    "control",
    "problem",
    "dataset",
    "sketch",
    "params",
    "replicate",
    "seed",
    "iteration",
    "time",
    "objective",
    "subopt",
    "dist2",
    "gradnorm2",
    "gap",
    "support",
    "measure",
    "measured",
    "lower",
    "upper",
    "bound",
    "ratio",
    "holds",
    "status",
    "backend",
    "versions",
    "commit",
    "source",
    "extra",
)
_COLUMN_SET = frozenset(COLUMNS)

_TYPES = {
    **{c: "str" for c in _STR},
    **{c: "int" for c in _INT},
    **{c: "float" for c in _FLOAT},
    **{c: "bool" for c in _BOOL},
}

#: File formats of the store, by extension.
FORMATS = ("parquet", "csv")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return type(value).__name__


def _number_text(value: float) -> float | str:
    """``value`` as JSON holds it without loss: a float, or ``"inf"``/``"nan"`` (which
    ``float()`` reads back) where JSON has no number."""
    return float(value) if math.isfinite(value) else str(float(value))


def to_json(value: Any, *, sort_keys: bool = True) -> str:
    """Canonical JSON (sorted keys unless asked otherwise, no spaces); NumPy values become
    Python values and other objects their type name, so the text never depends on memory
    addresses."""
    return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), default=_json_default)


def job_key(spec: Mapping[str, Any]) -> str:
    """A stable 20-hex-digit key of a job spec (SHA-256 of its canonical JSON)."""
    if not isinstance(spec, Mapping):
        raise TypeError(f"spec must be a mapping, got {type(spec).__name__}")
    return hashlib.sha256(to_json(dict(spec)).encode()).hexdigest()[:20]


def _coerce(column: str, value: Any) -> Any:
    kind = _TYPES[column]
    if kind == "str":
        if value is None:
            return ""
        return value if isinstance(value, str) else to_json(value)
    if value is None or (isinstance(value, float) and math.isnan(value) and kind != "float"):
        return None if kind != "float" else math.nan
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return bool(value)


def normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with exactly :data:`COLUMNS`: missing ones filled (``""``, ``None``, NaN), values
    coerced to the column types, unknown keys moved into the ``extra`` JSON object."""
    if not isinstance(row, Mapping):
        raise TypeError(
            f"row must be a mapping of column names to values, got {type(row).__name__}"
        )
    extra_keys = sorted(set(row) - set(COLUMNS))
    out = {c: _coerce(c, row.get(c)) for c in COLUMNS}
    if extra_keys:
        extra = json.loads(out["extra"]) if out["extra"] else {}
        extra.update({k: row[k] for k in extra_keys})
        out["extra"] = to_json(extra)
    return out


def _normalized_rows(
    shared: Mapping[str, Any], records: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``normalize_row({**shared, **record})`` for each record, with the shared columns
    coerced once rather than once per row (a verdict or trace has thousands of rows)."""
    base = normalize_row(shared)
    rows = []
    for record in records:
        if not set(record) <= _COLUMN_SET or "extra" in record:
            rows.append(normalize_row({**shared, **record}))
            continue
        row = dict(base)
        for column, value in record.items():
            row[column] = _coerce(column, value)
        rows.append(row)
    return rows


def _context(context: Mapping[str, Any]) -> dict[str, Any]:
    base = {
        "versions": provenance.versions(),
        "commit": provenance.commit(),
        "source": provenance.source_hash(),
    }
    base.update(context)
    return base


def trace_rows(trace: Any, **context: Any) -> list[dict[str, Any]]:
    """Rows of a :class:`~mastbench.trace.Trace`: one per checkpoint × replicate.

    Parameters
    ----------
    trace : Trace
        Anything with ``records()`` yielding dicts with ``replicate``, ``iteration``, ``time``,
        metrics and counters, and a ``params`` mapping.
    **context
        Columns shared by every row (``family``, ``problem``, ``seed``, ``backend``...).  A
        ``params`` mapping here is merged over ``trace.params``.
    """
    if not callable(getattr(trace, "records", None)):
        raise TypeError(f"trace must be a Trace (with records()), got {type(trace).__name__}")
    params = {**getattr(trace, "params", {}), **dict(context.pop("params", None) or {})}
    shared = _context({"params": to_json(params), **context})
    return _normalized_rows(shared, trace.records())


def verdict_rows(
    verdict: Any, *, theorem: Any = None, control: str = "", **context: Any
) -> list[dict[str, Any]]:
    """Rows of a :class:`~mastbench.verify.Verdict`: one per evidence point.

    A verdict without evidence (``not applicable``) gives one row with the status and the
    reasons.  ``ratio`` is measured / bound as the verifier computes it; ``holds`` says whether
    that point passed the verifier's check.
    """
    from mastbench.verify import Verdict, check_evidence

    if not isinstance(verdict, Verdict):
        raise TypeError(f"verdict must be a mastbench.verify.Verdict, got {type(verdict).__name__}")
    shared: dict[str, Any] = {
        "theorem": verdict.theorem,
        "instance": verdict.instance,
        "control": control,
        "params": to_json(verdict.params),
        "status": verdict.status,
        "extra": to_json(
            {
                "reasons": list(verdict.reasons),
                "method": verdict.method,
                "nontrivial_ratio": _number_text(verdict.nontrivial_ratio),
                "t_nontrivial": verdict.t_nontrivial,
            }
        ),
    }
    if theorem is not None:
        shared.update(
            family=theorem.family, algorithm=theorem.algorithm or "", measure=theorem.measure
        )
    shared = _context({**shared, **context})
    evidence = verdict.evidence
    if evidence is None:
        return [normalize_row(shared)]
    _, violated, ratio = check_evidence(evidence, verdict.method or "exact")
    size = evidence.t.shape[0]

    def floats(values: Any) -> list[float]:
        if values is None:
            return [math.nan] * size
        return np.asarray(values, dtype=np.float64).tolist()

    columns = {
        "iteration": np.asarray(evidence.t).astype(np.int64).tolist(),
        "measured": floats(evidence.measured),
        "bound": floats(evidence.bound),
        "lower": floats(evidence.lower),
        "upper": floats(evidence.upper),
        "ratio": floats(ratio),
        "holds": (~np.asarray(violated, dtype=bool)).tolist(),
    }
    base = normalize_row(shared)
    return [
        {**base, **dict(zip(columns, values, strict=True))}
        for values in zip(*columns.values(), strict=True)
    ]


# ---------------------------------------------------------------------------------- files


def default_format() -> str:
    """``"parquet"`` when pyarrow can be imported, ``"csv"`` otherwise."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return "csv"
    return "parquet"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_TMP_SUFFIX = ".tmp"

#: A temporary file older than this (seconds) is stale even if its writer's pid is alive
#: (the pid may have been reused, or the writer is on another machine).
STALE_AFTER = 3600.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(path: Path, now: float) -> bool:
    """Whether the temporary file ``path`` (``.<name>.<pid>.<random>.tmp``) was left by a dead
    writer: its pid is not running, or it is older than :data:`STALE_AFTER`."""
    try:
        age = now - path.stat().st_mtime
    except FileNotFoundError:
        return False
    parts = path.name.split(".")
    pid = parts[-3] if len(parts) >= 4 else ""
    if age > STALE_AFTER or not pid.isdigit():
        return True
    return not _pid_alive(int(pid))


@functools.cache
def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    The bytes go to a hidden temporary file in the same directory
    (``.<name>.<pid>.<random>.tmp``, named by the writing process so that
    :meth:`ResultStore.discard_partial` can tell a live writer's file from a dead one's), which
    is flushed, fsynced and renamed over ``path`` with :func:`os.replace`; the directory is
    fsynced after the rename; the file gets the usual permissions (0666 less the umask).
    Readers see either the old file or the complete new one.  An :class:`OSError` (a full
    disk) names ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=_TMP_SUFFIX
    )
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    _fsync_dir(path.parent)
    return path


def _csv_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "float":
        return repr(float(value))
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def _csv_value(text: str, kind: str) -> Any:
    if kind == "str":
        return text
    if text == "":
        return math.nan if kind == "float" else None
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if text not in ("true", "false"):
        raise ValueError(f"not a boolean in a results CSV: {text!r}")
    return text == "true"


@functools.cache
def _arrow_schema() -> Any:
    """The Parquet schema of :data:`COLUMNS`."""
    import pyarrow as pa

    arrow_types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(c, arrow_types[_TYPES[c]]) for c in COLUMNS])


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _encode(rows: Sequence[Mapping[str, Any]], fmt: str) -> bytes:
    rows = [r if isinstance(r, dict) and tuple(r) == COLUMNS else normalize_row(r) for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_csv_text(row[c], _TYPES[c]) for c in COLUMNS])
        return buffer.getvalue().encode()
    import pyarrow as pa

    columns = {c: [r[c] for r in rows] for c in COLUMNS}
    return _parquet_bytes(pa.Table.from_pydict(columns, schema=_arrow_schema()))


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return fmt


def write_table(
    path: str | os.PathLike, rows: Iterable[Mapping[str, Any]], fmt: str | None = None
) -> Path:
    """Write ``rows`` atomically as Parquet or CSV (``fmt`` defaults to the path's suffix)."""
    path = Path(path)
    fmt = _check_format(fmt or path.suffix.lstrip("."))
    if fmt == "parquet" and default_format() != "parquet":
        raise ImportError("writing Parquet needs pyarrow (pip install pyarrow); use CSV instead")
    return atomic_write_bytes(path, _encode(list(rows), fmt))


def _read_parquet(path: Path) -> Any:
    """The Arrow table of a Parquet file (``ParquetFile.read``: no dataset machinery)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).read()


def read_table(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a results file (Parquet or CSV, by suffix), with exactly :data:`COLUMNS`.

    A file written by this version (its columns are :data:`COLUMNS`) is read as it is, its
    values already of the column types; a file of an older layout goes through
    :func:`normalize_row`.
    """
    path = Path(path)
    fmt = _check_format(path.suffix.lstrip("."))
    if fmt == "csv":
        kinds = [(c, _TYPES[c]) for c in COLUMNS]
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            return [{c: _csv_value(r.get(c, ""), kind) for c, kind in kinds} for r in reader]
    if default_format() != "parquet":
        raise ImportError(f"reading {path.name} needs pyarrow (pip install pyarrow)")
    table = _read_parquet(path)
    if table.schema.equals(_arrow_schema()):
        return table.to_pylist()
    return [normalize_row(r) for r in table.to_pylist()]


def _newer_than_all(target: Path, paths: Sequence[Path]) -> bool:
    try:
        made = target.stat().st_mtime_ns
        return all(p.stat().st_mtime_ns < made for p in paths)
    except FileNotFoundError:
        return False


def _check_name(argument: str, name: Any) -> str:
    """A file stem inside the store: non-empty, of letters, digits, ``-`` and ``_`` only."""
    if not isinstance(name, str) or not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError(f"{argument} must be a non-empty alphanumeric string, got {name!r}")
    return name


class ResultStore:
    """A directory of finished runs: ``runs/<key>.<fmt>``, one file per run.

    Parameters
    ----------
    root : path
        Directory of the store (created on first write).
    fmt : {"parquet", "csv"}, optional
        Format of new files (default: :func:`default_format`).  Files of either format are
        read.

    Notes
    -----
    A run is done exactly when its file exists; files appear only by atomic rename, so
    :meth:`has` never sees a half-written run.  :func:`mastbench.sweep.run_jobs` keys a run by
    its job spec and the code that produced it (:func:`mastbench.sweep.store_key`), so runs
    of changed code are recomputed; :meth:`clear` empties the store.
    Hidden temporary files left by a killed writer are ignored (and removed by
    :meth:`discard_partial`).
    """

    def __init__(self, root: str | os.PathLike, fmt: str | None = None):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"root must be a directory, got the file {self.root}")
        self.fmt = _check_format(fmt) if fmt is not None else default_format()
        self.runs = self.root / "runs"

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r}, fmt={self.fmt!r})"

    def _path(self, key: str, fmt: str) -> Path:
        return self.runs / f"{key}.{fmt}"

    def find(self, key: str) -> Path | None:
        """The file of run ``key``, or ``None`` when it is not done."""
        for fmt in FORMATS:
            path = self._path(key, fmt)
            if path.is_file():
                return path
        return None

    def has(self, key: str) -> bool:
        """Whether run ``key`` is finished."""
        return self.find(key) is not None

    def keys(self) -> list[str]:
        """Keys of the finished runs, sorted."""
        if not self.runs.is_dir():
            return []
        return sorted(
            p.stem
            for p in self.runs.iterdir()
            if not p.name.startswith(".") and p.suffix.lstrip(".") in FORMATS
        )

    def put(self, key: str, rows: Iterable[Mapping[str, Any]]) -> Path:
        """Record finished run ``key`` with its rows (atomically)."""
        return write_table(self._path(_check_name("key", key), self.fmt), rows, self.fmt)

    def get(self, key: str) -> list[dict[str, Any]]:
        """Rows of finished run ``key``; ``KeyError`` when it is not done."""
        path = self.find(key)
        if path is None:
            raise KeyError(f"run {key!r} is not in the store {self.root}")
        return read_table(path)

    def get_many(self, keys: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Rows of each finished run in ``keys`` (``KeyError`` for one not done).

        Parquet runs of the current layout are converted to Python rows in one pass, not
        file by file.
        """
        keys = list(dict.fromkeys(keys))
        found: dict[str, list[dict[str, Any]]] = {}
        tables, lengths = [], []
        for key in keys:
            path = self.find(key)
            if path is None:
                raise KeyError(f"run {key!r} is not in the store {self.root}")
            table = _read_parquet(path) if path.suffix == ".parquet" else None
            if table is not None and table.schema.equals(_arrow_schema()):
                tables.append(table)
                lengths.append((key, table.num_rows))
            else:
                found[key] = read_table(path)
        if tables:
            import pyarrow as pa

            columns = pa.concat_tables(tables).to_pydict()
            rows = [
                dict(zip(COLUMNS, values, strict=True))
                for values in zip(*columns.values(), strict=True)
            ]
            start = 0
            for key, length in lengths:
                found[key] = rows[start : start + length]
                start += length
        return {key: found[key] for key in keys}

    def rows(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Rows of the given runs (default: all, in key order)."""
        by_key = self.get_many(self.keys() if keys is None else keys)
        return [row for rows in by_key.values() for row in rows]

    def _temporary(self) -> list[Path]:
        folders = [self.runs, self.root]
        return [
            p
            for folder in folders
            if folder.is_dir()
            for p in folder.iterdir()
            if p.name.startswith(".") and p.suffix == _TMP_SUFFIX
        ]

    def discard_partial(self) -> int:
        """Remove hidden temporary files left by killed writers; return how many.

        A temporary file is removed only when its writer is gone (its pid is not running) or
        it is older than :data:`STALE_AFTER`: another sweep writing into the same store at the
        same time keeps its files.
        """
        now = time.time()
        stale = [p for p in self._temporary() if _is_stale(p, now)]
        for path in stale:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return len(stale)

    def clear(self) -> int:
        """Remove every finished run and the consolidated table (``results.<fmt>``) of the
        store, and no other file; return how many files were removed."""
        files = [self._path(key, fmt) for key in self.keys() for fmt in FORMATS]
        files += [self.root / f"results.{fmt}" for fmt in FORMATS]
        removed = 0
        for path in files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed + self.discard_partial()

    def consolidate(self, name: str = "results") -> Path:
        """Write every run's rows, in key order, into one file ``<root>/<name>.<fmt>``
        (atomically).

        Nothing is done when the file is newer than every run and than the last change of
        the ``runs`` folder.  A Parquet store whose runs are all Parquet files is read in one
        pass by pyarrow
        and written without a Python row (columns missing from older files are filled as
        :func:`normalize_row` fills them).
        """
        name = _check_name("name", name)
        target = self.root / f"{name}.{self.fmt}"
        paths = [self.find(key) for key in self.keys()]
        if _newer_than_all(target, [self.runs, *paths]):
            return target
        if self.fmt == "parquet" and paths and all(p.suffix == ".parquet" for p in paths):
            import pyarrow.dataset as ds

            dataset = ds.dataset([str(p) for p in paths], format="parquet", schema=_arrow_schema())
            table = dataset.to_table(use_threads=False)
            fill = {"str": "", "float": math.nan}
            for index, column in enumerate(COLUMNS):
                kind = _TYPES[column]
                if kind in fill and table.column(index).null_count:
                    filled = table.column(index).fill_null(fill[kind])
                    table = table.set_column(index, column, filled)
            return atomic_write_bytes(target, _parquet_bytes(table))
        return write_table(target, self.rows(), self.fmt)
