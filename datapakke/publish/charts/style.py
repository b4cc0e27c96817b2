"""Sizes, fonts, colours and chart words shared by every figure (no matplotlib here).

Print first: the workbook fits every picture to the printed width of A4 landscape
(``PRINT_BOX_IN``); an 11-inch-wide figure prints at 97 %, so the smallest text (8.5 pt) is
≥ 8 pt on paper, and no figure is taller than 11 × 6.47 in (beyond that the page height would
shrink it).
"""

from __future__ import annotations

from datapakke.presentation import suppressed_text

DPI = 110
# The printed box the workbook fits every picture into (A4 landscape inside its margins):
# workbook.PAGE_WIDE_PX at 96 dpi wide, workbook.PAGE_HIGH_PT high. Checked by the tests.
PRINT_BOX_IN = (1026 / 96, 487 * 0.95 / 72)
PAGE_WIDTH_IN = 11.0  # prints at 97 %: 8.5 pt text is 8.3 pt on paper
MAX_HEIGHT_IN = PAGE_WIDTH_IN * PRINT_BOX_IN[1] / PRINT_BOX_IN[0]  # taller: shrunk by height

FONT_SMALL = 8.5  # ticks, legends, notes: the smallest text anywhere
FONT = 9.0
FONT_PANEL = 10.0
FONT_TITLE = 12.5
LINE_IN = FONT_SMALL * 1.25 / 72  # one line of small text
MARGIN_IN = 0.15
TITLE_LINE_IN = FONT_TITLE * 1.3 / 72
SUBTITLE_LINE_IN = FONT * 1.25 / 72

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

CI_LABEL_DA = "95 %-konfidensinterval"
SUPPRESSED_CHART_NOTE_DA = "Skjulte værdier vises ikke"
MISSING_CHART_NOTE_DA = "Manglende værdier vises ikke"


def suppressed_key_da(threshold: int) -> str:
    """The note explaining the label a withheld number shows (comparison panel, overview)."""
    return f"'{suppressed_text(threshold)}': skjult af diskretionshensyn"
