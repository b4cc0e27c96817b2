"""The trend panel: the indicator over time for the area, its members, region(s) and Denmark.

A thick black area line with its 95 % band, thin grey members (named at their line ends when
few), dashed region(s), dotted Denmark. Suppressed or missing years are gaps, never zero.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from datapakke.mart.catalogue import METHOD_RULES
from datapakke.presentation import LEVEL_STYLES, ROLE_LABELS_DA
from datapakke.publish.charts.axis import (
    label_room,
    nice_range,
    tick_labels,
    ticks,
    value_axis,
    x_ticks,
)
from datapakke.publish.charts.canvas import Box, Canvas, Plot, runs, spread
from datapakke.publish.charts.legend import Key
from datapakke.publish.charts.measure import text_width
from datapakke.publish.charts.panel import PanelSpec
from datapakke.publish.charts.rows import (
    Level,
    Rows,
    comparable_levels,
    level_label,
    level_units,
)
from datapakke.publish.charts.style import (
    BAND_ALPHA,
    CI_LABEL_DA,
    GRID_DARK,
    LINE_IN,
    MISSING_CHART_NOTE_DA,
    MUTED,
    SUPPRESSED_CHART_NOTE_DA,
)

if TYPE_CHECKING:
    from datapakke.publish.pack_data import AreaPackData

MAX_LABELLED_MEMBERS = 12


@dataclass(frozen=True)
class _Trend:
    """What the panel draws, in data units."""

    years: np.ndarray
    member_values: np.ndarray  # one row per member (by name, then code); NaN is a gap
    levels: list[Level]  # area first, then region(s) and Denmark; values over the years
    band: tuple[np.ndarray, np.ndarray] | None  # the area's 95 % interval, if it has one
    ends: list[tuple[str, float, float]]  # (name, year, value) of named members' last points
    ylim: tuple[float, float]
    yticks: np.ndarray
    ylabels: list[str]


def trend_panel(pack: AreaPackData, ind: pd.Series, rows: Rows) -> PanelSpec:
    """The panel over every year with anything published, its right margin fitting the names."""
    years, rows = _published_years(rows)
    trend = _trend(pack, ind, rows, years)
    pad_right = max((text_width(e[0]) for e in trend.ends), default=0) + 0.2
    return PanelSpec(
        "trend",
        label_room(trend.ylabels),
        pad_right,
        functools.partial(_draw, trend),
        levels=_keys(trend),
        notes=_notes(rows),
        title="Udvikling over tid",
        subtitle=str(ind["unit_da"]),
    )


def _published_years(rows: Rows) -> tuple[np.ndarray, Rows]:
    """Years with nothing published at either end are left off; gaps inside stay gaps."""
    shown = rows.where(np.isfinite(rows.value) | rows.suppressed)
    years = np.unique(rows.year)
    if len(shown):
        years = years[(years >= shown.year.min()) & (years <= shown.year.max())]
    return years, rows.where(np.isin(rows.year, years))


def _trend(pack: AreaPackData, ind: pd.Series, rows: Rows, years: np.ndarray) -> _Trend:
    # A count's members are a fraction of the area's sum: they are compared in the next panel.
    is_count = METHOD_RULES[str(ind["method"])].is_count
    members = rows.where((rows.role == "member") & (not is_count))
    names = dict(zip(members.code.tolist(), members.name.tolist(), strict=True))
    member_codes = sorted(names, key=lambda c: (names[c], c))
    member_values = np.full((len(member_codes), len(years)), np.nan)
    for i, code in enumerate(member_codes):
        member_values[i] = members.series(code, years)
    levels = [
        Level(
            role,
            i,
            level_label(pack, role, str(unit.name[0])),
            unit.series(str(unit.code[0]), years),
        )
        for role in comparable_levels(ind)
        for i, unit in enumerate(level_units(pack, rows, role))
    ]
    band = _area_band(rows, years)
    ylim = nice_range([member_values, *(level.value for level in levels), *(band or ())])
    yticks = ticks(*ylim, n=5)
    ends = []
    for code, row in zip(member_codes, member_values, strict=True):
        finite = np.isfinite(row)
        if finite.any():
            ends.append((names[code], float(years[finite][-1]), float(row[finite][-1])))
    return _Trend(
        years=years,
        member_values=member_values,
        levels=levels,
        band=band,
        ends=ends if len(ends) <= MAX_LABELLED_MEMBERS else [],
        ylim=ylim,
        yticks=yticks,
        ylabels=tick_labels(yticks),
    )


def _area_band(rows: Rows, years: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The area's interval over ``years``, or None when it has none at all."""
    area = rows.where(rows.role == "area")
    if not len(area):
        return None
    code = str(area.code[0])
    low, high = area.series(code, years, "low"), area.series(code, years, "high")
    return (low, high) if np.isfinite(low).any() else None


def labelled_years(years: np.ndarray, plot: Plot) -> np.ndarray:
    """Every ``step``-th year, counted back from the latest (always labelled), with ``step`` the
    fewest years whose labels fit side by side at the plot's width: a long series (a source
    going back decades) keeps readable years instead of overprinting them."""
    if years.size < 2:
        return years
    room = text_width("0000") * 1.4  # a year's label and the gap before the next
    per_year = float(np.min(np.diff(plot.x_in(years))))
    step = max(1, math.ceil(room / per_year))
    return years[::-1][::step][::-1]


def _draw(trend: _Trend, canvas: Canvas, box: Box) -> None:
    years = trend.years
    if years.size == 0:
        canvas.message(box, "Ingen data")
        return
    plot = Plot(canvas, box, (years[0] - 0.3, years[-1] + 0.3), trend.ylim, gid="trend")
    value_axis(canvas, plot, "y", trend.yticks, trend.ylabels)
    labelled = labelled_years(years, plot)
    x_ticks(canvas, plot, plot.x_in(labelled), [str(int(year)) for year in labelled])
    if trend.band is not None:
        _draw_band(plot, years, *trend.band)
    if len(trend.member_values):
        # One line for all members, NaN-separated: suppressed years stay gaps.
        xs = np.concatenate([np.r_[years, np.nan] for _ in trend.member_values])
        ys = np.concatenate([np.r_[row, np.nan] for row in trend.member_values])
        plot.line(
            xs, ys, "trend-members", marker="o", markersize=2.2, zorder=2, **LEVEL_STYLES["member"]
        )
    for level in trend.levels:
        plot.line(
            years,
            level.value,
            f"trend-{level.role}",
            marker="o",
            markersize=4.0 if level.role == "area" else 2.6,
            zorder=5 if level.role == "area" else 3,
            **level.style,
        )
    if trend.ends:
        _name_line_ends(canvas, plot, trend.ends)


def _draw_band(plot: Plot, years: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
    """The interval as one polygon per stretch of years that has it (one year alone: none)."""
    polygons = [
        np.column_stack([np.r_[years[a:b], years[a:b][::-1]], np.r_[low[a:b], high[a:b][::-1]]])
        for a, b in runs(np.isfinite(low) & np.isfinite(high))
        if b - a >= 2
    ]
    plot.polygons(
        polygons,
        "trend-ci",
        facecolors="#000000",
        alpha=BAND_ALPHA,
        edgecolors="none",
        zorder=1,
    )


def _name_line_ends(canvas: Canvas, plot: Plot, ends: list[tuple[str, float, float]]) -> None:
    """Names beside the line ends, pushed apart; a thin leader where a name had to move."""
    names, end_x, end_y = zip(*ends, strict=True)
    x_in, y_in = plot.x_in(end_x), plot.y_in(end_y)
    placed = spread(y_in, LINE_IN * 0.95, plot.bottom + 0.05, plot.top)
    leaders = []
    for name, x, y, label_y in zip(names, x_in, y_in, placed, strict=True):
        canvas.text(plot.right + 0.1, label_y, name, color=MUTED, gid="member-label")
        if abs(label_y - y) > LINE_IN * 0.3:
            leaders.append([(x + 0.04, y), (plot.right + 0.07, label_y)])
    canvas.segments(leaders, "member-leaders", colors=GRID_DARK, linewidths=0.6, zorder=1.5)


def _keys(trend: _Trend) -> list[Key]:
    """The area first, its band, the members, then region(s) and Denmark."""
    keys = [Key.of(level.label, "line", **level.style) for level in trend.levels[:1]]
    if trend.band is not None:
        keys.append(
            Key.of(
                f"{CI_LABEL_DA} (område)",
                "patch",
                facecolor="#000000",
                alpha=BAND_ALPHA,
                edgecolor="none",
            )
        )
    if len(trend.member_values):
        keys.append(Key.of(ROLE_LABELS_DA["member"], "line", **LEVEL_STYLES["member"]))
    return keys + [Key.of(level.label, "line", **level.style) for level in trend.levels[1:]]


def _notes(rows: Rows) -> list[str]:
    notes = []
    if rows.suppressed.any():
        notes.append(SUPPRESSED_CHART_NOTE_DA)
    if (np.isnan(rows.value) & ~rows.suppressed).any():
        notes.append(MISSING_CHART_NOTE_DA)
    return notes
