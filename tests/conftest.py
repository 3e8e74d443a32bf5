"""Shared fixtures: the ``xp`` backend fixture and hypothesis profiles.

``xp`` runs a test on NumPy, on array_api_strict's default device and on its ``device1``
(which catches silent conversions to NumPy), and on CuPy when a GPU is visible.  Tests get a
``Backend`` with the namespace, the device and a ``rng`` factory on that device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from mastbench import backend

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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

_SHARED_LIBSVM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "libsvm"
if "MASTBENCH_DATA" not in os.environ and _SHARED_LIBSVM.is_dir():
    os.environ["MASTBENCH_DATA"] = str(_SHARED_LIBSVM)


@dataclass(frozen=True)
class Backend:
    """A namespace and device under test."""

    name: str
    xp: Any
    device: Any = None

    def rng(self, seed: int = 0) -> backend.Generator:
        """A generator producing arrays of this backend on its device."""
        return backend.rng(seed, self.xp, self.device)

    def asarray(self, x: Any, **kwargs: Any) -> Any:
        """``xp.asarray`` on this backend's device."""
        if self.device is None:
            return self.xp.asarray(x, **kwargs)
        return self.xp.asarray(x, device=self.device, **kwargs)

    def __repr__(self) -> str:
        return self.name


def _backends() -> list[Any]:
    params = [pytest.param(Backend("numpy", backend.namespace("numpy")), id="numpy")]
    try:
        import array_api_strict as strict

        params.append(pytest.param(Backend("strict", strict), id="strict"))
        params.append(
            pytest.param(
                Backend("strict-device1", strict, strict.Device("device1")), id="strict-device1"
            )
        )
    except ImportError:
        pass
    if "cupy" in backend.available():
        params.append(
            pytest.param(
                Backend("cupy", backend.namespace("cupy")), id="cupy", marks=pytest.mark.gpu
            )
        )
    return params


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
