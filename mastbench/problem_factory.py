"""Problems from short spec strings, for ``mastbench run --problem``.

A spec is ``name`` or ``name:key=value,key=value`` (a bare token after the colon is a data
set for ``logistic`` and ``least_squares``):

* ``quadratic:d=20,kappa=100,mu=1,seed=0`` — :func:`problems.random.quadratic`;
* ``least_squares:n=100,d=20,l2=0,noise=0.1,seed=0`` — :func:`problems.random.least_squares`;
* ``logistic:n=200,d=20,l2=0.01,flip=0.1,seed=0`` — :func:`problems.random.logistic`;
* ``logistic:a5a`` or ``logistic:dataset=a5a,l2=0.01,sparse=true`` — logistic regression on a
  data set of :func:`mastbench.problems.datasets.load` (``breast_cancer`` and the other
  scikit-learn sets need no download; LIBSVM sets such as ``a5a`` are read from
  ``$MASTBENCH_DATA`` or the cache directory); ``least_squares:diabetes`` likewise.

Bad specs raise :class:`~mastbench.validation.UsageError` naming the option; a LIBSVM file that
is not there raises :class:`FileNotFoundError` saying where to put it.
"""

from __future__ import annotations

from collections.abc import Callable
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


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:k=v,k2=v2"`` into the name and a dict of numbers or strings."""
    if not isinstance(spec, str) or not spec.strip():
        raise UsageError(f"problem must be a non-empty string like 'quadratic:d=20', got {spec!r}")
    name, _, rest = spec.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            key, parsed = "dataset", key.strip()
        elif not key.strip() or not value.strip():
            raise UsageError(f"problem option {item!r} must look like key=value")
        else:
            key, parsed = key.strip(), parse_value(value.strip())
        if key in options:
            raise UsageError(f"problem option {key!r} is given twice in {spec!r}")
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
    from mastbench.problems import datasets

    dataset = datasets.load(options.pop("dataset"), dense=not options.pop("sparse", False))
    return dataset.X, dataset.y


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


#: Problem factories by name: each takes the parsed options and consumes the ones it knows.
PROBLEMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "quadratic": _quadratic,
    "least_squares": _least_squares,
    "logistic": _logistic,
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
