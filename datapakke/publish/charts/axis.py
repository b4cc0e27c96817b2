"""Value axes: data limits with air, round ticks, Danish tick labels, gridlines.

Drawn as a few artists in inches (one for all gridlines) instead of matplotlib's ``Axis``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from datapakke.presentation import format_da
from datapakke.publish.charts.canvas import Canvas, Plot
from datapakke.publish.charts.measure import text_width
from datapakke.publish.charts.style import AXIS, GRID


def nice_range(arrays: Sequence[Any], zero: bool = False) -> tuple[float, float]:
    """Data limits with a little air. Bars start at zero (``zero``); lines only include it when
    the data come close anyway, otherwise their changes would be flattened."""
    finite = [np.asarray(a, dtype=float).ravel() for a in arrays]
    values = np.concatenate(finite) if finite else np.array([])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if zero or (0 < low < 0.15 * high):
        low = min(low, 0.0)
    if zero and high < 0:
        high = 0.0
    pad = (high - low) * 0.07 or abs(high) * 0.1 or 1.0
    return (low if low == 0 else low - pad), (high if high == 0 and low < 0 else high + pad)


def ticks(low: float, high: float, n: int = 4) -> np.ndarray:
    """Up to ``n`` + 1 round ticks (steps 1, 2, 2.5, 5) inside ``low``–``high``."""
    from matplotlib.ticker import MaxNLocator

    values = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    eps = (high - low) * 1e-9
    return values[(values >= low - eps) & (values <= high + eps)]


def _decimals_for(values: np.ndarray) -> int:
    values = values[np.isfinite(values)]
    for decimals in range(5):
        scaled = values * 10**decimals
        if np.allclose(
            scaled, np.round(scaled), atol=1e-6 * max(1.0, np.abs(scaled).max(initial=0))
        ):
            return decimals
    return 4


def tick_labels(values: np.ndarray) -> list[str]:
    """Danish numbers with as many decimals as the tick step needs, and a real minus sign."""
    decimals = _decimals_for(np.asarray(values, float))
    return [format_da(float(t), decimals).replace("-", "−") for t in values]


def label_room(labels: Sequence[str]) -> float:
    """Width left of a plot for its y tick labels."""
    return max((text_width(t) for t in labels), default=0.3) + 0.12


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5, 1-3 or 1 per decade: as many as fit under a narrow panel."""
    decades = math.log10(high / low)
    subs = (1, 2, 5) if decades <= 1.3 else (1, 3) if decades <= 2.6 else (1,)
    return [
        s * 10.0**e
        for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for s in subs
        if low <= s * 10.0**e <= high
    ]


def value_axis(
    canvas: Canvas,
    plot: Plot,
    axis: str,
    at: Sequence[float],
    labels: Sequence[str] | None = None,
    grid: bool = True,
) -> None:
    """Gridlines (one artist), tick labels outside the plot area and a base line."""
    labels = tick_labels(np.asarray(at, float)) if labels is None else labels
    if axis == "y":
        ys = plot.y_in(at)
        if grid:
            _grid(canvas, plot, [[(plot.left, y), (plot.right, y)] for y in ys])
        for y, label in zip(ys, labels, strict=True):
            canvas.text(plot.left - 0.06, y, label, ha="right", gid=f"{plot.gid}-ytick")
    else:
        xs = plot.x_in(at)
        if grid:
            _grid(canvas, plot, [[(x, plot.bottom), (x, plot.top)] for x in xs])
        x_ticks(canvas, plot, xs, labels)
    canvas.segments(
        [[(plot.left, plot.bottom), (plot.right, plot.bottom)]],
        colors=AXIS,
        linewidths=0.8,
        zorder=2.5,
    )


def _grid(canvas: Canvas, plot: Plot, lines: list[Any]) -> None:
    canvas.segments(lines, f"{plot.gid}-grid", colors=GRID, linewidths=0.8, zorder=0.5)


def x_ticks(canvas: Canvas, plot: Plot, xs: np.ndarray, labels: Sequence[str]) -> None:
    """Tick marks under the plot at ``xs`` (inches) and their labels below them."""
    canvas.segments(
        [[(x, plot.bottom), (x, plot.bottom - 0.04)] for x in xs], colors=AXIS, linewidths=0.8
    )
    for x, label in zip(xs, labels, strict=True):
        canvas.text(x, plot.bottom - 0.07, label, ha="center", va="top", gid=f"{plot.gid}-xtick")


def axis_title(canvas: Canvas, plot: Plot, text: str, gid: str | None = None) -> None:
    """What the x axis measures, centred under its tick labels."""
    canvas.text(
        (plot.left + plot.right) / 2, plot.bottom - 0.26, text, ha="center", va="top", gid=gid
    )
