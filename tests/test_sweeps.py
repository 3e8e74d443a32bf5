"""Sweeps: joblib processes and a Dask cluster give the rows of the serial run."""

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mastbench import provenance
from mastbench.jobs import execute, run_jobs_for, summarize_verdict, verify_jobs
from mastbench.results import ResultStore
from mastbench.sweep import progress_bar, run_jobs, store_key
from mastbench.validation import UsageError

MODULES = ["tests.fake_family"]
ROOT = Path(__file__).resolve().parent.parent


def comparable(job_rows):
    """Rows without wall-clock times (NaN made comparable)."""
    return [
        [
            {
                k: ("nan" if isinstance(v, float) and math.isnan(v) else v)
                for k, v in r.items()
                if k != "time"
            }
            for r in rows
        ]
        for rows in job_rows
    ]


@pytest.fixture
def jobs(fake_family):
    verify = verify_jobs(fake_family.THEOREMS, quick=True, modules=MODULES)
    run = run_jobs_for(
        "fake_gd",
        problem=None,
        grid={"step": [0.01, 0.05]},
        seed=3,
        replicates=2,
        iters=8,
        modules=MODULES,
    )
    return verify + run


def test_verify_jobs_cover_instances_and_controls(fake_family):
    jobs = verify_jobs(fake_family.THEOREMS, quick=True)
    gd = [j for j in jobs if j["theorem"] == "fake.gd"]
    assert [j["instance_name"] for j in gd if not j["control"]] == ["diag-2", "diag-3", "singular"]
    assert [j["control"] for j in gd if j["control"]] == ["step x 2.2", "bound x 0.5"]
    assert len(verify_jobs(fake_family.THEOREMS, quick=False, controls=False)) == 4 + 1


def test_run_jobs_form_the_cartesian_product_of_the_grid():
    jobs = run_jobs_for(
        "a", problem="p", grid={"x": [1, 2], "y": ["u", "v", "w"]}, seed=0, replicates=1, iters=None
    )
    assert [tuple(j["params"].values()) for j in jobs] == [
        (1, "u"),
        (1, "v"),
        (1, "w"),
        (2, "u"),
        (2, "v"),
        (2, "w"),
    ]


def test_serial_rows_are_the_verdicts(jobs):
    rows = run_jobs(jobs, execute, progress=False)
    summaries = [
        summarize_verdict(r) for r, j in zip(rows, jobs, strict=True) if j["kind"] == "verify"
    ]
    assert [s["status"] for s in summaries if not s["control"]] == [
        "holds",
        "holds",
        "not applicable",
        "holds",
    ]
    assert all(s["status"] == "violated" for s in summaries if s["control"])
    runs = rows[len(summaries) :]
    assert [len(r) for r in runs] == [9 * 2, 9 * 2]
    assert runs[0][0]["params"] != runs[1][0]["params"]


def test_joblib_processes_give_the_serial_rows(jobs):
    pytest.importorskip("joblib")
    serial = run_jobs(jobs, execute, progress=False)
    parallel = run_jobs(jobs, execute, n_jobs=2, progress=False)
    assert comparable(parallel) == comparable(serial)


def test_dask_cluster_gives_the_serial_rows(jobs, tmp_path):
    distributed = pytest.importorskip("distributed")
    serial = run_jobs(jobs, execute, progress=False)
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1")
        store = ResultStore(tmp_path)
        on_dask = run_jobs(
            jobs, execute, store=store, scheduler=cluster.scheduler_address, progress=False
        )
    assert comparable(on_dask) == comparable(serial)
    assert len(store.keys()) == len(jobs)


def test_finished_jobs_are_skipped(tmp_path):
    calls = []

    def count(job):
        calls.append(job["i"])
        return [{"iteration": job["i"]}]

    store = ResultStore(tmp_path, fmt="csv")
    first = run_jobs([{"i": 0}, {"i": 1}], count, store=store, progress=False)
    again = run_jobs([{"i": 1}, {"i": 2}, {"i": 1}], count, store=store, progress=False)
    assert calls == [0, 1, 2]
    assert [r[0]["iteration"] for r in first + again] == [0, 1, 1, 2, 1]


def test_bad_sweep_settings_are_rejected(monkeypatch):
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        run_jobs([], execute, n_jobs=0)
    with pytest.raises(ValueError, match="scheduler must be an address"):
        run_jobs([], execute, scheduler="localhost")
    monkeypatch.setitem(sys.modules, "joblib", None)
    with pytest.raises(ImportError, match=r"mastbench\[sweep\]"):
        run_jobs([{"kind": "run"}], execute, n_jobs=2)
    with pytest.raises(ValueError, match="job kind must be one of"):
        execute({"kind": "dance"})


def test_progress_bar_only_when_asked(capsys, monkeypatch):
    bar = progress_bar(2, "jobs", enabled=False)
    bar.update(1)
    bar.close()
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    progress_bar(2, "jobs").update(1)
    assert capsys.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    bar = progress_bar(2, "verify", enabled=True)
    bar.update(2)
    bar.close()
    assert capsys.readouterr().err == "\rverify: 0/2 jobs\rverify: 2/2 jobs\n"


def test_results_are_reported_in_job_order_as_they_complete(tmp_path):
    store = ResultStore(tmp_path, fmt="csv")
    store.put(store_key({"i": 2}), [{"iteration": 2}])
    seen = []

    def execute_and_note(job):
        seen.append(("run", job["i"]))
        return [{"iteration": job["i"]}]

    jobs = [{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}]
    run_jobs(
        jobs,
        execute_and_note,
        store=store,
        progress=False,
        on_result=lambda k, rows: seen.append(("result", k, rows[0]["iteration"])),
    )
    assert seen == [
        ("run", 0),
        ("result", 0, 0),
        ("run", 1),
        ("result", 1, 1),
        ("result", 2, 2),
        ("run", 3),
        ("result", 3, 3),
    ]


def test_unknown_control_is_a_clear_error(fake_family):
    job = {**verify_jobs(fake_family.THEOREMS, quick=True)[0], "control": "no such control"}
    with pytest.raises(ValueError, match="no negative control named 'no such control'"):
        execute(job)


@pytest.mark.parametrize(
    ("algorithm", "error"),
    [
        ("frank_wolfe", None),
        ("dsgd", None),
        ("group_omp", "group_omp cannot run on --problem logistic:n=20,d=4: it needs a group"),
    ],
)
def test_run_job_builds_the_case_of_its_problem(algorithm, error):
    (job,) = run_jobs_for(
        algorithm, problem="logistic:n=20,d=4", grid={}, seed=0, replicates=1, iters=2
    )
    if error is None:
        rows = execute(job)
        assert {row["problem"] for row in rows} == {"logistic:n=20,d=4"}
        assert max(row["iteration"] for row in rows) == 2
    else:
        with pytest.raises(UsageError, match=error):
            execute(job)


def test_a_run_job_is_keyed_by_its_whole_spec():
    """Runs that differ only in the sketch, the step, a setting or the regularizer are stored
    under different keys (a sweep never replays another run's traces)."""
    base = {"grid": {}, "seed": 0, "replicates": 1, "problem": "quadratic:d=4"}
    variants = [
        {"sketch": "randk:k=2"},
        {"sketch": "randk:k=3"},
        {"sketch": "randk:k=2", "step": "0.01"},
        {"sketch": "randk:k=2", "settings": {"option": "II"}},
        {"sketch": "randk:k=2", "regularizer": "l1:lam=0.1"},
        {"sketch": "randk:k=2", "constraint": "l2"},
    ]
    keys = [store_key(run_jobs_for("dsgd", **base, **v)[0]) for v in variants]
    assert len(set(keys)) == len(keys)
    assert store_key(run_jobs_for("dsgd", **base, **variants[0])[0]) == keys[0]


@pytest.mark.parametrize(
    ("grid", "iters", "key"),
    [
        ({"rng": [3]}, None, "rng"),
        ({"replicates": [3]}, None, "replicates"),
        ({"iters": [3]}, 4, "iters"),
    ],
)
def test_grid_must_not_sweep_what_the_run_sets_itself(grid, iters, key):
    with pytest.raises(ValueError, match=f"grid must not sweep '{key}'"):
        run_jobs_for("dsgd", problem=None, grid=grid, seed=0, replicates=1, iters=iters)


def test_grid_may_sweep_iters_when_iters_is_not_given():
    jobs = run_jobs_for(
        "dsgd", problem=None, grid={"iters": [3, 4]}, seed=0, replicates=1, iters=None
    )
    assert [job["params"] for job in jobs] == [{"iters": 3}, {"iters": 4}]


def counting(calls):
    def execute(job):
        calls.append(job["i"])
        return [{"iteration": job["i"]}]

    return execute


@pytest.fixture
def fresh_hashes():
    """Source hashes recomputed in the test and again after it."""
    provenance.package_hash.cache_clear()
    provenance.module_hash.cache_clear()
    yield
    provenance.package_hash.cache_clear()
    provenance.module_hash.cache_clear()


def test_changed_package_source_is_recomputed(tmp_path, monkeypatch, capsys, fresh_hashes):
    source = tmp_path / "src" / "mastbench"
    source.mkdir(parents=True)
    module = source / "verify.py"
    module.write_text((provenance.source_roots()[0] / "verify.py").read_text())
    monkeypatch.setattr(provenance, "source_roots", lambda: [source])
    provenance.package_hash.cache_clear()
    store = ResultStore(tmp_path / "store", fmt="csv")
    calls = []
    jobs = [{"i": 0}, {"i": 1}]
    run_jobs(jobs, counting(calls), store=store, progress=False)
    run_jobs(jobs, counting(calls), store=store, progress=False)
    assert calls == [0, 1]
    assert "reused 2 stored results, computed 0" in capsys.readouterr().err
    module.write_text(module.read_text() + "\n# an uncommitted edit\n")
    provenance.package_hash.cache_clear()
    run_jobs(jobs, counting(calls), store=store, progress=False)
    assert calls == [0, 1, 0, 1]
    assert "reused 0 stored results, computed 2" in capsys.readouterr().err
    run_jobs(jobs, counting(calls), store=store, progress=False, force=True)
    assert calls == [0, 1, 0, 1, 0, 1]


def test_changed_plugin_source_is_recomputed(tmp_path, monkeypatch, fresh_hashes):
    (tmp_path / "my_plugin_for_keys.py").write_text("BOUND = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    store = ResultStore(tmp_path / "store", fmt="csv")
    calls = []
    jobs = [{"i": 0, "modules": ["my_plugin_for_keys"]}]
    run_jobs(jobs, counting(calls), store=store, progress=False)
    run_jobs(jobs, counting(calls), store=store, progress=False)
    assert calls == [0]
    (tmp_path / "my_plugin_for_keys.py").write_text("BOUND = 2.0\n")
    provenance.module_hash.cache_clear()
    run_jobs(jobs, counting(calls), store=store, progress=False)
    assert calls == [0, 0]


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_with_a_killed_sweep(tmp_path):
    pytest.importorskip("joblib")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = ROOT / "tests" / "fake_parallel_sweep.py"
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("*.pid"))) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "workers never started"
        time.sleep(0.05)
    workers = [int(p.stem) for p in tmp_path.glob("*.pid")]
    assert all(_alive(pid) for pid in workers)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"workers {workers} outlived their sweep"
        time.sleep(0.05)
