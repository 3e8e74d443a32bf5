"""Hypothesis strategies of the MAST lemmas' instances (:mod:`.lemmas`: ``mast.smoothness``,
``mast.gap``, ...), built from the shared strategies of :mod:`mastbench.strategies`.

Hypothesis is imported when a strategy is built: it is a test dependency
(``mastbench[test]``), and this module is imported with the family.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.theory._core import Instance
from mastbench.theory.mast.instances import ObjectiveInstance

from mastbench.backend import rng

__all__ = ["mast_instances"]


def mast_instances(*, logistic: bool | None = None, max_d: int = 4, points: int = 4) -> Any:
    """Instances for the MAST lemmas: a problem, a sketch, a shift v and points x.

    Parameters
    ----------
    logistic : bool, optional
        Logistic regression (True), a quadratic, possibly singular (False), or either (None).
    max_d : int
        Largest dimension (the support is enumerated: keep it small).
    points : int
        Number of random points x at which pointwise statements are checked.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of theory.Instance
        With fields ``problem``, ``sketch``, ``shift`` (float64 host vector) and ``points``
        (float64, (points, d)).
    """
    import mastbench.problems.random as random_problems
    from hypothesis import strategies as st

    from mastbench.strategies import quadratics, seeds, sketches

    @st.composite
    def draw_instance(draw: st.DrawFn) -> Instance:
        sketch = draw(sketches(max_d=max_d, min_p=0.2))
        d = sketch.d
        use_logistic = draw(st.booleans()) if logistic is None else logistic
        seed = draw(seeds())
        if use_logistic:
            l2 = draw(st.floats(1e-2, 1.0))
            problem = random_problems.logistic(draw(st.integers(5, 40)), d, rng(seed), l2=l2)
        else:
            problem = draw(quadratics(d=d, singular=draw(st.booleans())))
        host = np.random.default_rng(seed)
        shift = draw(st.sampled_from([0.0, 1.0, 3.0])) * host.normal(size=d)
        where = 2.0 * host.normal(size=(points, d))
        kind = "logistic" if use_logistic else "quadratic"
        return ObjectiveInstance(
            f"{kind} d={d}, {sketch!r}", problem=problem, sketch=sketch, shift=shift, points=where
        )

    return draw_instance()
