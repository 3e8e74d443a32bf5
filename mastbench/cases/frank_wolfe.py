"""Runs of the Frank-Wolfe family on min_{x ∈ C} f(x): C from ``--constraint`` (default
``l1:radius=1``), the start x0 = 0 projected onto C (0 itself for a ball, the centre
radius/d·1 of the simplex).

``--step`` names the step rule of ``frank_wolfe`` (``open-loop``, ``short``, ``line-search``,
``backtracking``) and of the away-step and pairwise variants; ``stochastic_frank_wolfe`` has
its own schedule.  The away-step and pairwise variants need a polytope (``l1``, ``simplex``).
The away-step and pairwise variants default to ``backtracking`` on a
non-quadratic f (their exact line search needs a quadratic).  Frank-Wolfe's theorems hold
for a rule, not for a largest step, so ``--step theory`` is refused.
"""

from __future__ import annotations

from typing import Any

from mastbench.cases._case import Case, RunOptions, incompatible, zeros_like_start
from mastbench.cases.specs import make_constraint
from mastbench.validation import UsageError

__all__ = ["DEFAULT_PROBLEM", "build"]

DEFAULT_PROBLEM = "logistic:n=200,d=20"
DEFAULT_CONSTRAINT = "l1:radius=1"
#: The variants that keep an active set of vertices.
ACTIVE_SET = ("away_frank_wolfe", "pairwise_frank_wolfe")
RULES = ("open-loop", "short", "line-search", "backtracking")
DEDICATED = {"step": "--step", "iters": "--iters"}


def build(spec: Any, problem: Any, problem_spec: str, options: RunOptions) -> Case:
    """The call of ``spec`` (a Frank-Wolfe-family algorithm) on ``problem`` over C."""
    from mastbench.problems.base import FiniteSum, Problem
    from mastbench.problems.quadratic import QuadraticForm

    if not isinstance(problem, Problem):
        raise incompatible(spec, problem_spec, "a smooth problem f")
    if spec.name == "stochastic_frank_wolfe" and not isinstance(problem, FiniteSum):
        raise incompatible(spec, problem_spec, "a finite sum (least_squares or logistic)")
    constraint_spec = options.constraint or DEFAULT_CONSTRAINT
    constraint = make_constraint(constraint_spec, problem.d, getattr(problem, "groups", None))
    if spec.name in ACTIVE_SET and not getattr(constraint, "polytope", False):
        raise UsageError(
            f"--constraint {constraint_spec}: {spec.name} needs a polytope with a vertex list "
            "(l1, simplex)"
        )
    kwargs: dict[str, Any] = {"iters": 100 if options.iters is None else options.iters}
    notes = [f"C = {constraint_spec}"]
    quadratic = isinstance(problem, QuadraticForm)
    if options.step is not None:
        if spec.name == "stochastic_frank_wolfe" or options.step not in RULES:
            rules = (
                "it has its own step schedule"
                if spec.name == "stochastic_frank_wolfe"
                else ("one of " + ", ".join(RULES))
            )
            raise UsageError(f"--step {options.step}: {spec.name} takes a step rule: {rules}")
        kwargs["step"] = options.step
    elif spec.name in ACTIVE_SET and not quadratic:
        kwargs["step"] = "backtracking"
        notes.append("step rule backtracking (exact line search needs a quadratic f)")
    kwargs.update(options.settings)
    x0 = zeros_like_start(problem)
    if not constraint.contains(x0):
        x0 = constraint.project(x0)
    args = (problem, constraint, x0)
    return Case(spec, problem_spec, args, kwargs, notes)
