import itertools
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastbench.problems import LeastSquares, Quadratic
from mastbench.problems.random import least_squares, logistic, quadratic

from mastbench import backend, exact
from mastbench.algorithms.mast import DSGD, LSVRDSG, DistributedDSGD, DSGDImportance
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Identity, Permutation, RandK
from mastbench.strategies import seeds, sketches

# -- helpers -----------------------------------------------------------------------------------


def _quad(d, seed, kappa=10.0):
    return quadratic(d, kappa, backend.rng(seed))


def _form(problem):
    A, b, const = problem.quadratic_form()
    return A, b, const


def _matrices(sketch):
    """Support as (N, d, d) matrices (a Permutation's single-client marginal)."""
    if isinstance(sketch, Permutation):
        sketch = sketch.marginal
    outcomes, probs = sketch.support()
    if sketch.diagonal:
        outcomes = np.einsum("ni,ij->nij", outcomes, np.eye(sketch.d))
    return outcomes, probs


def _close(a, b, tol=1e-12):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


def _path_moments(states, weights):
    mean = weights @ states
    second = np.einsum("n,ni,nj->ij", weights, states, states)
    return mean, second


def _brute_force_dsgd(problem, sketch, x0, v, step, iters):
    """E[x_t], E[x_t x_tᵀ] over all |supp|^t sketch paths, from the algorithm's own update."""
    A, b, _ = _form(problem)
    mats, probs = _matrices(sketch)
    states, weights = x0[None, :], np.ones(1)
    out = [_path_moments(states, weights)]
    for _ in range(iters):
        y = states - v
        points = v + np.einsum("nij,pj->pni", mats, y)  # (paths, outcomes, d)
        grads = points @ A - b  # ∇f at the sketched points (A symmetric)
        update = np.einsum("nji,pnj->pni", mats, grads)  # Sᵀ∇f
        states = (states[:, None, :] - step * update).reshape(-1, len(x0))
        weights = (weights[:, None] * probs[None, :]).reshape(-1)
        out.append(_path_moments(states, weights))
    return out


# -- DSGD option I -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sketch",
    [
        Bernoulli(np.array([0.3, 0.6, 0.9])),
        RandK(3, 2),
        Permutation(4, 2),
        Identity(3),
        Discrete(
            np.array(
                [
                    [[1.0, 0.5, 0.0], [0.0, 1.5, 0.0], [0.2, 0.0, 0.0]],
                    [[1.0, -0.5, 0.0], [0.0, 0.5, 0.0], [-0.2, 0.0, 2.0]],
                ]
            ),
            [0.5, 0.5],
        ),
    ],
    ids=repr,
)
def test_dsgd_moments_equal_brute_force_enumeration_of_all_paths(sketch):
    d = sketch.d
    problem = _quad(d, 1)
    gen = np.random.default_rng(2)
    x0, v = gen.normal(size=d), gen.normal(size=d)
    step = 0.5 / (problem.L * sketch.L_S_max)
    iters = 4
    res = exact.moments(DSGD(sketch=sketch, gamma=step, shift=v), problem, x0, iters)
    brute = _brute_force_dsgd(problem, sketch, x0, v, step, iters)
    np.testing.assert_array_equal(res.iterations, np.arange(iters + 1))
    for t, (mean, second) in enumerate(brute):
        _close(res.mean[t], mean)
        _close(res.second[t], second)


def test_readouts_equal_direct_evaluation_over_paths():
    sketch = Bernoulli(np.array([0.4, 0.7, 0.9]))
    problem = _quad(3, 5)
    A, b, const = _form(problem)
    gen = np.random.default_rng(6)
    x0, v = gen.normal(size=3), gen.normal(size=3)
    step = 0.3 / (problem.L * sketch.L_S_max)
    res = exact.moments(DSGD(sketch=sketch, gamma=step, shift=v), problem, x0, 3)
    mats, probs = _matrices(sketch)

    def f(x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, A, x) - x @ b + const

    def f_D(x):  # E_S f(v + S(x − v)) by enumeration, x (P, d)
        pts = v + np.einsum("nij,pj->pni", mats, x - v)
        return f(pts) @ probs

    def grad_D(x):
        pts = v + np.einsum("nij,pj->pni", mats, x - v)
        return np.einsum("n,nji,pnj->pi", probs, mats, pts @ A - b)

    x_D = res.x_D_star
    _close(grad_D(x_D[None])[0], np.zeros(3))
    assert res.f_D_star == pytest.approx(f_D(x_D[None])[0], abs=1e-12)
    assert res.f_star == pytest.approx(problem.f_star, abs=1e-12)
    # brute-force paths again, keeping the states
    states, weights = x0[None, :], np.ones(1)
    for t in range(4):
        if t:
            y = states - v
            grads = (v + np.einsum("nij,pj->pni", mats, y)) @ A - b
            states = (states[:, None, :] - step * np.einsum("nji,pnj->pni", mats, grads)).reshape(
                -1, 3
            )
            weights = (weights[:, None] * probs[None, :]).reshape(-1)
        assert res.dist2[t] == pytest.approx(weights @ np.sum((states - x_D) ** 2, 1), abs=1e-12)
        assert res.subopt[t] == pytest.approx(weights @ f(states) - problem.f_star, abs=1e-12)
        assert res.subopt_D[t] == pytest.approx(weights @ f_D(states) - res.f_D_star, abs=1e-12)
        g = grad_D(states)
        assert res.gradnorm2_D[t] == pytest.approx(weights @ np.sum(g**2, 1), abs=1e-12)


def _augmented_operator(sketch, A, c, step):
    """𝒯 = Σ_S Pr(S) Φ_S on z = [1; y; vec(yyᵀ)] (``theory/mast.md`` §6.1)."""
    d = A.shape[0]
    mats, probs = _matrices(sketch)
    T = np.zeros((1 + d + d * d, 1 + d + d * d))
    for S, w in zip(mats, probs, strict=True):
        K = np.eye(d) - step * S.T @ A @ S
        h = -step * S.T @ c
        Phi = np.zeros_like(T)
        Phi[0, 0] = 1.0
        Phi[1 : 1 + d, 0] = h
        Phi[1 : 1 + d, 1 : 1 + d] = K
        Phi[1 + d :, 0] = np.kron(h, h)
        Phi[1 + d :, 1 : 1 + d] = np.kron(K, h[:, None]) + np.kron(h[:, None], K)
        Phi[1 + d :, 1 + d :] = np.kron(K, K)
        T += w * Phi
    return T


@given(sketch=sketches(max_d=4), seed=seeds(), scale=st.floats(0.05, 1.0))
def test_dsgd_moments_equal_augmented_state_operator(sketch, seed, scale):
    d = sketch.d
    problem = quadratic(d, 20.0, backend.rng(seed))
    A, b, _ = _form(problem)
    gen = np.random.default_rng(seed)
    x0, v = gen.normal(size=d), gen.normal(size=d)
    step = scale / (problem.L * sketch.L_S_max)
    iters = 6
    res = exact.moments(DSGD(sketch=sketch, gamma=step, shift=v), problem, x0, iters)
    T = _augmented_operator(sketch, A, A @ v - b, step)
    y0 = x0 - v
    z = np.concatenate([[1.0], y0, np.outer(y0, y0).ravel()])
    for t in range(iters + 1):
        m, P = z[1 : 1 + d], z[1 + d :].reshape(d, d)
        _close(res.mean[t] - v, m)
        _close(res.second[t], P + np.outer(m, v) + np.outer(v, m) + np.outer(v, v))
        z = T @ z


def test_dsgd_monte_carlo_within_five_sigma_of_exact():
    d, R, iters = 10, 20000, 30
    sketch = RandK(d, 3)
    problem = _quad(d, 7, kappa=5.0)
    A, b, _ = _form(problem)
    gen = np.random.default_rng(8)
    x0, v = gen.normal(size=d), 0.5 * gen.normal(size=d)
    step = 1.0 / (problem.L * sketch.L_S_max)
    points = [0, 1, 3, 10, 30]
    res = exact.moments(
        DSGD(sketch=sketch, gamma=step, shift=v), problem, x0, iters, checkpoints=points
    )
    rng = backend.rng(9)
    x = np.tile(x0, (R, 1))
    for t in range(iters + 1):
        if t in points:
            dist2 = np.sum((x - res.x_D_star) ** 2, axis=1)
            k = points.index(t)
            sigma = dist2.std(ddof=1) / np.sqrt(R)
            assert abs(dist2.mean() - res.dist2[k]) <= 5 * sigma + 1e-12
        s = sketch.sample(rng, R)
        x = x - step * s * ((v + s * (x - v)) @ A - b)


def test_checkpoints_subset_matches_full_run():
    sketch = RandK(4, 2)
    problem = _quad(4, 3)
    full = exact.moments(DSGD(sketch=sketch, gamma=0.05), problem, np.ones(4), 20)
    some = exact.moments(
        DSGD(sketch=sketch, gamma=0.05), problem, np.ones(4), 20, checkpoints=[0, 5, 20]
    )
    np.testing.assert_array_equal(some.iterations, [0, 5, 20])
    _close(some.second, full.second[[0, 5, 20]])
    _close(some.dist2, full.dist2[[0, 5, 20]])


def test_identity_sketch_is_deterministic_gradient_descent():
    problem = _quad(3, 4)
    A, b, _ = _form(problem)
    x = np.array([1.0, -2.0, 0.5])
    res = exact.moments(DSGD(sketch=Identity(3), gamma=0.1), problem, x, 5)
    for t in range(6):
        _close(res.mean[t], x)
        _close(res.second[t], np.outer(x, x))
        x = x - 0.1 * (A @ x - b)
    assert res.dist2[0] == pytest.approx(np.sum((res.mean[0] - problem.x_star_host) ** 2))
    assert res.state_mean is None and res.state_second is None


# -- cost --------------------------------------------------------------------------------------


def test_structured_path_costs_d_cubed_not_d_fourth():
    d = 200
    problem = _quad(d, 0, kappa=3.0)
    # one-off costs (imports, loading a compiled loop) outside the measurement
    exact.moments(DSGD(sketch=RandK(d, 40), gamma=0.01), problem, np.ones(d), 2)
    for sketch in (Bernoulli(np.linspace(0.3, 1.0, d)), RandK(d, 40)):
        tracemalloc.start()
        exact.moments(DSGD(sketch=sketch, gamma=0.01), problem, np.ones(d), 2)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # (checkpoints, d, d) results and d×d temporaries; a d⁴ tensor would be 12.8 GB
        assert peak < 60 * d * d * 8


# -- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sketch", [Bernoulli(np.array([0.5, 0.8, 0.6])), RandK(3, 2)], ids=repr)
def test_limit_equals_long_run_and_is_a_fixed_point(sketch):
    problem = _quad(3, 11, kappa=2.0)
    v = np.array([0.3, -0.2, 1.0])
    step = 1.0 / (problem.L * sketch.L_S_max)
    lim = exact.limit(DSGD(sketch=sketch, gamma=step, shift=v), problem)
    long = exact.moments(
        DSGD(sketch=sketch, gamma=step, shift=v), problem, np.zeros(3), 400, checkpoints=[400]
    )
    assert lim.rho < 1
    _close(lim.mean, long.mean[-1], tol=1e-10)
    _close(lim.second, long.second[-1], tol=1e-10)
    assert lim.dist2 == pytest.approx(long.dist2[-1], abs=1e-10)
    again = exact.moments(DSGD(sketch=sketch, gamma=step, shift=v), problem, lim.mean, 0)
    assert again.x_D_star == pytest.approx(lim.mean, abs=1e-10)  # E x_∞ = x_D*
    assert lim.dist2 > 0


def test_limit_is_exact_zero_under_interpolation():
    problem = _quad(3, 12)
    sketch = RandK(3, 1)
    lim = exact.limit(
        DSGD(sketch=sketch, gamma=0.5 / (problem.L * 9), shift=problem.x_star_host), problem
    )
    assert lim.dist2 == pytest.approx(0.0, abs=1e-20)
    assert lim.subopt == pytest.approx(0.0, abs=1e-12)


def test_limit_rejects_diverging_step():
    problem = _quad(3, 13)
    with pytest.raises(ValueError, match="diverges"):
        exact.limit(DSGD(sketch=RandK(3, 1), gamma=10.0 / problem.L), problem)


def test_limit_rejects_too_large_state():
    with pytest.raises(ValueError, match="exceeds the limit max_dim=5"):
        exact.limit(DSGD(sketch=RandK(6, 2), gamma=0.01), _quad(6, 0), max_dim=5)


# -- option II: minibatches and compressors ----------------------------------------------------


def _brute_force_minibatch(problem, sketch, x0, v, step, iters, b, replacement, compressor):
    X = backend.to_numpy(problem.X)
    y = backend.to_numpy(problem.y)
    n, d = X.shape
    mats, probs = _matrices(sketch)
    if replacement:
        batches = list(itertools.product(range(n), repeat=b))
    else:
        batches = list(itertools.combinations(range(n), b))
    bw = np.full(len(batches), 1.0 / len(batches))
    if compressor is None:
        cmats, cprobs = np.eye(d)[None], np.ones(1)
    else:
        cmats, cprobs = _matrices(compressor)
    branches = []
    for (S, ps), (B, pb), (C, pc) in itertools.product(
        zip(mats, probs, strict=True),
        zip(batches, bw, strict=True),
        zip(cmats, cprobs, strict=True),
    ):
        branches.append((S, list(B), C, ps * pb * pc))
    states, weights = x0[None, :], np.ones(1)
    out = [_path_moments(states, weights)]
    for _ in range(iters):
        new_states, new_weights = [], []
        for S, B, C, w in branches:
            pts = v + (states - v) @ S.T
            resid = pts @ X[B].T - y[B]  # (P, b)
            grad = resid @ X[B] / len(B) + problem.l2 * pts
            new_states.append(states - step * (grad @ S) @ C.T)
            new_weights.append(weights * w)
        states = np.concatenate(new_states)
        weights = np.concatenate(new_weights)
        out.append(_path_moments(states, weights))
    return out


@pytest.mark.parametrize(
    "b, replacement, compressor",
    [
        (1, False, None),
        (2, False, None),
        (3, False, None),
        (2, True, None),
        (2, False, RandK(2, 1)),
    ],
)
def test_minibatch_moments_equal_brute_force(b, replacement, compressor):
    problem = least_squares(3, 2, backend.rng(4), l2=0.1)
    sketch = Bernoulli(np.array([0.5, 0.8]))
    gen = np.random.default_rng(1)
    x0, v = gen.normal(size=2), gen.normal(size=2)
    step, iters = 0.2, 3
    res = exact.moments(
        DSGD(
            sketch=sketch,
            gamma=step,
            shift=v,
            option="II",
            batch_size=b,
            replace=replacement,
            compressor=compressor,
        ),
        problem,
        x0,
        iters,
    )
    brute = _brute_force_minibatch(problem, sketch, x0, v, step, iters, b, replacement, compressor)
    for t, (mean, second) in enumerate(brute):
        _close(res.mean[t], mean)
        _close(res.second[t], second)


def test_full_batch_without_replacement_equals_option_one():
    problem = least_squares(4, 3, backend.rng(2), l2=0.05)
    sketch = RandK(3, 2)
    x0 = np.array([1.0, 0.0, -1.0])
    a = exact.moments(
        DSGD(sketch=sketch, gamma=0.1, option="II", batch_size=4, replace=False), problem, x0, 10
    )
    b = exact.moments(DSGD(sketch=sketch, gamma=0.1), problem, x0, 10)
    _close(a.second, b.second)


def test_minibatch_limit_grows_as_batch_shrinks():
    problem = least_squares(6, 3, backend.rng(5), l2=0.1, noise=1.0)
    sketch = RandK(3, 2)
    step = 0.5 / (max(problem.L_i) * sketch.L_S_max)
    dist = [
        exact.limit(
            DSGD(sketch=sketch, gamma=step, option="II", batch_size=b, replace=False), problem
        ).dist2
        for b in (1, 2, 3, 6)
    ]
    assert dist[0] > dist[1] > dist[2] > dist[3]
    assert dist[3] == pytest.approx(
        exact.limit(DSGD(sketch=sketch, gamma=step), problem).dist2, rel=1e-10
    )


def test_quadratic_components_average_to_the_problem():
    problem = least_squares(5, 3, backend.rng(0), l2=0.2)
    A_i, b_i, c_i = exact.quadratic_components(problem)
    A, b, const = _form(problem)
    _close(A_i.mean(axis=0), A)
    _close(b_i.mean(axis=0), b)
    assert c_i.mean() == pytest.approx(const)


# -- distributed / IST -------------------------------------------------------------------------


def _brute_force_distributed(problems, joint, x0, v, step, iters):
    """joint: list of (tuple of client matrices, probability)."""
    forms = [_form(p) for p in problems]
    M = len(problems)
    states, weights = x0[None, :], np.ones(1)
    out = [_path_moments(states, weights)]
    for _ in range(iters):
        new_states, new_weights = [], []
        for Ss, w in joint:
            total = 0
            for S, (A, b, _) in zip(Ss, forms, strict=True):
                total = total + ((v + (states - v) @ S.T) @ A - b) @ S
            new_states.append(states - step / M * total)
            new_weights.append(weights * w)
        states = np.concatenate(new_states)
        weights = np.concatenate(new_weights)
        out.append(_path_moments(states, weights))
    return out


def test_distributed_independent_clients_equal_product_enumeration():
    d = 3
    problems = [_quad(d, s) for s in (1, 2)]
    sketches_ = [Bernoulli(np.array([0.5, 0.7, 0.9])), RandK(3, 2)]
    supports = [list(zip(*_matrices(s), strict=True)) for s in sketches_]
    joint = [((S1, S2), w1 * w2) for (S1, w1), (S2, w2) in itertools.product(*supports)]
    gen = np.random.default_rng(3)
    x0, v = gen.normal(size=d), gen.normal(size=d)
    res = exact.moments(DistributedDSGD(sketches=sketches_, gamma=0.05, shift=v), problems, x0, 3)
    for t, (mean, second) in enumerate(_brute_force_distributed(problems, joint, x0, v, 0.05, 3)):
        _close(res.mean[t], mean)
        _close(res.second[t], second)


def test_distributed_permutation_equals_joint_enumeration():
    d, n = 4, 2
    problems = [_quad(d, s) for s in (3, 4)]
    perm = Permutation(d, n)
    outcomes, probs = perm.support()
    joint = [
        (tuple(np.diag(o[i]) for i in range(n)), w) for o, w in zip(outcomes, probs, strict=True)
    ]
    gen = np.random.default_rng(4)
    x0, v = gen.normal(size=d), gen.normal(size=d)
    res = exact.moments(DistributedDSGD(sketches=perm, gamma=0.05, shift=v), problems, x0, 3)
    for t, (mean, second) in enumerate(_brute_force_distributed(problems, joint, x0, v, 0.05, 3)):
        _close(res.mean[t], mean)
        _close(res.second[t], second)


def test_ist_link_perm_one_limit_point():
    d = 3
    problems = [_quad(d, s) for s in (5, 6, 7)]
    forms = [_form(p) for p in problems]
    perm = Permutation(d, d)
    D_bar = np.mean([np.diag(np.diag(A)) for A, _, _ in forms], axis=0)
    b_bar = np.mean([b for _, b, _ in forms], axis=0)
    res = exact.moments(DistributedDSGD(sketches=perm, gamma=0.01), problems, np.zeros(d), 0)
    _close(res.A_bar, d * D_bar)
    _close(res.x_D_star, np.linalg.solve(d * D_bar, b_bar))
    lim = exact.limit(
        DistributedDSGD(sketches=perm, gamma=0.5 / (d * max(p.L for p in problems))), problems
    )
    _close(lim.mean, res.x_D_star, tol=1e-10)


def test_distributed_identical_clients_with_identity_is_gradient_descent():
    problem = _quad(3, 8)
    a = exact.moments(
        DistributedDSGD(sketches=[Identity(3)] * 2, gamma=0.1), [problem] * 2, np.ones(3), 5
    )
    b = exact.moments(DSGD(sketch=Identity(3), gamma=0.1), problem, np.ones(3), 5)
    _close(a.second, b.second)


# -- L-SVRDSG ----------------------------------------------------------------------------------


def _brute_force_l_svrdsg(problem, sketch, x0, v, step, iters, b, p, resample):
    A, bb, _ = _form(problem)
    mats, _ = _matrices(sketch)
    N = mats.shape[0]

    def grad_j(j, x):
        S = mats[j]
        return ((v + (x - v) @ S.T) @ A - bb) @ S

    batches = list(itertools.combinations(range(N), b))

    def ref(Q, w):
        return sum(grad_j(k, w) for k in Q) / len(Q)

    # paths of (x, w, G) with weights
    x = np.tile(x0, (len(batches), 1))
    w = x.copy()
    G = np.stack([ref(Q, x0[None])[0] for Q in batches])
    weights = np.full(len(batches), 1.0 / len(batches))
    if resample:
        x, w, weights = x0[None], x0[None].copy(), np.ones(1)
    out = [(x, w, G, weights)]
    for _ in range(iters):
        nx, nw, nG, nweights = [], [], [], []
        for j in range(N):
            if resample:
                for Q in batches:
                    g = grad_j(j, x) - grad_j(j, w) + ref(Q, w)
                    xn = x - step * g
                    for coin, pc in ((True, p), (False, 1 - p)):
                        nx.append(xn)
                        nw.append(x if coin else w)
                        nweights.append(weights * pc / (N * len(batches)))
            else:
                g = grad_j(j, x) - grad_j(j, w) + G
                xn = x - step * g
                nx.append(xn)
                nw.append(w)
                nG.append(G)
                nweights.append(weights * (1 - p) / N)
                for Q in batches:
                    nx.append(xn)
                    nw.append(x)
                    nG.append(ref(Q, x))
                    nweights.append(weights * p / (N * len(batches)))
        x, w, weights = np.concatenate(nx), np.concatenate(nw), np.concatenate(nweights)
        if not resample:
            G = np.concatenate(nG)
        out.append((x, w, G, weights))
    return out, grad_j, N


@pytest.mark.parametrize("resample", [False, True])
@pytest.mark.parametrize("b", [1, 2, 3])
def test_l_svrdsg_moments_equal_brute_force(b, resample):
    d = 2
    problem = _quad(d, 9)
    sketch = Discrete(np.array([[1.5, 0.0], [0.0, 1.5], [1.5, 1.5]]), np.full(3, 1 / 3))
    gen = np.random.default_rng(10)
    x0, v = gen.normal(size=d), gen.normal(size=d)
    step, p, iters = 0.1, 0.3, 3
    res = exact.moments(
        LSVRDSG(
            sketch=sketch,
            gamma=step,
            shift=v,
            prob=p,
            batch=b,
            minibatch="resampled" if resample else "fixed",
        ),
        problem,
        x0,
        iters,
    )
    paths, grad_j, N = _brute_force_l_svrdsg(problem, sketch, x0, v, step, iters, b, p, resample)
    A, bb, _ = _form(problem)
    for t, (x, w, G, weights) in enumerate(paths):
        mean, second = _path_moments(x, weights)
        _close(res.mean[t], mean)
        _close(res.second[t], second)
        xs = res.x_D_star[None]
        gap = sum(np.sum((grad_j(j, w) - grad_j(j, xs)) ** 2, 1) for j in range(N)) / N
        dist2 = np.sum((x - res.x_D_star) ** 2, 1)
        assert res.extra["reference_gap"][t] == pytest.approx(weights @ gap, abs=1e-12)
        assert res.extra["lyapunov"][t] == pytest.approx(
            weights @ (dist2 + 4 * step**2 / p * gap), abs=1e-12
        )
        _close(res.state_mean[t, d : 2 * d], weights @ w - v)
        if not resample:
            err = G - ((w - v) @ res.A_bar + A @ v - bb)
            assert res.extra["reference_error"][t] == pytest.approx(
                weights @ np.sum(err**2, 1), abs=1e-12
            )


def test_l_svrdsg_full_batch_converges_exactly_and_small_batch_does_not():
    problem = _quad(3, 14)
    sketch = Discrete(*RandK(3, 2).support())
    v = np.array([0.5, -1.0, 0.2])
    step = 1 / (6 * problem.L * RandK(3, 2).L_S_max)
    full = exact.limit(LSVRDSG(sketch=sketch, gamma=step, shift=v, prob=0.5, batch=3), problem)
    part = exact.limit(LSVRDSG(sketch=sketch, gamma=step, shift=v, prob=0.5, batch=1), problem)
    assert full.dist2 == pytest.approx(0.0, abs=1e-12)
    assert part.dist2 > 1e-6
    assert full.extra["lyapunov"] == pytest.approx(0.0, abs=1e-12)


# -- bad input ---------------------------------------------------------------------------------


def test_rejects_non_quadratic_problem():
    problem = logistic(10, 3, backend.rng(0))
    with pytest.raises(TypeError, match="problem must be a quadratic"):
        exact.moments(DSGD(sketch=RandK(3, 1), gamma=0.1), problem, np.zeros(3), 1)


def test_rejects_bad_arguments():
    problem = _quad(3, 0)
    with pytest.raises(ValueError, match="sketch has dimension 2"):
        exact.moments(DSGD(sketch=RandK(2, 1), gamma=0.1), problem, np.zeros(3), 1)
    with pytest.raises(TypeError, match="sketch must be a sketch distribution"):
        exact.moments(DSGD(sketch="randk", gamma=0.1), problem, np.zeros(3), 1)
    with pytest.raises(ValueError, match="step must be > 0"):
        exact.moments(DSGD(sketch=RandK(3, 1), gamma=0.0), problem, np.zeros(3), 1)
    with pytest.raises(ValueError, match="iters must be >= 0"):
        exact.moments(DSGD(sketch=RandK(3, 1), gamma=0.1), problem, np.zeros(3), -1)
    with pytest.raises(ValueError, match=r"x0 must have shape \(3,\)"):
        exact.moments(DSGD(sketch=RandK(3, 1), gamma=0.1), problem, np.zeros(2), 1)
    with pytest.raises(ValueError, match="checkpoints must be iterations within"):
        exact.moments(DSGD(sketch=RandK(3, 1), gamma=0.1), problem, np.zeros(3), 2, checkpoints=[5])
    with pytest.raises(TypeError, match="checkpoints must be integers"):
        exact.moments(
            DSGD(sketch=RandK(3, 1), gamma=0.1), problem, np.zeros(3), 2, checkpoints=[1.5]
        )
    with pytest.raises(ValueError, match="finite support"):
        exact.moments(DSGD(sketch=Gaussian(3, 2), gamma=0.1), problem, np.zeros(3), 1)


def test_minibatch_rejects_bad_arguments():
    problem = least_squares(3, 2, backend.rng(0))
    with pytest.raises(ValueError, match="batch_size must be <= 3"):
        exact.moments(
            DSGD(sketch=RandK(2, 1), gamma=0.1, option="II", batch_size=4, replace=False),
            problem,
            np.zeros(2),
            1,
        )
    with pytest.raises(ValueError, match="compressor must be a diagonal sketch"):
        exact.moments(
            DSGD(
                sketch=RandK(2, 1),
                gamma=0.1,
                option="II",
                batch_size=1,
                replace=False,
                compressor=Gaussian(2, 1),
            ),
            problem,
            np.zeros(2),
            1,
        )
    with pytest.raises(TypeError, match="LeastSquares only"):
        exact.moments(
            DSGD(sketch=RandK(2, 1), gamma=0.1, option="II", batch_size=1, replace=False),
            _quad(2, 0),
            np.zeros(2),
            1,
        )


def test_distributed_rejects_mismatched_clients():
    problems = [_quad(4, 0), _quad(4, 1)]
    with pytest.raises(ValueError, match="n=4 blocks but there are 2 clients"):
        exact.moments(
            DistributedDSGD(sketches=Permutation(4, 4), gamma=0.1), problems, np.zeros(4), 1
        )
    with pytest.raises(ValueError, match="one sketch per client"):
        exact.moments(DistributedDSGD(sketches=[RandK(4, 1)], gamma=0.1), problems, np.zeros(4), 1)
    with pytest.raises(ValueError, match="same dimension"):
        exact.moments(
            DistributedDSGD(sketches=[RandK(4, 1)] * 2, gamma=0.1),
            [_quad(4, 0), _quad(3, 0)],
            np.zeros(4),
            1,
        )


def test_l_svrdsg_rejects_non_uniform_and_bad_batch():
    problem = _quad(2, 0)
    skewed = Discrete(np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="uniform weights"):
        exact.moments(LSVRDSG(sketch=skewed, gamma=0.1, prob=0.5, batch=1), problem, np.zeros(2), 1)
    uniform = Discrete(*RandK(2, 1).support())
    with pytest.raises(ValueError, match="batch must be <= 2"):
        LSVRDSG(sketch=uniform, gamma=0.1, prob=0.5, batch=3)
    with pytest.raises(ValueError, match="prob must be > 0"):
        LSVRDSG(sketch=uniform, gamma=0.1, prob=0.0, batch=1)
    with pytest.raises(TypeError, match="Discrete"):
        LSVRDSG(sketch=RandK(2, 1), gamma=0.1)


def test_quadratic_unbounded_below_is_reported():
    A = np.diag([1.0, 0.0])
    problem = Quadratic(A, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="unbounded below"):
        exact.moments(DSGD(sketch=Identity(2), gamma=0.1), problem, np.zeros(2), 1)


def test_singular_but_bounded_quadratic_has_the_minimum_norm_minimizer():
    # A singular, b in its range: f is bounded below, x* = A⁺b (the lstsq fallback); the
    # same A with b off its range is the unbounded case above
    A = np.array([[1.0, 1.0], [1.0, 1.0]])
    problem = Quadratic(A, np.array([2.0, 2.0]))
    res = exact.moments(DSGD(sketch=Identity(2), gamma=0.1), problem, np.zeros(2), 1)
    np.testing.assert_allclose(res.x_D_star, [1.0, 1.0], rtol=1e-12)
    assert res.f_star == pytest.approx(-2.0, rel=1e-12)
    with pytest.raises(ValueError, match="unbounded below"):
        exact.moments(
            DSGD(sketch=Identity(2), gamma=0.1), Quadratic(A, np.array([1.0, -1.0])), np.zeros(2), 1
        )


def test_least_squares_is_accepted_directly():
    problem = LeastSquares(np.eye(3), np.ones(3), l2=0.1)
    res = exact.moments(DSGD(sketch=RandK(3, 2), gamma=0.1), problem, np.zeros(3), 2)
    assert res.subopt[0] > res.subopt[-1] > 0


def test_minibatch_moments_of_a_sparse_least_squares_equal_the_dense_ones():
    import scipy.sparse as sp

    X = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 3.0]])
    y = np.array([1.0, 2.0, 3.0, 4.0])
    method = DSGD(sketch=RandK(3, 2), gamma=0.05, option="II", batch_size=2, replace=False)
    dense = exact.moments(method, LeastSquares(X, y, l2=0.1), np.ones(3), 3)
    sparse = exact.moments(method, LeastSquares(sp.csr_array(X), y, l2=0.1), np.ones(3), 3)
    _close(sparse.second, dense.second)
    _close(sparse.subopt, dense.subopt)


def test_inputs_from_any_backend_give_the_same_moments(xp):
    gen = xp.rng(3)
    problem = quadratic(3, 5.0, gen)
    x0 = xp.asarray(np.array([1.0, 2.0, -1.0]))
    res = exact.moments(DSGD(sketch=RandK(3, 2), gamma=0.05), problem, x0, 3)
    host = Quadratic(*(np.asarray(a) for a in problem.quadratic_form()[:2]))
    ref = exact.moments(DSGD(sketch=RandK(3, 2), gamma=0.05), host, np.array([1.0, 2.0, -1.0]), 3)
    _close(res.second, ref.second)
    assert isinstance(res.dist2, np.ndarray)


# -- importance sampling, generic branches, MAST objective -------------------------------------


def test_importance_sampling_equals_brute_force_over_branches():
    sketch = Discrete(*Bernoulli(np.array([0.3, 0.9])).support())
    problem = _quad(2, 21)
    A, b, _ = _form(problem)
    mats, w = _matrices(sketch)
    q = w * np.array([np.linalg.eigvalsh(S.T @ S)[-1] for S in mats])
    q /= q.sum()
    mats, w, q = mats[q > 0], w[q > 0], q[q > 0]  # the empty mask (zero gradient) is never drawn
    gen = np.random.default_rng(22)
    x0, v = gen.normal(size=2), gen.normal(size=2)
    step, iters = 0.02, 4
    res = exact.moments(DSGDImportance(sketch=sketch, gamma=step, shift=v), problem, x0, iters)
    states, weights = x0[None], np.ones(1)
    for t in range(iters + 1):
        mean, second = _path_moments(states, weights)
        _close(res.mean[t], mean)
        _close(res.second[t], second)
        grads = (v + np.einsum("nij,pj->pni", mats, states - v)) @ A - b
        update = (w / q)[None, :, None] * np.einsum("nji,pnj->pni", mats, grads)
        states = (states[:, None, :] - step * update).reshape(-1, 2)
        weights = (weights[:, None] * q[None, :]).reshape(-1)


def test_importance_sampling_with_q_equal_w_is_plain_dsgd():
    sketch = Discrete(*RandK(3, 2).support())
    problem = _quad(3, 23)
    q = sketch.support()[1]
    a = exact.moments(DSGDImportance(sketch=sketch, gamma=0.05, q=q), problem, np.ones(3), 6)
    b = exact.moments(DSGD(sketch=sketch, gamma=0.05), problem, np.ones(3), 6)
    _close(a.second, b.second)
    lim_a = exact.limit(DSGDImportance(sketch=sketch, gamma=0.05, q=q), problem)
    lim_b = exact.limit(DSGD(sketch=sketch, gamma=0.05), problem)
    assert lim_a.dist2 == pytest.approx(lim_b.dist2, rel=1e-10)


def test_importance_sampling_rejects_bad_q():
    sketch = Discrete(*RandK(2, 1).support())
    with pytest.raises(ValueError, match="q must be > 0 wherever"):
        DSGDImportance(sketch=sketch, gamma=0.1, q=[1.0, 0.0])
    with pytest.raises(ValueError, match="q must have shape"):
        DSGDImportance(sketch=sketch, gamma=0.1, q=[1.0])


def test_affine_moments_reproduce_dsgd_from_its_branches():
    sketch = Bernoulli(np.array([0.5, 0.7, 0.8]))
    problem = _quad(3, 24)
    A, b, _ = _form(problem)
    mats, w = _matrices(sketch)
    v = np.array([0.1, 0.2, 0.3])
    c = A @ v - b
    Ks = np.eye(3)[None] - 0.1 * np.swapaxes(mats, 1, 2) @ A @ mats
    hs = -0.1 * np.einsum("nki,k->ni", mats, c)
    x0 = np.array([1.0, -1.0, 0.5])
    its, means, seconds = exact.affine_moments(Ks, hs, w, u0=x0 - v, iters=5)
    ref = exact.moments(DSGD(sketch=sketch, gamma=0.1, shift=v), problem, x0, 5)
    np.testing.assert_array_equal(its, ref.iterations)
    _close(means + v, ref.mean)
    vv = np.outer(v, v)
    shifted = means[:, :, None] * v[None, None, :] + v[None, :, None] * means[:, None, :]
    _close(seconds + shifted + vv, ref.second)
    m, P, rho = exact.affine_limit(Ks, hs, w)
    lim = exact.limit(DSGD(sketch=sketch, gamma=0.1, shift=v), problem)
    _close(m + v, lim.mean, tol=1e-10)
    _close(P + np.outer(m, v) + np.outer(v, m) + vv, lim.second, tol=1e-10)
    assert rho == pytest.approx(lim.rho, rel=1e-10)


def test_affine_moments_reject_bad_branches():
    with pytest.raises(ValueError, match="Ks must have shape"):
        exact.affine_moments(np.ones((2, 2, 3)), np.ones((2, 2)), [0.5, 0.5], u0=[0, 0], iters=1)
    with pytest.raises(ValueError, match="weights must be 2 probabilities"):
        exact.affine_moments(np.ones((2, 2, 2)), np.ones((2, 2)), [0.5, 0.6], u0=[0, 0], iters=1)


def test_a_method_without_a_moment_map_is_refused():
    with pytest.raises(TypeError, match="declares no moment map"):
        exact.moments(object(), _quad(3, 0), np.ones(3), 4)
