"""Whole runs of any algorithm of the table on any compatible problem (``mastbench run``).

:func:`build_case` turns the options of ``mastbench run ALGO`` (:class:`RunOptions`) into a
:class:`Case`: the algorithm's function with its problem, start and keyword arguments, and
notes on what was chosen (the sketch, the step and the theorem it comes from).  One module
per family builds its calls (:mod:`~mastbench.cases.mast`, :mod:`~mastbench.cases.ramda`,
:mod:`~mastbench.cases.frank_wolfe`, :mod:`~mastbench.cases.seqattn`); an algorithm of
another family (a plugin's) gets the problem, the zero start where it takes ``x0``, and
``--step``/``--iters`` as its ``step``/``iters``.  ``--set KEY=VALUE`` gives any other keyword
argument of the function; an unknown key is refused with the list of the known ones.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from mastbench.cases._case import Case, RunOptions, check_settings, parse_step, zeros_like_start
from mastbench.validation import UsageError

__all__ = ["Case", "RunOptions", "build_case", "default_problem"]

FAMILIES = ("mast", "ramda", "frank_wolfe", "seqattn")
#: Problem of a plugin's algorithm when ``--problem`` is not given.
GENERIC_PROBLEM = "quadratic:d=20,kappa=10"
_REQUIRED = inspect.Parameter.empty


def _family(spec: Any) -> Any:
    if spec.family in FAMILIES:
        return importlib.import_module(f"mastbench.cases.{spec.family}")
    return None


def default_problem(spec: Any) -> str:
    """The problem ``spec`` runs on when ``--problem`` is not given."""
    module = _family(spec)
    return GENERIC_PROBLEM if module is None else module.DEFAULT_PROBLEM


GENERIC_DEDICATED = {"step": "--step", "iters": "--iters"}


def _generic(spec: Any, problem: Any, problem_spec: str, options: RunOptions) -> Case:
    parameters = inspect.signature(spec.run).parameters
    args = (problem, zeros_like_start(problem)) if "x0" in parameters else (problem,)
    kwargs: dict[str, Any] = {}
    step = parse_step(options.step)
    if step == "theory":
        raise UsageError(f"--step theory: no theorem of {spec.name} states a largest step")
    needs_step = "step" in parameters and parameters["step"].default is _REQUIRED
    if step is not None or needs_step:
        if "step" not in parameters:
            raise UsageError(f"--step: {spec.name} takes no step")
        if step is None:
            raise UsageError(f"--step: give {spec.name} a step (--step VALUE)")
        kwargs["step"] = step
    if "iters" in parameters:
        kwargs["iters"] = 100 if options.iters is None else options.iters
    elif options.iters is not None:
        raise UsageError(f"--iters: {spec.name} takes no iters")
    kwargs.update(options.settings)
    return Case(spec, problem_spec, args, kwargs)


def build_case(algorithm: str, options: RunOptions) -> Case:
    """The run of ``algorithm`` that ``options`` describe.

    Raises
    ------
    UsageError
        For an unknown algorithm, a bad spec or setting (naming the option), or a problem
        the algorithm cannot run on (naming both).
    """
    from mastbench.algorithms import get_algorithm
    from mastbench.problem_factory import make_problem

    try:
        spec = get_algorithm(algorithm)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    module = _family(spec)
    check_settings(
        spec, options.settings, GENERIC_DEDICATED if module is None else module.DEDICATED
    )
    problem_spec = options.problem or default_problem(spec)
    try:
        problem = make_problem(problem_spec)
    except FileNotFoundError as exc:
        raise UsageError(f"--problem {problem_spec}: {exc}") from None
    return (_generic if module is None else module.build)(spec, problem, problem_spec, options)
