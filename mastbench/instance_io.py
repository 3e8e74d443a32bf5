"""Theorem instances as JSON: what ``mastbench falsify`` prints, ``verify --instance`` loads.

The form (``"format": "mastbench-instance/1"``)::

    {"format": "mastbench-instance/1", "theorem": "mast.dist-dmax", "name": "...",
     "fields": {"problems": [{"problem": "quadratic", "A": {"array": [[...]]}, "b": ...}],
                "sketches": [{"sketch": "bernoulli", "p": {"array": [0.001]}}, ...],
                "shift": {"array": [0.0]}, "x0": {"array": [...]}, "horizons": {"tuple": [300]}},
     "params": {"step": 1e-06}}

A typed instance (a dataclass deriving from :class:`~mastbench.theory.Instance`) also records
its class as ``"type": "module:QualName"``, and is rebuilt as that class; without ``"type"``
the fields form a :class:`~mastbench.theory.FieldBag`.

Values: JSON scalars and lists as themselves; a NumPy array ``{"array": nested lists}``; a
tuple ``{"tuple": [...]}``; a dict ``{"dict": {...}}``; problems ``{"problem": KIND, ...}``
(``quadratic``: A, b; ``least_squares`` and ``logistic``: X, y, l2); sketches
``{"sketch": KIND, ...}`` (``bernoulli``: p; ``randk``: d, k; ``identity``: d;
``permutation``: d, n; ``gaussian``: d, m; ``discrete``: matrices, weights); an integer
array ``{"array": ..., "dtype": "int64"}``; a fraction ``{"fraction": "p/q"}``; any other
object of ``mastbench.problems`` or ``mastbench.theory`` that keeps its constructor's
arguments as attributes (constraint sets, regularizers, groups, group problems, composites)
``{"object": "module:Class", "args": {...}}``.  Floats are written with ``repr`` precision,
so a loaded instance reproduces the verdict bit for bit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from mastbench.theory import FieldBag, Instance

__all__ = ["FORMAT", "decode_instance", "encode_instance", "load_instance", "save_instance"]

FORMAT = "mastbench-instance/1"


def _array(value: Any) -> dict[str, Any]:
    from mastbench.backend import to_numpy

    host = np.asarray(to_numpy(value))
    if np.issubdtype(host.dtype, np.integer):
        return {"array": host.astype(np.int64).tolist(), "dtype": "int64"}
    return {"array": np.asarray(host, dtype=float).tolist()}


def _problem(value: Any) -> dict[str, Any] | None:
    from mastbench.problems.least_squares import LeastSquares
    from mastbench.problems.logistic import Logistic
    from mastbench.problems.quadratic import Quadratic

    if isinstance(value, Quadratic):
        return {"problem": "quadratic", "A": _array(value.A), "b": _array(value.b)}
    for kind, cls in (("least_squares", LeastSquares), ("logistic", Logistic)):
        if isinstance(value, cls):
            if not isinstance(value.X, np.ndarray) and hasattr(value.X, "tocsr"):
                raise TypeError(f"a {kind} problem with a sparse design has no JSON form")
            return {
                "problem": kind,
                "X": _array(value.X),
                "y": _array(value.y),
                "l2": float(value.l2),
            }
    return None


def _sketch(value: Any) -> dict[str, Any] | None:
    from mastbench import sketches as sk

    if isinstance(value, sk.Bernoulli):
        return {"sketch": "bernoulli", "p": _array(value.p)}
    if isinstance(value, sk.RandK):
        return {"sketch": "randk", "d": value.d, "k": value.k}
    if isinstance(value, sk.Identity):
        return {"sketch": "identity", "d": value.d}
    if isinstance(value, sk.Permutation):
        return {"sketch": "permutation", "d": value.d, "n": value.n}
    if isinstance(value, sk.Gaussian):
        return {"sketch": "gaussian", "d": value.d, "m": value.m}
    if isinstance(value, sk.Discrete):
        return {
            "sketch": "discrete",
            "matrices": _array(value.matrices),
            "weights": _array(value.weights),
        }
    return None


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, Fraction):
        return {"fraction": str(value)}
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: only dicts with str keys have a JSON form")
        return {"dict": {k: _encode(v, f"{where}.{k}") for k, v in value.items()}}
    encoded = _problem(value) or _sketch(value) or _object(value, where)
    if encoded is None:
        raise TypeError(f"{where}: a {type(value).__name__} has no JSON instance form")
    return encoded


#: The modules whose objects an instance file holds as ``{"object": ..., "args": ...}``: the
#: problems and the theories' own exact data (never an application object).
_OBJECT_MODULES = ("mastbench.problems.", "mastbench.theory.")

#: Constructor arguments that an object keeps under another attribute name.
_ARGUMENT_ATTRIBUTES = {"GroupL1Ball": {"groups": "labels"}}


def _object(value: Any, where: str) -> dict[str, Any] | None:
    """An object of ``mastbench.problems`` or ``mastbench.theory`` (constraint set,
    regularizer, group problem, composite, exact reference data...) as its
    class and the constructor arguments it keeps as attributes, or ``None`` when it does not
    keep them all."""
    import inspect

    cls = type(value)
    if not cls.__module__.startswith(_OBJECT_MODULES):
        return None
    renamed = _ARGUMENT_ATTRIBUTES.get(cls.__name__, {})
    args = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        attribute = renamed.get(name, name)
        if not hasattr(value, attribute):
            return None
        args[name] = _encode(getattr(value, attribute), f"{where}.{name}")
    return {"object": f"{cls.__module__}:{cls.__qualname__}", "args": args}


def encode_instance(
    instance: Instance, theorem: str | None = None, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON-ready form of ``instance`` (with the theorem id and parameters, if given).

    Raises
    ------
    TypeError
        If a field holds a value without a JSON form (the error names the field).
    """
    data: dict[str, Any] = {"format": FORMAT}
    if theorem is not None:
        data["theorem"] = theorem
    data["name"] = instance.name
    if not isinstance(instance, FieldBag):
        data["type"] = f"{type(instance).__module__}:{type(instance).__qualname__}"
    data["fields"] = {k: _encode(v, k) for k, v in instance.fields.items()}
    data["params"] = {k: _encode(v, f"params.{k}") for k, v in (params or {}).items()}
    return data


def _decode_problem(data: Mapping[str, Any]) -> Any:
    from mastbench.problems.least_squares import LeastSquares
    from mastbench.problems.logistic import Logistic
    from mastbench.problems.quadratic import Quadratic

    kind = data["problem"]
    if kind == "quadratic":
        return Quadratic(_decode(data["A"]), _decode(data["b"]))
    if kind in ("least_squares", "logistic"):
        cls = LeastSquares if kind == "least_squares" else Logistic
        return cls(_decode(data["X"]), _decode(data["y"]), l2=float(data["l2"]))
    raise ValueError(f"unknown problem kind {kind!r} in the instance file")


def _decode_sketch(data: Mapping[str, Any]) -> Any:
    from mastbench import sketches as sk

    kind = data["sketch"]
    builders = {
        "bernoulli": lambda: sk.Bernoulli(_decode(data["p"])),
        "randk": lambda: sk.RandK(data["d"], data["k"]),
        "identity": lambda: sk.Identity(data["d"]),
        "permutation": lambda: sk.Permutation(data["d"], data["n"]),
        "gaussian": lambda: sk.Gaussian(data["d"], data["m"]),
        "discrete": lambda: sk.Discrete(_decode(data["matrices"]), _decode(data["weights"])),
    }
    if kind not in builders:
        raise ValueError(f"unknown sketch kind {kind!r} in the instance file")
    return builders[kind]()


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "array" in value:
        return np.asarray(value["array"], dtype=np.int64 if value.get("dtype") else float)
    if "tuple" in value:
        return tuple(_decode(v) for v in value["tuple"])
    if "fraction" in value:
        return Fraction(value["fraction"])
    if "dict" in value:
        return {k: _decode(v) for k, v in value["dict"].items()}
    if "problem" in value:
        return _decode_problem(value)
    if "sketch" in value:
        return _decode_sketch(value)
    if "object" in value:
        return _decode_object(value)
    raise ValueError(f"unrecognized value in the instance file: keys {sorted(value)}")


def decode_instance(data: Mapping[str, Any]) -> tuple[str | None, Instance, dict[str, Any]]:
    """(theorem id or None, instance, params) from the form of :func:`encode_instance`."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError(f'an instance file is a JSON object with "format": {FORMAT!r}')
    for key in ("name", "fields"):
        if key not in data:
            raise ValueError(f"the instance file has no {key!r}")
    fields = {k: _decode(v) for k, v in data["fields"].items()}
    params = {k: _decode(v) for k, v in data.get("params", {}).items()}
    if "type" not in data:
        return data.get("theorem"), FieldBag(str(data["name"]), **fields), params
    cls = _mastbench_class(data["type"], Instance)
    return data.get("theorem"), cls(str(data["name"]), **fields), params


def _decode_object(value: Mapping[str, Any]) -> Any:
    """The object of an ``{"object": "module:Class", "args": {...}}`` entry: a class of
    :mod:`mastbench.problems` (problems, constraint sets, regularizers, groups) rebuilt from its
    constructor's arguments; a clear error naming the entry otherwise."""
    path = value["object"]
    if not str(path).startswith(_OBJECT_MODULES):
        raise ValueError(
            f"the instance file names the object {path!r}: only classes of mastbench.problems "
            "and mastbench.theory are rebuilt from an instance file"
        )
    cls = _mastbench_class(path, object)
    args = value.get("args", {})
    if not isinstance(args, Mapping):
        raise ValueError(f"the arguments of the object {path!r} must be a JSON object")
    try:
        return cls(**{k: _decode(v) for k, v in args.items()})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the instance file's object {path!r} cannot be rebuilt: {exc}") from None


def _mastbench_class(path: Any, base: type) -> type:
    """The class ``"module:QualName"`` names: a subclass of ``base`` defined in a module of
    mastbench or of a plugin already imported (an instance file imports nothing else)."""
    import importlib
    import sys

    module, _, name = str(path).partition(":")
    if not module or not name:
        raise ValueError(f'an instance file names classes as "module:Class", got {path!r}')
    if not module.startswith("mastbench.") and module not in sys.modules:
        raise ValueError(f"the instance file names {path!r}, outside mastbench and not imported")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ValueError(f"the instance file names {path!r}, which is no class") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"the instance file names {path!r}, not a {base.__name__} class")
    return cls


def save_instance(
    path: str | os.PathLike,
    instance: Instance,
    theorem: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Write ``instance`` to ``path`` as JSON (see :func:`encode_instance`)."""
    from mastbench.results import atomic_write_bytes

    text = json.dumps(encode_instance(instance, theorem, params), indent=1) + "\n"
    atomic_write_bytes(path, text.encode())


def load_instance(path: str | os.PathLike) -> tuple[str | None, Instance, dict[str, Any]]:
    """Read an instance file: (theorem id or None, instance, params).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not JSON in the instance form.
    """
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{os.fspath(path)} is not JSON: {exc}") from None
    return decode_instance(data)
