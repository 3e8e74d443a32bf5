"""How RAMDA's subproblem (4) and ProxGen's (6) are solved: exactly, or by PG (Algorithm 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastbench.algorithms._subproblem import solve_exact, solve_pg
from mastbench.algorithms.proximal._common import check_choice
from mastbench.backend import array_namespace
from mastbench.validation import check_int, check_positive

__all__ = ["SubproblemSolver"]


@dataclass(frozen=True)
class SubproblemSolver:
    """The solver of Q(Z) = aψ(Z) + ⟨V, Z⟩ + ½‖Z − C‖²_P and its stopping rule.

    Attributes
    ----------
    solver : {"pg", "exact"}
        PG (Algorithm 2 of arXiv 2403.14398, :func:`~mastbench.algorithms._subproblem.solve_pg`)
        or the exact minimizer (:func:`~mastbench.algorithms._subproblem.solve_exact`).
    stop : {"condition7", "heuristic"}
        PG's stopping rule: condition (7) with ε_t = ``eps_sub``·t^(−``eps_sub_power``), or the
        official code's relative decrease below ``rtol``.
    eps_sub, eps_sub_power, pg_max_iters, rtol, screening
        ε_0 > 0, p ≥ 0, T2 ≥ 1, the heuristic's threshold > 0, and safe screening.
    """

    solver: str = "pg"
    stop: str = "condition7"
    eps_sub: float = 1e-6
    eps_sub_power: float = 0.6
    pg_max_iters: int = 100
    rtol: float = 1e-8
    screening: bool = True

    @classmethod
    def checked(
        cls,
        solver: str,
        stop: str,
        eps_sub: float,
        eps_sub_power: float,
        pg_max_iters: int,
        rtol: float,
        screening: bool,
    ) -> SubproblemSolver:
        """The solver with every field validated (errors name the argument)."""
        return cls(
            check_choice("solver", solver, ("pg", "exact")),
            check_choice("stop", stop, ("condition7", "heuristic")),
            check_positive("eps_sub", eps_sub),
            check_positive("eps_sub_power", eps_sub_power, strict=False),
            check_int("pg_max_iters", pg_max_iters, low=1),
            check_positive("rtol", rtol),
            bool(screening),
        )

    def solve(
        self, psi: Any, a: float, V: Any, P: Any, C: Any, Z0: Any, t: int
    ) -> tuple[Any, float, int]:
        """(Ẑ, PG steps averaged over replicates, replicates whose stopping rule went unmet).

        PG starts at Z0; t is the step whose tolerance ε_t condition (7) uses.
        """
        if self.solver == "exact":
            return solve_exact(psi, a, V, P, C), 0.0, 0
        result = solve_pg(
            psi,
            a,
            V,
            P,
            C,
            Z0,
            tol=self.eps_sub * t ** (-self.eps_sub_power),
            stop=self.stop,
            max_iters=self.pg_max_iters,
            rtol=self.rtol,
            screening=self.screening,
        )
        xp = array_namespace(V)
        unmet = int(xp.sum(xp.astype(~result.satisfied, xp.int64)))
        return result.Z, float(xp.mean(result.iterations)), unmet
