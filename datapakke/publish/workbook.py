"""The Excel data pack: one workbook per area, written from an ``AreaPackData`` and its charts.

The pack is the product: secretariats and mayors open it without help, so every sheet explains
itself in Danish, prints on A4 landscape, and shows withheld numbers as '<5' with a note.

Rules that keep it safe and fast:

- every value goes through ``_safe`` (via ``_put``, or the fast row writer for the Data sheet): text
  from input files or the catalogue is stored as text, never as a formula, and NaN never reaches
  Excel;
- the file is written to ``<name>.tmp-<pid>.xlsx`` beside the target and renamed into place, so a
  failed build leaves the previous pack (and its history) untouched;
- openpyxl costs ~15 µs per cell, so the long Data table (tens of thousands of cells) is written
  straight as sheet XML by ``_FastRows``; everything else uses openpyxl with named styles;
- openpyxl is imported inside functions: the Dagster code location imports this module and its
  start-up must stay light.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pandas as pd

from datapakke.presentation import (
    COMPARISON_COLOURS,
    COMPARISON_LABELS_DA,
    MONTHS_DA,
    ROLE_LABELS_DA,
    SEX_LABELS_DA,
    SUPPRESSED_NOTE_DA,
    SUPPRESSED_TEXT,
    SYNTHETIC_BANNER_DA,
    THEME_ORDER,
    TREND_LABELS_DA,
    excel_number_format,
)
from datapakke.publish.pack_data import AreaPackData

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["HISTORY_STAMP_FORMAT", "indicator_sheet_names", "publish_pack", "write_pack"]

# Fixed sheets; indicator sheets go between OVERVIEW and ABOUT.
FRONT, CONTENTS, OVERVIEW, ABOUT, DATA = "Forside", "Indhold", "Overblik", "Om data", "Data"
MISSING_TEXT = "–"  # no number, but not suppressed (the cell's note says why)
SYNTHETIC_MARK_DA = "SYNTETISKE DATA"
BACK_LINK_DA = "← Til indhold"
# History file names, in UTC like ``built_at``; ``datapakke.publish.site`` parses the same format.
HISTORY_STAMP_FORMAT = "%Y%m%dT%H%M%S"
AUTHOR = "Datapakker"
# A4 landscape inside the margins set in ``_print_setup``: width in pixels at 96 dpi, height in
# points (5 % kept in reserve: LibreOffice and Excel measure text a little differently).
PAGE_WIDE_PX = 1026
HEADING_PT = 26  # a section heading's row: its height is the space above the section
PAGE_HIGH_PT = 487 * 0.95
# Deflate level of the saved file: 1 is ~3x faster than 6 here and ~15 % bigger.
ZIP_LEVEL = 1

MEMBERSHIP_STATUS_DA = {
    "confirmed": "Bekræftet: medlemskommunerne er bekræftet af offentlige kilder.",
    "single-source": "Én kilde: medlemskommunerne står i én offentlig kilde, men er ikke "
    "bekræftet af flere.",
    "proxy": "Skønnet ud fra 2019-optageområdet: der er ikke fundet en offentlig liste fra 2022, "
    "så sygehusets optageområde fra 2019 er brugt.",
}
POLARITY_DA = {
    "higher_is_better": "Højere er bedre.",
    "lower_is_better": "Lavere er bedre.",
    "no_judgement": "Ingen retning: et højere eller lavere tal er ikke i sig selv bedre eller "
    "dårligere.",
}
METHOD_DA = {
    "count": "Optælling.",
    "share": "Andel i procent: tæller divideret med nævner, gange 100.",
    "change_pct": "Ændring i procent i forhold til samme tidspunkt fem år tidligere.",
    "proportion": "Andel: tæller divideret med nævner.",
    "crude_rate": "Rate: antal hændelser divideret med antal borgere (ikke aldersstandardiseret).",
    "dsr": "Direkte aldersstandardisering med Europas standardbefolkning 2013 (ESP 2013, 19 "
    "aldersgrupper), så områder med forskellig alderssammensætning kan sammenlignes. Vises ikke "
    "ved færre end 10 hændelser.",
    "survey": "Spørgeskemaestimat fra Den Nationale Sundhedsprofil (vægtet, så svarene "
    "repræsenterer befolkningen).",
}
INTERVAL_DA = {
    "none": "Ingen usikkerhed vist: tallet er en optælling af hele befolkningen.",
    "wilson": "95 %- og 99,8 %-konfidensintervaller efter Wilsons metode for andele.",
    "byar_exact": "95 %- og 99,8 %-konfidensintervaller efter Byars metode (10 hændelser eller "
    "flere) og eksakt Poisson (under 10 hændelser).",
    "dobson": "95 %- og 99,8 %-konfidensintervaller efter Dobsons metode for "
    "aldersstandardiserede rater.",
    "survey": "Konfidensintervaller fra undersøgelsen (stikprøveusikkerhed i spørgeskemaet).",
}
DISCLOSURE_RULE_DA = {
    "count": "Omfattet af diskretionsreglerne (primær og sekundær diskretion).",
    "none": "Ikke omfattet af diskretionsreglerne.",
}
READ_ME_DA = (
    "Farver: blå = bedre, rødorange = dårligere, sandfarvet = ingen sikker forskel, lilla og "
    "lyslilla = højere og lavere (uden at være bedre eller dårligere). Kommunerne sammenlignes "
    "med området, området og regionen med hele landet.",
    f"'{SUPPRESSED_TEXT}' betyder, at tallet er skjult af diskretionshensyn. '{MISSING_TEXT}' "
    "betyder, at der ikke er et tal (se noten i cellen eller kolonnen Note).",
    "Intervaller: 95 %- og 99,8 %-konfidensintervallerne viser usikkerheden. En forskel kaldes "
    "sikker, når intervallet ikke rammer det tal, der sammenlignes med.",
    "Hver indikator har sit eget ark (se Indhold). 'Om data' forklarer definitioner og metoder; "
    "'Data' har alle tal i én tabel til egne analyser.",
)
LEGEND_DA = (
    f"'{SUPPRESSED_TEXT}' = skjult af diskretionshensyn. '{MISSING_TEXT}' = intet tal (se note). "
    "Procenttal er skrevet som tal: 17,3 betyder 17,3 %."
)
DISCLOSURE_TEXT_DA = (
    "Diskretion. Primær diskretion: et antal fra 1 til {last} skjules og vises som "
    f"'{SUPPRESSED_TEXT}', og det samme gør alle tal, der er regnet ud fra det (rate, andel og "
    "intervaller). Sekundær diskretion: yderligere tal skjules, så et skjult tal ikke kan regnes "
    "ud ved at lægge sammen og trække fra – heller ikke på tværs af alle datapakker (kommuner, "
    "sundhedsklynger, sundhedsråd, regioner og hele landet), fordi inddelingerne overlapper. "
    "Nul er ikke i sig selv fortroligt."
)
COMPARISON_TEXT_DA = (
    "Sammenligning. Hvert tal har et 95 %- og et 99,8 %-konfidensinterval. Kommunerne "
    "sammenlignes med områdets tal, området og regionen med hele landets tal. Ligger hele "
    "95 %-intervallet over eller under det tal, der sammenlignes med, er forskellen sikker; ligger "
    "også 99,8 %-intervallet på samme side, er den meget sikker. Indikatorens retning afgør, om "
    "en sikker forskel kaldes bedre/dårligere eller blot højere/lavere. Udviklingen (stigende, "
    "faldende) er testet over de seneste fem år."
)
DATA_SHEET_TEXT_DA = (
    "Arket 'Data' har alle tal i én tabel med overskrifter i række 2 (i pandas: "
    "pd.read_excel(fil, sheet_name='Data', header=1))."
)
ROLE_ORDER = ("area", "member", "region", "country")
JUDGED_KEYS = ("better", "similar", "worse", "not_compared")
NEUTRAL_KEYS = ("higher", "similar", "lower", "not_compared")

# The Data sheet: (column of pack.values or added, Danish header, kind, width).
DATA_COLUMNS: tuple[tuple[str, str, str, float], ...] = (
    ("title_da", "Indikator", "text", 44),
    ("indicator_id", "Indikator-id", "text", 30),
    ("unit_da", "Enhed", "text", 18),
    ("role", "Niveau", "label", 12),
    ("area_level", "Områdetype", "label", 12),
    ("grouping", "Inddeling", "text", 14),
    ("area_code", "Kode", "text", 17),
    ("area_name", "Navn", "text", 24),
    ("period", "Periode", "text", 9),
    ("sex", "Køn", "label", 9),
    ("numerator", "Tæller", "count", 11),
    ("denominator", "Nævner", "count", 12),
    ("value", "Værdi", "value", 11),
    ("ci95_low", "95 % nedre", "value", 11),
    ("ci95_high", "95 % øvre", "value", 11),
    ("ci998_low", "99,8 % nedre", "value", 11),
    ("ci998_high", "99,8 % øvre", "value", 11),
    ("compared_to_area", "Sammenlignet med området", "label", 20),
    ("compared_to_region", "Sammenlignet med regionen", "label", 20),
    ("compared_to_national", "Sammenlignet med hele landet", "label", 20),
    ("trend", "Udvikling", "label", 20),
    ("trend_p_value", "p-værdi (udvikling)", "p", 11),
    ("is_suppressed", "Skjult", "label", 8),
    ("value_note", "Note", "text", 40),
)
_LABELS: dict[str, dict[Any, str]] = {
    "role": ROLE_LABELS_DA,
    "area_level": {
        "municipality": "Kommune",
        "area": "Område",
        "region": "Region",
        "country": "Hele landet",
    },
    "sex": SEX_LABELS_DA,
    "compared_to_area": COMPARISON_LABELS_DA,
    "compared_to_region": COMPARISON_LABELS_DA,
    "compared_to_national": COMPARISON_LABELS_DA,
    "trend": TREND_LABELS_DA,
    "is_suppressed": {True: "Ja", False: "Nej"},
}
_WITHHELD = ("numerator", "value", "ci95_low", "ci95_high", "ci998_low", "ci998_high")


# --------------------------------------------------------------------------- public API


def write_pack(pack: AreaPackData, charts: dict[str, Path], path: Path) -> Path:
    """Write the pack to ``path`` atomically; on any error the previous file is untouched."""
    path = Path(path)
    with _staged(path) as temp:
        _build(pack, charts).save(temp)
    return path


def publish_pack(
    pack: AreaPackData, charts: dict[str, Path], area_dir: Path, history_keep: int
) -> Path:
    """Write the latest pack into ``area_dir``; the previous one moves to ``history/``.

    The new pack is built completely before anything is moved, so a failed build leaves the
    latest pack and the history exactly as they were.
    """
    area_dir = Path(area_dir)
    target = area_dir / f"{pack.file_stem}.xlsx"
    history = area_dir / "history"
    with _staged(target) as temp:
        _build(pack, charts).save(temp)
        if target.is_file() and history_keep > 0:
            _archive(target, history, pack.file_stem)
    _prune_history(history, pack.file_stem, history_keep)
    return target


def indicator_sheet_names(catalogue: pd.DataFrame) -> dict[str, str]:
    """Sheet name per indicator id: short Danish, ≤ 31 characters, valid and unique."""
    taken = {name.casefold() for name in (FRONT, CONTENTS, OVERVIEW, ABOUT, DATA)}
    names: dict[str, str] = {}
    for ind in _ordered(catalogue).itertuples():
        name = base = _short_sheet_name(str(ind.title_da), str(ind.indicator_id))
        k = 2
        while name.casefold() in taken:
            name = f"{base[: 28 - len(str(k))].rstrip()} ({k})"
            k += 1
        taken.add(name.casefold())
        names[ind.indicator_id] = name
    return names


# --------------------------------------------------------------------------- files


@contextmanager
def _staged(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, renamed onto it only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{target.stem}.tmp-{os.getpid()}{target.suffix}")
    try:
        yield temp
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _archive(latest: Path, history: Path, stem: str) -> Path:
    """Copy the current latest pack into history, named by its own build time (UTC)."""
    history.mkdir(parents=True, exist_ok=True)
    moment = _pack_built_at(latest)
    while True:  # same stamp already kept (a rebuild within the second): keep both
        dest = history / f"{stem}-{moment:{HISTORY_STAMP_FORMAT}}.xlsx"
        if not dest.exists():
            break
        moment += timedelta(seconds=1)
    with _staged(dest) as temp:
        shutil.copy2(latest, temp)
    return dest


def _prune_history(history: Path, stem: str, keep: int) -> None:
    """Delete the oldest history files beyond ``keep`` (the stamps sort like times)."""
    if not history.is_dir():
        return
    stamped = re.compile(re.escape(stem) + r"-\d{8}T\d{6}\.xlsx")
    files = sorted(p for p in history.iterdir() if stamped.fullmatch(p.name))
    for old in files[: max(len(files) - max(keep, 0), 0)]:
        old.unlink(missing_ok=True)


def _pack_built_at(path: Path) -> datetime:
    """When a pack was built: its document creation time (UTC), else the file's mtime."""
    with suppress(OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        with zipfile.ZipFile(path) as archive:
            root = ElementTree.fromstring(archive.read("docProps/core.xml"))
        node = root.find("{http://purl.org/dc/terms/}created")
        if node is not None and node.text:
            stamp = datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
            return _naive_utc(stamp)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)


# --------------------------------------------------------------------------- values


_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_ILLEGAL_CHARS = re.compile(r"[\000-\010\013\014\016-\037]")  # as openpyxl: XML cannot hold them
_ERROR_TEXTS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def _safe(value: Any) -> tuple[Any, bool]:
    """What may be stored for ``value``, and whether it needs a quote prefix.

    The one guard for every cell: text stays text (a quote prefix stops Excel re-evaluating
    '=', '+', '-', '@' on edit), characters XML cannot hold are dropped, numbers stay numbers,
    and NaN/inf/None become None (callers show '–' or '<5' instead).
    """
    if value.__class__ is float:  # the common case, first
        return (value if math.isfinite(value) else None), False
    if isinstance(value, str):
        text = _ILLEGAL_CHARS.sub("", value)[:32767]
        return text, text.startswith(_RISKY_START) or text in _ERROR_TEXTS
    if value is None or value is pd.NA:
        return None, False
    if isinstance(value, bool):
        return value, False
    if isinstance(value, datetime):
        return _naive_utc(value), False  # Excel has no time zones
    if getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
        return bool(value), False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _safe(str(value))
    if not math.isfinite(number):
        return None, False
    return (value if isinstance(value, int) else number), False


def _put(ws: Worksheet, row: int, col: int, value: Any, style: Any = None) -> Cell:
    """Write one cell through ``_safe``; ``style`` is a registered named style's array."""
    cell = ws.cell(row=row, column=col)
    if style is not None:
        cell._style = copy(style)  # what ``cell.style = name`` does, minus its list scan
    stored, quote = _safe(value)
    cell.value = stored
    if isinstance(stored, str):
        cell.data_type = "s"  # openpyxl would make '=…' a formula and '#N/A' an error
        if quote:
            cell.quotePrefix = True
    return cell


def _is_missing(value: Any) -> bool:
    return _safe(value)[0] is None


def _text(value: Any) -> str:
    return "" if value is None or value is pd.NA or _is_nan(value) else str(value)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _naive_utc(moment: datetime) -> datetime:
    """Naive datetimes in the marts are UTC; Excel wants naive UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _danish_time(moment: datetime) -> str:
    """'22. november 2026 kl. 03.30' in Danish local time."""
    utc = _naive_utc(moment).replace(tzinfo=UTC)
    try:
        from zoneinfo import ZoneInfo

        local, zone = utc.astimezone(ZoneInfo("Europe/Copenhagen")), ""
    except Exception:  # no time-zone database: say it is UTC rather than guess
        local, zone = utc, " (UTC)"
    return f"{local.day}. {MONTHS_DA[local.month - 1]} {local.year} kl. {local:%H.%M}{zone}"


def _ordered(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Indicators in reading order: by theme (THEME_ORDER), then catalogue order."""
    rank = {theme: i for i, theme in enumerate(THEME_ORDER)}
    frame = catalogue.assign(_rank=catalogue["theme"].map(rank).fillna(len(rank)))
    return frame.sort_values(["_rank", "order"], kind="stable").drop(columns="_rank")


_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _short_sheet_name(title: str, indicator_id: str) -> str:
    """A readable sheet name from a Danish title, abbreviated only as far as needed to fit 31."""
    age = re.search(r"(\d+)plus", indicator_id)
    steps: list[list[tuple[str, Any]]] = [  # one step at a time until the name fits
        [
            (r"\(aldersstandardiseret\)", "(aldersstd.)"),
            (r"^Borgere (?:med|i) (\w)", lambda m: m.group(1).upper()),
        ],
        [(r"\bpå (\d+) år og derover\b", r"\1+")],
        [(r"\bover fem år\b", "over 5 år")],
        [(r"\binden for (\d+) dage\b", r"\1 d."), (r"indlæggelser\b", "indl.")],
        [(r" blandt ældre\b", f" {age.group(1)}+" if age else " ældre")],
        [(r" blandt borgere med (\w+)", r" blandt \1-patienter")],
        [(r" pr\. borger$", "")],
    ]
    name = " ".join(_INVALID_SHEET_CHARS.sub("-", title).split())
    for step in steps:
        if len(name) <= 31:
            break
        for pattern, replacement in step:
            name = re.sub(pattern, replacement, name)
    if len(name) > 31:  # still too long: cut at a word boundary
        cut = name[:31]
        name = cut.rsplit(" ", 1)[0] if " " in cut[12:] else cut
    return name.strip(" '") or indicator_id[:31]


def _wrap_height(text: str, width_chars: float, font_pt: float = 11) -> float:
    """Row height (points) that shows ``text`` wrapped in a column ``width_chars`` wide.

    Excel does not grow rows for wrapped text it did not wrap itself, so the height is set:
    greedy word wrap at ~1.25 characters per width unit (Danish prose in Calibri 11 fits ~1.3);
    15 pt a line at 11 pt, as Excel."""
    per_line = max(int(width_chars * 1.25 * 11 / font_pt), 10)
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


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@lru_cache(maxsize=1024)
def _col(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


_LETTERS: list[str] = [""]  # column letters by 1-based index, for the fast row writer


def _letters(last: int) -> list[str]:
    while len(_LETTERS) <= last:
        _LETTERS.append(_col(len(_LETTERS)))
    return _LETTERS


def _col_index(letters: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letters)


# --------------------------------------------------------------------------- styles


def _font(**look: Any) -> Any:
    """Calibri 11 unless told otherwise: every style names its font (LibreOffice would fall back
    to a serif for a nameless one)."""
    from openpyxl.styles import Font

    return Font(**{"name": "Calibri", "size": 11, **look})


class _Styles:
    """Named styles, registered once per workbook; cells copy their arrays (fast, small file)."""

    def __init__(self, wb: Workbook) -> None:
        from openpyxl.styles import Alignment, Border, PatternFill, Side

        self._wb = wb
        self.arrays: dict[str, Any] = {}
        thin_grey = Side(style="thin", color="BFBFBF")
        red = Side(style="thick", color="C00000")
        rule = Border(bottom=Side(style="thin", color="7F7F7F"))
        self.grey_box = Border(left=thin_grey, right=thin_grey, top=thin_grey, bottom=thin_grey)
        self._fills = {
            key: PatternFill("solid", fgColor=colour.lstrip("#"))
            for key, colour in COMPARISON_COLOURS.items()
        }
        self._font_colours = {
            key: "FFFFFF" if _luminance(colour) < 0.18 else "000000"
            for key, colour in COMPARISON_COLOURS.items()
        }
        top = Alignment(vertical="top")
        wrap_top = Alignment(wrap_text=True, vertical="top")
        header_fill = PatternFill("solid", fgColor="DCE6F1")
        theme_fill = PatternFill("solid", fgColor="EEF3F8")
        link_font = _font(color="0563C1", underline="single")
        self.add("dp_text", alignment=top)
        self.add("dp_wrap", alignment=wrap_top)
        self.add("dp_label", font=_font(bold=True), alignment=wrap_top)
        self.add("dp_title", font=_font(bold=True, size=22), alignment=Alignment(vertical="center"))
        self.add("dp_h1", font=_font(bold=True, size=16), alignment=Alignment(vertical="center"))
        self.add(
            "dp_h2",
            font=_font(bold=True, size=13, color="1F3864"),
            alignment=Alignment(vertical="bottom"),
        )
        self.add("dp_subtitle", font=_font(size=13, color="404040"))
        self.add("dp_note", font=_font(italic=True, size=9, color="404040"), alignment=wrap_top)
        self.add("dp_mono", font=_font(name="Consolas", size=9), alignment=top)
        header = {"font": _font(bold=True), "fill": header_fill, "border": rule}
        self.add("dp_header", alignment=Alignment(wrap_text=True, vertical="bottom"), **header)
        for name, where in (("dp_header_num", "right"), ("dp_header_mid", "center")):
            align = Alignment(wrap_text=True, vertical="bottom", horizontal=where)
            self.add(name, alignment=align, **header)
        self.add("dp_theme", font=_font(bold=True, color="1F3864"), fill=theme_fill)
        self.add("dp_placeholder", alignment=Alignment(horizontal="right", vertical="top"))
        self.add("dp_centre", alignment=Alignment(horizontal="center", vertical="top"))
        self.add("dp_link", font=link_font, alignment=top)
        self.add("dp_link_wrap", font=link_font, alignment=wrap_top)
        self.add(
            "dp_theme_link",
            font=_font(bold=True, color="0563C1", underline="single"),
            fill=theme_fill,
        )
        self.add(
            "dp_banner",
            font=_font(bold=True, size=16, color="9C0006"),
            fill=PatternFill("solid", fgColor="FFE5E5"),
            border=Border(left=red, right=red, top=red, bottom=red),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        )
        self.add("dp_p", number_format="0.000")

    def add(self, name: str, **look: Any) -> str:
        """Register a named style once; returns its name."""
        from openpyxl.styles import NamedStyle

        if name not in self.arrays:
            look.setdefault("font", _font())  # a font without a name renders as a serif
            style = NamedStyle(name=name, **look)
            self._wb.add_named_style(style)
            self.arrays[name] = style.as_tuple()
        return name

    def number(self, decimals: int, comparison: str | None = None) -> str:
        """A number with ``decimals`` (Danish separators by locale), coloured by comparison."""
        name = f"dp_n{decimals}" + (f"_{comparison}" if comparison else "")
        if name in self.arrays:
            return name
        from openpyxl.styles import Alignment

        look = self._comparison_look(comparison) if comparison else {}
        fmt = excel_number_format(decimals)
        return self.add(name, number_format=fmt, alignment=Alignment(vertical="top"), **look)

    def comparison(self, comparison: str, small: bool = False) -> str:
        """A text cell in the comparison's colour (labels in tables, legend swatches)."""
        from openpyxl.styles import Alignment

        name = f"dp_cmp_{comparison}" + ("_small" if small else "")
        if name in self.arrays:
            return name
        look = self._comparison_look(comparison)
        look["alignment"] = Alignment(horizontal="center", vertical="top")
        if small:
            look["font"] = _font(color=look["font"].color, size=9)
            look["alignment"] = Alignment(wrap_text=True, horizontal="center", vertical="center")
        return self.add(name, **look)

    def _comparison_look(self, comparison: str) -> dict[str, Any]:
        key = comparison if comparison in self._fills else "not_compared"
        return {
            "fill": self._fills[key],
            "font": _font(color=self._font_colours[key]),
            "border": self.grey_box,
        }


# --------------------------------------------------------------------------- sheet writer


# A table cell for ``_Sheet.row``: (column, value, style name, comment).
_CellSpec = tuple[int, Any, str | None, str]


class _Sheet:
    """One worksheet and what its writers share: styles, notes already shown, fast rows, and an
    estimate of the printed page, so blocks (tables, charts) start on a new page rather than
    being split when they do not fit."""

    def __init__(self, ws: Worksheet, styles: _Styles) -> None:
        self.ws = ws
        self.styles = styles
        self.seen_notes: set[str] = set()
        self.fast = _FastRows(ws, styles)
        self.pages_wide = 1
        self.scale = 1.0  # estimated print scale under fit-to-width (set by ``layout``)
        self.used_pt = 0.0  # height used on the current printed page
        self.counted = 0  # rows up to here are in ``used_pt``
        self.merges: list[Any] = []  # merged ranges, given to the sheet by ``finish``
        self.widths: dict[int, float] = {}  # column widths (set by ``layout``)

    # ---- cells

    def put(self, row: int, col: int, value: Any, style: str | None = None) -> Cell:
        return _put(self.ws, row, col, value, self.styles.arrays[style] if style else None)

    def note(self, cell: Cell, text: str) -> None:
        """A comment with ``text`` on its first cell in this sheet (keeps the file small)."""
        from openpyxl.comments import Comment

        if text and text not in self.seen_notes:
            self.seen_notes.add(text)
            cell.comment = Comment(_safe(text)[0], AUTHOR, height=90, width=260)

    def row(self, row: int, cells: Sequence[_CellSpec], may_note: bool = True) -> None:
        """A plain table row: written fast, unless a cell carries a note this sheet lacks.

        ``may_note=False`` promises no cell has a note (saves the check on long tables)."""
        if may_note and any(comment and comment not in self.seen_notes for *_, comment in cells):
            for col, value, style, comment in cells:
                self.note(self.put(row, col, value, style), comment)
        else:
            self.fast.add(row, cells)

    def look(
        self,
        col: int,
        value: Any,
        decimals: int,
        suppressed: bool = False,
        note: str = "",
        comparison: str | None = None,
    ) -> _CellSpec:
        """A measure cell: the number, '<5' when suppressed, or '–' with its note."""
        if suppressed:
            return col, SUPPRESSED_TEXT, "dp_placeholder", SUPPRESSED_NOTE_DA
        if _is_missing(value):
            return col, MISSING_TEXT, "dp_placeholder", note
        return col, value, self.styles.number(decimals, comparison), ""

    def measure(
        self,
        row: int,
        col: int,
        value: Any,
        decimals: int,
        suppressed: bool = False,
        note: str = "",
        comparison: str | None = None,
    ) -> Cell:
        """``look`` written through openpyxl (for rows that also hold links or merges)."""
        _, shown, style, comment = self.look(col, value, decimals, suppressed, note, comparison)
        cell = self.put(row, col, shown, style)
        self.note(cell, comment)
        return cell

    def link(self, row: int, col: int, text: str, sheet: str, style: str = "dp_link") -> Cell:
        """A working link to a sheet of this workbook."""
        from openpyxl.worksheet.hyperlink import Hyperlink

        cell = self.put(row, col, text, style)
        location = "'{}'!A1".format(sheet.replace("'", "''"))
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=location, display=text)
        return cell

    def band(self, row: int, label: str, last: int, style: str = "dp_theme") -> None:
        """A shaded row with a label in column A across the table (themes, sexes)."""
        self.row(row, [(1, label, style, "")] + [(c, None, style, "") for c in range(2, last + 1)])

    def paragraph(
        self, row: int, text: str, first: int, last: int, style: str = "dp_wrap", label: str = ""
    ) -> None:
        """Wrapped text merged over ``first``..``last``, in a row tall enough for all of it."""
        from openpyxl.worksheet.cell_range import CellRange

        if label:
            self.put(row, 1, label, "dp_label")
        self.put(row, first, text, style)
        if last > first:  # recorded only: ws.merge_cells rebuilds borders and rescans (ms each)
            self.merges.append(CellRange(min_col=first, min_row=row, max_col=last, max_row=row))
        height = self.paragraph_height(text, first, last, style)
        self.height(row, max(height, self.row_height(row) if row in self.ws.row_dimensions else 0))

    def paragraph_height(self, text: str, first: int, last: int, style: str = "dp_wrap") -> float:
        width = sum(self.width(c) for c in range(first, last + 1))
        return _wrap_height(text, width, 9 if style == "dp_note" else 11)

    def header(
        self,
        row: int,
        labels: Sequence[str],
        numeric: Iterable[int] = (),
        centre: Iterable[int] = (),
    ) -> None:
        """A table header, aligned like its columns: ``numeric`` right, ``centre`` centred."""
        numeric, centre = set(numeric), set(centre)
        for i, label in enumerate(labels):
            style = "dp_header_num" if i in numeric else "dp_header_mid" if i in centre else None
            self.put(row, 1 + i, label, style or "dp_header")
        lines = max(math.ceil(len(x) / max(self.width(1 + i) - 1, 1)) for i, x in enumerate(labels))
        self.height(row, 15 * min(lines, 3) + 4)

    def heading(self, row: int, text: str) -> None:
        """A section heading; its tall row gives the space above it (no blank rows needed)."""
        self.put(row, 1, text, "dp_h2")
        self.height(row, HEADING_PT)

    def legend(self, row: int, first_col: int, keys: Sequence[str]) -> None:
        """Colour swatches with their Danish labels, one per column from ``first_col``."""
        self.put(row, 1, "Farver:", "dp_label")
        for i, key in enumerate(keys):
            label = COMPARISON_LABELS_DA[key]
            self.put(row, first_col + i, label, self.styles.comparison(key, small=True))
        self.height(row, 26)

    def finish(self) -> None:
        """Hand the collected merged ranges to the worksheet (one set, not one scan per merge)."""
        from openpyxl.worksheet.cell_range import MultiCellRange

        self.ws.merged_cells = MultiCellRange([*self.ws.merged_cells.ranges, *self.merges])
        self.merges = []

    # ---- layout and print

    def layout(self, widths: dict[int, float], pages_wide: int = 1) -> None:
        """Column widths, and the print scale they imply when fitted to ``pages_wide`` pages."""
        for col, width in widths.items():
            self.ws.column_dimensions[_col(col)].width = width
        self.widths = dict(widths)
        self.pages_wide = pages_wide
        px = sum(width * 7 + 5 for width in widths.values())  # Excel: ~7 px a unit at Calibri 11
        self.scale = min(1.0, pages_wide * PAGE_WIDE_PX / px)

    def width(self, col: int) -> float:
        return self.widths.get(col, 8.43)  # Excel's default column width

    def height(self, row: int, points: float) -> None:
        self.ws.row_dimensions[row].height = points

    def row_height(self, row: int) -> float:
        dims = self.ws.row_dimensions.get(row)  # .get: indexing would create an empty row
        return (dims.height if dims is not None else None) or 15.0

    def keep(self, row: int, height_pt: float) -> bool:
        """Start a new printed page at ``row`` unless ``height_pt`` more fits on this one."""
        from openpyxl.worksheet.pagebreak import Break

        self._count_rows(row - 1)
        if self.used_pt > 0 and self.used_pt + height_pt > self._page_pt:
            self.ws.row_breaks.append(Break(id=row - 1))
            self.used_pt = 0.0
            return True
        return False

    def _count_rows(self, last: int) -> None:
        """Add the heights of rows not yet counted, up to ``last``, to the current page."""
        for r in range(self.counted + 1, last + 1):
            self.used_pt += self.row_height(r)
            if self.used_pt > self._page_pt:  # a block longer than a page spills over
                self.used_pt -= self._page_pt
        self.counted = max(self.counted, last)

    @property
    def _page_pt(self) -> float:
        return PAGE_HIGH_PT / self.scale

    def image(self, png: Path | None, row: int) -> int:
        """A chart (it carries its own title) on a new printed page, filling its width.

        Returns the next free row (the image floats over the rows below its anchor)."""
        from openpyxl.drawing.image import Image

        if png is None or not png.is_file():
            return row
        image = Image(str(png))
        max_w = PAGE_WIDE_PX / self.scale
        max_h = PAGE_HIGH_PT * 4 / 3 / self.scale
        fit = min(max_w / image.width, max_h / image.height)  # fill the printed width
        image.width, image.height = round(image.width * fit), round(image.height * fit)
        height_pt = image.height * 0.75
        # Always at the top of a page: Excel and LibreOffice measure rows a little differently,
        # and a picture cut by a page break is worse than some white space.
        self.keep(row, self._page_pt)
        self.ws.add_image(image, f"A{row}")
        return row + 1 + math.ceil(height_pt / 15)  # the image floats over these empty rows


class _FastRows:
    """Plain table rows written straight as sheet XML, merged into openpyxl's file on save.

    openpyxl spends ~15 µs per cell and a pack has tens of thousands of table cells. Values still
    pass ``_safe``; rows with links, merges or comments stay with openpyxl.
    """

    def __init__(self, ws: Worksheet, styles: _Styles) -> None:
        self.ws = ws
        self.styles = styles
        self.rows: dict[int, str] = {}
        self.last_col = 1
        self._ids: dict[tuple[str | None, bool], int] = {}
        self._tails: dict[tuple[str | None, str | None], str] = {}

    def style_id(self, style: str | None, quote: bool) -> int:
        """The workbook's cell-format index for a named style (with or without quote prefix)."""
        from openpyxl.cell.cell import Cell

        key = (style, quote)
        if key not in self._ids:
            probe = Cell(self.ws)  # never added to the sheet
            if style:
                probe._style = copy(self.styles.arrays[style])
            probe.quotePrefix = quote
            self._ids[key] = probe.style_id
        return self._ids[key]

    def _tail(self, value: Any, style: str | None) -> str:
        """A cell's XML after its reference: style, type and value (text is cached)."""
        key = (value, style) if value is None or value.__class__ is str else None
        if key is not None:
            known = self._tails.get(key)
            if known is not None:
                return known
        stored, quote = _safe(value)
        sid = self._ids.get((style, quote))
        if sid is None:
            sid = self.style_id(style, quote)
        s = f' s="{sid}"' if sid else ""
        if stored is None:
            tail = f"{s}/>"
        elif isinstance(stored, str):
            space = ' xml:space="preserve"' if stored != stored.strip() else ""
            tail = f'{s} t="inlineStr"><is><t{space}>{escape(stored)}</t></is></c>'
        elif isinstance(stored, bool):
            tail = f'{s} t="b"><v>{int(stored)}</v></c>'
        else:
            tail = f"{s}><v>{stored!r}</v></c>"
        if key is not None:
            self._tails[key] = tail
        return tail

    def add(self, row: int, cells: Sequence[_CellSpec]) -> None:
        last = max(cell[0] for cell in cells)
        letters, tail = _letters(last), self._tail
        body = "".join([f'<c r="{letters[c]}{row}"{tail(v, style)}' for c, v, style, _ in cells])
        self.rows[row] = f'<row r="{row}">{body}</row>'
        self.last_col = max(self.last_col, last)

    def merge_into(self, sheet_xml: str) -> str:
        """The sheet's XML with these rows merged among openpyxl's, in row order."""
        start = sheet_xml.index("<sheetData>") + len("<sheetData>")
        end = sheet_xml.index("</sheetData>")
        rows = dict(self.rows)
        found = re.finditer(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', sheet_xml[start:end], re.S)
        for match in found:
            number = int(match.group(1))
            if number in rows:  # a height or cell set on a fast row would be lost: a bug
                raise RuntimeError(f"{self.ws.title}: row {number} written twice")
            rows[number] = match.group(0)
        body = "".join(rows[r] for r in sorted(rows))
        merged = sheet_xml[:start] + body + sheet_xml[end:]
        dims = re.search(r'<dimension ref="[A-Z]+\d+:([A-Z]+)\d+"/>', merged)
        last_col = max(self.last_col, _col_index(dims.group(1)) if dims else 1)
        ref = f"A1:{_col(last_col)}{max(rows)}"
        return re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>', merged, count=1)


@dataclass
class _Built:
    """A workbook in memory and its sheets' fast rows, merged in as the file is saved."""

    wb: Workbook
    sheets: list[_Sheet]
    stamp: tuple[int, int, int, int, int, int]  # zip entry times: the build time, not "now"

    def save(self, path: Path) -> None:
        """openpyxl writes an uncompressed zip in memory; the fast rows are merged in and each
        part is compressed once as the file is written (pictures are PNG: stored as they are).
        The same pack gives the same bytes: entries carry the build time."""
        from openpyxl.writer.excel import ExcelWriter

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as staging:
            ExcelWriter(self.wb, staging).save()  # what Workbook.save does, minus compression
        parts = {s.ws.path.lstrip("/"): s.fast for s in self.sheets if s.fast.rows}
        with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename in parts:
                    data = parts[info.filename].merge_into(data.decode("utf-8")).encode("utf-8")
                part = zipfile.ZipInfo(info.filename, date_time=self.stamp)
                if info.filename.endswith(".png"):
                    target.writestr(part, data, zipfile.ZIP_STORED)
                else:
                    target.writestr(part, data, zipfile.ZIP_DEFLATED, ZIP_LEVEL)


# --------------------------------------------------------------------------- workbook


@dataclass
class _Context:
    """What every sheet writer needs, computed once per pack."""

    pack: AreaPackData
    styles: _Styles
    catalogue: pd.DataFrame  # in reading order
    sheet_names: dict[str, str]
    units: list[tuple[str, str, str]]  # (role, area_code, name) in display order
    latest: dict[str, str]  # indicator id → its latest period
    rows: dict[str, list[Any]]  # indicator id → its value rows (named tuples)


def _build(pack: AreaPackData, charts: dict[str, Path] | None) -> _Built:
    """The whole workbook in memory; the caller saves it (see ``_staged``)."""
    from openpyxl import Workbook

    wb = Workbook()
    styles = _Styles(wb)
    rows: dict[str, list[Any]] = defaultdict(list)
    for r in pack.values.itertuples(index=False):
        rows[r.indicator_id].append(r)
    ctx = _Context(
        pack=pack,
        styles=styles,
        catalogue=_ordered(pack.catalogue),
        sheet_names=indicator_sheet_names(pack.catalogue),
        units=_display_units(pack),
        latest={ind: max(str(r.period) for r in group) for ind, group in rows.items()},
        rows=rows,
    )
    found = {key: Path(p) for key, p in (charts or {}).items() if p}

    wb.active.title = FRONT
    sheets = [_Sheet(wb.active, styles)]

    def new(title: str) -> _Sheet:
        sheets.append(_Sheet(wb.create_sheet(title), styles))
        return sheets[-1]

    _write_front(sheets[0], ctx, found.get("pyramid"))
    _write_contents(new(CONTENTS), ctx)
    _write_overview(new(OVERVIEW), ctx, found.get("overview"))
    for ind in ctx.catalogue.itertuples():
        sheet = new(ctx.sheet_names[ind.indicator_id])
        _write_indicator(sheet, ctx, ind, found.get(f"indicator_{ind.indicator_id}"))
    _write_about(new(ABOUT), ctx)
    _write_data(new(DATA), ctx)
    for sheet in sheets:
        sheet.finish()
        _print_setup(sheet, pack)
    _set_properties(wb, pack)
    stamp = max(_naive_utc(pack.built_at), datetime(1980, 1, 1)).timetuple()[:6]
    return _Built(wb, sheets, stamp)


def _display_units(pack: AreaPackData) -> list[tuple[str, str, str]]:
    """Area, members (in the pack's order), region(s), Denmark: each once, in that order."""
    seen = pack.values[["role", "area_code", "area_name"]].drop_duplicates()
    member_rank = {m.code: i for i, m in enumerate(pack.members)}
    units: list[tuple[str, str, str]] = []
    for role in ROLE_ORDER:
        found = [
            (str(r.area_code), str(r.area_name)) for r in seen[seen["role"] == role].itertuples()
        ]
        if role == "member":
            found.sort(key=lambda unit: member_rank.get(unit[0], len(member_rank)))
        for code, name in found:
            if role == "region" and name == pack.area_name:
                continue  # a region's own pack: the area is the region
            units.append((role, code, name))
    return units


def _unit_label(pack: AreaPackData, role: str, code: str, name: str) -> str:
    if role == "member" and any(m.code == code and m.is_partial for m in pack.members):
        return f"{name} (delvis)"
    return name


def _colour_key(role: str, r: Any) -> str | None:
    """Which comparison colours a value: members against the area, area and region against DK."""
    if role == "member":
        return str(r.compared_to_area)
    if role in ("area", "region"):
        return str(r.compared_to_national)
    return None


# --------------------------------------------------------------------------- Forside


def _write_front(sheet: _Sheet, ctx: _Context, pyramid: Path | None) -> None:
    pack = ctx.pack
    sheet.layout({1: 22, 2: 108})
    row = 1
    if pack.is_synthetic:
        sheet.put(1, 2, None, "dp_banner")  # the merged banner's right edge
        sheet.paragraph(1, SYNTHETIC_BANNER_DA, 1, 2, "dp_banner")
        sheet.height(1, 52)
        row = 3
    sheet.put(row, 1, pack.area_name, "dp_title")
    sheet.height(row, 34)
    sheet.put(row + 1, 1, f"Datapakke · {pack.grouping_title}", "dp_subtitle")
    sheet.height(row + 1, 20)
    row += 3

    members = ", ".join(_unit_label(pack, "member", m.code, m.name) for m in pack.members)
    if len(pack.members) > 1:
        members += f" ({len(pack.members)} kommuner)"
    periods = sorted({str(p) for p in pack.values["period"]})
    if periods:
        span = f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else periods[0]
        period_text = f"{span} (seneste år: {periods[-1]})"
    else:
        period_text = "Ingen data"
    facts = [
        ("Kommuner", members),
        ("Region" if len(pack.region_names) == 1 else "Regioner", ", ".join(pack.region_names)),
        ("Dataperiode", period_text),
        ("Dannet", _danish_time(pack.built_at)),
        ("Kodeversion", pack.code_version),
        ("Medlemskab", MEMBERSHIP_STATUS_DA.get(pack.membership_status, pack.membership_status)),
        ("Datastatus", _data_status(pack)),
    ]
    facts += [("Bemærk" if i == 0 else "", note) for i, note in enumerate(pack.notes)]
    for label, text in facts:
        sheet.paragraph(row, text, 2, 2, label=label)
        row += 1

    sheet.heading(row, "Sådan læser du datapakken")
    row += 1
    for i, line in enumerate(READ_ME_DA, start=1):
        sheet.paragraph(row, line, 2, 2, label=f"{i}.")
        row += 1
    row += 1
    sheet.link(row, 1, "→ Indhold", CONTENTS)
    sheet.put(row, 2, "Oversigt over alle ark, med links.", "dp_text")
    sheet.image(pyramid, row + 2)


def _data_status(pack: AreaPackData) -> str:
    """Which sources are real and which are synthetic, in words."""
    src = pack.sources
    if src.empty:
        return "Syntetiske data." if pack.is_synthetic else "Ingen kilder registreret."
    synthetic = src["is_synthetic"].astype(bool)
    titles = src["title"].map(_text)
    see = " Kilderne står på arket 'Om data'."
    if synthetic.all():
        return "Syntetiske data: alle tal er opdigtede (kommunekoder og -navne er rigtige)." + see
    real = "; ".join(titles[~synthetic])
    if not synthetic.any():
        return f"Rigtige data fra: {real}." + see
    return f"Blandet: rigtige data fra {real}; opdigtede data for {'; '.join(titles[synthetic])}."


# --------------------------------------------------------------------------- Indhold


def _write_contents(sheet: _Sheet, ctx: _Context) -> None:
    sheet.layout({1: 58, 2: 76})
    sheet.put(1, 1, f"Indhold – {ctx.pack.area_name}", "dp_h1")
    sheet.height(1, 26)
    sheet.put(2, 1, "Klik på et navn for at gå til arket. Hvert ark har et link tilbage hertil.")
    sheet.header(4, ["Ark", "Indhold"])
    sheet.ws.freeze_panes = "A5"
    row = 5
    pages = [
        (FRONT, "Område, kommuner, datastatus og sådan læser du pakken"),
        (OVERVIEW, "Alle indikatorer for området, kommunerne, regionen og hele landet"),
        (ABOUT, "Definitioner, metoder, kilder med kontrolsum, diskretion og sammenligninger"),
        (DATA, "Alle tal i én lang tabel med filter (til egne analyser)"),
    ]
    groups = [
        (str(theme), list(g.itertuples()))
        for theme, g in ctx.catalogue.groupby("theme", sort=False)
    ]
    for name, what in pages:
        sheet.link(row, 1, name, name)
        sheet.put(row, 2, what, "dp_text")
        row += 1
    for theme, indicators in groups:
        sheet.keep(row, 15 * (len(indicators) + 2))
        sheet.band(row + 1, theme, 2)
        row += 2
        for ind in indicators:
            sheet.link(row, 1, _text(ind.title_da), ctx.sheet_names[ind.indicator_id])
            sheet.put(row, 2, f"Enhed: {_text(ind.unit_da)}", "dp_text")
            row += 1


# --------------------------------------------------------------------------- Overblik


def _write_overview(sheet: _Sheet, ctx: _Context, chart: Path | None) -> None:
    """Every indicator × area, members, region(s), Denmark; the chart below the table.

    Printed, the table breaks only between themes and repeats its header after a break
    (print titles would also repeat it above the chart)."""
    pack, units = ctx.pack, ctx.units
    first = 4  # first value column
    last = first + len(units) - 1
    labels = ["Indikator", "Enhed", "År"] + [_unit_label(pack, *u) for u in units]
    titles = [_text(t) for t in ctx.catalogue["title_da"]]
    unit_texts = [_text(u) for u in ctx.catalogue["unit_da"]]
    width_a = _clamp(max(map(len, titles), default=30) + 2, 30, 46)  # longer titles wrap
    width_b = _clamp(max(map(len, unit_texts), default=10) + 1, 10, 24)
    longest_word = max((len(w) for label in labels[3:] for w in label.split()), default=8)
    width_v = _clamp(longest_word + 3, 11, 20)
    n_values = max(len(units), len(COMPARISON_COLOURS))
    widths = {1: width_a, 2: width_b, 3: 7, **{first + i: width_v for i in range(n_values)}}
    total = sum(widths.values())
    pages_wide = 1
    while (total + (pages_wide - 1) * width_a) / pages_wide > OVERVIEW_CHARS_PER_PAGE:
        pages_wide += 1
    sheet.layout(widths, pages_wide)
    if pages_wide > 1:  # the indicator names on every page; all columns of a row band first
        sheet.ws.print_title_cols = "A:A"
        sheet.ws.page_setup.pageOrder = "overThenDown"

    sheet.put(1, 1, f"Overblik – {pack.area_name}", "dp_h1")
    sheet.height(1, 26)
    sheet.link(2, 1, BACK_LINK_DA, CONTENTS)
    intro = (
        "Seneste år for hver indikator, mænd og kvinder i alt. Farven viser sammenligningen "
        "(95 %-interval): kommunerne med området, området og regionen med hele landet. Klik på "
        "en indikator for detaljer. " + LEGEND_DA
    )
    # Over the columns of the first printed page only (the legend's), so it is never cut.
    sheet.paragraph(3, intro, 1, first + len(COMPARISON_COLOURS) - 1, "dp_note")
    sheet.legend(4, first, list(COMPARISON_COLOURS))
    head = 6
    header_lines = max(math.ceil(len(x) / (width_v - 1)) for x in labels[3:]) if units else 1
    header_pt = 15 * _clamp(header_lines, 2, 4) + 4

    def header(at: int) -> None:
        sheet.header(at, labels, range(3, len(labels)))
        sheet.height(at, header_pt)

    header(head)
    sheet.ws.freeze_panes = f"B{head + 1}"
    row = head + 1
    for theme, group in ctx.catalogue.groupby("theme", sort=False):
        indicators = list(group.itertuples())
        heights = [  # titles and units wrap rather than widen the table
            max(_wrap_height(_text(i.title_da), width_a), _wrap_height(_text(i.unit_da), width_b))
            for i in indicators
        ]
        if sheet.keep(row, 15 + sum(heights)):
            header(row)
            row += 1
        sheet.band(row, str(theme), last)
        row += 1
        for ind, height in zip(indicators, heights, strict=True):
            _overview_row(sheet, ctx, row, ind, first)
            if height > 19:
                sheet.height(row, height)
            row += 1
    sheet.image(chart, row + 1)


OVERVIEW_CHARS_PER_PAGE = 200  # column width units per printed page: ~7 pt text at A4 landscape


def _overview_row(sheet: _Sheet, ctx: _Context, row: int, ind: Any, first: int) -> None:
    latest = ctx.latest.get(ind.indicator_id, "")
    now = {
        (r.role, str(r.area_code)): r
        for r in ctx.rows.get(ind.indicator_id, [])
        if r.sex == "T" and str(r.period) == latest
    }
    sheet.link(row, 1, _text(ind.title_da), ctx.sheet_names[ind.indicator_id], "dp_link_wrap")
    sheet.put(row, 2, _text(ind.unit_da), "dp_wrap")
    sheet.put(row, 3, latest, "dp_text")
    for col, (role, code, _name) in enumerate(ctx.units, start=first):
        r = now.get((role, code))
        if r is None:
            sheet.measure(row, col, None, 0, note="Ingen data")
            continue
        suppressed, note = bool(r.is_suppressed), _text(r.value_note)
        comparison = _colour_key(role, r)
        sheet.measure(row, col, r.value, int(ind.decimals), suppressed, note, comparison)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# --------------------------------------------------------------------------- indicator sheets

_DETAIL_HEADERS = (
    "Niveau",
    "Navn",
    "Tæller",
    "Nævner",
    "Værdi",
    "95 % nedre",
    "95 % øvre",
    "99,8 % nedre",
    "99,8 % øvre",
    "Sammenlignet med området",
    "Sammenlignet med hele landet",
    "Udvikling (5 år)",
    "Note",
)


def _write_indicator(sheet: _Sheet, ctx: _Context, ind: Any, chart: Path | None) -> None:
    """Explanation; values by period (sex T); details for the latest period by sex; chart."""
    pack, units = ctx.pack, ctx.units
    rows = ctx.rows.get(ind.indicator_id, [])
    decimals = int(ind.decimals)
    periods = sorted({str(r.period) for r in rows})
    last = max(len(_DETAIL_HEADERS), 2 + len(periods))
    name_width = max([len(_unit_label(pack, *u)) for u in units] + [18]) + 2
    widths = {1: 12, 2: min(name_width, 36), **{c: 11 for c in range(3, last + 1)}}
    widths.update({10: 20, 11: 20, 12: 22, 13: 28})
    sheet.layout(widths)

    sheet.put(1, 1, _text(ind.title_da), "dp_h1")
    sheet.height(1, 26)
    sheet.link(2, 1, BACK_LINK_DA, CONTENTS)
    sheet.put(2, 3, f"Tema: {ind.theme}", "dp_text")
    sheet.ws.freeze_panes = "A3"
    row = 3
    for label, text in [
        ("Definition", _text(ind.definition_da)),
        ("Enhed", _text(ind.unit_da)),
        ("Metode", f"{_method_text(ind)} {_interval_text(ind)}"),
        ("Retning", POLARITY_DA.get(str(ind.polarity), _text(ind.polarity))),
        ("Kilde", _text(ind.source_da)),
        ("Forbehold", _text(ind.caveats_da) or "Ingen særlige."),
    ]:
        sheet.paragraph(row, text, 2, last, label=label)
        row += 1
    sheet.paragraph(row, LEGEND_DA, 1, last, "dp_note")
    sheet.legend(row + 1, 3, NEUTRAL_KEYS if ind.polarity == "no_judgement" else JUDGED_KEYS)
    row += 2
    if not rows:
        sheet.put(row, 1, "Der er ingen tal for denne indikator i datapakken.", "dp_text")
        return

    sheet.keep(row, HEADING_PT + 19 + 15 * len(units))
    unit = _text(ind.unit_da)
    sheet.heading(row, f"Udvikling over tid ({unit}, mænd og kvinder i alt)")
    sheet.header(row + 1, ["Niveau", "Navn", *periods], range(2, 2 + len(periods)))
    row += 2
    by_unit: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for r in rows:
        if r.sex == "T":
            by_unit[(r.role, str(r.area_code))][str(r.period)] = r
    for role, code, name in units:
        cells = _unit_cells(pack, role, code, name)
        for col, period in enumerate(periods, start=3):
            r = by_unit[(role, code)].get(period)
            if r is None:
                cells.append(sheet.look(col, None, decimals, note="Ingen data for dette år"))
            else:
                suppressed, note = bool(r.is_suppressed), _text(r.value_note)
                cells.append(sheet.look(col, r.value, decimals, suppressed, note))
        sheet.row(row, cells)
        row += 1

    latest = ctx.latest[ind.indicator_id]
    detail = {(r.sex, r.role, str(r.area_code)): r for r in rows if str(r.period) == latest}
    sexes = [sex for sex in ("T", "M", "K") if any(key[0] == sex for key in detail)]
    sheet.keep(row, HEADING_PT + 34 + 15 * (len(units) + 1))
    sheet.heading(row, f"Detaljer for {latest}: tal, usikkerhed, sammenligning og udvikling")
    sheet.header(row + 1, _DETAIL_HEADERS, range(2, 9), centre=(9, 10))
    row += 2
    for sex in sexes:
        if sheet.keep(row, 15 * (len(units) + 1)):  # a new printed page: repeat the header
            sheet.header(row, _DETAIL_HEADERS, range(2, 9), centre=(9, 10))
            row += 1
        sheet.band(row, SEX_LABELS_DA[sex], len(_DETAIL_HEADERS))
        row += 1
        for role, code, name in units:
            cells = _unit_cells(pack, role, code, name)
            r = detail.get((sex, role, code))
            if r is None:
                cells.append(sheet.look(5, None, decimals, note="Ingen data"))
            else:
                cells += _detail_cells(sheet, r, role, decimals)
            sheet.row(row, cells)
            row += 1
    sheet.image(chart, row + 1)


def _unit_cells(pack: AreaPackData, role: str, code: str, name: str) -> list[_CellSpec]:
    """The first two cells of a table row: level and name."""
    label = _unit_label(pack, role, code, name)
    return [(1, ROLE_LABELS_DA.get(role, role), "dp_text", ""), (2, label, "dp_text", "")]


def _detail_cells(sheet: _Sheet, r: Any, role: str, decimals: int) -> list[_CellSpec]:
    """Numerator to note for one unit and sex; withheld numbers show '<5'."""
    suppressed, note = bool(r.is_suppressed), _text(r.value_note)
    cells = [
        sheet.look(3, r.numerator, 0, suppressed, note),
        sheet.look(4, r.denominator, 0, False, note),
    ]
    estimates = (r.value, r.ci95_low, r.ci95_high, r.ci998_low, r.ci998_high)
    cells += [
        sheet.look(col, value, decimals, suppressed, note)
        for col, value in enumerate(estimates, start=5)
    ]
    comparisons = (
        (10, r.compared_to_area if role == "member" else None),
        (11, r.compared_to_national if role != "country" else None),
    )
    for col, key in comparisons:
        if key is not None and not _is_nan(key):
            label = COMPARISON_LABELS_DA.get(str(key), str(key))
            cells.append((col, label, sheet.styles.comparison(str(key)), ""))
    cells.append((12, TREND_LABELS_DA.get(str(r.trend), _text(r.trend)), "dp_text", ""))
    cells.append((13, note, "dp_text", ""))
    return cells


def _method_text(ind: Any) -> str:
    return METHOD_DA.get(str(ind.method), _text(ind.method))


def _interval_text(ind: Any) -> str:
    return INTERVAL_DA.get(str(ind.interval), _text(ind.interval))


# --------------------------------------------------------------------------- Om data


def _write_about(sheet: _Sheet, ctx: _Context) -> None:
    """Every indicator's definition and method (kept on one printed page each), the sources
    with checksums, and how disclosure control and comparisons work."""
    pack = ctx.pack
    last = 5
    sheet.layout({1: 24, 2: 40, 3: 60, 4: 10, 5: 12})
    sheet.put(1, 1, f"Om data – {pack.area_name}", "dp_h1")
    sheet.height(1, 26)
    sheet.link(2, 1, BACK_LINK_DA, CONTENTS)
    sheet.ws.freeze_panes = "A4"
    row = 4
    sheet.heading(row, "Indikatorerne")
    row += 1
    for ind in ctx.catalogue.itertuples():
        fields = _about_fields(ind)
        sheet.keep(row, 15 + sum(sheet.paragraph_height(t, 2, last) for _, t in fields))
        sheet.put(row, 1, str(ind.theme), "dp_theme")
        sheet.link(row, 2, _text(ind.title_da), ctx.sheet_names[ind.indicator_id], "dp_theme_link")
        for col in range(3, last + 1):
            sheet.put(row, col, None, "dp_theme")
        row += 1
        for label, text in fields:
            sheet.paragraph(row, text, 2, last, label=label)
            row += 1
        row += 1

    sources = list(pack.sources.itertuples())
    sheet.keep(row, 22 + 34 + 30 * len(sources))
    sheet.heading(row, "Kilder")
    labels = ["Kilde", "Fil", "SHA-256 (kontrolsum)", "Rækker", "Syntetiske data"]
    sheet.header(row + 1, labels, (3,), centre=(4,))
    row += 2
    for src in sources:
        title = " – ".join(t for t in (_text(src.title), _text(src.publisher)) if t)
        sheet.put(row, 1, title, "dp_wrap")
        sheet.put(row, 2, _text(src.file), "dp_wrap")
        sheet.put(row, 3, _text(src.sha256), "dp_mono")
        sheet.measure(row, 4, src.rows, 0)
        sheet.put(row, 5, "Ja" if bool(src.is_synthetic) else "Nej", "dp_centre")
        sheet.height(row, max(_wrap_height(title, 24), _wrap_height(_text(src.file), 40)))
        row += 1
    row += 1
    threshold = max(int(pack.suppression_threshold) - 1, 1)
    for text in (DISCLOSURE_TEXT_DA.format(last=threshold), COMPARISON_TEXT_DA, DATA_SHEET_TEXT_DA):
        sheet.keep(row, sheet.paragraph_height(text, 1, last))
        sheet.paragraph(row, text, 1, last)
        row += 2


def _about_fields(ind: Any) -> list[tuple[str, str]]:
    disclosure = DISCLOSURE_RULE_DA.get(str(ind.disclosure), "")
    denominator = _measure_text(ind.denominator_measure, ind.denominator_min_age)
    return [
        ("Definition", _text(ind.definition_da)),
        ("Tæller", _measure_text(ind.numerator_measure, ind.numerator_min_age)),
        ("Nævner", denominator or "Ingen (optælling)"),
        ("Metode", _method_text(ind)),
        ("Usikkerhed", _interval_text(ind)),
        ("Enhed", _text(ind.unit_da)),
        ("Retning", POLARITY_DA.get(str(ind.polarity), _text(ind.polarity))),
        ("Kilde", _text(ind.source_da)),
        ("Forbehold", _text(ind.caveats_da) or "Ingen særlige."),
        ("Diskretion", f"{disclosure} {_text(ind.disclosure_note_da)}".strip()),
    ]


def _measure_text(measure: Any, min_age: Any) -> str:
    if not _text(measure):
        return ""
    name = "folketal" if str(measure) == "population" else str(measure)
    age = "alle aldre" if _is_missing(min_age) else f"{int(min_age)} år og derover"
    return f"{name} ({age})"


# --------------------------------------------------------------------------- Data


def _write_data(sheet: _Sheet, ctx: _Context) -> None:
    """The long table for analysts: a legend line, a filtered header, one row per value."""
    pack = ctx.pack
    cat = pack.catalogue.set_index("indicator_id")
    v = pack.values
    rank = {ind: i for i, ind in enumerate(ctx.catalogue["indicator_id"])}
    frame = v.assign(
        title_da=v["indicator_id"].map(cat["title_da"]),
        unit_da=v["indicator_id"].map(cat["unit_da"]),
        _i=v["indicator_id"].map(rank),
        _r=v["role"].map({role: i for i, role in enumerate(ROLE_ORDER)}),
        _s=v["sex"].map({"T": 0, "M": 1, "K": 2}),
    ).sort_values(["_i", "_r", "area_code", "_s", "period"], kind="stable")

    sheet.layout({i: w for i, (_, _, _, w) in enumerate(DATA_COLUMNS, start=1)})
    sheet.paragraph(1, LEGEND_DA, 1, 8, "dp_note")
    sheet.header(2, [header for _, header, _, _ in DATA_COLUMNS])

    decimals = frame["indicator_id"].map(cat["decimals"]).fillna(1).astype(int).tolist()
    suppressed = frame["is_suppressed"].fillna(False).astype(bool).tolist()
    notes = frame["value_note"].map(_text).tolist()
    columns: list[list[_CellSpec]] = []
    for col, (name, _header, kind, _width) in enumerate(DATA_COLUMNS, start=1):
        if kind in ("text", "label"):
            texts = frame[name].astype("string").fillna("")
            if kind == "label":
                texts = frame[name].map(_LABELS[name]).fillna(texts)
            columns.append([(col, x, None, "") for x in texts.tolist()])
        elif kind == "p":
            columns.append([(col, x, "dp_p", "") for x in frame[name].tolist()])
        else:
            withheld = name in _WITHHELD
            styles = [sheet.styles.number(0 if kind == "count" else d) for d in decimals]
            columns.append(
                [  # numbers as they are; anything else through ``look`` ('<5', '–' and notes)
                    (col, x, st, "")
                    if x.__class__ is float and x == x and not (withheld and s)
                    else sheet.look(col, x, 0 if kind == "count" else d, withheld and s, note)
                    for x, st, d, s, note in zip(
                        frame[name].tolist(), styles, decimals, suppressed, notes, strict=True
                    )
                ]
            )
    may_note = [s or bool(note) for s, note in zip(suppressed, notes, strict=True)]
    for row, cells in enumerate(zip(*columns, strict=True), start=3):
        sheet.row(row, cells, may_note[row - 3])
    sheet.ws.auto_filter.ref = f"A2:{_col(len(DATA_COLUMNS))}{len(frame) + 2}"
    sheet.ws.freeze_panes = "B3"
    sheet.ws.print_title_rows = "2:2"


# --------------------------------------------------------------------------- print, properties


def _print_setup(sheet: _Sheet, pack: AreaPackData) -> None:
    """A4 landscape, fitted to the page width, with area, sheet, page numbers, synthetic mark."""
    ws = sheet.ws
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = sheet.pages_wide
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.left.text = f"Datapakke: {pack.area_name.replace('&', '&&')}"
    ws.oddHeader.left.size = 9
    if pack.is_synthetic:
        ws.oddHeader.right.text = SYNTHETIC_MARK_DA
        ws.oddHeader.right.font = "Calibri,Bold"
        ws.oddHeader.right.color = "C00000"
        ws.oddHeader.right.size = 12
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.center.text = "Side &P af &N"
    ws.oddFooter.right.text = f"Dannet {_danish_time(pack.built_at)}"
    for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right):
        part.size = 9


def _set_properties(wb: Workbook, pack: AreaPackData) -> None:
    props = wb.properties
    props.title = f"Datapakke – {pack.area_name}"
    props.subject = f"{pack.grouping_title}: {pack.area_name}"
    props.creator = AUTHOR
    props.lastModifiedBy = AUTHOR
    keywords = ["datapakke", pack.grouping, pack.area_id, pack.grouping_title, *pack.region_names]
    if pack.is_synthetic:
        keywords.append("syntetiske data")
    props.keywords = ", ".join(keywords)
    description = (
        f"Sundhedsdata for {pack.area_name} ({pack.grouping_title}) med kommunerne, regionen og "
        f"hele landet. Kodeversion {pack.code_version}."
    )
    if pack.is_synthetic:
        description = f"{SYNTHETIC_MARK_DA}: alle tal er opdigtede. {description}"
    props.description = description
    props.language = "da-DK"
    props.created = props.modified = _naive_utc(pack.built_at)
