"""Importance sampling over the outcomes of a discrete sketch is unbiased (mast.md §3.1, [D]).

``mast.importance-unbiased`` runs :class:`~mastbench.algorithms.mast.DSGDImportance`: its exact
first moments are compared with those of plain DSGD on the same distribution, and the
implementation's batched Monte-Carlo means with its own exact moments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems import random as random_problems
from mastbench.theory import Measurement, NegativeControl
from mastbench.theory.mast.common import atol, identity_theorem
from mastbench.theory.mast.instances import ImportanceInstance

from mastbench import exact
from mastbench.algorithms.mast import DSGD, DSGDImportance
from mastbench.backend import rng
from mastbench.sketches import Bernoulli, Discrete, RandK

ITERS = 12


def _instance(name: str, sketch: Any, q: Any, seed: int) -> ImportanceInstance:
    """A quadratic with κ = 20 and the discrete form of ``sketch``, sampled with ``q``."""
    support = Discrete(*sketch.support())
    problem = random_problems.quadratic(sketch.d, 20.0, rng(seed))
    x0 = np.linspace(-1.0, 2.0, sketch.d)
    return ImportanceInstance(name, problem=problem, sketch=support, shift=None, x0=x0, q=q)


def _instances(quick: bool) -> list[ImportanceInstance]:
    return [
        _instance(
            "Bernoulli(.3,.6,.9), q ∝ w λ_max", Bernoulli(np.array([0.3, 0.6, 0.9])), None, 1
        ),
        _instance("Rand-2 of 4, q uniform over a skewed order", RandK(4, 2), "skewed", 2),
    ]


def _q(instance: ImportanceInstance) -> Any:
    """The sampling probabilities: the default (q ∝ w_j λ_max(S_jᵀS_j)), or a skewed q."""
    if instance.q != "skewed":
        return None
    n = instance.sketch.num_outcomes
    q = np.arange(1.0, n + 1.0)
    return q / q.sum()


def _step(instance: ImportanceInstance) -> float:
    problem = instance.problem
    return 1.0 / (problem.L * instance.sketch.L_S_max)


def _method(instance: ImportanceInstance, params: dict[str, Any]) -> DSGDImportance:
    step = _step(instance) * float(params.get("step_factor", 1.0))
    return DSGDImportance(sketch=instance.sketch, gamma=step, q=_q(instance))


def _strategy() -> Any:
    """Quadratics (κ up to 10⁶) with the discrete form of a MAST sketch (p down to 10⁻³,
    Rand-K, identity), sampled with the default or the skewed q, from a random start."""
    from hypothesis import strategies as st

    from mastbench.strategies import dimensions, mast_sketches, quadratics, seeds

    @st.composite
    def build(draw: st.DrawFn) -> ImportanceInstance:
        d = draw(dimensions(1, 3))
        sketch = draw(mast_sketches(d))
        x0 = 10.0 ** draw(st.floats(-3.0, 3.0)) * np.random.default_rng(draw(seeds())).normal(
            size=d
        )
        return ImportanceInstance(
            "hypothesis",
            problem=draw(quadratics(d)),
            sketch=Discrete(*sketch.support()),
            shift=None,
            x0=x0,
            q=draw(st.sampled_from([None, "skewed"])),
        )

    return build()


#: The importance-sampled run at a step 1 % larger than the plain one: the means part at t = 1.
STEP_CONTROL = NegativeControl(
    "importance-sampled run at 1.01× the step of the plain one (the statement compares "
    "equal steps)",
    params=lambda instance, params: {**params, "step_factor": 1.01},
    expect="measured",
)


@identity_theorem(
    id="mast.importance-unbiased",
    optional_params=("step_factor",),
    label="importance sampling over sketches is unbiased (mean iterates of DSGD)",
    tag="D",
    algorithm="dsgd_importance",
    measure="‖E x_t^{IS} − E x_t^{DSGD}‖ (exact moments of both)",
    method="exact",
    x_axis="iteration t",
    instances=_instances,
    default_params=lambda instance: {"iters": ITERS},
    controls=(STEP_CONTROL,),
    strategy=_strategy,
    implementation=lambda instance, params: (
        _method(instance, params),
        instance.problem,
        instance.x0,
    ),
)
def importance_unbiased(instance: ImportanceInstance, params: dict[str, Any]) -> Measurement:
    """Importance sampling over the support of a discrete sketch keeps the gradient unbiased.

    Statement.  For D = Σ_j w_j δ_{S_j} and sampling probabilities q with q_j > 0 wherever
    w_j S_j ≠ 0, the estimate g = (w_j/q_j) S_jᵀ∇f(v + S_j(x − v)), j ~ q, satisfies
    E g = ∇f_D(x); on a quadratic f the mean iterates of DSGD with importance sampling equal
    those of DSGD: E x_t^{IS} = E x_t for every t.

    Why: E g = Σ_j w_j S_jᵀ∇f(v + S_j(x − v)) = ∇f_D(x), and on a quadratic f both g and ∇f_D
    are affine in x, so the mean iterate of DSGD with importance sampling follows
    m_{t+1} = m_t − γ∇f_D(m_t), the recursion of plain DSGD (sketches drawn with the weights
    w), for every such q.  The second moments differ (that is the point of choosing
    q ∝ w_j λ_max(S_jᵀS_j): the key-lemma constant becomes L_f E[L_S]).

    Checked with the exact moments of both methods at t = 0..T (the bound is 0 up to
    round-off), and, as for every exact MAST theorem, the implementation's batched
    Monte-Carlo means against its exact moments (a dropped w_j/q_j weight, or a draw reused
    across steps, is reported there).  The control runs the importance-sampled method at a
    step 1 % larger than the plain one: the means part at t = 1.

    Tightness.  An identity: the measured gap ‖E x_t^{IS} − E x_t‖ is compared with the
    bound 0 up to a round-off tolerance, so the ratio is 0 (or ∞ when violated) by design,
    never in between; no instance can approach the bound, and none is searched for.

    Reference.  arXiv 2311.16086, "SGD with general sampling"; mast.md §3.1 (importance
    sampling over sketches, [D]).  Tag D.
    """
    T = int(params["iters"])
    problem, x0 = instance.problem, instance.x0
    plain = DSGD(sketch=instance.sketch, gamma=_step(instance))
    sampled = exact.moments(_method(instance, params), problem, x0, T)
    reference = exact.moments(plain, problem, x0, T)
    gap = np.linalg.norm(sampled.mean - reference.mean, axis=1)
    scale = float(np.max(np.linalg.norm(reference.mean, axis=1)))
    return Measurement(sampled.iterations, gap, atol=atol(scale), trivial=sampled.iterations == 0)
