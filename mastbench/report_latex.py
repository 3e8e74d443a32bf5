"""Compile the report's LaTeX tables with pdfLaTeX: the check that they are usable in a paper.

:func:`check_latex` copies every ``.tex`` table under a report directory into a temporary
folder, writes a wrapper document (A4 ``article``; ``booktabs``, ``tabularx`` and ``graphicx``)
that inputs each of them, runs ``pdflatex`` once and reads its log.  The check fails on a
LaTeX error, on a table wider than the text block (an ``Overfull \\hbox`` of more than
:data:`OVERFULL_PT`), and on a character :func:`mastbench.report_tables.latex_escape` could
not spell.

Command line (used by CI)::

    python -m mastbench.report_latex REPORT_DIR

exits 0 when every table compiles, 1 when one does not, 2 when ``pdflatex`` is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mastbench.report_tables import UNMAPPED

__all__ = ["OVERFULL_PT", "LatexCheck", "check_latex", "latex_document", "main"]

#: Largest overfull box (pt) tolerated: beyond it, a table sticks out of the text block.
OVERFULL_PT = 1.0

_PREAMBLE = r"""\documentclass[a4paper]{article}
\usepackage[T1]{fontenc}
\usepackage{booktabs,tabularx,graphicx}
\begin{document}
"""


@dataclass
class LatexCheck:
    """The outcome of :func:`check_latex`.

    Attributes
    ----------
    tables : list of Path
        The tables compiled, in order.
    problems : list of str
        LaTeX errors, overfull boxes and unmapped characters (empty: every table is fine).
    log : str
        The end of pdfLaTeX's log.
    """

    tables: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def ok(self) -> bool:
        """True when every table compiled and fits."""
        return not self.problems


def latex_document(names: Sequence[str]) -> str:
    """A wrapper document that inputs each file in ``names`` (one float page each)."""
    body = "".join(f"\\input{{{name}}}\n\\clearpage\n" for name in names)
    return _PREAMBLE + body + "\\end{document}\n"


def check_latex(directory: str | Path, *, pdflatex: str = "pdflatex") -> LatexCheck:
    """Compile every ``.tex`` file under ``directory`` (see the module docstring).

    Raises
    ------
    FileNotFoundError
        If ``directory`` is not a directory, holds no ``.tex`` file, or ``pdflatex`` is not
        on the path.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"directory: no report directory at {directory}")
    tables = sorted(directory.rglob("*.tex"))
    if not tables:
        raise FileNotFoundError(f"directory: no .tex table under {directory}")
    executable = shutil.which(pdflatex)
    if executable is None:
        raise FileNotFoundError(f"pdflatex: {pdflatex!r} is not on the PATH")
    check = LatexCheck(tables=tables)
    for path in tables:
        if UNMAPPED in path.read_text(encoding="utf-8"):
            check.problems.append(f"{path}: a character has no LaTeX spelling ({UNMAPPED})")
    with tempfile.TemporaryDirectory(prefix="mastbench-latex-") as tmp:
        work = Path(tmp)
        names = []
        for k, path in enumerate(tables):
            names.append(f"table{k}")
            shutil.copyfile(path, work / f"table{k}.tex")
        (work / "tables.tex").write_text(latex_document(names), encoding="utf-8")
        done = subprocess.run(
            [executable, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
            cwd=work,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
        log_path = work / "tables.log"
        log = log_path.read_text(errors="replace") if log_path.is_file() else done.stdout
    check.log = log[-4000:]
    if done.returncode != 0:
        errors = [line for line in log.splitlines() if line.startswith("!")]
        check.problems.append(
            f"pdflatex exited with {done.returncode}: " + ("; ".join(errors[:3]) or "see the log")
        )
    check.problems += _overfull(log, tables)
    return check


def _overfull(log: str, tables: Sequence[Path]) -> list[str]:
    """Overfull boxes wider than :data:`OVERFULL_PT`, named by the table they occur in."""
    problems = []
    current = "the wrapper"
    for line in log.splitlines():
        opened = re.findall(r"\(\./table(\d+)\.tex", line)
        if opened:
            current = str(tables[int(opened[-1])])
        match = re.match(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", line)
        if match and float(match.group(1)) > OVERFULL_PT:
            problems.append(f"{current}: {match.group(1)} pt wider than the text block")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mastbench.report_latex REPORT_DIR``: compile and print the outcome."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m mastbench.report_latex REPORT_DIR", file=sys.stderr)
        return 2
    try:
        check = check_latex(args[0])
    except FileNotFoundError as exc:
        print(f"report_latex: error: {exc}", file=sys.stderr)
        return 2
    for problem in check.problems:
        print(f"FAIL {problem}")
    if not check.ok:
        print(check.log, file=sys.stderr)
    print(f"{len(check.tables)} tables compiled with pdfLaTeX: {len(check.problems)} problems")
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
