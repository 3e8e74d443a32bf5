"""Tables of the report rendered as Markdown, LaTeX (booktabs) and HTML.

A :class:`Table` is a title, column names and rows of cells; :func:`format_cell` turns
numbers into short text (three significant digits, ``—`` for missing values) once, so the
three renderings show the same text.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "UNMAPPED",
    "Table",
    "format_cell",
    "latex_escape",
    "table_from_rows",
    "to_html",
    "to_latex",
    "to_markdown",
]

#: Characters LaTeX treats specially, as text-mode commands.
_LATEX_TEXT = {
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
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "’": "'",
    "‘": "`",
    "\u00a0": "~",
    "§": r"\S{}",
}

#: Characters drawn in math mode (``\ensuremath``): symbols, Greek letters, and the ASCII
#: characters the OT1 text font draws as something else (``<`` would print as ¡).
_LATEX_MATH = {
    "<": "<",
    ">": ">",
    "|": "|",
    "−": "-",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\neq",
    "≈": r"\approx",
    "≪": r"\ll",
    "≫": r"\gg",
    "∝": r"\propto",
    "∼": r"\sim",
    "±": r"\pm",
    "∞": r"\infty",
    "×": r"\times",
    "·": r"\cdot",
    "⋅": r"\cdot",
    "∘": r"\circ",
    "⊙": r"\odot",
    "∈": r"\in",
    "∉": r"\notin",
    "⊆": r"\subseteq",
    "⊂": r"\subset",
    "∩": r"\cap",
    "∪": r"\cup",
    "∅": r"\emptyset",
    "∀": r"\forall",
    "∃": r"\exists",
    "→": r"\to",
    "←": r"\leftarrow",
    "⇒": r"\Rightarrow",
    "↦": r"\mapsto",
    "⟨": r"\langle",
    "⟩": r"\rangle",
    "‖": r"\|",
    "√": r"\surd",
    "∛": r"\sqrt[3]{}",
    "∑": r"\sum",
    "Σ": r"\Sigma",
    "∏": r"\prod",
    "∫": r"\int",
    "∇": r"\nabla",
    "∂": r"\partial",
    "ℓ": r"\ell",
    "𝓛": r"\mathcal{L}",
    "⪯": r"\preceq",
    "⪰": r"\succeq",
    "½": r"\frac{1}{2}",
    "=": "=",
    "⊤": r"\top",
    "′": r"\prime",
    "∗": "*",
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "ε": r"\varepsilon",
    "ϵ": r"\epsilon",
    "ζ": r"\zeta",
    "η": r"\eta",
    "θ": r"\theta",
    "ι": r"\iota",
    "κ": r"\kappa",
    "λ": r"\lambda",
    "μ": r"\mu",
    "ν": r"\nu",
    "ξ": r"\xi",
    "π": r"\pi",
    "ρ": r"\rho",
    "σ": r"\sigma",
    "τ": r"\tau",
    "υ": r"\upsilon",
    "φ": r"\phi",
    "ϕ": r"\phi",
    "χ": r"\chi",
    "ψ": r"\psi",
    "ω": r"\omega",
    "Γ": r"\Gamma",
    "Δ": r"\Delta",
    "Θ": r"\Theta",
    "Λ": r"\Lambda",
    "Ξ": r"\Xi",
    "Π": r"\Pi",
    "Φ": r"\Phi",
    "Ψ": r"\Psi",
    "Ω": r"\Omega",
}

#: Unicode superscripts and subscripts, as math-mode scripts.
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵏᵗ", "0123456789+-=()niTkt", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ᵢⱼₖₙₜₓ", "0123456789+-=()ijkntx", strict=True))

#: Combining accents (after NFD decomposition: Ŵ = W + U+0302): text-mode accent on an ASCII
#: letter, math-mode accent on a symbol.
_ACCENTS = {
    "\u0301": ("'", "acute"),
    "\u0302": ("^", "hat"),
    "\u0303": ("~", "tilde"),
    "\u0304": ("=", "bar"),
    "\u0307": (".", "dot"),
    "\u0308": ('"', "ddot"),
}
#: Combining long solidus (NFD of ≠, ∉...): the negated symbol.
_NOT = "\u0338"

#: What an unmapped character becomes (a test keeps the theorem catalogue free of them).
UNMAPPED = r"\textbf{?}"


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
    """GitHub-flavoured Markdown: a heading (none for ``level=0``), the pipe table and the
    notes."""
    lines = [f"{'#' * level} {table.title}", ""] if level else []
    lines.append("| " + " | ".join(_md_cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines += ["", table.notes]
    return "\n".join(lines) + "\n"


def _math(command: str) -> str:
    return rf"\ensuremath{{{command}}}"


def _script(text: str, index: int, table: Mapping[str, str], mark: str) -> tuple[str, int]:
    """The run of scripts starting at ``index`` as one ``^{...}`` or ``_{...}``, and its end."""
    end = index
    while end < len(text) and text[end] in table:
        end += 1
    inner = "".join(table[ch] for ch in text[index:end])
    return _math(f"{mark}{{{inner}}}"), end


def latex_escape(text: str) -> str:
    """Text that pdfLaTeX typesets as written: LaTeX's special characters escaped, math
    symbols, Greek letters, Unicode superscripts/subscripts and accented letters spelt as
    commands (``\\ensuremath``, so the result works in text and in math mode).

    A character with no spelling becomes :data:`UNMAPPED`.
    """
    text = unicodedata.normalize("NFD", text)
    out: list[str] = []
    k = 0
    while k < len(text):
        ch = text[k]
        if ch in _SUPERSCRIPTS or ch in _SUBSCRIPTS:
            table, mark = (_SUPERSCRIPTS, "^") if ch in _SUPERSCRIPTS else (_SUBSCRIPTS, "_")
            piece, k = _script(text, k, table, mark)
            out.append(piece)
            continue
        mark = text[k + 1] if k + 1 < len(text) else ""
        if mark in _ACCENTS and ch.isascii() and ch.isalpha():
            out.append(rf"\{_ACCENTS[mark][0]}{{{ch}}}")
            k += 2
            continue
        if (mark in _ACCENTS or mark == _NOT) and ch in _LATEX_MATH:
            base = _LATEX_MATH[ch]
            command = rf"\not{base}" if mark == _NOT else rf"\{_ACCENTS[mark][1]}{{{base}}}"
            out.append(_math(command))
            k += 2
            continue
        if ch in _LATEX_TEXT:
            out.append(_LATEX_TEXT[ch])
        elif ch in _LATEX_MATH:
            out.append(_math(_LATEX_MATH[ch]))
        elif ch.isascii():
            out.append(ch)
        else:
            out.append(UNMAPPED)
        k += 1
    return "".join(out)


#: In a table wider than a line, cells longer than this (in characters) make their column a
#: wrapping ``X`` column.
_WRAP_AT = 8
#: Text width of a table in characters of the ``\small`` font, roughly an A4/letter block.
_LINE_CHARS = 75
#: Width in ``\footnotesize`` characters beyond which even wrapped columns do not fit.
_MIN_CHARS = 80


def _breakable(text: str) -> str:
    """Escaped text of a wrapping column, with a line break allowed after ``. / - , = :``
    and ``_`` (ids, instance names and parameter lists have few spaces)."""
    text = re.sub(r"([./,=:-])(?=\S)", "\\1\x00", text).replace("_", "_\x00")
    return latex_escape(text).replace("\x00", r"\allowbreak{}")


def _header(name: str, width: int) -> str:
    """A column name stacked on lines of about ``width`` characters (``\\shortstack``)."""
    words = name.split()
    if len(name) <= width or len(words) == 1:
        return latex_escape(name)
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return r"\shortstack[l]{" + r"\\".join(latex_escape(line) for line in lines) + "}"


def _column_widths(table: Table) -> tuple[list[int], list[int]]:
    """Per column, the longest cell and the longest unbreakable piece of cell or header."""
    columns = range(len(table.columns))
    widths = [max([len(row[c]) for row in table.rows], default=0) for c in columns]
    tokens = [
        max(
            [len(t) for row in table.rows for t in re.split(r"[\s./,=:_-]", row[c])]
            + [len(w) for w in table.columns[c].split()]
        )
        for c in columns
    ]
    return widths, tokens


def _layout(table: Table) -> tuple[str, list[bool]]:
    """``"tabular"`` (fits as it is), ``"tabularx"`` (long columns wrap) or ``"resize"`` (too
    many columns even wrapped: scaled to the line), and which columns wrap."""
    widths, tokens = _column_widths(table)
    natural = sum(max(w, len(n)) + 2 for w, n in zip(widths, table.columns, strict=True))
    if natural <= _LINE_CHARS:
        return "tabular", [False] * len(widths)
    if sum(t + 1 for t in tokens) > _MIN_CHARS:
        return "resize", [False] * len(widths)
    wrap = [w > _WRAP_AT and w > t for w, t in zip(widths, tokens, strict=True)]
    if not any(wrap):
        wrap = [w == max(widths) for w in widths]
    return "tabularx", wrap


def to_latex(table: Table) -> str:
    """A ``table`` environment with a booktabs table (``\\toprule``, ``\\midrule``,
    ``\\bottomrule``) that fits the text block: a plain ``tabular`` when it fits; otherwise
    a ``tabularx`` whose long columns wrap (sharing the free width in proportion to their
    text) and whose headers stack; a table with too many columns even so is scaled to the
    line (``\\resizebox``).  Needs ``\\usepackage{booktabs,tabularx,graphicx}``.
    """
    layout, wrap = _layout(table)
    widths, tokens = _column_widths(table)
    weights = [min(max(widths[c], 3 * tokens[c]), 40) if w else 0 for c, w in enumerate(wrap)]
    share = sum(wrap) / max(sum(weights), 1)
    spec = "".join(
        rf">{{\raggedright\arraybackslash\hsize={weight * share:.3f}\hsize}}X" if w else "l"
        for w, weight in zip(wrap, weights, strict=True)
    )
    heads = [
        latex_escape(name) if layout == "tabular" else _header(name, max(widths[c], tokens[c]))
        for c, name in enumerate(table.columns)
    ]
    begin, end = {
        "tabular": (rf"\begin{{tabular}}{{{spec}}}", r"\end{tabular}"),
        "tabularx": (rf"\begin{{tabularx}}{{\linewidth}}{{{spec}}}", r"\end{tabularx}"),
        "resize": (
            rf"\resizebox{{\linewidth}}{{!}}{{\begin{{tabular}}{{{spec}}}",
            r"\end{tabular}}",
        ),
    }[layout]
    lines = [
        r"\begin{table}[ht]",
        r"\centering",
        *(
            [r"\small"]
            if layout == "tabular"
            else [r"\footnotesize", r"\setlength{\tabcolsep}{3pt}"]
        ),
        r"\sloppy",
        rf"\caption{{{latex_escape(table.title)}}}",
        begin,
        r"\toprule",
        " & ".join(heads) + r" \\",
        r"\midrule",
    ]
    lines += [
        " & ".join(
            _breakable(cell) if w else latex_escape(cell) for cell, w in zip(row, wrap, strict=True)
        )
        + r" \\"
        for row in table.rows
    ]
    lines += [r"\bottomrule", end]
    if table.notes:
        lines.append(rf"\par\smallskip{{\footnotesize {latex_escape(table.notes)}\par}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_html(table: Table, level: int = 2) -> str:
    """An HTML fragment: heading (none for ``level=0``), ``<table>`` and notes (text
    escaped)."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in table.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    parts = [f"<h{level}>{e(table.title)}</h{level}>"] if level else []
    parts.append("<table>")
    parts += [f"<thead><tr>{head}</tr></thead>", f"<tbody>\n{body}\n</tbody>", "</table>"]
    if table.notes:
        parts.append(f'<p class="notes">{e(table.notes)}</p>')
    return "\n".join(parts) + "\n"
