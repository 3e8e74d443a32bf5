"""Runs of the MAST family (DSGD, DSGD with importance sampling, L-SVRDSG, distributed DSGD)
on any smooth problem: the sketch from ``--sketch``, the step from ``--step``.

``--step theory`` (the default where a theorem gives one) takes the largest step of:

* ``dsgd`` option I: ``mast.sc-logistic`` on logistic regression, ``mast.sc`` on another
  strongly convex problem (both γ = 1/(L·L_S_max)), ``mast.convex`` when μ = 0
  (γ = 1/(2L·L_S_max));
* ``l_svrdsg``: ``mast.vr`` (γ = 1/(6 max_S L·λ_max(SᵀS)), a sketch of finite support);
* ``distributed_dsgd``: ``mast.dist`` (γ = 1/√(L·A·T), quadratic clients).

``dsgd_importance`` and ``l_svrdsg`` sample from the sketch's support, enumerated (default
``randk:k=1``; a Rand-K of small C(d, k), a Bernoulli of small d).  ``distributed_dsgd`` gives
every client the problem (homogeneous clients): n clients for a ``permutation:n=N`` sketch
(the default is ``permutation:n=2``, IST), one client otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mastbench.cases._case import (
    Case,
    RunOptions,
    incompatible,
    no_theory_step,
    parse_step,
    theory_step,
    zeros_like_start,
)
from mastbench.cases.specs import make_sketch
from mastbench.validation import UsageError

__all__ = ["DEFAULT_PROBLEM", "build"]

DEFAULT_PROBLEM = "quadratic:d=20,kappa=10"
#: Algorithms that sample a sketch from an enumerated finite support.
FINITE = frozenset({"dsgd_importance", "l_svrdsg"})
DEFAULT_SKETCH = {
    "distributed_dsgd": "permutation:n=2",
    "dsgd_importance": "randk:k=1",
    "l_svrdsg": "randk:k=1",
}
DEDICATED = {"sketch": "--sketch", "sketches": "--sketch", "step": "--step", "iters": "--iters"}


def _discrete(sketch: Any, sketch_spec: str) -> Any:
    """``sketch`` as the :class:`~mastbench.sketches.Discrete` distribution over its support."""
    from mastbench.sketches import Discrete

    if isinstance(sketch, Discrete):
        return sketch
    try:
        return Discrete(*sketch.support())
    except ValueError as exc:
        raise UsageError(f"--sketch {sketch_spec}: not a small finite support: {exc}") from None


def _theorem(name: str, problem: Any, settings: dict[str, Any]) -> str | None:
    from mastbench.problems import Logistic
    from mastbench.problems.quadratic import QuadraticForm

    if name == "dsgd" and settings.get("option", "I") == "I":
        if getattr(problem, "mu", 0.0) > 0:
            return "mast.sc-logistic" if isinstance(problem, Logistic) else "mast.sc"
        return "mast.convex"
    if name == "l_svrdsg":
        return "mast.vr"
    if name == "distributed_dsgd" and isinstance(problem, QuadraticForm):
        return "mast.dist"
    return None


def build(spec: Any, problem: Any, problem_spec: str, options: RunOptions) -> Case:
    """The call of ``spec`` (a MAST-family algorithm) on ``problem``."""
    from mastbench.problems.base import Problem
    from mastbench.sketches import Permutation

    if not isinstance(problem, Problem) or hasattr(problem, "groups"):
        raise incompatible(spec, problem_spec, "a smooth problem on a vector x ∈ R^d")
    settings = dict(options.settings)
    sketch_spec = options.sketch or DEFAULT_SKETCH.get(spec.name, "randk:q=0.5")
    sketch = make_sketch(sketch_spec, problem.d)
    notes = [f"sketch {sketch_spec}: {sketch!r}"]
    if spec.name in FINITE:
        sketch = _discrete(sketch, sketch_spec)
        notes.append(f"as a Discrete distribution over its {sketch.num_outcomes} outcomes")
    if "compressor" in settings:
        settings["compressor"] = make_sketch(settings["compressor"], problem.d)
    iters = 100 if options.iters is None else options.iters
    x0 = zeros_like_start(problem)
    if spec.name == "distributed_dsgd":
        clients = [problem] * (sketch.n if isinstance(sketch, Permutation) else 1)
        args: tuple[Any, ...] = (clients, x0)
        kwargs: dict[str, Any] = {"sketches": sketch if len(clients) > 1 else [sketch]}
        fields = {"problems": clients, "sketches": sketch, "shift": np.zeros(problem.d)}
        fields.update(horizons=(iters,))
        notes.append(f"{len(clients)} clients, each holding the problem")
    else:
        args, kwargs = (problem, x0), {"sketch": sketch}
        fields = {"problem": problem, "sketch": sketch}
    step = parse_step(options.step)
    theorem = _theorem(spec.name, problem, settings)
    if step is None and theorem is None:
        raise UsageError(f"--step: give {spec.name} a step (no theorem of it states one here)")
    if step is None or step == "theory":
        if theorem is None:
            raise no_theory_step(spec)
        step, note = theory_step(theorem, **fields)
        notes.append(note)
    kwargs.update(step=step, iters=iters, **settings)
    return Case(spec, problem_spec, args, kwargs, notes)
