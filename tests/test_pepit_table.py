"""PEPit beside the bound: measured ≤ PEPit's worst case ≤ the paper's bound, row by row, and
the report section and command that show it."""

import dataclasses
import shutil

import pytest

from mastbench import pepit_table, pepit_worst_case, theory
from mastbench.cli import main
from mastbench.report import build_report
from mastbench.report_latex import check_latex

needs_pepit = pytest.mark.skipif(not pepit_worst_case.available(), reason="needs the pepit extra")

#: Steps of the rows under test (the report uses DEFAULT_ITERATIONS = (1, 10)).
ITERATIONS = (1, 5)


@pytest.fixture(scope="module")
def rows():
    if not pepit_worst_case.available():
        pytest.skip("needs the pepit extra")
    return pepit_table.pepit_rows(quick=True, iterations=ITERATIONS)


def _of(rows, theorem_id):
    out = [row for row in rows if row.theorem == theorem_id]
    assert out, f"no row of {theorem_id}"
    return out


def test_no_measured_value_exceeds_the_worst_case(rows):
    """The hard check, on every modelled theorem: every instance lies in the PEP's class."""
    assert {row.theorem for row in rows} == set(pepit_table.MODELLED)
    failed = [(row.theorem, row.instance, row.N) for row in rows if not row.holds]
    assert not failed
    for row in rows:
        assert row.measured <= row.worst.value + row.worst.tolerance + row.atol


def test_frank_wolfe_worst_case_lies_between_the_measured_value_and_jaggis_bound(rows):
    """Open-loop FW: measured ≤ PEPit ≤ 2LD²/(N+2) (primal) and ≤ (27/4)LD²/(N+2) (dual), with
    L and D read here from the instance; line-search and δ-oracle instances are left out."""
    for theorem_id, factor in (("fw.jaggi-primal", 2.0), ("fw.jaggi-dual", 6.75)):
        thm = theory.get(theorem_id)
        instances = {inst.name: inst for inst in thm.instances(True)}
        for row in _of(rows, theorem_id):
            inst = instances[row.instance]
            assert thm.default_params(inst)["rule"] == "open-loop"
            L = inst.problem.L
            D = inst.constraint.diameter_in(inst.problem.d)
            assert row.measured <= row.worst.value + row.worst.tolerance
            assert row.worst.value - row.worst.tolerance <= factor * L * D**2 / (row.N + 2)
            assert row.measured <= row.bound


def test_proximal_gradient_worst_case_lies_between_the_measured_value_and_eq_11(rows):
    for row in _of(rows, "ramda.pg-solver"):
        assert row.measured <= row.worst.value + row.worst.tolerance
        assert row.worst.value - row.worst.tolerance <= row.bound


def test_gradient_descent_rows_lie_below_the_mast_bounds(rows):
    for theorem_id in ("mast.sc", "mast.convex"):
        for row in _of(rows, theorem_id):
            assert row.measured <= row.worst.value + row.worst.tolerance
            assert row.worst.value - row.worst.tolerance <= row.bound


def test_one_step_of_gd_on_the_1d_instance_attains_the_worst_case(rows):
    """At N = 1 the convex theorem measures f(x⁰) − f*, at most LR²/2 over the class, attained
    by the 1-D quadratic of curvature L: measured = worst case to the solver's accuracy."""
    (row,) = [row for row in _of(rows, "mast.convex") if row.N == 1]
    assert abs(row.measured - row.worst.value) <= row.worst.tolerance


def test_the_check_trips_when_the_class_constant_is_understated(rows):
    """The segment instance reaches 0.90 of FW's worst case at N = 1: a worst case computed
    for 0.9·L (a wrong smoothness constant) is exceeded, so the check is that sharp."""
    (row,) = [
        r for r in _of(rows, "fw.jaggi-primal") if r.instance.startswith("segment") and r.N == 1
    ]
    assert row.tightness > 0.9
    L = float(row.constants.split(",")[0].removeprefix("L="))
    wrong = pepit_worst_case.frank_wolfe_primal(0.9 * L, 2.0, 1)
    assert not dataclasses.replace(row, worst=wrong).holds


@needs_pepit
def test_a_halved_step_exceeds_the_worst_case_though_not_the_coded_bound():
    """A planted bug, the step of DSGD (S = I) halved: on the 1-D GD instance its averaged
    suboptimality at T = 10 stays under mast.convex's bound but exceeds PEPit's worst case
    for the declared step, which no correct run can."""
    thm = theory.get("mast.convex")
    (inst,) = [i for i in thm.instances(True) if i.name.startswith("1-D GD")]
    params = thm.default_params(inst)
    evidence = thm.evidence(inst, {**params, "step": params["step"] / 2})
    measured, bound = evidence.measured[evidence.t == 10][0], evidence.bound[evidence.t == 10][0]
    L, R = inst.problem.L, abs(inst.x0[0] - inst.problem.x_star_host[0])
    worst = pepit_worst_case.gradient_descent(
        L, 0.0, R, 10, step=params["step"], metric="average value"
    )
    assert measured <= bound
    assert measured > worst.value + worst.tolerance


def test_the_table_has_a_row_per_result_and_renders(rows):
    table = pepit_table.pepit_table(rows)
    assert table.columns == list(pepit_table.COLUMNS)
    assert len(table.rows) == len(rows)
    assert "CLARABEL" in table.notes
    assert f"Every row holds ({len(rows)} rows)." in table.notes
    broken = dataclasses.replace(rows[0], measured=2 * rows[0].worst.value)
    assert "Rows above the worst case: " in pepit_table.pepit_table([broken]).notes


def test_without_the_extra_rows_refuse_with_the_install_command(monkeypatch):
    monkeypatch.setattr(pepit_worst_case, "available", lambda: False)
    with pytest.raises(ImportError, match=r"pip install 'mastbench\[pepit\]'"):
        pepit_table.pepit_rows(["mast.convex"])


def _report(tmp_path):
    return build_report(
        tmp_path,
        quick=True,
        theorems=["mast.convex"],
        reproductions=[],
        progress=False,
        asv_results=None,
    )


def test_without_the_extra_the_report_says_the_section_was_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(pepit_worst_case, "available", lambda: False)
    report = _report(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "PEPit worst case" in text and "Skipped: PEPit is not installed" in text
    assert not (tmp_path / "pepit.md").exists()
    assert report.ok, report.failures


@needs_pepit
def test_the_report_shows_the_table_and_fails_on_a_row_above_the_worst_case(tmp_path, monkeypatch):
    report = _report(tmp_path / "ok")
    assert report.ok, report.failures
    for name in ("pepit.md", "pepit.tex"):
        assert "convex" in (tmp_path / "ok" / name).read_text()
    assert "PEPit worst case" in (tmp_path / "ok" / "index.html").read_text()
    if shutil.which("pdflatex"):
        check = check_latex(tmp_path / "ok")
        assert check.ok, check.problems

    real = pepit_table.pepit_rows

    def above(*args, **kwargs):
        rows = real(*args, **kwargs)
        return [dataclasses.replace(rows[0], measured=2 * rows[0].worst.value), *rows[1:]]

    monkeypatch.setattr(pepit_table, "pepit_rows", above)
    report = _report(tmp_path / "bad")
    assert [f for f in report.failures if "exceeds PEPit's worst case" in f]


@needs_pepit
def test_cli_prints_the_table(capsys):
    assert main(["pepit", "--theorem", "mast.convex", "--iterations", "1", "3"]) == 0
    out = capsys.readouterr().out
    assert "PEPit worst case" in out and out.count("| mast.convex |") == 2


def test_cli_refuses_a_theorem_pepit_does_not_model(capsys):
    if not pepit_worst_case.available():
        pytest.skip("needs the pepit extra")
    assert main(["pepit", "--theorem", "fw.sfw"]) == 2
    assert "PEPit models none of ['fw.sfw']" in capsys.readouterr().err


@needs_pepit
@pytest.mark.parametrize(
    ("iterations", "error", "match"),
    [([0], ValueError, "iterations must be >= 1"), ([1.5], TypeError, "iterations must be an")],
)
def test_bad_iterations_are_refused_by_name(iterations, error, match):
    with pytest.raises(error, match=match):
        pepit_table.pepit_rows(["mast.convex"], iterations=iterations)


@needs_pepit
def test_a_step_beyond_the_theorems_horizon_is_refused():
    with pytest.raises(ValueError, match="points at t = 61"):
        pepit_table.pepit_rows(["mast.convex"], iterations=[61])
