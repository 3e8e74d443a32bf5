"""The MAST objective f_D(x) = E_{S~D} f(v + S(x − v)) as a problem with exact constants.

Demidovich, Malinovsky, Shulgin, Richtárik, "MAST: Model-Agnostic Sparsified Training",
arXiv 2311.16086, problem (2); the mathematics is ``shared/theory/mast.md`` §1–2.

Two exact evaluation paths:

* **Closed form** for quadratics f(x) = ½xᵀAx − bᵀx + c (``mast.md`` §2.1).  With
  y = x − v, c_v = ∇f(v) = Av − b, S̄ = E[S] and Ā = E[SᵀAS] (the sketch's
  ``expected_sandwich``):  f_D(x) = f(v) + (S̄ᵀc_v)ᵀy + ½yᵀĀy, ∇f_D(x) = S̄ᵀc_v + Āy,
  ∇²f_D = Ā.  Under Assumption 1 (S̄ = I) this is f(x) + ½‖x − v‖²_M with M = Ā − A ⪰ 0.
  x_D* = v − Ā⁺S̄ᵀc_v and f_D* = f(v) − ½(S̄ᵀc_v)ᵀĀ⁺(S̄ᵀc_v).  Works for any sketch with an
  exact ``expected_sandwich`` (Gaussian included).
* **Enumeration of the support** for any other problem (logistic regression) when the support
  has at most ``max_outcomes`` outcomes: f_D(x) = Σ_n p_n f(v + S_n(x − v)),
  ∇f_D(x) = Σ_n p_n S_nᵀ∇f(v + S_n(x − v)), ∇²f_D(x) = Σ_n p_n S_nᵀ∇²f(·)S_n, and x_D* by
  damped Newton (:func:`problems.logistic.newton`) to ‖∇f_D‖ ≤ 1e-12·max(1, ‖∇f_D(v)‖).

The sketch is applied to the whole f, ℓ2 term included (``mast.md`` §2.2, the choice marked
[U] there): for ``Logistic(X, y, l2)`` f_D carries the extra ridge (l2/2)‖x − v‖²_{E SᵀS − I}.

Per-sketch infima f_S^inf = inf_x f(v + S(x − v)) = inf over z ∈ range(S) of f(v + z) are
closed forms for quadratics (f(v) − ½gᵀB⁺g with g = Uᵀc_v, B = UᵀAU, U a basis of range(S))
and Newton solves over range(S) otherwise; their mean over the support is
:attr:`MASTObjective.expected_sketch_infimum`.

For :class:`mastbench.sketches.Permutation` (n jointly sampled clients) the objective is the
one of a single client, whose sketch is the marginal Rand-(d/n).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from mastbench.problems.base import Problem
from mastbench.problems.logistic import Logistic, newton
from mastbench.problems.quadratic import QuadraticForm

from mastbench.backend import to_numpy
from mastbench.validation import check_int, check_vector

__all__ = ["MASTObjective"]

#: Largest support enumerated by default.
MAX_OUTCOMES = 1 << 12


def _pinv_quadratic(B: np.ndarray, g: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    """(B⁺g, gᵀB⁺g) for symmetric PSD B; ValueError when g is not in range(B) (unbounded)."""
    eig, vec = np.linalg.eigh(B)
    tol = max(eig.size, 1) * np.finfo(float).eps * max(abs(eig[-1]) if eig.size else 0.0, 1.0)
    keep = eig > tol
    coef = vec.T @ g
    if np.any(np.abs(coef[~keep]) > 1e-9 * max(np.linalg.norm(g), 1.0)):
        raise ValueError(f"{what} is unbounded below: the linear term is not in the range")
    solution = vec[:, keep] @ (coef[keep] / eig[keep])
    return solution, float(g @ solution)


def _solve_quadratic(B: np.ndarray, g: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    """(B⁻¹g, gᵀB⁻¹g) by an LU solve when it solves Bx = g to 1e-8·max(1, ‖g‖) (the accurate
    route for a nonsingular B), else :func:`_pinv_quadratic`."""
    try:
        x = np.linalg.solve(B, g)
    except np.linalg.LinAlgError:
        x = None
    tol = 1e-8 * max(1.0, float(np.linalg.norm(g)))
    if x is not None and np.all(np.isfinite(x)) and np.linalg.norm(B @ x - g) <= tol:
        return x, float(g @ x)
    return _pinv_quadratic(B, g, what)


def _minimize(grad: Any, hess: Any, value: Any, x0: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimize a smooth strongly convex function on the host to ‖∇‖ ≤ 1e-12·max(1, ‖∇(x0)‖).

    Damped Newton (:func:`problems.logistic.newton`) to 1e-8·scale, then full Newton steps:
    near the minimizer the Armijo test compares values equal up to round-off and would stall,
    while the full steps converge quadratically.  Returns the minimizer and ‖∇‖ achieved.

    Raises
    ------
    RuntimeError
        If the tolerance is not reached.
    """
    scale = max(1.0, float(np.linalg.norm(grad(x0))))
    tol = 1e-12 * scale
    x, norm, _ = newton(grad, hess, value, x0, tol=1e-8 * scale)
    for _ in range(10):
        if norm <= tol:
            return x, norm
        x = x - np.linalg.solve(hess(x), grad(x))
        norm = float(np.linalg.norm(grad(x)))
    if norm <= tol:
        return x, norm
    raise RuntimeError(f"Newton did not reach ‖∇f‖ <= {tol:.1e} (got {norm:.3e})")


class MASTObjective(Problem):
    """f_D(x) = E_{S~D} f(v + S(x − v)), the MAST objective of a problem, a sketch and a shift.

    Parameters
    ----------
    problem : Problem
        The smooth function f.
    sketch : mastbench.sketches.Sketch
        The distribution D of the sketches S (a :class:`~mastbench.sketches.Permutation` acts
        through its single-client marginal).
    shift : array of shape (d,), optional
        The shift v (pre-trained model); zeros by default.
    max_outcomes : int
        Largest support enumerated (non-quadratic problems, per-sketch infima, key-lemma
        moments).

    Attributes
    ----------
    problem, sketch, shift : the inputs (``shift`` in the problem's namespace and device).
    shift_host : numpy.ndarray
        v in float64 on the host.
    quadratic : bool
        True when the closed forms of ``mast.md`` §2.1 are used.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`Problem` or ``sketch`` is not a sketch distribution.
    ValueError
        If the dimensions disagree, the shift is not a finite (d,) vector, or f is not
        quadratic and the support cannot be enumerated (infinite, as for the Gaussian sketch,
        or larger than ``max_outcomes``).

    Notes
    -----
    ``L`` and ``mu``: exact λ_max(Ā) and λ_min(Ā) for quadratics.  Otherwise bounds from the
    smoothness lemma (``mast.md`` §2): for logistic regression ∇²f ⪯ H̄ = XᵀX/(4n) + l2·I gives
    ∇²f_D ⪯ E[SᵀH̄S], so L = λ_max(E[SᵀH̄S]) (≤ L_f·L_D); for other problems L = L_f·λ_max(E SᵀS)
    and everywhere μ = μ_f·λ_min(E SᵀS) (= μ_f·μ_D).
    """

    def __init__(
        self, problem: Problem, sketch: Any, shift: Any = None, *, max_outcomes: int = MAX_OUTCOMES
    ):
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
        for attribute in ("d", "support", "expected_gram", "expected_sandwich", "mean"):
            if not hasattr(sketch, attribute):
                raise TypeError(
                    f"sketch must be a sketch distribution (mastbench.sketches), got "
                    f"{type(sketch).__name__} without {attribute!r}"
                )
        self.max_outcomes = check_int("max_outcomes", max_outcomes, low=1)
        self.problem = problem
        self.sketch = sketch
        self._single = getattr(sketch, "marginal", sketch)
        if sketch.d != problem.d:
            raise ValueError(
                f"sketch dimension {sketch.d} does not match the problem's {problem.d}"
            )
        self.d = problem.d
        self.xp = problem.xp
        self._dtype = problem.dtype
        self._device = problem.device
        if shift is None:
            self.shift_host = np.zeros(self.d)
        else:
            check_vector("shift", shift, self.d)
            self.shift_host = np.asarray(to_numpy(shift), dtype=float)
        self.shift = self.asarray(self.shift_host)
        self.quadratic = isinstance(problem, QuadraticForm)
        if not self.quadratic:
            _ = self._outcomes  # fails here when the support cannot be enumerated

    # -- exact moments on the host -----------------------------------------------------------
    @cached_property
    def _form(self) -> tuple[np.ndarray, np.ndarray, float]:
        return self.problem.quadratic_form()

    @cached_property
    def f_shift(self) -> float:
        """f(v), in float64 from the quadratic form when there is one."""
        if self.quadratic:
            A, b, c = self._form
            v = self.shift_host
            return float(0.5 * v @ A @ v - b @ v + c)
        return self.problem.value_host(self.shift_host)

    @cached_property
    def c_shift(self) -> np.ndarray:
        """c_v = ∇f(v) on the host, in float64 (Av − b for quadratics)."""
        if self.quadratic:
            A, b, _ = self._form
            return A @ self.shift_host - b
        return self.problem.grad_host(self.shift_host)

    @cached_property
    def problem_hessian(self) -> np.ndarray:
        """A = ∇²f of a quadratic f (host, float64)."""
        self._require_quadratic("problem_hessian")
        return np.asarray(self._form[0], dtype=float)

    @cached_property
    def mean_sketch(self) -> np.ndarray:
        """S̄ = E[S] (the identity under Assumption 1)."""
        return np.asarray(self._single.mean(), dtype=float)

    @cached_property
    def expected_gram(self) -> np.ndarray:
        """E[SᵀS]."""
        return np.asarray(self._single.expected_gram(), dtype=float)

    @cached_property
    def A_bar(self) -> np.ndarray:
        """Ā = E[SᵀAS] = ∇²f_D (quadratics only)."""
        self._require_quadratic("A_bar")
        A_bar = np.asarray(self._single.expected_sandwich(self._form[0]), dtype=float)
        return 0.5 * (A_bar + A_bar.T)

    @cached_property
    def M(self) -> np.ndarray:
        """The regularizer M = Ā − A, so f_D = f + ½‖x − v‖²_M under E S = I (quadratics)."""
        return self.A_bar - self._form[0]

    @cached_property
    def _linear(self) -> np.ndarray:
        """S̄ᵀc_v, the gradient of f_D at v (quadratics)."""
        return self.mean_sketch.T @ self.c_shift

    @cached_property
    def _device_quadratic(self) -> tuple[Any, Any]:
        """(Ā, S̄ᵀc_v) in the problem's namespace and device."""
        return self.asarray(self.A_bar), self.asarray(self._linear)

    @cached_property
    def _outcomes(self) -> tuple[np.ndarray, np.ndarray]:
        """Single-sketch support (N, d) diagonals or (N, d, d) matrices, and probabilities."""
        try:
            outcomes, probs = self._single.support(self.max_outcomes)
        except ValueError as exc:
            raise ValueError(
                f"MASTObjective cannot evaluate f_D exactly for {self.problem!r} with "
                f"{self.sketch!r}: f is not quadratic (no closed form) and the support cannot "
                f"be enumerated ({exc})"
            ) from exc
        return np.asarray(outcomes, dtype=float), np.asarray(probs, dtype=float)

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """The single-sketch support: (N, d) diagonals or (N, d, d) matrices, and (N,) weights."""
        outcomes, probs = self._outcomes
        return outcomes.copy(), probs.copy()

    @property
    def _diagonal(self) -> bool:
        return self._outcomes[0].ndim == 2

    @cached_property
    def _device_support(self) -> tuple[Any, Any]:
        outcomes, probs = self._outcomes
        return self.asarray(outcomes), self.asarray(probs)

    def _require_quadratic(self, what: str) -> None:
        if not self.quadratic:
            raise ValueError(f"{what} is defined for quadratic problems only, not {self.problem!r}")

    # -- oracles -----------------------------------------------------------------------------
    def value(self, x: Any) -> Any:
        """f_D(x): a scalar for x of shape (d,), an (R,) array for x of shape (R, d)."""
        self._check_point(x)
        xp = self.xp
        if self.quadratic:
            y = x - self.shift
            A_bar, linear = self._device_quadratic
            return (
                self.f_shift + xp.sum(y * linear, axis=-1) + 0.5 * xp.sum(y * (y @ A_bar), axis=-1)
            )
        return self.sketch_values(x) @ self._device_support[1]

    def grad(self, x: Any) -> Any:
        """∇f_D(x), same shape as ``x``."""
        self._check_point(x)
        xp = self.xp
        if self.quadratic:
            A_bar, linear = self._device_quadratic
            return (x - self.shift) @ A_bar + linear
        probs = self._device_support[1]
        return xp.sum(self.sketch_grads(x) * probs[:, None], axis=-2)

    def _value_float64(self, x: np.ndarray) -> float:
        y = x - self.shift_host
        if self.quadratic:
            return float(self.f_shift + y @ self._linear + 0.5 * y @ self.A_bar @ y)
        outcomes, probs = self._support_matrices
        return float(
            sum(
                p * self.problem.value_host(self.shift_host + S @ y)
                for S, p in zip(outcomes, probs, strict=True)
            )
        )

    def _grad_float64(self, x: np.ndarray) -> np.ndarray:
        y = x - self.shift_host
        if self.quadratic:
            return self.A_bar @ y + self._linear
        outcomes, probs = self._support_matrices
        return sum(
            p * (S.T @ self.problem.grad_host(self.shift_host + S @ y))
            for S, p in zip(outcomes, probs, strict=True)
        )

    @cached_property
    def _support_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """The single-sketch support as (N, d, d) host matrices, and its probabilities."""
        outcomes, probs = self._outcomes
        if self._diagonal:
            return np.einsum("ni,ij->nij", outcomes, np.eye(self.d)), probs
        return outcomes, probs

    def hess(self, x: Any) -> Any:
        """∇²f_D(x) = E[Sᵀ∇²f(v + S(x − v))S] for a single point x of shape (d,)."""
        if self.quadratic:
            return self._device_quadratic[0]
        self._check_point(x)
        if x.ndim != 1:
            raise ValueError(f"hess takes a single point of shape ({self.d},), got {x.shape}")
        xp = self.xp
        outcomes, probs = self._device_support
        mats = self._as_matrices(outcomes)
        points = self._points(x[None, :])[0, ...]
        total = xp.zeros((self.d, self.d), dtype=self.dtype, device=self.device)
        for n in range(outcomes.shape[0]):
            S = mats[n, ...]
            total = total + probs[n] * (S.T @ self.problem.hess(points[n, ...]) @ S)
        return total

    # -- per-sketch quantities (enumeration) -------------------------------------------------
    def _as_matrices(self, outcomes: Any) -> Any:
        if not self._diagonal:
            return outcomes
        eye = self.xp.eye(self.d, dtype=self.dtype, device=self.device)
        return outcomes[:, :, None] * eye[None, ...]

    def _points(self, x2: Any) -> Any:
        """v + S_n(x − v) for every outcome n: shape (R, N, d) for x2 of shape (R, d)."""
        outcomes, _ = self._device_support
        y = x2 - self.shift
        if self._diagonal:
            return self.shift + outcomes[None, ...] * y[:, None, :]
        return self.shift + self.xp.sum(outcomes[None, ...] * y[:, None, None, :], axis=-1)

    def _at_points(self, x: Any, oracle: Any) -> Any:
        """oracle(v + S_n(x − v)) for every outcome n, one batched call: shape (R, N, ...)."""
        self._check_point(x)
        xp = self.xp
        points = self._points(x[None, :] if x.ndim == 1 else x)
        R, N = points.shape[0], points.shape[1]
        out = oracle(xp.reshape(points, (R * N, self.d)))
        return xp.reshape(out, (R, N, *out.shape[1:]))

    def sketch_values(self, x: Any) -> Any:
        """f_S(x) = f(v + S(x − v)) for every outcome S of the support: (N,) or (R, N)."""
        values = self._at_points(x, self.problem.value)
        return values[0, ...] if x.ndim == 1 else values

    def sketch_grads(self, x: Any) -> Any:
        """∇f_S(x) = Sᵀ∇f(v + S(x − v)) for every outcome: (N, d) or (R, N, d)."""
        xp = self.xp
        grads = self._at_points(x, self.problem.grad)
        outcomes, _ = self._device_support
        if self._diagonal:
            out = outcomes[None, ...] * grads
        else:
            out = xp.sum(outcomes[None, ...] * grads[..., None], axis=-2)
        return out[0, ...] if x.ndim == 1 else out

    def expected_sketch_grad_norm2(self, x: Any) -> Any:
        """E_S‖∇f_S(x)‖² by enumeration: a scalar for x of shape (d,), (R,) for (R, d)."""
        grads = self.sketch_grads(x)
        return self.xp.sum(grads * grads, axis=-1) @ self._device_support[1]

    @cached_property
    def sketch_infima(self) -> np.ndarray:
        """f_S^inf for every outcome of the support, shape (N,), float64 on the host."""
        outcomes, _ = self._outcomes
        return np.array([self._sketch_infimum(S) for S in outcomes])

    def _range_basis(self, S: np.ndarray) -> np.ndarray:
        if S.ndim == 1:
            return np.eye(self.d)[:, S != 0]
        u, sing, _ = np.linalg.svd(S)
        tol = self.d * np.finfo(float).eps * max(float(sing[0]) if sing.size else 0.0, 1.0)
        return u[:, sing > tol]

    def _sketch_infimum(self, S: np.ndarray) -> float:
        U = self._range_basis(S)
        if U.shape[1] == 0:
            return self.f_shift
        if self.quadratic:
            A = self._form[0]
            _, quad = _pinv_quadratic(U.T @ A @ U, U.T @ self.c_shift, "f_S")
            return self.f_shift - 0.5 * quad
        self._require_strongly_convex("f_S^inf")
        v, problem = self.shift_host, self.problem

        def value(w: np.ndarray) -> float:
            return problem.value_host(v + U @ w)

        def grad(w: np.ndarray) -> np.ndarray:
            return U.T @ problem.grad_host(v + U @ w)

        def hess(w: np.ndarray) -> np.ndarray:
            return U.T @ to_numpy(problem.hess(problem.asarray(v + U @ w))) @ U

        w, _ = _minimize(grad, hess, value, np.zeros(U.shape[1]))
        return value(w)

    def _require_strongly_convex(self, what: str) -> None:
        if not self.problem.mu > 0:
            raise ValueError(
                f"{what} of a non-quadratic problem needs μ_f > 0 for a unique minimizer; "
                f"{self.problem!r} has μ = {self.problem.mu}"
            )

    # -- exact constants ---------------------------------------------------------------------
    @cached_property
    def _eig_A_bar(self) -> np.ndarray:
        return np.linalg.eigvalsh(self.A_bar)

    @cached_property
    def L(self) -> float:
        """λ_max(Ā) for quadratics; λ_max(E[SᵀH̄S]) for logistic; else L_f·λ_max(E SᵀS)."""
        if self.quadratic:
            return float(max(self._eig_A_bar[-1], 0.0))
        if isinstance(self.problem, Logistic):
            H_bar = self.problem.hessian_bound
            return float(np.linalg.eigvalsh(self._single.expected_sandwich(H_bar))[-1])
        return float(self.problem.L * np.linalg.eigvalsh(self.expected_gram)[-1])

    @cached_property
    def mu(self) -> float:
        """λ_min(Ā) for quadratics (0 when singular up to round-off); else μ_f·λ_min(E SᵀS)."""
        if self.quadratic:
            eig = self._eig_A_bar
            tol = eig.size * np.finfo(float).eps * max(abs(eig[-1]), 1.0)
            return float(eig[0]) if eig[0] > tol else 0.0
        return float(self.problem.mu * np.linalg.eigvalsh(self.expected_gram)[0])

    @cached_property
    def _solution(self) -> tuple[np.ndarray, float, float, np.ndarray]:
        """(x_D*, f_D*, ‖∇f_D(x_D*)‖, y* = x_D* − v)."""
        if self.quadratic:
            step, quad = _solve_quadratic(self.A_bar, self._linear, "f_D")
            x = self.shift_host - step
            certificate = float(np.linalg.norm(self.grad_host(x)))
            return x, self.f_shift - 0.5 * quad, certificate, -step
        self._require_strongly_convex("x_D*")
        x, certificate = _minimize(
            self.grad_host,
            lambda z: to_numpy(self.hess(self.asarray(z))),
            self.value_host,
            self.shift_host,
        )
        return x, self.value_host(x), certificate, x - self.shift_host

    @property
    def certificate(self) -> float:
        """‖∇f_D(x_D*)‖ achieved (round-off for the closed form, ≤ 1e-12·scale for Newton)."""
        return self._solution[2]

    @cached_property
    def _problem_solution(self) -> tuple[np.ndarray, float]:
        if self.quadratic:
            return self.problem.x_star_host, self.problem.f_star
        self._require_strongly_convex("x*")
        problem = self.problem
        x, _ = _minimize(
            problem.grad_host,
            lambda z: to_numpy(problem.hess(problem.asarray(z))),
            problem.value_host,
            np.zeros(self.d),
        )
        return x, problem.value_host(x)

    @property
    def problem_x_star_host(self) -> np.ndarray:
        """x* = argmin f, the problem's closed form, or :func:`_minimize` (Newton polished by
        full steps, robust where Armijo stalls on round-off) for non-quadratic problems."""
        return self._problem_solution[0]

    @property
    def problem_f_star(self) -> float:
        """f* = min f, computed as :attr:`problem_x_star_host`."""
        return self._problem_solution[1]

    @property
    def x_star_host(self) -> np.ndarray:
        """x_D* = argmin f_D (closed form v − Ā⁺S̄ᵀ∇f(v), or Newton)."""
        return self._solution[0]

    @property
    def y_star_host(self) -> np.ndarray:
        """y* = x_D* − v (for quadratics −Ā⁻¹S̄ᵀ∇f(v) as solved, not a difference)."""
        return self._solution[3]

    @property
    def f_star(self) -> float:
        """f_D* = inf f_D."""
        return self._solution[1]

    @property
    def x_D_star(self) -> Any:
        """Alias of :attr:`x_star` in the notation of the paper."""
        return self.x_star

    @property
    def f_D_star(self) -> float:
        """Alias of :attr:`f_star` in the notation of the paper."""
        return self.f_star

    @cached_property
    def minima_gap(self) -> float:
        """Δ = f_D* − f* (``mast.md`` §2.3).

        Quadratics: ½(c_vᵀA⁺c_v − (S̄ᵀc_v)ᵀĀ⁺(S̄ᵀc_v)) in closed form (f(v) cancels).
        """
        if self.quadratic:
            A = self._form[0]
            _, quad_f = _pinv_quadratic(A, self.c_shift, "f")
            _, quad_D = _pinv_quadratic(self.A_bar, self._linear, "f_D")
            return 0.5 * (quad_f - quad_D)
        return self.f_star - self.problem_f_star

    @cached_property
    def expected_sketch_infimum(self) -> float:
        """E_S f_S^inf over the enumerated support (``mast.md`` §2.1, §4)."""
        return float(self.sketch_infima @ self._outcomes[1])

    @cached_property
    def minima_gap_sketchwise(self) -> float:
        """Δ' = f_D* − E_S f_S^inf (``mast.md`` §4), ≤ Δ."""
        return self.f_star - self.expected_sketch_infimum

    def __repr__(self) -> str:
        return f"MASTObjective({self.problem!r}, {self.sketch!r})"
