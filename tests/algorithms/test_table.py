"""The contract every registered algorithm keeps (one table drives these tests, as in optax).

For each :class:`~mastbench.algorithms.AlgorithmSpec`: a small call built by its case in
``tests/algorithms/cases`` returns a :class:`~mastbench.trace.Trace` with (C, R) metrics,
finite values, final iterates in the input namespace; the same seed reproduces it; NumPy and
array_api_strict agree; a bad starting point x0 is refused at the call with an error naming
``x0``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from mastbench.algorithms import all_algorithms
from mastbench.backend import array_namespace, namespace, rng, to_numpy
from mastbench.testing import Backend
from mastbench.trace import Trace
from tests.algorithms.cases import case_for

SPECS = all_algorithms()
REPLICATES = 3


def _case(spec, xp, device):
    return case_for(spec.name)(xp, device)


def test_every_algorithm_of_the_table_has_a_test_case():
    assert [s.name for s in SPECS if case_for(s.name) is None] == []


def _call(spec, backend, seed: int = 0) -> Trace:
    args, kwargs = _case(spec, backend.xp, backend.device)
    if spec.stochastic:
        kwargs = {**kwargs, "rng": rng(seed, backend.xp, backend.device), "replicates": REPLICATES}
    return spec.run(*args, **kwargs)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_returns_a_well_formed_trace(spec, xp):
    trace = _call(spec, xp)
    assert isinstance(trace, Trace)
    assert trace.iterations[0] == 0 and np.all(np.diff(trace.iterations) > 0)
    assert trace.metrics, f"{spec.name} records no metric"
    for name, values in trace.metrics.items():
        assert values.shape[0] == trace.iterations.size, name
        assert np.all(np.isfinite(values)), f"{spec.name}: metric {name} is not finite"
    if spec.stochastic:
        assert trace.replicates == REPLICATES
    assert array_namespace(trace.x) is xp.xp


@pytest.mark.parametrize("spec", [s for s in SPECS if s.stochastic], ids=lambda s: s.name)
def test_same_seed_same_trace(spec):
    numpy_backend = Backend("numpy", namespace("numpy"))
    first, second = _call(spec, numpy_backend, 5), _call(spec, numpy_backend, 5)
    for name in first.metrics:
        np.testing.assert_array_equal(first.metrics[name], second.metrics[name])
    np.testing.assert_array_equal(to_numpy(first.x), to_numpy(second.x))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_numpy_and_strict_agree(spec):
    strict = pytest.importorskip("array_api_strict")
    on_numpy = _call(spec, Backend("numpy", namespace("numpy")), 1)
    on_strict = _call(spec, Backend("strict-device1", strict, strict.Device("device1")), 1)
    np.testing.assert_allclose(to_numpy(on_strict.x), to_numpy(on_numpy.x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_docstring_states_the_method(spec):
    doc = spec.run.__doc__ or ""
    for section in ("Parameters", "Returns", "References"):
        assert section in doc, f"{spec.name}'s docstring has no {section} section"
    assert spec.paper, f"{spec.name} cites no paper"


def _bad_starts(d: int) -> dict[str, object]:
    strict = pytest.importorskip("array_api_strict")
    return {
        "nan": np.full(d, np.nan),
        "list": [0.0] * d,
        "other-namespace": strict.zeros(d, dtype=strict.float64),
        "integer": np.zeros(d, dtype=np.int64),
        "complex": np.zeros(d, dtype=np.complex128),
    }


X0_SPECS = [s for s in SPECS if "x0" in inspect.signature(s.run).parameters]


@pytest.mark.parametrize("bad", ["nan", "list", "other-namespace", "integer", "complex"])
@pytest.mark.parametrize("spec", X0_SPECS, ids=lambda s: s.name)
def test_bad_start_is_refused(spec, bad):
    args, kwargs = _case(spec, namespace("numpy"), None)
    if spec.stochastic:
        kwargs = {**kwargs, "rng": rng(0), "replicates": REPLICATES}
    problem = args[0][0] if isinstance(args[0], list) else args[0]
    x0 = _bad_starts(problem.d)[bad]
    position = list(inspect.signature(spec.run).parameters).index("x0")
    if position < len(args):
        args = (*args[:position], x0, *args[position + 1 :])
    else:
        kwargs = {**kwargs, "x0": x0}
    with pytest.raises((ValueError, TypeError), match="x0"):
        spec.run(*args, **kwargs)


STOCHASTIC_SPECS = [s for s in SPECS if s.stochastic]


@pytest.mark.parametrize("bad", ["0", 0.5, True], ids=["str", "float", "bool"])
@pytest.mark.parametrize("spec", STOCHASTIC_SPECS, ids=lambda s: s.name)
def test_rng_that_is_neither_a_generator_nor_a_seed_is_refused(spec, bad):
    args, kwargs = _case(spec, namespace("numpy"), None)
    with pytest.raises(TypeError, match="rng"):
        spec.run(*args, **kwargs, rng=bad, replicates=REPLICATES)
