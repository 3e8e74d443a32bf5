"""Problems from short spec strings, for ``mastbench run --problem``.

A spec is ``name`` or ``name:key=value,key=value`` (a bare token after the colon is a data
set for ``logistic`` and ``least_squares``):

* ``quadratic:d=20,kappa=100,mu=1,seed=0`` — :func:`problems.random.quadratic`;
* ``least_squares:n=100,d=20,l2=0,noise=0.1,seed=0`` — :func:`problems.random.least_squares`;
* ``logistic:n=200,d=20,l2=0.01,flip=0.1,seed=0`` — :func:`problems.random.logistic`;
* ``logistic:a5a`` or ``logistic:dataset=a5a,l2=0.01,sparse=true`` — logistic regression on a
  data set of :func:`mastbench.problems.datasets.load` (``breast_cancer`` and the other
  scikit-learn sets need no download; LIBSVM sets such as ``a5a`` are read from
  ``$MASTBENCH_DATA`` or the cache directory), ``standardize=true`` scales every feature to
  unit variance; ``least_squares:diabetes`` likewise;
* ``group_least_squares:n=100,p=8,K=1,block=1,k=2,noise=0.1,l2=0,seed=0`` — multiple-response
  least squares with W* ∈ ℝ^{p×K} planted on k of the row blocks of ``block`` rows
  (:func:`mastbench.problems.group_random.planted_least_squares`);
* ``group_multinomial:n=200,p=8,K=3,block=1,k=2,l2=0.01,seed=0`` — multinomial logistic
  regression with a planted block-sparse W* (:func:`~mastbench.problems.group_random.
  planted_multinomial`), or ``group_multinomial:digits,classes=3,features=8`` on a data set
  (:func:`~mastbench.problems.group_random.dataset_multinomial`).

Bad specs raise :class:`~mastbench.validation.UsageError` naming the option; a LIBSVM file that
is not there raises :class:`FileNotFoundError` saying where to put it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from mastbench.validation import UsageError

__all__ = ["PROBLEMS", "make_problem", "parse_spec", "parse_value"]


def parse_value(text: str) -> Any:
    """``"3"`` → 3, ``"0.5"`` → 0.5, ``"true"``/``"false"`` → bool, anything else the string."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def parse_spec(
    spec: str,
    *,
    what: str = "problem",
    example: str = "quadratic:d=20",
    bare: str | None = "dataset",
) -> tuple[str, dict[str, Any]]:
    """Split ``"name:k=v,k2=v2"`` into the name and a dict of numbers or strings.

    ``what`` and ``example`` name the spec in error messages (``"sketch"``,
    ``"randk:k=5"``); a bare token after the colon is the option ``bare`` (``dataset`` for
    problems; an error where ``bare`` is ``None``).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError(f"{what} must be a non-empty string like {example!r}, got {spec!r}")
    name, _, rest = spec.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq and bare is not None:
            key, parsed = bare, key.strip()
        elif not eq or not key.strip() or not value.strip():
            raise UsageError(f"{what} option {item!r} in {spec!r} must look like key=value")
        else:
            key, parsed = key.strip(), parse_value(value.strip())
        if key in options:
            raise UsageError(f"{what} option {key!r} is given twice in {spec!r}")
        options[key] = parsed
    return name.strip(), options


def _rng(options: dict[str, Any]):
    from mastbench.backend import rng

    return rng(options.pop("seed", 0))


def _quadratic(options: dict[str, Any]):
    from mastbench.problems.random import quadratic

    generator = _rng(options)
    return quadratic(
        options.pop("d", 20), options.pop("kappa", 100.0), generator, mu=options.pop("mu", 1.0)
    )


def _data(options: dict[str, Any]) -> tuple[Any, np.ndarray]:
    """Features and labels of the data set named in ``options`` (the library's own loader,
    :func:`mastbench.problems.datasets.load`: scikit-learn's bundled sets, or LIBSVM files from
    ``$MASTBENCH_DATA`` or the cache directory); ``sparse=true`` keeps LIBSVM features CSR."""
    name = options.pop("dataset")
    dense = not options.pop("sparse", False)
    standardize = options.pop("standardize", False)
    searched = tuple(os.environ.get(key) for key in ("MASTBENCH_DATA", "XDG_CACHE_HOME", "HOME"))
    dataset = _load(name, dense=dense, standardize=standardize, searched=searched)
    return dataset.X, dataset.y


@lru_cache(maxsize=4)
def _load(name: str, *, dense: bool, standardize: bool, searched: tuple) -> Any:
    """:func:`mastbench.problems.datasets.load`, once per process and set of searched folders
    (``searched``: the variables naming them), so that a run checked in the parent and
    executed in the same process reads a LIBSVM file once."""
    from mastbench.problems import datasets

    return datasets.load(name, dense=dense, standardize=standardize)


def _least_squares(options: dict[str, Any]):
    from mastbench.problems import LeastSquares
    from mastbench.problems.random import least_squares

    if "dataset" in options:
        X, y = _data(options)
        return LeastSquares(X, y, l2=options.pop("l2", 0.0))
    generator = _rng(options)
    return least_squares(
        options.pop("n", 100),
        options.pop("d", 20),
        generator,
        l2=options.pop("l2", 0.0),
        noise=options.pop("noise", 0.1),
    )


def _logistic(options: dict[str, Any]):
    from mastbench.problems import Logistic
    from mastbench.problems.random import logistic

    if "dataset" in options:
        X, y = _data(options)
        return Logistic(X, y, l2=options.pop("l2", 1e-2))
    generator = _rng(options)
    return logistic(
        options.pop("n", 200),
        options.pop("d", 20),
        generator,
        l2=options.pop("l2", 1e-2),
        flip=options.pop("flip", 0.1),
    )


def _group_least_squares(options: dict[str, Any]):
    from mastbench.problems.group_random import planted_least_squares

    generator = _rng(options)
    problem, _ = planted_least_squares(
        options.pop("n", 100),
        options.pop("p", 8),
        options.pop("K", 1),
        generator,
        block=options.pop("block", 1),
        k=options.pop("k", 2),
        noise=options.pop("noise", 0.1),
        l2=options.pop("l2", 0.0),
    )
    return problem


def _group_multinomial(options: dict[str, Any]):
    from mastbench.problems.group_random import dataset_multinomial, planted_multinomial

    if "dataset" in options:
        return dataset_multinomial(
            options.pop("dataset"),
            classes=options.pop("classes", 3),
            features=options.pop("features", 8),
            block=options.pop("block", 1),
            l2=options.pop("l2", 1e-2),
        )
    generator = _rng(options)
    problem, _ = planted_multinomial(
        options.pop("n", 200),
        options.pop("p", 8),
        options.pop("K", 3),
        generator,
        block=options.pop("block", 1),
        k=options.pop("k", 2),
        l2=options.pop("l2", 1e-2),
    )
    return problem


#: Problem factories by name: each takes the parsed options and consumes the ones it knows.
PROBLEMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "quadratic": _quadratic,
    "least_squares": _least_squares,
    "logistic": _logistic,
    "group_least_squares": _group_least_squares,
    "group_multinomial": _group_multinomial,
}


def make_problem(spec: str) -> Any:
    """Build the problem described by ``spec`` (see the module docstring)."""
    name, options = parse_spec(spec)
    if name not in PROBLEMS:
        raise UsageError(f"unknown problem {name!r}; known problems: {', '.join(sorted(PROBLEMS))}")
    try:
        problem = PROBLEMS[name](options)
    except UsageError:
        raise
    except (ValueError, TypeError) as exc:
        raise UsageError(f"problem {spec!r}: {exc}") from exc
    if options:
        raise UsageError(f"problem {name!r} got unknown options: {', '.join(sorted(options))}")
    return problem
