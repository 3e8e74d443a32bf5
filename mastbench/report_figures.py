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

__all__ = [
    "MARKERS",
    "curve_figure",
    "heatmap_figure",
    "history_figure",
    "save_figure",
    "theorem_figure",
]

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


def _new_figure(size: tuple[float, float] = _SIZE) -> Any:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _positive(values: Sequence[float]) -> bool:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return bool(finite) and all(v > 0 for v in finite)


#: Marker shapes cycled over instances, so that coinciding curves stay distinguishable.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")

#: Dash patterns of the bounds, cycled over instances, so that equal bounds stay visible.
_DASHES = ((0, (4, 2)), (2, (4, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)))

#: Beyond this many stacked pieces, a theorem's evidence is drawn as one dot plot.
_MAX_PANELS = 8

#: Characters per line of a wrapped title, for the whole figure width.
_TITLE_CHARS = 110
#: Characters of legend text across the figure width (7 pt).
_LEGEND_CHARS = 140


def _style(k: int) -> dict[str, Any]:
    return {"color": f"C{k % 10}", "marker": MARKERS[k % len(MARKERS)]}


def _wrap(text: str, width: int) -> str:
    return textwrap.fill(text, max(width, 20), break_long_words=False, break_on_hyphens=False)


def _panels(series: Sequence[Mapping[str, Any]], x_axis: str) -> list[list[tuple[int, dict]]]:
    """Per panel, the (instance index, piece) pairs drawn in it.

    Stacked evidence (``t`` starts again) gives one panel per piece; ``x_axis == "point"``,
    or more than :data:`_MAX_PANELS` pieces, gives one panel of every point.
    """
    pieces = [_segments(s) for s in series]
    count = max((len(p) for p in pieces), default=0)
    if x_axis == "point" or count > _MAX_PANELS:
        whole = [{**_segments(s, split=False)[0]} for s in series]
        return [[(k, piece) for k, piece in enumerate(whole)]]
    return [[(k, p[n]) for k, p in enumerate(pieces) if n < len(p)] for n in range(count)]


def theorem_figure(
    title: str,
    series: Sequence[Mapping[str, Any]],
    *,
    measure: str,
    rate: str = "sublinear",
    x_axis: str = "iteration t",
    quantities: Sequence[str] = (),
) -> Any:
    """A theorem's evidence against its bound, drawn as its statement reads.

    ``rate`` (:data:`mastbench.theory.RATES`) picks the axes: a ``"sublinear"`` rate is drawn
    on log-log axes (points at t ≤ 0 left out), a ``"linear"`` rate on semilog axes, measured
    (solid, markers) against bound (dashed) per instance, with the confidence band of a
    Monte-Carlo estimate; ``"none"`` draws measured/bound per point as dots against the line
    ratio = 1.  The y axis is logarithmic when every value drawn in a panel is positive.
    Stacked evidence gets one panel per quantity (``quantities`` names them).

    Parameters
    ----------
    title : str
        Figure title (theorem id and label), wrapped.
    series : sequence of mapping
        One per instance: ``name``, ``t``, ``measured``, ``bound``, ``ratio`` and optional
        ``lower``, ``upper`` (lists of equal length).
    measure : str
        The measured quantity (y label of a single-quantity curve figure).
    rate, x_axis, quantities
        As :class:`mastbench.theory.Theorem` declares them.
    """
    with _matplotlib().rc_context(_RC):
        panels = _panels(series, x_axis)
        if len(quantities) == len(panels) > 1 or (quantities and len(panels) == 1):
            names = list(quantities) if len(quantities) == len(panels) else [quantities[0]]
        elif len(panels) == 1:
            names = [""]
        else:
            names = [f"quantity {n + 1} of {len(panels)}" for n in range(len(panels))]
        ncols = min(len(panels), 3) or 1
        nrows = max(math.ceil(len(panels) / ncols), 1)
        figure = _new_figure((_SIZE[0], 0.9 + 2.6 * nrows))
        axes = [figure.add_subplot(nrows, ncols, n + 1) for n in range(max(len(panels), 1))]
        banded = False
        for ax, panel, name in zip(axes, panels, names, strict=False):
            if rate == "none":
                _dots(ax, panel, x_axis, len(series))
            else:
                banded |= _curves(ax, panel, rate)
                ylabel = "measured, bound" if len(panels) > 1 else (name or measure)
                ax.set_ylabel(_wrap(ylabel, 36))
            if name and (rate == "none" or len(panels) > 1):
                ax.set_title(_wrap(name, _TITLE_CHARS // ncols - 4), fontsize=8.5)
            ax.set_xlabel(_xlabel(x_axis, rate))
        figure.suptitle(_wrap(title, _TITLE_CHARS), fontsize=10)
        _legend(figure, series, rate, banded)
    return figure


def _xlabel(x_axis: str, rate: str) -> str:
    label = "point (index in the evidence)" if x_axis == "point" else x_axis
    return f"{label}, log scale" if rate == "sublinear" else label


def _curves(ax: Any, panel: Sequence[tuple[int, Mapping[str, Any]]], rate: str) -> bool:
    """Measured (solid, markers) and bound (dashed) per instance; returns whether a band was
    drawn."""
    bounds: list[float] = []
    measured_all: list[float] = []
    banded = False
    for k, piece in panel:
        keep = [j for j, t in enumerate(piece["t"]) if rate != "sublinear" or t > 0]
        if not keep:
            continue
        t = [piece["t"][j] for j in keep]
        style = _style(k)
        step = max(len(t) // 12, 1)
        measured = [piece["measured"][j] for j in keep]
        bound = [piece["bound"][j] for j in keep]
        ax.plot(t, measured, lw=1.4, ms=4, markevery=(k % step, step), zorder=3, **style)
        dashes = _DASHES[k % len(_DASHES)]
        ax.plot(t, bound, color=style["color"], lw=1.1, ls=dashes, alpha=0.85, zorder=2)
        measured_all += [v for v in measured if math.isfinite(v)]
        bounds += bound
        if "lower" in piece:
            lower = [piece["lower"][j] for j in keep]
            upper = [piece["upper"][j] for j in keep]
            ax.fill_between(t, lower, upper, color=style["color"], alpha=0.2, lw=0, zorder=1)
            banded = True
    if rate == "sublinear" and bounds:
        ax.set_xscale("log")
    ticks = sorted({t for _, piece in panel for t in piece["t"] if rate != "sublinear" or t > 0})
    if 0 < len(ticks) <= 8:
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
    nonpositive = sum(v <= 0 for v in measured_all)
    if _positive(bounds) and nonpositive < len(measured_all):
        ax.set_yscale("log")
        if nonpositive:
            ax.text(
                0.99,
                0.01,
                f"{nonpositive} measured values ≤ 0 not drawn",
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=6.5,
            )
    return banded


def _dots(ax: Any, panel: Sequence[tuple[int, Mapping[str, Any]]], x_axis: str, count: int) -> None:
    """measured/bound per point, hollow markers per instance, next to the line ratio = 1;
    infinite ratios (a zero bound exceeded) drawn in red at the top."""
    finite: list[float] = []
    infinite: list[float] = []
    for k, piece in panel:
        if x_axis == "point":
            shift = (k - (count - 1) / 2) * 0.6 / max(count, 1)
            x = [j + shift for j in range(len(piece["ratio"]))]
        else:
            x = list(piece["t"])
        style = _style(k)
        pairs = [(a, r) for a, r in zip(x, piece["ratio"], strict=True) if math.isfinite(r)]
        if pairs:
            ax.plot(*zip(*pairs, strict=True), ls="none", ms=4.5, mfc="none", mew=1.0, **style)
        finite += [r for _, r in pairs]
        infinite += [a for a, r in zip(x, piece["ratio"], strict=True) if r == math.inf]
    ax.axhline(1.0, color="black", lw=1.0, ls="--", zorder=1)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if _positive(finite) and (max(finite) / min(finite) > 100 or max(finite) < 0.05):
        ax.set_yscale("log")
    if infinite:
        top = max([1.0, *finite]) * 1.5
        ax.plot(infinite, [top] * len(infinite), ls="none", marker="x", color="red", ms=6)
    ax.set_ylabel("measured / bound")


def _legend(figure: Any, series: Sequence[Mapping[str, Any]], rate: str, banded: bool) -> None:
    """One legend under the panels: instances by colour and marker, then line styles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    dots = {"lw": 0, "mfc": "none"} if rate == "none" else {"lw": 1.4}
    handles = [
        Line2D([], [], ms=5, label=str(s["name"]), **dots, **_style(k))
        for k, s in enumerate(series)
    ]
    if rate == "none":
        handles.append(Line2D([], [], color="black", ls="--", label="measured = bound"))
    else:
        handles.append(Line2D([], [], color="black", lw=1.4, label="measured"))
        handles.append(Line2D([], [], color="black", lw=1.1, ls="--", label="bound"))
    if banded:
        handles.append(Patch(color="grey", alpha=0.3, label="confidence interval"))
    longest = max((len(h.get_label()) for h in handles), default=1)
    ncols = max(1, min(4, _LEGEND_CHARS // (longest + 6)))
    figure.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=7)


def _segments(series: Mapping[str, Any], split: bool = True) -> list[dict[str, list[float]]]:
    """Split a series where ``t`` stops increasing (evidence that stacks several curves)."""
    keys = [k for k in ("t", "measured", "bound", "ratio", "lower", "upper") if k in series]
    t = list(series["t"])
    cuts = [k for k in range(1, len(t)) if t[k] <= t[k - 1]] if split else []
    starts = [0, *cuts, len(t)]
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
                step = max(len(x) // 12, 1)
                marker = MARKERS[k % len(MARKERS)]
                ax.plot(
                    x,
                    ys,
                    color=color,
                    lw=1.5,
                    marker=marker,
                    ms=4,
                    markevery=(k % step, step),
                    label=str(name),
                )
        if curve.get("logy"):
            ax.set_yscale("log")
        ax.set_title(_wrap(title, 80))
        ax.set_xlabel(curve.get("xlabel", ""))
        ax.set_ylabel(textwrap.fill(curve.get("ylabel", ""), 40))
        if curve["y"]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def heatmap_figure(
    title: str, theorems: Sequence[str], cells: Sequence[Sequence[Mapping[str, Any]]]
) -> Any:
    """Theorem × instance map of the nontrivial worst ratio measured/bound.

    Parameters
    ----------
    title : str
        Figure title.
    theorems : sequence of str
        Row labels (theorem ids).
    cells : sequence of sequence of mapping
        Per theorem, per instance: ``ratio`` (float, NaN when there is no nontrivial point)
        and ``status``.  Colour is log10 of the ratio on [-6, 0] (yellow: the bound is
        attained); a violated bound is outlined in red, a not-applicable cell is grey.
    """
    import numpy as np

    with _matplotlib().rc_context(_RC):
        width = max((len(row) for row in cells), default=1)
        figure = _new_figure((_SIZE[0], 1.4 + 0.24 * max(len(theorems), 1)))
        ax = figure.add_subplot()
        grid = np.full((len(theorems), width), np.nan)
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                ratio = cell["ratio"]
                if cell["status"] != "not applicable" and math.isfinite(ratio) and ratio > 0:
                    grid[i, j] = min(math.log10(ratio), 0.0)
                elif cell["status"] != "not applicable" and ratio == 0:
                    grid[i, j] = -6.0
        image = ax.imshow(
            np.clip(grid, -6.0, 0.0), cmap="viridis", vmin=-6.0, vmax=0.0, aspect="auto"
        )
        ax.set_facecolor("#e4e4e4")
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                ax.text(
                    j,
                    i,
                    _cell_text(cell),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if grid[i, j] < -3 else "black",
                )
                if cell["status"] in ("violated", "falsified"):
                    ax.add_patch(_outline(j, i))
        ax.set_yticks(range(len(theorems)), labels=list(theorems), fontsize=7)
        ax.set_xticks(range(width), labels=[str(j + 1) for j in range(width)])
        ax.set_xlabel("instance (in the theorem's order; names in the tightness table)")
        ax.grid(False)
        figure.colorbar(
            image,
            ax=ax,
            label="log10(measured / bound), t = 0 and trivial points excluded",
            shrink=0.6,
        )
        figure.suptitle(_wrap(title, _TITLE_CHARS), fontsize=10)
    return figure


def _cell_text(cell: Mapping[str, Any]) -> str:
    if cell["status"] == "not applicable":
        return "n/a"
    ratio = cell["ratio"]
    return "—" if math.isnan(ratio) else f"{ratio:.2g}"


def _outline(j: int, i: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2)


def history_figure(title: str, benchmarks: Mapping[str, Mapping[str, Any]]) -> Any:
    """Small multiples: each benchmark's value over commits, one line per parameter set.

    Parameters
    ----------
    benchmarks : mapping
        Benchmark name → ``{"commits": [short hashes, oldest first], "unit": str,
        "series": {parameter label: [value or NaN per commit]}}``.
    """
    with _matplotlib().rc_context(_RC):
        names = list(benchmarks)
        ncols = min(len(names), 3) or 1
        nrows = max(math.ceil(len(names) / ncols), 1)
        figure = _new_figure((_SIZE[0], 0.8 + 2.2 * nrows))
        for n, name in enumerate(names):
            bench = benchmarks[name]
            ax = figure.add_subplot(nrows, ncols, n + 1)
            x = list(range(len(bench["commits"])))
            values: list[float] = []
            for k, (label, ys) in enumerate(bench["series"].items()):
                ax.plot(x, ys, lw=1.2, ms=4, label=_wrap(label, 30), **_style(k))
                values += ys
            if _positive(values):
                ax.set_yscale("log")
            ax.set_xticks(x, labels=bench["commits"], rotation=45, fontsize=6.5)
            ax.set_title(_wrap(name, _TITLE_CHARS // ncols - 4), fontsize=8)
            ax.set_ylabel(bench.get("unit", ""))
            if len(bench["series"]) > 1:
                ax.legend(fontsize=6)
        figure.suptitle(_wrap(title, _TITLE_CHARS), fontsize=10)
    return figure


def save_figure(figure: Any, stem: str | Path, description: str) -> dict[str, Path]:
    """Write ``stem.png`` (a compact palette PNG) and ``stem.svg`` atomically, with
    ``description`` as metadata.

    Returns the paths by format; the PNG bytes are also what the HTML page embeds.
    """
    from PIL import Image, PngImagePlugin

    stem = Path(stem)
    paths = {}
    with _matplotlib().rc_context(_RC):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
        palette = image.quantize(
            colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        info = PngImagePlugin.PngInfo()
        info.add_text("Description", description)
        png = io.BytesIO()
        palette.save(png, format="png", optimize=True, pnginfo=info)
        paths["png"] = atomic_write_bytes(stem.parent / f"{stem.name}.png", png.getvalue())
        svg = io.BytesIO()
        figure.savefig(
            svg, format="svg", metadata={"Description": description, "Date": None, "Creator": None}
        )
        paths["svg"] = atomic_write_bytes(stem.parent / f"{stem.name}.svg", svg.getvalue())
    return paths
