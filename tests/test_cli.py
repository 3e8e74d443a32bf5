"""The command line: verify/run/report sweeps, the results store, one-line errors (exit 2)."""

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
    out = capsys.readouterr().out
    assert "[  ok] fake.gd on diag-2: holds" in out
    assert "[ n/a] fake.gd on singular: not applicable — A ≻ 0" in out
    assert "[  ok] fake.gd control 'bound x 0.5': detected" in out
    assert out.rstrip().endswith("3 checks and 2 negative controls on 1 theorems; 0 failed")
    store = ResultStore(tmp_path)
    assert len(store.keys()) == 5 and store.find("results") is None
    assert (tmp_path / f"results.{store.fmt}").is_file()
    assert main(argv) == 0
    assert capsys.readouterr().out == out


def test_verify_exits_1_on_violation(capsys, fake_family):
    assert main(["verify", "--theorem", "fake.bad", *FAKE]) == 1
    assert "[FAIL] fake.bad on any: violated" in capsys.readouterr().out


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
