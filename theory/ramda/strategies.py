"""Hypothesis strategies of the RAMDA theorems' instances (arXiv 2403.14398), built from the
shared strategies of :mod:`mastbench.strategies`.  Each is the ``strategy`` of its theorems:

* :func:`reference_instances` — tiny least-squares composites for the reference trajectories
  (:mod:`.references`): n, d ≤ 6, ℓ1 or a group lasso on a random partition (free coordinates
  included), λ from 0 to past λ_max (every coordinate zeroed), l2 from 0 up, starts at 0,
  of unit size, or far (×64), and schedules drawn inside each method's range (η up to 2/L,
  decays, momentum weights down to 1/64, restarts, the ramp, ε down to 10⁻⁶, β up to 0.999);
* :func:`composite_instances` — planted group-sparse logistic regressions (``ramda.stagewise``):
  d up to 20, no to all groups active, λ/λ_max from 0.05 to 0.95, l2 from 10⁻³ to 1, starts
  at 0, random, or far, and batch sizes;
* :func:`family_instances` — fresh draws (data, start, horizon) of the family a finite-horizon
  check of Theorems 2–4 is asserted on (:class:`~.instances.PlantedFamily`);
* :func:`gradient_instances` — least squares and a point W for the minibatch oracle
  (:mod:`.oracle`): n from 1 (σ² = 0) to 8, data scales 10^±2, batch sizes 1 to 2n.

Data are dyadic rationals where a reference computes exactly (:class:`fractions.Fraction`).
Monte-Carlo checks of drawn instances use the level
:data:`~mastbench.theory.ramda.instances.SEARCH_LEVEL` (Bonferroni over the search).
Hypothesis is imported when a strategy is built: it is a test dependency
(``mastbench[test]``), and this module is imported with the family.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.composite import Composite
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.regularizers import L1, GroupLasso

from .instances import SEARCH_LEVEL, CompositeInstance, PlantedFamily, ReferenceInstance

__all__ = [
    "composite_instances",
    "family_instances",
    "gradient_instances",
    "reference_instances",
]

#: The schedule parameters each reference theorem draws (the keys of its default parameters
#: that shape the run; ``iters`` is drawn for all).
REFERENCE_SCHEDULES = ("prox_sgd", "dual_averaging", "ramda", "adam", "madgrad", "mda")


def _dyadic(gen: np.random.Generator, shape: Any, scale: float) -> np.ndarray:
    """Standard normal entries rounded to multiples of 1/8, times ``scale`` (a power of 2):
    exact in binary, so exact as fractions."""
    return np.round(8 * gen.standard_normal(shape)) / 8 * scale


def _groups(draw: Any, st: Any, d: int) -> list[list[int]]:
    """A random partition of range(d) into contiguous groups, or (d > 1, one draw in two) of
    range(d − 1), the last coordinate then free (unregularized)."""
    covered = d - 1 if d > 1 and draw(st.booleans()) else d
    groups, start = [], 0
    while start < covered:
        size = draw(st.integers(1, covered - start))
        groups.append(list(range(start, start + size)))
        start += size
    return groups


def _log_uniform(low: float, high: float) -> Any:
    """Floats log-uniform in [low, high]."""
    from hypothesis import strategies as st

    return st.floats(np.log(low), np.log(high)).map(lambda e: float(min(max(np.exp(e), low), high)))


def _schedule(draw: Any, st: Any, kind: str, L: float, iters: int, solver: str) -> dict[str, Any]:
    """Schedule parameters of the reference theorem ``kind`` inside its method's range; the
    learning rate is θ/L with θ log-uniform in [2⁻⁶, 2] (the Lipschitz constant L of ∇f), the
    floor ε log-uniform in [10⁻⁶, 1], or [10⁻³, 1] when PG solves the subproblem (PG's
    budget then suffices on most draws)."""
    floor = _log_uniform(1e-3 if solver == "pg" else 1e-6, 1.0)
    lr = draw(_log_uniform(2.0**-6, 2.0)) / L
    weight = _log_uniform(2.0**-6, 1.0)
    if kind == "prox_sgd":
        return {"lr": lr, "rho": draw(weight)}
    if kind in ("dual_averaging", "ramda"):
        cuts = draw(st.lists(st.integers(1, max(1, iters - 1)), max_size=2, unique=True))
        schedule = {
            "lr": lr,
            "lr_decay": draw(st.sampled_from([0.0, 0.25, 1.0])),
            "momentum": draw(weight),
            "momentum_decay": draw(st.sampled_from([0.0, 0.5, 2.0])),
            "milestones": tuple(sorted(cuts)),
            "gamma": draw(st.sampled_from([0.1, 0.5, 1.0])),
            "ramp": draw(st.booleans()),
        }
        if kind == "ramda":
            schedule["eps"] = draw(floor)
        return schedule
    if kind == "adam":
        betas = (draw(st.sampled_from([0.0, 0.5, 0.9])), draw(st.sampled_from([0.5, 0.9, 0.999])))
        return {
            "lr": lr,
            "betas": betas,
            "eps": draw(floor),
            "weight_decay": draw(st.sampled_from([0.0, 0.1, 0.5])),
        }
    schedule = {"lr": lr, "momentum": draw(weight)}
    if kind == "madgrad":
        schedule["eps"] = draw(floor)
    return schedule


def reference_instances(
    kind: str, *, regularizers: tuple[str, ...] = ("l1",), solvers: tuple[str, ...] = ("exact",)
) -> Any:
    """Instances of a reference-trajectory theorem (:mod:`.references`).

    Parameters
    ----------
    kind : str
        The schedule drawn (one of :data:`REFERENCE_SCHEDULES`).
    regularizers : tuple of str
        ``"l1"`` and/or ``"group"``.
    solvers : tuple of str
        How the implementation solves its subproblem (``"exact"``, ``"pg"``).
    """
    from hypothesis import strategies as st

    from mastbench.strategies import seeds

    if kind not in REFERENCE_SCHEDULES:
        raise ValueError(f"kind must be one of {REFERENCE_SCHEDULES}, got {kind!r}")

    @st.composite
    def draw_instance(draw: st.DrawFn) -> ReferenceInstance:
        n, d = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        gen = np.random.default_rng(draw(seeds()))
        scale = 2.0 ** draw(st.integers(-3, 3))
        X = _dyadic(gen, (n, d), scale)
        y = _dyadic(gen, n, 1.0)
        l2 = draw(st.sampled_from([0.0, 0.125, 1.0]))
        f = LeastSquares(X, y, l2=l2)
        regularizer = draw(st.sampled_from(regularizers))
        groups = _groups(draw, st, d) if regularizer == "group" else [[j] for j in range(d)]
        gradient0 = np.abs(X.T @ y) / n
        lam_max = max(float(np.max([np.linalg.norm(gradient0[g]) for g in groups])), 1.0)
        lam = draw(st.sampled_from([0.0, 0.125, 0.5, 1.0, 2.0])) * 2.0 ** round(np.log2(lam_max))
        psi = L1(lam) if regularizer == "l1" else GroupLasso(groups, lam, d=d)
        start = draw(st.sampled_from(["zero", "random", "far"]))
        x0 = {"zero": 0.0, "random": 1.0, "far": 64.0}[start] * _dyadic(gen, d, 1.0)
        solver = draw(st.sampled_from(solvers))
        iters = draw(st.integers(1, 12))
        L = float(np.linalg.eigvalsh(X.T @ X / n).max()) + l2
        schedule = {"iters": iters, **_schedule(draw, st, kind, max(L, 1e-3), iters, solver)}
        return ReferenceInstance(
            f"hypothesis {regularizer} n={n} d={d} λ={lam:g} l2={l2:g} start={start} {solver}",
            problem=Composite(f, psi),
            regularizer=regularizer,
            x0=x0,
            solver=solver,
            schedule=schedule,
        )

    return draw_instance()


def composite_instances(*, min_l2: float = 1e-3, batch: bool = False) -> Any:
    """Planted group-sparse logistic regressions F = f + λΣ_g√|g|‖W_g‖ with a start.

    n ∈ [20, 80] samples, 2–5 groups of 1–4 coordinates, 0 to all groups active (the
    sparsity of W*), λ = r·λ_max with r log-uniform in [0.05, 0.95], l2 log-uniform in
    [``min_l2``, 1] (the conditioning), W⁰ at 0, standard normal, or far (×10).

    Parameters
    ----------
    min_l2 : float
        Smallest l2 drawn.
    batch : bool
        Draw a minibatch size b ∈ [1, n] (``batch_size``).
    """
    from hypothesis import strategies as st
    from mastbench.problems.group_sparse import random_group_logistic

    from mastbench.backend import rng
    from mastbench.strategies import seeds

    @st.composite
    def draw_instance(draw: st.DrawFn) -> CompositeInstance:
        n = draw(st.integers(20, 80))
        n_groups, size = draw(st.integers(2, 5)), draw(st.integers(1, 4))
        active = draw(st.integers(0, n_groups))
        ratio = draw(_log_uniform(0.05, 0.95))
        l2 = draw(_log_uniform(min_l2, 1.0))
        seed = draw(seeds())
        problem = random_group_logistic(
            n, n_groups, size, active, rng(seed), lam_ratio=ratio, l2=l2
        )
        start = draw(st.sampled_from(["zero", "random", "far"]))
        x0 = {"zero": 0.0, "random": 1.0, "far": 10.0}[start] * np.random.default_rng(
            seed
        ).standard_normal(problem.d)
        fields: dict[str, Any] = {}
        if batch:
            fields["batch_size"] = draw(st.integers(1, n))
        described = " ".join(f"{k}={v:g}" for k, v in fields.items())
        return CompositeInstance(
            f"hypothesis group logistic n={n} G={n_groups}x{size} active={active} "
            f"λ/λmax={ratio:.3g} l2={l2:.3g} start={start} {described}".rstrip(),
            problem=problem,
            x0=x0,
            level=SEARCH_LEVEL,
            **fields,
        )

    return draw_instance()


def gradient_instances() -> Any:
    """Least squares (n ∈ [1, 8], d ∈ [1, 4], data scaled by 10^e, e ∈ [−2, 2], l2 ∈ {0, 0.1,
    1}) with a point W and a batch size b ∈ [1, 2n] (drawn with replacement)."""
    from hypothesis import strategies as st

    from mastbench.strategies import seeds

    @st.composite
    def draw_instance(draw: st.DrawFn) -> CompositeInstance:
        n, d = draw(st.integers(1, 8)), draw(st.integers(1, 4))
        gen = np.random.default_rng(draw(seeds()))
        scale = 10.0 ** draw(st.integers(-2, 2))
        X = scale * gen.standard_normal((n, d))
        y = scale * gen.standard_normal(n)
        l2 = draw(st.sampled_from([0.0, 0.1, 1.0]))
        b = draw(st.integers(1, 2 * n))
        return CompositeInstance(
            f"hypothesis least squares n={n} d={d} scale={scale:g} l2={l2:g} b={b}",
            problem=Composite(LeastSquares(X, y, l2=l2), L1(0.0)),
            x0=gen.standard_normal(d),
            batch_size=b,
            level=SEARCH_LEVEL,
        )

    return draw_instance()


def family_instances(family: PlantedFamily, *, horizons: tuple[int, int] | None = None) -> Any:
    """Instances of a :class:`~mastbench.theory.ramda.instances.PlantedFamily`: a fresh
    seed for the data and the start W⁰ = ``start_scale``·N(0, I), and the horizon T drawn in
    ``horizons`` (or the theorem's default)."""
    from hypothesis import strategies as st

    from mastbench.strategies import seeds

    iters = st.none() if horizons is None else st.integers(*horizons)
    return st.builds(family.instance, seeds(), iters).map(lambda i: i.replace(level=SEARCH_LEVEL))
