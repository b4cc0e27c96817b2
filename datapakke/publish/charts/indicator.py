"""The indicator figures: trend, comparison and funnel panels, alone or side by side.

Every size is worked out in inches before anything is drawn (wrapped titles, legend rows and the
footer decide how tall the plots can be), so nothing overlaps or is cut off and no figure is
taller than the printed page allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from datapakke.mart.catalogue import METHOD_RULES
from datapakke.publish.charts.canvas import Canvas, draw_watermark
from datapakke.publish.charts.comparison import comparison_panel
from datapakke.publish.charts.funnel import funnel_panel
from datapakke.publish.charts.legend import (
    COLUMN_GAP_IN,
    Key,
    draw_legend,
    legend_columns,
    legend_height,
)
from datapakke.publish.charts.measure import wrap_to
from datapakke.publish.charts.panel import PanelSpec
from datapakke.publish.charts.rows import indicator_row, indicator_rows
from datapakke.publish.charts.style import (
    FONT,
    FONT_PANEL,
    FONT_TITLE,
    LINE_IN,
    MARGIN_IN,
    MAX_HEIGHT_IN,
    MUTED,
    PAGE_WIDTH_IN,
    SUBTITLE_LINE_IN,
    TITLE_LINE_IN,
)
from datapakke.publish.charts.trend import trend_panel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from datapakke.publish.pack_data import AreaPackData

COUNT_NOTE_DA = (
    "Tallet er et antal: udviklingen vises for området, og region og hele landet vises ikke til "
    "sammenligning"
)
SINGLE_PLOT_WIDTH_IN = 3.6  # a panel drawn alone: its plot area, besides its margins
BELOW_PLOT_IN = 0.45  # tick labels and the axis title


def trend_chart(pack: AreaPackData, indicator_id: str) -> Figure:
    """The indicator over time for the area, its members, region(s) and Denmark."""
    return draw_indicator(pack, indicator_row(pack, indicator_id), ["trend"])


def comparison_chart(pack: AreaPackData, indicator_id: str, period: str | None = None) -> Figure:
    """Each member in one period (default: latest) with its interval, coloured against Denmark."""
    return draw_indicator(pack, indicator_row(pack, indicator_id), ["comparison"], period)


def funnel_chart(pack: AreaPackData, indicator_id: str) -> Figure:
    """Every municipality against its denominator, with control limits around Denmark.

    Age-standardised rates, survey estimates and whole-population figures have no binomial or
    Poisson denominator, so limits would be wrong: the panel says so instead.
    """
    return draw_indicator(pack, indicator_row(pack, indicator_id), ["funnel"])


def indicator_figure(pack: AreaPackData, indicator_id: str) -> Figure:
    """Trend, comparison and funnel side by side: the picture on each indicator sheet.

    Without a funnel (see :func:`funnel_chart`) the two other panels share the width and the
    footer says why.
    """
    ind = indicator_row(pack, indicator_id)
    has_funnel = METHOD_RULES[str(ind["method"])].statistic is not None
    return draw_indicator(pack, ind, ["trend", "comparison"] + (["funnel"] if has_funnel else []))


def draw_indicator(
    pack: AreaPackData, ind: pd.Series, kinds: list[str], period: str | None = None
) -> Figure:
    """Lay out one to three panels in inches, draw them, then legends, footer and heading."""
    rows = indicator_rows(pack, str(ind["indicator_id"]))
    builders = {
        "trend": lambda: trend_panel(pack, ind, rows),
        "comparison": lambda: comparison_panel(pack, ind, rows, period),
        "funnel": lambda: funnel_panel(pack, ind),
    }
    specs = [builders[k]() for k in kinds]
    layout = _layout(pack, ind, specs)
    canvas = Canvas(layout.width, layout.height)
    _draw_panels(canvas, specs, layout)
    legend_top = 0.08 + layout.footer_h + 0.06 + layout.level_h
    draw_legend(canvas, layout.levels, MARGIN_IN, legend_top, layout.usable, 6, gid="level-legend")
    if layout.footer:
        canvas.text(MARGIN_IN, 0.08, layout.footer, color=MUTED, va="bottom", gid="footer")
    subtitle_top = layout.height - 0.1 - layout.title_h - 0.06
    canvas.heading(layout.title, layout.subtitle, subtitle_top)
    draw_watermark(canvas, pack)
    return canvas.fig


@dataclass(frozen=True)
class _Layout:
    """Where everything goes, in inches from the bottom-left corner."""

    width: float
    height: float
    bottom: float  # of the plot areas
    plot_height: float
    slot_widths: list[float]  # per panel: its margins and its plot
    plot_widths: list[float]
    levels: list[Key]  # the shared legend of the levels, above the footer
    level_h: float
    footer: str
    footer_h: float
    title: str
    title_h: float
    subtitle: str

    @property
    def usable(self) -> float:
        return self.width - 2 * MARGIN_IN


def _layout(pack: AreaPackData, ind: pd.Series, specs: list[PanelSpec]) -> _Layout:
    """Widths from the panels' margins; heights from the wrapped text and legend rows, the
    plots taking what is left (taller for many members, never beyond the page)."""
    pads = sum(s.pad_left + s.pad_right for s in specs)
    width = (pads + SINGLE_PLOT_WIDTH_IN + 2 * MARGIN_IN) if len(specs) == 1 else PAGE_WIDTH_IN
    usable = width - 2 * MARGIN_IN
    plot_widths = _plot_widths(specs, usable)
    slot_widths = [s.pad_left + w + s.pad_right for s, w in zip(specs, plot_widths, strict=True)]
    footer = _footer_text(_notes(ind, specs), usable)
    levels = list({k.label: k for s in specs for k in s.levels}.values())
    footer_h = LINE_IN * (footer.count("\n") + 1) if footer else 0.0
    level_h = legend_height(levels, usable, 6)
    keys_h = max(legend_height(s.keys, w - 0.1, 2) for s, w in zip(specs, slot_widths, strict=True))
    bottom = 0.08 + footer_h + 0.06 + level_h + (0.1 if keys_h else 0) + keys_h + BELOW_PLOT_IN
    title = wrap_to(str(ind["title_da"]), usable, FONT_TITLE, bold=True)
    subtitle = wrap_to(f"{ind['unit_da']} · {pack.area_name} · mænd og kvinder i alt", usable, FONT)
    title_h = TITLE_LINE_IN * (title.count("\n") + 1)
    top = 0.1 + title_h + 0.06 + SUBTITLE_LINE_IN * (subtitle.count("\n") + 1) + 0.6
    rows = max((s.rows for s in specs), default=0)
    plot_height = max(2.2, 0.165 * (rows + 0.6))
    height = min(top + plot_height + bottom, MAX_HEIGHT_IN)
    return _Layout(
        width=width,
        height=height,
        bottom=bottom,
        plot_height=height - top - bottom,
        slot_widths=slot_widths,
        plot_widths=plot_widths,
        levels=levels,
        level_h=level_h,
        footer=footer,
        footer_h=footer_h,
        title=title,
        title_h=title_h,
        subtitle=subtitle,
    )


def _plot_widths(specs: list[PanelSpec], usable: float) -> list[float]:
    """Equal plot widths, except that a panel whose legend needs two columns' room gets it
    from the others (a one-column legend would make every panel shorter)."""
    n = len(specs)
    widths = [(usable - sum(s.pad_left + s.pad_right for s in specs)) / n] * n
    if n == 1:
        return widths
    for i, spec in enumerate(specs):
        columns = legend_columns(spec.keys, math.inf, 2) if spec.keys else []
        need = sum(columns) + COLUMN_GAP_IN * (len(columns) - 1) + 0.1
        extra = need - (spec.pad_left + widths[i] + spec.pad_right)
        if extra > 0:
            widths = [w + extra if j == i else w - extra / (n - 1) for j, w in enumerate(widths)]
    return widths


def _notes(ind: pd.Series, specs: list[PanelSpec]) -> list[str]:
    """The footer: the panels' notes, what the figure leaves out and why, then the source."""
    rule = METHOD_RULES[str(ind["method"])]
    kinds = [s.kind for s in specs]
    notes = [n for s in specs for n in s.notes]
    if rule.is_count and kinds != ["funnel"]:
        notes.append(COUNT_NOTE_DA)
    if "funnel" not in kinds and rule.statistic is None and len(specs) > 1:
        notes.append(rule.no_funnel_da)
    source = str(ind.get("source_da", "") or "")
    return [*notes, f"Kilde: {source}" if source else ""]


def _footer_text(notes: Sequence[str], width_in: float) -> str:
    """The notes once each, as sentences, wrapped to the figure's width."""
    unique = list(dict.fromkeys(n.rstrip(". ") for n in notes if n))
    return wrap_to(". ".join(unique) + ".", width_in) if unique else ""


def _draw_panels(canvas: Canvas, specs: list[PanelSpec], layout: _Layout) -> None:
    """Each panel in its slot, left to right: header, plot, its own legend below."""
    x = MARGIN_IN
    bottom, plot_height = layout.bottom, layout.plot_height
    for spec, slot, plot_width in zip(specs, layout.slot_widths, layout.plot_widths, strict=True):
        _panel_header(canvas, x, bottom + plot_height, spec.title, spec.subtitle)
        spec.draw(canvas, (x + spec.pad_left, bottom, plot_width, plot_height))
        legend_top = bottom - BELOW_PLOT_IN - 0.05
        draw_legend(canvas, spec.keys, x, legend_top, slot - 0.1, 2, gid=f"{spec.kind}-legend")
        x += slot


def _panel_header(canvas: Canvas, x: float, top: float, title: str, subtitle: str) -> None:
    if title:
        canvas.text(x, top + 0.3, title, size=FONT_PANEL, bold=True, va="bottom", gid="panel-title")
    if subtitle:
        canvas.text(x, top + 0.1, subtitle, color=MUTED, va="bottom", gid="panel-subtitle")
