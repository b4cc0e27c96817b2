"""The pack's charts: per indicator a trend, a comparison of members and a funnel; an overview
(spine chart) of every indicator; a population pyramid. Danish, print-sized, fast.

Why it is built like this:

* Print first. The workbook fits every picture to the printed width of A4 landscape
  (``PRINT_BOX_IN``): an 11-inch-wide figure prints at 97 %, so the smallest text here (8.5 pt)
  is ≥ 8 pt on paper, and no figure is taller than 11 × 6.47 in (beyond that the page height
  would shrink it).
* Speed. A pipeline run draws ~1,450 figures on 2 cores. matplotlib's ``Axes`` (with its
  ``Tick`` objects and ``Legend`` layout) costs more than everything drawn here, so each panel
  is a :class:`_Plot` — a data→inch transform and a clip box on a bare ``Figure`` — with
  gridlines, tick labels and legends laid out in inches from measured text widths (which also
  keeps text from being cut off: margins fit the labels). One Agg renderer is reused per thread
  and rasterised strings are cached (:func:`_mpl`). No ``tight_layout``/``bbox_inches``.
* No global state: ``Figure`` + Agg canvas, never pyplot, no rcParams; matplotlib and ``stats``
  are imported inside functions so the Dagster code location starts fast.
* Meaning. Comparisons use ``COMPARISON_COLOURS`` only, always against the whole country (the
  comparison a mayor understands); levels use the grey ``LEVEL_STYLES``. Suppressed or missing
  values are gaps or '<5'/'–', never zero.
"""

from __future__ import annotations

import functools
import math
import os
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from datapakke.presentation import (
    COMPARISON_COLOURS,
    COMPARISON_LABELS_DA,
    LEVEL_STYLES,
    ROLE_LABELS_DA,
    SUPPRESSED_TEXT,
    SYNTHETIC_WATERMARK_DA,
    THEME_ORDER,
    format_da,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from datapakke.publish.pack_data import AreaPackData

DPI = 110
# The printed box the workbook fits every picture into (A4 landscape inside its margins):
# workbook.PAGE_WIDE_PX at 96 dpi wide, workbook.PAGE_HIGH_PT high. Checked by the tests.
PRINT_BOX_IN = (1026 / 96, 487 * 0.95 / 72)
PAGE_WIDTH_IN = 11.0  # prints at 97 %: 8.5 pt text is 8.3 pt on paper
MAX_HEIGHT_IN = PAGE_WIDTH_IN * PRINT_BOX_IN[1] / PRINT_BOX_IN[0]  # taller: shrunk by height

PNG_MODE = 0o644

FONT_SMALL = 8.5  # ticks, legends, notes: the smallest text anywhere
FONT = 9.0
FONT_PANEL = 10.0
FONT_TITLE = 12.5
LINE_IN = FONT_SMALL * 1.25 / 72  # one line of small text

INK = "#1A1A1A"
MUTED = "#595959"
AXIS = "#8C8C8C"
GRID = "#E3E3E3"
GRID_DARK = "#C4C4C4"
BAR_EDGE = "#8C8C8C"
OTHER_POINT = "#BDBDBD"
BAND_ALPHA = 0.14
ROW_SHADE = "#F3F3F3"
SPINE_RANGE = "#D4D4D4"
SPINE_MIDDLE = "#9C9C9C"
PYRAMID_COLOURS = {"M": "#8FA3B8", "K": "#C9A98E"}  # neutral: no comparison meaning
LIMIT_STYLES = {
    "95": {"color": "#9A9A9A", "linewidth": 1.0},
    "998": {"color": "#3F3F3F", "linewidth": 1.2},
}
MAX_LABELLED_MEMBERS = 12
MAX_FUNNEL_NAMES = 6  # more members than this: only those outside the 95 % limits are named
MISSING_TEXT = "–"

CI_LABEL_DA = "95 %-konfidensinterval"
SUPPRESSED_CHART_NOTE_DA = "Skjulte værdier vises ikke"
MISSING_CHART_NOTE_DA = "Manglende værdier vises ikke"
COMPARED_DA = "Farve: sammenlignet med hele landet"
FUNNEL_KIND = {"proportion": "proportion", "crude_rate": "rate"}
NO_FUNNEL_DA = {
    "dsr": "Tragtdiagram vises ikke for aldersstandardiserede rater",
    "survey": "Tragtdiagram vises ikke for spørgeskemaestimater",
}
NO_FUNNEL_OTHER_DA = "Tragtdiagram vises ikke for tal uden statistisk usikkerhed"
COUNT_METHODS = {"count"}  # sums: an area is not comparable with single municipalities
COUNT_NOTE_DA = (
    "Tallet er et antal: udviklingen vises for området, og region og hele landet vises ikke til "
    "sammenligning"
)

_MARGIN_IN = 0.15
_TITLE_LINE_IN = FONT_TITLE * 1.3 / 72
_SUBTITLE_LINE_IN = FONT * 1.25 / 72


# ---------------------------------------------------------------------------- public API


def trend_chart(pack: AreaPackData, indicator_id: str) -> Figure:
    """The indicator over time for the area, its members, region(s) and Denmark."""
    return _panels_figure(pack, _indicator(pack, indicator_id), ["trend"])


def comparison_chart(pack: AreaPackData, indicator_id: str, period: str | None = None) -> Figure:
    """Each member in one period (default: latest) with its interval, coloured against Denmark."""
    return _panels_figure(pack, _indicator(pack, indicator_id), ["comparison"], period=period)


def funnel_chart(pack: AreaPackData, indicator_id: str) -> Figure:
    """Every municipality against its denominator, with control limits around Denmark.

    Age-standardised rates, survey estimates and whole-population figures have no binomial or
    Poisson denominator, so limits would be wrong: the panel says so instead.
    """
    return _panels_figure(pack, _indicator(pack, indicator_id), ["funnel"])


def indicator_figure(pack: AreaPackData, indicator_id: str) -> Figure:
    """Trend, comparison and funnel side by side: the picture on each indicator sheet.

    Without a funnel (see :func:`funnel_chart`) the two other panels share the width and the
    footer says why.
    """
    ind = _indicator(pack, indicator_id)
    kinds = ["trend", "comparison"] + (["funnel"] if ind["method"] in FUNNEL_KIND else [])
    return _panels_figure(pack, ind, kinds)


def overview_chart(pack: AreaPackData, member_code: str | None = None) -> Figure:
    """Spine chart of every indicator for the area (or one member) against all municipalities.

    Each bar is the range of Denmark's municipalities (darker: the middle half), rescaled so the
    national value is in the middle; the dot is the area's value coloured by its comparison with
    Denmark, and the value is printed beside it.
    """
    canvas = _Canvas(PAGE_WIDTH_IN, MAX_HEIGHT_IN)
    _draw_overview(canvas, pack, _overview_rows(pack, member_code), member_code)
    _watermark(canvas, pack)
    return canvas.fig


def population_pyramid(pack: AreaPackData, period: str | None = None) -> Figure:
    """The area's population by five-year age band, men left, women right, with the population
    five years earlier as an outline."""
    canvas = _Canvas(7.5, 5.2)
    _draw_pyramid(canvas, pack, period)
    _watermark(canvas, pack)
    return canvas.fig


def save_png(fig: Figure, path: str | os.PathLike[str], dpi: int = DPI) -> Path:
    """Draw and write a PNG atomically (temp file in the same folder, then rename); release the
    figure. A failed draw or write leaves an existing file untouched and no temp file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(png_bytes(fig, dpi))
            os.fchmod(out.fileno(), PNG_MODE)  # mkstemp makes 0600; the site serves these
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
        _close(fig)
    return path


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG: RGB, rows unfiltered, zlib level 1.

    Why not ``savefig``: Pillow tries all five PNG row filters on every row, which took as long
    as drawing the figure; unfiltered rows compress better here anyway (flat colours, white
    space): 12 ms and ~150 kB instead of 35 ms and ~185 kB for an indicator figure.
    """
    if fig.dpi != dpi:
        fig.set_dpi(dpi)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type None
    body = rows[:, 1:].reshape(height, width, 3)
    for channel in range(3):  # 8× faster than one strided RGBA→RGB copy
        body[..., channel] = rgba[..., channel]
    pixels_per_metre = round(dpi / 0.0254)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", pixels_per_metre, pixels_per_metre, 1)),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(tag: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + tag
        + payload
        + struct.pack(">I", zlib.crc32(tag + payload))
    )


def render_area_charts(pack: AreaPackData, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Every chart of one pack: ``overview``, ``pyramid`` and ``indicator_<id>`` → PNG path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = {
        "overview": save_png(overview_chart(pack), out / "overview.png"),
        "pyramid": save_png(population_pyramid(pack), out / "pyramid.png"),
    }
    for indicator_id in _catalogue(pack)["indicator_id"]:
        name = f"indicator_{indicator_id}"
        charts[name] = save_png(indicator_figure(pack, indicator_id), out / f"{name}.png")
    return charts


def funnel_data(pack: AreaPackData, indicator_id: str) -> dict[str, Any] | None:
    """The funnel's numbers: points, target, overdispersion and limit curves (None: no funnel).

    The target is Denmark pooled over published municipalities, Σnumerator/Σdenominator ×
    multiplier, computed as the denominator-weighted mean of the values (the same number, since
    value = numerator/denominator × multiplier, and it cannot disagree with the points drawn).
    """
    from datapakke.mart import stats

    ind = _indicator(pack, indicator_id)
    kind = FUNNEL_KIND.get(str(ind["method"]))
    if kind is None:
        return None
    f = pack.funnel[pack.funnel["indicator_id"] == indicator_id]
    value = pd.to_numeric(f["value"], errors="coerce").to_numpy(float)
    n = pd.to_numeric(f["denominator"], errors="coerce").to_numpy(float)
    suppressed = f["is_suppressed"].fillna(False).astype(bool).to_numpy()
    ok = ~suppressed & np.isfinite(value) & np.isfinite(n) & (n > 0)
    multiplier = float(ind["multiplier"])
    data: dict[str, Any] = {
        "points": pd.DataFrame(
            {
                "area_name": f["area_name"].astype(str).to_numpy()[ok],
                "denominator": n[ok],
                "value": value[ok],
                "is_member": f["is_member"].fillna(False).astype(bool).to_numpy()[ok],
            }
        ),
        "period": str(f["period"].max()) if not f.empty else "",
        "kind": kind,
        "target": math.nan,
        "tau2": 0.0,
        "overdispersed": False,
        "grid": np.array([]),
        "limits": {},
        "n_suppressed": int(suppressed.sum()),
    }
    if ok.sum() < 3:
        return data
    target = float(np.sum(value[ok] * n[ok]) / np.sum(n[ok]))
    od = stats.overdispersion(value[ok], n[ok], target, kind, multiplier=multiplier)
    overdispersed = bool(od.get("overdispersed", False))
    tau2 = float(od.get("tau2", 0.0)) if overdispersed else 0.0
    grid = np.geomspace(n[ok].min() * 0.7, n[ok].max() * 1.4, 60)
    data.update(
        target=target,
        tau2=tau2,
        overdispersed=overdispersed,
        grid=grid,
        limits={
            label: stats.funnel_limits(target, grid, kind, z, multiplier=multiplier, tau2=tau2)
            for label, z in (("95", stats.Z95), ("998", stats.Z998))
        },
    )
    return data


# ---------------------------------------------------------------------------- rendering machinery


_local = threading.local()  # renderers per thread: a renderer draws one figure at a time
_TEXT_CACHE: dict[tuple[Any, ...], tuple[np.ndarray, float, float, float]] = {}
_TEXT_CACHE_MAX = 4096


class _Classes(NamedTuple):
    canvas: type
    renderer: type
    label: type
    watermark: type


@functools.cache
def _mpl() -> _Classes:
    """matplotlib subclasses, defined on first use (matplotlib is imported lazily): an Agg canvas
    that reuses its renderer, a renderer that caches rasterised strings, and two light artists
    that draw through that cache (text in inches, the watermark).

    Why: every new canvas makes a new renderer, matplotlib's text-metrics cache is keyed on the
    renderer, so each figure measured and rasterised every label again with FreeType — most of
    the drawing time. The same strings recur in every figure of a pack. Hinting is off (no
    visible difference at 110 dpi, slower), set on this renderer so no rcParams are touched.
    """
    from matplotlib import ft2font
    from matplotlib.artist import Artist
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
    from matplotlib.font_manager import findfont, get_font

    no_hinting = ft2font.LoadFlags.NO_HINTING

    class CachedTextRenderer(RendererAgg):
        def _prepare_font(self, font_prop: Any) -> Any:
            font = get_font(findfont(font_prop), hinting_factor=1)
            font.clear()
            font.set_size(font_prop.get_size_in_points(), self.dpi)
            return font

        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
            if ismath:
                return super().get_text_width_height_descent(s, prop, ismath)
            font = self._prepare_font(prop)
            font.set_text(s, 0.0, flags=no_hinting)
            w, h = font.get_width_height()
            return w / 64.0, h / 64.0, font.get_descent() / 64.0

        def draw_text(
            self,
            gc: Any,
            x: float,
            y: float,
            s: str,
            prop: Any,
            angle: float,
            ismath: Any = False,
            mtext: Any = None,
        ) -> None:
            if ismath:
                super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
                return
            key = (s, hash(prop), prop.get_size_in_points(), self.dpi, bool(gc.get_antialiased()))
            hit = _TEXT_CACHE.get(key)
            if hit is None:
                font = self._prepare_font(prop)
                font.set_text(s, 0, flags=no_hinting)
                font.draw_glyphs_to_bitmap(antialiased=gc.get_antialiased())
                xo, yo = font.get_bitmap_offset()
                hit = (np.array(font), font.get_descent() / 64.0, xo / 64.0, yo / 64.0)
                if len(_TEXT_CACHE) >= _TEXT_CACHE_MAX:
                    _TEXT_CACHE.clear()
                _TEXT_CACHE[key] = hit
            image, descent, xo, yo = hit
            x = round(x + xo + descent * math.sin(math.radians(angle)))
            y = round(y + yo + descent * math.cos(math.radians(angle)))
            self._renderer.draw_text_image(image, x, y + 1, angle, gc)

    class ReusingCanvas(FigureCanvasAgg):
        def get_renderer(self) -> Any:
            w, h = self.figure.bbox.size
            key = (w, h, self.figure.dpi)
            pool = _local.__dict__.setdefault("renderers", {})
            renderer = pool.get(key)
            if renderer is None:
                if len(pool) >= 6:
                    pool.clear()
                renderer = pool[key] = CachedTextRenderer(w, h, self.figure.dpi)
            self.renderer, self._lastKey = renderer, key
            return renderer

    class Label(Artist):
        """Unrotated text placed in inches and drawn straight from the renderer's string cache.

        Why not ``Text``: everything here is positioned in inches already, and ``Text.draw``
        re-runs its layout machinery on every draw — three quarters of all drawing time. Lines
        are laid out as ``_text_width`` measures them (the layout code's own numbers).
        """

        def __init__(
            self,
            x: float,
            y: float,
            text: str,
            *,
            size: float,
            color: str,
            ha: str,
            va: str,
            bold: bool,
            italic: bool = False,
            linespacing: float = 1.0,
            gid: str | None = None,
            zorder: float = 3,
        ) -> None:
            super().__init__()
            self._x, self._y, self._text, self._size = x, y, str(text), size
            self._bold, self._italic, self._color = bold, italic, color
            self._ha, self._va, self._linespacing = ha, va, linespacing
            self._prop = _font_properties(size, bold, italic)
            self.set_gid(gid)
            self.set_zorder(zorder)

        def get_text(self) -> str:
            return self._text

        def get_fontsize(self) -> float:
            return self._size

        def get_position(self) -> tuple[float, float]:
            return self._x, self._y

        def _lines(self, dpi: float) -> list[tuple[str, float, float, float]]:
            """(line, left, baseline, width) in pixels from the figure's bottom-left."""
            lines = self._text.split("\n")
            px = dpi / 72
            pitch = self._size * 1.25 * self._linespacing * px
            ascent, descent = _ASCENT * self._size * px, _DESCENT * self._size * px
            block = ascent + descent + (len(lines) - 1) * pitch
            top = self._y * dpi + {"top": 0, "bottom": block, "center": block / 2}.get(
                self._va, ascent
            )  # 'baseline': the first line's baseline is at y
            out = []
            for i, line in enumerate(lines):
                width = _text_width(line, self._size, self._bold, self._italic) * dpi
                left = self._x * dpi - {"left": 0, "center": width / 2}.get(self._ha, width)
                out.append((line, left, top - ascent - i * pitch, width))
            return out

        def draw(self, renderer: Any) -> None:
            if not self.get_visible() or not self._text:
                return
            gc = renderer.new_gc()
            gc.set_foreground(self._color)
            gc.set_alpha(self.get_alpha())
            height = renderer.height
            for line, left, baseline, _width in self._lines(renderer.dpi):
                if line:
                    renderer.draw_text(gc, left, height - baseline, line, self._prop, 0)
            gc.restore()
            self.stale = False

        def get_window_extent(self, renderer: Any = None) -> Any:
            from matplotlib.transforms import Bbox

            dpi = self.get_figure(root=True).dpi
            lines = self._lines(dpi)
            ascent, descent = _ASCENT * self._size * dpi / 72, _DESCENT * self._size * dpi / 72
            lefts = [left for _, left, _, _ in lines]
            rights = [left + width for _, left, _, width in lines]
            baselines = [baseline for _, _, baseline, _ in lines]
            return Bbox(
                [[min(lefts), min(baselines) - descent], [max(rights), max(baselines) + ascent]]
            )

    class Watermark(Artist):
        """Diagonal text over the whole figure, rotated once per size and dpi, then blitted.

        Why: Agg rotates a rotated text's bitmap on every draw — for this one large text that
        was a tenth of an indicator figure's drawing time.
        """

        def __init__(
            self, text: str, size: float, angle: float, color: str, alpha: float, gid: str
        ) -> None:
            super().__init__()
            self._text, self._size, self._angle, self._color = text, size, angle, color
            self.set_alpha(alpha)
            self.set_gid(gid)
            self.set_zorder(1000)

        def get_text(self) -> str:
            return self._text

        def get_fontsize(self) -> float:
            return self._size

        def get_rotation(self) -> float:
            return self._angle

        def _mask(self, dpi: float) -> np.ndarray:
            return _rotated_text_mask(self._text, self._size, round(self._angle, 3), dpi)

        def draw(self, renderer: Any) -> None:
            if not self.get_visible():
                return
            mask = self._mask(renderer.dpi)
            gc = renderer.new_gc()
            gc.set_foreground(self._color)
            gc.set_alpha(self.get_alpha())
            h, w = mask.shape
            # draw_text_image puts the image's bottom-left at (x, y), y counted from the top.
            x, y = round((renderer.width - w) / 2), round((renderer.height + h) / 2)
            renderer._renderer.draw_text_image(mask, x, y, 0, gc)
            gc.restore()
            self.stale = False

        def get_window_extent(self, renderer: Any = None) -> Any:
            from matplotlib.transforms import Bbox

            fig = self.get_figure(root=True)
            h, w = self._mask(fig.dpi).shape
            cx, cy = fig.bbox.width / 2, fig.bbox.height / 2
            return Bbox([[cx - w / 2, cy - h / 2], [cx + w / 2, cy + h / 2]])

    return _Classes(ReusingCanvas, CachedTextRenderer, Label, Watermark)


@functools.lru_cache(maxsize=16)
def _rotated_text_mask(text: str, size: float, angle: float, dpi: float) -> np.ndarray:
    """Anti-aliased coverage of bold text at ``angle`` degrees, as uint8 rows (top first)."""
    from matplotlib import ft2font
    from matplotlib.font_manager import findfont, get_font
    from PIL import Image

    font = get_font(findfont(_font_properties(size, True, False)), hinting_factor=1)
    font.clear()
    font.set_size(size, dpi)
    font.set_text(text, 0.0, flags=ft2font.LoadFlags.NO_HINTING)
    font.draw_glyphs_to_bitmap(antialiased=True)
    image = Image.fromarray(np.array(font)).rotate(angle, Image.Resampling.BICUBIC, expand=True)
    return np.array(image, dtype=np.uint8)  # a writeable copy: Agg wants one


_ASCENT, _DESCENT = 0.76, 0.24  # of the font size: the 'lp' box matplotlib centres text on


@functools.lru_cache(maxsize=64)
def _font_properties(size: float, bold: bool, italic: bool) -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(
        size=size, weight="bold" if bold else "normal", style="italic" if italic else "normal"
    )


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    _mpl().canvas(fig)
    return fig


def _close(fig: Figure) -> None:
    """Release a saved figure: there is no pyplot registry to leave, so dropping the canvas
    (figure ↔ canvas cycle) is all; ``fig.clear()`` would cost more than drawing it."""
    fig.canvas.figure = None  # type: ignore[assignment]


@functools.lru_cache(maxsize=8192)
def _text_width(
    text: str, size: float = FONT_SMALL, bold: bool = False, italic: bool = False
) -> float:
    """Width in inches of a (possibly multi-line) string, measured as the renderer will draw it."""
    from matplotlib import ft2font
    from matplotlib.font_manager import findfont, get_font

    font = get_font(findfont(_font_properties(size, bold, italic)), hinting_factor=1)
    font.set_size(size, 72)
    widest = 0.0
    for line in str(text).split("\n"):
        font.set_text(line, 0.0, flags=ft2font.LoadFlags.NO_HINTING)
        widest = max(widest, font.get_width_height()[0] / 64 / 72)
    return widest


def _wrap_to(text: str, width_in: float, size: float = FONT_SMALL, bold: bool = False) -> str:
    """Greedy word wrap to a measured width (matplotlib's own wrap needs a draw first)."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and _text_width(f"{lines[-1]} {word}", size, bold) <= width_in:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


class _Canvas:
    """A figure with drawing helpers in inches from its bottom-left corner (no Axes)."""

    def __init__(self, width: float, height: float) -> None:
        self.fig = _figure(width, height)
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
        **kw: Any,
    ) -> Artist:
        label = _mpl().label(
            x,
            y,
            s,
            size=size,
            color=color,
            ha=ha,
            va=va,
            bold=bold,
            italic=kw.pop("fontstyle", "normal") == "italic",
            **kw,
        )
        label.set_transform(self.inches)
        self.fig.add_artist(label)
        return label

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


class _Plot:
    """A plot area in inches with data limits: the transform, clip box and mapping an Axes
    would give, at a fraction of the cost."""

    def __init__(
        self,
        canvas: _Canvas,
        box: tuple[float, float, float, float],
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


# ---------------------------------------------------------------------------- small helpers


def _catalogue(pack: AreaPackData) -> pd.DataFrame:
    cat = pack.catalogue
    return cat.sort_values("order", kind="stable") if "order" in cat else cat


def _indicator(pack: AreaPackData, indicator_id: str) -> pd.Series:
    match = pack.catalogue[pack.catalogue["indicator_id"] == indicator_id]
    if match.empty:
        raise KeyError(f"indicator {indicator_id!r} is not in the pack's catalogue")
    return match.iloc[0]


@dataclass(frozen=True)
class _Rows:
    """One indicator's sex-T rows as numpy arrays: panels filter them hundreds of times per
    area, and pandas' per-call overhead was a third of the building time."""

    role: np.ndarray
    code: np.ndarray
    name: np.ndarray
    year: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    suppressed: np.ndarray
    compared: np.ndarray  # compared_to_national, unknown categories → not_compared

    def __len__(self) -> int:
        return len(self.year)

    def where(self, mask: np.ndarray) -> _Rows:
        return _Rows(**{f: getattr(self, f)[mask] for f in self.__dataclass_fields__})

    def unit_codes(self) -> list[str]:
        return sorted(set(self.code.tolist()))

    def series(self, code: str, years: np.ndarray, column: str = "value") -> np.ndarray:
        """Values of one unit over ``years``, NaN where there is no row: gaps stay gaps."""
        out = np.full(len(years), np.nan)
        pick = self.code == code
        out[np.searchsorted(years, self.year[pick])] = getattr(self, column)[pick]
        return out


def _values(pack: AreaPackData, indicator_id: str) -> _Rows:
    v = pack.indicator_values(indicator_id, "T")
    year = pd.to_numeric(v["period"], errors="coerce").to_numpy(float)
    compared = v["compared_to_national"].astype(str).to_numpy()
    rows = _Rows(
        role=v["role"].astype(str).to_numpy(),
        code=v["area_code"].astype(str).to_numpy(),
        name=v["area_name"].astype(str).to_numpy(),
        year=year,
        value=pd.to_numeric(v["value"], errors="coerce").to_numpy(float),
        low=pd.to_numeric(v["ci95_low"], errors="coerce").to_numpy(float),
        high=pd.to_numeric(v["ci95_high"], errors="coerce").to_numpy(float),
        suppressed=v["is_suppressed"].fillna(False).astype(bool).to_numpy(),
        compared=np.where(np.isin(compared, list(COMPARISON_COLOURS)), compared, "not_compared"),
    )
    return rows.where(np.isfinite(year))


def _latest_year(year: np.ndarray, value: np.ndarray, suppressed: np.ndarray) -> float | None:
    """Latest period with anything published (a value or a suppressed cell)."""
    shown = np.isfinite(value) | suppressed
    years = year[shown] if shown.any() else year
    return float(np.nanmax(years)) if len(years) else None


def _nice_range(arrays: Sequence[Any], zero: bool = False) -> tuple[float, float]:
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


def _ticks(low: float, high: float, n: int = 4) -> np.ndarray:
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    eps = (high - low) * 1e-9
    return ticks[(ticks >= low - eps) & (ticks <= high + eps)]


def _decimals_for(values: np.ndarray) -> int:
    values = values[np.isfinite(values)]
    for decimals in range(5):
        scaled = values * 10**decimals
        if np.allclose(
            scaled, np.round(scaled), atol=1e-6 * max(1.0, np.abs(scaled).max(initial=0))
        ):
            return decimals
    return 4


def _tick_labels(ticks: np.ndarray) -> list[str]:
    """Danish numbers with as many decimals as the tick step needs, and a real minus sign."""
    decimals = _decimals_for(np.asarray(ticks, float))
    return [format_da(float(t), decimals).replace("-", "−") for t in ticks]


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5, 1-3 or 1 per decade: as many as fit under a narrow panel."""
    decades = math.log10(high / low)
    subs = (1, 2, 5) if decades <= 1.3 else (1, 3) if decades <= 2.6 else (1,)
    return [
        s * 10.0**e
        for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for s in subs
        if low <= s * 10.0**e <= high
    ]


def _spread(desired: Any, gap: float, low: float = -math.inf, high: float = math.inf) -> np.ndarray:
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


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True: the contiguous stretches a band can be drawn over."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _comparable_levels(ind: pd.Series, benchmark: bool = False) -> tuple[str, ...]:
    """Levels drawn with the members. A count's area is the sum of its members and Denmark is
    millions: not benchmarks, and region and country would squash the scale. So a count's trend
    shows the area alone and its comparison no benchmark lines."""
    if str(ind["method"]) in COUNT_METHODS:
        return () if benchmark else ("area",)
    return ("area", "region", "country")


def _level_units(pack: AreaPackData, rows: _Rows, role: str) -> list[_Rows]:
    """Rows of each unit of one level, by code; a region pack's own region is the area."""
    rows = rows.where(rows.role == role)
    if role == "region" and pack.grouping == "region":
        rows = rows.where(rows.code != str(pack.area_id))
    return [rows.where(rows.code == code) for code in rows.unit_codes()]


def _level_style(role: str, index: int = 0) -> dict[str, Any]:
    style = dict(LEVEL_STYLES[role])
    if role == "region" and index % 2 == 1:
        style["linestyle"] = "-."  # a second region must not look like the first
    return style


def _level_label(pack: AreaPackData, role: str, name: str) -> str:
    if role == "area":
        return f"{ROLE_LABELS_DA['area']}: {pack.area_name}"
    if role == "region":
        return name if name.startswith("Region") else f"Region {name}"
    return ROLE_LABELS_DA[role]


# ---------------------------------------------------------------------------- legends and text


@dataclass(frozen=True)
class _Key:
    """One legend entry: a small glyph and its label."""

    label: str
    kind: str  # line | patch | marker | whisker
    style: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, label: str, kind: str, **style: Any) -> _Key:
        return cls(label, kind, tuple(sorted(style.items())))


_HANDLE_IN = 0.3
_KEY_GAP_IN = 0.07
_COLUMN_GAP_IN = 0.2
_ROW_IN = 0.19


def _handle_width(key: _Key) -> float:
    return 0.16 if key.kind == "marker" else _HANDLE_IN


def _legend_columns(keys: Sequence[_Key], width_in: float, max_columns: int) -> list[float]:
    """Column widths for the most columns (≤ max) that fit in ``width_in``, filled row by row."""
    for ncol in range(min(max_columns, len(keys)), 0, -1):
        widths = [
            max(_handle_width(k) for k in keys[c::ncol])
            + _KEY_GAP_IN
            + max(_text_width(k.label) for k in keys[c::ncol])
            for c in range(ncol)
        ]
        if sum(widths) + _COLUMN_GAP_IN * (ncol - 1) <= width_in or ncol == 1:
            return widths
    return []


def _legend_height(keys: Sequence[_Key], width_in: float, max_columns: int) -> float:
    if not keys:
        return 0.0
    ncol = len(_legend_columns(keys, width_in, max_columns))
    return math.ceil(len(keys) / ncol) * _ROW_IN


def _draw_legend(
    canvas: _Canvas,
    keys: Sequence[_Key],
    x: float,
    top: float,
    width_in: float,
    max_columns: int,
    gid: str = "legend",
) -> None:
    """Glyphs and labels in rows from ``top`` down; lines share one artist per style."""
    from matplotlib.patches import Rectangle

    widths = _legend_columns(keys, width_in, max_columns)
    ncol = len(widths)
    handles = [max(_handle_width(k) for k in keys[c::ncol]) for c in range(ncol)]
    for i, key in enumerate(keys):
        col, row = i % ncol, i // ncol
        x0 = x + sum(widths[:col]) + _COLUMN_GAP_IN * col
        y = top - (row + 0.5) * _ROW_IN
        style, w = dict(key.style), _handle_width(key)
        if key.kind == "patch":
            canvas.add(Rectangle((x0, y - 0.055), w, 0.11, **style), gid=f"{gid}-handle")
        elif key.kind == "marker":
            canvas.line([x0 + w / 2], [y], f"{gid}-handle", linestyle="none", **style)
        elif key.kind == "whisker":
            canvas.line([x0 + 0.04, x0 + w - 0.04], [y, y], f"{gid}-handle", marker="|", **style)
        else:
            canvas.line([x0, x0 + w], [y, y], f"{gid}-handle", **style)
        canvas.text(x0 + handles[col] + _KEY_GAP_IN, y, key.label, gid=f"{gid}-label")


def _watermark(canvas: _Canvas, pack: AreaPackData) -> None:
    """A diagonal 'Syntetiske data' over the whole figure, only when the numbers are made up."""
    if not pack.is_synthetic:
        return
    w, h = canvas.width, canvas.height
    mark = _mpl().watermark(
        SYNTHETIC_WATERMARK_DA,
        size=min(w, 1.6 * h) * 7,
        angle=math.degrees(math.atan2(h, w)),
        color="#7F7F7F",
        alpha=0.16,
        gid="watermark",
    )
    canvas.add(mark)


def _footer_text(notes: Sequence[str], width_in: float) -> str:
    unique = list(dict.fromkeys(n.rstrip(". ") for n in notes if n))
    return _wrap_to(". ".join(unique) + ".", width_in) if unique else ""


# ---------------------------------------------------------------------------- indicator panels


@dataclass
class _PanelSpec:
    """A panel before layout: how much room it needs, what it explains, and how to draw it."""

    kind: str
    pad_left: float  # room left of the plot area (tick labels, names)
    pad_right: float  # room right of it (labels at line ends)
    draw: Callable[[_Canvas, tuple[float, float, float, float]], None]
    keys: list[_Key] = field(default_factory=list)  # legend below the panel
    levels: list[_Key] = field(default_factory=list)  # shared legend of the levels
    notes: list[str] = field(default_factory=list)
    rows: int = 0  # rows the plot needs (comparison: one per member)
    title: str = ""
    subtitle: str = ""


def _panels_figure(
    pack: AreaPackData, ind: pd.Series, kinds: list[str], period: str | None = None
) -> Figure:
    """Lay out one to three panels in inches, draw them, then legends, notes and titles."""
    v = _values(pack, str(ind["indicator_id"]))
    builders = {
        "trend": lambda: _trend_panel(pack, ind, v),
        "comparison": lambda: _comparison_panel(pack, ind, v, period),
        "funnel": lambda: _funnel_panel(pack, ind),
    }
    specs = [builders[k]() for k in kinds]
    single = len(specs) == 1
    width = (
        (sum(s.pad_left + s.pad_right for s in specs) + 3.6 + 2 * _MARGIN_IN)
        if single
        else PAGE_WIDTH_IN
    )
    usable = width - 2 * _MARGIN_IN
    plot_widths = _plot_widths(specs, usable)

    notes = [n for s in specs for n in s.notes]
    if str(ind["method"]) in COUNT_METHODS and kinds != ["funnel"]:
        notes.append(COUNT_NOTE_DA)
    if "funnel" not in kinds and str(ind["method"]) not in FUNNEL_KIND and not single:
        notes.append(NO_FUNNEL_DA.get(str(ind["method"]), NO_FUNNEL_OTHER_DA))
    source = str(ind.get("source_da", "") or "")
    footer = _footer_text([*notes, f"Kilde: {source}" if source else ""], usable)
    levels = list({k.label: k for s in specs for k in s.levels}.values())
    footer_h = LINE_IN * (footer.count("\n") + 1) if footer else 0.0
    level_h = _legend_height(levels, usable, 6)
    slot_widths = [s.pad_left + w + s.pad_right for s, w in zip(specs, plot_widths, strict=True)]
    keys_h = max(
        _legend_height(s.keys, w - 0.1, 2) for s, w in zip(specs, slot_widths, strict=True)
    )
    below_plot = 0.45  # tick labels and the axis label
    bottom = 0.08 + footer_h + 0.06 + level_h + (0.1 if keys_h else 0) + keys_h + below_plot
    title = _wrap_to(str(ind["title_da"]), usable, FONT_TITLE, bold=True)
    subtitle = _wrap_to(
        f"{ind['unit_da']} · {pack.area_name} · mænd og kvinder i alt", usable, FONT
    )
    title_h = _TITLE_LINE_IN * (title.count("\n") + 1)
    top = 0.1 + title_h + 0.06 + _SUBTITLE_LINE_IN * (subtitle.count("\n") + 1) + 0.6
    rows = max((s.rows for s in specs), default=0)
    plot_height = max(2.2, 0.165 * (rows + 0.6))
    height = min(top + plot_height + bottom, MAX_HEIGHT_IN)
    plot_height = height - top - bottom

    canvas = _Canvas(width, height)
    x = _MARGIN_IN
    for spec, slot, plot_width in zip(specs, slot_widths, plot_widths, strict=True):
        box = (x + spec.pad_left, bottom, plot_width, plot_height)
        _panel_header(canvas, x, bottom + plot_height, spec.title, spec.subtitle)
        spec.draw(canvas, box)
        _draw_legend(
            canvas,
            spec.keys,
            x,
            bottom - below_plot - 0.05,
            slot - 0.1,
            2,
            gid=f"{spec.kind}-legend",
        )
        x += slot
    _draw_legend(
        canvas, levels, _MARGIN_IN, 0.08 + footer_h + 0.06 + level_h, usable, 6, gid="level-legend"
    )
    if footer:
        canvas.text(_MARGIN_IN, 0.08, footer, color=MUTED, va="bottom", gid="footer")
    canvas.text(
        _MARGIN_IN,
        height - 0.1,
        title,
        size=FONT_TITLE,
        bold=True,
        va="top",
        linespacing=_TITLE_LINE_IN / (FONT_TITLE * 1.25 / 72),  # the height reserved above
        gid="title",
    )
    canvas.text(
        _MARGIN_IN,
        height - 0.1 - title_h - 0.06,
        subtitle,
        size=FONT,
        color=MUTED,
        va="top",
        gid="subtitle",
    )
    _watermark(canvas, pack)
    return canvas.fig


def _plot_widths(specs: list[_PanelSpec], usable: float) -> list[float]:
    """Equal plot widths, except that a panel whose legend needs two columns' room gets it
    from the others (a one-column legend would make every panel shorter)."""
    n = len(specs)
    widths = [(usable - sum(s.pad_left + s.pad_right for s in specs)) / n] * n
    if n == 1:
        return widths
    for i, spec in enumerate(specs):
        columns = _legend_columns(spec.keys, math.inf, 2) if spec.keys else []
        need = sum(columns) + _COLUMN_GAP_IN * (len(columns) - 1) + 0.1
        extra = need - (spec.pad_left + widths[i] + spec.pad_right)
        if extra > 0:
            widths = [w + extra if j == i else w - extra / (n - 1) for j, w in enumerate(widths)]
    return widths


def _panel_header(canvas: _Canvas, x: float, top: float, title: str, subtitle: str) -> None:
    if title:
        canvas.text(x, top + 0.3, title, size=FONT_PANEL, bold=True, va="bottom", gid="panel-title")
    if subtitle:
        canvas.text(x, top + 0.1, subtitle, color=MUTED, va="bottom", gid="panel-subtitle")


def _value_axis(
    canvas: _Canvas,
    plot: _Plot,
    axis: str,
    ticks: Sequence[float],
    labels: Sequence[str] | None = None,
    grid: bool = True,
) -> None:
    """Gridlines (one artist), a base line and tick labels outside the plot area."""
    labels = _tick_labels(np.asarray(ticks, float)) if labels is None else labels
    if axis == "y":
        ys = plot.y_in(ticks)
        if grid:
            canvas.segments(
                [[(plot.left, y), (plot.right, y)] for y in ys],
                f"{plot.gid}-grid",
                colors=GRID,
                linewidths=0.8,
                zorder=0.5,
            )
        for y, label in zip(ys, labels, strict=True):
            canvas.text(plot.left - 0.06, y, label, ha="right", gid=f"{plot.gid}-ytick")
    else:
        xs = plot.x_in(ticks)
        if grid:
            canvas.segments(
                [[(x, plot.bottom), (x, plot.top)] for x in xs],
                f"{plot.gid}-grid",
                colors=GRID,
                linewidths=0.8,
                zorder=0.5,
            )
        canvas.segments(
            [[(x, plot.bottom), (x, plot.bottom - 0.04)] for x in xs], colors=AXIS, linewidths=0.8
        )
        for x, label in zip(xs, labels, strict=True):
            canvas.text(
                x, plot.bottom - 0.07, label, ha="center", va="top", gid=f"{plot.gid}-xtick"
            )
    canvas.segments(
        [[(plot.left, plot.bottom), (plot.right, plot.bottom)]],
        colors=AXIS,
        linewidths=0.8,
        zorder=2.5,
    )


def _empty(
    canvas: _Canvas,
    box: tuple[float, float, float, float],
    message: str,
    gid: str = "empty-message",
) -> None:
    left, bottom, width, height = box
    canvas.text(
        left + width / 2,
        bottom + height / 2,
        _wrap_to(message, width - 0.2, FONT),
        size=FONT,
        color=MUTED,
        ha="center",
        gid=gid,
    )


def _trend_panel(pack: AreaPackData, ind: pd.Series, v: _Rows) -> _PanelSpec:
    """Thick black area with its interval band, thin grey members (named at the end if few),
    dashed region(s), dotted Denmark."""
    # Years with nothing published at either end are left off; gaps inside stay gaps.
    shown = v.where(np.isfinite(v.value) | v.suppressed)
    years = np.unique(v.year)
    if len(shown):
        years = years[(years >= shown.year.min()) & (years <= shown.year.max())]
    v = v.where(np.isin(v.year, years))
    # A count's members are a fraction of the area's sum: they are compared in the next panel.
    is_count = str(ind["method"]) in COUNT_METHODS
    members = v.where((v.role == "member") & (not is_count))
    names = dict(zip(members.code.tolist(), members.name.tolist(), strict=True))
    member_codes = sorted(names, key=lambda c: (names[c], c))
    member_values = np.full((len(member_codes), len(years)), np.nan)
    for i, code in enumerate(member_codes):
        member_values[i] = members.series(code, years)
    levels: list[tuple[str, int, str, np.ndarray]] = []  # role, index, label, values
    for role in _comparable_levels(ind):
        for i, unit in enumerate(_level_units(pack, v, role)):
            code = str(unit.code[0])
            levels.append(
                (role, i, _level_label(pack, role, str(unit.name[0])), unit.series(code, years))
            )
    area = v.where(v.role == "area")
    band = (
        (
            area.series(str(area.code[0]), years, "low"),
            area.series(str(area.code[0]), years, "high"),
        )
        if len(area)
        else (np.full(len(years), np.nan),) * 2
    )
    has_band = bool(np.isfinite(band[0]).any())
    ylim = _nice_range([member_values, *(lv[3] for lv in levels), *(band if has_band else ())])
    yticks = _ticks(*ylim, n=5)
    ylabels = _tick_labels(yticks)

    ends: list[tuple[str, float]] = []
    for code, row in zip(member_codes, member_values, strict=True):
        finite = np.isfinite(row)
        if finite.any():
            ends.append((names[code], float(years[finite][-1]), float(row[finite][-1])))
    label_ends = 0 < len(ends) <= MAX_LABELLED_MEMBERS
    pad_right = max((_text_width(e[0]) for e in ends), default=0) + 0.2 if label_ends else 0.2

    def draw(canvas: _Canvas, box: tuple[float, float, float, float]) -> None:
        if years.size == 0:
            _empty(canvas, box, "Ingen data")
            return
        plot = _Plot(canvas, box, (years[0] - 0.3, years[-1] + 0.3), ylim, gid="trend")
        _value_axis(canvas, plot, "y", yticks, ylabels)
        step = 1 if years.size <= 8 else 2
        shown = years[::-1][::step][::-1]
        canvas.segments(
            [[(x, plot.bottom), (x, plot.bottom - 0.04)] for x in plot.x_in(shown)],
            colors=AXIS,
            linewidths=0.8,
        )
        for x, year in zip(plot.x_in(shown), shown, strict=True):
            canvas.text(
                x, plot.bottom - 0.07, str(int(year)), ha="center", va="top", gid="trend-xtick"
            )
        if has_band:
            polygons = [
                np.column_stack(
                    [np.r_[years[a:b], years[a:b][::-1]], np.r_[band[0][a:b], band[1][a:b][::-1]]]
                )
                for a, b in _runs(np.isfinite(band[0]) & np.isfinite(band[1]))
                if b - a >= 2
            ]
            canvas.polygons(
                polygons,
                "trend-ci",
                transform=plot.trans,
                clip=plot.clip,
                facecolors="#000000",
                alpha=BAND_ALPHA,
                edgecolors="none",
                zorder=1,
            )
        if member_codes:
            # One line for all members, NaN-separated: suppressed years stay gaps.
            xs = np.concatenate([np.r_[years, np.nan] for _ in member_codes])
            ys = np.concatenate([np.r_[row, np.nan] for row in member_values])
            plot.line(
                xs,
                ys,
                "trend-members",
                marker="o",
                markersize=2.2,
                zorder=2,
                **LEVEL_STYLES["member"],
            )
        for role, i, _label, values in levels:
            plot.line(
                years,
                values,
                f"trend-{role}",
                marker="o",
                markersize=4.0 if role == "area" else 2.6,
                zorder=5 if role == "area" else 3,
                **_level_style(role, i),
            )
        if label_ends:
            # Names beside the line ends, pushed apart; a thin leader where a name had to move.
            names_, end_x, end_y = zip(*ends, strict=True)
            x_in, y_in = plot.x_in(end_x), plot.y_in(end_y)
            placed = _spread(y_in, LINE_IN * 0.95, plot.bottom + 0.05, plot.top)
            leaders = []
            for name, x, y, label_y in zip(names_, x_in, y_in, placed, strict=True):
                canvas.text(plot.right + 0.1, label_y, name, color=MUTED, gid="member-label")
                if abs(label_y - y) > LINE_IN * 0.3:
                    leaders.append([(x + 0.04, y), (plot.right + 0.07, label_y)])
            canvas.segments(leaders, "member-leaders", colors=GRID_DARK, linewidths=0.6, zorder=1.5)

    keys = [_Key.of(label, "line", **_level_style(role, i)) for role, i, label, _ in levels[:1]]
    if has_band:
        keys.append(
            _Key.of(
                f"{CI_LABEL_DA} (område)",
                "patch",
                facecolor="#000000",
                alpha=BAND_ALPHA,
                edgecolor="none",
            )
        )
    if member_codes:
        keys.append(_Key.of(ROLE_LABELS_DA["member"], "line", **LEVEL_STYLES["member"]))
    keys += [_Key.of(label, "line", **_level_style(role, i)) for role, i, label, _ in levels[1:]]
    notes = []
    if v.suppressed.any():
        notes.append(SUPPRESSED_CHART_NOTE_DA)
    if (np.isnan(v.value) & ~v.suppressed).any():
        notes.append(MISSING_CHART_NOTE_DA)
    pad_left = max((_text_width(t) for t in ylabels), default=0.3) + 0.12
    return _PanelSpec(
        "trend",
        pad_left,
        pad_right,
        draw,
        levels=keys,
        notes=notes,
        title="Udvikling over tid",
        subtitle=str(ind["unit_da"]),
    )


def _comparison_panel(
    pack: AreaPackData, ind: pd.Series, v: _Rows, period: str | None
) -> _PanelSpec:
    """One bar per member with its 95 % interval, coloured by comparison with Denmark;
    vertical lines for the area, region(s) and Denmark; '<5' where a member is suppressed."""
    year = float(period) if period is not None else _latest_year(v.year, v.value, v.suppressed)
    now = v.where(v.year == year)
    members = now.where(now.role == "member")
    members = members.where(np.unique(members.code, return_index=True)[1])
    has_value = np.isfinite(members.value)
    # Highest value on top, then the members without a value, alphabetically.
    order = np.lexsort((members.name, np.where(has_value, -members.value, np.inf)))
    ordered = members.where(order)
    shown = ordered.where(np.isfinite(ordered.value))
    hidden = ordered.where(~np.isfinite(ordered.value))
    categories = shown.compared
    value, low, high = shown.value, shown.low, shown.high
    has_ci = np.isfinite(low) & np.isfinite(high)
    benchmarks: list[tuple[str, int, str, float]] = []
    for role in _comparable_levels(ind, benchmark=True):
        for i, unit in enumerate(_level_units(pack, now, role)):
            if np.isfinite(unit.value[0]):
                label = _level_label(pack, role, str(unit.name[0]))
                benchmarks.append((role, i, label, float(unit.value[0])))
    xlim = _nice_range([value, low[has_ci], high[has_ci], [b[3] for b in benchmarks]], zero=True)
    xticks = _ticks(*xlim)
    unit_label = _wrap_to(str(ind["unit_da"]), 3.0)

    def draw(canvas: _Canvas, box: tuple[float, float, float, float]) -> None:
        if not len(ordered):
            _empty(canvas, box, "Ingen kommuner med data")
            return
        n = len(ordered)
        air = max(0.0, 5 - n) / 2  # bars keep their thickness when there are few members
        plot = _Plot(canvas, box, xlim, (n - 0.4 + air, -0.6 - air), gid="comparison")  # 1st on top
        _value_axis(canvas, plot, "x", xticks)
        canvas.text(
            (plot.left + plot.right) / 2,
            plot.bottom - 0.26,
            unit_label,
            ha="center",
            va="top",
            gid="comparison-xlabel",
        )
        rows_y = np.arange(n, dtype=float)
        for category in COMPARISON_COLOURS:
            pick = categories == category
            if pick.any():
                bars = [
                    [(0.0, y - 0.33), (x, y - 0.33), (x, y + 0.33), (0.0, y + 0.33)]
                    for x, y in zip(value[pick], rows_y[: len(shown)][pick], strict=True)
                ]
                canvas.polygons(
                    bars,
                    f"comparison-bars-{category}",
                    transform=plot.trans,
                    clip=plot.clip,
                    facecolors=COMPARISON_COLOURS[category],
                    edgecolors=BAR_EDGE,
                    linewidths=0.6,
                    zorder=2,
                )
        if has_ci.any():
            ys = rows_y[: len(shown)][has_ci]
            canvas.segments(
                [[(a, y), (b, y)] for a, b, y in zip(low[has_ci], high[has_ci], ys, strict=True)],
                "comparison-ci",
                transform=plot.trans,
                clip=plot.clip,
                colors=INK,
                linewidths=1.0,
                zorder=4,
            )
            plot.line(
                np.r_[low[has_ci], high[has_ci]],
                np.r_[ys, ys],
                "comparison-ci-caps",
                linestyle="none",
                marker="|",
                markersize=5,
                color=INK,
                zorder=4,
            )
        for role, i, _label, x in benchmarks:
            plot.line(
                [x, x], list(plot.ylim), f"benchmark-{role}", zorder=5, **_level_style(role, i)
            )
        y_in = plot.y_in(rows_y)
        for y, name in zip(y_in, ordered.name, strict=True):
            canvas.text(plot.left - 0.07, y, name, ha="right", gid="member-name")
        for y, suppressed in zip(y_in[len(shown) :], hidden.suppressed, strict=True):
            canvas.text(
                plot.left + 0.05,
                y,
                SUPPRESSED_TEXT if suppressed else MISSING_TEXT,
                color=MUTED,
                gid="suppressed-label" if suppressed else "missing-label",
            )

    keys = [
        _Key.of(
            COMPARISON_LABELS_DA[c],
            "patch",
            facecolor=COMPARISON_COLOURS[c],
            edgecolor=BAR_EDGE,
            linewidth=0.6,
        )
        for c in COMPARISON_COLOURS
        if c in set(categories)
    ]
    if has_ci.any():
        keys.append(_Key.of(CI_LABEL_DA, "whisker", color=INK, linewidth=1.0, markersize=5))
    notes = []
    if hidden.suppressed.any():
        notes.append(f"'{SUPPRESSED_TEXT}': skjult af diskretionshensyn")
    if (~hidden.suppressed).any():
        notes.append(f"'{MISSING_TEXT}': ingen værdi")
    pad_left = max((_text_width(n) for n in ordered.name), default=0.5) + 0.14
    levels = [_Key.of(label, "line", **_level_style(role, i)) for role, i, label, _ in benchmarks]
    title = "Kommunerne i området" + (f", {int(year)}" if year is not None else "")
    return _PanelSpec(
        "comparison",
        pad_left,
        0.15,
        draw,
        keys=keys,
        levels=levels,
        notes=notes,
        rows=len(ordered),
        title=title,
        subtitle=COMPARED_DA,
    )


def _funnel_panel(pack: AreaPackData, ind: pd.Series) -> _PanelSpec:
    """All municipalities, members in black (named when few or outside the 95 % limits),
    95 % and 99.8 % limits from ``stats.funnel_limits`` around Denmark."""
    method = str(ind["method"])
    data = funnel_data(pack, str(ind["indicator_id"]))
    if data is None or not np.isfinite(data["target"]):
        message = (
            NO_FUNNEL_DA.get(method, NO_FUNNEL_OTHER_DA)
            if data is None
            else "For få kommuner med data til et tragtdiagram"
        )

        def draw_message(canvas: _Canvas, box: tuple[float, float, float, float]) -> None:
            _empty(canvas, box, message, gid="funnel-message")

        return _PanelSpec("funnel", 0.1, 0.1, draw_message, title="Tragtdiagram")
    points, target, grid = data["points"], data["target"], data["grid"]
    ylim = _nice_range([points["value"].to_numpy(float), [target]])
    yticks = _ticks(*ylim, n=5)
    ylabels = _tick_labels(yticks)
    xlim = (float(grid[0]), float(grid[-1]))
    members = points[points["is_member"]]
    named = members
    if len(members) > MAX_FUNNEL_NAMES:
        low, high = (
            np.interp(np.log(members["denominator"]), np.log(grid), curve)
            for curve in data["limits"]["95"]
        )
        named = members[(members["value"] < low) | (members["value"] > high)]

    def draw(canvas: _Canvas, box: tuple[float, float, float, float]) -> None:
        plot = _Plot(canvas, box, xlim, ylim, xlog=True, gid="funnel")
        _value_axis(canvas, plot, "y", yticks, ylabels)
        xticks = _log_ticks(*xlim)
        _value_axis(canvas, plot, "x", xticks, [format_da(t, 0) for t in xticks], grid=False)
        canvas.text(
            (plot.left + plot.right) / 2,
            plot.bottom - 0.26,
            "Antal (nævner), logaritmisk akse",
            ha="center",
            va="top",
            gid="funnel-xlabel",
        )
        for label in ("998", "95"):
            low, high = data["limits"][label]
            plot.line(grid, low, f"funnel-limit-{label}-low", zorder=2, **LIMIT_STYLES[label])
            plot.line(grid, high, f"funnel-limit-{label}-high", zorder=2, **LIMIT_STYLES[label])
        plot.line(xlim, [target, target], "funnel-target", zorder=3, **LEVEL_STYLES["country"])
        others = points[~points["is_member"]]
        plot.line(
            others["denominator"],
            others["value"],
            "funnel-others",
            linestyle="none",
            marker="o",
            markersize=3.3,
            markerfacecolor=OTHER_POINT,
            markeredgewidth=0,
            zorder=4,
        )
        plot.line(
            members["denominator"],
            members["value"],
            "funnel-members",
            linestyle="none",
            marker="o",
            markersize=5.2,
            markerfacecolor="#000000",
            markeredgecolor="white",
            markeredgewidth=0.6,
            zorder=6,
        )
        _name_points(canvas, plot, named)

    keys = [  # row by row: markers in the first column, limits in the second
        _Key.of("Kommune i området", "marker", marker="o", markersize=5.2, color="#000000"),
        _Key.of("95 %-grænse", "line", **LIMIT_STYLES["95"]),
        _Key.of("Øvrige kommuner", "marker", marker="o", markersize=3.8, color=OTHER_POINT),
        _Key.of("99,8 %-grænse", "line", **LIMIT_STYLES["998"]),
    ]
    notes = []
    if data["n_suppressed"]:
        notes.append(SUPPRESSED_CHART_NOTE_DA)
    if len(named) < len(members):
        notes.append("Tragtdiagram: kun kommuner uden for 95 %-grænserne er navngivet")
    if data["overdispersed"]:
        notes.append("Tragtdiagrammets grænser er udvidet for overspredning (τ²)")
    subtitle = (
        "Grænser udvidet for overspredning"
        if data["overdispersed"]
        else "Grænser om værdien for hele landet"
    )
    pad_left = max((_text_width(t) for t in ylabels), default=0.3) + 0.12
    return _PanelSpec(
        "funnel",
        pad_left,
        0.15,
        draw,
        keys=keys,
        notes=notes,
        levels=[_Key.of(ROLE_LABELS_DA["country"], "line", **LEVEL_STYLES["country"])],
        title=f"Tragtdiagram, alle kommuner {data['period']}".strip(),
        subtitle=subtitle,
    )


def _name_points(canvas: _Canvas, plot: _Plot, points: pd.DataFrame) -> None:
    """Names beside points (left of them in the right third), pushed apart vertically, with a
    thin leader when a name had to move."""
    if points.empty:
        return
    x, y = plot.x_in(points["denominator"]), plot.y_in(points["value"])
    on_left = x > plot.left + 0.62 * (plot.right - plot.left)
    leaders = []
    for side in (False, True):
        idx = np.flatnonzero(on_left == side)
        if idx.size == 0:
            continue
        placed = _spread(y[idx], LINE_IN * 0.95, plot.bottom + 0.05, plot.top - 0.05)
        for i, py in zip(idx, placed, strict=True):
            tx = x[i] + (-0.09 if side else 0.09)
            canvas.text(
                tx,
                py,
                points["area_name"].iloc[i],
                ha="right" if side else "left",
                zorder=7,
                gid="member-label",
            )
            if abs(py - y[i]) > LINE_IN * 0.3:
                leaders.append([(x[i], y[i]), (tx, py)])
    canvas.segments(leaders, colors=MUTED, linewidths=0.5, zorder=5)


# ---------------------------------------------------------------------------- overview (spine)


def _overview_rows(pack: AreaPackData, member_code: str | None) -> pd.DataFrame:
    """One row per indicator, themes in THEME_ORDER: latest value, comparison, national spread.

    Whole-table group-bys rather than a loop over indicators (a loop was most of this chart's
    time).
    """
    cat = _catalogue(pack)
    theme_rank = cat["theme"].map({t: i for i, t in enumerate(THEME_ORDER)})
    cat = cat.assign(_theme=theme_rank.fillna(len(THEME_ORDER))).sort_values(
        "_theme", kind="stable"
    )
    v = pack.values[pack.values["sex"] == "T"]
    v = v.assign(
        year=pd.to_numeric(v["period"], errors="coerce"),
        value=pd.to_numeric(v["value"], errors="coerce"),
        is_suppressed=v["is_suppressed"].fillna(False).astype(bool),
        area_code=v["area_code"].astype(str),
    )
    # The latest year with anything published, per indicator (as in the indicator figures).
    published = v[v["value"].notna() | v["is_suppressed"]]
    latest = published.groupby("indicator_id")["year"].max()
    latest = latest.reindex(v["indicator_id"].unique()).fillna(
        v.groupby("indicator_id")["year"].max()
    )
    now = v[v["year"] == v["indicator_id"].map(latest)]
    if member_code is None:
        mine = now[now["role"] == "area"]
    else:
        mine = now[(now["role"] == "member") & (now["area_code"] == str(member_code))]
    mine = mine.drop_duplicates("indicator_id").set_index("indicator_id")
    national = now[now["role"] == "country"].drop_duplicates("indicator_id")
    national = national.set_index("indicator_id")["value"]
    funnel = pack.funnel[~pack.funnel["is_suppressed"].fillna(False).astype(bool)]
    funnel = funnel.assign(value=pd.to_numeric(funnel["value"], errors="coerce")).dropna(
        subset=["value"]
    )
    spread = funnel.groupby("indicator_id")["value"].quantile([0, 0.25, 0.75, 1]).unstack()

    ids = cat["indicator_id"]
    comparison = ids.map(mine["compared_to_national"]).astype(object)
    quantile = {q: ids.map(spread[q]) if q in spread else np.nan for q in (0, 0.25, 0.75, 1)}
    return pd.DataFrame(
        {
            "indicator_id": ids.to_numpy(),
            "theme": cat["theme"].to_numpy(),
            "title": cat["title_da"].to_numpy(),
            "unit": [
                _short_unit(str(u), str(t))
                for u, t in zip(cat["unit_da"], cat["title_da"], strict=True)
            ],
            "decimals": cat["decimals"].astype(int).to_numpy(),
            "method": cat["method"].to_numpy(),
            "year": ids.map(latest).to_numpy(float),
            "value": ids.map(mine["value"]).to_numpy(float),
            "suppressed": ids.map(mine["is_suppressed"]).eq(True).to_numpy(),
            "comparison": comparison.where(
                comparison.isin(list(COMPARISON_COLOURS)), "not_compared"
            ).to_numpy(),
            "national": ids.map(national).to_numpy(float),
            "min": np.asarray(quantile[0], float),
            "q25": np.asarray(quantile[0.25], float),
            "q75": np.asarray(quantile[0.75], float),
            "max": np.asarray(quantile[1], float),
        }
    )


def _theme_label(theme: str) -> str:
    """Themes on at most two short lines: the theme column must leave room for the spine."""
    if _text_width(theme, bold=True) <= 0.8:
        return theme
    if " " in theme:
        return theme.replace(" ", "\n", 1)
    return {"Sundhedsprofil": "Sundheds-\nprofil"}.get(theme, theme)


def _short_unit(unit: str, title: str) -> str:
    """Drop '(aldersstandardiseret)' from the unit when the title already says it."""
    if "aldersstandardiseret" in title.lower():
        unit = unit.replace("(aldersstandardiseret)", "").strip()
    return unit or "–"


def _spine_positions(rows: pd.DataFrame) -> pd.DataFrame:
    """Values on a 0–1 scale where Denmark is 0.5 and the farthest municipality 0 or 1."""
    centre = rows["national"].where(rows["national"].notna(), (rows["min"] + rows["max"]) / 2)
    half = np.maximum(centre - rows["min"], rows["max"] - centre)
    half = half.where(half > 0)
    out = pd.DataFrame(index=rows.index)
    for column in ("min", "q25", "q75", "max", "value"):
        out[column] = (0.5 + (rows[column] - centre) / (2 * half)).clip(-0.03, 1.03)
    out["usable"] = half.notna() & ~rows["method"].isin(COUNT_METHODS)
    return out


def _draw_overview(
    canvas: _Canvas, pack: AreaPackData, rows: pd.DataFrame, member_code: str | None
) -> None:
    width, height = canvas.width, canvas.height
    name = pack.area_name
    if member_code is not None:
        match = [m.name for m in pack.members if str(m.code) == str(member_code)]
        name = match[0] if match else str(member_code)
    value_head = ROLE_LABELS_DA["member"] if member_code is not None else ROLE_LABELS_DA["area"]
    values_text = [
        SUPPRESSED_TEXT if r.suppressed else (format_da(r.value, r.decimals) or MISSING_TEXT)
        for r in rows.itertuples()
    ]
    national_text = [format_da(r.national, r.decimals) or MISSING_TEXT for r in rows.itertuples()]
    years = [
        "" if r.year is None or not np.isfinite(r.year) else str(int(r.year))
        for r in rows.itertuples()
    ]
    one_year = len(set(years) - {""}) <= 1  # then the year goes in the subtitle, not a column
    themes = {t: _theme_label(t) for t in rows["theme"].unique()}

    # Columns from measured widths, so nothing is cut off and the spine gets the rest.
    def col_width(texts: Sequence[str], head: str, bold: bool = False) -> float:
        return max([_text_width(t, bold=bold) for t in texts] + [_text_width(head, bold=True)])

    widths = {
        "theme": col_width(list(themes.values()), "Tema", bold=True) + 0.15,
        "title": col_width(rows["title"].tolist(), "Indikator") + 0.2,
        "unit": col_width(rows["unit"].tolist(), "Enhed") + 0.2,
        "year": 0.0 if one_year else col_width(years, "År") + 0.2,
        "value": col_width(values_text, value_head, bold=True) + 0.15,
        "national": col_width(national_text, "Hele landet") + 0.15,
    }
    x = {}
    at = _MARGIN_IN
    for column, w in widths.items():
        x[column] = at
        at += w
    spine_left, spine_right = at + 0.05, width - _MARGIN_IN

    # Rows, with a little air between themes.
    gaps = (rows["theme"] != rows["theme"].shift()).cumsum().to_numpy() - 1
    slots = np.arange(len(rows)) + 0.35 * gaps
    top, bottom = height - 0.95, 0.62
    pitch = (top - bottom) / (slots[-1] + 1) if len(rows) else 0.2
    y = top - (slots + 0.5) * pitch
    half = pitch * 0.5

    canvas.polygons(
        [
            [
                (x["theme"], yy - half),
                (spine_right, yy - half),
                (spine_right, yy + half),
                (x["theme"], yy + half),
            ]
            for k, yy in enumerate(y)
            if k % 2 == 0
        ],
        facecolors=ROW_SHADE,
        edgecolors="none",
        zorder=0,
    )
    pos = _spine_positions(rows)
    usable = pos["usable"].to_numpy()
    span = spine_right - spine_left

    def spine_x(column: str) -> np.ndarray:
        return spine_left + 0.03 * span + pos[column].to_numpy(float) * 0.94 * span

    for lo, hi, colour, gid, h in (
        ("min", "max", SPINE_RANGE, "spine-range", 0.62),
        ("q25", "q75", SPINE_MIDDLE, "spine-middle", 0.62),
    ):
        a, b = spine_x(lo), spine_x(hi)
        canvas.polygons(
            [
                [
                    (a[i], y[i] - half * h),
                    (b[i], y[i] - half * h),
                    (b[i], y[i] + half * h),
                    (a[i], y[i] + half * h),
                ]
                for i in np.flatnonzero(usable)
            ],
            gid,
            facecolors=colour,
            edgecolors="none",
            zorder=2,
        )
    centre = spine_left + span / 2
    stretches = [[(centre, y[a] + half), (centre, y[b - 1] - half)] for a, b in _runs(usable)]
    canvas.segments(
        stretches,
        "spine-national",
        zorder=3,
        colors=LEVEL_STYLES["country"]["color"],
        linewidths=LEVEL_STYLES["country"]["linewidth"],
        linestyles=":",
    )
    has_value = usable & rows["value"].notna().to_numpy()
    marker_x = spine_x("value")
    for category in COMPARISON_COLOURS:
        pick = has_value & (rows["comparison"] == category).to_numpy()
        if pick.any():
            canvas.line(
                marker_x[pick],
                y[pick],
                f"spine-marker-{category}",
                linestyle="none",
                marker="o",
                markersize=6.2,
                markerfacecolor=COMPARISON_COLOURS[category],
                markeredgecolor="#333333",
                markeredgewidth=0.7,
                zorder=5,
            )

    for i, r in enumerate(rows.itertuples()):
        canvas.text(x["title"], y[i], r.title, gid="overview-title")
        canvas.text(x["unit"], y[i], r.unit, color=MUTED)
        if not one_year:
            canvas.text(x["year"], y[i], years[i], color=MUTED)
        canvas.text(
            x["national"] - 0.12, y[i], values_text[i], ha="right", bold=True, gid="overview-value"
        )
        canvas.text(spine_left - 0.12, y[i], national_text[i], ha="right", gid="overview-national")
        if not usable[i]:
            reason = "Antal – ikke sammenlignet" if r.method in COUNT_METHODS else "Ingen data"
            canvas.text(centre, y[i], reason, color=MUTED, ha="center", fontstyle="italic")
    for theme in rows["theme"].unique():
        ys = y[(rows["theme"] == theme).to_numpy()]
        canvas.text(
            x["theme"] + 0.05,
            (ys.min() + ys.max()) / 2,
            themes[theme],
            bold=True,
            linespacing=1.0,
            gid="overview-theme",
        )

    head = top + 0.08
    for text, hx, ha in (
        ("Tema", x["theme"] + 0.05, "left"),
        ("Indikator", x["title"], "left"),
        ("Enhed", x["unit"], "left"),
        ("" if one_year else "År", x["year"], "left"),
        (value_head, x["national"] - 0.12, "right"),
        ("Hele landet", spine_left - 0.12, "right"),
        ("Alle kommuner", centre, "center"),
    ):
        if text:
            canvas.text(hx, head, text, ha=ha, va="bottom", bold=True, gid="overview-head")
    canvas.text(
        _MARGIN_IN,
        height - 0.1,
        f"Overblik – {name}",
        size=FONT_TITLE,
        bold=True,
        va="top",
        gid="title",
    )
    whose = "kommunens" if member_code is not None else "områdets"
    when = (
        f"{next(iter(set(years) - {''}), '')}, " if one_year else "Seneste år for hver indikator, "
    )
    canvas.text(
        _MARGIN_IN,
        height - 0.42,
        f"{when}mænd og kvinder i alt. Bjælken viser spændet "
        f"mellem landets kommuner med hele landet i midten; prikken viser {whose} værdi.",
        size=FONT,
        color=MUTED,
        va="top",
        gid="subtitle",
    )

    present = [c for c in COMPARISON_COLOURS if (rows["comparison"][has_value] == c).any()]
    spine_keys = [
        _Key.of(
            "Kommunernes spænd (laveste–højeste)", "patch", facecolor=SPINE_RANGE, edgecolor="none"
        ),
        _Key.of(
            "Midterste halvdel af kommunerne", "patch", facecolor=SPINE_MIDDLE, edgecolor="none"
        ),
        _Key.of(ROLE_LABELS_DA["country"], "line", **LEVEL_STYLES["country"]),
    ]
    colour_keys = [
        _Key.of(
            COMPARISON_LABELS_DA[c],
            "marker",
            marker="o",
            markersize=6.2,
            markerfacecolor=COMPARISON_COLOURS[c],
            markeredgecolor="#333333",
            markeredgewidth=0.7,
        )
        for c in present
    ]
    legend_top = bottom - 0.1
    usable = width - 2 * _MARGIN_IN
    _draw_legend(canvas, spine_keys, _MARGIN_IN, legend_top, usable, 3, gid="overview-legend")
    lead = "Prikkens farve, sammenlignet med hele landet:"
    lead_y = legend_top - _ROW_IN * 1.5
    canvas.text(_MARGIN_IN, lead_y, lead, gid="overview-legend-label")
    lead_w = _text_width(lead) + 0.2
    _draw_legend(
        canvas,
        colour_keys,
        _MARGIN_IN + lead_w,
        lead_y + _ROW_IN / 2,
        usable - lead_w,
        len(colour_keys),
        gid="overview-legend",
    )
    if rows["suppressed"].any():
        canvas.text(
            width - _MARGIN_IN,
            legend_top - _ROW_IN / 2,
            f"'{SUPPRESSED_TEXT}': skjult af diskretionshensyn",
            ha="right",
            color=MUTED,
            gid="footer",
        )


# ---------------------------------------------------------------------------- population pyramid


def _age_start(band: str) -> int:
    digits = str(band).split("-")[0].rstrip("+").strip()
    return int(digits) if digits.isdigit() else 999


def _draw_pyramid(canvas: _Canvas, pack: AreaPackData, period: str | None) -> None:
    width, height = canvas.width, canvas.height
    pop = pack.population.assign(
        period=pack.population["period"].astype(str),
        population=pd.to_numeric(pack.population["population"], errors="coerce"),
    )
    pop = pop[pop["sex"].isin(["M", "K"])]
    latest = str(period) if period is not None else (str(pop["period"].max()) if len(pop) else "")
    canvas.text(
        _MARGIN_IN,
        height - 0.1,
        f"Befolkning efter alder og køn – {pack.area_name}",
        size=FONT_TITLE,
        bold=True,
        va="top",
        gid="title",
    )
    canvas.text(
        _MARGIN_IN,
        height - 0.42,
        f"Borgere pr. 1. januar {latest} i femårsgrupper",
        size=FONT,
        color=MUTED,
        va="top",
        gid="subtitle",
    )
    box = (0.75, 0.95, width - 0.75 - 0.3, height - 0.95 - 1.1)
    now = pop[pop["period"] == latest]
    if now.empty:
        _empty(canvas, box, "Ingen befolkningstal")
        return
    earlier = str(int(latest) - 5) if latest.isdigit() else ""
    before = pop[pop["period"] == earlier]
    bands = sorted(now["age_band"].astype(str).unique(), key=_age_start)

    def by_band(frame: pd.DataFrame, sex: str) -> np.ndarray:
        part = frame[frame["sex"] == sex].groupby("age_band")["population"].sum()
        return part.reindex(bands).to_numpy(dtype=float)

    counts = {sex: by_band(now, sex) for sex in ("M", "K")}
    old = {sex: by_band(before, sex) for sex in ("M", "K")} if not before.empty else {}
    limit = np.nanmax(np.concatenate([*counts.values(), *old.values()]))
    limit = float(limit) * 1.08 if np.isfinite(limit) and limit > 0 else 1.0
    half_ticks = _ticks(0, limit, 3)
    ticks = np.r_[-half_ticks[::-1], half_ticks[1:]]
    n = len(bands)
    plot = _Plot(canvas, box, (-limit, limit), (-0.6, n - 0.4), gid="pyramid")
    _value_axis(canvas, plot, "x", ticks, _tick_labels(np.abs(ticks)))
    y = np.arange(n, dtype=float)
    for sex, sign in (("M", -1), ("K", 1)):
        bars = [
            [(0, yy - 0.41), (sign * c, yy - 0.41), (sign * c, yy + 0.41), (0, yy + 0.41)]
            for yy, c in zip(y, np.nan_to_num(counts[sex]), strict=True)
        ]
        canvas.polygons(
            bars,
            f"pyramid-{'men' if sex == 'M' else 'women'}",
            transform=plot.trans,
            clip=plot.clip,
            facecolors=PYRAMID_COLOURS[sex],
            edgecolors="none",
            zorder=2,
        )
        if old:
            values = sign * np.nan_to_num(old[sex])
            step_x = np.r_[0, np.repeat(values, 2), 0]
            step_y = np.r_[-0.5, np.repeat(np.arange(n + 1) - 0.5, 2)[1:-1], n - 0.5]
            plot.line(
                step_x,
                step_y,
                f"pyramid-earlier-{'men' if sex == 'M' else 'women'}",
                color=INK,
                linewidth=1.1,
                zorder=3,
            )
    plot.line([0, 0], [-0.6, n - 0.4], color=AXIS, linewidth=0.8, zorder=4)
    for yy, band in zip(plot.y_in(y), bands, strict=True):
        canvas.text(plot.left - 0.06, yy, band.replace("-", "–"), ha="right", gid="pyramid-age")
    canvas.text(plot.left - 0.06, plot.top + 0.08, "Alder", ha="right", va="bottom", bold=True)
    canvas.text(
        (plot.left + plot.right) / 2, plot.bottom - 0.26, "Antal borgere", ha="center", va="top"
    )
    for label, fx in (("Mænd", 0.25), ("Kvinder", 0.75)):
        canvas.text(
            plot.left + fx * (plot.right - plot.left),
            plot.top + 0.08,
            label,
            size=FONT,
            bold=True,
            ha="center",
            va="bottom",
        )
    keys = [
        _Key.of(f"Mænd {latest}", "patch", facecolor=PYRAMID_COLOURS["M"], edgecolor="none"),
        _Key.of(f"Kvinder {latest}", "patch", facecolor=PYRAMID_COLOURS["K"], edgecolor="none"),
    ]
    if old:
        keys.append(_Key.of(f"{earlier} (fem år før)", "line", color=INK, linewidth=1.1))
    _draw_legend(canvas, keys, plot.left, 0.3, width - plot.left - 0.2, 3, gid="pyramid-legend")
