"""Real data sets: scikit-learn's bundled sets and LIBSVM binary classification files.

``load(name)`` returns a :class:`Dataset` (float64 NumPy arrays on the host; move them to any
array namespace with :meth:`Dataset.arrays`).  LIBSVM files are never shipped with mastbench:
``load("a5a")`` looks for ``a5a`` or ``a5a.gz`` in ``data_dir`` when given, otherwise in
``$MASTBENCH_DATA`` and then in the per-user cache directory (``$XDG_CACHE_HOME/mastbench``,
by default ``~/.cache/mastbench``), and otherwise fails with a message saying where to put
the file.  An official test split (``a5a.t`` or ``a5a.t.gz``) next to it is loaded as
``X_test, y_test``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mastbench.validation import check_int

__all__ = ["Dataset", "cache_dir", "catalogue", "load", "load_libsvm"]

LIBSVM_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary.html"


@dataclass(frozen=True)
class _Spec:
    description: str
    task: str  # "binary", "multiclass" or "regression"
    source: str  # "sklearn" or "libsvm"
    n_features: int | None = None  # LIBSVM: the set's declared number of features


_SPECS: dict[str, _Spec] = {
    "breast_cancer": _Spec(
        "Wisconsin breast cancer (sklearn): 569 × 30, binary (benign = +1)", "binary", "sklearn"
    ),
    "digits": _Spec(
        "handwritten digits 8×8 (sklearn): 1797 × 64, 10 classes", "multiclass", "sklearn"
    ),
    "diabetes": _Spec(
        "diabetes progression (sklearn): 442 × 10, regression", "regression", "sklearn"
    ),
    "wine": _Spec("wine cultivars (sklearn): 178 × 13, 3 classes", "multiclass", "sklearn"),
    "iris": _Spec("iris (sklearn): 150 × 4, 3 classes", "multiclass", "sklearn"),
    "a1a": _Spec("UCI Adult, LIBSVM (file a1a[.gz]): 1605 × 123, binary", "binary", "libsvm", 123),
    "a5a": _Spec(
        "UCI Adult, LIBSVM (file a5a[.gz]): 6414 × 123, binary; the MAST paper's data set",
        "binary",
        "libsvm",
        123,
    ),
    "a9a": _Spec("UCI Adult, LIBSVM (file a9a[.gz]): 32561 × 123, binary", "binary", "libsvm", 123),
    "mushrooms": _Spec(
        "UCI Mushrooms, LIBSVM (file mushrooms[.gz]): 8124 × 112, binary", "binary", "libsvm", 112
    ),
    "w8a": _Spec(
        "Platt's web data, LIBSVM (file w8a[.gz]): 49749 × 300, binary", "binary", "libsvm", 300
    ),
}


@dataclass(frozen=True)
class Dataset:
    """A data set as float64 host arrays.

    Attributes
    ----------
    name : str
        Registry name (``"a5a"``, ``"breast_cancer"``, ...).
    X : numpy.ndarray or scipy.sparse.csr_matrix, shape (n, d)
        Training features.
    y : numpy.ndarray, shape (n,)
        Training targets: ±1 for binary tasks, class indices (float) for multiclass,
        real values for regression.
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    X_test, y_test : arrays or None
        Held-out split (the official LIBSVM test file, or ``test_size`` rows split off).
    description : str
        One line about the set.
    """

    name: str
    X: Any
    y: np.ndarray
    task: str
    X_test: Any = None
    y_test: np.ndarray | None = None
    description: str = ""

    @property
    def n(self) -> int:
        """Number of training rows."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Number of features."""
        return int(self.X.shape[1])

    def arrays(self, xp: Any = None, device: Any = None, *, test: bool = False) -> tuple[Any, Any]:
        """(X, y) (or the test split) as dense float64 arrays of namespace ``xp`` on ``device``.

        Raises
        ------
        ValueError
            If ``test`` is requested and the data set has no test split.
        """
        X, y = (self.X_test, self.y_test) if test else (self.X, self.y)
        if X is None:
            raise ValueError(f"data set {self.name!r} has no test split; pass test_size to load")
        X = _dense(X)
        if xp is None:
            return X, y
        kwargs = {"dtype": xp.float64} | ({"device": device} if device is not None else {})
        return xp.asarray(X, **kwargs), xp.asarray(y, **kwargs)


def catalogue() -> dict[str, str]:
    """Known data set names → one-line descriptions (for ``mastbench list``)."""
    return {name: spec.description for name, spec in _SPECS.items()}


def cache_dir() -> Path:
    """The per-user directory searched for data files: ``$XDG_CACHE_HOME/mastbench``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mastbench"


def load_libsvm(path: str | os.PathLike[str], *, n_features: int | None = None, dense: bool = True):
    """Read a LIBSVM/svmlight file (plain or ``.gz``/``.bz2``), labels unchanged.

    Parameters
    ----------
    path : str or path-like
        The file.
    n_features : int, optional
        The set's declared number of features; a file using fewer columns is padded with zero
        columns (e.g. a5a uses 122 of its 123 features), one using more is an error.
    dense : bool
        Return X as a dense float64 array (default) or as a CSR matrix.

    Returns
    -------
    X : numpy.ndarray or scipy.sparse.csr_matrix, shape (n, d)
    y : numpy.ndarray, shape (n,)

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be parsed or has more than ``n_features`` features.
    """
    from sklearn.datasets import load_svmlight_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no LIBSVM file at {path}")
    if n_features is not None:
        n_features = check_int("n_features", n_features, low=1)
    try:
        X, y = load_svmlight_file(str(path), dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"path: {path} is not a valid LIBSVM file ({exc})") from exc
    if n_features is not None:
        if X.shape[1] > n_features:
            raise ValueError(
                f"n_features: {path} has {X.shape[1]} features, more than the declared {n_features}"
            )
        X.resize((X.shape[0], n_features))
    X = X.tocsr()
    return (_dense(X) if dense else X), np.asarray(y, dtype=np.float64)


def load(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    standardize: bool = False,
    test_size: float | int | None = None,
    seed: int = 0,
    binary: int | None = None,
    dense: bool = True,
) -> Dataset:
    """Load a data set by name (see :func:`catalogue`).

    Parameters
    ----------
    name : str
        A known name: scikit-learn's ``breast_cancer``, ``digits``, ``diabetes``, ``wine``,
        ``iris``, or a LIBSVM set ``a1a``, ``a5a``, ``a9a``, ``mushrooms``, ``w8a``.
    data_dir : path, optional
        Where the LIBSVM file is.  Default: ``$MASTBENCH_DATA``, then :func:`cache_dir`.
    standardize : bool
        Center and scale every feature to unit variance, with the training split's mean and
        standard deviation (constant features are only centered).  Needs ``dense=True``.
    test_size : float in (0, 1) or int, optional
        Split this fraction (or number) of rows off as the test set, after a permutation drawn
        from ``seed``.  Replaces an official test file.
    seed : int
        Seed of the split.
    binary : int, optional
        For multiclass sets: the class that becomes +1, all others −1 (one-vs-rest), turning
        the set into a binary one.  Binary sets always have labels ±1 (the larger raw label
        becomes +1).
    dense : bool
        Dense float64 features (default) or CSR (LIBSVM sets only; sklearn sets are dense).

    Raises
    ------
    ValueError
        Unknown name (the message lists the known names), bad ``test_size``/``binary``, or
        ``standardize`` with sparse features.
    FileNotFoundError
        A LIBSVM file that is in none of the searched directories; the message says where to
        put it.
    """
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"name: unknown data set {name!r}; known data sets: {', '.join(_SPECS)}")
    seed = check_int("seed", seed, low=0)
    if standardize and not dense:
        raise ValueError("standardize: standardizing needs dense=True (centering densifies X)")
    spec = _SPECS[name]
    if spec.source == "sklearn":
        X, y = _SKLEARN[name]()
        X_test = y_test = None
    else:
        X, y, X_test, y_test = _load_libsvm_set(name, spec, data_dir, dense)
    task = spec.task
    if binary is not None:
        if task != "multiclass":
            raise ValueError(
                f"binary: only multiclass sets take a positive class; {name} is {task}"
            )
        y, y_test, task = _one_vs_rest(name, binary, y, y_test)
    elif task == "binary":
        y, y_test = _plus_minus_one(name, y, y_test)
    if test_size is not None:
        X, y, X_test, y_test = _split(X, y, test_size, seed)
    if standardize:
        X, X_test = _standardize(X, X_test)
    return Dataset(name, X, y, task, X_test, y_test, spec.description)


# -- helpers ---------------------------------------------------------------------------------
def _dense(X: Any) -> np.ndarray:
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=np.float64)


def _sklearn_loader(loader_name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load_set() -> tuple[np.ndarray, np.ndarray]:
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, loader_name)(return_X_y=True)
        return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)

    return load_set


_SKLEARN = {
    name: _sklearn_loader(f"load_{name}")
    for name, spec in _SPECS.items()
    if spec.source == "sklearn"
}


def _search_dirs(data_dir: Any) -> list[Path]:
    if data_dir is not None:
        return [Path(data_dir)]
    dirs = [Path(os.environ["MASTBENCH_DATA"])] if os.environ.get("MASTBENCH_DATA") else []
    return [*dirs, cache_dir()]


def _find(stem: str, dirs: list[Path]) -> Path | None:
    for folder in dirs:
        for suffix in ("", ".gz", ".bz2"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _load_libsvm_set(name: str, spec: _Spec, data_dir: Any, dense: bool):
    dirs = _search_dirs(data_dir)
    path = _find(name, dirs)
    if path is None:
        searched = ", ".join(str(d) for d in dirs)
        raise FileNotFoundError(
            f"LIBSVM data set {name!r} not found (looked for {name} or {name}.gz in: {searched}). "
            f"Download it from {LIBSVM_URL} and put it in one of these directories, or point "
            f"$MASTBENCH_DATA (or data_dir=) at the directory holding it."
        )
    X, y = load_libsvm(path, n_features=spec.n_features, dense=dense)
    test_path = _find(f"{name}.t", [path.parent])
    if test_path is None:
        return X, y, None, None
    X_test, y_test = load_libsvm(test_path, n_features=spec.n_features, dense=dense)
    return X, y, X_test, y_test


def _plus_minus_one(name: str, y: np.ndarray, y_test: np.ndarray | None):
    values = np.unique(y if y_test is None else np.concatenate([y, y_test]))
    if values.size != 2:
        raise ValueError(f"data set {name!r} should be binary but has labels {values[:10]}")
    high = values[1]
    return _relabel(y, high), _relabel(y_test, high)


def _relabel(labels: np.ndarray | None, positive: Any) -> np.ndarray | None:
    """+1 where the label equals ``positive``, −1 elsewhere (None stays None)."""
    return None if labels is None else np.where(labels == positive, 1.0, -1.0)


def _one_vs_rest(name: str, positive: Any, y: np.ndarray, y_test: np.ndarray | None):
    classes = np.unique(y)
    if (
        isinstance(positive, bool)
        or not isinstance(positive, int | np.integer)
        or positive not in classes
    ):
        raise ValueError(
            f"binary: the positive class must be one of {name}'s classes "
            f"{classes.astype(int).tolist()}, got {positive!r}"
        )
    return _relabel(y, positive), _relabel(y_test, positive), "binary"


def _split(X: Any, y: np.ndarray, test_size: Any, seed: int):
    n = X.shape[0]
    if isinstance(test_size, bool) or not isinstance(
        test_size, int | float | np.integer | np.floating
    ):
        raise TypeError(
            f"test_size must be a float in (0, 1) or an int, got {type(test_size).__name__}"
        )
    if isinstance(test_size, int | np.integer):
        n_test = check_int("test_size", test_size, low=1, high=n - 1)
    else:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be in (0, 1) as a fraction, got {test_size}")
        n_test = round(test_size * n)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"test_size={test_size} leaves an empty split of {n} rows")
    order = np.random.default_rng(seed).permutation(n)
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return X[train], y[train], X[test], y[test]


def _standardize(X: np.ndarray, X_test: Any):
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    X = (X - mean) / scale
    if X_test is not None:
        X_test = (_dense(X_test) - mean) / scale
    return X, X_test
