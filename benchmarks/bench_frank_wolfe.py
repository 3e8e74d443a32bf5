"""Frank-Wolfe family (Jaggi 2013; Lacoste-Julien & Jaggi 2015; Négiar et al. 2020).

* :class:`LMO`: the linear minimization oracles of the main constraint sets (ℓ1 ball,
  simplex, ℓ2 ball, box, group-ℓ1 ball, nuclear-norm ball), batched over R gradients.
* :class:`FWStep`: one step and a fixed budget of ``frank_wolfe`` on ℓ1-constrained least
  squares from R feasible starts, for each step rule, and the peak memory of a budget run.
* :class:`ActiveSetBudget`: a fixed budget of ``away_frank_wolfe`` and
  ``pairwise_frank_wolfe`` (exact line search) on the same instance, and its peak memory.
* :class:`FWAccuracy`: lower-is-better quantities of the deterministic methods from x_0 = 0 —
  f − f* and the FW gap after a fixed budget, iterations until the gap ≤ ε·g(x_0).
* :class:`SFWBudget`: one step, a fixed budget and the peak memory of
  ``stochastic_frank_wolfe`` (SAG, SAGA, MHK, LF) on ℓ1-constrained logistic regression.
* :class:`SFWAccuracy`: mean f − f* and mean FW gap of each SFW variant after a fixed budget.
* :class:`SFWDesign`: SFW (SAG) on an a5a-shaped binary design, dense vs SciPy CSR storage
  (NumPy only).

f* is computed once per environment in ``setup_cache`` by
:func:`problems.constraints.constrained_minimum` (projected FISTA, certified by its FW gap
≤ 1e-12·max(1, |f*|)) and passed to every run, so no timed call pays for it.
"""

from __future__ import annotations

import numpy as np

from mastbench.backend import rng

from .common import XPBenchmark, binary_design, size

try:
    from mastbench.problems.constraints import (
        GroupL1Ball,
        L1Ball,
        L2Ball,
        LInfBall,
        NuclearBall,
        Simplex,
        constrained_minimum,
    )

    from mastbench.algorithms.frank_wolfe import (
        away_frank_wolfe,
        frank_wolfe,
        pairwise_frank_wolfe,
        stochastic_frank_wolfe,
    )
except ImportError:  # an older commit without Frank-Wolfe: asv skips the classes below
    frank_wolfe = None

#: step rules of ``frank_wolfe`` and variants of ``stochastic_frank_wolfe`` benchmarked (fixed
#: here, not read from the library, so that the asv parameter keys stay stable).
STEP_RULES = ("open-loop", "short", "line-search", "backtracking")
SFW_VARIANTS = ("SAG", "SAGA", "MHK", "LF")


def _require_fw() -> None:
    if frank_wolfe is None:
        raise NotImplementedError("mastbench.algorithms.frank_wolfe is not in this commit")


def _resolved(value: float, f_star: float) -> float:
    """``value`` floored at ρ = 1e-12·max(1, |f*|), the tolerance to which f* is certified.

    Below ρ, f − f* is not resolved and the gap is round-off (±1e-14, differing between
    backends); the floor keeps converged runs from reporting spurious changes to asv.
    """
    return max(float(value), 1e-12 * max(1.0, abs(f_star)))


# -- the linear minimization oracles -----------------------------------------------------------

#: side of the nuclear-ball matrices; the vector sets use d = side².
LMO_SIDE = size(64, 4)


def _constraint(name: str, d: int, side: int) -> object:
    """The constraint set ``name`` of radius 1 in dimension d (nuclear: side × side)."""
    if name == "l1":
        return L1Ball(1.0)
    if name == "simplex":
        return Simplex(1.0)
    if name == "l2":
        return L2Ball(1.0)
    if name == "linf":
        return LInfBall(1.0)
    if name == "group-l1":
        return GroupL1Ball(np.arange(d) // side, 1.0)
    return NuclearBall((side, side), 1.0)


class LMO(XPBenchmark):
    """s = argmin_{s ∈ D} ⟨g, s⟩ for R = 256 gradients of dimension d = 4096.

    Vector sets: O(R·d) (an argmax or a sign pass); group-ℓ1 (64 groups of 64): one
    (R, d) @ (d, G) product for the group norms; nuclear ball (64 × 64 matrices): a batched
    full SVD, O(R·64³).
    """

    params = (*XPBenchmark.params, ["l1", "simplex", "l2", "linf", "group-l1", "nuclear"])
    param_names = (*XPBenchmark.param_names, "constraint")
    replicates = size(256, 2)

    def setup_cache(self) -> dict:
        d = LMO_SIDE**2
        return {"g": np.random.default_rng(0).normal(size=(self.replicates, d))}

    def setup(self, cache: dict, backend: str, constraint: str) -> None:
        _require_fw()
        super().setup(backend)
        self.g = self.asarray(cache["g"])
        self.set = _constraint(constraint, LMO_SIDE**2, LMO_SIDE)
        self.sync(self.set.lmo(self.g))

    def time_lmo(self, cache: dict, backend: str, constraint: str) -> None:
        self.sync(self.set.lmo(self.g))


# -- deterministic Frank-Wolfe on ℓ1-constrained least squares ---------------------------------


def _least_squares_cache(n: int, d: int, radius: float, replicates: int) -> dict:
    """Gaussian least squares over the ℓ1 ball, its certified f*, and R projected starts."""
    from mastbench.problems import random as random_problems

    problem = random_problems.least_squares(n, d, rng(0))
    ball = L1Ball(radius)
    solution = constrained_minimum(problem, ball)
    starts = ball.project(np.random.default_rng(1).normal(size=(replicates, d)))
    return {
        "X": np.asarray(problem.X),
        "y": np.asarray(problem.y),
        "radius": radius,
        "f_star": solution.f_star,
        "certificate": solution.gap,
        "starts": starts,
    }


class _LeastSquaresCase(XPBenchmark):
    """ℓ1-constrained least squares (n × d Gaussian design), moved to the backend in setup.

    Subclasses define their own ``setup_cache`` (asv keys the cache by its source line).
    """

    n, d = size(1000, 30), size(400, 8)
    radius = size(10.0, 2.0)
    replicates = size(16, 2)

    def _setup_problem(self, cache: dict, backend: str) -> None:
        _require_fw()
        super().setup(backend)
        from mastbench.problems import LeastSquares

        self.problem = LeastSquares(self.asarray(cache["X"]), self.asarray(cache["y"]))
        self.ball = L1Ball(cache["radius"])
        self.f_star = cache["f_star"]
        self.x0 = self.asarray(cache["starts"])


class FWStep(_LeastSquaresCase):
    """``frank_wolfe`` from R = 16 starts, n = 1000, d = 400, ‖x‖₁ ≤ 10, per step rule.

    A step costs one gradient (two products with X, O(R·n·d)), plus two more gradients for
    the exact line search (dᵀAd from ∇f(x + d) − ∇f(x)) and, for backtracking, f at x, at
    each trial point and at the accepted one (one product each).  Peak memory of a
    budget run: the (n, d) design, O(R·n) residuals and O(R·d) iterates and directions —
    3.2 MB of data plus ~0.4 MB of temporaries at this size.
    """

    params = (*XPBenchmark.params, list(STEP_RULES))
    param_names = (*XPBenchmark.param_names, "step")
    budget = size(250, 3)

    def setup_cache(self) -> dict:
        return _least_squares_cache(self.n, self.d, self.radius, self.replicates)

    def setup(self, cache: dict, backend: str, step: str) -> None:
        self._setup_problem(cache, backend)
        self._run(step, 1)

    def _run(self, step: str, iters: int) -> object:
        return self.sync(
            frank_wolfe(
                self.problem, self.ball, self.x0, step=step, iters=iters,
                checkpoints=[iters], f_star=self.f_star,
            )
        )  # fmt: skip

    def time_one_step(self, cache: dict, backend: str, step: str) -> None:
        """One call with one step (includes the initial gradient and the metrics)."""
        self._run(step, 1)

    def time_budget(self, cache: dict, backend: str, step: str) -> None:
        """250 steps, metrics at the end only."""
        self._run(step, self.budget)

    def peakmem_budget(self, cache: dict, backend: str, step: str) -> None:
        self._run(step, self.budget)


class ActiveSetBudget(_LeastSquaresCase):
    """Away-step and pairwise FW (exact line search) from the starts of :class:`FWStep`.

    Each step scores all 2d vertices of the ℓ1 ball, one (R, d) @ (d, 2d) product, on top
    of the gradient.  Peak memory: the (2d, d) vertex list (2.6 MB at d = 400) and the
    (R, 2d) convex weights, besides the data of :class:`FWStep`.
    """

    params = (*XPBenchmark.params, ["away", "pairwise"])
    param_names = (*XPBenchmark.param_names, "algorithm")
    budget = size(200, 3)

    def setup_cache(self) -> dict:
        return _least_squares_cache(self.n, self.d, self.radius, self.replicates)

    def setup(self, cache: dict, backend: str, algorithm: str) -> None:
        self._setup_problem(cache, backend)
        self.method = away_frank_wolfe if algorithm == "away" else pairwise_frank_wolfe

    def _run(self) -> object:
        return self.sync(
            self.method(
                self.problem, self.ball, self.x0, step="line-search", iters=self.budget,
                checkpoints=[self.budget], f_star=self.f_star,
            )
        )  # fmt: skip

    def time_budget(self, cache: dict, backend: str, algorithm: str) -> None:
        """200 steps, metrics at the end only."""
        self._run()

    def peakmem_budget(self, cache: dict, backend: str, algorithm: str) -> None:
        self._run()


#: methods of :class:`FWAccuracy`: name → (function name, step rule).
FW_METHODS = {
    **{f"fw-{rule}": ("frank_wolfe", rule) for rule in STEP_RULES},
    "away-line-search": ("away_frank_wolfe", "line-search"),
    "pairwise-line-search": ("pairwise_frank_wolfe", "line-search"),
}


class FWAccuracy(_LeastSquaresCase):
    """Lower-is-better accuracy of the deterministic methods, from x_0 = 0 (one run).

    The instance of :class:`FWStep` (n = 1000, d = 400, ‖x‖₁ ≤ 10; the constrained minimizer
    has 29 nonzeros).  Deterministic runs: a change flags a change of the algorithm, not
    noise.  f* is certified to 1e-12 relative by projected FISTA.
    """

    params = (*XPBenchmark.params, list(FW_METHODS))
    param_names = (*XPBenchmark.param_names, "method")
    budget = size(1000, 20)
    eps = 1e-2

    def setup_cache(self) -> dict:
        return _least_squares_cache(self.n, self.d, self.radius, 1)

    def setup(self, cache: dict, backend: str, method: str) -> None:
        self._setup_problem(cache, backend)
        name, step = FW_METHODS[method]
        run = {
            "frank_wolfe": frank_wolfe,
            "away_frank_wolfe": away_frank_wolfe,
            "pairwise_frank_wolfe": pairwise_frank_wolfe,
        }[name]
        x0 = self.asarray(np.zeros(self.d))
        self.trace = self.sync(
            run(
                self.problem, self.ball, x0, step=step, iters=self.budget,
                checkpoints=np.arange(self.budget + 1), f_star=self.f_star,
            )
        )  # fmt: skip

    def track_subopt_after_budget(self, cache: dict, backend: str, method: str) -> float:
        """f(x_T) − f* after T = 1000 steps (floored at ρ, see :func:`_resolved`)."""
        return _resolved(self.trace.metrics["subopt"][-1, 0], self.f_star)

    def track_gap_after_budget(self, cache: dict, backend: str, method: str) -> float:
        """The FW gap g(x_T) = max_{s ∈ D} ⟨∇f(x_T), x_T − s⟩ after T = 1000 steps (floored
        at ρ)."""
        return _resolved(self.trace.metrics["gap"][-1, 0], self.f_star)

    def track_iterations_to_gap(self, cache: dict, backend: str, method: str) -> float:
        """First k with g(x_k) ≤ ε·g(x_0), ε = 1e-2 (T + 1 = 1001 if never within T)."""
        gap = self.trace.metrics["gap"][:, 0]
        below = np.flatnonzero(gap <= self.eps * gap[0])
        return float(self.trace.iterations[below[0]] if below.size else self.budget + 1)

    track_subopt_after_budget.unit = "f - f*"
    track_gap_after_budget.unit = "FW gap"
    track_iterations_to_gap.unit = "iterations"


# -- stochastic Frank-Wolfe on ℓ1-constrained logistic regression ------------------------------


def _logistic_cache(n: int, d: int, radius: float) -> dict:
    """Gaussian logistic regression (l2 = 1/n) over the ℓ1 ball and its certified f*."""
    from mastbench.problems import random as random_problems

    problem = random_problems.logistic(n, d, rng(0), l2=1.0 / n)
    solution = constrained_minimum(problem, L1Ball(radius))
    return {
        "X": np.asarray(problem.X),
        "y": np.asarray(problem.y),
        "radius": radius,
        "f_star": solution.f_star,
    }


class _LogisticCase(XPBenchmark):
    """ℓ1-constrained logistic regression (a1a-sized: n = 2000, d = 100, ‖w‖₁ ≤ 5), batch
    b = n/50 as in ``mastbench.reproductions.frank_wolfe``."""

    n, d = size(2000, 40), size(100, 5)
    radius = 5.0
    replicates = size(16, 2)

    def _setup_problem(self, cache: dict, backend: str) -> None:
        _require_fw()
        super().setup(backend)
        from mastbench.problems import Logistic

        self.problem = Logistic(self.asarray(cache["X"]), self.asarray(cache["y"]), 1.0 / self.n)
        self.ball = L1Ball(cache["radius"])
        self.f_star = cache["f_star"]
        self.x0 = self.asarray(np.zeros(self.d))
        self.batch = max(1, self.n // 50)

    def _run(self, variant: str, iters: int, checkpoints: object) -> object:
        return self.sync(
            stochastic_frank_wolfe(
                self.problem, self.ball, self.x0, variant=variant, batch_size=self.batch,
                iters=iters, rng=self.rng(0), replicates=self.replicates,
                checkpoints=checkpoints, f_star=self.f_star,
            )
        )  # fmt: skip


class SFWBudget(_LogisticCase):
    """``stochastic_frank_wolfe`` with R = 16 replicates, b = 40, per variant.

    A step gathers R·b rows, O(R·b·d), and updates the memory in place on NumPy and CuPy,
    O(R·b); namespaces without index assignment (array_api_strict, torch) use a one-hot
    update, O(R·b·n) time and an (R, b, n) temporary (10 MB here).  Peak memory: the (n, d)
    design (1.6 MB), the per-sample memory α of shape (R, n) (8·R·n B = 256 KB; LF keeps a
    second one, the substitute predictions σ) and the epoch's (R, n) int64 permutations
    (256 KB).
    """

    params = (*XPBenchmark.params, list(SFW_VARIANTS))
    param_names = (*XPBenchmark.param_names, "variant")
    budget = size(250, 3)

    def setup_cache(self) -> dict:
        return _logistic_cache(self.n, self.d, self.radius)

    def setup(self, cache: dict, backend: str, variant: str) -> None:
        self._setup_problem(cache, backend)
        self._run(variant, 1, [1])

    def time_one_step(self, cache: dict, backend: str, variant: str) -> None:
        """One call with one step (includes the memory set-up and the final metrics)."""
        self._run(variant, 1, [1])

    def time_budget(self, cache: dict, backend: str, variant: str) -> None:
        """250 steps (5 epochs), metrics at the end only."""
        self._run(variant, self.budget, [self.budget])

    def peakmem_budget(self, cache: dict, backend: str, variant: str) -> None:
        self._run(variant, self.budget, [self.budget])


class SFWAccuracy(_LogisticCase):
    """Mean f − f* and mean FW gap of each SFW variant after 10 epochs (500 steps), R = 8.

    Statistics of a seeded run, identical on every run of one commit.
    """

    params = (*XPBenchmark.params, list(SFW_VARIANTS))
    param_names = (*XPBenchmark.param_names, "variant")
    replicates = size(8, 2)
    budget = size(500, 10)

    def setup_cache(self) -> dict:
        return _logistic_cache(self.n, self.d, self.radius)

    def setup(self, cache: dict, backend: str, variant: str) -> None:
        self._setup_problem(cache, backend)
        self.trace = self._run(variant, self.budget, [0, self.budget])

    def track_subopt_after_budget(self, cache: dict, backend: str, variant: str) -> float:
        """Mean over replicates of f(w_T) − f* (floored at ρ)."""
        return _resolved(np.mean(self.trace.metrics["subopt"][-1]), self.f_star)

    def track_gap_after_budget(self, cache: dict, backend: str, variant: str) -> float:
        """Mean over replicates of the FW gap g(w_T) (full gradient; floored at ρ)."""
        return _resolved(np.mean(self.trace.metrics["gap"][-1]), self.f_star)

    track_subopt_after_budget.unit = "f - f*"
    track_gap_after_budget.unit = "FW gap"


class SFWDesign:
    """SFW (SAG) on an a5a-shaped binary design, dense array vs SciPy CSR (NumPy only).

    n = 6414, d = 123, 11 % nonzeros, labels of a planted model with 10 % flipped,
    l2 = 1/n, ‖w‖₁ ≤ 2; R = 16, b = n/50 = 128, 300 steps.  Each step gathers R·b rows (a
    dense ``take``, or CSR row indexing then densified), O(R·b·d) either way; the set-up and
    the final metrics take full products with X, O(R·n·d) dense against O(R·nnz) sparse.
    Peak memory: the design (6.3 MB dense, ~1 MB CSR), the (R, n) memory α (0.8 MB), the
    epoch's (R, n) permutations and per-step temporaries of R·b·d floats (2 MB).
    """

    params = (["dense", "sparse"],)
    param_names = ("storage",)
    n, d, density = size(6414, 60), size(123, 8), 0.11
    radius = 2.0
    replicates, budget = size(16, 2), size(300, 3)

    def setup_cache(self) -> dict:
        from mastbench.problems import Logistic

        generator = np.random.default_rng(0)
        X = binary_design(self.n, self.d, self.density, generator)
        margins = X @ generator.normal(size=self.d)
        y = np.where(margins >= np.median(margins), 1.0, -1.0)
        y = np.where(generator.random(self.n) < 0.1, -y, y)
        solution = constrained_minimum(Logistic(X, y, 1.0 / self.n), L1Ball(self.radius))
        return {"X": X, "y": y, "f_star": solution.f_star}

    def setup(self, cache: dict, storage: str) -> None:
        _require_fw()
        from mastbench.problems import Logistic

        X = cache["X"] if storage == "sparse" else cache["X"].toarray()
        self.problem = Logistic(X, cache["y"], 1.0 / self.n)
        self.ball = L1Ball(self.radius)
        self.f_star = cache["f_star"]

    def _run(self) -> object:
        return stochastic_frank_wolfe(
            self.problem, self.ball, np.zeros(self.d), variant="SAG",
            batch_size=max(1, self.n // 50), iters=self.budget, rng=rng(0),
            replicates=self.replicates, checkpoints=[self.budget], f_star=self.f_star,
        )  # fmt: skip

    def time_budget(self, cache: dict, storage: str) -> None:
        self._run()

    def peakmem_budget(self, cache: dict, storage: str) -> None:
        self._run()
