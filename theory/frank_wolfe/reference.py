"""Independent reference trajectories of the FW family in exact rational arithmetic.

Each function follows the paper's pseudo-code step by step on a quadratic f(x) = ½xᵀAx − bᵀx
over a polytope given by its vertex list, with :class:`fractions.Fraction` entries, so every
step size, comparison and iterate is exact.  Nothing here imports the package's algorithms;
the theorem ``fw.reference`` (:mod:`.trajectories`) compares them step by step with the
implementation.

References: M. Jaggi, ICML 2013, Algorithm 1 (FW, γ_k = 2/(k+2), line search); V. F. Demyanov,
A. M. Rubinov 1970 (short step min(g/(L‖d‖²), γ_max)); F. Pedregosa, G. Négiar, A. Askari,
M. Jaggi, AISTATS 2020, Algorithm 1 (AdaFW backtracking, τ = 2, η = 0.9, with copt's warm
start); S. Lacoste-Julien, M. Jaggi, NeurIPS 2015, Algorithms 1 (away steps) and 2 (pairwise);
G. Négiar et al., ICML 2020, Algorithm 1 (stochastic FW, SAG) and H. Lu, R. Freund, Math.
Program. 2021 (LF), on least squares.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["ExactQuadratic", "Record", "active_set_reference", "fw_reference", "sfw_reference"]

Vector = list[Fraction]

TAU, ETA = Fraction(2), Fraction(9, 10)


def _dot(a: Vector, b: Vector) -> Fraction:
    return sum((x * y for x, y in zip(a, b, strict=True)), Fraction(0))


def _axpy(alpha: Fraction, a: Vector, b: Vector) -> Vector:
    """b + alpha·a."""
    return [y + alpha * x for x, y in zip(a, b, strict=True)]


def _sub(a: Vector, b: Vector) -> Vector:
    return [x - y for x, y in zip(a, b, strict=True)]


@dataclass(frozen=True)
class ExactQuadratic:
    """f(x) = ½xᵀAx − bᵀx with rational A (symmetric) and b, and an upper bound L on λ_max(A)."""

    A: tuple[tuple[Fraction, ...], ...]
    b: tuple[Fraction, ...]
    L: Fraction

    def value(self, x: Vector) -> Fraction:
        return Fraction(1, 2) * _dot(x, self.hess(x)) - _dot(self.b, x)

    def hess(self, d: Vector) -> Vector:
        return [_dot(list(row), d) for row in self.A]

    def grad(self, x: Vector) -> Vector:
        return _sub(self.hess(x), list(self.b))


@dataclass
class Record:
    """The iterates x_0..x_K and step sizes γ_0..γ_{K−1}; ``first_tie`` is the first step k
    whose vertex choice met an exact tie (``None``: none), from where the choice is a
    convention (x_{k+1} onwards is not compared)."""

    x: list[Vector]
    gamma: list[Fraction]
    first_tie: int | None = None
    away_steps: int = 0
    drops: int = 0


class _Rule:
    """The step rules; ``state`` keeps the backtracking estimate L and f at the last step."""

    def __init__(self, kind: str, f: ExactQuadratic, L_init: Fraction):
        self.kind, self.f, self.L, self.f_prev = kind, f, L_init, None

    def __call__(self, k: int, x: Vector, d: Vector, gamma_max: Fraction) -> Fraction:
        g = -_dot(self.f.grad(x), d)
        dd = _dot(d, d)
        if self.kind == "open-loop":
            return min(Fraction(2, k + 2), gamma_max)
        if dd == 0:
            return Fraction(0)
        if self.kind == "short":
            return min(max(g / (self.f.L * dd), Fraction(0)), gamma_max)
        if self.kind == "line-search":
            curvature = _dot(d, self.f.hess(d))
            if curvature <= 0:
                return gamma_max if g > 0 else Fraction(0)
            return min(max(g / curvature, Fraction(0)), gamma_max)
        fx = self.f.value(x)
        if self.f_prev is not None and self.f_prev > fx:
            self.L = max(min(g * g / (2 * (self.f_prev - fx) * dd), self.L), ETA * self.L)
        self.f_prev = fx
        while True:
            gamma = min(max(g / (self.L * dd), Fraction(0)), gamma_max)
            model = fx - gamma * g + gamma * gamma * self.L * dd / 2
            if self.f.value(_axpy(gamma, d, x)) <= model:
                return gamma
            self.L *= TAU


def _first_argmin(scores: list[Fraction], allowed: list[int]) -> tuple[int, bool]:
    """The first index of ``allowed`` minimizing ``scores``, and whether the minimum is tied."""
    best = min(scores[i] for i in allowed)
    hits = [i for i in allowed if scores[i] == best]
    return hits[0], len(hits) > 1


def fw_reference(
    f: ExactQuadratic,
    vertices: list[Vector],
    x0: Vector,
    rule: str,
    iters: int,
    L_init: Fraction,
) -> Record:
    """Frank-Wolfe (Jaggi 2013, Alg. 1): s_k = argmin_v ⟨∇f(x_k), v⟩ over the vertices (first
    index on ties), d_k = s_k − x_k, x_{k+1} = x_k + γ_k d_k with γ_k from ``rule`` on [0, 1]."""
    step = _Rule(rule, f, L_init)
    out = Record([list(x0)], [])
    x = list(x0)
    for k in range(iters):
        g = f.grad(x)
        i, tied = _first_argmin([_dot(g, v) for v in vertices], list(range(len(vertices))))
        if tied and out.first_tie is None:
            out.first_tie = k
        d = _sub(vertices[i], x)
        gamma = step(k, x, d, Fraction(1))
        x = _axpy(gamma, d, x)
        out.x.append(x)
        out.gamma.append(gamma)
    return out


def active_set_reference(
    f: ExactQuadratic,
    vertices: list[Vector],
    start: int,
    variant: str,
    rule: str,
    iters: int,
    L_init: Fraction,
) -> Record:
    """Away-step (``variant="away"``, Lacoste-Julien & Jaggi 2015, Alg. 1) or pairwise
    (``"pairwise"``, Alg. 2) FW from the vertex ``vertices[start]``.

    With weights λ over the vertices and the active set S = {v : λ_v > 0}: s = argmin_v
    ⟨∇f, v⟩, v = argmax_{v ∈ S} ⟨∇f, v⟩.  Away: the FW direction s − x (γ_max = 1) if
    ⟨−∇f, s − x⟩ ≥ ⟨−∇f, x − v⟩, else the away direction x − v (γ_max = λ_v/(1 − λ_v));
    λ ← (1 − γ)λ + γe_s or λ ← (1 + γ)λ − γe_v.  Pairwise: d = s − v, γ_max = λ_v, λ_s += γ,
    λ_v −= γ.  γ = γ_max on an away or pairwise step drops v.  x = Σ λ_v v.
    """
    step = _Rule(rule, f, L_init)
    n = len(vertices)
    weights = [Fraction(int(i == start)) for i in range(n)]
    x = list(vertices[start])
    out = Record([x], [])
    for k in range(iters):
        g = f.grad(x)
        scores = [_dot(g, v) for v in vertices]
        i_s, tied_s = _first_argmin(scores, list(range(n)))
        active = [i for i in range(n) if weights[i] > 0]
        i_v, tied_v = _first_argmin([-score for score in scores], active)
        if (tied_s or tied_v) and out.first_tie is None:
            out.first_tie = k
        lam_v = weights[i_v]
        if variant == "pairwise":
            d = _sub(vertices[i_s], vertices[i_v])
            toward, gamma_max = False, lam_v
        else:
            d_fw, d_away = _sub(vertices[i_s], x), _sub(x, vertices[i_v])
            toward = _dot(g, d_fw) <= _dot(g, d_away)
            d = d_fw if toward else d_away
            away_max = lam_v / (1 - lam_v) if lam_v < 1 else Fraction(0)
            gamma_max = Fraction(1) if toward else away_max
        gamma = step(k, x, d, gamma_max)
        if variant == "pairwise":
            weights[i_s] += gamma
            weights[i_v] -= gamma
        elif toward:
            weights = [(1 - gamma) * w for w in weights]
            weights[i_s] += gamma
        else:
            out.away_steps += 1
            weights = [(1 + gamma) * w for w in weights]
            weights[i_v] -= gamma
        if not toward and gamma == gamma_max:
            weights[i_v] = Fraction(0)
            out.drops += 1
        x = [
            sum((w * v[j] for w, v in zip(weights, vertices, strict=True)), Fraction(0))
            for j in range(len(x))
        ]
        out.x.append(x)
        out.gamma.append(gamma)
    return out


def sfw_reference(
    X: list[Vector],
    y: Vector,
    radius: Fraction,
    variant: str,
    batch_size: int,
    permutations: list[list[int]],
    iters: int,
) -> Record:
    """Stochastic FW on least squares (1/2n)‖Xw − y‖² over the ℓ1 ball, one run from w = 0.

    φ_i'(z) = z − y_i.  Step t uses the samples at positions [jb, (j+1)b) of the epoch's
    permutation, j = t mod m, m = n/b (a new permutation, the next of ``permutations``, at
    every j = 0).  SAG (Négiar et al. 2020, Alg. 1): α_i ← φ_i'(x_iᵀw_t)/n on the batch,
    r ← r + Σ_B Δα_i x_i, direction r, γ_t = 2/(t+2).  SAGA: direction r_old + (n/b)Σ_B Δα_i
    x_i.  LF (Lu & Freund): σ = Xw_0, α = φ'(σ)/n, direction r, γ_t = 2(2m+t)/((t+1)(4m+t)),
    then σ_B ← σ_B + ρ_t(X_B s_t − σ_B), ρ_t = 2m/(2m+t+1), α_B = φ'(σ_B)/n.  The LMO of the
    ℓ1 ball is −α·sign(r_i)e_i at the first i maximizing |r_i|.
    """
    n, d = len(X), len(X[0])
    m = n // batch_size
    w = [Fraction(0)] * d
    sigma = [_dot(row, w) for row in X]
    alpha = [(sigma[i] - y[i]) / n if variant == "LF" else Fraction(0) for i in range(n)]
    r = [sum((alpha[i] * X[i][j] for i in range(n)), Fraction(0)) for j in range(d)]
    out = Record([list(w)], [])
    for t in range(iters):
        j = t % m
        batch = permutations[t // m][j * batch_size : (j + 1) * batch_size]
        change = [Fraction(0)] * d
        if variant in ("SAG", "SAGA"):
            for i in batch:
                new = (_dot(X[i], w) - y[i]) / n
                change = _axpy(new - alpha[i], X[i], change)
                alpha[i] = new
        if variant == "SAGA":
            direction = _axpy(Fraction(n, batch_size), change, r)
        else:
            direction = _axpy(Fraction(1), change, r)
        r = _axpy(Fraction(1), change, r)
        magnitudes = [abs(v) for v in direction]
        top = max(magnitudes)
        hits = [i for i in range(d) if magnitudes[i] == top]
        if (len(hits) > 1 or top == 0) and out.first_tie is None:
            out.first_tie = t
        s = [Fraction(0)] * d
        s[hits[0]] = -radius if direction[hits[0]] > 0 else radius
        if variant == "LF":
            gamma = Fraction(2 * (2 * m + t), (t + 1) * (4 * m + t))
        else:
            gamma = Fraction(2, t + 2)
        w = _axpy(gamma, _sub(s, w), w)
        if variant == "LF":
            rho = Fraction(2 * m, 2 * m + t + 1)
            for i in batch:
                sigma[i] += rho * (_dot(X[i], s) - sigma[i])
                new = (sigma[i] - y[i]) / n
                r = _axpy(new - alpha[i], X[i], r)
                alpha[i] = new
        out.x.append(w)
        out.gamma.append(gamma)
    return out
