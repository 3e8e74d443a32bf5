"""``mastbench run``: every algorithm of the table on a problem of its own choosing, the step of
a theorem, the MAST paper's a5a setting, one-line errors (exit 2) and divergence (exit 4)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from mastbench.algorithms import all_algorithms
from mastbench.cli import main
from mastbench.problem_factory import make_problem
from mastbench.results import ResultStore

PHASES = ["--set", "dense_steps=6", "--set", "final_steps=6"]

#: A compatible problem other than the family's default, and the options of a small run.
RUNS = {
    "dsgd": ["--problem", "quadratic:d=12,kappa=50,seed=3", "--sketch", "randk:k=3"],
    "dsgd_importance": [
        "--problem",
        "least_squares:n=40,d=6",
        "--sketch",
        "randk:k=2",
        "--step",
        "0.01",
    ],
    "l_svrdsg": ["--problem", "quadratic:d=6,kappa=5", "--sketch", "bernoulli:p=0.5"],
    "distributed_dsgd": ["--problem", "quadratic:d=12,kappa=20", "--sketch", "permutation:n=3"],
    "ramda": [
        "--problem",
        "least_squares:n=50,d=8",
        "--regularizer",
        "group_lasso:lam=0.01,size=2",
    ],
    "rmda": ["--problem", "logistic:n=60,d=10", "--regularizer", "l1:lam=0.01"],
    "prox_gen": [
        "--problem",
        "group_least_squares:p=6,K=2,block=2,k=1",
        "--regularizer",
        "group_lasso:lam=0.01",
        "--step",
        "theory",
    ],
    "prox_ssi": ["--problem", "quadratic:d=8,kappa=4", "--step", "0.01"],
    "prox_sgd": ["--problem", "logistic:n=80,d=12,flip=0.2", "--set", "batch_size=16"],
    "madgrad": ["--problem", "least_squares:diabetes", "--step", "0.05"],
    "mda": ["--problem", "least_squares:n=30,d=5", "--step", "0.05"],
    "frank_wolfe": [
        "--problem",
        "quadratic:d=10,kappa=10",
        "--constraint",
        "l2:radius=2",
        "--step",
        "short",
    ],
    "away_frank_wolfe": ["--problem", "least_squares:n=40,d=8", "--constraint", "simplex"],
    "pairwise_frank_wolfe": ["--problem", "logistic:n=50,d=6", "--constraint", "l1:radius=2"],
    "stochastic_frank_wolfe": [
        "--problem",
        "least_squares:n=40,d=8",
        "--constraint",
        "group_l1:radius=1,size=2",
        "--set",
        "batch_size=4",
    ],
    "sequential_attention_pp": [
        "--problem",
        "group_multinomial:n=80,p=6,K=3",
        *PHASES,
        "--set",
        "sparsify_steps=4",
        "--set",
        "sparse_steps=4",
        "--set",
        "cycles=1",
    ],
    "acdc": ["--problem", "group_least_squares:p=10,k=3", *PHASES, "--set", "sparse_steps=4"],
    "block_magnitude_pruning": ["--problem", "group_least_squares:p=6,K=2", *PHASES],
    "block_powerprop": ["--problem", "group_least_squares:p=6,K=2,seed=4", *PHASES],
    "iht": ["--problem", "group_least_squares:p=10,k=3", "--set", "k=3"],
    "group_omp": ["--problem", "group_multinomial:n=60,p=5,K=2", "--iters", "3"],
    "ompr": ["--problem", "group_least_squares:p=10,block=1", "--set", "k=2"],
    "sequential_attention": ["--problem", "group_least_squares:p=6,n=50", "--iters", "10"],
}
ITERATIVE = {"group_omp", "sequential_attention"} | {
    name for name, argv in RUNS.items() if "dense_steps=6" in argv
}
RESULT = re.compile(r"^(\w+) \[[^\]]*\] t=(\d+) \(mean of (\d+)\): (.+)$")


def _run(capsys, argv: list[str]) -> tuple[int, list[str], str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_every_algorithm_of_the_table_has_a_run_here():
    assert sorted(RUNS) == sorted(spec.name for spec in all_algorithms())


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_algorithm_runs_on_a_problem_of_its_choosing(tmp_path, capsys, name):
    iters = [] if name in ITERATIVE else ["--iters", "15"]
    argv = ["run", name, *RUNS[name], *iters, "--replicates", "2", "--results", str(tmp_path)]
    code, out, err = _run(capsys, argv)
    assert code == 0, err
    (line,) = [line for line in out if RESULT.match(line)]
    algorithm, t, _, metrics = RESULT.match(line).groups()
    assert algorithm == name and int(t) > 0
    values = dict(item.split("=") for item in metrics.split(", "))
    assert values and all(math.isfinite(float(v)) for v in values.values()), line
    problem = RUNS[name][RUNS[name].index("--problem") + 1]
    assert {row["problem"] for row in ResultStore(tmp_path).rows()} == {problem}


def test_step_theory_is_the_theorems_step_and_says_which(tmp_path, capsys):
    spec = "quadratic:d=20,kappa=100"
    argv = ["run", "dsgd", "--problem", spec, "--sketch", "randk:k=5", "--step", "theory"]
    code, out, _ = _run(capsys, [*argv, "--iters", "5", "--results", str(tmp_path)])
    assert code == 0
    (header,) = [line for line in out if "largest step" in line]
    assert "mast.sc (T-SC" in header and "RandK(d=20, k=5)" in header
    # T-SC's largest step 1/(L·L_S_max), with L_S_max = (d/k)² for Rand-K
    step = json.loads(ResultStore(tmp_path).rows()[0]["params"])["step"]
    assert step == pytest.approx(1.0 / (make_problem(spec).L * (20 / 5) ** 2), rel=1e-12)
    assert f"step {step:.6g}" in header


def test_dsgd_on_a5a_with_rand_k_at_several_q(libsvm_dir, tmp_path, capsys, monkeypatch):
    """The MAST paper's setting: logistic regression on a5a (d = 123), Rand-K with q = k/d."""
    if not any((libsvm_dir / name).is_file() for name in ("a5a", "a5a.gz")):
        pytest.skip("a5a is not in MASTBENCH_DATA")
    monkeypatch.setenv("MASTBENCH_DATA", str(libsvm_dir))
    steps, final = {}, {}
    for q, k in ((0.05, 6), (0.2, 25), (1.0, 123)):
        store = tmp_path / str(q)
        argv = ["run", "dsgd", "--problem", "logistic:a5a", "--sketch", f"randk:q={q}"]
        code, out, err = _run(capsys, [*argv, "--iters", "40", "--results", str(store)])
        assert code == 0, err
        (header,) = [line for line in out if "largest step" in line]
        assert f"RandK(d=123, k={k})" in header and "mast.sc-logistic" in header
        rows = ResultStore(store).rows()
        steps[k] = json.loads(rows[0]["params"])["step"]
        subopt = {row["iteration"]: row["subopt"] for row in rows}
        assert subopt[40] < subopt[0], f"q={q}: no progress in 40 steps"
        final[k] = subopt[40]
    # the theorem's step scales as 1/L_S_max = (k/d)²
    for k in (6, 25):
        assert steps[k] / steps[123] == pytest.approx((k / 123) ** 2, rel=1e-9)
    # a larger q takes larger steps and gets further in the same number of iterations
    assert final[123] < final[25] < final[6]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["dsgd", "--sketch", "randk:k=50"], "--sketch 'randk:k=50'"),
        (["dsgd", "--sketch", "randk:k=2,q=0.1"], "exactly one of k"),
        (["dsgd", "--sketch", "rand_k:k=2"], "--sketch 'rand_k:k=2': unknown name"),
        (["dsgd", "--sketch", "randk:k=2,z=1"], "unknown options: z"),
        (["dsgd", "--sketch", "randk:5"], "--sketch option '5'"),
        (["dsgd", "--step", "-1"], "--step must be 'theory' or a positive number"),
        (["dsgd", "--step", "fast"], "--step must be"),
        (["dsgd_importance", "--step", "theory"], "--step theory: no theorem of dsgd_importance"),
        (["dsgd", "--set", "nope=1"], "--set nope: dsgd has no setting 'nope'; its settings:"),
        (["dsgd", "--set", "step=0.1"], "--set step: dsgd takes it from --step"),
        (["dsgd", "--set", "option"], "--set 'option' must look like key=value"),
        (["dsgd", "--problem", "group_least_squares"], "dsgd cannot run on --problem group_"),
        (["acdc", "--problem", "quadratic:d=4"], "acdc cannot run on --problem quadratic:d=4"),
        (
            ["stochastic_frank_wolfe", "--problem", "quadratic:d=4"],
            "stochastic_frank_wolfe cannot run on --problem quadratic:d=4",
        ),
        (["ramda", "--regularizer", "l2:lam=1"], "--regularizer 'l2:lam=1': unknown name"),
        (["ramda", "--regularizer", "group_lasso:size=3"], "size must be a positive integer"),
        (["madgrad", "--regularizer", "l1"], "--regularizer: madgrad minimizes a smooth f"),
        (["frank_wolfe", "--constraint", "ball"], "--constraint 'ball': unknown name"),
        (["frank_wolfe", "--constraint", "l1:radius=-1"], "--constraint 'l1:radius=-1'"),
        (["frank_wolfe", "--step", "0.1"], "--step 0.1: frank_wolfe takes a step rule"),
        (
            ["pairwise_frank_wolfe", "--constraint", "l2"],
            "--constraint l2: pairwise_frank_wolfe needs a polytope",
        ),
        (["acdc", "--iters", "5"], "--iters: acdc runs in phases; set their lengths: dense_steps"),
        (["l_svrdsg", "--sketch", "randk:q=0.5"], "--sketch randk:q=0.5: not a small finite"),
        (["dsgd", "--problem", "logistic:no_such_set"], "unknown data set 'no_such_set'"),
    ],
)
def test_a_bad_run_is_one_line_naming_the_option(capsys, argv, match):
    code, _, err = _run(capsys, ["run", *argv])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mastbench: error:"), err
    assert match in lines[0], lines[0]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_diverging_run_exits_4_with_the_first_non_finite_iteration(tmp_path, capsys):
    spec, step, iters = "quadratic:d=4,kappa=100", 1.0, 300
    base = ["run", "dsgd", "--problem", spec, "--sketch", "identity", "--iters", str(iters)]
    base += ["--results", str(tmp_path)]
    code, out, _ = _run(capsys, [*base, "--step", str(step)])
    assert code == 4
    (line,) = [line for line in out if "DIVERGED" in line]
    low, high = re.search(r"first non-finite iterate at a t in (\d+)\.\.(\d+)", line).groups()
    # with S = I, DSGD is gradient descent x ← x − γ(Ax − b): its first non-finite iterate
    A, b, _ = make_problem(spec).quadratic_form()
    x, first = np.zeros(4), None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, iters + 1):
            x = x - step * (A @ x - b)
            if not np.all(np.isfinite(x)):
                first = t
                break
    assert first is not None and int(low) <= first <= int(high)
    code, out, _ = _run(capsys, [*base, "--step", "0.001"])
    assert code == 0 and not any("DIVERGED" in line for line in out)
