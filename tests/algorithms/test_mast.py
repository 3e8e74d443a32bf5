"""MAST algorithms: contract, backends, index vs mask, batching, unbiasedness, L-SVRG, IST."""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.quadratic import Quadratic
from mastbench.problems.random import least_squares, quadratic

from mastbench.algorithms import all_algorithms, distributed_dsgd, dsgd, dsgd_importance, l_svrdsg
from mastbench.algorithms.mast import importance_estimates, importance_probabilities
from mastbench.backend import rng, to_numpy
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Identity, Permutation, RandK
from tests.algorithms.cases import case_for

SPECS = all_algorithms("mast")


def _quad(d=6, seed=0, kappa=10.0):
    return quadratic(d, kappa, rng(seed))


def _run_case(spec, backend, seed=3, replicates=4):
    args, kwargs = case_for(spec.name)(backend.xp, backend.device)
    return spec.run(*args, **kwargs, rng=backend.rng(seed), replicates=replicates)


# -- contract --
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_trace_shapes_and_metrics(spec, xp):
    trace = _run_case(spec, xp)
    C = trace.iterations.size
    assert trace.iterations[0] == 0 and trace.iterations[-1] == 5
    assert tuple(trace.x.shape) == (4, 4)
    assert set(trace.metrics) == {"subopt", "subopt_D", "dist2", "gradnorm2_D"}
    for values in trace.metrics.values():
        assert values.shape == (C, 4) and np.all(np.isfinite(values))
    assert trace.counters["grad_evals"].shape == (C,)
    assert np.all(np.diff(trace.counters["coords_touched"]) > 0)
    assert trace.params.get("skipped_metrics", {}) == {}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_reproducible_and_same_on_every_backend(spec, xp):
    reference = _run_case(spec, type(xp)("numpy", np))
    first, second = _run_case(spec, xp), _run_case(spec, xp)
    np.testing.assert_array_equal(to_numpy(first.x), to_numpy(second.x))
    np.testing.assert_allclose(to_numpy(first.x), to_numpy(reference.x), rtol=1e-12, atol=1e-14)
    other = _run_case(spec, xp, seed=4)
    assert not np.allclose(to_numpy(other.x), to_numpy(first.x))


# -- index form vs mask form --
@pytest.mark.parametrize(
    "problem", [_quad(), least_squares(20, 6, rng(1), l2=0.1)], ids=["quadratic", "lstsq"]
)
@pytest.mark.parametrize("sketch", [RandK(6, 2), RandK(6, 6), Permutation(6, 3)], ids=repr)
def test_index_and_mask_forms_give_same_iterates(problem, sketch):
    shift = problem.asarray(np.linspace(-1, 1, 6))
    common = {"sketch": sketch, "step": 0.01, "iters": 30, "replicates": 5, "shift": shift}
    x0 = problem.asarray(np.ones(6))
    index = dsgd(problem, x0, rng=rng(7), form="index", keep_iterates=True, **common)
    mask = dsgd(problem, x0, rng=rng(7), form="mask", keep_iterates=True, **common)
    assert index.params["form"] == "index" and mask.params["form"] == "mask"
    np.testing.assert_allclose(index.iterates, mask.iterates, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(index.counters["coords_touched"], mask.counters["coords_touched"])


def test_distributed_index_and_mask_forms_agree(xp):
    problems = [quadratic(4, 5.0, g) for g in xp.rng(2).spawn(2)]
    x0 = xp.asarray(np.zeros(4))
    common = {"sketches": Permutation(4, 2), "step": 0.05, "iters": 20, "replicates": 3}
    index = distributed_dsgd(problems, x0, rng=xp.rng(1), form="index", **common)
    mask = distributed_dsgd(problems, x0, rng=xp.rng(1), form="mask", **common)
    np.testing.assert_allclose(to_numpy(index.x), to_numpy(mask.x), rtol=1e-12, atol=1e-13)


# -- dtype: float32 in, float32 out, the same draws --
@pytest.mark.parametrize(
    ("option", "sketch", "form"),
    [
        ("I", Bernoulli(np.linspace(0.3, 0.9, 6)), "auto"),
        ("I", RandK(6, 2), "index"),
        ("I", RandK(6, 2), "mask"),
        ("II", Bernoulli(np.linspace(0.3, 0.9, 6)), "auto"),
        ("II", RandK(6, 2), "auto"),
    ],
    ids=["I-bernoulli", "I-randk-index", "I-randk-mask", "II-bernoulli", "II-randk"],
)
def test_float32_data_gives_float32_iterates_on_the_float64_draws(option, sketch, form, xp):
    data = np.random.default_rng(5)
    X, y = data.standard_normal((30, 6)), data.standard_normal(30)
    traces = {}
    for dtype in (xp.xp.float32, xp.xp.float64):
        problem = LeastSquares(
            xp.xp.asarray(X, dtype=dtype, device=xp.device),
            xp.xp.asarray(y, dtype=dtype, device=xp.device),
        )
        traces[dtype] = dsgd(
            problem,
            xp.xp.zeros((6,), dtype=dtype, device=xp.device),
            sketch=sketch,
            step=0.05,
            iters=40,
            rng=xp.rng(11),
            replicates=4,
            option=option,
            batch_size=None if option == "I" else 5,
            form=form,
            checkpoints=[0, 40],
        )
    single, double = traces[xp.xp.float32], traces[xp.xp.float64]
    assert single.x.dtype == xp.xp.float32
    np.testing.assert_allclose(
        to_numpy(single.x).astype(float), to_numpy(double.x), rtol=2e-5, atol=2e-6
    )
    np.testing.assert_array_equal(
        single.counters["coords_touched"], double.counters["coords_touched"]
    )


@pytest.mark.parametrize(
    ("sketches", "form"),
    [
        (Permutation(6, 2), "index"),
        (Permutation(6, 2), "mask"),
        ([Bernoulli(0.5, 6), Bernoulli(np.linspace(0.4, 0.9, 6))], "auto"),
    ],
    ids=["ist-index", "ist-mask", "independent-bernoulli"],
)
def test_distributed_float32_data_gives_float32_iterates_on_the_float64_draws(sketches, form, xp):
    data = np.random.default_rng(6)
    factors = [data.standard_normal((6, 6)) for _ in range(2)]
    mats = [F @ F.T / 6 + 0.1 * np.eye(6) for F in factors]
    vecs = [data.standard_normal(6) for _ in range(2)]
    traces = {}
    for dtype in (xp.xp.float32, xp.xp.float64):
        clients = [
            Quadratic(
                xp.xp.asarray(A, dtype=dtype, device=xp.device),
                xp.xp.asarray(b, dtype=dtype, device=xp.device),
            )
            for A, b in zip(mats, vecs, strict=True)
        ]
        traces[dtype] = distributed_dsgd(
            clients,
            xp.xp.zeros((6,), dtype=dtype, device=xp.device),
            sketches=sketches,
            step=0.05,
            iters=40,
            rng=xp.rng(12),
            replicates=4,
            form=form,
            checkpoints=[0, 40],
        )
    single, double = traces[xp.xp.float32], traces[xp.xp.float64]
    assert single.x.dtype == xp.xp.float32
    np.testing.assert_allclose(
        to_numpy(single.x).astype(float), to_numpy(double.x), rtol=2e-5, atol=2e-6
    )


# -- batched = looped over replicates, on recorded draws --
class _ReplayMasks(Bernoulli):
    """Bernoulli whose draws are replayed from a recorded (T, R, d) array (a test double)."""

    def __init__(self, p, recorded, column=None):
        super().__init__(p)
        self.recorded, self.column, self.t = recorded, column, 0

    def sample(self, rng, size, dtype=None):
        block = (
            self.recorded[self.t] if self.column is None else self.recorded[self.t][[self.column]]
        )
        self.t += 1
        assert block.shape[0] == size
        return rng.xp.asarray(block)


class _ReplayIndices(RandK):
    """RandK whose index draws are replayed from a recorded (T, R, k) array."""

    def __init__(self, d, k, recorded, column=None):
        super().__init__(d, k)
        self.recorded, self.column, self.t = recorded, column, 0

    def sample_indices(self, rng, size):
        block = (
            self.recorded[self.t] if self.column is None else self.recorded[self.t][[self.column]]
        )
        self.t += 1
        return rng.xp.asarray(block)


def test_batched_equals_looped_over_replicates_on_the_same_draws():
    problem, T, R, d = _quad(), 15, 4, 6
    x0 = problem.asarray(np.arange(R * d, dtype=float).reshape(R, d) / 10)
    p = np.full(d, 0.5)
    gen = np.random.default_rng(0)
    masks = (gen.random((T, R, d)) < 0.5) / 0.5
    subsets = np.sort(np.argsort(gen.random((T, R, d)), axis=2)[:, :, :2], axis=2)
    for make in (
        lambda col: _ReplayMasks(p, masks, col),
        lambda col: _ReplayIndices(d, 2, subsets, col),
    ):
        batched = dsgd(problem, x0, sketch=make(None), step=0.02, iters=T, rng=rng(0), replicates=R)
        for r in range(R):
            single = dsgd(problem, x0[r], sketch=make(r), step=0.02, iters=T, rng=rng(0))
            np.testing.assert_allclose(batched.x[r], single.x[0], rtol=1e-13, atol=1e-14)


# -- option II and compressors --
def test_option_two_with_the_full_batch_without_replacement_is_option_one():
    problem = least_squares(12, 5, rng(3), l2=0.1)
    common = {"sketch": Bernoulli(np.linspace(0.3, 0.9, 5)), "step": 0.01, "iters": 25}
    x0 = problem.asarray(np.ones(5))
    one = dsgd(problem, x0, rng=rng(5), replicates=3, **common)
    two = dsgd(
        problem, x0, rng=rng(5), replicates=3, option="II", batch_size=12, replace=False, **common
    )
    np.testing.assert_allclose(one.x, two.x, rtol=1e-12, atol=1e-13)
    assert two.counters["sample_grads"][-1] == 12 * 25
    with_replacement = dsgd(
        problem, x0, rng=rng(5), replicates=3, option="II", batch_size=12, **common
    )
    assert not np.allclose(with_replacement.x, one.x)


def test_option_two_minibatch_is_unbiased_one_step():
    problem = least_squares(6, 3, rng(4))
    x0 = problem.asarray(np.array([0.5, -1.0, 2.0]))
    R, step = 200_000, 0.1
    trace = dsgd(
        problem,
        x0,
        sketch=Identity(3),
        step=step,
        iters=1,
        rng=rng(0),
        replicates=R,
        option="II",
        batch_size=2,
        replace=False,
    )
    steps = (to_numpy(x0) - trace.x) / step
    expected = problem.grad(x0)
    stderr = steps.std(axis=0) / np.sqrt(R)
    assert np.all(np.abs(steps.mean(axis=0) - expected) < 5 * stderr)


def test_compressor_keeps_k_coordinates_scaled_by_d_over_k():
    problem = _quad(d=6)
    x0 = problem.asarray(np.ones(6))
    trace = dsgd(
        problem,
        x0,
        sketch=Identity(6),
        step=0.1,
        iters=1,
        rng=rng(1),
        replicates=8,
        compressor=RandK(6, 2),
    )
    delta = (to_numpy(x0) - trace.x) / 0.1
    grad = problem.grad(x0)
    for row in delta:
        kept = np.flatnonzero(row)
        assert kept.size == 2
        np.testing.assert_allclose(row[kept], 3.0 * grad[kept], rtol=1e-12)
    plain = dsgd(
        problem, x0, sketch=Identity(6), step=0.1, iters=3, rng=rng(1), compressor=Identity(6)
    )
    exact = dsgd(problem, x0, sketch=Identity(6), step=0.1, iters=3, rng=rng(1))
    np.testing.assert_allclose(plain.x, exact.x, rtol=1e-14)


def test_gaussian_sketch_uses_matrix_form():
    problem = _quad(d=4)
    trace = dsgd(
        problem,
        problem.asarray(np.zeros(4)),
        sketch=Gaussian(4, 8),
        step=0.01,
        iters=10,
        rng=rng(0),
        replicates=3,
    )
    assert trace.params["form"] == "matrix" and trace.counters["coords_touched"][-1] == 40
    assert np.all(np.isfinite(trace.x))


# -- importance sampling: unbiased by exact enumeration --
def _discrete_sketch():
    diag = np.array([[4.0, 0, 0, 1], [0, 4.0, 0, 1], [0, 0, 4.0, 1], [0, 0, 0, 1]])
    return Discrete(diag, np.array([0.25, 0.25, 0.25, 0.25]))


@pytest.mark.parametrize("q", [None, [0.1, 0.2, 0.3, 0.4]], ids=["default", "custom"])
def test_importance_estimates_are_unbiased_by_enumeration(q, xp):
    problem = quadratic(4, 20.0, xp.rng(2))
    sketch = _discrete_sketch()
    v = xp.asarray(np.array([0.3, -0.2, 0.1, 0.5]))
    x = xp.asarray(np.array([1.0, 2.0, -1.0, 0.5]))
    qs = importance_probabilities(sketch) if q is None else np.asarray(q)
    rows = to_numpy(importance_estimates(problem, x, sketch=sketch, q=q, shift=v))
    A, b, _ = problem.quadratic_form()
    diag, w = sketch.support()
    xn, vn = to_numpy(x), to_numpy(v)
    truth = sum(wj * s * (A @ (vn + s * (xn - vn)) - b) for s, wj in zip(diag, w, strict=True))
    np.testing.assert_allclose(qs @ rows, truth, rtol=1e-12, atol=1e-12)


def test_default_importance_probabilities_follow_lambda_max():
    q = importance_probabilities(_discrete_sketch())
    np.testing.assert_allclose(q, np.array([16, 16, 16, 1]) / 49)


def test_dsgd_importance_steps_are_the_enumerated_estimates():
    problem, sketch = _quad(d=4), _discrete_sketch()
    x0 = problem.asarray(np.ones(4))
    rows = importance_estimates(problem, x0, sketch=sketch)
    trace = dsgd_importance(
        problem, x0, sketch=sketch, step=0.01, iters=1, rng=rng(0), replicates=64
    )
    candidates = to_numpy(x0) - 0.01 * rows
    distance = np.abs(trace.x[:, None, :] - candidates[None]).max(axis=2).min(axis=1)
    assert np.all(distance < 1e-14)


# -- L-SVRDSG --
def _randk_discrete(d, k):
    return Discrete(*RandK(d, k).support())


def test_l_svrdsg_with_full_batch_is_l_svrg():
    problem, sketch = _quad(d=4), _randk_discrete(4, 2)
    x0 = problem.asarray(np.ones(4))
    T, R, step, p = 25, 3, 0.02, 0.3
    got = l_svrdsg(problem, x0, sketch=sketch, step=step, iters=T, rng=rng(9), replicates=R, prob=p)
    resampled = l_svrdsg(
        problem,
        x0,
        sketch=sketch,
        step=step,
        iters=T,
        rng=rng(9),
        replicates=R,
        prob=p,
        minibatch="resampled",
    )
    np.testing.assert_allclose(got.x, resampled.x, rtol=1e-13)
    # Reference L-SVRG over the N = 6 functions f_j(x) = f(S_j x), one replicate at a time.
    A, b, _ = problem.quadratic_form()
    diag, _ = sketch.support()
    grads = lambda z: np.stack([s * (A @ (s * z) - b) for s in diag])  # noqa: E731
    gen = rng(9)
    x = np.tile(np.ones(4), (R, 1))
    w, G = x.copy(), np.stack([grads(xi).mean(axis=0) for xi in x])
    for _ in range(T):
        j = gen.integers(0, 6, (R,))
        coin = gen.random((R,)) < p
        g = np.stack([grads(x[r])[j[r]] - grads(w[r])[j[r]] for r in range(R)]) + G
        x_new = x - step * g
        w = np.where(coin[:, None], x, w)
        G = np.where(coin[:, None], np.stack([grads(wi).mean(axis=0) for wi in w]), G)
        x = x_new
    np.testing.assert_allclose(got.x, x, rtol=1e-12, atol=1e-13)


def test_l_svrdsg_partial_batch_variants_differ_and_converge_to_neighbourhood():
    problem, sketch = _quad(d=4), _randk_discrete(4, 2)
    x0 = problem.asarray(np.ones(4))
    common = {"sketch": sketch, "step": 0.01, "iters": 400, "replicates": 8, "batch": 2}
    fixed = l_svrdsg(problem, x0, rng=rng(1), **common)
    resampled = l_svrdsg(problem, x0, rng=rng(1), minibatch="resampled", **common)
    assert not np.allclose(fixed.x, resampled.x)
    for trace in (fixed, resampled):
        assert trace.mean("dist2")[-1] < 0.05 * trace.mean("dist2")[0]


# -- distributed / IST --
def test_ist_with_perm_one_converges_to_the_biased_point():
    gens = rng(11).spawn(3)
    problems = [quadratic(3, 4.0, g) for g in gens]
    trace = distributed_dsgd(
        problems,
        np.zeros(3),
        sketches=Permutation(3, 3),
        step=0.01,
        iters=3000,
        rng=rng(0),
        replicates=16,
        checkpoints=[0, 3000],
    )
    D_bar = np.mean([np.diag(np.diag(p.quadratic_form()[0])) for p in problems], axis=0)
    b_bar = np.mean([p.quadratic_form()[1] for p in problems], axis=0)
    x_ist = np.linalg.solve(3 * D_bar, b_bar)
    A_mean = np.mean([p.quadratic_form()[0] for p in problems], axis=0)
    x_star = np.linalg.solve(A_mean, b_bar)
    final = trace.x.mean(axis=0)
    assert np.linalg.norm(final - x_ist) < 0.1 * np.linalg.norm(x_ist - x_star)
    # The replicates scatter around x_D* = (nD̄)⁻¹b̄, much closer to it than to x*.
    assert trace.mean("dist2")[-1] < 0.25 * np.sum((x_ist - x_star) ** 2)


def test_distributed_independent_sketches_match_single_client_dsgd():
    problem = _quad(d=5)
    sketch = Bernoulli(np.linspace(0.4, 0.8, 5))
    x0 = problem.asarray(np.ones(5))
    single = dsgd(problem, x0, sketch=sketch, step=0.02, iters=20, rng=rng(2), replicates=3)
    multi = distributed_dsgd(
        [problem], x0, sketches=[sketch], step=0.02, iters=20, rng=rng(2), replicates=3
    )
    np.testing.assert_allclose(single.x, multi.x, rtol=1e-13)
    np.testing.assert_allclose(single.metrics["dist2"], multi.metrics["dist2"], rtol=1e-10)


# -- bad input --
def _bad_dsgd_calls():
    problem = _quad(d=4)
    x0 = problem.asarray(np.zeros(4))
    ok = {"sketch": RandK(4, 2), "step": 0.1, "iters": 3, "rng": rng(0)}
    lstsq = least_squares(5, 4, rng(0))
    return [
        ("step", (problem, x0), {**ok, "step": 0.0}, ValueError, "step must be > 0"),
        ("step type", (problem, x0), {**ok, "step": "big"}, TypeError, "step must be a real"),
        ("iters", (problem, x0), {**ok, "iters": -1}, ValueError, "iters must be >= 0"),
        ("iters type", (problem, x0), {**ok, "iters": 2.5}, TypeError, "iters must be an integer"),
        (
            "replicates",
            (problem, x0),
            {**ok, "replicates": 0},
            ValueError,
            "replicates must be >= 1",
        ),
        ("rng", (problem, x0), {**ok, "rng": 0.5}, TypeError, "rng must be"),
        ("sketch d", (problem, x0), {**ok, "sketch": RandK(5, 2)}, ValueError, "dimension 5"),
        ("sketch type", (problem, x0), {**ok, "sketch": "randk"}, TypeError, "sketch must be"),
        ("x0 shape", (problem, problem.asarray(np.zeros(3))), ok, ValueError, "x0 must have shape"),
        ("x0 nan", (problem, problem.asarray(np.full(4, np.nan))), ok, ValueError, "x0 must not"),
        ("shift", (problem, x0), {**ok, "shift": np.zeros(3)}, ValueError, "shift must have shape"),
        ("option", (problem, x0), {**ok, "option": "III"}, ValueError, "option must be"),
        ("batch opt I", (problem, x0), {**ok, "batch_size": 2}, ValueError, "only used with"),
        (
            "II not sum",
            (problem, x0),
            {**ok, "option": "II", "batch_size": 1},
            TypeError,
            "FiniteSum",
        ),
        ("II no batch", (lstsq, x0), {**ok, "option": "II"}, ValueError, "needs batch_size"),
        ("II big batch", (lstsq, x0), {**ok, "option": "II", "batch_size": 6}, ValueError, "<= 5"),
        ("form", (problem, x0), {**ok, "form": "csr"}, ValueError, "form must be one of"),
        (
            "form index",
            (problem, x0),
            {**ok, "sketch": Identity(4), "form": "index"},
            ValueError,
            "needs a RandK",
        ),
        (
            "form mask",
            (problem, x0),
            {**ok, "sketch": Gaussian(4, 2), "form": "mask"},
            ValueError,
            "needs a diagonal",
        ),
        (
            "compressor d",
            (problem, x0),
            {**ok, "compressor": RandK(3, 1)},
            ValueError,
            "dimension 3",
        ),
        ("problem", (np.eye(4), x0), ok, TypeError, "problem must be a problems.Problem"),
        ("metrics", (problem, x0), {**ok, "metrics": ["loss"]}, ValueError, "subset of"),
        ("metrics str", (problem, x0), {**ok, "metrics": "dist2"}, TypeError, "sequence of"),
        ("metrics int", (problem, x0), {**ok, "metrics": 3}, TypeError, "sequence of"),
        ("metrics item", (problem, x0), {**ok, "metrics": ["dist2", 1]}, TypeError, "sequence of"),
    ]


@pytest.mark.parametrize("case", _bad_dsgd_calls(), ids=lambda c: c[0])
def test_dsgd_rejects_bad_input(case):
    _, args, kwargs, error, message = case
    with pytest.raises(error, match=message):
        dsgd(*args, **kwargs)


def test_other_algorithms_reject_bad_input():
    problem = _quad(d=4)
    x0 = problem.asarray(np.zeros(4))
    sketch = _discrete_sketch()
    with pytest.raises(TypeError, match="Discrete"):
        dsgd_importance(problem, x0, sketch=RandK(4, 2), step=0.1, iters=1, rng=rng(0))
    for q, message in (
        ([0.5, 0.5], "shape"),
        ([0.5, 0.6, -0.1, 0.0], "nonnegative"),
        ([0.3, 0.3, 0.3, 0.3], "sum to 1"),
        ([0.5, 0.5, 0.0, 0.0], "> 0 wherever"),
    ):
        with pytest.raises(ValueError, match=message):
            dsgd_importance(problem, x0, sketch=sketch, step=0.1, iters=1, rng=rng(0), q=q)
    skewed = Discrete(np.array([[2.0, 2, 2, 2], [0.0, 0, 0, 0]]), np.array([0.5, 0.5]))
    uniform = _randk_discrete(4, 2)
    ok = {"step": 0.1, "iters": 1, "rng": rng(0)}
    with pytest.raises(ValueError, match="uniform weights"):
        l_svrdsg(
            problem,
            x0,
            sketch=Discrete(np.array([[4 / 3] * 4, [0.0] * 4]), np.array([0.75, 0.25])),
            **ok,
        )
    assert skewed.num_outcomes == 2
    for kwargs, message in (
        ({"prob": 1.5}, "prob must lie"),
        ({"prob": 0.0}, "prob must be > 0"),
        ({"batch": 7}, "batch must be <= 6"),
        ({"minibatch": "epoch"}, "minibatch must be"),
    ):
        with pytest.raises(ValueError, match=message):
            l_svrdsg(problem, x0, sketch=uniform, **ok, **kwargs)
    with pytest.raises(ValueError, match="n = M = 2"):
        distributed_dsgd([problem, problem], x0, sketches=Permutation(4, 4), **ok)
    with pytest.raises(ValueError, match="sequence of 2 sketches"):
        distributed_dsgd([problem, problem], x0, sketches=[RandK(4, 2)], **ok)
    with pytest.raises(TypeError, match="non-empty sequence"):
        distributed_dsgd(problem, x0, sketches=[RandK(4, 2)], **ok)
    with pytest.raises(ValueError, match="differs from problems"):
        distributed_dsgd([problem, _quad(d=5)], x0, sketches=[RandK(4, 2)] * 2, **ok)


def test_metrics_that_cannot_be_computed_are_skipped_with_a_reason():
    problems = [least_squares(5, 3, g) for g in rng(0).spawn(2)]
    quad_only = distributed_dsgd(
        problems, np.zeros(3), sketches=[RandK(3, 1)] * 2, step=0.01, iters=2, rng=rng(0)
    )
    assert "dist2" in quad_only.metrics
    from mastbench.problems.random import logistic

    clients = [logistic(8, 3, g) for g in rng(0).spawn(2)]
    trace = distributed_dsgd(
        clients, np.zeros(3), sketches=[RandK(3, 1)] * 2, step=0.01, iters=2, rng=rng(0)
    )
    assert set(trace.metrics) == set()
    assert "non-quadratic" in trace.params["skipped_metrics"]["dist2"]
    assert isinstance(problems[0], Quadratic) is False


def test_metrics_selection():
    problem = _quad(d=4)
    x0 = problem.asarray(np.ones(4))
    common = {"sketch": RandK(4, 2), "step": 0.01, "iters": 3, "rng": rng(0), "replicates": 2}
    assert set(dsgd(problem, x0, metrics=("dist2",), **common).metrics) == {"dist2"}
    bare = dsgd(problem, x0, metrics=(), **common)
    assert bare.metrics == {} and bare.counters["grad_evals"][-1] == 3


def test_a_mast_objective_can_be_passed_instead_of_problem_sketch_and_shift():
    from mastbench.problems import MASTObjective

    problem, sketch = _quad(d=4), RandK(4, 2)
    v = problem.asarray(np.array([1.0, 0.0, -1.0, 0.5]))
    x0 = problem.asarray(np.ones(4))
    common = {"step": 0.01, "iters": 5, "replicates": 2}
    plain = dsgd(problem, x0, sketch=sketch, shift=v, rng=rng(0), **common)
    packed = dsgd(MASTObjective(problem, sketch, v), x0, rng=rng(0), **common)
    np.testing.assert_array_equal(plain.x, packed.x)
    with pytest.raises(ValueError, match="not both"):
        dsgd(MASTObjective(problem, sketch, v), x0, sketch=sketch, rng=rng(0), **common)
    with pytest.raises(TypeError, match="sketch is required"):
        dsgd(problem, x0, rng=rng(0), **common)


def test_dsgd_runs_when_f_D_cannot_be_evaluated():
    """Logistic f with a Rand-K support too large to enumerate: the run needs no f_D."""
    from mastbench.problems.random import logistic

    problem = logistic(20, 30, rng(0))
    trace = dsgd(problem, np.zeros(30), sketch=RandK(30, 10), step=0.1, iters=3, rng=rng(1))
    assert set(trace.metrics) == {"subopt"}
    assert "cannot be enumerated" in trace.params["skipped_metrics"]["subopt_D"]
    assert np.all(np.isfinite(to_numpy(trace.x)))
