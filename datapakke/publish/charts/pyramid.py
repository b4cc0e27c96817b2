"""The population pyramid: the area's population by five-year age band as a share of all its
citizens, men left, women right, with Denmark's shares as an outline (is the area older or
younger than the country?) and the area five years earlier as a dashed one.

Shares, not head counts: an area of 40,000 and Denmark of 6 million can only be compared so."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from datapakke.publish.charts.axis import axis_title, tick_labels, ticks, value_axis
from datapakke.publish.charts.canvas import Canvas, Plot, draw_watermark
from datapakke.publish.charts.legend import Key, draw_legend
from datapakke.publish.charts.style import AXIS, FONT, INK, MUTED, PYRAMID_COLOURS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from datapakke.publish.pack_data import AreaPackData


class _Side(NamedTuple):
    label: str
    sign: int  # -1: left of the centre line
    gid: str


SIDES = {"M": _Side("Mænd", -1, "men"), "K": _Side("Kvinder", 1, "women")}
BAR_HALF = 0.41  # half a bar's thickness, in age bands


def population_pyramid(pack: AreaPackData, period: str | None = None) -> Figure:
    """The area's population by five-year age band (% of its citizens), men left, women right,
    with Denmark and the area five years earlier as outlines."""
    canvas = Canvas(7.5, 5.2)
    _draw(canvas, pack, period)
    draw_watermark(canvas, pack)
    return canvas.fig


def _draw(canvas: Canvas, pack: AreaPackData, period: str | None) -> None:
    pop = pack.population.assign(
        period=pack.population["period"].astype(str),
        population=pd.to_numeric(pack.population["population"], errors="coerce"),
        national_population=pd.to_numeric(
            pack.population.get("national_population"), errors="coerce"
        ),
    )
    pop = pop[pop["sex"].isin(list(SIDES))]
    latest = str(period) if period is not None else (str(pop["period"].max()) if len(pop) else "")
    canvas.heading(
        f"Befolkning efter alder og køn – {pack.area_name} og hele landet",
        f"Andel af alle borgere pr. 1. januar {latest} i femårsgrupper (procent)",
        canvas.height - 0.42,
    )
    box = (0.75, 0.95, canvas.width - 0.75 - 0.3, canvas.height - 0.95 - 1.1)
    now = pop[pop["period"] == latest]
    if now.empty:
        canvas.message(box, "Ingen befolkningstal")
        return
    earlier = str(int(latest) - 5) if latest.isdigit() else ""
    before = pop[pop["period"] == earlier]
    bands = sorted(now["age_band"].astype(str).unique(), key=_age_start)
    counts = {sex: _shares(now, sex, bands) for sex in SIDES}
    old = {sex: _shares(before, sex, bands) for sex in SIDES} if not before.empty else {}
    country = {sex: _shares(now, sex, bands, "national_population") for sex in SIDES}
    if not all(np.isfinite(c).any() for c in country.values()):
        country = {}  # a mart made before Denmark's population was kept beside the area's
    limit = np.nanmax(np.concatenate([*counts.values(), *old.values(), *country.values()]))
    limit = float(limit) * 1.08 if np.isfinite(limit) and limit > 0 else 1.0
    half_ticks = ticks(0, limit, 3)
    at = np.r_[-half_ticks[::-1], half_ticks[1:]]
    n = len(bands)
    plot = Plot(canvas, box, (-limit, limit), (-0.6, n - 0.4), gid="pyramid")
    value_axis(canvas, plot, "x", at, tick_labels(np.abs(at)))
    _draw_bars(plot, counts)
    _draw_outline(plot, old, "earlier", color=MUTED, linewidth=1.0, linestyle=(0, (3, 2)))
    _draw_outline(plot, country, "country", color=INK, linewidth=1.3)
    plot.line([0, 0], [-0.6, n - 0.4], color=AXIS, linewidth=0.8, zorder=4)
    _draw_labels(canvas, plot, bands)
    keys = [
        Key.of(f"{SIDES[sex].label} {latest}", "patch", facecolor=colour, edgecolor="none")
        for sex, colour in PYRAMID_COLOURS.items()
    ]
    if country:
        keys.append(Key.of(f"Hele landet {latest}", "line", color=INK, linewidth=1.3))
    if old:
        keys.append(
            Key.of(f"{earlier} (fem år før)", "line", color=MUTED, linewidth=1.0, linestyle="--")
        )
    legend_width = canvas.width - plot.left - 0.2
    draw_legend(canvas, keys, plot.left, 0.3, legend_width, 4, gid="pyramid-legend")


def _age_start(band: str) -> int:
    """'65-69' → 65, '95+' → 95; anything else last."""
    digits = str(band).split("-")[0].rstrip("+").strip()
    return int(digits) if digits.isdigit() else 999


def _shares(
    frame: pd.DataFrame, sex: str, bands: list[str], column: str = "population"
) -> np.ndarray:
    """One sex's count per band as a percentage of everyone (both sexes, every band)."""
    total = frame[column].sum(min_count=1)
    part = frame[frame["sex"] == sex].groupby("age_band")[column].sum(min_count=1)
    return part.reindex(bands).to_numpy(dtype=float) / total * 100


def _draw_bars(plot: Plot, counts: dict[str, np.ndarray]) -> None:
    """Each sex's bars on its side."""
    n = len(next(iter(counts.values())))
    y = np.arange(n, dtype=float)
    for sex, side in SIDES.items():
        sign = side.sign
        bars = [
            [
                (0, yy - BAR_HALF),
                (sign * c, yy - BAR_HALF),
                (sign * c, yy + BAR_HALF),
                (0, yy + BAR_HALF),
            ]
            for yy, c in zip(y, np.nan_to_num(counts[sex]), strict=True)
        ]
        plot.polygons(
            bars,
            f"pyramid-{side.gid}",
            facecolors=PYRAMID_COLOURS[sex],
            edgecolors="none",
            zorder=2,
        )


def _draw_outline(plot: Plot, shares: dict[str, np.ndarray], gid: str, **style: object) -> None:
    """Each sex's shares as a stepped outline over the bars (none when ``shares`` is empty)."""
    for sex, values in shares.items():
        side = SIDES[sex]
        n = len(values)
        signed = side.sign * np.nan_to_num(values)
        step_x = np.r_[0, np.repeat(signed, 2), 0]
        step_y = np.r_[-0.5, np.repeat(np.arange(n + 1) - 0.5, 2)[1:-1], n - 0.5]
        plot.line(step_x, step_y, f"pyramid-{gid}-{side.gid}", zorder=3, **style)


def _draw_labels(canvas: Canvas, plot: Plot, bands: list[str]) -> None:
    """Age bands left of the bars, the axes' titles, and which side is which sex."""
    y = plot.y_in(np.arange(len(bands), dtype=float))
    for yy, band in zip(y, bands, strict=True):
        canvas.text(plot.left - 0.06, yy, band.replace("-", "–"), ha="right", gid="pyramid-age")
    canvas.text(plot.left - 0.06, plot.top + 0.08, "Alder", ha="right", va="bottom", bold=True)
    axis_title(canvas, plot, "Andel af alle borgere (%)")
    for side in SIDES.values():
        canvas.text(
            plot.left + (0.5 + 0.25 * side.sign) * (plot.right - plot.left),
            plot.top + 0.08,
            side.label,
            size=FONT,
            bold=True,
            ha="center",
            va="bottom",
        )
