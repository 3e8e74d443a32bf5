"""The results store: row schema, Parquet/CSV round trips, atomic writes, resume after SIGKILL."""

import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastbench.theory import FieldBag

from mastbench import results
from mastbench.results import (
    COLUMNS,
    ResultStore,
    atomic_write_bytes,
    default_format,
    job_key,
    normalize_row,
    read_table,
    trace_rows,
    verdict_rows,
    write_table,
)
from mastbench.trace import TraceRecorder
from mastbench.verify import verify, verify_control

ROOT = Path(__file__).resolve().parent.parent
FORMATS = [
    "csv",
    pytest.param(
        "parquet",
        marks=pytest.mark.skipif(default_format() != "parquet", reason="pyarrow not installed"),
    ),
]


def same_rows(a, b):
    """Row lists equal, NaN equal to NaN."""
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert list(ra) == list(rb)
        for key in ra:
            va, vb = ra[key], rb[key]
            if isinstance(va, float) and math.isnan(va):
                assert isinstance(vb, float) and math.isnan(vb), key
            else:
                assert va == vb, (key, va, vb)


@pytest.fixture
def no_pyarrow(monkeypatch):
    """Simulate an environment without pyarrow."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)


SAMPLE = [
    {"algorithm": "dsgd", "iteration": 0, "subopt": 1 / 3, "holds": True, "params": {"q": 0.5}},
    {
        "algorithm": 'ŝgd, "quoted"\nline',
        "iteration": None,
        "dist2": float("inf"),
        "holds": None,
        "replicate": 3,
        "grad_evals": 7.0,
    },
    {"theorem": "mast.sc", "iteration": 12, "measured": -0.0, "bound": 5e-324, "holds": False},
]


def test_job_key_is_stable_and_order_independent():
    a = job_key({"kind": "verify", "theorem": "x.y", "instance": 0})
    assert a == job_key({"instance": 0, "theorem": "x.y", "kind": "verify"})
    assert len(a) == 20 and all(c in "0123456789abcdef" for c in a)
    assert a != job_key({"kind": "verify", "theorem": "x.y", "instance": 1})
    with pytest.raises(TypeError, match="spec must be a mapping"):
        job_key(["not", "a", "mapping"])


def test_normalize_row_fills_coerces_and_moves_unknown_keys_to_extra():
    row = normalize_row({"iteration": np.int64(4), "subopt": np.float32(0.5), "counter": 3})
    assert list(row) == list(COLUMNS)
    assert row["iteration"] == 4 and type(row["iteration"]) is int
    assert row["subopt"] == 0.5 and type(row["subopt"]) is float
    assert math.isnan(row["dist2"]) and row["replicate"] is None and row["holds"] is None
    assert row["algorithm"] == "" and json.loads(row["extra"]) == {"counter": 3}


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_is_exact(tmp_path, fmt):
    path = write_table(tmp_path / f"t.{fmt}", SAMPLE)
    same_rows(read_table(path), [normalize_row(r) for r in SAMPLE])


def test_csv_and_parquet_hold_the_same_rows(tmp_path):
    pytest.importorskip("pyarrow")
    a = read_table(write_table(tmp_path / "a.csv", SAMPLE))
    b = read_table(write_table(tmp_path / "b.parquet", SAMPLE))
    same_rows(a, b)


def test_without_pyarrow_the_store_writes_csv(tmp_path, no_pyarrow):
    assert default_format() == "csv"
    store = ResultStore(tmp_path)
    assert store.fmt == "csv"
    store.put("k1", SAMPLE)
    assert store.find("k1").suffix == ".csv"
    same_rows(store.get("k1"), [normalize_row(r) for r in SAMPLE])
    with pytest.raises(ImportError, match="pyarrow"):
        write_table(tmp_path / "x.parquet", SAMPLE)


def test_parquet_files_need_pyarrow_to_be_read(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    path = write_table(tmp_path / "x.parquet", SAMPLE)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match="needs pyarrow"):
        read_table(path)


def test_bad_format_and_key_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        ResultStore(tmp_path, fmt="xlsx")
    with pytest.raises(ValueError, match="format must be one of"):
        write_table(tmp_path / "x.txt", SAMPLE)
    with pytest.raises(ValueError, match="key must be"):
        ResultStore(tmp_path).put("../escape", SAMPLE)
    with pytest.raises(KeyError, match="not in the store"):
        ResultStore(tmp_path).get("missing")


def test_store_root_that_is_a_file_and_wrong_row_sources_are_rejected(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="root must be a directory"):
        ResultStore(tmp_path / "file")
    with pytest.raises(TypeError, match="trace must be a Trace"):
        trace_rows({"iteration": 0})
    with pytest.raises(TypeError, match=r"verdict must be a mastbench\.verify\.Verdict"):
        verdict_rows("holds")


def test_consolidate_refuses_a_name_that_leaves_the_store(tmp_path):
    store = ResultStore(tmp_path / "store")
    store.put("k1", SAMPLE)
    for name in ("../escape", "", "a/b"):
        with pytest.raises(ValueError, match="name must be a non-empty alphanumeric"):
            store.consolidate(name)
    assert not (tmp_path / "escape.parquet").exists()


@pytest.mark.parametrize("rows", [[3], ["iteration"], [None]])
def test_rows_that_are_not_mappings_are_refused(tmp_path, rows):
    with pytest.raises(TypeError, match="row must be a mapping"):
        write_table(tmp_path / "x.csv", rows)


def test_atomic_write_leaves_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = atomic_write_bytes(tmp_path / "f.csv", b"old")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(results.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_store_lists_only_finished_runs_and_discards_partial_files(tmp_path):
    store = ResultStore(tmp_path, fmt="csv")
    assert store.keys() == [] and store.rows() == [] and store.discard_partial() == 0
    store.put("b", SAMPLE[:1])
    store.put("a", SAMPLE[1:])
    (store.runs / ".c.csv.x1y2.tmp").write_text("half a fi")
    assert store.keys() == ["a", "b"] and not store.has("c")
    assert store.discard_partial() == 1
    assert sorted(p.name for p in store.runs.iterdir()) == ["a.csv", "b.csv"]
    consolidated = store.consolidate()
    same_rows(read_table(consolidated), store.get("a") + store.get("b"))


def test_trace_rows_one_per_checkpoint_and_replicate():
    recorder = TraceRecorder(
        "toy",
        4,
        {"subopt": lambda x: x.sum(axis=1), "subopt_D": lambda x: 2 * x.sum(axis=1)},
        checkpoints=[0, 2, 4],
        params={"step": 0.5},
    )
    x = np.ones((3, 2))
    for t in range(5):
        recorder.record(t, x, grad_evals=t)
        x = 0.5 * x
    rows = trace_rows(recorder.finish(x), family="toy", seed=7, params={"sketch_q": 0.25})
    assert len(rows) == 3 * 3
    assert [(r["iteration"], r["replicate"]) for r in rows[:4]] == [(0, 0), (0, 1), (0, 2), (2, 0)]
    last = rows[-1]
    assert last["subopt"] == 2 * 0.5**4 and last["seed"] == 7 and last["family"] == "toy"
    assert json.loads(last["params"]) == {"step": 0.5, "sketch_q": 0.25}
    assert json.loads(last["extra"]) == {"grad_evals": 4.0, "subopt_D": 4 * 0.5**4}
    assert last["commit"] and json.loads(last["versions"])["mastbench"]


def test_verdict_rows_carry_points_ratios_and_status(fake_family):
    GD, MC = fake_family.GD, fake_family.MC

    inst = GD.instances(True)[0]
    verdict = verify(GD, inst)
    rows = verdict_rows(verdict, theorem=GD)
    assert [r["iteration"] for r in rows] == list(verdict.evidence.t)
    assert all(r["holds"] and r["status"] == "holds" for r in rows)
    assert max(r["ratio"] for r in rows) == verdict.worst_ratio
    assert rows[0]["family"] == "fake" and rows[0]["measure"] == GD.measure

    control = verdict_rows(verify_control(GD, inst, GD.controls[1]), theorem=GD, control="c")
    assert control[0]["control"] == "c" and not all(r["holds"] for r in control)

    na = verdict_rows(verify(GD, FieldBag("singular", eigs=[0.0, 1.0])), theorem=GD)
    assert len(na) == 1 and na[0]["status"] == "not applicable" and na[0]["iteration"] is None
    assert json.loads(na[0]["extra"])["reasons"] == ["A ≻ 0"]

    mc = verdict_rows(verify(MC, MC.instances(True)[0]), theorem=MC)
    assert all(r["lower"] <= r["measured"] <= r["upper"] for r in mc)


def _visible_runs(runs: Path) -> list[Path]:
    return sorted(p for p in runs.glob("*") if not p.name.startswith("."))


@pytest.mark.parametrize("fmt", FORMATS)
def test_sweep_killed_with_sigkill_resumes_without_losing_or_redoing_runs(tmp_path, fmt):
    from tests.fake_sweep import BLOCKED, rows_of

    n = 12
    store = ResultStore(tmp_path / "store", fmt)
    log = tmp_path / "executed.log"
    gate = tmp_path / "gate"
    command = [
        sys.executable,
        str(ROOT / "tests" / "fake_sweep.py"),
        str(store.root),
        fmt,
        str(log),
        str(n),
        str(gate),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while not gate.with_suffix(".waiting").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the sweep never reached its blocked job"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    done = _visible_runs(store.runs)
    assert len(done) == BLOCKED, "the kill lands while job BLOCKED waits"
    for path in done:
        same_rows(
            read_table(path), [normalize_row(r) for r in rows_of(read_table(path)[0]["seed"])]
        )
    first = [int(line) for line in log.read_text().split()]
    stamps = {p.name: p.stat().st_mtime_ns for p in done}

    gate.touch()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    second = [int(line) for line in log.read_text().split()][len(first) :]
    finished = {read_table(p)[0]["seed"] for p in done}
    assert finished.isdisjoint(second), "finished runs were redone"
    assert sorted(finished | set(second)) == list(range(n))
    assert {p.name: p.stat().st_mtime_ns for p in done} == stamps
    assert len(store.keys()) == n
    assert not [p for p in store.runs.iterdir() if p.name.startswith(".")]


_STR = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_CELLS = {
    "str": _STR,
    "int": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "float": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    "bool": st.one_of(st.none(), st.booleans()),
}
_ROW = st.fixed_dictionaries(
    {}, optional={c: _CELLS[results._TYPES[c]] for c in COLUMNS if c != "extra"}
)


@given(rows=st.lists(_ROW, max_size=4))
@settings(deadline=None)
@pytest.mark.parametrize("fmt", FORMATS)
def test_any_rows_round_trip(tmp_path_factory, fmt, rows):
    path = tmp_path_factory.mktemp("rt") / f"rows.{fmt}"
    same_rows(read_table(write_table(path, rows)), [normalize_row(r) for r in rows])


def test_a_live_writers_temporary_file_survives_another_sweeps_start(tmp_path):
    store = ResultStore(tmp_path, fmt="csv")
    store.runs.mkdir(parents=True)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    live = store.runs / f".a.csv.{os.getpid()}.x1.tmp"
    dead = store.runs / f".b.csv.{dead_pid}.x2.tmp"
    old = store.runs / f".c.csv.{os.getpid()}.x3.tmp"
    for path in (live, dead, old):
        path.write_text("partial")
    os.utime(old, (time.time() - results.STALE_AFTER - 10,) * 2)
    assert store.discard_partial() == 2
    assert live.exists() and not dead.exists() and not old.exists()


def test_atomic_writes_name_their_writer(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def note(src, dst):
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", note)
    atomic_write_bytes(tmp_path / "f.csv", b"x")
    assert seen[0].startswith(f".f.csv.{os.getpid()}.") and seen[0].endswith(".tmp")


def test_a_parquet_store_consolidates_in_key_order_also_with_old_files(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = ResultStore(tmp_path, fmt="parquet")
    for index, key in enumerate(["c", "a", "b"]):
        store.put(key, [{**row, "seed": index} for row in SAMPLE])
    old = pa.Table.from_pylist(
        [{"algorithm": "old", "iteration": 1, "subopt": 0.5}],
        schema=pa.schema(
            [("algorithm", pa.string()), ("iteration", pa.int64()), ("subopt", pa.float64())]
        ),
    )
    pq.write_table(old, store.runs / "0old.parquet")
    expected = store.rows()
    assert [r["algorithm"] for r in store.get("0old")] == ["old"]
    assert store.get("0old")[0]["source"] == "" and math.isnan(store.get("0old")[0]["dist2"])
    same_rows(read_table(store.consolidate()), expected)


def test_consolidate_rewrites_only_when_a_run_changed(tmp_path):
    store = ResultStore(tmp_path, fmt="csv")
    store.put("a", SAMPLE[:1])
    target = store.consolidate()
    made = target.stat().st_mtime_ns
    assert store.consolidate().stat().st_mtime_ns == made
    time.sleep(0.01)
    store.put("b", SAMPLE[1:])
    same_rows(read_table(store.consolidate()), store.get("a") + store.get("b"))
    (store.runs / "a.csv").unlink()
    same_rows(read_table(store.consolidate()), store.get("b"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_many_gives_each_runs_rows(tmp_path, fmt):
    store = ResultStore(tmp_path, fmt)
    store.put("x", SAMPLE[:2])
    store.put("y", SAMPLE[2:])
    assert list(store.get_many(["y", "x", "y"])) == ["y", "x"]
    for key, rows in store.get_many(["y", "x"]).items():
        same_rows(rows, store.get(key))
    with pytest.raises(KeyError, match="'z' is not in the store"):
        store.get_many(["x", "z"])
