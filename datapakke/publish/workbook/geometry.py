"""Where things land: column letters, the printed A4 box, and how tall wrapped text is.

Excel neither grows rows for text it did not wrap itself nor tells a writer where its page breaks
fall, so the pack estimates both from these figures (see ``Sheet.keep`` and ``Sheet.image``).
"""

from __future__ import annotations

from functools import lru_cache

# A4 landscape inside the margins set in ``sheet.print_setup``: width in pixels at 96 dpi, height
# in points (5 % kept in reserve: LibreOffice and Excel measure text a little differently). The
# charts are drawn for the same box.
PAGE_WIDE_PX = 1026
PAGE_HIGH_PT = 487 * 0.95
HEADING_PT = 26  # a section heading's row: its height is the space above the section


@lru_cache(maxsize=1024)
def col_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


_LETTERS: list[str] = [""]  # column letters by 1-based index, for the fast row writer


def col_letters(last: int) -> list[str]:
    """Column letters indexed by column number, at least up to ``last`` (a list: fastest)."""
    while len(_LETTERS) <= last:
        _LETTERS.append(col_letter(len(_LETTERS)))
    return _LETTERS


def col_index(letters: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letters)


def wrap_height(text: str, width_chars: float, font_pt: float = 11) -> float:
    """Row height (points) that shows ``text`` wrapped in a column ``width_chars`` wide.

    Greedy word wrap at ~1.15 characters per width unit: Danish prose in Calibri 11 fits ~1.3,
    but a list of names with capitals and commas wraps at ~1.16 in LibreOffice (Carlito), and a
    row too short for its text overlaps the next one there. 15 pt a line at 11 pt, as Excel."""
    per_line = max(int(width_chars * 1.15 * 11 / font_pt), 10)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > per_line:
                lines += 1
                used = 0
            used += (1 if used else 0) + len(word)
            while used > per_line:  # a word longer than the line
                lines += 1
                used -= per_line
    return round(lines * font_pt * 1.27 + 1, 1)
