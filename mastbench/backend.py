"""Array backends: namespaces, devices, host transfer, synchronization, random numbers.

Everything numerical in mastbench takes arrays from any Python array API namespace and
finds that namespace with :func:`array_namespace`.  The random generator is always an
explicit object (:class:`Generator`) passed in by the caller; there is no global state.

NumPy and ``array_api_strict`` draw from the same NumPy bit generator, so a seed gives the
same numbers on both (and on every ``array_api_strict`` device).  CuPy draws on the device
from its own generator; its numbers differ from NumPy's but are equally reproducible.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Sequence
from functools import cache
from typing import Any

import array_api_compat
import array_api_compat.numpy
import numpy as np

__all__ = [
    "BACKENDS",
    "Generator",
    "array_namespace",
    "as_generator",
    "available",
    "device_of",
    "is_numpy",
    "namespace",
    "rng",
    "scatter_add_rows",
    "synchronize",
    "to_numpy",
]

#: Names accepted by :func:`namespace`, in the order tests and benchmarks visit them.
BACKENDS: tuple[str, ...] = ("numpy", "array_api_strict", "cupy", "torch")


def array_namespace(*arrays: Any) -> Any:
    """Return the array API namespace of ``arrays`` (NumPy for Python scalars alone).

    Plain NumPy arrays take a short path (the hot loops of the algorithms ask for the
    namespace of small arrays at every step), one array the shortest.
    """
    if len(arrays) == 1 and type(arrays[0]) is np.ndarray:
        return array_api_compat.numpy
    arrays = tuple(a for a in arrays if a is not None and not isinstance(a, int | float))
    if all(type(a) is np.ndarray for a in arrays):
        return array_api_compat.numpy
    return array_api_compat.array_namespace(*arrays)


def namespace(name: str) -> Any:
    """Return the array API namespace called ``name``.

    Parameters
    ----------
    name : {"numpy", "array_api_strict", "cupy", "torch"}
        The backend.  NumPy, CuPy and torch are returned through ``array_api_compat`` so
        that every namespace follows the standard.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`BACKENDS`.
    ImportError
        If the backend's package is not installed.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend name must be one of {BACKENDS}, got {name!r}")
    if name == "array_api_strict":
        return importlib.import_module("array_api_strict")
    return importlib.import_module(f"array_api_compat.{name}")


@cache
def _works(name: str) -> bool:
    try:
        xp = namespace(name)
    except ImportError:
        return False
    if name == "cupy":
        try:
            import cupy

            return cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:  # no driver, no device: CuPy is unusable here
            return False
    return xp is not None


def available() -> list[str]:
    """Names of the backends that work on this machine (CuPy only with a visible GPU)."""
    return [name for name in BACKENDS if _works(name)]


def is_numpy(xp: Any) -> bool:
    """True when ``xp`` is NumPy (raw or wrapped by array_api_compat)."""
    return array_api_compat.is_numpy_namespace(xp)


def device_of(x: Any) -> Any:
    """The device ``x`` lives on (``None``-safe wrapper of ``array_api_compat.device``)."""
    return array_api_compat.device(x)


def to_numpy(x: Any) -> np.ndarray:
    """An array of any supported backend as a NumPy array on the host.

    NumPy input is returned as it is (no copy): copy before mutating the result.  Arrays of
    other backends are transferred (a new host array).
    """
    if isinstance(x, np.ndarray | np.generic | int | float):
        return np.asarray(x)
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    module = type(x).__module__
    if module.startswith("array_api_strict"):
        import array_api_strict

        cpu = array_api_strict.asarray(x, device=array_api_strict.Device("CPU_DEVICE"), copy=True)
        return np.asarray(cpu._array)
    return np.asarray(x)


def scatter_add_rows(a: Any, idx: Any, values: Any) -> Any:
    """A copy of ``a`` (R, n) with ``a[r, idx[r, j]] += values[r, j]`` for every r, j.

    Indices must be distinct within a row.  NumPy, CuPy and PyTorch use one fancy-indexed
    in-place add, O(R·b); namespaces without integer-array assignment (array_api_strict)
    compare against ``arange(n)``, O(R·b·n) — exact in both cases.

    Parameters
    ----------
    a : array, shape (R, n)
    idx : int array, shape (R, b)
    values : array broadcastable to (R, b)
    """
    xp = array_namespace(a)
    if is_numpy(xp) or array_api_compat.is_cupy_array(a):
        out = a.copy()
        rows = xp.arange(a.shape[0])[:, None]
        out[rows, idx] += values
        return out
    if array_api_compat.is_torch_array(a):
        out = a.clone()
        rows = xp.arange(a.shape[0], device=a.device)[:, None]
        out[rows, idx] += values
        return out
    cols = xp.arange(a.shape[1], dtype=idx.dtype, device=device_of(idx))
    hit = idx[:, :, None] == cols[None, None, :]
    values = xp.broadcast_to(xp.asarray(values, dtype=a.dtype, device=device_of(a)), idx.shape)
    return a + xp.sum(xp.where(hit, values[:, :, None], xp.zeros_like(a[:, None, :])), axis=1)


def synchronize(x: Any = None) -> None:
    """Block until the device work that produced ``x`` has finished.

    CuPy: synchronize the current stream; torch on CUDA: ``torch.cuda.synchronize()``;
    no-op on CPU backends.  Call before stopping a clock around GPU work.
    """
    if x is None:
        return
    if array_api_compat.is_cupy_array(x):
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif array_api_compat.is_torch_array(x) and x.device.type == "cuda":
        import torch

        torch.cuda.synchronize(x.device)


class Generator:
    """Explicit random generator producing arrays of one namespace on one device.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the underlying bit generator (a NumPy generator is drawn from as it is).
    xp : namespace, optional
        Namespace of the arrays produced (NumPy by default).
    device : optional
        Device of the arrays produced (the namespace's default device by default).

    Notes
    -----
    NumPy and ``array_api_strict`` share NumPy's PCG64 stream, so the same seed gives
    bitwise the same numbers on both.  CuPy uses ``cupy.random.default_rng`` on the device.
    """

    def __init__(
        self,
        seed: int | np.random.SeedSequence | np.random.Generator,
        xp: Any = None,
        device: Any = None,
    ):
        self.xp = namespace("numpy") if xp is None else xp
        self.device = device
        self._on_cupy = array_api_compat.is_cupy_namespace(self.xp)
        if self._on_cupy:
            import cupy

            seed_int = seed if isinstance(seed, int) else int(seed.generate_state(1)[0])
            self._gen = cupy.random.default_rng(seed_int)
            self._module = cupy
        else:
            self._gen = np.random.default_rng(seed)
            self._module = np

    def __deepcopy__(self, memo: dict[int, Any]) -> Generator:
        """A generator in the same state that draws the same numbers from here on (the
        namespace and device are shared, the bit generator's state is copied)."""
        twin = object.__new__(Generator)
        twin.__dict__.update(self.__dict__)
        twin._gen = copy.deepcopy(self._gen, memo)
        return twin

    def _out(self, a: Any) -> Any:
        if self._on_cupy:
            return a
        if is_numpy(self.xp):
            return a
        return self.xp.asarray(a, device=self.device)

    def asarray(self, a: Any) -> Any:
        """``a`` (host data) as an array of this generator's namespace on its device."""
        return self.xp.asarray(a, device=self.device)

    def spawn(self, n: int) -> list[Generator]:
        """``n`` independent child generators on the same namespace and device."""
        if self._on_cupy:
            seeds = self._gen.integers(0, 2**31 - 1, size=n).get()
            return [Generator(int(s), self.xp, self.device) for s in seeds]
        return [
            Generator(np.random.SeedSequence(int(s)), self.xp, self.device)
            for s in self._gen.integers(0, 2**63 - 1, size=n)
        ]

    def random(self, shape: int | Sequence[int], dtype: Any = None) -> Any:
        """Uniform numbers on [0, 1) of the given shape, drawn in float64 and returned in
        ``dtype`` (default float64) of this namespace: one seed gives the same numbers in
        every dtype up to the cast, and no float64 array reaches the device when ``dtype``
        is narrower."""
        return self._floating(self._gen.random(shape), dtype)

    def normal(self, shape: int | Sequence[int], dtype: Any = None) -> Any:
        """Standard normal numbers of the given shape (drawn and cast as :meth:`random`)."""
        return self._floating(self._gen.standard_normal(shape), dtype)

    def below(self, p: Any, shape: int | Sequence[int]) -> Any:
        """Booleans [u < p] of the given shape, u uniform on [0, 1) drawn as :meth:`random`
        and compared with ``p`` (host float64 numbers broadcastable to ``shape``) in float64
        before they leave the host: the outcome does not depend on any dtype."""
        u = self._gen.random(shape)
        return self._out(u < self._module.asarray(p, dtype=self._module.float64))

    def categorical(self, cdf: Any, size: int) -> Any:
        """``size`` indices j with P(j) = cdf[j] − cdf[j−1]: the position of u (uniform on
        [0, 1), drawn as :meth:`random`) in the nondecreasing float64 host array ``cdf``
        (``searchsorted(cdf, u, side="right")``), found in float64 before leaving the host."""
        u = self._gen.random((size,))
        cdf = self._module.asarray(cdf, dtype=self._module.float64)
        return self._out(self._module.searchsorted(cdf, u, side="right"))

    def integers(self, low: int, high: int, shape: int | Sequence[int]) -> Any:
        """Integers uniform on ``[low, high)`` (int64)."""
        return self._out(self._gen.integers(low, high, size=shape))

    def permutations(self, size: int, d: int) -> Any:
        """``size`` independent uniform permutations of ``range(d)`` as a (size, d) array."""
        keys = self._gen.random((size, d))
        return self._out(keys.argsort(axis=1))

    def subsets(self, size: int, d: int, k: int) -> Any:
        """``size`` independent uniform ``k``-subsets of ``range(d)``, sorted, shape (size, k).

        Sparse regime (k² ≤ 2d): draw k indices uniformly with replacement per row and redraw
        the rows that hold a repeat.  Given no repeat, the k-tuple is uniform over tuples of
        distinct indices, so its sorted set is a uniform k-subset; a row is accepted with
        probability Π_{j<k}(1 − j/d) ≥ e^{−k²/(2d)}·(1 − o(1)) ≈ 0.6 or more, so the expected
        cost is O(size · k log k), independent of d.  Dense regime: a partial sort of d random
        keys per row, O(size · d).  No Python loop over rows either way.
        """
        xp = self._module
        if k == d:
            idx = xp.broadcast_to(xp.arange(d), (size, d)).copy()
        elif k * k <= 2 * d:
            idx = self._gen.integers(0, d, size=(size, k))
            idx.sort(axis=1)
            redo = xp.flatnonzero(xp.any(idx[:, 1:] == idx[:, :-1], axis=1))
            while redo.size:
                draw = self._gen.integers(0, d, size=(int(redo.size), k))
                draw.sort(axis=1)
                idx[redo] = draw
                redo = redo[xp.any(draw[:, 1:] == draw[:, :-1], axis=1)]
        else:
            keys = self._gen.random((size, d))
            idx = keys.argpartition(k - 1, axis=1)[:, :k]
            idx.sort(axis=1)
        return self._out(idx)

    def _floating(self, drawn: Any, dtype: Any) -> Any:
        """Float64 draws of the bit generator as an array of ``dtype`` (default float64) of
        this namespace on this generator's device, cast before they leave the host."""
        if dtype is None:
            return self._out(drawn)
        if self._on_cupy or is_numpy(self.xp):
            return self.xp.astype(drawn, dtype)
        return self.xp.asarray(drawn, dtype=dtype, device=self.device)


def rng(
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    xp: Any = None,
    device: Any = None,
) -> Generator:
    """Return a :class:`Generator` for namespace ``xp`` (NumPy by default) and ``device``.

    This is the one way mastbench code obtains randomness: every random function takes the
    generator as an argument.  ``seed`` is a non-negative int, a ``numpy.random.SeedSequence``
    or, for NumPy arrays only, a ``numpy.random.Generator``, which the result draws from (it
    advances that generator's state).
    """
    if isinstance(seed, Generator):
        raise TypeError("seed must be an int or SeedSequence; pass the Generator itself instead")
    if isinstance(seed, np.random.Generator):
        if xp is not None and not is_numpy(xp):
            raise TypeError(
                f"seed is a numpy.random.Generator, which draws NumPy arrays, but xp is "
                f"{xp.__name__}; pass an int seed"
            )
        return Generator(seed, xp, device)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer | np.random.SeedSequence):
        raise TypeError(
            "seed must be an int, a numpy.random.SeedSequence or (NumPy only) a "
            f"numpy.random.Generator, got {type(seed)!r}"
        )
    if not isinstance(seed, np.random.SeedSequence) and seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return Generator(seed, xp, device)


def _namespace_name(xp: Any) -> str:
    for name in ("numpy", "cupy", "torch"):
        if getattr(array_api_compat, f"is_{name}_namespace")(xp):
            return name
    return xp.__name__


def _default_device(generator: Generator) -> Any:
    return device_of(generator.asarray(np.zeros(0, dtype=np.int64)))


def as_generator(value: Any, xp: Any, device: Any, *, name: str = "rng") -> Generator:
    """``value`` as the :class:`Generator` of a run whose arrays live in ``xp`` on ``device``.

    Parameters
    ----------
    value : Generator, int, numpy.random.SeedSequence or numpy.random.Generator
        A Generator is used as it is when it draws arrays of ``xp`` on ``device``; a seed
        gives ``rng(seed, xp, device)``; a NumPy generator is drawn from (NumPy only).
    xp, device
        The namespace and device of the run (a problem's ``xp`` and ``device``).
    name : str
        The argument's name in error messages.

    Raises
    ------
    TypeError
        For anything else, for a NumPy generator when ``xp`` is not NumPy, and for a
        Generator of another namespace ("rng is a numpy generator but the problem lives on
        array_api_strict").
    ValueError
        For a negative seed, and a Generator on another device than ``device``.
    """
    where = _namespace_name(xp)
    if isinstance(value, Generator):
        mine = _namespace_name(value.xp)
        if mine != where:
            article = "an" if mine[0] in "aeiou" else "a"
            raise TypeError(
                f"{name} is {article} {mine} generator but the problem lives on {where}; pass "
                f"mastbench.backend.rng(seed, xp, device) for the problem's namespace, or a seed"
            )
        here = device_of(xp.asarray(np.zeros(0, dtype=np.int64), device=device))
        if _default_device(value) != here:
            raise ValueError(
                f"{name} is a generator on device {_default_device(value)} but the problem "
                f"lives on device {here} of {where}; pass a generator on the problem's device, "
                "or a seed"
            )
        return value
    if isinstance(value, np.random.Generator) and _namespace_name(xp) != "numpy":
        raise TypeError(
            f"{name} is a numpy.random.Generator but the problem lives on {where}; pass "
            f"mastbench.backend.rng(seed, xp, device) for the problem's namespace, or a seed"
        )
    if isinstance(value, bool) or not isinstance(
        value, int | np.integer | np.random.SeedSequence | np.random.Generator
    ):
        raise TypeError(
            f"{name} must be a mastbench.backend.Generator (from mastbench.backend.rng), an int "
            f"seed or (NumPy problems) a numpy.random.Generator, got {type(value).__name__}"
        )
    if isinstance(value, int | np.integer) and value < 0:
        raise ValueError(f"{name} must be a non-negative seed, got {value}")
    return rng(value, xp, device)
