"""The ``Theorem`` value, test instances, negative controls and the measured evidence.

A theorem is code next to its docstring, as in PEPit: the statement, its assumptions, the
step-size range, the bound, and how the compared quantity is measured are all fields of one
:class:`Theorem` value.  :func:`mastbench.verify.verify` turns a theorem and an instance into a
verdict; this module only describes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "METHODS",
    "RATES",
    "TAGS",
    "THEOREM_STATUSES",
    "Evidence",
    "FieldBag",
    "Instance",
    "Measurement",
    "NegativeControl",
    "NotApplicable",
    "Theorem",
]

#: How a theorem's measured quantity is obtained.
METHODS = ("exact", "montecarlo", "pointwise", "deterministic")

#: How a theorem's evidence runs along its x axis, which fixes the axes of its figure: a
#: ``"sublinear"`` rate (O(1/t), O(1/√T)...) is drawn on log-log axes, a ``"linear"`` rate
#: (ρ^t) on semilog axes, and ``"none"`` (a pointwise statement, an identity, a list of
#: checks) as a dot plot of measured/bound per point.
RATES = ("sublinear", "linear", "none")

#: Certainty of a statement, as in ``shared/theory``: confirmed from the paper (C), reported
#: by reviews (R), derived and proved in the reference (D), uncertain (U); combinations split.
TAGS = ("C", "R", "D", "U", "C/R", "R/D", "C/D", "D/U", "R/U")

#: What is known of a statement: ``"open"`` (no counterexample known; the check can only fail
#: by finding one) or ``"falsified"`` (a counterexample is known and kept as a built-in
#: instance: a violation inside the assumptions confirms it rather than failing the run).
THEOREM_STATUSES = ("open", "falsified")


@dataclass(frozen=True, eq=False)
class Instance:
    """A named problem instance on which a theorem is checked: the base of the typed instances.

    Each family declares its instances as frozen dataclasses deriving from this one (the
    problem, sketch, start, horizon... a theorem of the family reads), so a theorem reads
    named, typed fields rather than an untyped bag.

    Attributes
    ----------
    name : str
        Short, unique, human-readable name (appears in reports).
    """

    name: str

    @property
    def fields(self) -> dict[str, Any]:
        """The instance's fields other than ``name``, by name (for :mod:`mastbench.instance_io`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "name"}

    def replace(self, name: str | None = None, **changes: Any) -> Instance:
        """A copy with ``name`` and some fields changed."""
        if name is not None:
            changes["name"] = name
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class FieldBag(Instance):
    """An instance whose fields are given by keyword, untyped: ``FieldBag(name, **fields)``.

    The form of a theorem that has no typed instance class yet; new theorems declare one.
    """

    def __init__(self, name: str, **fields: Any):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "values", dict(fields))

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(f"instance {self.__dict__.get('name')!r} has no {key!r}") from None

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.values)

    def replace(self, name: str | None = None, **changes: Any) -> FieldBag:
        return FieldBag(name or self.name, **{**self.values, **changes})


def _broadcast(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as floats broadcast to ``shape``; a clear error naming ``name`` otherwise."""
    value = np.asarray(value, dtype=float)
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        raise ValueError(
            f"{name} must broadcast to the shape of measured {shape}, got shape {value.shape}"
        ) from None


@dataclass
class Evidence:
    """What was measured and what the theorem predicts, point by point.

    Attributes
    ----------
    t : numpy.ndarray
        Iterations (or point indices for pointwise statements), shape (K,).
    measured : numpy.ndarray
        The measured quantity (exact value, or Monte-Carlo estimate), shape (K,).
    bound : numpy.ndarray
        The predicted upper bound at the same points, shape (K,).  Statements of the form
        ``a >= b`` are written as ``b - a <= 0`` or with the roles swapped.
    lower, upper : numpy.ndarray or None
        Confidence interval of a Monte-Carlo estimate (``method == "montecarlo"``).
    atol : float
        Absolute tolerance: a few ulps of the scale of the quantity (exact methods).
    extra : dict
        Anything else worth showing (constants, limits, counts).
    trivial : numpy.ndarray of bool or None
        Points where measured = bound holds by construction (the start of a rate bound
        C ρ^t r_0 at t = 0, an identity), excluded from the nontrivial worst ratio.  ``None``:
        the points with t = 0 for statements over iterations, none for pointwise ones.
    """

    t: np.ndarray
    measured: np.ndarray
    bound: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    atol: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    trivial: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.t = np.atleast_1d(np.asarray(self.t))
        self.measured = np.atleast_1d(np.asarray(self.measured, dtype=float))
        self.bound = _broadcast("bound", self.bound, self.measured.shape).copy()
        if self.t.shape != self.measured.shape:
            raise ValueError(
                f"t and measured must have the same shape, got {self.t.shape} "
                f"and {self.measured.shape}"
            )
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, _broadcast(name, value, self.t.shape))
        if self.trivial is not None:
            self.trivial = np.broadcast_to(np.asarray(self.trivial, dtype=bool), self.t.shape)

    @classmethod
    def stacked(cls, parts: Sequence[tuple[Any, Any, Any]], **fields: Any) -> Evidence:
        """One evidence for several checks, concatenated in order.

        Each part is ``(t, measured, bound)``; ``t`` and ``bound`` are broadcast to the shape
        of ``measured`` (a scalar 0 is a zero bound, a scalar t labels every point), so each
        check's points stay aligned.  ``fields`` (``atol``, ``extra``, ...) are passed on.
        """
        ts, measured, bounds = [], [], []
        for t, m, b in parts:
            m = np.atleast_1d(np.asarray(m, dtype=float))
            ts.append(np.broadcast_to(np.asarray(t), m.shape))
            measured.append(m)
            bounds.append(np.broadcast_to(np.asarray(b, dtype=float), m.shape))
        return cls(np.concatenate(ts), np.concatenate(measured), np.concatenate(bounds), **fields)

    def scaled(self, factor: float) -> Evidence:
        """The same evidence against the bound multiplied by ``factor`` (negative controls)."""
        return Evidence(
            self.t,
            self.measured,
            self.bound * factor,
            self.lower,
            self.upper,
            self.atol,
            dict(self.extra),
            self.trivial,
        )


@dataclass
class Measurement:
    """What a theorem measures on an instance, before any bound is evaluated.

    A theorem's ``measurement(instance, params)`` returns this; its ``bound(instance, params,
    t)`` gives the prediction at the same points, and :meth:`Theorem.evidence` pairs them.

    Attributes
    ----------
    t : numpy.ndarray or tuple of numpy.ndarray
        Iterations (or point indices), shape (K,); for a theorem of several quantities
        (``Theorem.quantities``), one array per quantity, in order.
    measured : numpy.ndarray or tuple of numpy.ndarray
        The measured quantity at ``t`` (the same structure as ``t``).
    lower, upper, atol, extra, trivial
        As in :class:`Evidence` (over all points, in order).
    """

    t: np.ndarray | tuple[np.ndarray, ...]
    measured: np.ndarray | tuple[np.ndarray, ...]
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    atol: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    trivial: np.ndarray | None = None

    def with_bound(self, bound: Any) -> Evidence:
        """The evidence of this measurement against ``bound`` (the structure of ``t``)."""
        rest = {
            "lower": self.lower,
            "upper": self.upper,
            "atol": self.atol,
            "extra": self.extra,
            "trivial": self.trivial,
        }
        if isinstance(self.t, tuple):
            if not isinstance(bound, tuple) or len(bound) != len(self.t):
                raise ValueError(
                    f"bound must give one array per quantity ({len(self.t)}), got {type(bound)}"
                )
            return Evidence.stacked(list(zip(self.t, self.measured, bound, strict=True)), **rest)
        return Evidence(self.t, self.measured, bound, **rest)


@dataclass(frozen=True)
class NegativeControl:
    """A deliberate mistake the verifier must report as a violation.

    Exactly one of ``bound_scale`` and ``params`` is used: scale the bound down below what is
    measured, or change the parameters (typically a step size beyond the theorem's range),
    skipping the assumption check, so that the measured quantity exceeds the bound.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"step x 2.5"`` or ``"bound x 0.5"``.
    bound_scale : float or None
        Factor applied to the bound.
    params : callable or None
        Maps (instance, default params) to the controlled params.
    instance : callable or None
        Maps the instance to a controlled instance (e.g. a degenerate one).
    expect : str
        The reason the control must be detected for: a substring of one of the verdict's
        reasons (e.g. ``"measured"`` for a bound exceeded, or the name of a check in
        ``Evidence.extra["checks"]``).  Empty: any violation at t > 0 counts.
    """

    name: str
    bound_scale: float | None = None
    params: Callable[[Instance, dict[str, Any]], dict[str, Any]] | None = None
    instance: Callable[[Instance], Instance] | None = None
    expect: str = ""

    def __post_init__(self) -> None:
        if self.bound_scale is None and self.params is None and self.instance is None:
            raise ValueError(
                f"negative control {self.name!r} changes nothing: give bound_scale, params "
                "or instance"
            )
        if self.bound_scale is not None and not (
            isinstance(self.bound_scale, int | float) and 0 <= self.bound_scale < np.inf
        ):
            raise ValueError(
                f"bound_scale of negative control {self.name!r} must be a finite number "
                f">= 0, got {self.bound_scale!r}"
            )


class NotApplicable(Exception):
    """Raised by a measurement when an assumption that only the run itself can check fails
    (an inner optimization short of the accuracy its certificate needs): the verdict is
    ``not applicable`` with ``reasons``, never ``holds``.

    A measurement raises it only when it measured no violation: a violation it did measure
    is evidence whatever else the run could not certify.
    """

    def __init__(self, *reasons: str):
        if not reasons:
            raise ValueError("NotApplicable needs at least one reason")
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


def _no_violations(instance: Instance) -> list[str]:
    return []


@dataclass(frozen=True)
class Theorem:
    """A theorem as a value: statement, assumptions, step-size range, bound, measurement.

    Attributes
    ----------
    id : str
        Registry id, ``"<family>.<name>"``, e.g. ``"mast.sc"``.
    paper : str
        Citation of the paper (authors, title, arXiv id).
    label : str
        The paper's label, or the content name where numbering is uncertain ("T-SC").
    tag : str
        Certainty tag (see :data:`TAGS`); derived statements say so.
    statement : str
        The statement in mathematics (plain text with Unicode).
    algorithm : str or None
        Name of the algorithm the theorem is about (``None`` for lemmas on problems).
    measure : str
        The measured quantity, e.g. ``"E||x_t - x_D*||^2"``.
    method : str
        One of :data:`METHODS`.
    measurement : callable
        ``measurement(instance, params) -> Measurement``: measures the quantity ``measure``
        names.  A theorem without ``bound`` returns its :class:`Evidence` here instead.
    bound : callable or None
        ``bound(instance, params, t) -> numpy.ndarray``: the predicted bound at the points
        ``t`` of the measurement (a tuple of arrays, one per quantity, when ``t`` is one),
        written from the statement alone.
    instances : callable
        ``instances(quick: bool) -> list[Instance]``: the built-in suite.
    assumptions : callable
        ``assumptions(instance) -> list[str]``: the violated assumptions (empty = all hold).
    default_params : callable
        ``default_params(instance) -> dict``: parameters inside the theorem's range.
    step_size : callable or None
        ``step_size(instance) -> float``: the largest step size the theorem allows.
    controls : sequence of NegativeControl
        Deliberate mistakes the verifier must flag.
    strategy : callable or None
        ``strategy() -> hypothesis strategy of Instance`` for falsification.
    optional_params : tuple of str
        Parameters ``evaluate`` accepts beyond the keys of ``default_params`` (a step given
        instead of the derived one, a switch a negative control turns); ``verify`` refuses any
        other key.
    rate : str
        One of :data:`RATES` (default: ``"none"`` for ``method == "pointwise"``, otherwise
        ``"sublinear"``).
    x_axis : str
        What ``Evidence.t`` counts, the label of the figure's x axis (default: ``"point"``
        when ``rate == "none"``, otherwise ``"iteration t"``).
    quantities : tuple of str
        Names of the quantities an evidence stacks (:meth:`Evidence.stacked`), in order; the
        report draws one panel per quantity (default: one quantity, ``measure``).
    implementation : callable or None
        ``implementation(instance, params) -> (method, problem, x0)``: for a theorem measured
        with the exact engine, the method (with a moment map) whose exact moments the
        evaluation reads, and the problem and start it runs on.  :func:`mastbench.verify.verify`
        also runs it as implemented (batched replicates through the driver) and reports a
        violation when its Monte-Carlo means disagree with the exact moments.
    status : str
        One of :data:`THEOREM_STATUSES`; ``"falsified"`` names a statement known to be false.
    counterexample : str
        For a falsified theorem, the name of its built-in instance that violates it.
    family : str
        The paper family (derived from ``id``).
    """

    id: str
    paper: str
    label: str
    tag: str
    statement: str
    algorithm: str | None
    measure: str
    method: str
    measurement: Callable[[Instance, Mapping[str, Any]], Measurement | Evidence]
    instances: Callable[[bool], Sequence[Instance]]
    assumptions: Callable[[Instance], list[str]] = _no_violations
    default_params: Callable[[Instance], dict[str, Any]] = lambda instance: {}
    step_size: Callable[[Instance], float] | None = None
    controls: tuple[NegativeControl, ...] = ()
    strategy: Callable[[], Any] | None = None
    optional_params: tuple[str, ...] = ()
    implementation: Callable[[Instance, Mapping[str, Any]], tuple[Any, Any, Any]] | None = None
    bound: Callable[[Instance, Mapping[str, Any], Any], Any] | None = None
    doc: str = ""
    rate: str = ""
    x_axis: str = ""
    quantities: tuple[str, ...] = ()
    status: str = "open"
    counterexample: str = ""

    def __post_init__(self) -> None:
        if "." not in self.id:
            raise ValueError(f"theorem id must look like 'family.name', got {self.id!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.tag not in TAGS:
            raise ValueError(f"tag must be one of {TAGS}, got {self.tag!r}")
        if not self.rate:
            object.__setattr__(self, "rate", "none" if self.method == "pointwise" else "sublinear")
        if self.rate not in RATES:
            raise ValueError(f"rate of {self.id!r} must be one of {RATES}, got {self.rate!r}")
        if not self.x_axis:
            object.__setattr__(self, "x_axis", "point" if self.rate == "none" else "iteration t")
        object.__setattr__(self, "quantities", tuple(self.quantities))
        if self.status not in THEOREM_STATUSES:
            raise ValueError(f"status must be one of {THEOREM_STATUSES}, got {self.status!r}")
        if (self.status == "falsified") != bool(self.counterexample):
            raise ValueError(
                f"theorem {self.id!r}: a falsified theorem names its counterexample instance, "
                "and only a falsified one does"
            )
        wrong = [c for c in self.controls if not isinstance(c, NegativeControl)]
        if wrong:
            raise TypeError(
                f"controls of {self.id!r} must be NegativeControl values, got {wrong[0]!r}"
            )

    def evidence(self, instance: Instance, params: Mapping[str, Any]) -> Evidence:
        """The measurement on ``instance`` paired with the bound at the same points."""
        measured = self.measurement(instance, params)
        if self.bound is None:
            if not isinstance(measured, Evidence):
                raise TypeError(
                    f"theorem {self.id!r} has no bound, so its measurement must return an "
                    f"Evidence, got {type(measured).__name__}"
                )
            return measured
        if not isinstance(measured, Measurement):
            raise TypeError(
                f"the measurement of theorem {self.id!r} must return a Measurement, got "
                f"{type(measured).__name__}"
            )
        return measured.with_bound(self.bound(instance, params, measured.t))

    @property
    def family(self) -> str:
        """The paper family, the part of ``id`` before the first dot."""
        return self.id.split(".", 1)[0]

    def __repr__(self) -> str:
        return f"Theorem({self.id!r}, {self.label!r}, tag={self.tag!r}, method={self.method!r})"
