"""Group-sparse composite instances: random with a planted support, and from real data.

Each builder returns a :class:`problems.composite.Composite` F = f + λΣ_g√|g|‖W_g‖ whose λ is
given as a fraction of λ_max = max_g ‖∇_g f(0)‖/√|g|, the smallest λ for which W* = 0 (for
f with ∇f(0) ≠ 0), so that the optimal support is neither empty nor full.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.composite import Composite
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.multinomial import MultinomialLogistic
from mastbench.problems.regularizers import GroupLasso

from mastbench.backend import Generator, to_numpy
from mastbench.validation import check_in_range, check_int, check_positive

__all__ = [
    "digits_feature_groups",
    "digits_multinomial",
    "lambda_max",
    "libsvm_group_logistic",
    "random_group_least_squares",
    "random_group_logistic",
]


def lambda_max(f: Any, groups: list[np.ndarray]) -> float:
    """max_g ‖∇_g f(0)‖/√|g|: for λ ≥ this, W* = 0 is optimal."""
    g = f.grad_host(np.zeros(f.d))
    return float(max(np.linalg.norm(g[idx]) / np.sqrt(idx.size) for idx in groups))


def _check_lam_ratio(lam_ratio: float) -> float:
    return check_in_range("lam_ratio", lam_ratio, 0.0, 1.0, low_open=True, high_open=False)


def _group_lasso_problem(
    f: Any, groups: list[np.ndarray], lam_ratio: float, d: int | None = None
) -> Composite:
    """F = f + λΣ_g√|g|‖W_g‖ with λ = lam_ratio·λ_max (lam_ratio checked by the caller)."""
    return Composite(f, GroupLasso(groups, lam_ratio * lambda_max(f, groups), d=d))


def _planted(
    n: int, n_groups: int, group_size: int, n_active: int, rng: Generator
) -> tuple[Any, Any, list[np.ndarray]]:
    """Gaussian X (n, d), the planted signal Xw (first n_active groups) and the groups."""
    n = check_int("n", n, low=1)
    n_groups = check_int("n_groups", n_groups, low=1)
    group_size = check_int("group_size", group_size, low=1)
    n_active = check_int("n_active", n_active, low=0, high=n_groups)
    xp = rng.xp
    d = n_groups * group_size
    X = rng.normal((n, d))
    mask = np.zeros(d)
    mask[: n_active * group_size] = 1.0
    w = rng.normal((d,)) * xp.asarray(mask, dtype=X.dtype, device=rng.device)
    return X, X @ w, GroupLasso.contiguous(n_groups, group_size, 1.0).groups


def random_group_logistic(
    n: int,
    n_groups: int,
    group_size: int,
    n_active: int,
    rng: Generator,
    *,
    lam_ratio: float = 0.5,
    l2: float = 1e-3,
    flip: float = 0.05,
) -> Composite:
    """Logistic regression with Gaussian features, labels from a planted group-sparse model.

    The first ``n_active`` groups carry the planted weights; a fraction ``flip`` of labels is
    flipped.  λ = lam_ratio·λ_max.
    """
    lam_ratio = _check_lam_ratio(lam_ratio)
    flip = check_in_range("flip", flip, 0.0, 0.5, low_open=False, high_open=True)
    X, margin, groups = _planted(n, n_groups, group_size, n_active, rng)
    xp = rng.xp
    y = 2.0 * xp.astype(margin >= 0, X.dtype) - 1.0
    y = xp.where(rng.random((n,)) < flip, -y, y)
    f = Logistic(X, y, l2=l2)
    return _group_lasso_problem(f, groups, lam_ratio)


def random_group_least_squares(
    n: int,
    n_groups: int,
    group_size: int,
    n_active: int,
    rng: Generator,
    *,
    lam_ratio: float = 0.5,
    l2: float = 0.0,
    noise: float = 0.1,
) -> Composite:
    """Least squares ½‖Xw − y‖²/n with a planted group-sparse w and Gaussian noise."""
    lam_ratio = _check_lam_ratio(lam_ratio)
    noise = check_positive("noise", noise, strict=False)
    X, signal, groups = _planted(n, n_groups, group_size, n_active, rng)
    y = signal + noise * rng.normal((n,))
    f = LeastSquares(X, y, l2=l2)
    return _group_lasso_problem(f, groups, lam_ratio)


def _to(xp: Any, device: Any, a: np.ndarray) -> Any:
    return xp.asarray(a) if device is None else xp.asarray(a, device=device)


def _intercept(X: np.ndarray) -> np.ndarray:
    return np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)


def digits_multinomial(
    *,
    lam: float = 1e-3,
    l2: float = 1e-4,
    test_size: float = 0.2,
    seed: int = 0,
    xp: Any = None,
    device: Any = None,
) -> tuple[Composite, Any, Any]:
    """Multinomial logistic model of sklearn's digits with input-wise groups.

    The offline analogue of the paper's MNIST experiment (arXiv 2403.14398, App. A.1): pixel
    intensities scaled to [0, 1], an unregularized intercept per class, one group of size 10
    per input pixel (λ_g = λ√10), ridge ``l2`` for a unique minimizer.

    Returns
    -------
    problem : Composite
    X_test, y_test : arrays
        Held-out features (with the intercept column) and class indices.
    """
    from mastbench.problems.datasets import load

    lam = check_positive("lam", lam, strict=False)
    data = load("digits", test_size=test_size, seed=seed)
    xp = np if xp is None else xp
    X = _intercept(data.X / 16.0)
    X_test = _intercept(data.X_test / 16.0)
    f = MultinomialLogistic(_to(xp, device, X), _to(xp, device, data.y), 10, l2)
    groups = f.input_groups[:-1]
    psi = GroupLasso(groups, lam, d=f.d)
    return Composite(f, psi), _to(xp, device, X_test), _to(xp, device, data.y_test)


def digits_feature_groups(
    *, lam_ratio: float = 0.3, l2: float = 1e-3, positive: int = 0, block: int = 2
) -> Composite:
    """Binary logistic regression on digits (one class vs rest) with pixel-block groups.

    The 8×8 image is cut into (8/block)² square blocks of block² pixels; each block is a
    group.  Features scaled to [0, 1]; λ = lam_ratio·λ_max.
    """
    from mastbench.problems.datasets import load

    lam_ratio = _check_lam_ratio(lam_ratio)
    block = check_int("block", block, low=1, high=8)
    if 8 % block:
        raise ValueError(f"block must divide 8, got {block}")
    data = load("digits", binary=positive)
    f = Logistic(data.X / 16.0, data.y, l2=l2)
    pix = np.arange(64).reshape(8, 8)
    groups = [
        pix[r : r + block, c : c + block].reshape(-1)
        for r in range(0, 8, block)
        for c in range(0, 8, block)
    ]
    return _group_lasso_problem(f, groups, lam_ratio)


def libsvm_group_logistic(
    name: str,
    *,
    group_size: int = 4,
    lam_ratio: float = 0.3,
    l2: float = 1e-3,
    data_dir: Any = None,
) -> Composite:
    """Binary logistic regression on a LIBSVM set with contiguous feature groups.

    Trailing features that do not fill a group are left unregularized.
    """
    from mastbench.problems.datasets import load

    lam_ratio = _check_lam_ratio(lam_ratio)
    data = load(name, data_dir=data_dir)
    X = np.asarray(to_numpy(data.X), dtype=float)
    f = Logistic(X, data.y, l2=l2)
    group_size = check_int("group_size", group_size, low=1, high=f.d)
    n_groups = f.d // group_size
    groups = [np.arange(k * group_size, (k + 1) * group_size) for k in range(n_groups)]
    return _group_lasso_problem(f, groups, lam_ratio, d=f.d)
