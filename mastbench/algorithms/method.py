"""The ``Method`` protocol: an algorithm as hyperparameters plus explicit ``init``/``step``.

As in optax, an algorithm is a value (a frozen dataclass of its hyperparameters) with pure
functions over an explicit state; :func:`mastbench.algorithms.driver.run` owns the loop, the
checkpoints, the metrics, the oracle counters, the timing and the divergence check.  The same
method object feeds the exact engine (:mod:`mastbench.exact`) when it declares a moment map.

A state is any object the method chooses (a ``NamedTuple`` is the usual choice); its iterate
batch is ``output(state)``, shape (R, d), one row per replicate.

Dtypes: a method computes in its problem's dtype (``problem.dtype``, that of ``x0`` as the
driver passes it): float32 in, float32 out, in its state, ``output``, metrics and diagnostics.
It draws its randomness in a dtype-independent way (``rng.below``, ``rng.categorical``,
``sketch.sample(rng, R, dtype=problem.dtype)``, ``rng.normal(shape, dtype=problem.dtype)``),
so one seed gives the same draws in every dtype; its tolerances are multiples of
``finfo(dtype).eps`` times a scale where they must be resolved in that dtype.  A method that
needs float64 raises a ``TypeError`` at ``init`` naming itself, ``x0``'s dtype and float64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["Method", "MethodBase", "Unavailable", "select_metrics"]

#: A metric maps the (R, d) iterate batch to an (R,) array.
Metric = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Unavailable:
    """A metric a method cannot evaluate on this problem, and why (e.g. f_D* needs an
    enumeration too large); the driver skips it and records the reason in
    ``Trace.params["skipped_metrics"]``."""

    reason: str


@runtime_checkable
class Method(Protocol):
    """What the driver needs of an algorithm.

    Attributes
    ----------
    name : str
        Public name of the algorithm (the name of its wrapper function).
    stochastic : bool
        Whether ``init``/``step`` draw random numbers from ``rng``.
    """

    name: ClassVar[str]
    stochastic: ClassVar[bool]

    def init(self, problem: Any, x0: Any, rng: Any) -> Any:
        """The state before the first step, from the (R, d) start ``x0`` (of the problem's
        dtype and device); ``rng`` is a :class:`mastbench.backend.Generator` of the problem's
        namespace and device (or ``None`` for a deterministic method run without one)."""

    def step(self, problem: Any, state: Any, k: int, rng: Any) -> Any:
        """The state after step ``k`` (0-based) from ``state``."""

    def output(self, state: Any) -> Any:
        """The (R, d) iterate batch of ``state``."""

    def metrics(self, problem: Any, x0: Any) -> dict[str, Metric | Unavailable]:
        """The metrics recorded by default (name → function of the iterate batch, or
        :class:`Unavailable`); ``x0`` is the (R, d) start."""

    def diagnostics(self, state: Any) -> dict[str, Any]:
        """Per-replicate quantities of the state recorded at checkpoints (name → (R,))."""

    def counters(self, state: Any) -> dict[str, float]:
        """Cumulative oracle counts of the state (name → number per replicate)."""

    def summary(self, state: Any) -> dict[str, Any]:
        """What the final state says about the run as a whole (a selection order, the phase
        boundaries), added to ``Trace.params``."""

    def params(self) -> dict[str, Any]:
        """The hyperparameters, as plain values, for the trace and the results store."""


class MethodBase:
    """Defaults of the optional parts of :class:`Method`, for frozen dataclasses.

    A subclass is a ``@dataclass(frozen=True)`` defining ``name``, ``stochastic``, ``init``,
    ``step`` and ``output``; it records no extra metric, diagnostic, counter or summary unless
    it says so, and its parameters are its dataclass fields (non-scalar values by ``repr``).
    """

    name: ClassVar[str]
    stochastic: ClassVar[bool] = True

    def metrics(self, problem: Any, x0: Any) -> dict[str, Metric | Unavailable]:
        return {}

    def diagnostics(self, state: Any) -> dict[str, Any]:
        return {}

    def counters(self, state: Any) -> dict[str, float]:
        return {}

    def summary(self, state: Any) -> dict[str, Any]:
        return {}

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            plain = value is None or isinstance(value, bool | int | float | str)
            out[f.name] = value if plain else repr(value)
        return out


def select_metrics(
    available: Mapping[str, Metric | Unavailable], names: Any, *, where: str
) -> dict[str, Metric | Unavailable]:
    """``available`` restricted to ``names`` (``None``: all; a mapping: used as given).

    Raises
    ------
    TypeError
        When ``names`` is a string or holds a non-string.
    ValueError
        When a name is not among ``available``.
    """
    if names is None:
        return dict(available)
    if isinstance(names, Mapping):
        bad = [k for k, v in names.items() if not (isinstance(k, str) and callable(v))]
        if bad:
            raise TypeError(f"metrics must map names to callables; bad entry {bad[0]!r}")
        return dict(names)
    try:
        chosen = tuple(names)
    except TypeError:
        chosen = None
    if isinstance(names, str) or chosen is None or not all(isinstance(m, str) for m in chosen):
        raise TypeError("metrics must be a sequence of metric names or a mapping name → callable")
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(
            f"metrics of {where} must be a subset of {tuple(available)}, got unknown {unknown}"
        )
    return {name: available[name] for name in chosen}
