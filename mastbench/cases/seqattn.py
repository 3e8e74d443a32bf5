"""Runs of the SequentialAttention++ family on a group problem (``group_least_squares``,
``group_multinomial``): select or keep k of the t groups (``--set k=...``, default
max(1, t // 4)).

``--iters`` is the number of iterations of ``iht`` and the swaps of ``ompr`` (k' = k + 1
by default), the selections of ``group_omp`` (default k) and the training steps per round of
``sequential_attention``; the phased methods (SA++, ACDC, block magnitude pruning, block
powerprop) run in phases whose lengths are their settings (``--set dense_steps=...``).
``--step VALUE`` is the gradient step; ``--step theory`` exists for ``iht`` alone:
``seqattn.iht``'s step 1/L_{2k} (L_{2k} the restricted smoothness over 2k groups), also its
default.  The
default step of the phased methods is 0.1/L (1/L once their momentum 0.9 accumulates).
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
)
from mastbench.validation import UsageError

__all__ = ["DEFAULT_PROBLEM", "build"]

DEFAULT_PROBLEM = "group_least_squares"
_REQUIRED = inspect.Parameter.empty
#: The keyword ``--iters`` sets, by algorithm (the phased methods have none).
ITERS = {"iht": "iters", "ompr": "iters", "group_omp": "steps", "sequential_attention": "steps"}
DEDICATED = {"step": "--step", **{key: "--iters" for key in ITERS.values()}}


def build(spec: Any, problem: Any, problem_spec: str, options: RunOptions) -> Case:
    """The call of ``spec`` (a SequentialAttention++-family algorithm) on ``problem``."""
    if not hasattr(problem, "groups"):
        raise incompatible(spec, problem_spec, "a group problem (group_least_squares, ...)")
    parameters = inspect.signature(spec.run).parameters
    settings = dict(options.settings)
    k = settings.pop("k", max(1, problem.groups.t // 4))
    kwargs: dict[str, Any] = {"k": k}
    notes = [f"k = {k} of t = {problem.groups.t} groups"]
    if spec.name == "ompr":
        kwargs["k_prime"] = min(problem.groups.t, k + 1)
    if spec.name in ITERS:
        if options.iters is not None or parameters[ITERS[spec.name]].default is _REQUIRED:
            kwargs[ITERS[spec.name]] = 100 if options.iters is None else options.iters
    elif options.iters is not None:
        phases = ", ".join(p for p in parameters if p.endswith("_steps") or p == "cycles")
        raise UsageError(f"--iters: {spec.name} runs in phases; set their lengths: {phases}")
    step = parse_step(options.step)
    if "step" not in parameters:
        if step is not None:
            raise UsageError(f"--step: {spec.name} takes no step")
    elif step == "theory" or (step is None and spec.name == "iht"):
        if spec.name != "iht":
            raise no_theory_step(spec)
        kwargs["step"], note = theory_step("seqattn.iht", problem=problem, k=k)
        notes.append(note)
    elif step is not None:
        kwargs["step"] = step
    elif parameters["step"].default is _REQUIRED:
        kwargs["step"] = 0.1 / problem.L
        notes.append(f"step {kwargs['step']:.6g} = 0.1/L (default; 1/L with momentum 0.9)")
    kwargs.update(settings)
    return Case(spec, problem_spec, (problem,), kwargs, notes)
