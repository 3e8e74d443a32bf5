"""The catalogue of realistic faults, per family, injected by wrapping a Method's ``step``.

Every fault changes what the algorithm computes (a fault that cannot change the iterates on
any input is not in the catalogue: it could not be detected and would say nothing of the
suite's power).  Each names the bug a researcher really makes that it models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mastbench.power.inject import (
    Step,
    iteration_shifted,
    stale_randomness,
    update_scaled,
)

__all__ = ["KINDS", "Fault", "catalogue", "get_fault"]

#: What kind of bug a fault models.
KINDS = ("schedule", "rescale", "weight", "sign", "sampling", "aggregation", "clipping")


@dataclass(frozen=True)
class Fault:
    """A bug injected into one algorithm of the table.

    Attributes
    ----------
    name : str
        Unique short name, ``"<algorithm>: <what is wrong>"``.
    algorithm : str
        The algorithm of :func:`mastbench.algorithms.get_algorithm` whose method is wrapped.
    family : str
        Its paper family (the theorems run to detect it).
    kind : str
        One of :data:`KINDS`.
    wrap : callable
        ``wrap(step) -> step``: the faulty step built from the method's own.
    """

    name: str
    algorithm: str
    family: str
    kind: str
    wrap: Callable[[Step], Step]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")


def _faults() -> list[Fault]:
    def fault(algorithm: str, family: str, kind: str, what: str, wrap: Callable) -> Fault:
        return Fault(f"{algorithm}: {what}", algorithm, family, kind, wrap)

    mast, ramda, fw, seqattn = "mast", "ramda", "frank_wolfe", "seqattn"
    return [
        fault("dsgd", mast, "rescale", "step 1.25x (a rescale applied twice)", update_scaled(1.25)),
        fault("dsgd", mast, "rescale", "step 0.5x (the d/k rescale dropped)", update_scaled(0.5)),
        fault("dsgd", mast, "sampling", "the same sketch every step", stale_randomness),
        fault(
            "dsgd_importance", mast, "weight", "step 0.5x (w/q weight dropped)", update_scaled(0.5)
        ),
        fault("dsgd_importance", mast, "sampling", "the same draw every step", stale_randomness),
        fault(
            "distributed_dsgd", mast, "aggregation", "client sum, not mean (x2)", update_scaled(2.0)
        ),
        fault(
            "distributed_dsgd", mast, "sampling", "the same sketches every step", stale_randomness
        ),
        fault("l_svrdsg", mast, "rescale", "step 1.25x", update_scaled(1.25)),
        fault("l_svrdsg", mast, "sampling", "the same draws every step", stale_randomness),
        fault("ramda", ramda, "schedule", "weights of step k+1 at step k", iteration_shifted(1)),
        fault("ramda", ramda, "rescale", "update 1.25x", update_scaled(1.25)),
        fault("rmda", ramda, "schedule", "weights of step k+1 at step k", iteration_shifted(1)),
        fault("prox_sgd", ramda, "rescale", "step 1.25x", update_scaled(1.25)),
        fault("prox_gen", ramda, "rescale", "step 0.5x", update_scaled(0.5)),
        fault("prox_ssi", ramda, "rescale", "step 1.25x", update_scaled(1.25)),
        fault("mda", ramda, "rescale", "update 1.25x", update_scaled(1.25)),
        fault("madgrad", ramda, "rescale", "update 0.5x", update_scaled(0.5)),
        fault("frank_wolfe", fw, "schedule", "open-loop 2/(k+3) for 2/(k+2)", iteration_shifted(1)),
        fault("frank_wolfe", fw, "rescale", "step 1.1x (leaves the set)", update_scaled(1.1)),
        fault("away_frank_wolfe", fw, "rescale", "step 0.5x", update_scaled(0.5)),
        fault("pairwise_frank_wolfe", fw, "rescale", "step 0.5x", update_scaled(0.5)),
        fault(
            "stochastic_frank_wolfe", fw, "sampling", "the same batch every step", stale_randomness
        ),
        fault("iht", seqattn, "rescale", "gradient step 1.25x", update_scaled(1.25)),
        fault("ompr", seqattn, "sign", "refit update with a sign flipped", update_scaled(-1.0)),
        fault("group_omp", seqattn, "rescale", "refit update 0.5x", update_scaled(0.5)),
        fault("sequential_attention_pp", seqattn, "rescale", "update 1.25x", update_scaled(1.25)),
        fault("acdc", seqattn, "rescale", "update 0.5x", update_scaled(0.5)),
        fault("block_powerprop", seqattn, "rescale", "update 0.5x", update_scaled(0.5)),
        fault("block_magnitude_pruning", seqattn, "rescale", "update 1.25x", update_scaled(1.25)),
        fault("sequential_attention", seqattn, "rescale", "update 0.5x", update_scaled(0.5)),
    ]


def catalogue(family: str | None = None) -> list[Fault]:
    """Every fault (of one ``family`` when given), in catalogue order."""
    return [f for f in _faults() if family in (None, f.family)]


def get_fault(name: str) -> Fault:
    """The fault named ``name``; a clear error lists the names otherwise."""
    for fault in _faults():
        if fault.name == name:
            return fault
    known = "; ".join(f.name for f in _faults())
    raise KeyError(f"unknown fault {name!r}; known faults: {known}")
