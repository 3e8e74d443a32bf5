"""The case of a run: options from the command line, the built call, and what was chosen."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mastbench.validation import UsageError

__all__ = ["Case", "RunOptions", "incompatible", "parse_step", "theory_step"]

#: Keyword arguments of a wrapper that the run sets itself, never ``--set``.
RUN_KEYWORDS = frozenset({"rng", "replicates", "checkpoints", "keep_iterates", "metrics"})


@dataclass(frozen=True)
class RunOptions:
    """What ``mastbench run`` was asked for (``None``: the family's default).

    Attributes
    ----------
    problem : str or None
        Problem spec (:mod:`mastbench.problem_factory`).
    sketch, regularizer, constraint : str or None
        Specs of :mod:`mastbench.cases.specs`.
    step : str or None
        ``"theory"``, a positive number, or (Frank-Wolfe) the name of a step rule.
    iters : int or None
        Iterations T.
    settings : mapping
        Keyword arguments of the algorithm's function (``--set KEY=VALUE`` and a grid point).
    """

    problem: str | None = None
    sketch: str | None = None
    regularizer: str | None = None
    constraint: str | None = None
    step: str | None = None
    iters: int | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    """One call of an algorithm's function: ``spec.run(*args, **kwargs, rng=, replicates=)``.

    Attributes
    ----------
    spec : AlgorithmSpec
        The algorithm.
    problem : str
        The problem spec the case runs on.
    args : tuple
        Positional arguments (the problem, a constraint, the start x0).
    kwargs : dict
        Keyword arguments, ``--set`` included.
    notes : list of str
        What the builder chose and why (the sketch, the step and its theorem, defaults).
    """

    spec: Any
    problem: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def run(self, rng: Any, replicates: int) -> Any:
        """The :class:`~mastbench.trace.Trace` of the call (``rng``, ``replicates`` for a
        stochastic algorithm)."""
        extra = {"rng": rng, "replicates": replicates} if self.spec.stochastic else {}
        return self.spec.run(*self.args, **self.kwargs, **extra)

    def params(self) -> dict[str, Any]:
        """The plain-valued keyword arguments (the others by their description)."""
        out = {}
        for key, value in self.kwargs.items():
            plain = value is None or isinstance(value, bool | int | float | str)
            out[key] = value if plain else str(value)
        return out


def settable(run: Any) -> list[str]:
    """The keyword arguments of ``run`` that ``--set`` may give: those after the start
    ``x0`` (or after the problem when there is no x0), except those the run sets itself."""
    names = list(inspect.signature(run).parameters)
    first = names.index("x0") + 1 if "x0" in names else 1
    return [n for n in names[first:] if n not in RUN_KEYWORDS]


def check_settings(spec: Any, settings: Mapping[str, Any], dedicated: Mapping[str, str]) -> None:
    """Refuse a ``--set`` key the algorithm does not take, or one with its own option
    (``dedicated``: keyword → option, e.g. ``{"step": "--step"}``)."""
    known = settable(spec.run)
    for key in settings:
        if key in dedicated:
            raise UsageError(f"--set {key}: {spec.name} takes it from {dedicated[key]}")
        if key not in known:
            raise UsageError(
                f"--set {key}: {spec.name} has no setting {key!r}; its settings: "
                + ", ".join(k for k in known if k not in dedicated)
            )


def parse_step(text: str | None) -> str | float | None:
    """``None``, ``"theory"`` or a positive finite number (``--step``)."""
    if text is None or text == "theory":
        return text
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"--step must be 'theory' or a positive number, got {text!r}")
    return value


def theory_step(theorem_id: str, **fields: Any) -> tuple[float, str]:
    """The largest step of theorem ``theorem_id`` (its ``step_size``) on an instance with
    ``fields``, and the note saying which theorem gave it.

    Raises
    ------
    UsageError
        When the theorem's step cannot be computed for this problem and sketch (e.g. a sketch
        support too large to enumerate).
    """
    from mastbench import theory

    thm = theory.get(theorem_id)
    try:
        value = float(thm.step_size(theory.FieldBag("mastbench run", **fields)))
    except ValueError as exc:
        raise UsageError(
            f"--step theory: the step of {thm.id} is not computable here: {exc}"
        ) from None
    return value, f"step {value:.6g}: the largest step of {thm.id} ({thm.label})"


def no_theory_step(spec: Any) -> UsageError:
    """The error of ``--step theory`` for an algorithm whose theorems state no step."""
    return UsageError(
        f"--step theory: no theorem of {spec.name} states a largest step; give --step VALUE"
    )


def incompatible(spec: Any, problem: str, needs: str) -> UsageError:
    """The one-line error of an algorithm run on a problem it cannot take."""
    return UsageError(f"{spec.name} cannot run on --problem {problem}: it needs {needs}")


def zeros_like_start(problem: Any) -> Any:
    """The zero start x0 of ``problem`` (its namespace, dtype and device)."""
    return problem.xp.zeros((problem.d,), dtype=problem.dtype, device=problem.device)
