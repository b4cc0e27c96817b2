"""Drawing in inches on a bare ``Figure``: the canvas, plot areas, and where labels go.

Why no ``Axes``: a pipeline run draws ~1,450 figures on 2 cores, and matplotlib's ``Axes`` (with
its ``Tick`` objects and ``Legend`` layout) costs more than everything drawn here. So each panel
is a :class:`Plot` — a data→inch transform and a clip box — and gridlines, tick labels and
legends are laid out in inches from measured text widths. No pyplot, no rcParams, no
``tight_layout``/``bbox_inches``; matplotlib is imported inside functions so importing the
charts stays light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from datapakke.presentation import SYNTHETIC_WATERMARK_DA
from datapakke.publish.charts.measure import wrap_to
from datapakke.publish.charts.style import (
    DPI,
    FONT,
    FONT_SMALL,
    FONT_TITLE,
    INK,
    MARGIN_IN,
    MUTED,
    TITLE_LINE_IN,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from datapakke.publish.pack_data import AreaPackData

Box = tuple[float, float, float, float]  # left, bottom, width, height in inches


def new_figure(width: float, height: float) -> Figure:
    """A white figure on the fast canvas (its renderer is reused, its strings cached)."""
    from matplotlib.figure import Figure

    from datapakke.publish.charts.fast_text import ReusingCanvas

    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    ReusingCanvas(fig)
    return fig


class Canvas:
    """A figure with drawing helpers in inches from its bottom-left corner (no Axes)."""

    def __init__(self, width: float, height: float) -> None:
        self.fig = new_figure(width, height)
        self.width, self.height = width, height
        self.inches = self.fig.dpi_scale_trans

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        size: float = FONT_SMALL,
        color: str = INK,
        ha: str = "left",
        va: str = "center",
        bold: bool = False,
        italic: bool = False,
        **kw: Any,
    ) -> Artist:
        from datapakke.publish.charts.fast_text import Label

        label = Label(x, y, s, size=size, color=color, ha=ha, va=va, bold=bold, italic=italic, **kw)
        label.set_transform(self.inches)
        self.fig.add_artist(label)
        return label

    def heading(self, title: str, subtitle: str, subtitle_top: float) -> None:
        """The figure's bold title at the top and the muted subtitle whose top is given."""
        self.text(
            MARGIN_IN,
            self.height - 0.1,
            title,
            size=FONT_TITLE,
            bold=True,
            va="top",
            linespacing=TITLE_LINE_IN / (FONT_TITLE * 1.25 / 72),  # a wrapped title's pitch
            gid="title",
        )
        self.text(
            MARGIN_IN, subtitle_top, subtitle, size=FONT, color=MUTED, va="top", gid="subtitle"
        )

    def message(self, box: Box, message: str, gid: str = "empty-message") -> None:
        """A muted sentence in the middle of a plot area that has nothing to show."""
        left, bottom, width, height = box
        self.text(
            left + width / 2,
            bottom + height / 2,
            wrap_to(message, width - 0.2, FONT),
            size=FONT,
            color=MUTED,
            ha="center",
            gid=gid,
        )

    def add(self, artist: Artist, gid: str | None = None, clip: Any = None) -> Artist:
        if not artist.is_transform_set():
            artist.set_transform(self.inches)
        if clip is not None:
            artist.set_clip_box(clip)
            artist.set_clip_on(True)
        if gid:
            artist.set_gid(gid)
        self.fig.add_artist(artist)
        return artist

    def line(
        self,
        x: Sequence[float],
        y: Sequence[float],
        gid: str | None = None,
        transform: Any = None,
        clip: Any = None,
        **style: Any,
    ) -> Artist:
        from matplotlib.lines import Line2D

        style.setdefault("color", INK)  # the default 'C0' costs a property-cycle lookup
        artist = Line2D(np.asarray(x, float), np.asarray(y, float), **style)
        if transform is not None:
            artist.set_transform(transform)
        return self.add(artist, gid, clip)

    def segments(
        self,
        segments: list[Any],
        gid: str | None = None,
        transform: Any = None,
        clip: Any = None,
        **style: Any,
    ) -> Artist | None:
        from matplotlib.collections import LineCollection

        if not segments:
            return None
        artist = LineCollection(segments, **style)
        if transform is not None:
            artist.set_transform(transform)
        return self.add(artist, gid, clip)

    def polygons(
        self,
        polygons: list[Any],
        gid: str | None = None,
        transform: Any = None,
        clip: Any = None,
        **style: Any,
    ) -> Artist | None:
        from matplotlib.collections import PolyCollection

        if not polygons:
            return None
        artist = PolyCollection(polygons, **style)
        if transform is not None:
            artist.set_transform(transform)
        return self.add(artist, gid, clip)


class Plot:
    """A plot area in inches with data limits: the transform, clip box and mapping an Axes
    would give, at a fraction of the cost."""

    def __init__(
        self,
        canvas: Canvas,
        box: Box,
        xlim: tuple[float, float],
        ylim: tuple[float, float],
        xlog: bool = False,
        gid: str = "",
    ) -> None:
        from matplotlib.scale import LogTransform
        from matplotlib.transforms import (
            Bbox,
            BboxTransformFrom,
            BboxTransformTo,
            IdentityTransform,
            TransformedBbox,
            blended_transform_factory,
        )

        self.canvas, self.box, self.xlim, self.ylim, self.xlog = canvas, box, xlim, ylim, xlog
        self.gid = gid
        left, bottom, width, height = box
        x0, x1 = (math.log10(xlim[0]), math.log10(xlim[1])) if xlog else xlim
        to_box = BboxTransformTo(Bbox.from_bounds(left, bottom, width, height)) + canvas.inches
        self.trans = BboxTransformFrom(Bbox([[x0, ylim[0]], [x1, ylim[1]]])) + to_box
        if xlog:
            self.trans = (
                blended_transform_factory(LogTransform(10), IdentityTransform()) + self.trans
            )
        self.clip = TransformedBbox(Bbox.from_bounds(left, bottom, width, height), canvas.inches)

    @property
    def left(self) -> float:
        return self.box[0]

    @property
    def bottom(self) -> float:
        return self.box[1]

    @property
    def right(self) -> float:
        return self.box[0] + self.box[2]

    @property
    def top(self) -> float:
        return self.box[1] + self.box[3]

    def x_in(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        lo, hi = self.xlim
        if self.xlog:
            x, lo, hi = np.log10(x), math.log10(lo), math.log10(hi)
        return self.box[0] + (x - lo) / (hi - lo) * self.box[2]

    def y_in(self, y: Any) -> np.ndarray:
        lo, hi = self.ylim
        return self.box[1] + (np.asarray(y, dtype=float) - lo) / (hi - lo) * self.box[3]

    def line(self, x: Any, y: Any, gid: str | None = None, **style: Any) -> Artist:
        return self.canvas.line(x, y, gid, transform=self.trans, clip=self.clip, **style)

    def polygons(self, polygons: list[Any], gid: str, **style: Any) -> Artist | None:
        return self.canvas.polygons(polygons, gid, transform=self.trans, clip=self.clip, **style)

    def segments(self, segments: list[Any], gid: str, **style: Any) -> Artist | None:
        return self.canvas.segments(segments, gid, transform=self.trans, clip=self.clip, **style)


def draw_watermark(canvas: Canvas, pack: AreaPackData) -> None:
    """A diagonal 'Syntetiske data' over the whole figure, only when the numbers are made up."""
    if pack.is_synthetic:
        draw_synthetic_mark(canvas)


def draw_synthetic_mark(canvas: Canvas) -> None:
    """The diagonal 'Syntetiske data' itself (for figures drawn without a pack)."""
    from datapakke.publish.charts.fast_text import Watermark

    w, h = canvas.width, canvas.height
    mark = Watermark(
        SYNTHETIC_WATERMARK_DA,
        size=min(w, 1.6 * h) * 7,
        angle=math.degrees(math.atan2(h, w)),
        color="#7F7F7F",
        alpha=0.16,
        gid="watermark",
    )
    canvas.add(mark)


def spread(desired: Any, gap: float, low: float = -math.inf, high: float = math.inf) -> np.ndarray:
    """Move label positions apart by at least ``gap``, keeping each cluster centred, then
    inside ``low``–``high`` when they fit (names must not run into the axis labels)."""
    desired = np.asarray(desired, dtype=float)
    order = np.argsort(desired, kind="stable")
    clusters: list[list[float]] = []  # [first index in order, count, sum of desired]
    for i, y in enumerate(desired[order]):
        clusters.append([i, 1, y])
        while len(clusters) > 1:
            (_, n_a, s_a), (_, n_b, s_b) = clusters[-2], clusters[-1]
            if (s_b / n_b - (n_b - 1) * gap / 2) - (s_a / n_a + (n_a - 1) * gap / 2) >= gap:
                break
            clusters[-2] = [clusters[-2][0], n_a + n_b, s_a + s_b]
            clusters.pop()
    ranked = np.empty(len(desired))
    for start, n, total in clusters:
        first = total / n - (n - 1) * gap / 2
        ranked[int(start) : int(start + n)] = first + gap * np.arange(int(n))
    if len(ranked) and (ranked[0] < low or ranked[-1] > high):
        ranked[0] = max(ranked[0], low)
        for i in range(1, len(ranked)):
            ranked[i] = max(ranked[i], ranked[i - 1] + gap)
        ranked[-1] = min(ranked[-1], high)
        for i in range(len(ranked) - 2, -1, -1):
            ranked[i] = min(ranked[i], ranked[i + 1] - gap)
    placed = np.empty_like(desired)
    placed[order] = ranked
    return placed


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True: the contiguous stretches a band can be drawn over."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(edges[::2], edges[1::2], strict=True))
