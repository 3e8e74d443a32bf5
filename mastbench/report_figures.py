"""Figures of the report: measured quantities against their bounds, reproduction curves.

matplotlib (the ``report`` extra) is used through :class:`matplotlib.figure.Figure` and the
Agg canvas directly, never through pyplot, so nothing global changes and no display is
needed.  Output is deterministic: fixed size, DPI and fonts, ``svg.hashsalt`` fixed, and
metadata without dates, so the same data and stamp give byte-identical PNG and SVG files.
"""

from __future__ import annotations

import io
import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mastbench.results import atomic_write_bytes

__all__ = ["curve_figure", "save_figure", "theorem_figure"]

_RC = {
    "svg.hashsalt": "mastbench",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_SIZE = (8.0, 3.6)
_DPI = 100


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "figures need matplotlib; install it with pip install 'mastbench[report]'"
        ) from exc
    return matplotlib


def _new_figure() -> Any:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _positive(values: Sequence[float]) -> bool:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return bool(finite) and all(v > 0 for v in finite)


def theorem_figure(
    title: str, measure: str, series: Sequence[Mapping[str, Any]], *, xlabel: str = "iteration t"
) -> Any:
    """Measured quantity (solid) and bound (dashed) per instance; band = confidence interval.

    Parameters
    ----------
    title : str
        Figure title (theorem id and label).
    measure : str
        The measured quantity (y label).
    series : sequence of mapping
        One per instance: ``name``, ``t``, ``measured``, ``bound`` and optional ``lower``,
        ``upper`` (lists of equal length).
    """
    with _matplotlib().rc_context(_RC):
        figure = _new_figure()
        ax = figure.add_subplot()
        values: list[float] = []
        for k, s in enumerate(series):
            color = f"C{k % 10}"
            for n, piece in enumerate(_segments(s)):
                labels = (f"{s['name']}: measured", f"{s['name']}: bound") if n == 0 else ("", "")
                ax.plot(piece["t"], piece["measured"], color=color, lw=1.5, label=labels[0])
                ax.plot(piece["t"], piece["bound"], color=color, lw=1.2, ls="--", label=labels[1])
                if "lower" in piece:
                    ax.fill_between(
                        piece["t"], piece["lower"], piece["upper"], color=color, alpha=0.2, lw=0
                    )
                    values += piece["lower"]
                values += piece["measured"] + piece["bound"]
        if _positive(values):
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(textwrap.fill(measure, 40))
        if series:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def _segments(series: Mapping[str, Any]) -> list[dict[str, list[float]]]:
    """Split a series where ``t`` stops increasing (evidence that stacks several curves)."""
    keys = [k for k in ("t", "measured", "bound", "lower", "upper") if series.get(k) is not None]
    t = list(series["t"])
    starts = [0] + [k for k in range(1, len(t)) if t[k] <= t[k - 1]] + [len(t)]
    return [{key: list(series[key][a:b]) for key in keys} for a, b in itertools.pairwise(starts)]


def curve_figure(title: str, curve: Mapping[str, Any]) -> Any:
    """A reproduction's curve: ``x``, ``y`` (series name → values), labels, ``logy``.

    A series whose values are lists (one sample per x, e.g. accuracies over sparsity draws)
    is drawn as boxplots at the x positions, side by side with the other such series; a
    series of numbers is drawn as a line.
    """
    with _matplotlib().rc_context(_RC):
        figure = _new_figure()
        ax = figure.add_subplot()
        x = [float(v) for v in curve["x"]]
        boxed = [name for name, ys in curve["y"].items() if any(isinstance(y, list) for y in ys)]
        spacing = min((b - a for a, b in itertools.pairwise(sorted(x))), default=1.0) or 1.0
        width = 0.8 * spacing / max(len(boxed), 1)
        for k, (name, ys) in enumerate(curve["y"].items()):
            color = f"C{k % 10}"
            if name in boxed:
                shift = (boxed.index(name) - (len(boxed) - 1) / 2) * width
                parts = ax.boxplot(
                    [y if isinstance(y, list) else [y] for y in ys],
                    positions=[v + shift for v in x],
                    widths=0.9 * width,
                    patch_artist=True,
                    manage_ticks=False,
                    medianprops={"color": "black", "lw": 1.2},
                    flierprops={"marker": ".", "markersize": 3, "markeredgecolor": color},
                )
                for box in parts["boxes"]:
                    box.set(facecolor=color, alpha=0.5, edgecolor=color)
                ax.plot([], [], color=color, lw=6, alpha=0.5, label=str(name))
            else:
                ax.plot(x, ys, color=color, lw=1.5, marker=".", label=str(name))
        if curve.get("logy"):
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(curve.get("xlabel", ""))
        ax.set_ylabel(textwrap.fill(curve.get("ylabel", ""), 40))
        if curve["y"]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def save_figure(figure: Any, stem: str | Path, description: str) -> dict[str, Path]:
    """Write ``stem.png`` and ``stem.svg`` atomically, with ``description`` as metadata.

    Returns the paths by format; the PNG bytes are also what the HTML page embeds.
    """
    stem = Path(stem)
    paths = {}
    with _matplotlib().rc_context(_RC):
        for fmt, metadata in (
            ("png", {"Description": description, "Software": None}),
            ("svg", {"Description": description, "Date": None, "Creator": None}),
        ):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, metadata=metadata)
            paths[fmt] = atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", buffer.getvalue())
    return paths
