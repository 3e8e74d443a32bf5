"""Figures of the report: axes as each theorem declares, panels per quantity, bands, the heat
map and the asv history (read from the matplotlib figure objects)."""

import json
import math

import pytest

pytest.importorskip("matplotlib")

from mastbench.report_figures import MARKERS, heatmap_figure, history_figure, theorem_figure
from mastbench.report_inputs import load_asv_history

T = list(range(0, 21))


def _series(name, t, measured, bound, **extra):
    ratio = [m / b for m, b in zip(measured, bound, strict=True)]
    return {"name": name, "t": t, "measured": measured, "bound": bound, "ratio": ratio, **extra}


def _rate_series(name, scale):
    measured = [scale / (t + 2) for t in T]
    return _series(name, T, measured, [2 * m for m in measured])


def test_sublinear_rate_is_drawn_on_log_log_axes_without_t_zero():
    figure = theorem_figure(
        "x.sub — O(1/t)",
        [_rate_series("a", 1.0), _rate_series("b", 1.0)],
        measure="f(x_t) - f*",
        rate="sublinear",
        x_axis="iteration t",
    )
    (ax,) = figure.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlabel() == "iteration t, log scale" and ax.get_ylabel() == "f(x_t) - f*"
    measured = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert all(min(line.get_xdata()) == 1 for line in measured)
    # Two instances with the same curve stay distinguishable: different markers.
    assert [line.get_marker() for line in measured] == list(MARKERS[:2])


def test_linear_rate_is_semilog_and_keeps_the_confidence_band():
    lower = [0.5**t * 0.8 for t in T]
    upper = [0.5**t * 1.2 for t in T]
    series = _series("mc", T, [0.5**t for t in T], [0.6**t for t in T], lower=lower, upper=upper)
    figure = theorem_figure("x.lin", [series], measure="E||x_t||^2", rate="linear")
    (ax,) = figure.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "log")
    assert ax.get_xlabel() == "iteration t"
    assert len(ax.collections) == 1  # the band
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels == ["mc", "measured", "bound", "confidence interval"]


def test_pointwise_statement_is_a_dot_plot_of_ratios():
    points = list(range(6))
    series = _series("p", points, [0.0, 1.0, 2.0, 3.0, 0.5, 0.0], [1.0, 2.0, 2.0, 4.0, 1.0, 1.0])
    figure = theorem_figure("x.pt", [series], measure="q", rate="none", x_axis="point")
    (ax,) = figure.axes
    assert ax.get_ylabel() == "measured / bound" and ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "point (index in the evidence)"
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert len(dots) == 1 and list(dots[0].get_ydata()) == series["ratio"]
    assert any(list(line.get_ydata()) == [1.0, 1.0] for line in ax.get_lines())


def test_stacked_quantities_get_one_panel_each_with_their_names():
    t = list(range(1, 11))
    first = [1.0 / s for s in t]
    series = _series("s", t + t + t, first * 3, [2 * v for v in first] * 3)
    names = ("f(x_t) − f*", "L_t ≤ L̄", "gap")
    figure = theorem_figure(
        "x.stack", [series], measure="three things", rate="sublinear", quantities=names
    )
    assert [ax.get_title() for ax in figure.axes] == list(names)
    assert all(ax.get_xscale() == "log" for ax in figure.axes)
    assert all(len(ax.get_lines()) == 2 for ax in figure.axes)


def test_long_titles_are_wrapped():
    title = "x.long — " + "a very long theorem label " * 10
    figure = theorem_figure(title, [_rate_series("a", 1.0)], measure="m", rate="linear")
    lines = figure.get_suptitle().split("\n")
    assert len(lines) > 1 and max(len(line) for line in lines) <= 110


def test_heatmap_colours_ratios_and_marks_not_applicable_and_violations():
    cells = [
        [{"ratio": 0.5, "status": "holds"}, {"ratio": math.nan, "status": "not applicable"}],
        [{"ratio": 1.5, "status": "violated"}],
    ]
    figure = heatmap_figure("tight", ["a.one", "b.two"], cells)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a.one", "b.two"]
    assert [t.get_text() for t in ax.texts] == ["0.5", "n/a", "1.5"]
    grid = ax.images[0].get_array()
    assert grid[0, 0] == pytest.approx(math.log10(0.5)) and grid.mask[0, 1]
    assert len(ax.patches) == 1  # the violated cell's outline


def _asv_result(root, commit, date, value):
    folder = root / "machine"
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "commit_hash": commit,
        "date": date,
        "result_columns": ["result", "params", "version"],
        "results": {
            "bench_mast.DSGDStep.time_one_step": [
                [value, 2 * value],
                [["'numpy'", "'torch'"]],
                "v",
            ],
            "bench_mast.DSGDAccuracy.track_subopt_after_budget": [[1.0], [], "v"],
        },
        "version": 2,
    }
    (folder / f"{commit[:8]}-env.json").write_text(json.dumps(data))


def test_asv_history_reads_timing_benchmarks_over_commits(tmp_path):
    _asv_result(tmp_path, "bbbbbbbbbbbb", 2000, 0.002)
    _asv_result(tmp_path, "aaaaaaaaaaaa", 1000, 0.001)
    (tmp_path / "machine" / "machine.json").write_text("{}")
    history = load_asv_history(tmp_path)
    assert list(history) == ["bench_mast.DSGDStep.time_one_step"]
    bench = history["bench_mast.DSGDStep.time_one_step"]
    assert bench["commits"] == ["aaaaaaaa", "bbbbbbbb"]
    assert bench["series"] == {"'numpy'": [0.001, 0.002], "'torch'": [0.002, 0.004]}
    figure = history_figure("history", history)
    (ax,) = figure.axes
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["aaaaaaaa", "bbbbbbbb"]
    assert load_asv_history(tmp_path / "absent") == {}


def test_theorems_declare_their_axes_with_defaults_from_the_method():
    from mastbench import theory

    sc, nc, key = (theory.get(i) for i in ("mast.sc", "mast.nc", "mast.key-lemma"))
    assert (sc.rate, sc.x_axis) == ("linear", "iteration t")
    assert (nc.rate, nc.x_axis) == ("sublinear", "horizon T")
    assert (key.method, key.rate, key.x_axis) == ("pointwise", "none", "point")
    fake = dict(
        id="x.y", paper="p", label="l", tag="D", statement="s", algorithm=None, measure="m",
        measurement=lambda instance, params: None, instances=lambda quick: [],
    )  # fmt: skip
    assert theory.Theorem(**fake, method="exact").rate == "sublinear"
    with pytest.raises(ValueError, match=r"rate of 'x\.y' must be one of"):
        theory.Theorem(**fake, method="exact", rate="quadratic")
    figures = {
        thm.id: theorem_figure(
            thm.id,
            [_rate_series("a", 1.0)],
            measure=thm.measure,
            rate=thm.rate,
            x_axis=thm.x_axis,
            quantities=thm.quantities,
        )
        for thm in (sc, nc, key)
    }
    assert figures["mast.sc"].axes[0].get_yscale() == "log"
    assert figures["mast.sc"].axes[0].get_xscale() == "linear"
    assert figures["mast.nc"].axes[0].get_xscale() == "log"
    assert figures["mast.nc"].axes[0].get_xlabel() == "horizon T, log scale"
    assert figures["mast.key-lemma"].axes[0].get_ylabel() == "measured / bound"
