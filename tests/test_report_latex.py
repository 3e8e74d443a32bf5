"""The report's LaTeX: every character of the theorem catalogue has a spelling, and the tables
compile with pdfLaTeX and fit the text block (when pdflatex is installed)."""

import shutil

import pytest

from mastbench import theory
from mastbench.report import theorem_table
from mastbench.report_latex import check_latex, main
from mastbench.report_tables import UNMAPPED, Table, latex_escape, to_latex

needs_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex is not installed"
)


def test_every_theorem_field_has_a_latex_spelling():
    for thm in theory.all():
        for text in (thm.id, thm.label, thm.statement, thm.measure, thm.x_axis, *thm.quantities):
            escaped = latex_escape(text)
            assert UNMAPPED not in escaped, (thm.id, text)
            assert escaped.isascii(), (thm.id, text)


def _wide_table() -> Table:
    """The report's theorem table over the whole catalogue (every check held)."""
    summary = {"status": "holds", "worst_ratio": 0.999, "tightness": 1.0, "reasons": []}
    summaries = {
        thm.id: [{**summary, "control": ""}] * 3
        + [{**summary, "control": "c", "status": "violated"}]
        for thm in theory.all()
    }
    table, _ = theorem_table(theory.all(), summaries)
    table.title = "Theorems ∇ ∂ ℓ ‖x‖² < 1"
    return table


@needs_pdflatex
def test_tables_compile_and_fit_the_text_block(tmp_path):
    (tmp_path / "theorems.tex").write_text(to_latex(_wide_table()))
    (tmp_path / "sub").mkdir()
    small = Table("Small", ["a", "b"], [["x_1 ≤ 2", "∇f(x)ᵀd < 0"]])
    (tmp_path / "sub" / "small.tex").write_text(to_latex(small))
    check = check_latex(tmp_path)
    assert check.ok, (check.problems, check.log)
    assert [p.name for p in check.tables] == ["small.tex", "theorems.tex"]
    assert main([str(tmp_path)]) == 0


@needs_pdflatex
def test_an_unescaped_symbol_and_a_too_wide_table_fail(tmp_path):
    (tmp_path / "raw.tex").write_text(
        "\\begin{tabular}{l}\\toprule ∇f \\\\ \\bottomrule\\end{tabular}\n"
    )
    check = check_latex(tmp_path)
    assert not check.ok and "pdflatex exited" in check.problems[0]
    (tmp_path / "raw.tex").write_text(
        "\\begin{tabular}{" + "l" * 12 + "}\\toprule " + " & ".join(["wide column"] * 12) + " \\\\ "
        "\\bottomrule\\end{tabular}\n"
    )
    check = check_latex(tmp_path)
    assert check.problems and "wider than the text block" in check.problems[0]
    assert main([str(tmp_path)]) == 1


def test_check_latex_needs_tables_and_pdflatex(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no \.tex table"):
        check_latex(tmp_path)
    (tmp_path / "t.tex").write_text("x")
    with pytest.raises(FileNotFoundError, match="not on the PATH"):
        check_latex(tmp_path, pdflatex="no-such-pdflatex")
    assert main([]) == 2
