"""Group-sparse instances: a planted block support on Gaussian data, and real data sets.

Every random function takes an explicit :class:`mastbench.backend.Generator`; data are
float64 in the generator's namespace and on its device.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mastbench.problems.group_structured import GroupLeastSquares, GroupMultinomial, Groups

from mastbench.backend import Generator, to_numpy
from mastbench.validation import check_int, check_positive

__all__ = ["block_groups", "dataset_multinomial", "planted_least_squares", "planted_multinomial"]


def block_groups(p: int, K: int, block: int, kind: str) -> Groups:
    """Row blocks (``kind="rows"``) or b×b tiles (``kind="tiles"``) of W ∈ ℝ^{p×K}."""
    if kind == "rows":
        return Groups.rows(p, K, block)
    if kind == "tiles":
        return Groups.tiles(p, K, block)
    raise ValueError(f"kind must be 'rows' or 'tiles', got {kind!r}")


def _planted(groups: Groups, k: int, rng: Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    k = check_int("k", k, low=1, high=groups.t)
    keys = to_numpy(rng.random((groups.t,)))
    support = np.sort(np.argsort(keys)[:k])
    w = np.zeros(groups.d)
    idx = groups.coords(support)
    signs = np.where(to_numpy(rng.random((idx.size,))) < 0.5, -1.0, 1.0)
    w[idx] = scale * signs * (1.0 + to_numpy(rng.random((idx.size,))))
    return support, w


def _design(n: int, p: int, rng: Generator, correlation: float) -> np.ndarray:
    """Gaussian features with equicorrelation ``correlation`` ∈ [0, 1) between columns."""
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must lie in [0, 1), got {correlation}")
    X = to_numpy(rng.normal((n, p)))
    if correlation == 0.0:
        return X
    common = to_numpy(rng.normal((n, 1)))
    return np.sqrt(1 - correlation) * X + np.sqrt(correlation) * common


def _planted_model(
    n: int, p: int, K: int, rng: Generator, block, kind, k, scale, correlation
) -> tuple[Groups, np.ndarray, np.ndarray, np.ndarray]:
    """Groups, planted support, design X (n, p) and the planted responses XW* (n, K)."""
    groups = block_groups(p, K, block, kind)
    support, w = _planted(groups, k, rng, scale)
    X = _design(n, p, rng, correlation)
    return groups, support, X, X @ w.reshape(p, K)


def planted_least_squares(
    n: int,
    p: int,
    K: int,
    rng: Generator,
    *,
    block: int = 1,
    kind: str = "rows",
    k: int = 2,
    noise: float = 0.1,
    l2: float = 0.0,
    scale: float = 1.0,
    correlation: float = 0.0,
) -> tuple[GroupLeastSquares, np.ndarray]:
    """Multiple-response least squares with W* supported on k random blocks.

    Returns
    -------
    problem : GroupLeastSquares
        Y = XW* + noise·E with E standard normal and X Gaussian with equicorrelated columns
        (``correlation``; 0 gives i.i.d. standard normal entries).
    support : numpy.ndarray
        The planted groups (sorted).
    """
    n, p, K = (check_int(a, v, low=1) for a, v in (("n", n), ("p", p), ("K", K)))
    noise = check_positive("noise", noise, strict=False)
    groups, support, X, signal = _planted_model(n, p, K, rng, block, kind, k, scale, correlation)
    Y = signal + noise * to_numpy(rng.normal((n, K)))
    return GroupLeastSquares(rng.asarray(X), rng.asarray(Y), groups, l2=l2), support


def planted_multinomial(
    n: int,
    p: int,
    K: int,
    rng: Generator,
    *,
    block: int = 1,
    kind: str = "rows",
    k: int = 2,
    l2: float = 1e-2,
    scale: float = 2.0,
    correlation: float = 0.0,
) -> tuple[GroupMultinomial, np.ndarray]:
    """Multinomial logistic regression with labels drawn from softmax(W*ᵀx), W* block sparse.

    Returns
    -------
    problem : GroupMultinomial
        Gaussian features (equicorrelated columns with ``correlation``); labels sampled from
        the planted model (so the data are noisy).
    support : numpy.ndarray
        The planted groups (sorted).
    """
    n, p = check_int("n", n, low=1), check_int("p", p, low=1)
    K = check_int("K", K, low=2)
    groups, support, X, z = _planted_model(n, p, K, rng, block, kind, k, scale, correlation)
    prob = np.exp(z - z.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    u = to_numpy(rng.random((n, 1)))
    labels = np.minimum((np.cumsum(prob, axis=1) < u).sum(axis=1), K - 1)
    return GroupMultinomial(rng.asarray(X), labels, K, groups, l2=l2), support


def dataset_multinomial(
    name: str = "digits",
    xp: Any = None,
    *,
    classes: int | None = 3,
    features: int = 8,
    block: int = 1,
    kind: str = "rows",
    l2: float = 1e-2,
    device: Any = None,
    data_dir: Any = None,
) -> GroupMultinomial:
    """Multinomial logistic regression on a data set of :func:`problems.datasets.load`.

    Multiclass sets keep the first ``classes`` classes (all when None); binary sets (±1, e.g.
    the LIBSVM files when present) become K = 2 with class 1 = label +1.  The ``features``
    columns of highest variance are kept and standardized, so that brute force over the
    feature groups stays cheap.

    Raises
    ------
    ValueError
        For a regression data set, or fewer than ``features`` non-constant columns.
    """
    from mastbench.problems import datasets

    from mastbench.backend import namespace

    features = check_int("features", features, low=1)
    xp = namespace("numpy") if xp is None else xp
    data = datasets.load(name, data_dir=data_dir)
    X, y = data.arrays()
    if data.task == "regression":
        raise ValueError(f"data set {name!r} is a regression task; a classification set is needed")
    labels = (y > 0).astype(np.int64) if data.task == "binary" else y.astype(np.int64)
    if classes is not None and data.task != "binary":
        keep = labels < check_int("classes", classes, low=2)
        X, labels = X[keep], labels[keep]
    K = int(labels.max()) + 1
    variance = X.var(axis=0)
    if np.count_nonzero(variance > 0) < features:
        raise ValueError(f"data set {name!r} has fewer than {features} non-constant features")
    cols = np.sort(np.argsort(-variance, kind="stable")[:features])
    X = X[:, cols]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    groups = block_groups(features, K, block, kind)
    Xa = xp.asarray(X, device=device) if device is not None else xp.asarray(X)
    return GroupMultinomial(Xa, labels, K, groups, l2=l2)
