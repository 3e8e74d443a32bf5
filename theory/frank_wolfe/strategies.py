"""Hypothesis strategies of the Frank-Wolfe theorems' instances (:mod:`.theorems`,
:mod:`.trajectories`), built from the shared strategies of :mod:`mastbench.strategies`.

Hypothesis is imported when a strategy is built: it is a test dependency
(``mastbench[test]``), and this module is imported with the family.
"""

from __future__ import annotations

from typing import Any

from mastbench.theory.frank_wolfe.instances import fw_instance

__all__ = ["fw_instances"]


def fw_instances(
    kinds: tuple[str, ...] = ("l1", "group", "l2", "simplex"),
    losses: tuple[str, ...] = ("least_squares",),
    max_d: int = 8,
) -> Any:
    """Frank-Wolfe theorem instances: a random problem over a random set, with C_f and f*.

    Draws the set ``kind``, the ``loss``, d ∈ [2, max_d] (d ∈ {4, 6, 9} for the nuclear ball,
    which needs a matrix shape), a radius log-uniform in [0.1, 10] and a seed; see
    :func:`mastbench.theory.frank_wolfe.instances.fw_instance`.
    """
    from hypothesis import strategies as st

    from mastbench.strategies import dimensions, seeds

    def build(kind: str, loss: str, d: int, exponent: float, seed: int):
        d = {2: 4, 3: 4, 5: 6, 7: 6, 8: 9}.get(d, d) if kind == "nuclear" else d
        return fw_instance(kind, d, seed, loss=loss, radius=float(10.0**exponent))

    return st.builds(
        build,
        st.sampled_from(kinds),
        st.sampled_from(losses),
        dimensions(2, max_d),
        st.floats(-1.0, 1.0),
        seeds(),
    )
