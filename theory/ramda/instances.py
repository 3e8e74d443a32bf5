"""The typed instances of the RAMDA family (arXiv 2403.14398): a subproblem (4)/(6), a
composite problem F = f + ψ with a start, and a reference-trajectory setting."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.composite import Composite
from mastbench.problems.regularizers import Regularizer
from mastbench.theory._core import Instance

__all__ = [
    "SEARCH_LEVEL",
    "CompositeInstance",
    "PlantedFamily",
    "ReferenceInstance",
    "SubproblemInstance",
]

#: The confidence level of the Monte-Carlo checks on the instances a search draws (``mastbench
#: falsify``): a 99 % interval reports a violation that is not there on up to 1 % of the
#: instances, so a search over N draws, steered towards the largest ratios, would find one
#: among a few hundred; at 1 − 10⁻⁵ (Bonferroni over up to 1000 draws) the search as a whole
#: reports a false violation with probability ≤ 1 %.
SEARCH_LEVEL = 1 - 1e-5


@dataclass(frozen=True, eq=False)
class SubproblemInstance(Instance):
    """A batch of subproblems Q(Z) = aψ(Z) + ⟨V, Z⟩ + ½⟨Z − C, P(Z − C)⟩ (arXiv 2403.14398,
    eq. (4); Theorem 1), one per replicate.

    Attributes
    ----------
    psi : Regularizer
        ψ (ℓ1 or the group lasso).
    a : float
        The weight a ≥ 0 of ψ (α_t in RAMDA, η_t in ProxGen).
    V, P, C : numpy.ndarray, shape (R, d)
        Linear term, diagonal P = Diag(p) ≻ 0 (μ = min p, L = max p per row) and centre.
    Z0 : numpy.ndarray, shape (R, d)
        The solver's warm start Z⁰.
    """

    psi: Regularizer
    a: float
    V: np.ndarray
    P: np.ndarray
    C: np.ndarray
    Z0: np.ndarray


@dataclass(frozen=True, eq=False)
class CompositeInstance(Instance):
    """A composite problem F = f + ψ (f a finite sum, ψ a group lasso) with a start.

    Attributes
    ----------
    problem : Composite
        F, with its certified W*, F* and S*.
    x0 : numpy.ndarray, shape (d,)
        W⁰, the start and anchor of the dual averaging (for ``ramda.minibatch-gradient``, the
        point W at which the minibatch gradient is drawn).
    eps : float
        The preconditioner floor δ = ε of ProxGen (P^t ⪰ δI, (C-5)).
    batch_size : int or None
        Minibatch size b of a stochastic run (None: full batch).
    replicates : int
        Independent replicates R of a stochastic run.
    milestones : tuple of float
        Restart points of the paper's schedule as fractions of the horizon T (App. A.1).
    iters : int or None
        The horizon T of a finite-horizon check (None: the theorem's default).
    level : float
        The simultaneous confidence level of a Monte-Carlo check's intervals (0.99; a search
        over many instances uses a higher one, :data:`SEARCH_LEVEL`).
    """

    problem: Composite
    x0: np.ndarray
    eps: float = 1.0
    batch_size: int | None = None
    replicates: int = 1
    milestones: tuple[float, ...] = ()
    iters: int | None = None
    level: float = 0.99

    @cached_property
    def runs(self) -> dict[tuple[Any, ...], Any]:
        """The deterministic runs made on this instance, by their parameters, filled by the
        theorems that read them: one full-batch run serves every theorem checked on the same
        instance object."""
        return {}


@dataclass(frozen=True, eq=False)
class ReferenceInstance(Instance):
    """A tiny least-squares composite problem on which an algorithm is compared, step by
    step, with a reference written from its paper.

    Attributes
    ----------
    problem : Composite
        F = f + ψ, f = (1/2n)‖Xw − y‖² + (l2/2)‖w‖² (f a dense
        :class:`~mastbench.problems.least_squares.LeastSquares`).
    regularizer : str
        ``"l1"`` (ψ = λ‖·‖₁) or ``"group"`` (group lasso).
    x0 : numpy.ndarray, shape (d,)
        The start W⁰.
    solver : str
        How the implementation solves its subproblem: ``"exact"`` or ``"pg"``.
    tol : float
        The round-off allowance: deviations ≤ tol·max(1, max|W^ref|).
    schedule : mapping
        Overrides of the theorem's default parameters (learning rate, momentum, decays,
        milestones, ε, β...).
    """

    problem: Composite
    regularizer: str
    x0: np.ndarray
    solver: str = "exact"
    tol: float = 1e-12
    schedule: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlantedFamily:
    """A family of planted group-sparse logistic regressions F = f + λΣ_g√|g|‖W_g‖
    (:func:`mastbench.problems.group_sparse.random_group_logistic`, Gaussian X, the first
    ``n_active`` groups planted, 5 % of labels flipped, λ = ``lam_ratio``·λ_max) with starts
    W⁰ = ``start_scale``·N(0, I): the instances on which a finite-horizon check is asserted.

    Theorems 2–4 of arXiv 2403.14398 give no rate, so a check at a finite horizon T states a
    tolerance observed on such a family; outside it the theorem promises nothing at T.
    """

    n: int
    n_groups: int
    group_size: int
    n_active: int
    lam_ratio: float
    l2: float
    start_scale: float

    def describe(self) -> str:
        """The family in words (for instance names and reasons)."""
        return (
            f"group logistic n={self.n} G={self.n_groups}x{self.group_size} "
            f"λ={self.lam_ratio:g}·λ_max l2={self.l2:g}"
        )

    def instance(self, seed: int, iters: int | None = None) -> CompositeInstance:
        """The family's instance drawn with ``seed`` (data and start), horizon ``iters``."""
        from mastbench.problems.group_sparse import random_group_logistic

        from mastbench.backend import rng

        problem = random_group_logistic(
            self.n,
            self.n_groups,
            self.group_size,
            self.n_active,
            rng(seed),
            lam_ratio=self.lam_ratio,
            l2=self.l2,
        )
        x0 = self.start_scale * np.random.default_rng(seed).standard_normal(problem.d)
        horizon = "" if iters is None else f" T={iters}"
        return CompositeInstance(
            f"{self.describe()} seed={seed}{horizon}", problem=problem, x0=x0, iters=iters
        )

    def reasons(self, instance: CompositeInstance) -> list[str]:
        """Why ``instance`` is not of the family (sizes, l2 and λ/λ_max, as observable on
        its problem; the planted support and the start's law are not checked)."""
        from mastbench.problems.group_sparse import lambda_max
        from mastbench.problems.logistic import Logistic

        f, psi = instance.problem.f, instance.problem.psi
        groups = list(getattr(psi, "groups", ()))
        sizes = {int(g.size) for g in groups}
        same = (
            isinstance(f, Logistic)
            and f.n == self.n
            and len(groups) == self.n_groups
            and sizes == {self.group_size}
            and f.d == self.n_groups * self.group_size
            and math.isclose(float(f.l2), self.l2, rel_tol=1e-12)
            and math.isclose(psi.lam / lambda_max(f, groups), self.lam_ratio, rel_tol=1e-9)
        )
        if same:
            return []
        return [
            f"outside the family the finite-horizon tolerance is asserted on "
            f"({self.describe()}): the theorem gives no rate at a finite T"
        ]
