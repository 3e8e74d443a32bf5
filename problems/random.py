"""Random problem instances for tests, with controlled conditioning.

Every function takes an explicit :class:`mastbench.backend.Generator`; the data are created
in float64 on the generator's namespace and device.
"""

from __future__ import annotations

from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.quadratic import Quadratic

from mastbench.backend import Generator, to_numpy
from mastbench.validation import check_generator, check_in_range, check_int, check_positive

__all__ = ["least_squares", "logistic", "quadratic"]


def quadratic(d: int, condition_number: float, rng: Generator, *, mu: float = 1.0) -> Quadratic:
    """A random ``Quadratic`` with eigenvalues log-spaced in [mu, mu·condition_number].

    A = Q Diag(λ) Qᵀ with Q a random orthogonal matrix; b standard normal.
    ``condition_number = inf`` is not allowed; use ``mu=0`` for a singular A (then λ_min = 0
    and b is projected onto the range of A so that a minimizer exists).
    """
    import numpy as np

    d = check_int("d", d, low=1)
    check_generator("rng", rng)
    condition_number = check_positive("condition_number", condition_number)
    if condition_number < 1:
        raise ValueError(f"condition_number must be >= 1, got {condition_number}")
    mu = check_positive("mu", mu, strict=False)
    q, _ = np.linalg.qr(to_numpy(rng.normal((d, d))))
    top = (mu if mu > 0 else 1.0) * condition_number
    eig = (
        np.geomspace(max(mu, 1e-300), top, d)
        if mu > 0
        else np.concatenate([[0.0], np.geomspace(1.0, top, d - 1)] if d > 1 else [[0.0]])
    )
    A = (q * eig) @ q.T
    A = 0.5 * (A + A.T)
    b = to_numpy(rng.normal((d,)))
    if mu == 0:
        b = A @ np.linalg.lstsq(A, b, rcond=None)[0]
    return Quadratic(rng.asarray(A), rng.asarray(b))


def least_squares(n: int, d: int, rng: Generator, *, l2: float = 0.0, noise: float = 0.1):
    """Gaussian design least squares with a planted model and Gaussian noise."""
    n = check_int("n", n, low=1)
    d = check_int("d", d, low=1)
    check_generator("rng", rng)
    noise = check_positive("noise", noise, strict=False)
    X = rng.normal((n, d))
    w = rng.normal((d,))
    y = X @ w + noise * rng.normal((n,))
    return LeastSquares(X, y, l2=l2)


def logistic(n: int, d: int, rng: Generator, *, l2: float = 1e-2, flip: float = 0.1) -> Logistic:
    """Gaussian features, labels sign(xᵀw) with a fraction ``flip`` flipped (non-separable)."""
    n = check_int("n", n, low=1)
    d = check_int("d", d, low=1)
    check_generator("rng", rng)
    flip = check_in_range("flip", flip, 0.0, 1.0, low_open=False, high_open=False)
    xp = rng.xp
    X = rng.normal((n, d))
    w = rng.normal((d,))
    y = 2.0 * xp.astype(X @ w >= 0, X.dtype) - 1.0
    y = xp.where(rng.random((n,)) < flip, -y, y)
    return Logistic(X, y, l2=l2)
