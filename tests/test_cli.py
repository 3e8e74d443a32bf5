"""The command line: verify/run/report sweeps, the results store, one-line errors (exit 2)."""

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mastbench.cli import main
from mastbench.results import ResultStore

FAKE = ["--import", "tests.fake_family"]


def one_line_error(capsys, argv, match):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("mastbench"), err
    assert match in err, err


def test_verify_with_store_prints_verdicts_and_resumes(tmp_path, capsys, fake_family):
    argv = ["verify", "--theorem", "fake.gd", "--quick", "--results", str(tmp_path), *FAKE]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "[  ok] fake.gd on diag-2: holds" in out
    assert "[ n/a] fake.gd on singular: not applicable — A ≻ 0" in out
    assert "[  ok] fake.gd control 'bound x 0.5': detected" in out
    assert out.rstrip().endswith(
        "3 checks and 2 negative controls on 1 theorems: "
        "1 passed, 0 failed, 0 errors, 0 falsified, 0 not applicable"
    )
    assert "verify: reused 0 stored results, computed 5" in err
    store = ResultStore(tmp_path)
    assert len(store.keys()) == 5 and store.find("results") is None
    assert (tmp_path / f"results.{store.fmt}").is_file()
    assert main(argv) == 0
    again, err = capsys.readouterr()
    assert again == out and "verify: reused 5 stored results, computed 0" in err
    assert main([*argv, "--force"]) == 0
    assert "verify: reused 0 stored results, computed 5" in capsys.readouterr().err


def test_verify_exits_1_on_violation(capsys, fake_family):
    assert main(["verify", "--theorem", "fake.bad", "--theorem", "fake.mc", *FAKE]) == 1
    out, err = capsys.readouterr()
    assert "[FAIL] fake.bad on any: violated" in out
    table = out.split("\n\n")[-1].splitlines()
    assert table[0].split() == [
        "theorem",
        "label",
        "tag",
        "instances",
        "status",
        "nontrivial",
        "worst",
        "ratio",
    ]
    assert table[2].split()[:6] == ["fake.bad", "False", "claim", "U", "1", "violated"]
    assert table[3].split()[:5] == ["fake.mc", "Exponential", "mean", "C", "1"]
    assert table[-1].endswith(
        "on 2 theorems: 1 passed, 1 failed, 0 errors, 0 falsified, 0 not applicable"
    )
    assert "verify [1/2] fake.bad: violated" in err and "verify [2/2] fake.mc: holds" in err


def test_verify_json_lists_one_object_per_theorem(capsys, fake_family):
    from mastbench.verify import verify

    assert main(["verify", "--theorem", "fake.gd", "--theorem", "fake.bad", "--json", *FAKE]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert [o["id"] for o in listed] == ["fake.gd", "fake.bad"]
    keys = {"id", "label", "tag", "status", "instances", "worst_ratio", "nontrivial_ratio"}
    assert all(set(o) == keys for o in listed)
    gd = listed[0]
    verdicts = [verify(fake_family.GD, i) for i in fake_family.GD.instances(False)]
    assert (gd["label"], gd["tag"], gd["status"], gd["instances"]) == (
        "GD contraction",
        "D",
        "holds",
        4,
    )
    applicable = [v for v in verdicts if v.status == "holds"]
    assert gd["worst_ratio"] == max(v.worst_ratio for v in applicable)
    assert gd["nontrivial_ratio"] == max(v.nontrivial_ratio for v in applicable)
    assert gd["nontrivial_ratio"] < gd["worst_ratio"]
    assert listed[1]["status"] == "violated" and listed[1]["worst_ratio"] == 2.0


@pytest.fixture
def raising_theorem(fake_family):
    """A theorem whose check raises on one of its two instances."""
    from dataclasses import replace

    from mastbench.theory import Evidence, FieldBag, _registry

    def evaluate(instance, params):
        if instance.name == "broken":
            raise ZeroDivisionError("the evaluation divides by zero")
        t = np.arange(1, 5)
        return Evidence(t, 0.5 / t, 1 / t)

    thm = replace(
        fake_family.BAD,
        id="fake.raises",
        measurement=evaluate,
        instances=lambda quick: [FieldBag("broken"), FieldBag("fine")],
    )
    _registry._REGISTRY[thm.id] = thm
    yield thm
    _registry._REGISTRY.pop(thm.id)


def test_a_check_that_raises_is_an_error_verdict_and_verify_goes_on(capsys, raising_theorem):
    assert main(["verify", "--theorem", "fake.raises", "--theorem", "fake.mc", *FAKE]) == 3
    out = capsys.readouterr().out
    assert "[ ERR] fake.raises on broken: error — ZeroDivisionError: the evaluation divides" in out
    assert "[  ok] fake.raises on fine: holds" in out
    assert "[  ok] fake.mc on seed-1: holds" in out
    assert out.rstrip().endswith("1 passed, 0 failed, 1 errors, 0 falsified, 0 not applicable")


def test_verify_in_parallel_prints_the_same(capsys, fake_family):
    pytest.importorskip("joblib")
    argv = ["verify", "--theorem", "fake.gd", "--theorem", "fake.mc", "--quick", *FAKE]
    assert main(argv) == 0
    serial = capsys.readouterr().out
    assert main([*argv, "-j", "2"]) == 0
    assert capsys.readouterr().out == serial


def test_run_stores_traces_over_a_grid(tmp_path, capsys, fake_family):
    argv = [
        "run",
        "fake_gd",
        "--problem",
        "quadratic:d=3,kappa=4",
        "--grid",
        "step=0.05,0.1",
        "--replicates",
        "2",
        "--iters",
        "6",
        "--seed",
        "1",
        "--results",
        str(tmp_path),
        *FAKE,
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("fake_gd [step=0.05] t=6 (mean of 2): subopt=")
    assert out[1].startswith("fake_gd [step=0.1] t=6 (mean of 2): subopt=")
    rows = ResultStore(tmp_path).rows()
    assert {r["problem"] for r in rows} == {"quadratic:d=3,kappa=4"}
    assert {r["replicate"] for r in rows} == {0, 1} and {r["seed"] for r in rows} == {1}
    assert max(r["iteration"] for r in rows) == 6 and len(rows) == 2 * 7 * 2


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["verify", "-j", "0"], "positive integer"),
        (["verify", "-j", "two"], "positive integer"),
        (["verify", "--theorem", "fake.gd", "--scheduler", "localhost", *FAKE], "scheduler"),
        (["verify", "--import", "no_such_module_xyz"], "no_such_module_xyz"),
        (["run", "no_such_algorithm", *FAKE], "unknown algorithm"),
        (["run", "fake_gd", "--grid", "step", *FAKE], "key=v1,v2"),
        (["run", "fake_gd", "--grid", "step=1", "--grid", "step=2", *FAKE], "given twice"),
        (["run", "fake_gd", "--problem", "cubic:d=3", *FAKE], "unknown problem"),
        (["run", "fake_gd", "--problem", "quadratic:d=3,zeta=1", *FAKE], "unknown options"),
        (["run", "fake_gd", "--problem", "quadratic:d=", *FAKE], "key=value"),
        (["run", "fake_gd", "--replicates", "0", *FAKE], "--replicates"),
        (["run", "fake_gd", "--iters", "-1", *FAKE], "--iters"),
        (["report", "--jobs", "-3"], "positive integer"),
        (["list", "no_such_section"], "unknown section"),
        (["verify", "--theorem", "no.such.theorem"], "unknown theorem id"),
        (["verify", "--family", "no_such_family"], "unknown family"),
        (["falsify", "no.such.theorem"], "unknown theorem id"),
        (["falsify", "fake.gd", "--import", "no_such_module_xyz"], "--import no_such_module_xyz"),
        (["list", "--import", "no_such_module_xyz"], "--import no_such_module_xyz"),
        (["run", "fake_gd", "--grid", "rng=1,2", *FAKE], "must not sweep 'rng'"),
        (["bench", "--compare", "--only", "no_such_key"], "--only"),
        (["bench", "--compare", "--threads", "0"], "positive integer"),
        (["clean"], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, fake_family, argv, match):
    one_line_error(capsys, argv, match)


def test_report_of_one_family(tmp_path, capsys, fake_family):
    argv = ["report", "--quick", "--family", "fake", "--output", str(tmp_path), *FAKE]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"report written to {tmp_path}" in out
    assert "FAIL fake.bad on any: violated" in out
    table = (tmp_path / "theorems.md").read_text()
    assert "| fake.gd |" in table and "| fake.bad |" in table
    one_line_error(capsys, ["report", "--family", "no_such_family"], "unknown family")


def one_line_failure(capsys, argv, *matches, code=3):
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    failures = [line for line in err if line.startswith("mastbench")]
    assert len(failures) == 1 and "Traceback" not in "\n".join(err), err
    for match in matches:
        assert match in failures[0], failures[0]


def must_not_compute(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("computing started before the output folder was checked")

    monkeypatch.setattr("mastbench.sweep.run_jobs", refuse)
    monkeypatch.setattr("mastbench.report.build_report", refuse)


@pytest.mark.parametrize("command", ["verify", "run", "report"])
def test_an_output_folder_that_cannot_be_made_is_exit_3_before_computing(
    tmp_path, capsys, monkeypatch, fake_family, command
):
    (tmp_path / "a_file").write_text("")
    target = str(tmp_path / "a_file" / "store")
    option = "--output" if command == "report" else "--results"
    argv = {"verify": ["verify", "--theorem", "fake.gd"], "run": ["run", "fake_gd"]}.get(
        command, ["report", "--quick", "--family", "fake"]
    )
    must_not_compute(monkeypatch)
    one_line_failure(capsys, [*argv, option, target, *FAKE], option, target)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_results_folder_is_exit_3_before_computing(
    tmp_path, capsys, monkeypatch, fake_family
):
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o500)
    must_not_compute(monkeypatch)
    one_line_failure(
        capsys, ["verify", "--theorem", "fake.gd", "--results", str(store), *FAKE], str(store)
    )


def test_a_full_disk_is_one_line_and_exit_3(tmp_path, capsys, monkeypatch, fake_family):
    from mastbench import results

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results.os, "fsync", full)
    argv = ["verify", "--theorem", "fake.gd", "--results", str(tmp_path / "store"), *FAKE]
    one_line_failure(capsys, argv, "No space left on device", str(tmp_path / "store" / "runs"))


def test_an_unreachable_scheduler_fails_fast_with_exit_3(capsys, monkeypatch, fake_family):
    pytest.importorskip("distributed")
    pytest.importorskip("joblib")
    monkeypatch.setattr("mastbench.sweep.SCHEDULER_TIMEOUT", 1.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    start = time.monotonic()
    one_line_failure(
        capsys,
        ["verify", "--theorem", "fake.gd", "--scheduler", address, *FAKE],
        address,
        "no Dask scheduler answered",
    )
    assert time.monotonic() - start < 20


def test_a_bug_is_an_internal_error_with_its_traceback_under_debug(capsys, monkeypatch):
    def broken():
        raise TypeError("a bug, not bad input")

    monkeypatch.setattr("mastbench.catalogue.sections", broken)
    one_line_failure(capsys, ["list"], "internal error: TypeError: a bug, not bad input", "--debug")
    assert main(["list", "--debug"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "a bug, not bad input" in err


def test_clean_empties_a_store_and_refuses_other_folders(tmp_path, capsys, fake_family):
    store = tmp_path / "store"
    (store / "runs").mkdir(parents=True)
    (store / "notes.csv").write_text("mine")
    assert main(["verify", "--theorem", "fake.mc", "--results", str(store), *FAKE]) == 0
    capsys.readouterr()
    assert main(["clean", str(store)]) == 0
    assert capsys.readouterr().out.strip() == f"removed 3 files from {store}"
    assert ResultStore(store).keys() == [] and (store / "notes.csv").read_text() == "mine"
    one_line_error(capsys, ["clean", str(tmp_path)], "not a results store")


MASTBENCH = Path(sys.executable).with_name("mastbench")

PLUGIN = """
import numpy as np

from mastbench import theory
from mastbench.theory import FieldBag, Measurement, Theorem

SCALE = {scale}


def measurement(instance, params):
    t = np.arange(1, 5)
    return Measurement(t, 1 / t)


theory.register(
    Theorem(
        id="plugin.claim",
        paper="a user's own",
        label="Plugin claim",
        tag="U",
        statement="1/t <= SCALE/t",
        algorithm=None,
        measure="1/t",
        method="exact",
        measurement=measurement,
        bound=lambda instance, params, t: SCALE / t,
        instances=lambda quick: [FieldBag("any")],
    )
)
"""


def mastbench_in(folder, *argv):
    """The installed console script, run in ``folder`` without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(MASTBENCH), *argv], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(not MASTBENCH.is_file(), reason="the mastbench console script is not installed")
def test_a_changed_plugin_is_recomputed_in_the_same_store(tmp_path):
    plugin = tmp_path / "my_theorems.py"
    plugin.write_text(PLUGIN.format(scale=2.0))
    argv = ["verify", "--theorem", "plugin.claim", "--results", "store", "--import", "my_theorems"]
    first = mastbench_in(tmp_path, *argv)
    assert first.returncode == 0, first.stderr
    assert "reused 0 stored results, computed 1" in first.stderr
    again = mastbench_in(tmp_path, *argv)
    assert again.returncode == 0 and "reused 1 stored results, computed 0" in again.stderr
    plugin.write_text(PLUGIN.format(scale=0.5))
    changed = mastbench_in(tmp_path, *argv)
    assert changed.returncode == 1, changed.stderr
    assert "reused 0 stored results, computed 1" in changed.stderr
    assert "[FAIL] plugin.claim on any: violated" in changed.stdout
    listed = mastbench_in(tmp_path, "list", "theorems", "--import", "my_theorems")
    assert listed.returncode == 0 and "plugin.claim" in listed.stdout


@pytest.mark.skipif(not MASTBENCH.is_file(), reason="the mastbench console script is not installed")
def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with subprocess.Popen(
        [str(MASTBENCH), "list"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        process.stdout.close()
        err = process.stderr.read().decode()
        process.wait(timeout=120)
    assert err == "" and process.returncode == 141


def test_a_plugin_that_fails_to_import_is_not_a_usage_error(tmp_path, capsys, monkeypatch):
    (tmp_path / "plugin_needing_more.py").write_text("import no_such_dependency_abc\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    one_line_failure(
        capsys,
        ["list", "--import", "plugin_needing_more"],
        "internal error: ModuleNotFoundError",
        "no_such_dependency_abc",
    )


def test_verify_recomputes_after_an_uncommitted_edit_of_the_package(
    tmp_path, capsys, monkeypatch, fake_family
):
    from mastbench import provenance

    source = tmp_path / "src" / "mastbench"
    source.mkdir(parents=True)
    theorem_code = source / "verify.py"
    theorem_code.write_text((provenance.source_roots()[0] / "verify.py").read_text())
    monkeypatch.setattr(provenance, "source_roots", lambda: [source])
    argv = ["verify", "--theorem", "fake.gd", "--quick", "--results", str(tmp_path / "s"), *FAKE]
    try:
        provenance.package_hash.cache_clear()
        assert main(argv) == 0
        assert main(argv) == 0
        assert "reused 5 stored results, computed 0" in capsys.readouterr().err
        theorem_code.write_text(theorem_code.read_text() + "\n# an uncommitted edit\n")
        provenance.package_hash.cache_clear()
        assert main(argv) == 0
        assert "reused 0 stored results, computed 5" in capsys.readouterr().err
    finally:
        provenance.package_hash.cache_clear()
