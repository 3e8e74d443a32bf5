"""RAMDA and its relatives (RMDA, ProxGen, ProxSGD, ProxSSI, MADGRAD, MDA), batched.

All methods minimize F = f + ψ (a :class:`problems.composite.Composite`; MADGRAD and MDA a
smooth f) from x0, running R replicates at once as (R, d) arrays.  ``batch_size=None`` uses
the full gradient ∇f (the deterministic case); otherwise each replicate draws ``batch_size``
component indices uniformly with replacement per step and uses their mean gradient.

Each algorithm is a :class:`~mastbench.algorithms.method.Method` (a frozen dataclass of its
hyperparameters over an explicit state) run by :func:`mastbench.algorithms.driver.run`; the
public functions validate their arguments, build the method and run it.

* :mod:`.dual_averaging`: the momentumized dual averaging shared by RAMDA, RMDA, MADGRAD, MDA;
* :mod:`.regularized`: RAMDA and RMDA; :mod:`.unregularized`: MADGRAD and MDA;
* :mod:`.adaptive`: ProxGen and ProxSSI; :mod:`.proximal_sgd`: ProxSGD;
* :mod:`.subproblem`: how the subproblems (4) and (6) are solved; :mod:`.moments`: the exact
  gradient moments RAMDA's dual averages estimate.

Recorded metrics (of the structured iterate Ŵ^t for the dual-averaging methods, of W^t for
the others; ``output="avg"`` records the averaged W^t of RAMDA/RMDA instead): ``objective``
F, ``stationarity2`` dist(0, ∂F)², ``support`` (number of active groups), and with
``track_optimum=True`` also ``subopt`` F − F* and ``support_errors`` (|supp Δ S*|).

Reference: Huang & Lee, arXiv 2403.14398 (RAMDA, Algorithm 1, eqs. (2)–(9), App. A.1);
ramda.md §2–§8 for the official code's defaults and schedules.
"""

from __future__ import annotations

from mastbench.algorithms._registry import AlgorithmSpec, register_algorithm
from mastbench.algorithms.proximal.adaptive import ProxGen, ProxSSI, prox_gen, prox_ssi
from mastbench.algorithms.proximal.moments import expected_squared_gradient
from mastbench.algorithms.proximal.proximal_sgd import ProxSGD, prox_sgd
from mastbench.algorithms.proximal.regularized import RAMDA, RMDA, ramda, rmda
from mastbench.algorithms.proximal.unregularized import MADGRAD, MDA, madgrad, mda

__all__ = [
    "MADGRAD",
    "MDA",
    "RAMDA",
    "RMDA",
    "ProxGen",
    "ProxSGD",
    "ProxSSI",
    "expected_squared_gradient",
    "madgrad",
    "mda",
    "prox_gen",
    "prox_sgd",
    "prox_ssi",
    "ramda",
    "rmda",
]

_PAPER = "Huang & Lee, RAMDA, arXiv 2403.14398"


for _fn, _method, _paper in (
    (ramda, RAMDA, f"{_PAPER}, Algorithm 1"),
    (rmda, RMDA, f"Huang & Lee, RMDA, arXiv 2112.02612; {_PAPER} §2"),
    (prox_gen, ProxGen, f"Yun et al. 2021, ProxGen; {_PAPER} eq. (6)"),
    (prox_ssi, ProxSSI, f"Deleu & Bengio, arXiv 2102.03869; {_PAPER} Table 6"),
    (prox_sgd, ProxSGD, f"Yang et al. 2020, ProxSGD; {_PAPER} App. A.1"),
    (madgrad, MADGRAD, "Defazio & Jelassi, arXiv 2101.11075"),
    (mda, MDA, "Jelassi & Defazio, arXiv 2010.10502"),
):
    register_algorithm(
        AlgorithmSpec(
            name=_fn.__name__,
            family="ramda",
            run=_fn,
            paper=_paper,
            stochastic=True,
            method=_method,
        )
    )
del _fn, _method, _paper
