"""Testing utilities: the backends a test suite runs on (as ``numpy.testing`` for NumPy).

``backends()`` lists NumPy, array_api_strict on its default device and on ``device1`` (which
catches silent conversions to NumPy and device mixing), and CuPy when a GPU is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastbench import backend

__all__ = ["Backend", "backends"]


@dataclass(frozen=True)
class Backend:
    """A namespace and device under test.

    Attributes
    ----------
    name : str
        Short name used as the test id.
    xp : namespace
        The array namespace.
    device : optional
        The device arrays are created on (``None``: the namespace's default).
    """

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


def backends(*, gpu: bool = True) -> list[Backend]:
    """The backends available here: NumPy, array_api_strict (default device and device1),
    and CuPy when ``gpu`` and a GPU is visible."""
    found = [Backend("numpy", backend.namespace("numpy"))]
    try:
        import array_api_strict as strict
    except ImportError:
        strict = None
    if strict is not None:
        found.append(Backend("strict", strict))
        found.append(Backend("strict-device1", strict, strict.Device("device1")))
    if gpu and "cupy" in backend.available():
        found.append(Backend("cupy", backend.namespace("cupy")))
    return found
