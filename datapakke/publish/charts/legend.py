"""Legends laid out in inches: as many columns as fit, glyphs drawn like the data they explain.

Why not matplotlib's ``Legend``: its layout is part of the cost the Axes-free drawing avoids (see
:mod:`~datapakke.publish.charts.canvas`); here the columns come from measured label widths, so a
legend fits the room it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from datapakke.publish.charts.canvas import Canvas
from datapakke.publish.charts.measure import text_width

HANDLE_IN = 0.3
KEY_GAP_IN = 0.07
COLUMN_GAP_IN = 0.2
ROW_IN = 0.19


@dataclass(frozen=True)
class Key:
    """One legend entry: a small glyph and its label."""

    label: str
    kind: str  # line | patch | marker | whisker
    style: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, label: str, kind: str, **style: Any) -> Key:
        return cls(label, kind, tuple(sorted(style.items())))

    @property
    def handle_width(self) -> float:
        return 0.16 if self.kind == "marker" else HANDLE_IN


def legend_columns(keys: Sequence[Key], width_in: float, max_columns: int) -> list[float]:
    """Column widths for the most columns (≤ max) that fit in ``width_in``, filled row by row."""
    for ncol in range(min(max_columns, len(keys)), 0, -1):
        widths = [
            max(k.handle_width for k in keys[c::ncol])
            + KEY_GAP_IN
            + max(text_width(k.label) for k in keys[c::ncol])
            for c in range(ncol)
        ]
        if sum(widths) + COLUMN_GAP_IN * (ncol - 1) <= width_in or ncol == 1:
            return widths
    return []


def legend_height(keys: Sequence[Key], width_in: float, max_columns: int) -> float:
    if not keys:
        return 0.0
    ncol = len(legend_columns(keys, width_in, max_columns))
    return math.ceil(len(keys) / ncol) * ROW_IN


def draw_legend(
    canvas: Canvas,
    keys: Sequence[Key],
    x: float,
    top: float,
    width_in: float,
    max_columns: int,
    gid: str = "legend",
) -> None:
    """Glyphs and labels in rows from ``top`` down."""
    widths = legend_columns(keys, width_in, max_columns)
    ncol = len(widths)
    handles = [max(k.handle_width for k in keys[c::ncol]) for c in range(ncol)]
    for i, key in enumerate(keys):
        col, row = i % ncol, i // ncol
        x0 = x + sum(widths[:col]) + COLUMN_GAP_IN * col
        y = top - (row + 0.5) * ROW_IN
        _draw_glyph(canvas, key, x0, y, f"{gid}-handle")
        canvas.text(x0 + handles[col] + KEY_GAP_IN, y, key.label, gid=f"{gid}-label")


def _draw_glyph(canvas: Canvas, key: Key, x0: float, y: float, gid: str) -> None:
    """The key's glyph, its left edge at ``x0``, centred on ``y``."""
    from matplotlib.patches import Rectangle

    style, w = dict(key.style), key.handle_width
    if key.kind == "patch":
        canvas.add(Rectangle((x0, y - 0.055), w, 0.11, **style), gid=gid)
    elif key.kind == "marker":
        canvas.line([x0 + w / 2], [y], gid, linestyle="none", **style)
    elif key.kind == "whisker":
        canvas.line([x0 + 0.04, x0 + w - 0.04], [y, y], gid, marker="|", **style)
    else:
        canvas.line([x0, x0 + w], [y, y], gid, **style)
