"""``mastbench.bench``: the asv wrapper, the comparison table and its JSON file.

No timing is asserted here: the comparison functions are replaced by fakes where a table is
needed, and the one real measurement helper checked (the PyTorch loop) is checked for what
it computes, not how fast.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mastbench import _anchors, _compare, bench
from mastbench.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _fake_asv(tmp_path):
    log = tmp_path / "calls.txt"
    script = tmp_path / "asv"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), log


@pytest.mark.parametrize(
    ("action", "quick", "expected"),
    [
        ("run", True, "run --python=same --quick"),
        ("run", False, "run --python=same"),
        ("check", True, "check --python=same"),
        ("continuous", True, "continuous main HEAD --quick"),
        ("publish", True, "publish"),
        ("preview", True, "preview"),
    ],
)
def test_run_asv_records_machine_then_runs_the_action(tmp_path, action, quick, expected, capsys):
    exe, log = _fake_asv(tmp_path)
    assert bench.run_asv(action, quick=quick, asv=exe, cwd=tmp_path) == 0
    assert log.read_text().splitlines() == ["machine --yes", expected]
    warned = "is not a git checkout; asv will not save these results" in capsys.readouterr().err
    assert warned == (action == "run")


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git_repository(folder):
    folder.mkdir(exist_ok=True)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(
            ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=folder, check=True
        )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()


@needs_git
def test_run_asv_saves_results_under_the_checked_out_commit(tmp_path):
    exe, log = _fake_asv(tmp_path)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "asv.conf.json").write_text("{}")
    head = _git_repository(tmp_path / "repo")
    bench.run_asv("run", asv=exe, cwd=tmp_path / "repo")
    assert log.read_text().splitlines()[-1] == f"run --python=same --quick --set-commit-hash {head}"


@needs_git
def test_a_bench_run_leaves_a_result_file(tmp_path, monkeypatch):
    pytest.importorskip("asv")
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "benchmarks", repo / "benchmarks", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "asv.conf.json", repo)
    head = _git_repository(repo)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MASTBENCH_BENCH_SIZE", "tiny")
    status = bench.run_asv("run", cwd=repo, extra=["--bench", "LogisticGradDesign.time_grad"])
    assert status == 0
    saved = list((repo / ".asv" / "results").glob(f"*/{head[:8]}-*.json"))
    assert len(saved) == 1, list((repo / ".asv").rglob("*"))
    recorded = json.loads(saved[0].read_text())
    assert recorded["commit_hash"] == head
    assert any(name.endswith("LogisticGradDesign.time_grad") for name in recorded["results"])


def test_run_asv_passes_extra_arguments(tmp_path):
    exe, log = _fake_asv(tmp_path)
    bench.run_asv("run", asv=exe, cwd=tmp_path, extra=["--bench", "DSGDStep"])
    assert log.read_text().splitlines()[-1] == "run --python=same --quick --bench DSGDStep"


def test_run_asv_rejects_unknown_action():
    with pytest.raises(ValueError, match="action must be one of"):
        bench.run_asv("profile")


def test_compare_rejects_unknown_key():
    with pytest.raises(ValueError, match="only: unknown comparison"):
        bench.compare(only=["nope"])


@pytest.mark.parametrize(
    ("value", "goal", "met"),
    [(20.0, ">= 20", True), (19.9, ">= 20", False), (3.0, "<= 3", True), (3.1, "<= 3", False)],
)
def test_goal_is_met_exactly_at_the_threshold(value, goal, met):
    assert bench._row("r", value, "x", goal, "").met is met


def _fake_comparisons(monkeypatch):
    def measured(quick):
        return [bench._row("fast path", 25.0 if quick else 30.0, "x", ">= 20", "t")]

    def missing(quick):
        raise bench.Skip("PyTorch is not installed")

    monkeypatch.setattr(
        _compare,
        "COMPARISONS",
        {"fast": ([("fast path", ">= 20")], measured), "gone": ([("gone", ">= 10")], missing)},
    )


def test_compare_turns_skips_into_unmeasured_rows(monkeypatch):
    _fake_comparisons(monkeypatch)
    rows = bench.compare(quick=True)
    assert [(r.name, r.value, r.met) for r in rows] == [
        ("fast path", 25.0, True),
        ("gone", None, None),
    ]
    assert rows[1].detail == "skipped: PyTorch is not installed"
    assert [r.name for r in bench.compare(only=["gone"])] == ["gone"]


def test_markdown_has_one_line_per_row(monkeypatch):
    _fake_comparisons(monkeypatch)
    table = bench.markdown(bench.compare()).splitlines()
    assert table[0].startswith("| comparison |")
    assert len(table) == 4
    assert "30 x" in table[2] and "yes" in table[2]
    assert "skipped" in table[3]


def test_cli_compare_writes_the_json_schema(monkeypatch, tmp_path, capsys):
    _fake_comparisons(monkeypatch)
    out = tmp_path / "reports" / "performance.json"
    assert main(["bench", "--compare", "--quick", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert set(payload) == {"stamp", "rows"}
    assert payload["stamp"]["command"] == "mastbench bench --compare --quick"
    assert {"date", "commit", "numpy", "numba", "python"} <= set(payload["stamp"])
    for row in payload["rows"]:
        assert set(row) == {"name", "value", "unit", "goal", "met", "detail"}
    assert "| fast path |" in capsys.readouterr().out


def test_cli_compare_exits_1_when_a_goal_is_missed(monkeypatch, tmp_path):
    monkeypatch.setattr(
        _compare,
        "COMPARISONS",
        {"slow": ([("slow", ">= 20")], lambda q: [bench._row("slow", 2.0, "x", ">= 20", "")])},
    )
    assert main(["bench", "--compare", "--json", str(tmp_path / "p.json")]) == 1
    # --quick measures at small sizes, where the goals do not apply: not judged
    assert main(["bench", "--compare", "--quick", "--json", str(tmp_path / "q.json")]) == 0


def test_cli_bench_rejects_unknown_action(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "profile"])
    assert "invalid choice" in capsys.readouterr().err


def test_dense_quadratic_data_is_spd_and_reproducible():
    A, b = bench.dense_quadratic_data(20, seed=3)
    A2, b2 = bench.dense_quadratic_data(20, seed=3)
    assert np.array_equal(A, A2) and np.array_equal(b, b2)
    assert np.allclose(A, A.T)
    assert np.linalg.eigvalsh(A)[0] >= 1.0 - 1e-12


def test_torch_loop_with_p_one_is_gradient_descent():
    pytest.importorskip("torch")
    from mastbench.problems import Logistic

    gen = np.random.default_rng(0)
    X = gen.standard_normal((30, 4))
    y = np.where(gen.random(30) < 0.5, -1.0, 1.0)
    problem = Logistic(X, y, 0.1)
    x = np.zeros(4)
    for _ in range(5):
        x = x - 0.3 * problem.grad(x)
    out = _anchors.torch_dsgd_loop(X, y, l2=0.1, p=1.0, step=0.3, iters=5, replicates=2)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out, np.stack([x, x]), rtol=1e-12, atol=1e-14)


def _replay_problem(kind):
    from mastbench.problems import Logistic, Quadratic

    from mastbench.sketches import Bernoulli

    gen = np.random.default_rng(3)
    if kind == "quadratic":
        A, b = bench.dense_quadratic_data(7, seed=2)
        problem, data = Quadratic(A, b), {"A": A, "b": b}
    else:
        X = gen.standard_normal((20, 7))
        y = np.where(gen.random(20) < 0.5, -1.0, 1.0)
        problem, data = Logistic(X, y, 0.1), {"X": X, "y": y, "l2": 0.1}
    sketch = Bernoulli(0.4, 7)
    step = 0.5 / (problem.L * sketch.L_S_max)
    return problem, data, sketch, step


@pytest.mark.parametrize("kind", ["quadratic", "logistic"])
@pytest.mark.parametrize("library", ["torch", "jax"])
def test_anchors_fed_mastbench_masks_reproduce_its_iterates(kind, library):
    pytest.importorskip(library)
    problem, data, sketch, step = _replay_problem(kind)
    start, masks, expected = _compare._replay_case(problem, sketch, step, 6, 3, seed=5)
    assert masks.shape == (6, 3, 7) and not np.allclose(expected, start)
    if library == "torch":
        update = _anchors.torch_update(_anchors.torch_gradient(kind, data), step)
        x = _anchors.torch_dsgd(update, start, p=0.4, iters=6, masks=masks).numpy()
    else:
        import jax

        with jax.enable_x64(True):
            program = _anchors.jax_dsgd(_anchors.jax_gradient(kind, data), step=step, p=0.4)
            x = np.asarray(program["replay"](jax.numpy.asarray(start), jax.numpy.asarray(masks)))
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_anchors_draw_their_own_masks_with_the_same_keep_rate(library):
    pytest.importorskip(library)
    _, data, _, step = _replay_problem("quadratic")
    # f = ½xᵀAx − bᵀx from x = 0, one step: x₁ = γ s ⊙ b, so E[x₁] = γ b (E s = 1)
    R = 4000
    x0 = np.zeros((R, 7))
    if library == "torch":
        update = _anchors.torch_update(_anchors.torch_gradient("quadratic", data), step)
        x = _anchors.torch_dsgd(update, x0, p=0.4, iters=1, seed=1).numpy()
    else:
        import jax

        with jax.enable_x64(True):
            program = _anchors.jax_dsgd(_anchors.jax_gradient("quadratic", data), step=step, p=0.4)
            x = np.asarray(program["run"](jax.numpy.asarray(x0), 1, jax.random.key(1)))
    s = x / (step * data["b"])
    assert set(np.unique(np.round(s, 9))) <= {0.0, 2.5}
    kept = (s > 0).mean(axis=0)
    assert np.all(np.abs(kept - 0.4) < 5 * np.sqrt(0.4 * 0.6 / R))


def test_compare_limits_blas_threads_during_the_run(monkeypatch):
    seen = []

    def measure(quick):
        seen.append(bench.blas_threads())
        return [bench._row("t", 1.0, "x", ">= 1", "")]

    monkeypatch.setattr(_compare, "COMPARISONS", {"t": ([("t", ">= 1")], measure)})
    bench.compare(threads=1)
    assert seen == [1] or seen == [None]


def test_compare_thread_limit_covers_scipys_own_blas_in_a_fresh_process():
    """SciPy's OpenBLAS (the compiled exact-engine loop calls it) is limited as NumPy's is."""
    script = textwrap.dedent(
        """
        from mastbench import _anchors, _compare, bench

        def measure(quick):
            import scipy.linalg  # SciPy's BLAS, first loaded here in this process
            print("threads", bench.blas_threads())
            return [bench._row("t", 1.0, "x", ">= 1", "")]

        _compare.COMPARISONS = {"t": ([("t", ">= 1")], measure)}
        bench.compare(threads=1)
        """
    )
    blas_defaults = {  # the conftest's one-thread variables would make this pass by themselves
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=blas_defaults,
    )
    assert result.returncode == 0, result.stderr
    assert "threads 1" in result.stdout, result.stdout


def test_compare_rejects_bad_thread_count():
    with pytest.raises(ValueError, match="threads"):
        bench.compare(threads=0)


def test_cli_compare_stamps_the_exact_command(monkeypatch, tmp_path):
    _fake_comparisons(monkeypatch)
    out = tmp_path / "p.json"
    main(["bench", "--compare", "--only", "fast", "--threads", "1", "--json", str(out)])
    stamp = json.loads(out.read_text())["stamp"]
    assert stamp["command"] == "mastbench bench --compare --only fast --threads 1"
    assert stamp["threads"] == 1


@pytest.mark.parametrize("key", ["exact", "exact_methods", "memory"])
def test_exact_engine_comparisons_run_on_the_method_api(key):
    rows = bench.compare(quick=True, only=[key])
    assert rows and all(math.isfinite(r.value) for r in rows)
