"""BLAS thread limits (mastbench.threads)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from mastbench import jobs, threads


def _fresh_python(script: str) -> str:
    """stdout of ``script`` in a fresh interpreter without the suite's one-thread variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    env["OPENBLAS_NUM_THREADS"] = "2"  # a multi-threaded default, also on a one-core machine
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.split()


def test_one_blas_thread_limits_numpys_and_scipys_blas_for_the_process():
    out = _fresh_python(
        """
        import numpy
        from mastbench.threads import blas_threads, one_blas_thread
        print(blas_threads())
        one_blas_thread()
        import scipy.linalg
        from threadpoolctl import threadpool_info
        print(sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}))
        """
    )
    assert out[0] == "2"
    assert out[1] == "[1]"


def test_limited_blas_sets_the_thread_count_inside_the_block_only():
    before = threads.blas_threads()
    inside = 2 if before == 1 else 1
    with threads.limited_blas(inside):
        assert threads.blas_threads() == inside
    assert threads.blas_threads() == before


def test_every_job_runs_with_one_blas_thread(monkeypatch):
    calls = []
    monkeypatch.setattr(jobs, "one_blas_thread", lambda: calls.append(1))
    monkeypatch.setattr(jobs, "_EXECUTORS", {"verify": lambda job: []})
    jobs.execute({"kind": "verify"})
    assert calls == [1]


@pytest.mark.parametrize("bad", [0, 1.5, "2", True])
def test_limited_blas_rejects_a_thread_count_that_is_not_a_positive_int(bad):
    with pytest.raises((TypeError, ValueError), match="threads"):
        with threads.limited_blas(bad):
            pass
