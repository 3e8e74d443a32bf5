"""Runs of the RAMDA family: F = f + ψ for RAMDA, RMDA, ProxGen, ProxSSI and ProxSGD (ψ from
``--regularizer``, default ``l1:lam=0.001``; ``group_lasso`` takes a group problem's groups),
f alone for MADGRAD and MDA.

``--step VALUE`` sets the learning rate ``lr``; ``--step theory`` exists for ``prox_gen``
alone: ``ramda.proxgen``'s largest step ε/(3L_f) (ε the Adam ``eps``, ``--set eps=...``).
"""

from __future__ import annotations

import inspect
from typing import Any

from mastbench.cases._case import (
    Case,
    RunOptions,
    incompatible,
    no_theory_step,
    parse_step,
    theory_step,
    zeros_like_start,
)
from mastbench.cases.specs import make_regularizer
from mastbench.validation import UsageError

__all__ = ["DEFAULT_PROBLEM", "build"]

DEFAULT_PROBLEM = "logistic:n=200,d=20"
DEFAULT_REGULARIZER = "l1:lam=0.001"
SMOOTH = frozenset({"madgrad", "mda"})
DEDICATED = {"lr": "--step", "iters": "--iters"}


def build(spec: Any, problem: Any, problem_spec: str, options: RunOptions) -> Case:
    """The call of ``spec`` (a RAMDA-family algorithm) on ``problem`` (+ ψ)."""
    from mastbench.problems.base import Problem
    from mastbench.problems.composite import Composite

    if not isinstance(problem, Problem):
        raise incompatible(spec, problem_spec, "a smooth problem f")
    notes = []
    if spec.name in SMOOTH:
        if options.regularizer is not None:
            raise UsageError(f"--regularizer: {spec.name} minimizes a smooth f alone")
        target = problem
    else:
        regularizer_spec = options.regularizer or DEFAULT_REGULARIZER
        psi = make_regularizer(regularizer_spec, problem.d, getattr(problem, "groups", None))
        target = Composite(problem, psi)
        notes.append(f"F = f + ψ with ψ = {regularizer_spec}")
    kwargs: dict[str, Any] = {"iters": 100 if options.iters is None else options.iters}
    step = parse_step(options.step)
    if step == "theory":
        if spec.name != "prox_gen":
            raise no_theory_step(spec)
        eps = options.settings.get("eps", inspect.signature(spec.run).parameters["eps"].default)
        step, note = theory_step("ramda.proxgen", problem=target, eps=eps)
        notes.append(note)
    if step is not None:
        kwargs["lr"] = step
    kwargs.update(options.settings)
    return Case(spec, problem_spec, (target, zeros_like_start(problem)), kwargs, notes)
