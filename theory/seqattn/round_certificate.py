"""Which group a state of one Sequential Attention round is certified to select.

A round of regularized linear Sequential Attention (``shared/theory/seqattn.md`` §4) with
selected groups S and weight decay λ runs gradient steps on

    F(θ, w) = 𝓛(u) + (λ/2) Σ_{i∉S} (w_i² + ‖θ_i‖²),   u = θ ⊙ expand(s(w)),

s_i(w) = 1 on S and w_i off S, and selects argmax_{i∉S} |w_i|.  Its minimum is
G* = min_β G(β), G(β) = 𝓛(β) + λ Σ_{i∉S} ‖β_i‖ (Hoff), and equivalence with OMP is a statement
about that minimum.  :func:`round_optimum` certifies β* = argmin G and a radius such that *every*
state with F(θ, w) − G* within it selects the single active group of β*, or says why it
cannot; :meth:`RoundOptimum.gap` bounds the optimality gap of the state a finite run ends in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from mastbench.problems.group_penalties import group_lasso, group_lasso_kkt

__all__ = ["RoundOptimum", "round_objective", "round_optimum"]

#: Relative round-off allowance added to the measured gap F − G*, times the largest of 1,
#: |F| and |𝓛(0)| (float64 sums of a few hundred terms no larger than 𝓛(0) near the optimum).
GAP_ROUNDOFF = 1e-12


@dataclass(frozen=True)
class RoundOptimum:
    """The optimum of a round, and the states it certifies (:func:`round_optimum`).

    Attributes
    ----------
    selected : tuple of int
        The selected groups S.
    lam : float
        The round's weight decay λ.
    lower : float
        A certified lower bound of G* = min G.
    scale : float
        max(1, |𝓛(0)|, |``lower``|): the scale of the round-off of F.
    group : int or None
        The single group ∉ S active at β* = argmin G, when β* is certified 1-sparse off S.
    window : str
        ``"inside"`` (β* certified 1-sparse off S: λ in the 1-sparse window), ``"outside"``
        (β* certified to have no or several active groups off S) or ``"uncertain"``.
    radius : float
        Every state with F − G* ≤ ``radius`` selects ``group`` (0 when none is certified).
    """

    selected: tuple[int, ...]
    lam: float
    lower: float
    scale: float
    group: int | None
    window: str
    radius: float

    def gap(self, problem: Any, theta: np.ndarray, w: np.ndarray) -> float:
        """ε ≥ F(θ, w) − G*: F of the state minus ``lower``, plus round-off."""
        value = round_objective(problem, self.selected, self.lam, theta, w)
        return max(value - self.lower, 0.0) + GAP_ROUNDOFF * max(self.scale, abs(value))

    def certifies(self, gap: float) -> bool:
        """Whether every state with F − G* ≤ ``gap`` selects ``group``."""
        return self.group is not None and gap <= self.radius


def round_objective(
    problem: Any, selected: Sequence[int], lam: float, theta: np.ndarray, w: np.ndarray
) -> float:
    """F(θ, w) = 𝓛(θ ⊙ expand(s(w))) + (λ/2) Σ_{i∉S} (w_i² + ‖θ_i‖²) on the host."""
    groups = problem.groups
    on = np.zeros(groups.t, dtype=bool)
    on[list(selected)] = True
    u = theta * np.where(on, 1.0, w)[groups.assignment]
    off = ~on
    decay = np.sum(w[off] ** 2) + np.sum(theta[off[groups.assignment]] ** 2)
    return problem.value_host(u) + 0.5 * lam * float(decay)


def _selects(gap: float, lam: float, mu: float, slack: np.ndarray, active_norm: float) -> bool:
    """Whether every state with F − G* ≤ ``gap`` has |w_j*| > max_{i∉S∪{j*}} |w_i|.

    With δ_i = |w_i| − ‖θ_i‖ and a_i = ‖u_i‖ = |w_i|‖θ_i‖ (i ∉ S):
    |w_i| = (δ_i + √(δ_i² + 4a_i))/2, increasing in δ_i and a_i; F − G(u) = (λ/2)Σδ_i², so
    |δ_i| ≤ D = √(2ε/λ); G(u) − G* ≥ (μ/2)‖u − β*‖² and, for i inactive at β*,
    G(u) − G* ≥ (λ − ‖∇_i𝓛(β*)‖)‖u_i‖ (convexity of 𝓛, subgradient inequality of each
    penalty term).  ``slack`` holds lower bounds of λ − ‖∇_i𝓛(β*)‖ over the inactive groups,
    ``active_norm`` a lower bound of ‖β*_j*‖.
    """
    D = np.sqrt(2 * gap / lam)
    ball = np.sqrt(2 * gap / mu)
    others = np.minimum(gap / slack, ball)
    upper = (D + np.sqrt(D * D + 4 * others)) / 2
    low = max(0.0, active_norm - ball)
    lower = (-D + np.sqrt(D * D + 4 * low)) / 2
    return bool(lower > (upper.max() if upper.size else 0.0))


def round_optimum(
    problem: Any, selected: Sequence[int], lam: float, start: np.ndarray | None = None
) -> RoundOptimum:
    """The optimum of a round with selected groups S and weight decay λ, with the radius of
    optimality gaps F − G* within which every state of the round selects its active group.

    β̂ = :func:`~mastbench.problems.group_penalties.group_lasso` (S unpenalized, groups at
    round-off level set to 0) with largest per-group KKT residual κ, so
    dist(0, ∂G(β̂)) ≤ r = √t·κ; G is μ-strongly convex (μ = λ_min(∇²𝓛) > 0), so
    ‖β̂ − β*‖ ≤ e = r/μ and G(β̂) − r·e ≤ G* ≤ G(β̂).  A group i ∉ S is certified inactive
    at β* when ‖∇_i𝓛(β̂)‖ + L·e < λ (then ‖∇_i𝓛(β*)‖ < λ, so β*_i = 0), active when
    ‖β̂_i‖ > e.  With exactly one certified active group j* and every other group ∉ S
    certified inactive, ``radius`` is the largest ε (bisection) that passes the test of
    :func:`_selects`.

    Parameters
    ----------
    problem : GroupProblem
        Least squares with a Hessian ∇²𝓛 ≻ 0 (``problem.mu`` > 0).
    selected : sequence of int
        The selected groups S of the round.
    lam : float
        The round's weight decay λ > 0.
    start : numpy.ndarray, optional
        Where the group-LASSO solver starts (a state of the round, u = θ ⊙ s(w), saves
        iterations; the certificate does not depend on it).

    Returns
    -------
    RoundOptimum

    Raises
    ------
    ValueError
        If ``problem.mu`` is not positive (G need not be strongly convex: no certificate).
    """
    mu, L = float(problem.mu), float(problem.L)
    if not mu > 0:
        raise ValueError(f"round_optimum needs a strongly convex loss (mu > 0), got mu = {mu}")
    groups = problem.groups
    S = tuple(sorted(int(i) for i in selected))
    off = np.ones(groups.t, dtype=bool)
    off[list(S)] = False
    # β̂ with the groups the solver leaves at round-off level set to 0, so that the KKT
    # residual of group_lasso_kkt is the exact per-group distance of 0 to ∂G(β̂)
    x = group_lasso(problem, lam, unpenalized=S, x0=start).x
    norms = groups.norms_host(x)
    x = np.where((norms > 1e-10 * max(norms.max(), 1e-300))[groups.assignment], x, 0.0)
    norms = groups.norms_host(x)
    r = np.sqrt(groups.t) * group_lasso_kkt(problem, x, lam, S)
    e = r / mu
    lower = problem.value_host(x) + lam * float(np.sum(norms[off])) - r * e
    scale = max(1.0, abs(problem.value_host(np.zeros(problem.d))), abs(lower))
    gradient = problem.gradient_norms_host(x) + L * e
    inactive = off & (gradient < lam)
    active = off & (norms > e)
    if np.any(inactive & active) or np.any(off & ~inactive & ~active):
        return RoundOptimum(S, lam, lower, scale, None, "uncertain", 0.0)
    if int(active.sum()) != 1:
        return RoundOptimum(S, lam, lower, scale, None, "outside", 0.0)
    group = int(np.flatnonzero(active)[0])
    slack = (lam - gradient)[inactive]
    active_norm = float(norms[group] - e)
    # _selects is monotone in ε and fails once ‖β*_j*‖ − √(2ε/μ) ≤ 0
    high = 0.5 * mu * active_norm**2
    low = high * 1e-30
    if not _selects(low, lam, mu, slack, active_norm):
        return RoundOptimum(S, lam, lower, scale, group, "inside", 0.0)
    for _ in range(50):
        middle = np.sqrt(low * high)
        passes = _selects(middle, lam, mu, slack, active_norm)
        low, high = (middle, high) if passes else (low, middle)
    return RoundOptimum(S, lam, lower, scale, group, "inside", low)
