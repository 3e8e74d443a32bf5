"""The dtype policy over the whole algorithm table: float32 in, float32 out, float64 accuracy
where float32 allows it.

Every algorithm's test case (:mod:`tests.algorithms.cases`) is converted to float32 (its data
rounded to float32, the same seed) and run on NumPy and on array_api_strict's ``no_float64``
device, which refuses to hold a float64 array: the final iterates and every floating metric are
float32, and no float64 array is created on the device (masks and sketches are drawn in the
problem's dtype, constants and draws compared on the host).

The float32 run must agree with the float64 run of the original case to float32 accuracy.  The
tolerance is the a-priori forward-error bound of T steps: a step rounds a length-d inner product
(at most d ulps of its scale, Higham's γ_d) and non-expansive steps add those errors up over
the T + 1 evaluations, so a quantity of scale s may differ by (T + 1)·d·eps32·s, s being the
largest magnitude it takes in the float64 run.  This holds for the iterates and for the metrics
the method records as functions of them (its ``metrics``); the method's internal diagnostics
(step sizes, L estimates) are only required to be of the problem's dtype.

At a checkpoint where the float64 run's suboptimality is below that bound on the scale |f*| of
the objective, float32 cannot resolve f any further: a rule that decides on f values (AdaFW
backtracking) then accepts or rejects on round-off, so there the float32 run must only be
converged as well (its suboptimality below the same bound).
"""

from __future__ import annotations

import numpy as np
import pytest
from mastbench.problems.composite import Composite
from mastbench.problems.constraints import L1Ball
from mastbench.problems.group_structured import GroupLeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.quadratic import Quadratic
from mastbench.problems.regularizers import GroupLasso, NuclearNorm

from mastbench.algorithms import _subproblem as sub
from mastbench.algorithms import all_algorithms, driver, frank_wolfe
from mastbench.backend import namespace, rng, to_numpy
from tests.algorithms.cases import case_for

SPECS = all_algorithms()
REPLICATES = 3
EPS32 = float(np.finfo(np.float32).eps)


def _convert(obj, xp, dtype, device):
    """The case's arguments with every problem and array in ``dtype`` on ``device``."""

    def arr(a):
        return xp.asarray(xp.astype(a, dtype), device=device)

    if isinstance(obj, list | tuple):
        return type(obj)(_convert(o, xp, dtype, device) for o in obj)
    if isinstance(obj, Quadratic):
        return Quadratic(arr(obj.A), arr(obj.b))
    if isinstance(obj, Logistic):
        return Logistic(arr(obj.X), arr(obj.y), l2=obj.l2)
    if isinstance(obj, GroupLeastSquares):
        return GroupLeastSquares(arr(obj.X), arr(obj.Y), obj.groups, l2=obj.l2)
    if isinstance(obj, Composite):
        return Composite(_convert(obj.f, xp, dtype, device), obj.psi)
    if hasattr(obj, "d") and hasattr(obj, "dtype"):
        raise TypeError(f"no float32 conversion for the problem {obj!r}: add it to _convert")
    if hasattr(obj, "shape") and xp.isdtype(obj.dtype, "real floating"):
        return arr(obj)
    return obj


def _run(spec, backend, dtype_name, monkeypatch):
    """The case of ``spec`` in ``dtype_name`` on ``backend`` ("numpy" or "strict"): the trace,
    the names of the method's metrics (the rest of ``trace.metrics`` are its diagnostics) and
    the converted arguments."""
    if backend == "numpy":
        xp = namespace("numpy")
        build = device = None
    else:
        xp = pytest.importorskip("array_api_strict")
        build = xp.Device("CPU_DEVICE")
        device = build if dtype_name == "float64" else xp.Device("no_float64")
    args, kwargs = case_for(spec.name)(xp, build)
    args = _convert(args, xp, getattr(xp, dtype_name), device)
    if spec.stochastic:
        kwargs = {**kwargs, "rng": rng(1, xp, device), "replicates": REPLICATES}
    names: list[str] = []
    select = driver.select_metrics

    def spy(available, chosen, *, where):
        names.extend(available)
        return select(available, chosen, where=where)

    monkeypatch.setattr(driver, "select_metrics", spy)
    return spec.run(*args, **kwargs), names, args


def _objective_scale(args) -> float | None:
    """|f*| of the case's problem (F* for a composite one), None for several problems."""
    problem = args[0]
    if isinstance(problem, Composite):
        return abs(problem.F_star)
    if isinstance(problem, list):
        return None
    return abs(problem.f_star)


@pytest.mark.parametrize("backend", ["numpy", "strict"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_float32_in_float32_out_at_float32_accuracy(spec, backend, monkeypatch):
    wide, names, args = _run(spec, backend, "float64", monkeypatch)
    narrow, _, _ = _run(spec, backend, "float32", monkeypatch)
    xp = namespace("numpy") if backend == "numpy" else pytest.importorskip("array_api_strict")
    assert narrow.x.dtype == xp.float32
    for name, values in narrow.metrics.items():
        counts = values.dtype == np.float64 and np.array_equal(values, np.round(values))
        assert values.dtype == np.float32 or counts, f"{spec.name}: {name} is {values.dtype}"

    T, d = int(wide.iterations[-1]), int(narrow.x.shape[-1])
    rtol = (T + 1) * d * EPS32
    scale = _objective_scale(args)
    converged = np.zeros(wide.iterations.size, dtype=bool)
    if "subopt" in wide.metrics and scale is not None:
        resolution = rtol * max(scale, float(np.max(np.abs(wide.metrics["subopt"]))))
        converged = np.max(wide.metrics["subopt"], axis=1) <= resolution
        assert np.all(narrow.metrics["subopt"][converged] <= resolution), spec.name
    early = ~converged
    for name in names:
        ref = wide.metrics[name][early]
        got = narrow.metrics[name][early].astype(float)
        bound = rtol * float(np.max(np.abs(wide.metrics[name])))
        assert np.max(np.abs(got - ref), initial=0.0) <= bound, (
            f"{spec.name}: {name} differs by {np.max(np.abs(got - ref)):.3g} > {bound:.3g}"
        )
    if not converged[-1]:
        x_wide, x_narrow = to_numpy(wide.x), to_numpy(narrow.x).astype(float)
        bound = rtol * float(np.max(np.abs(x_wide)))
        assert np.max(np.abs(x_narrow - x_wide)) <= bound, spec.name


@pytest.mark.parametrize("backend", ["numpy", "strict"])
@pytest.mark.parametrize("name", ["away_frank_wolfe", "pairwise_frank_wolfe"])
def test_adafw_first_estimate_of_L_is_the_float64_one(name, backend, monkeypatch):
    """L_0 = ‖∇f(x + εd) − ∇f(x)‖/(ε‖d‖) amplifies the rounding of ∇f by 1/ε = 10³: computed in
    float32 it is off by about 10⁴ ulps; from the float64 host oracle, by the d ulps of the
    data's rounding."""
    spec = next(s for s in SPECS if s.name == name)
    wide, _, _ = _run(spec, backend, "float64", monkeypatch)
    narrow, _, _ = _run(spec, backend, "float32", monkeypatch)
    first_wide, first_narrow = wide.metrics["L_est"][0], narrow.metrics["L_est"][0]
    d = int(narrow.x.shape[-1])
    np.testing.assert_allclose(first_narrow, first_wide, rtol=d * EPS32, atol=0)


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_pg_condition7_stops_at_the_rounding_of_its_dtype(backend):
    """A tolerance below float32's resolution of the PG residual (RAMDA's ε_t late in a run)
    is met at that resolution instead of running to ``max_iters``, at the float64 solution to
    float32 accuracy; float64 still meets the tolerance itself."""
    if backend == "numpy":
        xp, device = namespace("numpy"), None
    else:
        xp = pytest.importorskip("array_api_strict")
        device = xp.Device("no_float64")
    psi = GroupLasso.contiguous(5, 3, 0.4)
    gen = np.random.default_rng(2)
    V, C, Z0 = (gen.standard_normal((4, 15)) for _ in range(3))
    P = 0.5 + gen.random((4, 15))
    exact = sub.solve_exact(psi, 1.5, V, P, C)
    wide = sub.solve_pg(psi, 1.5, V, P, C, Z0, tol=1e-13, max_iters=500)
    assert np.all(wide.satisfied) and np.all(wide.residual <= 1e-13)
    narrow = sub.solve_pg(
        psi,
        1.5,
        *(xp.asarray(a, dtype=xp.float32, device=device) for a in (V, P, C, Z0)),
        tol=1e-13,
        max_iters=500,
    )
    assert np.all(to_numpy(narrow.satisfied))
    assert np.all(to_numpy(narrow.iterations) < 2 * np.asarray(wide.iterations))
    bound = 15 * EPS32 * float(np.max(np.abs(exact)))
    np.testing.assert_allclose(to_numpy(narrow.Z), exact, atol=bound, rtol=0)


def test_a_float32_start_on_the_boundary_of_the_constraint_is_feasible():
    """x0 with ‖x0‖₁ = 1 in float64, rounded to float32, sums to 1 + 1 ulp: FW takes it."""
    weights = np.array([0.1, 0.2, 0.3, 0.33, 0.07])
    start = (weights * np.array([1, -1, 1, 1, -1])).astype(np.float32)
    assert np.sum(np.abs(start), dtype=np.float32) > 1
    args, _ = case_for("frank_wolfe")(namespace("numpy"), None)
    problem = _convert(args[0], namespace("numpy"), np.float32, None)
    trace = frank_wolfe(problem, L1Ball(1.0), start, iters=2, step="short")
    assert trace.x.dtype == np.float32


def test_nuclear_norm_counts_no_float32_round_off_as_rank(xp):
    """A rank-1 4×3 matrix formed in float32 has singular values of float32 round-off (about
    1e-8 of σ_max), which the float64 threshold 1e-12·σ_max counted as rank 3."""
    gen = np.random.default_rng(4)
    u, v = gen.standard_normal((2, 4, 1)), gen.standard_normal((2, 1, 3))
    for dtype in (np.float32, np.float64):
        W = xp.asarray(np.reshape(u.astype(dtype) @ v.astype(dtype), (2, 12)))
        assert np.all(np.sum(to_numpy(NuclearNorm(0.1, (4, 3)).support(W)), axis=-1) == 1)
