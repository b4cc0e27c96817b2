"""Text widths in inches, measured exactly as the fast renderer will draw the text.

Everything is laid out in inches from measured widths, so margins fit their labels and no text
is cut off. matplotlib is imported on first use.
"""

from __future__ import annotations

import functools
from typing import Any

from datapakke.publish.charts.style import FONT_SMALL


@functools.lru_cache(maxsize=64)
def font_properties(size: float, bold: bool, italic: bool) -> Any:
    """One ``FontProperties`` per style: its hash keys the renderer's string cache."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(
        size=size, weight="bold" if bold else "normal", style="italic" if italic else "normal"
    )


@functools.lru_cache(maxsize=8192)
def text_width(
    text: str, size: float = FONT_SMALL, bold: bool = False, italic: bool = False
) -> float:
    """Width in inches of a (possibly multi-line) string, measured as the renderer will draw it."""
    from matplotlib import ft2font
    from matplotlib.font_manager import findfont, get_font

    font = get_font(findfont(font_properties(size, bold, italic)), hinting_factor=1)
    font.set_size(size, 72)
    widest = 0.0
    for line in str(text).split("\n"):
        font.set_text(line, 0.0, flags=ft2font.LoadFlags.NO_HINTING)
        widest = max(widest, font.get_width_height()[0] / 64 / 72)
    return widest


def wrap_to(text: str, width_in: float, size: float = FONT_SMALL, bold: bool = False) -> str:
    """Greedy word wrap to a measured width (matplotlib's own wrap needs a draw first)."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width_in:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)
