"""The rng policy over the algorithm table: a seed or (NumPy) a NumPy generator is accepted, a
generator of another namespace or device is refused by name at the call."""

from __future__ import annotations

import numpy as np
import pytest

from mastbench.algorithms import all_algorithms
from mastbench.backend import namespace, rng, to_numpy
from tests.algorithms.cases import case_for

STOCHASTIC = [s for s in all_algorithms() if s.stochastic]
REPLICATES = 3


def _call(spec, xp, device, generator):
    args, kwargs = case_for(spec.name)(xp, device)
    return spec.run(*args, **kwargs, rng=generator, replicates=REPLICATES)


def _same(first, second):
    assert first.metrics.keys() == second.metrics.keys()
    for name in first.metrics:
        np.testing.assert_array_equal(first.metrics[name], second.metrics[name], err_msg=name)
    np.testing.assert_array_equal(to_numpy(first.x), to_numpy(second.x))


@pytest.mark.parametrize("spec", STOCHASTIC, ids=lambda s: s.name)
def test_a_seed_is_the_generator_of_the_problems_namespace_and_device(spec):
    strict = pytest.importorskip("array_api_strict")
    device = strict.Device("device1")
    _same(_call(spec, strict, device, 4), _call(spec, strict, device, rng(4, strict, device)))


@pytest.mark.parametrize("spec", STOCHASTIC, ids=lambda s: s.name)
def test_a_numpy_generator_is_drawn_from_on_numpy_problems(spec):
    xp = namespace("numpy")
    generator = np.random.default_rng(9)
    _same(_call(spec, xp, None, generator), _call(spec, xp, None, rng(9)))
    assert generator.bit_generator.state != np.random.default_rng(9).bit_generator.state


@pytest.mark.parametrize("spec", STOCHASTIC, ids=lambda s: s.name)
def test_a_numpy_generator_is_refused_for_another_namespace(spec):
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"rng is a numpy\.random\.Generator but the problem lives"):
        _call(spec, strict, None, np.random.default_rng(0))


@pytest.mark.parametrize("spec", STOCHASTIC, ids=lambda s: s.name)
def test_a_generator_of_another_namespace_is_refused_by_name(spec):
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(
        TypeError, match="rng is a numpy generator but the problem lives on array_api_strict"
    ):
        _call(spec, strict, None, rng(0))
    with pytest.raises(
        TypeError, match="rng is an array_api_strict generator but the problem lives on numpy"
    ):
        _call(spec, namespace("numpy"), None, rng(0, strict))


@pytest.mark.parametrize("spec", STOCHASTIC, ids=lambda s: s.name)
def test_a_generator_on_another_device_is_refused_by_name(spec):
    strict = pytest.importorskip("array_api_strict")
    elsewhere = rng(0, strict, strict.Device("device2"))
    with pytest.raises(ValueError, match=r"rng is a generator on device .*device2.* but the prob"):
        _call(spec, strict, strict.Device("device1"), elsewhere)


@pytest.mark.parametrize("spec", STOCHASTIC, ids=lambda s: s.name)
def test_a_negative_seed_is_refused_by_name(spec):
    with pytest.raises(ValueError, match="rng must be a non-negative seed"):
        _call(spec, namespace("numpy"), None, -1)
