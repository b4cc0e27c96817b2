"""PNG encoding and writing: faster than ``savefig`` and written atomically."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from datapakke.atomic import atomic_path
from datapakke.publish.charts.style import DPI

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_MODE = 0o644  # the site serves these; independent of the process's umask
THUMBNAIL_WIDTH = 480  # px: the download page's picture of an area and the UI's per partition


def save_png(fig: Figure, path: str | os.PathLike[str], dpi: int = DPI) -> Path:
    """Draw and write a PNG atomically (temp file in the same folder, then rename); release the
    figure. A failed draw or write leaves an existing file untouched and no temp file behind."""
    path = Path(path)
    try:
        with atomic_path(path) as temp:
            temp.write_bytes(png_bytes(fig, dpi))
            temp.chmod(PNG_MODE)
    finally:
        close_figure(fig)
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
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", pixels_per_metre, pixels_per_metre, 1)),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _chunk(b"IEND", b""),
        )
    )


def thumbnail_of(chart: Path) -> Path:
    """The chart's small copy beside it (``<name>-lille.png``, at most ``THUMBNAIL_WIDTH`` wide),
    made only when missing or older than the chart.

    Why beside the chart: the download page and each partition's metadata in the UI both show
    it, and a quiet night redraws no chart, so neither scales 44 PNGs again (about 1 s).
    """
    from PIL import Image

    small = chart.with_name(f"{chart.stem}-lille.png")
    if small.is_file() and small.stat().st_mtime_ns >= chart.stat().st_mtime_ns:
        return small
    with Image.open(chart) as image, atomic_path(small) as temp:
        image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 2))
        # zlib level 3: a third of the time of optimize=True, and smaller for these charts
        image.save(temp, format="PNG", compress_level=3)
        temp.chmod(PNG_MODE)
    return small


def _chunk(tag: bytes, payload: bytes) -> bytes:
    length = struct.pack(">I", len(payload))
    return length + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))


def close_figure(fig: Figure) -> None:
    """Release a saved figure: there is no pyplot registry to leave, so dropping the canvas
    (figure ↔ canvas cycle) is all; ``fig.clear()`` would cost more than drawing it."""
    fig.canvas.figure = None  # type: ignore[assignment]
