"""Fast text for matplotlib: an Agg canvas that reuses its renderer, a renderer that caches
rasterised strings, and two light artists that draw through that cache.

Why: every new canvas makes a new renderer, and matplotlib's text-metrics cache is keyed on the
renderer, so each figure measured and rasterised every label again with FreeType — most of the
drawing time. The same strings recur in every figure of a pack. Hinting is off (no visible
difference at 110 dpi, slower), set on this renderer so no rcParams are touched.

This is the one module that imports matplotlib when it is loaded; the rest of the package loads
it on the first figure (see :func:`datapakke.publish.charts.canvas.new_figure`), so importing
the charts stays light.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

import numpy as np
from matplotlib import ft2font
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.font_manager import findfont, get_font
from matplotlib.transforms import Bbox
from PIL import Image

from datapakke.publish.charts.measure import font_properties, text_width

_NO_HINTING = ft2font.LoadFlags.NO_HINTING
_ASCENT, _DESCENT = 0.76, 0.24  # of the font size: the 'lp' box matplotlib centres text on

_local = threading.local()  # renderers per thread: a renderer draws one figure at a time
_TEXT_CACHE: dict[tuple[Any, ...], tuple[np.ndarray, float, float, float]] = {}
_TEXT_CACHE_MAX = 4096
_RENDERERS_PER_THREAD = 6


class CachedTextRenderer(RendererAgg):
    """Agg renderer that measures without hinting and blits cached string bitmaps."""

    def _prepare_font(self, font_prop: Any) -> Any:
        font = get_font(findfont(font_prop), hinting_factor=1)
        font.clear()
        font.set_size(font_prop.get_size_in_points(), self.dpi)
        return font

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> Any:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        font = self._prepare_font(prop)
        font.set_text(s, 0.0, flags=_NO_HINTING)
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
        image, descent, xo, yo = self._rasterised(s, prop, bool(gc.get_antialiased()))
        x = round(x + xo + descent * math.sin(math.radians(angle)))
        y = round(y + yo + descent * math.cos(math.radians(angle)))
        self._renderer.draw_text_image(image, x, y + 1, angle, gc)

    def _rasterised(
        self, s: str, prop: Any, antialiased: bool
    ) -> tuple[np.ndarray, float, float, float]:
        """The string's bitmap, descent and offsets, from the cache shared by all renderers."""
        key = (s, hash(prop), prop.get_size_in_points(), self.dpi, antialiased)
        hit = _TEXT_CACHE.get(key)
        if hit is None:
            font = self._prepare_font(prop)
            font.set_text(s, 0, flags=_NO_HINTING)
            font.draw_glyphs_to_bitmap(antialiased=antialiased)
            xo, yo = font.get_bitmap_offset()
            hit = (np.array(font), font.get_descent() / 64.0, xo / 64.0, yo / 64.0)
            if len(_TEXT_CACHE) >= _TEXT_CACHE_MAX:
                _TEXT_CACHE.clear()
            _TEXT_CACHE[key] = hit
        return hit


class ReusingCanvas(FigureCanvasAgg):
    """Agg canvas that takes its renderer from this thread's pool (one per size and dpi)."""

    def get_renderer(self) -> Any:
        w, h = self.figure.bbox.size
        key = (w, h, self.figure.dpi)
        pool = _local.__dict__.setdefault("renderers", {})
        renderer = pool.get(key)
        if renderer is None:
            if len(pool) >= _RENDERERS_PER_THREAD:
                pool.clear()
            renderer = pool[key] = CachedTextRenderer(w, h, self.figure.dpi)
        self.renderer, self._lastKey = renderer, key
        return renderer


class Label(Artist):
    """Unrotated text placed in inches and drawn straight from the renderer's string cache.

    Why not ``Text``: everything here is positioned in inches already, and ``Text.draw`` re-runs
    its layout machinery on every draw — three quarters of all drawing time. Lines are laid out
    as :func:`text_width` measures them (the layout code's own numbers).
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
        self._prop = font_properties(size, bold, italic)
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
            width = text_width(line, self._size, self._bold, self._italic) * dpi
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

    def get_window_extent(self, renderer: Any = None) -> Bbox:
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

    Why: Agg rotates a rotated text's bitmap on every draw — for this one large text that was a
    tenth of an indicator figure's drawing time.
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

    def get_window_extent(self, renderer: Any = None) -> Bbox:
        fig = self.get_figure(root=True)
        h, w = self._mask(fig.dpi).shape
        cx, cy = fig.bbox.width / 2, fig.bbox.height / 2
        return Bbox([[cx - w / 2, cy - h / 2], [cx + w / 2, cy + h / 2]])


@functools.lru_cache(maxsize=16)
def _rotated_text_mask(text: str, size: float, angle: float, dpi: float) -> np.ndarray:
    """Anti-aliased coverage of bold text at ``angle`` degrees, as uint8 rows (top first)."""
    font = get_font(findfont(font_properties(size, True, False)), hinting_factor=1)
    font.clear()
    font.set_size(size, dpi)
    font.set_text(text, 0.0, flags=_NO_HINTING)
    font.draw_glyphs_to_bitmap(antialiased=True)
    image = Image.fromarray(np.array(font)).rotate(angle, Image.Resampling.BICUBIC, expand=True)
    return np.array(image, dtype=np.uint8)  # a writeable copy: Agg wants one
