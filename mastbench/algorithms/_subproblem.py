"""The regularized diagonal-quadratic subproblem of RAMDA and ProxGen, and its solvers.

Q(Z) = a·ψ(Z) + ⟨V, Z⟩ + ½ Σ_i P_i (Z_i − C_i)²,  batched over replicates: V, P, C, Z of
shape (R, d), P > 0 elementwise, a ≥ 0 a float.  RAMDA (arXiv 2403.14398, eq. (4)) has
a = α_t, C = W⁰ (dual averaging); ProxGen (eq. (6)) has a = η_t, C = W^{t−1}, V = m̃_t.

* :func:`solve_exact`: the exact minimizer for ψ ∈ {0, ℓ1, group lasso} (ramda.md §3): the ℓ1
  closed form, and per group z*_g = 0 when ‖P_g C_g − V_g‖ ≤ aλ_g, otherwise
  z*_i = d_i θ x_i/(d_i θ + aλ_g) with x = C − V/P, d = P_g and θ = ‖z*_g‖ the unique root of
  Σ_i (d_i x_i)²/(d_i θ + aλ_g)² = 1 on [0, ‖x_g‖] (monotone Newton steps to machine
  precision).
* :func:`solve_pg`: Algorithm 2 (PG) with step θ = 1/max_i P_i per replicate, warm start Z⁰,
  safe screening (Deleu & Bengio 2021: group g is zero at the optimum iff
  ‖P_g C_g − V_g‖ ≤ aλ_g), and either the paper's inexactness condition (7) checked literally
  (‖s_j‖ ≤ ε with s_j = (P − θ⁻¹)(Z^j − Z^{j−1}) ∈ ∂Q(Z^j), eq. (9), and Q(Z^j) ≤ Q(Z⁰)) or the
  official code's heuristic (relative decrease of Q below ``rtol`` after at least 2 steps),
  or no early stop (exactly ``max_iters`` steps); with ``history=True`` it also returns every
  iterate Z^j and residual s_j (:class:`PGHistory`), so a check can read the solver's own
  iterates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastbench.backend import array_namespace, device_of
from mastbench.problems.regularizers import L1, GroupLasso, Regularizer, Zero

__all__ = [
    "PGHistory",
    "PGResult",
    "screen",
    "solve_exact",
    "solve_pg",
    "subgradient_residual",
    "value",
]

#: Cap on the Newton steps of the group-lasso secular equation (it converges in a few).
_NEWTON_STEPS = 100


def value(psi: Regularizer, a: float, V: Any, P: Any, C: Any, Z: Any) -> Any:
    """Q(Z), shape (R,)."""
    xp = array_namespace(Z)
    diff = Z - C
    return a * psi.value(Z) + xp.sum(V * Z, axis=-1) + 0.5 * xp.sum(P * diff * diff, axis=-1)


def screen(psi: Regularizer, a: float, V: Any, P: Any, C: Any) -> Any:
    """Groups that are exactly zero at the optimum, boolean (R, G) (group lasso only)."""
    xp = array_namespace(V)
    lin = psi.blocks(P * C - V)
    return xp.linalg.vector_norm(lin, axis=-1) <= a * psi.lam_g(V)


def solve_exact(psi: Regularizer, a: float, V: Any, P: Any, C: Any) -> Any:
    """The exact minimizer of Q for ψ = 0, ℓ1 or the group lasso (see the module docstring)."""
    xp = array_namespace(V)
    x = C - V / P
    if isinstance(psi, Zero):
        return x
    if isinstance(psi, L1):
        return xp.sign(x) * xp.maximum(xp.abs(x) - a * psi.lam / P, 0.0)
    if not isinstance(psi, GroupLasso):
        raise NotImplementedError(f"no exact subproblem solution for {psi!r}; use solver='pg'")
    lam = a * psi.lam_g(V)
    bx, bd = psi.blocks(x), psi.blocks(P)
    weighted = bd * bx
    norm_w = xp.linalg.vector_norm(weighted, axis=-1)
    zero = norm_w <= lam
    lam_b = lam[..., None]
    # Newton on the concave increasing g(θ) = (Σ_i (d_i x_i)²/(d_i θ + aλ_g)²)^(−1/2), g = 1 at
    # the root: from a point left of the root every step stays left of it and increases θ.
    # The start (‖d∘x‖ − aλ_g)/max d is left of the root (and is the root when d is constant
    # on the group); a group with aλ_g = 0 starts at its root ‖x_g‖.
    theta = xp.where(
        lam > 0,
        xp.maximum(norm_w - lam, 0.0) / xp.max(bd, axis=-1),
        xp.linalg.vector_norm(bx, axis=-1),
    )
    active = ~zero
    eps = float(xp.finfo(x.dtype).eps)
    for _ in range(_NEWTON_STEPS):
        denom = bd * theta[..., None] + lam_b
        safe = xp.where(denom > 0, denom, xp.ones_like(denom))
        q = xp.where(denom > 0, weighted / safe, 0.0)
        S = xp.sum(q * q, axis=-1)
        slope = xp.sum(q * q * bd / safe, axis=-1)
        step = xp.where(
            active & (slope > 0), S * (xp.sqrt(S) - 1.0) / xp.where(slope > 0, slope, 1.0), 0.0
        )
        step = xp.maximum(step, 0.0)
        theta = theta + step
        active = active & (step > 4 * eps * theta)
        if not bool(xp.any(active)):
            break
    theta = theta[..., None]
    denom = bd * theta + lam_b
    safe = xp.where(denom > 0, denom, xp.ones_like(denom))
    z = xp.where(denom > 0, bd * theta * bx / safe, bx)
    z = xp.where(zero[..., None], 0.0, z)
    return psi.unblocks(z, x)


def subgradient_residual(psi: Regularizer, a: float, V: Any, P: Any, C: Any, Z: Any) -> Any:
    """min_{s ∈ ∂Q(Z)} ‖s‖, exact (ψ = 0, ℓ1, group lasso), shape (R,)."""
    xp = array_namespace(Z)
    return xp.sqrt(psi.dist2(Z, V + P * (Z - C), scale=a))


@dataclass(frozen=True)
class PGHistory:
    """Every iterate of one :func:`solve_pg` call, batched over replicates.

    Attributes
    ----------
    iterates : array (J + 1, R, d)
        Z^0 (the warm start), Z^1, …, Z^J; a replicate that has stopped keeps its last Z.
    residuals : array (J, R, d)
        s_j = (P − θ⁻¹)(Z^j − Z^{j−1}) of eq. (9) for j = 1, …, J (zero on screened groups
        and after a replicate has stopped).
    theta : array (R,)
        The step θ of each replicate.
    """

    iterates: Any
    residuals: Any
    theta: Any


@dataclass
class PGResult:
    """Outcome of :func:`solve_pg` per replicate.

    Attributes
    ----------
    Z : array (R, d)
        The approximate minimizer.
    iterations : array (R,)
        PG steps taken by each replicate.
    residual : array (R,)
        ‖s_J‖, the certified upper bound of min ‖∂Q(Z)‖ from the last two PG iterates (eq. (9)).
    satisfied : array (R,) of bool
        Whether the stopping rule was met (False: ``max_iters`` was reached first; always
        False with ``stop="none"``).
    history : PGHistory or None
        Every iterate and residual, when asked with ``history=True``.
    """

    Z: Any
    iterations: Any
    residual: Any
    satisfied: Any
    history: PGHistory | None = None


def solve_pg(
    psi: Regularizer,
    a: float,
    V: Any,
    P: Any,
    C: Any,
    Z0: Any,
    *,
    tol: float | None = None,
    stop: str = "condition7",
    max_iters: int = 100,
    rtol: float = 1e-8,
    screening: bool = True,
    theta: Any = None,
    history: bool = False,
) -> PGResult:
    """Algorithm 2 of arXiv 2403.14398 (PG) on Q, batched over replicates.

    Z^j = prox_{θaψ}(Z^{j−1} − θ(V + P(Z^{j−1} − C))), θ = 1/max_i P_i per replicate unless
    ``theta`` (an (R,) array) is given.  Stops per replicate when ``stop="condition7"`` and
    ‖s_j‖ ≤ max(``tol``, 2·eps·max_i P_i·‖Z^j‖) and Q(Z^j) ≤ Q(Z⁰) (condition (7); the second
    term, with eps that of the dtype of V, is the rounding of one step, below which ‖s_j‖ is
    not resolved: a float32 run stops there instead of spending ``max_iters`` steps on
    round-off), or when ``stop="heuristic"`` and
    (Q(Z^{j−1}) − Q(Z^j))/(|Q(Z^j)| + 1) < ``rtol`` with j ≥ 2 (the official code); with
    ``stop="none"`` it takes exactly ``max_iters`` steps.  Screened groups are fixed at zero
    (exactly optimal there, so their residual is 0).  ``history=True`` also returns every
    iterate and residual (:class:`PGHistory`).
    """
    xp = array_namespace(V)
    if stop not in ("condition7", "heuristic", "none"):
        raise ValueError(f"stop must be 'condition7', 'heuristic' or 'none', got {stop!r}")
    if stop == "condition7" and (tol is None or not tol > 0):
        raise ValueError(f"tol must be positive for stop='condition7', got {tol}")
    if theta is None:
        theta = 1.0 / xp.max(P, axis=-1)
    eps = float(xp.finfo(V.dtype).eps)
    keep = None
    if screening and isinstance(psi, GroupLasso):
        zeroed = screen(psi, a, V, P, C)
        ones = xp.ones_like(V)
        keep = psi.unblocks(psi.blocks(ones) * xp.astype(~zeroed, V.dtype)[..., None], ones)
    R = V.shape[0]
    done = xp.zeros((R,), dtype=xp.bool, device=device_of(V))
    iterations = xp.zeros((R,), dtype=V.dtype, device=device_of(V))
    residual = xp.full((R,), float("inf"), dtype=V.dtype, device=device_of(V))
    q0 = value(psi, a, V, P, C, Z0)
    Z, q_prev = Z0, q0
    iterates, residuals = [Z0], []
    for j in range(1, max_iters + 1):
        grad_q = V + P * (Z - C)
        Z_new = psi.prox(Z - theta[:, None] * grad_q, theta * a)
        if keep is not None:
            Z_new = Z_new * keep
        s = (P - 1.0 / theta[:, None]) * (Z_new - Z)
        if keep is not None:
            s = s * keep
        res = xp.linalg.vector_norm(s, axis=-1)
        active = ~done
        if stop == "condition7":
            # Q(Z^j) is needed only where ‖s_j‖ ≤ max(ε, the rounding level) already holds.
            floor = 2 * eps * xp.max(P, axis=-1) * xp.linalg.vector_norm(Z_new, axis=-1)
            ok = res <= xp.maximum(floor, tol)
            if bool(xp.any(ok)):
                ok = ok & (value(psi, a, V, P, C, Z_new) <= q0)
        elif stop == "heuristic":
            q_new = value(psi, a, V, P, C, Z_new)
            ok = ((q_prev - q_new) / (xp.abs(q_new) + 1.0) < rtol) & (j >= 2)
            q_prev = xp.where(active, q_new, q_prev)
        else:
            ok = xp.zeros_like(done)
        Z = xp.where(active[:, None], Z_new, Z)
        residual = xp.where(active, res, residual)
        iterations = iterations + xp.astype(active, V.dtype)
        if history:
            iterates.append(Z)
            residuals.append(xp.where(active[:, None], s, 0.0))
        done = done | ok
        if bool(xp.all(done)):
            break
    record = None
    if history:
        empty = xp.zeros((0, *V.shape), dtype=V.dtype, device=device_of(V))
        record = PGHistory(xp.stack(iterates), xp.stack(residuals) if residuals else empty, theta)
    return PGResult(Z, iterations, residual, done, record)
