"""The comparison panel: each member in one period with its 95 % interval, coloured by its
comparison with Denmark, with vertical lines for the area, region(s) and Denmark.

A suppressed member is listed with the suppressed text ('<5' at threshold 5), a member without
a value with '–'; neither gets a bar.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from datapakke.presentation import (
    COMPARISON_COLOURS,
    COMPARISON_LABELS_DA,
    MISSING_TEXT,
    suppressed_text,
)
from datapakke.publish.charts.axis import axis_title, nice_range, ticks, value_axis
from datapakke.publish.charts.canvas import Box, Canvas, Plot
from datapakke.publish.charts.legend import Key
from datapakke.publish.charts.measure import text_width, wrap_to
from datapakke.publish.charts.panel import PanelSpec
from datapakke.publish.charts.rows import (
    Level,
    Rows,
    comparable_levels,
    latest_year,
    level_label,
    level_units,
)
from datapakke.publish.charts.style import BAR_EDGE, CI_LABEL_DA, INK, MUTED, suppressed_key_da

if TYPE_CHECKING:
    from datapakke.publish.pack_data import AreaPackData

COMPARED_DA = "Farve: sammenlignet med hele landet"
BAR_HALF = 0.33  # half a bar's thickness, in rows


@dataclass(frozen=True)
class _Comparison:
    """What the panel draws: members with a value (highest first), then those without."""

    shown: Rows
    hidden: Rows
    benchmarks: list[Level]  # each level's value in the year
    xlim: tuple[float, float]
    xticks: np.ndarray
    unit_label: str
    threshold: int  # the pack's suppression threshold: a suppressed member shows '<threshold'

    @property
    def names(self) -> np.ndarray:
        return np.r_[self.shown.name, self.hidden.name]

    @property
    def has_ci(self) -> np.ndarray:
        return np.isfinite(self.shown.low) & np.isfinite(self.shown.high)


def comparison_panel(
    pack: AreaPackData, ind: pd.Series, rows: Rows, period: str | None
) -> PanelSpec:
    """The panel for ``period`` (default: the latest with anything published), one row per
    member, its left margin fitting the names."""
    year = float(period) if period is not None else latest_year(rows)
    comparison = _comparison(pack, ind, rows.where(rows.year == year))
    levels = [Key.of(b.label, "line", **b.style) for b in comparison.benchmarks]
    title = "Kommunerne i området" + (f", {int(year)}" if year is not None else "")
    return PanelSpec(
        "comparison",
        max((text_width(n) for n in comparison.names), default=0.5) + 0.14,
        0.15,
        functools.partial(_draw, comparison),
        keys=_keys(comparison),
        levels=levels,
        notes=_notes(comparison),
        rows=len(comparison.names),
        title=title,
        subtitle=COMPARED_DA,
    )


def _comparison(pack: AreaPackData, ind: pd.Series, now: Rows) -> _Comparison:
    """The year's members in drawing order, and the benchmarks (none for a count)."""
    members = now.where(now.role == "member")
    members = members.where(np.unique(members.code, return_index=True)[1])
    has_value = np.isfinite(members.value)
    # Highest value on top, then the members without a value, alphabetically.
    ordered = members.where(np.lexsort((members.name, np.where(has_value, -members.value, np.inf))))
    shown = ordered.where(np.isfinite(ordered.value))
    benchmarks = [
        Level(role, i, level_label(pack, role, str(unit.name[0])), float(unit.value[0]))
        for role in comparable_levels(ind, benchmark=True)
        for i, unit in enumerate(level_units(pack, now, role))
        if np.isfinite(unit.value[0])
    ]
    has_ci = np.isfinite(shown.low) & np.isfinite(shown.high)
    xlim = nice_range(
        [shown.value, shown.low[has_ci], shown.high[has_ci], [b.value for b in benchmarks]],
        zero=True,
    )
    return _Comparison(
        shown=shown,
        hidden=ordered.where(~np.isfinite(ordered.value)),
        benchmarks=benchmarks,
        xlim=xlim,
        xticks=ticks(*xlim),
        unit_label=wrap_to(str(ind["unit_da"]), 3.0),
        threshold=pack.suppression_threshold,
    )


def _draw(comparison: _Comparison, canvas: Canvas, box: Box) -> None:
    n = len(comparison.names)
    if not n:
        canvas.message(box, "Ingen kommuner med data")
        return
    air = max(0.0, 5 - n) / 2  # bars keep their thickness when there are few members
    ylim = (n - 0.4 + air, -0.6 - air)  # the first member on top
    plot = Plot(canvas, box, comparison.xlim, ylim, gid="comparison")
    value_axis(canvas, plot, "x", comparison.xticks)
    axis_title(canvas, plot, comparison.unit_label, gid="comparison-xlabel")
    rows_y = np.arange(n, dtype=float)
    shown_y = rows_y[: len(comparison.shown)]
    _draw_bars(plot, comparison.shown, shown_y)
    if comparison.has_ci.any():
        _draw_intervals(plot, comparison.shown.where(comparison.has_ci), shown_y[comparison.has_ci])
    for b in comparison.benchmarks:
        plot.line([b.value, b.value], list(plot.ylim), f"benchmark-{b.role}", zorder=5, **b.style)
    _draw_names(canvas, plot, comparison, plot.y_in(rows_y))


def _draw_bars(plot: Plot, shown: Rows, ys: np.ndarray) -> None:
    """Bars from zero, one artist per comparison category (its colour)."""
    for category in COMPARISON_COLOURS:
        pick = shown.compared == category
        if pick.any():
            bars = [
                [(0.0, y - BAR_HALF), (x, y - BAR_HALF), (x, y + BAR_HALF), (0.0, y + BAR_HALF)]
                for x, y in zip(shown.value[pick], ys[pick], strict=True)
            ]
            plot.polygons(
                bars,
                f"comparison-bars-{category}",
                facecolors=COMPARISON_COLOURS[category],
                edgecolors=BAR_EDGE,
                linewidths=0.6,
                zorder=2,
            )


def _draw_intervals(plot: Plot, with_ci: Rows, ys: np.ndarray) -> None:
    """95 % intervals as whiskers with end caps, over the bars."""
    plot.segments(
        [[(a, y), (b, y)] for a, b, y in zip(with_ci.low, with_ci.high, ys, strict=True)],
        "comparison-ci",
        colors=INK,
        linewidths=1.0,
        zorder=4,
    )
    plot.line(
        np.r_[with_ci.low, with_ci.high],
        np.r_[ys, ys],
        "comparison-ci-caps",
        linestyle="none",
        marker="|",
        markersize=5,
        color=INK,
        zorder=4,
    )


def _draw_names(canvas: Canvas, plot: Plot, comparison: _Comparison, ys: np.ndarray) -> None:
    """Every member's name left of its row; the suppressed or missing text where no bar is."""
    for y, name in zip(ys, comparison.names, strict=True):
        canvas.text(plot.left - 0.07, y, name, ha="right", gid="member-name")
    hidden_y = ys[len(comparison.shown) :]
    suppressed_label = suppressed_text(comparison.threshold)
    for y, suppressed in zip(hidden_y, comparison.hidden.suppressed, strict=True):
        canvas.text(
            plot.left + 0.05,
            y,
            suppressed_label if suppressed else MISSING_TEXT,
            color=MUTED,
            gid="suppressed-label" if suppressed else "missing-label",
        )


def _keys(comparison: _Comparison) -> list[Key]:
    """The comparison colours that occur, then the whisker if any interval is drawn."""
    present = set(comparison.shown.compared)
    keys = [
        Key.of(
            COMPARISON_LABELS_DA[c],
            "patch",
            facecolor=COMPARISON_COLOURS[c],
            edgecolor=BAR_EDGE,
            linewidth=0.6,
        )
        for c in COMPARISON_COLOURS
        if c in present
    ]
    if comparison.has_ci.any():
        keys.append(Key.of(CI_LABEL_DA, "whisker", color=INK, linewidth=1.0, markersize=5))
    return keys


def _notes(comparison: _Comparison) -> list[str]:
    hidden = comparison.hidden
    notes = []
    if hidden.suppressed.any():
        notes.append(suppressed_key_da(comparison.threshold))
    if (~hidden.suppressed).any():
        notes.append(f"'{MISSING_TEXT}': ingen værdi")
    return notes
