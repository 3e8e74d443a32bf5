"""Tables of the report rendered as Markdown, LaTeX (booktabs) and HTML.

A :class:`Table` is a title, column names and rows of cells; :func:`format_cell` turns
numbers into short text (three significant digits, ``—`` for missing values) once, so the
three renderings show the same text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Table",
    "format_cell",
    "latex_escape",
    "table_from_rows",
    "to_html",
    "to_latex",
    "to_markdown",
]

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "—": "---",
    "–": "--",
    "−": "$-$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≈": r"$\approx$",
    "∞": r"$\infty$",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "∈": r"$\in$",
    "‖": r"$\|$",
    "√": r"$\surd$",
    "²": r"$^2$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "γ": r"$\gamma$",
    "δ": r"$\delta$",
    "ε": r"$\varepsilon$",
    "η": r"$\eta$",
    "κ": r"$\kappa$",
    "λ": r"$\lambda$",
    "μ": r"$\mu$",
    "ρ": r"$\rho$",
    "σ": r"$\sigma$",
    "τ": r"$\tau$",
    "Δ": r"$\Delta$",
}


@dataclass
class Table:
    """A titled table of text cells.

    Attributes
    ----------
    title : str
        Caption.
    columns : list of str
        Column names.
    rows : list of list of str
        Cells, already formatted (see :func:`format_cell`).
    notes : str
        Text shown under the table.
    """

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: str = ""

    def __post_init__(self) -> None:
        for k, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {k} of table {self.title!r} has {len(row)} cells, "
                    f"expected {len(self.columns)}"
                )


def format_cell(value: Any) -> str:
    """Short text of a cell: floats with 3 significant digits, ``—`` for None/NaN."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_cell(v) for v in value)
    return str(value)


def table_from_rows(title: str, rows: Sequence[Mapping[str, Any]], notes: str = "") -> Table:
    """A :class:`Table` from row dicts; columns in order of first appearance."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    cells = [[format_cell(row.get(c)) for c in columns] for row in rows]
    return Table(title, columns, cells, notes)


def _md_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def to_markdown(table: Table, level: int = 2) -> str:
    """GitHub-flavoured Markdown: a heading, the pipe table and the notes."""
    lines = [f"{'#' * level} {table.title}", ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines += ["", table.notes]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and spell common math symbols (≤, μ, ‖...) as
    commands, so the tables compile with pdfLaTeX; other non-ASCII characters are kept (they
    need LuaLaTeX or XeLaTeX)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(table: Table) -> str:
    """A ``table`` environment with a booktabs ``tabular`` (``\\toprule``, ``\\midrule``,
    ``\\bottomrule``); needs ``\\usepackage{booktabs}``."""
    spec = "l" * len(table.columns)
    lines = [
        r"\begin{table}[ht]",
        r"\centering",
        rf"\caption{{{latex_escape(table.title)}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(c) for c in table.columns) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        lines.append(rf"\par\smallskip{{\footnotesize {latex_escape(table.notes)}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_html(table: Table, level: int = 2) -> str:
    """An HTML fragment: heading, ``<table>`` and notes (text escaped)."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in table.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    parts = [f"<h{level}>{e(table.title)}</h{level}>", "<table>"]
    parts += [f"<thead><tr>{head}</tr></thead>", f"<tbody>\n{body}\n</tbody>", "</table>"]
    if table.notes:
        parts.append(f'<p class="notes">{e(table.notes)}</p>')
    return "\n".join(parts) + "\n"
