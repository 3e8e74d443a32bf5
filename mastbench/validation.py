"""Checks of user input at the boundary, each raising a clear error that names the argument.

Every public constructor and algorithm entry point validates with these helpers, so bad input
fails at once with ``ValueError``/``TypeError`` saying what was expected, never deep inside a
computation.  Nothing is coerced silently.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mastbench.backend import Generator, array_namespace, to_numpy

__all__ = [
    "UsageError",
    "check_checkpoints",
    "check_finite",
    "check_generator",
    "check_in_range",
    "check_int",
    "check_matrix",
    "check_matrix_shape",
    "check_positive",
    "check_probability",
    "check_psd",
    "check_real",
    "check_real_floating",
    "check_same_length",
    "check_symmetric",
    "check_vector",
    "host_array",
    "host_real",
]


class UsageError(ValueError):
    """Bad user input at the command line or another user-facing boundary.

    The message names the argument and what was expected.  ``mastbench`` turns this error,
    and only this one, into a one-line message with exit status 2; any other exception is a
    bug or an I/O failure (exit status 3).
    """


def check_generator(name: str, value: Any) -> Generator:
    """Check that ``value`` is a :class:`mastbench.backend.Generator` (the explicit RNG)."""
    if not isinstance(value, Generator):
        raise TypeError(
            f"{name} must be a mastbench.backend.Generator (from mastbench.backend.rng), "
            f"got {type(value).__name__}"
        )
    return value


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a finite ``float`` (any sign)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(name: str, value: Any, *, strict: bool = True) -> float:
    """Return ``value`` as a finite ``float`` that is > 0 (or >= 0 when ``strict=False``)."""
    value = check_real(name, value)
    if strict and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not strict and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_in_range(
    name: str, value: Any, low: float, high: float, *, low_open: bool, high_open: bool
) -> float:
    """Return ``value`` as a float after checking it lies in the stated interval."""
    value = check_positive(name, value, strict=False) if low >= 0 else float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in {left}{low:g}, {high:g}{right}, got {value}")
    return value


def host_real(name: str, x: Any) -> np.ndarray:
    """``x`` as a float64 NumPy array, refusing complex or non-numeric entries by name."""
    arr = np.asarray(to_numpy(x))
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(float)


def check_probability(name: str, p: Any) -> np.ndarray:
    """Check that every entry of ``p`` lies in (0, 1]; return it as a float64 NumPy array."""
    arr = host_real(name, p)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr}")
    if np.any(arr <= 0) or np.any(arr > 1):
        raise ValueError(f"{name} must lie in (0, 1], got {arr}")
    return arr


def check_finite(name: str, x: Any) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or infinity."""
    if not np.all(np.isfinite(to_numpy(x))):
        raise ValueError(f"{name} must not contain NaN or infinity")


def check_vector(name: str, x: Any, d: int | None = None) -> None:
    """Check that ``x`` is a finite 1-D array (of length ``d`` when given)."""
    shape = tuple(x.shape)
    if len(shape) != 1:
        raise ValueError(f"{name} must be 1-D, got shape {shape}")
    if d is not None and shape[0] != d:
        raise ValueError(f"{name} must have length {d}, got {shape[0]}")
    check_finite(name, x)


def check_matrix(name: str, a: Any, *, square: bool = False) -> None:
    """Check that ``a`` is a finite 2-D array (square when asked)."""
    shape = tuple(a.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D, got shape {shape}")
    if square and shape[0] != shape[1]:
        raise ValueError(f"{name} must be square, got shape {shape}")
    check_finite(name, a)


def check_symmetric(name: str, a: Any, *, rtol: float = 1e-10) -> None:
    """Check that ``a`` is square and symmetric up to ``rtol`` of its largest entry."""
    check_matrix(name, a, square=True)
    host = to_numpy(a)
    scale = max(float(np.max(np.abs(host))), 1.0) if host.size else 1.0
    if not np.allclose(host, host.T, rtol=0.0, atol=rtol * scale):
        asymmetry = float(np.max(np.abs(host - host.T)))
        raise ValueError(f"{name} must be symmetric (max |A - Aᵀ| = {asymmetry:.3g})")


def check_psd(name: str, a: Any, *, rtol: float = 1e-10) -> np.ndarray:
    """Check that ``a`` is symmetric positive semidefinite; return its eigenvalues (ascending).

    Eigenvalues above ``-rtol * max|eig|`` count as nonnegative (round-off of a PSD matrix).
    """
    check_symmetric(name, a)
    eig = np.linalg.eigvalsh(to_numpy(a))
    scale = max(float(np.max(np.abs(eig))), 1.0) if eig.size else 1.0
    if eig.size and eig[0] < -rtol * scale:
        raise ValueError(
            f"{name} must be positive semidefinite, got smallest eigenvalue {eig[0]:.3e}"
        )
    return eig


def check_same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Check that ``a`` and ``b`` have the same number of rows (samples)."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of rows, "
            f"got {a.shape[0]} and {b.shape[0]}"
        )


def host_array(name: str, x: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as a float64 NumPy array on the host, checked to have ``shape`` and finite entries.

    For host-side exact computations (moments, constants) that accept arrays of any backend.
    """
    arr = host_real(name, x)
    if arr.shape != tuple(shape):
        expected = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or infinity")
    return arr


def check_checkpoints(checkpoints: Any, iters: int) -> np.ndarray:
    """Sorted unique int64 iterations in [0, iters] from a 1-D sequence of integers.

    Integral floats (from ``np.linspace``) are accepted; 1.5, a 2-D list or an empty one are
    not (they used to be truncated or flattened silently).
    """
    values = checkpoints if hasattr(checkpoints, "shape") else list(checkpoints)
    try:
        arr = np.asarray(values)
    except ValueError as exc:
        raise ValueError(f"checkpoints must be a 1-D sequence of iterations ({exc})") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"checkpoints must be a non-empty 1-D sequence, got shape {arr.shape}")
    integral = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.floating) and bool(np.all(arr == np.round(arr)))
    )
    if arr.dtype == np.bool_ or not integral:
        raise TypeError(f"checkpoints must be integers, got {values!r}")
    arr = np.unique(arr.astype(np.int64))
    if arr[0] < 0 or arr[-1] > iters:
        raise ValueError(
            f"checkpoints must be iterations within [0, iters={iters}], got {values!r}"
        )
    return arr


def check_real_floating(name: str, x: Any) -> None:
    """Raise ``TypeError`` unless the array ``x`` has a real floating dtype (any namespace)."""
    if not array_namespace(x).isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must be real floating point, got dtype {x.dtype}")


def check_matrix_shape(name: str, shape: Any) -> tuple[int, int]:
    """``shape`` as a pair (m, n) of positive integers."""
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        raise ValueError(f"{name} must be (m, n), got {shape!r}")
    return check_int(f"{name}[0]", shape[0], low=1), check_int(f"{name}[1]", shape[1], low=1)
