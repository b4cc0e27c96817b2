"""A panel of an indicator figure before layout: the room it needs, what it explains, how to
draw it. The figure (:mod:`~datapakke.publish.charts.indicator`) sizes every panel from these
before drawing any."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from datapakke.publish.charts.canvas import Box, Canvas
from datapakke.publish.charts.legend import Key


@dataclass
class PanelSpec:
    kind: str  # trend | comparison | funnel
    pad_left: float  # room left of the plot area (tick labels, names)
    pad_right: float  # room right of it (labels at line ends)
    draw: Callable[[Canvas, Box], None]
    keys: list[Key] = field(default_factory=list)  # legend below the panel
    levels: list[Key] = field(default_factory=list)  # shared legend of the levels
    notes: list[str] = field(default_factory=list)
    rows: int = 0  # rows the plot needs (comparison: one per member)
    title: str = ""
    subtitle: str = ""
