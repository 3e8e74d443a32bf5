"""Validity of the asv suite in ``benchmarks/`` (never its timings).

``asv check`` validates the suite as asv sees it; the smoke test imports every benchmark
module at tiny sizes and runs each benchmark's ``setup_cache``/``setup`` and one call on the
NumPy backend, so a benchmark broken by an API change fails here and not in a nightly run;
one benchmark also goes through ``mastbench bench run`` (asv itself, as a dry run).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("asv")

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = ("time_", "peakmem_", "track_", "mem_", "timeraw_")


def _asv_executable() -> str:
    beside = Path(sys.executable).with_name("asv")
    return str(beside) if beside.exists() else "asv"


def test_asv_check_finds_no_problems():
    result = subprocess.run(
        [_asv_executable(), "check", "--python=same"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No problems found" in result.stdout


def _benchmark_modules(monkeypatch) -> list:
    monkeypatch.setenv("MASTBENCH_BENCH_SIZE", "tiny")
    import benchmarks

    names = [
        f"benchmarks.{info.name}"
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name != "common"
    ]
    for name in [*names, "benchmarks.common"]:
        sys.modules.pop(name, None)
    return [importlib.import_module(name) for name in names]


def _benchmark_classes(modules: list) -> list[type]:
    classes = []
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            if any(name.startswith(PREFIXES) for name in dir(cls)):
                classes.append(cls)
    return classes


def _numpy_parameters(cls: type) -> list[tuple]:
    params = getattr(cls, "params", ())
    names = getattr(cls, "param_names", ())
    if not params:
        return [()]
    if names and names[0] == "backend":
        params = (["numpy"], *params[1:])
    return list(itertools.product(*params))


def test_suite_has_benchmarks_of_every_kind(monkeypatch):
    classes = _benchmark_classes(_benchmark_modules(monkeypatch))
    methods = {name for cls in classes for name in dir(cls) if name.startswith(PREFIXES)}
    for prefix in ("time_", "peakmem_", "track_"):
        assert any(m.startswith(prefix) for m in methods), f"no {prefix}* benchmark"


def test_every_benchmark_runs_once_on_numpy_at_tiny_size(monkeypatch):
    classes = _benchmark_classes(_benchmark_modules(monkeypatch))
    assert classes
    ran = 0
    for cls in classes:
        instance = cls()
        cache = (instance.setup_cache(),) if hasattr(cls, "setup_cache") else ()
        methods = sorted(name for name in dir(cls) if name.startswith(PREFIXES))
        for combo in _numpy_parameters(cls):
            args = (*cache, *combo)
            try:
                instance.setup(*args)
            except NotImplementedError:
                continue
            for name in methods:
                result = getattr(instance, name)(*args)
                if name.startswith("track_"):
                    assert isinstance(result, int | float), f"{cls.__name__}.{name}"
                    assert result == result, f"{cls.__name__}.{name} returned NaN"
                ran += 1
            if hasattr(instance, "teardown"):
                instance.teardown(*args)
    assert ran > 0
    assert os.environ["MASTBENCH_BENCH_SIZE"] == "tiny"


def test_mastbench_bench_runs_a_benchmark_through_asv(tmp_path):
    """``mastbench bench run`` end to end (asv discovery, setup_cache, params, timing)."""
    env = {**os.environ, "HOME": str(tmp_path), "MASTBENCH_BENCH_SIZE": "tiny"}
    command = [sys.executable, "-m", "mastbench", "bench", "run", "--"]
    result = subprocess.run(
        [*command, "--bench", "LogisticGradDesign", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "LogisticGradDesign.time_grad" in output and "failed" not in output
    assert (tmp_path / ".asv-machine.json").is_file()  # machine info set non-interactively


def test_bench_backends_come_from_the_environment(monkeypatch):
    from benchmarks.common import selected_backends
    from mastbench.backend import BACKENDS

    monkeypatch.delenv("MASTBENCH_BENCH_BACKENDS", raising=False)
    assert selected_backends() == BACKENDS
    monkeypatch.setenv("MASTBENCH_BENCH_BACKENDS", " cupy, torch ")
    assert selected_backends() == ("cupy", "torch")
    monkeypatch.setenv("MASTBENCH_BENCH_BACKENDS", "cupy,jax")
    with pytest.raises(ValueError, match=r"unknown backends \['jax'\]"):
        selected_backends()


@pytest.mark.slow  # asv check again (test_asv_check_finds_no_problems runs it by default)
def test_gpu_check_dry_run_writes_a_summary(tmp_path):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu-check.sh"
    result = subprocess.run(
        ["bash", str(script), "--dry-run", "--no-install", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHON": sys.executable},
    )
    summary = (tmp_path / "summary.txt").read_text()
    assert result.returncode == 0, summary + result.stderr
    assert "[dry run] gpu-tests:" in summary and "-m gpu" in summary
    assert "asv check (NumPy backend): ok" in summary
    assert summary.rstrip().endswith("result: all steps passed")
    usage = subprocess.run(["bash", str(script), "--bogus"], capture_output=True, text=True)
    assert usage.returncode == 2 and "unknown argument" in usage.stderr
