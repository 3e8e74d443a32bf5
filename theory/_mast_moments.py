"""Exact moments of the MAST methods on quadratics, by enumerating every random branch.

On a quadratic every MAST method is a random affine recursion z_{t+1} = K_ω z_t + h_ω with
ω drawn i.i.d. from finitely many branches (sketch outcomes, data minibatches, coins), so the
mean m_t = E z_t and the second moment P_t = E z_t z_tᵀ propagate exactly (mast.md §6.1)::

    m_{t+1} = Σ_ω π_ω (K_ω m_t + h_ω)
    P_{t+1} = Σ_ω π_ω (K_ω P_t K_ωᵀ + K_ω m_t h_ωᵀ + h_ω m_tᵀ K_ωᵀ + h_ω h_ωᵀ)

and every readout used by the theorems (E‖x_t − x_D*‖², E f_D(x_t) − f_D*, E‖∇f_D(x_t)‖², the
L-SVRG Lyapunov function) is a quadratic form of z, hence exact.  The limit is the fixed point
of the moment map.  This is the branch-enumeration engine of the MAST theorem catalogue; it is
cross-checked against brute-force enumeration of sketch paths and against the batched
algorithms' Monte Carlo in ``tests/theory/test_mast_rates.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = [
    "AffineRecursion",
    "distributed_branches",
    "dsgd_branches",
    "lsvrdsg_recursion",
    "minibatch_branches",
    "sketch_support",
]

#: Largest number of branches enumerated (a clear error beyond).
MAX_BRANCHES = 200_000


@dataclass
class AffineRecursion:
    """z ← K_ω z + h_ω with probability π_ω, for B branches.

    Attributes
    ----------
    probs : numpy.ndarray
        (B,) branch probabilities, summing to one.
    K : numpy.ndarray
        (B, n, n) linear parts.
    h : numpy.ndarray
        (B, n) offsets.
    """

    probs: np.ndarray
    K: np.ndarray
    h: np.ndarray

    def __post_init__(self) -> None:
        if abs(self.probs.sum() - 1.0) > 1e-12:
            raise ValueError(f"branch probabilities must sum to 1, got {self.probs.sum()}")
        self.K_mean = np.einsum("b,bij->ij", self.probs, self.K)
        self.h_mean = self.probs @ self.h

    @property
    def n(self) -> int:
        """State dimension."""
        return int(self.h.shape[1])

    def step(self, m: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One exact step of (E z, E zzᵀ)."""
        pK = self.probs[:, None, None] * self.K
        Km = self.K @ m
        cross = np.einsum("bi,bj->ij", self.probs[:, None] * Km, self.h)
        P_next = (
            np.einsum("bij,jk,blk->il", pK, P, self.K, optimize=True)
            + cross
            + cross.T
            + np.einsum("b,bi,bj->ij", self.probs, self.h, self.h)
        )
        return self.K_mean @ m + self.h_mean, 0.5 * (P_next + P_next.T)

    def moments(self, m0: np.ndarray, P0: np.ndarray, iters: int) -> tuple[np.ndarray, np.ndarray]:
        """(E z_t, E z_t z_tᵀ) for t = 0..iters, shapes (T+1, n) and (T+1, n, n)."""
        ms, Ps = [m0], [P0]
        m, P = m0, P0
        for _ in range(iters):
            m, P = self.step(m, P)
            ms.append(m)
            Ps.append(P)
        return np.stack(ms), np.stack(Ps)

    def second_moment_radius(self) -> float:
        """Spectral radius of P ↦ Σ π K P Kᵀ (< 1 iff the second moment converges)."""
        op = np.einsum("b,bij,bkl->ikjl", self.probs, self.K, self.K).reshape(self.n**2, -1)
        return float(np.max(np.abs(np.linalg.eigvals(op))))

    def limit(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed point (m∞, P∞) of the moment map.

        Raises
        ------
        ValueError
            If the second-moment map is not a contraction (no finite limit).

        Notes
        -----
        The dense (n², n²) eigenvalue problem and solve run single-threaded: for these small
        matrices threads only add contention.
        """
        with threadpool_limits(limits=1):
            return self._limit()

    def _limit(self) -> tuple[np.ndarray, np.ndarray]:
        radius = self.second_moment_radius()
        if radius >= 1:
            raise ValueError(f"the second moment diverges (spectral radius {radius:.6g} >= 1)")
        n = self.n
        m = np.linalg.solve(np.eye(n) - self.K_mean, self.h_mean)
        cross = np.einsum("bi,bj->ij", self.probs[:, None] * (self.K @ m), self.h)
        rhs = cross + cross.T + np.einsum("b,bi,bj->ij", self.probs, self.h, self.h)
        op = np.einsum("b,bij,bkl->ikjl", self.probs, self.K, self.K).reshape(n * n, -1)
        P = np.linalg.solve(np.eye(n * n) - op, rhs.reshape(-1)).reshape(n, n)
        return m, 0.5 * (P + P.T)


def quadratic_readout(
    m: np.ndarray, P: np.ndarray, Q: np.ndarray, center: np.ndarray
) -> np.ndarray:
    """E[(z − c)ᵀQ(z − c)] from moments (batched over leading axes of m, P)."""
    return (
        np.einsum("ij,...ji->...", Q, P)
        - 2.0 * np.einsum("...i,ij,j->...", m, Q, center)
        + center @ Q @ center
    )


def sketch_support(sketch, max_outcomes: int = MAX_BRANCHES) -> tuple[np.ndarray, np.ndarray]:
    """Support of a single-client sketch as (N, d, d) matrices and (N,) probabilities."""
    single = getattr(sketch, "marginal", sketch)
    values, probs = single.support(max_outcomes)
    if values.ndim == 2:
        values = np.einsum("ni,ij->nij", values, np.eye(values.shape[1]))
    return values, probs


def dsgd_branches(A: np.ndarray, c: np.ndarray, sketch, step: float) -> AffineRecursion:
    """DSGD option I on f = ½xᵀAx − bᵀx in y = x − v: K_S = I − γSᵀAS, h_S = −γSᵀc (c = Av − b)."""
    S, probs = sketch_support(sketch)
    d = A.shape[0]
    K = np.eye(d) - step * np.einsum("nji,jk,nkl->nil", S, A, S)
    h = -step * np.einsum("nji,j->ni", S, c)
    return AffineRecursion(probs, K, h)


def minibatch_branches(
    A_i: np.ndarray, c_i: np.ndarray, sketch, step: float, batch: int
) -> AffineRecursion:
    """DSGD option II: data minibatch of ``batch`` indices drawn with replacement (ordered).

    A_i (n, d, d) and c_i (n, d) = A_i v − b_i are the components' quadratic forms at the shift.
    """
    S, probs = sketch_support(sketch)
    n, d = c_i.shape
    count = S.shape[0] * n**batch
    if count > MAX_BRANCHES:
        raise ValueError(f"{count} branches exceed the enumeration limit {MAX_BRANCHES}")
    tuples = np.array(list(itertools.product(range(n), repeat=batch)))
    A_B = A_i[tuples].mean(axis=1)
    c_B = c_i[tuples].mean(axis=1)
    K = np.eye(d) - step * np.einsum("sji,bjk,skl->sbil", S, A_B, S).reshape(-1, d, d)
    h = -step * np.einsum("sji,bj->sbi", S, c_B).reshape(-1, d)
    p = np.repeat(probs, tuples.shape[0]) / tuples.shape[0]
    return AffineRecursion(p, K, h)


def distributed_branches(
    A_list: list[np.ndarray], c_list: list[np.ndarray], sketches, step: float
) -> AffineRecursion:
    """Distributed DSGD: K = I − (γ/M)Σ_i S_iᵀA_iS_i, h = −(γ/M)Σ_i S_iᵀc_i over the joint support.

    ``sketches`` is one joint Permutation(d, M) or a list of M independent sketches.
    """
    M, d = len(A_list), A_list[0].shape[0]
    if hasattr(sketches, "marginal"):
        joint, probs = sketches.support(MAX_BRANCHES)
        outcomes = [[np.diag(row) for row in blocks] for blocks in joint]
    else:
        supports = [sketch_support(s) for s in sketches]
        count = int(np.prod([len(p) for _, p in supports]))
        if count > MAX_BRANCHES:
            raise ValueError(f"{count} joint outcomes exceed the enumeration limit {MAX_BRANCHES}")
        outcomes, probs_list = [], []
        for combo in itertools.product(*[range(len(p)) for _, p in supports]):
            outcomes.append([supports[i][0][j] for i, j in enumerate(combo)])
            probs_list.append(np.prod([supports[i][1][j] for i, j in enumerate(combo)]))
        probs = np.asarray(probs_list)
    K = np.stack(
        [
            np.eye(d) - (step / M) * sum(S.T @ A @ S for S, A in zip(Ss, A_list, strict=True))
            for Ss in outcomes
        ]
    )
    h = np.stack(
        [-(step / M) * sum(S.T @ c for S, c in zip(Ss, c_list, strict=True)) for Ss in outcomes]
    )
    return AffineRecursion(np.asarray(probs, dtype=float), K, h)


def lsvrdsg_recursion(
    A: np.ndarray,
    c: np.ndarray,
    S: np.ndarray,
    step: float,
    prob: float,
    batch: int,
    minibatch: str,
) -> tuple[AffineRecursion, AffineRecursion]:
    """L-SVRDSG on f_j(x) = f(v + S_j(x − v)), state z = (x − v, w − v, G) ∈ R^{3d}.

    With H_j = S_jᵀAS_j and g_j = S_jᵀc, ∇f_j = H_j y + g_j.  One step with branch
    (j, coin, B): x' = x − γ(H_j x − H_j w + G); coin: w' = x, else w' = w; G' = mean_{k∈B}
    ∇f_k(w') when refreshed (coin for "fixed", always for "resampled"), else G.

    Returns
    -------
    step_map : AffineRecursion
        The recursion of z.
    start_map : AffineRecursion
        Maps (x0, x0, 0) to the random initial state (G⁰ from a minibatch B⁰).
    """
    N, d = S.shape[0], A.shape[0]
    H = np.einsum("nji,jk,nkl->nil", S, A, S)
    g = np.einsum("nji,j->ni", S, c)
    subsets = list(itertools.combinations(range(N), batch))
    if N * 2 * len(subsets) > MAX_BRANCHES:
        raise ValueError("too many L-SVRDSG branches to enumerate")
    I, Z = np.eye(d), np.zeros((d, d))
    probs, Ks, hs = [], [], []
    for j in range(N):
        x_row = [I - step * H[j], step * H[j], -step * I]
        for coin in (True, False):
            p_coin = prob if coin else 1.0 - prob
            if p_coin == 0:
                continue
            w_row = [I, Z, Z] if coin else [Z, I, Z]
            refresh = coin or minibatch == "resampled"
            for B in subsets if refresh else [None]:
                if B is None:
                    G_row, G_off, p_B = [Z, Z, I], np.zeros(d), 1.0
                else:
                    H_B, g_B = H[list(B)].mean(axis=0), g[list(B)].mean(axis=0)
                    G_row = [H_B @ blk for blk in w_row]
                    G_off, p_B = g_B, 1.0 / len(subsets)
                Ks.append(np.block([x_row, w_row, G_row]))
                hs.append(np.concatenate([np.zeros(d), np.zeros(d), G_off]))
                probs.append(p_coin * p_B / N)
    step_map = AffineRecursion(np.asarray(probs), np.stack(Ks), np.stack(hs))
    start_K, start_h = [], []
    for B in subsets:
        H_B, g_B = H[list(B)].mean(axis=0), g[list(B)].mean(axis=0)
        start_K.append(np.block([[I, Z, Z], [Z, I, Z], [Z, H_B, Z]]))
        start_h.append(np.concatenate([np.zeros(2 * d), g_B]))
    start = AffineRecursion(
        np.full(len(subsets), 1.0 / len(subsets)), np.stack(start_K), np.stack(start_h)
    )
    return step_map, start
