"""Fixtures of the exact-engine tests: the compiled loops forced on at every size."""

from __future__ import annotations

import pytest

from mastbench.exact import numba_kernel


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled loops, used by :func:`~mastbench.exact.moment_maps.propagate` at every
    size (skips without numba or with its JIT disabled)."""
    pytest.importorskip("numba")
    if not numba_kernel.available():
        pytest.skip("numba's JIT is disabled")
    monkeypatch.setattr(numba_kernel, "MIN_WORK", 0.0)
