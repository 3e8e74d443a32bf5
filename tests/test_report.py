"""``mastbench report`` on a fake family and a fake reproduction: files, formats, determinism."""

import base64
import importlib
import json
import re
import types
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from mastbench import provenance
from mastbench.report import (
    build_report,
    discover_reproductions,
    load_performance,
    theorem_table,
)
from mastbench.report_tables import (
    Table,
    format_cell,
    latex_escape,
    table_from_rows,
    to_latex,
    to_markdown,
)

COMMAND = "mastbench report --quick"
REPRO = ["tests.fake_reproduction"]
PERFORMANCE = {
    "title": "Performance",
    "rows": [{"benchmark": "dsgd_step", "backend": "numpy", "ratio": 0.91}],
    "stamp": {"command": "mastbench bench --compare", "commit": "abc"},
}


def build(output, fake_family, **kwargs):
    options = dict(
        quick=True,
        theorems=fake_family.THEOREMS,
        reproductions=REPRO,
        command=COMMAND,
        progress=False,
        asv_results=None,  # not the checkout's own .asv/results (a user's asv runs)
    )
    options.update(kwargs)
    return build_report(output, **options)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report on the fake family, shared by the tests that only read it."""
    fake = importlib.import_module("tests.fake_family")
    fake.register()
    output = tmp_path_factory.mktemp("shared") / "reports"
    output.mkdir()
    (output / "performance.json").write_text(json.dumps(PERFORMANCE))
    yield build(output, fake)
    fake.unregister()


def test_report_writes_every_artifact(report):
    out = report.output
    assert report.ok, report.failures
    expected = [
        "theorems.md",
        "theorems.tex",
        "report.md",
        "index.html",
        "stamp.json",
        "performance.md",
        "performance.tex",
        "reproductions/fake_reproduction.md",
        "reproductions/fake_reproduction.tex",
        "figures/theorem-fake.gd.png",
        "figures/theorem-fake.gd.svg",
        "figures/theorem-fake.mc.png",
        "figures/theorem-fake.mc.svg",
        "figures/repro-fake_reproduction-accuracy.png",
        "figures/repro-fake_reproduction-accuracy.svg",
        "tightness.md",
        "tightness.tex",
        "figures/tightness.png",
        "figures/tightness.svg",
    ]
    for name in expected:
        assert (out / name).is_file(), name
    assert set(expected) <= {str(p.relative_to(out)) for p in report.files}
    assert "report written to" in report.summary()


def test_theorem_table_counts_instances_applicability_and_controls(report):
    lines = (report.output / "theorems.md").read_text().splitlines()
    gd = next(line for line in lines if line.startswith("| fake.gd"))
    cells = [c.strip() for c in gd.strip("|").split("|")]
    assert cells[:6] == ["fake.gd", "GD contraction", "D", "deterministic", "3", "2/2 (1 n/a)"]
    assert float(cells[6]) <= 1 and cells[7] == "2/2"
    mc = next(line for line in lines if line.startswith("| fake.mc"))
    assert "montecarlo" in mc and "1/1" in mc


def test_violations_and_undetected_controls_are_failures(tmp_path, fake_family):
    report = build(tmp_path, fake_family, theorems=[fake_family.BAD], reproductions=[])
    assert not report.ok
    assert report.failures == ["fake.bad on any: violated"]
    summary = {
        "theorem": "t",
        "instance": "i",
        "status": "holds",
        "worst_ratio": 0.5,
        "tightness": 0.5,
        "reasons": [],
    }
    thm = types.SimpleNamespace(id="x.y", label="L", tag="C", method="exact")
    _, failures = theorem_table(
        [thm], {"x.y": [{**summary, "control": ""}, {**summary, "control": "bound x 0.5"}]}
    )
    assert failures == ["x.y control 'bound x 0.5' not detected"]


def test_latex_tables_use_booktabs_and_escape(report):
    tex = (report.output / "theorems.tex").read_text()
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabularx}{\linewidth}"):
        assert tex.count(rule) == 1, rule
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    assert latex_escape("a_b & 50% #1 {x}") == r"a\_b \& 50\% \#1 \{x\}"
    assert latex_escape("L_t ≤ τL — ‖x‖²") == (
        r"L\_t \ensuremath{\le} \ensuremath{\tau}L --- \ensuremath{\|}x\ensuremath{\|}"
        r"\ensuremath{^{2}}"
    )
    assert latex_escape("∇f(x)ᵀ ∂F ℓ₁ Ŵ L̄ a<b") == (
        r"\ensuremath{\nabla}f(x)\ensuremath{^{T}} \ensuremath{\partial}F "
        r"\ensuremath{\ell}\ensuremath{_{1}} \^{W} \={L} a\ensuremath{<}b"
    )
    repro = (report.output / "reproductions" / "fake_reproduction.tex").read_text()
    assert r"\toprule" in repro and "q & accuracy & model" in repro


def test_html_page_is_self_contained(report):
    page = (report.output / "index.html").read_text()
    assert page.startswith("<!--") and "<style>" in page
    assert not re.search(r"<link|<script|https?://|src=\"(?!data:)", page)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4
    assert all(base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n") for data in images)
    assert "dsgd_step" in page and "Fake accuracy vs sparsity" in page


def test_every_artifact_is_stamped(report):
    stamp = provenance.stamp(COMMAND, date=False)
    for path in report.files:
        data = path.read_bytes()
        for value in stamp.values():
            assert value.encode() in data, (path.name, value)
    info = json.loads((report.output / "stamp.json").read_text())
    assert info["command"] == COMMAND and "date" in info


def _masked(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix in (".png", ".svg"):
        return data
    return b"\n".join(
        line for line in data.split(b"\n") if b"generated by" not in line and b'"date"' not in line
    )


def test_rerun_reproduces_the_report_byte_for_byte_apart_from_stamps(report, tmp_path, fake_family):
    (tmp_path / "performance.json").write_text(json.dumps(PERFORMANCE))
    again = build(tmp_path, fake_family)
    names = sorted(str(p.relative_to(report.output)) for p in report.files)
    assert names == sorted(str(p.relative_to(again.output)) for p in again.files)
    for name in names:
        assert _masked(report.output / name) == _masked(again.output / name), name


def test_rerun_in_place_uses_the_store(report, fake_family, monkeypatch):
    runs_dir = report.output / "results" / "runs"
    runs = {p.name: p.stat().st_mtime_ns for p in runs_dir.iterdir()}
    monkeypatch.setattr("mastbench.report.execute", _must_not_run)
    monkeypatch.setattr("tests.fake_reproduction.reproduce", _must_not_run)
    second = build(report.output, fake_family)
    assert second.ok and len(second.files) == len(report.files)
    assert {p.name: p.stat().st_mtime_ns for p in runs_dir.iterdir()} == runs


def _must_not_run(*args, **kwargs):
    raise AssertionError("finished work was redone")


def test_failed_reproduction_is_reported_and_the_rest_written(tmp_path, fake_family, monkeypatch):
    monkeypatch.setattr("tests.fake_reproduction.reproduce", lambda quick, seed: {"title": 3})
    report = build(tmp_path, fake_family)
    assert report.failures == [
        "reproduction fake_reproduction: ValueError: "
        "tests.fake_reproduction.reproduce result needs a 'title' string"
    ]
    assert "Failed: ValueError" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "theorems.md").is_file()


def test_performance_table_formats(tmp_path):
    assert load_performance(tmp_path / "absent.json") is None
    (tmp_path / "p.csv").write_text("benchmark,seconds\nstep,0.5\n")
    table = load_performance(tmp_path / "p.csv")
    assert table.columns == ["benchmark", "seconds"] and table.rows == [["step", "0.5"]]
    (tmp_path / "p.json").write_text(json.dumps(PERFORMANCE["rows"]))
    assert load_performance(tmp_path / "p.json").rows == [["dsgd_step", "numpy", "0.91"]]
    (tmp_path / "bad.json").write_text(json.dumps({"rows": 3}))
    with pytest.raises(ValueError, match="list of row objects"):
        load_performance(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{rows")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        load_performance(tmp_path / "broken.json")


def test_build_report_rejects_a_file_output_and_a_missing_performance_table(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="output must be a directory"):
        build_report(tmp_path / "file", theorems=[], reproductions=[])
    with pytest.raises(FileNotFoundError, match="performance"):
        build_report(
            tmp_path / "out", theorems=[], reproductions=[], performance=tmp_path / "none.json"
        )
    with pytest.raises(TypeError, match="theorems: expected Theorem objects or theorem ids"):
        build_report(tmp_path / "out", theorems=[3], reproductions=[])
    with pytest.raises(KeyError, match=r"unknown theorem id 'mast\.nope'"):
        build_report(tmp_path / "out", theorems=["mast.nope"], reproductions=[])
    assert not (tmp_path / "out").exists()


def test_report_without_performance_file_skips_it(tmp_path, fake_family):
    report = build(tmp_path, fake_family, theorems=[], reproductions=[])
    assert not (tmp_path / "performance.md").exists()
    assert "Performance" not in (tmp_path / "index.html").read_text()
    assert report.ok


def test_reproductions_are_discovered_in_the_package():
    import mastbench.reproductions as package

    names = discover_reproductions()
    assert all(n.startswith("mastbench.reproductions.") for n in names)
    assert all(not n.rsplit(".", 1)[1].startswith("_") for n in names)
    assert (
        package.__doc__ == "Reproductions of the seed papers' experiments, one module per family."
    )


def test_tables_render_cells_consistently():
    assert format_cell(float("nan")) == "—" and format_cell(None) == "—"
    assert format_cell(0.123456) == "0.123" and format_cell(True) == "yes"
    assert format_cell(float("inf")) == "∞"
    table = table_from_rows("T", [{"a": 1, "b": "x|y"}, {"b": 2.0, "c": None}])
    assert table.columns == ["a", "b", "c"]
    assert r"x\|y" in to_markdown(table)
    assert "--- & 2 & ---" in to_latex(table)
    assert r"\begin{tabular}{lll}" in to_latex(table)
    with pytest.raises(ValueError, match="has 1 cells, expected 2"):
        Table("T", ["a", "b"], [["1"]])


def test_report_with_no_theorems_says_so(tmp_path):
    report = build_report(
        tmp_path, theorems=[], reproductions=[], command=COMMAND, progress=False, asv_results=None
    )
    assert report.ok
    assert "No theorems are registered." in (tmp_path / "theorems.md").read_text()
    assert not (tmp_path / "figures").exists()


def test_page_opens_with_summary_and_contents_then_sections(report):
    md = (report.output / "report.md").read_text()
    order = ["## Summary", "## Contents", "## Theorems", "## Tightness", "## Theorem figures"]
    order += ["## Reproductions", "## Performance"]
    assert [md.index(h) for h in order] == sorted(md.index(h) for h in order)
    assert "| Held | 3 |" in md and "| Not applicable | 1 |" in md
    assert "| Negative controls detected | 3/3 |" in md
    assert "1. [Theorems](#theorems)" in md and "![Tightness" in md
    page = (report.output / "index.html").read_text()
    assert page.index('<table class="summary">') < page.index("<nav>") < page.index('id="theorems"')
    assert '<a href="#tightness">Tightness</a>' in page
    assert "Verification power" not in page


def test_tightness_names_instance_and_point_excluding_t_zero(report):
    lines = (report.output / "tightness.md").read_text().splitlines()
    gd = next(line for line in lines if line.startswith("| fake.gd"))
    cells = [c.strip() for c in gd.strip("|").split("|")]
    # measured = bound at t = 0 by construction: the nontrivial ratio is below 1, at t > 0.
    assert cells[3] != "1" and float(cells[3]) < 1 and cells[4] == "1"
    assert cells[2].startswith("iteration t = ") and int(cells[2].rsplit(" ", 1)[1]) > 0
    assert cells[5].startswith("1: ")


def test_power_catalogue_is_shown_when_present(tmp_path, fake_family):
    power = {"title": "Verification power", "rows": [{"fault": "step off by one", "detected": 3}]}
    (tmp_path / "power.json").write_text(json.dumps(power))
    build(tmp_path, fake_family, theorems=[fake_family.GD], reproductions=[])
    assert "step off by one" in (tmp_path / "power.md").read_text()
    page = (tmp_path / "index.html").read_text()
    assert '<a href="#verification-power">Verification power</a>' in page


def test_progress_lines_go_to_stderr_with_a_final_count(tmp_path, fake_family, capsys):
    build(tmp_path, fake_family, theorems=[fake_family.GD], reproductions=[], progress=None)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("report: verifying 1 theorems")
    assert "report: [1/1] fake.gd: 2/2 held (1 n/a)" in err
    assert err[-1].startswith("report: 1 theorems, 2 checks held, 0 violated, 0 falsified, 1 not")
    assert "MB" in err[-1]
