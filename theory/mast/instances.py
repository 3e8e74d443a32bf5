"""The typed instances of the MAST theorems, one class per kind of setting.

Each is a frozen dataclass on :class:`~mastbench.theory.Instance` (``repr=False``: an
instance prints as its class and name).

Notation of arXiv 2311.16086 and ``shared/theory/mast.md``: f the objective, D the sketch
distribution (S ~ D, E[S] = I), v the shift, f_D(x) = E_S f(v + S(x − v)) the MAST objective,
x_D* its minimizer, x^0 the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from mastbench.theory import Instance

__all__ = [
    "DistributedInstance",
    "ImportanceInstance",
    "LSVRDSGInstance",
    "MinibatchInstance",
    "MonteCarloInstance",
    "ObjectiveInstance",
    "RunInstance",
    "SketchInstance",
]


@dataclass(frozen=True, eq=False, repr=False)
class SketchInstance(Instance):
    """A sketch distribution D alone (the sketch-constant lemma).

    Attributes
    ----------
    sketch : Sketch
        The distribution D with a finite, enumerable support.
    """

    sketch: Any


@dataclass(frozen=True, eq=False, repr=False)
class ObjectiveInstance(Instance):
    """A MAST objective f_D and points at which pointwise lemmas are checked.

    Attributes
    ----------
    problem : Problem
        f: a quadratic, least squares or ℓ2-regularized logistic regression.
    sketch : Sketch
        D, with a finite support.
    shift : numpy.ndarray
        v, shape (d,).
    points : numpy.ndarray
        The points x, shape (K, d) (the lemmas add v, x* and x_D*).
    interpolation : bool
        Whether Δ = f_D* − f* = 0 by construction (v = x*, or duplicated features).
    """

    problem: Any
    sketch: Any
    shift: np.ndarray
    points: np.ndarray
    interpolation: bool = False


@dataclass(frozen=True, eq=False, repr=False)
class RunInstance(Instance):
    """A run of single-node DSGD: f, D, v and x^0, with the run lengths the theorem reads.

    Attributes
    ----------
    problem : Problem
        f (a quadratic for the exact engine).
    sketch : Sketch
        D, with a finite support.
    shift : numpy.ndarray or None
        v, shape (d,) (None: v = 0 as the method's default).
    x0 : numpy.ndarray
        x^0, shape (d,).
    iters : int
        T, the last iteration of a rate bound over t = 0..T.
    horizons : tuple of int
        The horizons T of a bound on min_{t<T} (nonconvex rates).
    gap : str
        The neighbourhood constant: ``"delta"`` for Δ = f_D* − f*, ``"delta_prime"`` for
        Δ' = f_D* − E_S f_S^inf.
    eps2_fraction : float
        φ of the corollary of T-NC: ε² = φ‖∇f_D(x^0)‖².
    """

    problem: Any
    sketch: Any
    shift: np.ndarray | None
    x0: np.ndarray
    iters: int = 100
    horizons: tuple[int, ...] = ()
    gap: str = "delta"
    eps2_fraction: float = 0.5


@dataclass(frozen=True, eq=False, repr=False)
class MinibatchInstance(RunInstance):
    """DSGD option II: data minibatches of b of the n components of f, an optional compressor.

    Attributes
    ----------
    batch : int
        b, the minibatch size.
    compressor : Sketch or None
        An unbiased diagonal compressor Q applied to the minibatch gradient.
    replacement : bool
        Minibatches drawn with replacement (θ = 1/b) or without (θ = (n − b)/(b(n − 1))).
    """

    batch: int = 1
    compressor: Any = None
    replacement: bool = True


@dataclass(frozen=True, eq=False, repr=False)
class LSVRDSGInstance(RunInstance):
    """L-SVRDSG over a uniform discrete D = (1/N)Σ_j δ_{S_j}.

    Attributes
    ----------
    prob : float or None
        p, the probability of refreshing the reference point (None: p = 1/N).
    minibatch : str
        ``"fixed"`` (the reference minibatch is drawn with the reference point) or
        ``"resampled"`` (drawn every step).
    """

    prob: float | None = None
    minibatch: str = "fixed"


@dataclass(frozen=True, eq=False, repr=False)
class MonteCarloInstance(RunInstance):
    """A DSGD run measured by Monte Carlo over R batched replicates.

    Attributes
    ----------
    replicates : int
        R.
    seed : int
        Seed of the run's generator.
    """

    replicates: int = 1000
    seed: int = 0


@dataclass(frozen=True, eq=False, repr=False)
class ImportanceInstance(RunInstance):
    """DSGD with importance sampling q over the outcomes of a discrete D = Σ_j w_jδ_{S_j}.

    Attributes
    ----------
    q : str or None
        ``None`` for q_j ∝ w_jλ_max(S_jᵀS_j), ``"skewed"`` for q_j ∝ j.
    """

    q: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class DistributedInstance(Instance):
    """Distributed DSGD over M clients f_1..f_M, each with its sketch D_i.

    Attributes
    ----------
    problems : list of Quadratic
        f_i, i = 1..M.
    sketches : list of Sketch or Permutation
        D_i, one per client, or one Permutation (IST) sampling the clients' sketches jointly.
    shift : numpy.ndarray
        v, shape (d,).
    x0 : numpy.ndarray
        x^0, shape (d,).
    horizons : tuple of int
        The horizons T of a bound on min_{t<T}.
    """

    problems: list[Any]
    sketches: Any
    shift: np.ndarray
    x0: np.ndarray
    horizons: tuple[int, ...] = ()
