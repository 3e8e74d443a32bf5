"""Shared fixtures: the ``xp`` backend fixture and hypothesis profiles.

``xp`` runs a test on NumPy, on array_api_strict's default device and on its ``device1``
(which catches silent conversions to NumPy), and on CuPy when a GPU is visible.  Tests get a
``Backend`` with the namespace, the device and a ``rng`` factory on that device.

BLAS runs on one thread during the tests (unless ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``
or ``MKL_NUM_THREADS`` is set): the tests multiply small matrices, where threads only add
synchronization, and on a shared or oversubscribed machine the spinning threads of OpenBLAS
multiplied the suite's CPU time several times over.  :mod:`threadpoolctl` limits the
libraries loaded now (NumPy's), the variables those loaded later (SciPy's own OpenBLAS, PyTorch)
and subprocesses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from mastbench.testing import Backend, backends

_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
if not any(os.environ.get(name) for name in _BLAS_THREAD_VARIABLES):
    from threadpoolctl import threadpool_limits

    os.environ.update(dict.fromkeys(_BLAS_THREAD_VARIABLES, "1"))
    threadpool_limits(limits=1)

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_SHARED_LIBSVM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "libsvm"
if "MASTBENCH_DATA" not in os.environ and _SHARED_LIBSVM.is_dir():
    os.environ["MASTBENCH_DATA"] = str(_SHARED_LIBSVM)


#: Tests moved to the slow tier (``-m slow``) by node id (the part before any ``[...]``), with
#: what keeps their assertions covered in the default tier.  Kept here, not as decorators, so
#: that the tier policy of the whole suite is in one place.
SLOW_TIER: dict[str, str] = {
    **dict.fromkeys(
        (
            "tests/reproductions/test_mast.py::test_a5a_contract_and_boxes",
            "tests/reproductions/test_mast.py::test_a5a_theory_step",
            "tests/reproductions/test_mast.py::test_a5a_dense_erm_accuracy_is_the_direct_one",
            "tests/reproductions/test_mast.py::test_a5a_mast_is_more_robust_at_high_sparsity",
        ),
        "reproduce(quick=True) on a5a; the same contract and boxes are checked by default on "
        "the breast_cancer fallback (test_fallback_to_breast_cancer)",
    ),
    "tests/test_benchmarks.py::test_mastbench_bench_runs_a_benchmark_through_asv": (
        "asv end to end in a subprocess; by default the wrapper's commands are checked with a "
        "fake asv (tests/test_bench.py) and the suite by asv check and the tiny-size smoke test"
    ),
    "tests/theory/test_ramda.py::test_holds_on_quick_instances": (
        "the same verdicts: tests/theory/test_catalogue.py::"
        "test_theorem_holds_on_its_quick_instances"
    ),
    "tests/theory/test_ramda.py::test_controls_detected": (
        "the same verdicts: tests/theory/test_catalogue.py::test_every_negative_control_is_detected"
    ),
    "tests/theory/test_seqattn.py::test_holds_on_quick_instances": (
        "the same verdicts: tests/theory/test_catalogue.py::"
        "test_theorem_holds_on_its_quick_instances"
    ),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of :data:`SLOW_TIER` slow (before ``-m`` deselects them)."""
    for item in items:
        if item.nodeid.split("[", 1)[0] in SLOW_TIER:
            item.add_marker(pytest.mark.slow)


def _backends() -> list[Any]:
    return [
        pytest.param(b, id=b.name, marks=[pytest.mark.gpu] if b.name == "cupy" else [])
        for b in backends()
    ]


@pytest.fixture(params=_backends())
def xp(request: pytest.FixtureRequest) -> Backend:
    """Every available backend (NumPy, array_api_strict and its device1, CuPy with a GPU)."""
    return request.param


@pytest.fixture
def libsvm_dir() -> Path:
    """The LIBSVM data directory; skips the test when the data sets are absent."""
    path = os.environ.get("MASTBENCH_DATA")
    if not path or not Path(path).is_dir():
        pytest.skip("LIBSVM data sets not available (set MASTBENCH_DATA)")
    return Path(path)


@pytest.fixture
def fake_family():
    """The fake algorithm and theorems of ``tests/fake_family.py``, registered for one test."""
    import importlib

    module = importlib.import_module("tests.fake_family")
    module.register()
    yield module
    module.unregister()
