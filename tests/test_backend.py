import numpy as np
import pytest

from mastbench import backend


def test_namespace_rejects_unknown_name():
    with pytest.raises(ValueError, match="backend name must be one of"):
        backend.namespace("jax-but-misspelled")


def test_available_lists_numpy_first():
    names = backend.available()
    assert names[0] == "numpy"
    assert set(names) <= set(backend.BACKENDS)


def test_same_seed_same_numbers_on_numpy_and_strict():
    strict = pytest.importorskip("array_api_strict")
    a = backend.rng(7).normal((3, 4))
    b = backend.rng(7, strict, strict.Device("device1")).normal((3, 4))
    np.testing.assert_array_equal(a, backend.to_numpy(b))


def test_generator_arrays_live_on_requested_device(xp):
    gen = xp.rng(3)
    for sample in (
        gen.random((2, 3)),
        gen.normal(4),
        gen.integers(0, 5, (3,)),
        gen.permutations(2, 5),
        gen.subsets(3, 6, 2),
    ):
        assert backend.array_namespace(sample) is xp.xp
        if xp.device is not None:
            assert backend.device_of(sample) == xp.device


def test_subsets_are_sorted_distinct_and_uniform():
    gen = backend.rng(0)
    idx = gen.subsets(20000, 5, 2)
    assert idx.shape == (20000, 2)
    assert np.all(idx[:, 0] < idx[:, 1])
    counts = np.bincount(idx.ravel(), minlength=5) / idx.size
    # each coordinate kept with probability k/d = 0.4, i.e. 1/5 of the kept slots
    assert np.all(np.abs(counts - 0.2) < 5 * np.sqrt(0.2 * 0.8 / idx.size))
    full = gen.subsets(3, 4, 4)
    np.testing.assert_array_equal(full, np.tile(np.arange(4), (3, 1)))


def test_permutations_are_permutations():
    perms = backend.rng(1).permutations(50, 7)
    np.testing.assert_array_equal(np.sort(perms, axis=1), np.tile(np.arange(7), (50, 1)))


def test_rng_rejects_generator_as_seed():
    with pytest.raises(TypeError, match="seed must be"):
        backend.rng(backend.rng(0))
    with pytest.raises(TypeError, match="seed must be"):
        backend.rng("3")


def test_to_numpy_and_synchronize_roundtrip(xp):
    x = xp.asarray([1.0, 2.0])
    backend.synchronize(x)
    np.testing.assert_array_equal(backend.to_numpy(x), [1.0, 2.0])


@pytest.mark.parametrize(("d", "k"), [(6, 2), (50, 10), (4, 3)])
def test_subsets_are_exactly_uniform_over_all_k_subsets(d, k):
    # Both regimes (rejection for k² ≤ 2d, partial sort otherwise): the frequency of every
    # k-subset lies within 5 sigma of 1/C(d, k) (chi-square-like check, exhaustive for small d).
    from itertools import combinations
    from math import comb

    draws = 60000
    idx = backend.rng(11).subsets(draws, d, k)
    assert idx.shape == (draws, k) and np.all(np.diff(idx, axis=1) > 0)
    if comb(d, k) > 200:
        coords = np.bincount(idx.ravel(), minlength=d) / draws
        assert np.all(np.abs(coords - k / d) < 5 * np.sqrt(k / d * (1 - k / d) / draws))
        return
    index = {c: i for i, c in enumerate(combinations(range(d), k))}
    counts = np.bincount([index[tuple(row)] for row in idx.tolist()], minlength=len(index))
    p = 1 / comb(d, k)
    assert np.all(np.abs(counts / draws - p) < 5 * np.sqrt(p * (1 - p) / draws))


def test_generator_asarray_places_host_data_on_its_device(xp):
    out = xp.rng(0).asarray(np.arange(3.0))
    assert backend.array_namespace(out) is xp.xp
    if xp.device is not None:
        assert backend.device_of(out) == xp.device


def _scatter_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    generator = np.random.default_rng(seed)
    a = generator.normal(size=(4, 9))
    idx = np.stack([generator.permutation(9)[:3] for _ in range(4)])
    return a, idx, generator.normal(size=(4, 3))


def _scatter_reference(a: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = a.copy()
    for r in range(a.shape[0]):
        for j in range(idx.shape[1]):
            out[r, idx[r, j]] += values[r, j]
    return out


def test_scatter_add_rows_matches_the_loop_and_leaves_its_input(xp):
    a, idx, values = _scatter_case(0)
    a_xp = xp.asarray(a)
    out = backend.scatter_add_rows(a_xp, xp.asarray(idx), xp.asarray(values))
    np.testing.assert_array_equal(backend.to_numpy(out), _scatter_reference(a, idx, values))
    np.testing.assert_array_equal(backend.to_numpy(a_xp), a)


def test_scatter_add_rows_on_torch_matches_numpy_and_copies():
    torch = pytest.importorskip("torch")
    a, idx, values = _scatter_case(1)
    a_t = torch.asarray(a)
    out = backend.scatter_add_rows(a_t, torch.asarray(idx), torch.asarray(values))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), _scatter_reference(a, idx, values))
    np.testing.assert_array_equal(a_t.numpy(), a)
    scalar = backend.scatter_add_rows(a_t, torch.asarray(idx), 1.0)
    np.testing.assert_array_equal(scalar.numpy(), _scatter_reference(a, idx, np.ones((4, 3))))


def test_rng_rejects_a_negative_seed():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        backend.rng(-1)


def test_below_and_categorical_are_the_float64_comparisons_of_random(xp):
    p = np.array([0.2, 0.5, 0.9])
    u = backend.to_numpy(xp.rng(4).random((6, 3)))
    np.testing.assert_array_equal(backend.to_numpy(xp.rng(4).below(p, (6, 3))), u < p)
    cdf = np.array([0.25, 0.5, 1.0])
    v = backend.to_numpy(xp.rng(5).random((40,)))
    want = np.searchsorted(cdf, v, side="right")
    np.testing.assert_array_equal(backend.to_numpy(xp.rng(5).categorical(cdf, 40)), want)
    for sample in (xp.rng(4).below(p, (6, 3)), xp.rng(5).categorical(cdf, 40)):
        assert backend.array_namespace(sample) is xp.xp
        if xp.device is not None:
            assert backend.device_of(sample) == xp.device


def test_float32_draws_never_put_float64_on_the_device():
    strict = pytest.importorskip("array_api_strict")
    gen = backend.rng(3, strict, strict.Device("no_float64"))
    wide = backend.rng(3)
    for narrow, reference in (
        (gen.random((2, 3), dtype=strict.float32), wide.random((2, 3))),
        (gen.normal((4,), dtype=strict.float32), wide.normal((4,))),
        (gen.below(np.array([0.5]), (5,)), wide.below(np.array([0.5]), (5,))),
    ):
        np.testing.assert_array_equal(
            backend.to_numpy(narrow), np.asarray(reference).astype(backend.to_numpy(narrow).dtype)
        )


def test_rng_draws_from_a_numpy_generator_on_numpy_only():
    generator = np.random.default_rng(2)
    np.testing.assert_array_equal(
        backend.rng(generator).normal(3), np.random.default_rng(2).standard_normal(3)
    )
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator.*xp is array_api_strict"):
        backend.rng(np.random.default_rng(0), strict)


def test_as_generator_keeps_a_matching_generator_and_builds_one_from_a_seed(xp):
    gen = xp.rng(1)
    assert backend.as_generator(gen, xp.xp, xp.device) is gen
    made = backend.as_generator(1, xp.xp, xp.device)
    np.testing.assert_array_equal(
        backend.to_numpy(made.normal(5)), backend.to_numpy(xp.rng(1).normal(5))
    )


def test_as_generator_refuses_by_name():
    strict = pytest.importorskip("array_api_strict")
    numpy = backend.namespace("numpy")
    cases = [
        (backend.rng(0), strict, None, TypeError, "rng is a numpy generator but the problem"),
        (backend.rng(0, strict), numpy, None, TypeError, "rng is an array_api_strict generator"),
        (np.random.default_rng(0), strict, None, TypeError, "rng is a numpy.random.Generator"),
        (
            backend.rng(0, strict, strict.Device("device1")),
            strict,
            strict.Device("device2"),
            ValueError,
            "rng is a generator on device",
        ),
        ("0", numpy, None, TypeError, "rng must be a mastbench.backend.Generator"),
        (1.0, numpy, None, TypeError, "rng must be a mastbench.backend.Generator"),
        (-3, numpy, None, ValueError, "rng must be a non-negative seed"),
    ]
    for value, xp, device, error, message in cases:
        with pytest.raises(error, match=message):
            backend.as_generator(value, xp, device)
