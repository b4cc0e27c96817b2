"""The overview: a table with one row per indicator, grouped by theme, and a spine chart of
each against all municipalities (see :func:`overview_chart`).

One comparator: the dot's colour is always the comparison with Denmark (``compared_to_national``),
as in the workbook's overview table and the indicator sheets' "Sammenlignet med hele landet".
An arrow after the value gives its trend over the last five years (the mart's ``trend``).

The text columns are measured so nothing is cut off, and the spine gets the rest of the width.
Counts are not comparable with single municipalities, so their rows have no spine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from datapakke.mart.catalogue import METHOD_RULES
from datapakke.presentation import (
    COMPARISON_COLOURS,
    COMPARISON_LABELS_DA,
    LEVEL_STYLES,
    MISSING_TEXT,
    ROLE_LABELS_DA,
    THEME_ORDER,
    TREND_ARROWS,
    TREND_LABELS_DA,
    format_da,
    suppressed_text,
)
from datapakke.publish.charts.canvas import Canvas, draw_watermark, runs
from datapakke.publish.charts.legend import ROW_IN, Key, draw_legend
from datapakke.publish.charts.measure import text_width
from datapakke.publish.charts.rows import catalogue_in_order
from datapakke.publish.charts.style import (
    MARGIN_IN,
    MAX_HEIGHT_IN,
    MUTED,
    PAGE_WIDTH_IN,
    ROW_SHADE,
    SPINE_MIDDLE,
    SPINE_RANGE,
    suppressed_key_da,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from datapakke.publish.pack_data import AreaPackData

MARKER = {  # the dot; its colour is the comparison's
    "marker": "o",
    "markersize": 6.2,
    "markeredgecolor": "#333333",
    "markeredgewidth": 0.7,
}
TABLE_TOP_IN = 0.95  # below the figure's top: heading and column heads
TABLE_BOTTOM_IN = 0.62 + ROW_IN  # above the figure's bottom: the legends
THEME_GAP = 0.35  # air between themes, in rows
TREND_KEY_DA = (
    "Pilen efter tallet: udvikling over de seneste 5 år – "
    + ", ".join(f"{a} {TREND_LABELS_DA[k].lower()}" for k, a in TREND_ARROWS.items())
    + f"; ingen pil: {TREND_LABELS_DA['insufficient_data'].lower()}"
)


def overview_chart(pack: AreaPackData, member_code: str | None = None) -> Figure:
    """Spine chart of every indicator for the area (or one member) against all municipalities.

    Each bar is the range of Denmark's municipalities (darker: the middle half), rescaled so the
    national value is in the middle; the dot is the area's value coloured by its comparison with
    Denmark, and the value is printed beside it with an arrow for its trend.
    """
    canvas = Canvas(PAGE_WIDTH_IN, MAX_HEIGHT_IN)
    rows = _overview_rows(pack, member_code)
    table = _table(rows, member_code, pack.suppression_threshold, canvas.width)
    top, bottom = canvas.height - TABLE_TOP_IN, TABLE_BOTTOM_IN
    y, half = _row_positions(rows, top, bottom)
    _draw_shading(canvas, table, y, half)
    pos = _spine_positions(rows)
    has_value = _draw_spines(canvas, rows, table, pos, y, half)
    _draw_row_text(canvas, rows, table, pos["usable"].to_numpy(), y)
    _draw_column_heads(canvas, table, top + 0.08)
    _draw_heading(canvas, pack, member_code, table)
    _draw_legends(canvas, rows, has_value, bottom - 0.1, pack.suppression_threshold)
    draw_watermark(canvas, pack)
    return canvas.fig


def _overview_rows(pack: AreaPackData, member_code: str | None) -> pd.DataFrame:
    """One row per indicator, themes in THEME_ORDER: latest value, comparison, national spread.

    Whole-table group-bys rather than a loop over indicators (a loop was most of this chart's
    time).
    """
    cat = catalogue_in_order(pack)
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
    spread = _national_spread(pack)

    ids = cat["indicator_id"]
    comparison = ids.map(mine["compared_to_national"]).astype(object)
    trend = (
        ids.map(mine["trend"]).astype(object) if "trend" in mine else pd.Series("", index=ids.index)
    )
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
            "is_count": [METHOD_RULES[str(m)].is_count for m in cat["method"]],
            "year": ids.map(latest).to_numpy(float),
            "value": ids.map(mine["value"]).to_numpy(float),
            "suppressed": ids.map(mine["is_suppressed"]).eq(True).to_numpy(),
            "comparison": comparison.where(
                comparison.isin(list(COMPARISON_COLOURS)), "not_compared"
            ).to_numpy(),
            "trend": trend.where(trend.isin(list(TREND_ARROWS)), "").to_numpy(),
            "national": ids.map(national).to_numpy(float),
            "min": np.asarray(quantile[0], float),
            "q25": np.asarray(quantile[0.25], float),
            "q75": np.asarray(quantile[0.75], float),
            "max": np.asarray(quantile[1], float),
        }
    )


def _national_spread(pack: AreaPackData) -> pd.DataFrame:
    """Per indicator, the published municipalities' minimum, quartiles and maximum."""
    funnel = pack.funnel[~pack.funnel["is_suppressed"].fillna(False).astype(bool)]
    funnel = funnel.assign(value=pd.to_numeric(funnel["value"], errors="coerce")).dropna(
        subset=["value"]
    )
    return funnel.groupby("indicator_id")["value"].quantile([0, 0.25, 0.75, 1]).unstack()


def _theme_label(theme: str) -> str:
    """Themes on at most two short lines: the theme column must leave room for the spine."""
    if text_width(theme, bold=True) <= 0.8:
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
    out["usable"] = half.notna() & ~rows["is_count"]
    return out


@dataclass(frozen=True)
class _Table:
    """What each row says, and the columns measured to fit it; the spine gets the rest."""

    values: list[str]
    arrows: list[str]  # the trend after a shown value ('' when none)
    national: list[str]
    years: list[str]
    one_year: bool  # then the year goes in the subtitle, not a column
    themes: dict[str, str]  # theme → its (wrapped) label
    value_head: str
    x: dict[str, float]  # left edge of each text column
    spine_left: float
    spine_right: float

    @property
    def span(self) -> float:
        return self.spine_right - self.spine_left

    @property
    def centre(self) -> float:
        return self.spine_left + self.span / 2

    def spine_x(self, positions: pd.Series) -> np.ndarray:
        """Spine positions (0–1) in inches, a little in from the spine's ends."""
        span = self.span
        return self.spine_left + 0.03 * span + positions.to_numpy(float) * 0.94 * span


def _table(rows: pd.DataFrame, member_code: str | None, threshold: int, width: float) -> _Table:
    """The rows' texts (a withheld value shows '<threshold') and the columns they need."""
    value_head = ROLE_LABELS_DA["member"] if member_code is not None else ROLE_LABELS_DA["area"]
    hidden = suppressed_text(threshold)
    values = [
        hidden if r.suppressed else (format_da(r.value, r.decimals) or MISSING_TEXT)
        for r in rows.itertuples()
    ]
    arrows = [
        TREND_ARROWS.get(r.trend, "") if not r.suppressed and np.isfinite(r.value) else ""
        for r in rows.itertuples()
    ]
    national = [format_da(r.national, r.decimals) or MISSING_TEXT for r in rows.itertuples()]
    years = [
        "" if r.year is None or not np.isfinite(r.year) else str(int(r.year))
        for r in rows.itertuples()
    ]
    one_year = len(set(years) - {""}) <= 1
    themes = {t: _theme_label(t) for t in rows["theme"].unique()}
    widths = {
        "theme": _column_width(list(themes.values()), "Tema", bold=True) + 0.15,
        "title": _column_width(rows["title"].tolist(), "Indikator") + 0.2,
        "unit": _column_width(rows["unit"].tolist(), "Enhed") + 0.2,
        "year": 0.0 if one_year else _column_width(years, "År") + 0.2,
        "value": _column_width(values, value_head, bold=True) + 0.08,
        "trend": max(text_width(a) for a in TREND_ARROWS.values()) + 0.12,
        "national": _column_width(national, "Hele landet") + 0.15,
    }
    x = {}
    at = MARGIN_IN
    for column, w in widths.items():
        x[column] = at
        at += w
    return _Table(
        values,
        arrows,
        national,
        years,
        one_year,
        themes,
        value_head,
        x,
        at + 0.05,
        width - MARGIN_IN,
    )


def _column_width(texts: Sequence[str], head: str, bold: bool = False) -> float:
    """The widest of a column's texts and its (bold) head."""
    return max([text_width(t, bold=bold) for t in texts] + [text_width(head, bold=True)])


def _row_positions(rows: pd.DataFrame, top: float, bottom: float) -> tuple[np.ndarray, float]:
    """Each row's centre between ``top`` and ``bottom``, a little air between themes; and half
    a row's height."""
    gaps = (rows["theme"] != rows["theme"].shift()).cumsum().to_numpy() - 1
    slots = np.arange(len(rows)) + THEME_GAP * gaps
    pitch = (top - bottom) / (slots[-1] + 1) if len(rows) else 0.2
    return top - (slots + 0.5) * pitch, pitch * 0.5


def _draw_shading(canvas: Canvas, table: _Table, y: np.ndarray, half: float) -> None:
    """Every other row shaded, across the table and the spine."""
    left, right = table.x["theme"], table.spine_right
    canvas.polygons(
        [
            [(left, yy - half), (right, yy - half), (right, yy + half), (left, yy + half)]
            for k, yy in enumerate(y)
            if k % 2 == 0
        ],
        facecolors=ROW_SHADE,
        edgecolors="none",
        zorder=0,
    )


def _draw_spines(
    canvas: Canvas,
    rows: pd.DataFrame,
    table: _Table,
    pos: pd.DataFrame,
    y: np.ndarray,
    half: float,
) -> np.ndarray:
    """The municipalities' range and middle half, Denmark's line, and the coloured dots.
    Returns the rows that have a dot."""
    usable = pos["usable"].to_numpy()
    for lo, hi, colour, gid in (
        ("min", "max", SPINE_RANGE, "spine-range"),
        ("q25", "q75", SPINE_MIDDLE, "spine-middle"),
    ):
        a, b = table.spine_x(pos[lo]), table.spine_x(pos[hi])
        h = half * 0.62
        canvas.polygons(
            [
                [(a[i], y[i] - h), (b[i], y[i] - h), (b[i], y[i] + h), (a[i], y[i] + h)]
                for i in np.flatnonzero(usable)
            ],
            gid,
            facecolors=colour,
            edgecolors="none",
            zorder=2,
        )
    centre = table.centre
    stretches = [[(centre, y[a] + half), (centre, y[b - 1] - half)] for a, b in runs(usable)]
    canvas.segments(
        stretches,
        "spine-national",
        zorder=3,
        colors=LEVEL_STYLES["country"]["color"],
        linewidths=LEVEL_STYLES["country"]["linewidth"],
        linestyles=":",
    )
    has_value = usable & rows["value"].notna().to_numpy()
    marker_x = table.spine_x(pos["value"])
    for category in COMPARISON_COLOURS:
        pick = has_value & (rows["comparison"] == category).to_numpy()
        if pick.any():
            canvas.line(
                marker_x[pick],
                y[pick],
                f"spine-marker-{category}",
                linestyle="none",
                **MARKER,
                markerfacecolor=COMPARISON_COLOURS[category],
                zorder=5,
            )
    return has_value


def _draw_row_text(
    canvas: Canvas, rows: pd.DataFrame, table: _Table, usable: np.ndarray, y: np.ndarray
) -> None:
    """Each row's title, unit, year, value and national value; why a row has no spine; the
    theme names beside their rows."""
    x = table.x
    for i, r in enumerate(rows.itertuples()):
        canvas.text(x["title"], y[i], r.title, gid="overview-title")
        canvas.text(x["unit"], y[i], r.unit, color=MUTED)
        if not table.one_year:
            canvas.text(x["year"], y[i], table.years[i], color=MUTED)
        canvas.text(
            x["trend"] - 0.05, y[i], table.values[i], ha="right", bold=True, gid="overview-value"
        )
        if table.arrows[i]:
            canvas.text(x["trend"], y[i], table.arrows[i], gid="overview-trend")
        canvas.text(
            table.spine_left - 0.12, y[i], table.national[i], ha="right", gid="overview-national"
        )
        if not usable[i]:
            reason = "Antal – ikke sammenlignet" if r.is_count else "Ingen data"
            canvas.text(table.centre, y[i], reason, color=MUTED, ha="center", italic=True)
    for theme in rows["theme"].unique():
        ys = y[(rows["theme"] == theme).to_numpy()]
        canvas.text(
            x["theme"] + 0.05,
            (ys.min() + ys.max()) / 2,
            table.themes[theme],
            bold=True,
            linespacing=1.0,
            gid="overview-theme",
        )


def _draw_column_heads(canvas: Canvas, table: _Table, y: float) -> None:
    x = table.x
    for text, hx, ha in (
        ("Tema", x["theme"] + 0.05, "left"),
        ("Indikator", x["title"], "left"),
        ("Enhed", x["unit"], "left"),
        ("" if table.one_year else "År", x["year"], "left"),
        (table.value_head, x["trend"] - 0.05, "right"),
        ("Hele landet", table.spine_left - 0.12, "right"),
        ("Alle kommuner", table.centre, "center"),
    ):
        if text:
            canvas.text(hx, y, text, ha=ha, va="bottom", bold=True, gid="overview-head")


def _draw_heading(
    canvas: Canvas, pack: AreaPackData, member_code: str | None, table: _Table
) -> None:
    """Whose overview, which year(s), and how to read a spine."""
    name = pack.area_name
    if member_code is not None:
        match = [m.name for m in pack.members if str(m.code) == str(member_code)]
        name = match[0] if match else str(member_code)
    whose = "kommunens" if member_code is not None else "områdets"
    when = (
        f"{next(iter(set(table.years) - {''}), '')}, "
        if table.one_year
        else "Seneste år for hver indikator, "
    )
    subtitle = (
        f"{when}mænd og kvinder i alt. Bjælken viser spændet "
        f"mellem landets kommuner med hele landet i midten; prikken viser {whose} værdi."
    )
    canvas.heading(f"Overblik – {name}", subtitle, canvas.height - 0.42)


def _draw_legends(
    canvas: Canvas, rows: pd.DataFrame, has_value: np.ndarray, top: float, threshold: int
) -> None:
    """How to read a spine; the dot colours that occur; the suppressed text, if shown."""
    usable = canvas.width - 2 * MARGIN_IN
    spine_keys = [
        Key.of(
            "Kommunernes spænd (laveste–højeste)", "patch", facecolor=SPINE_RANGE, edgecolor="none"
        ),
        Key.of(
            "Midterste halvdel af kommunerne", "patch", facecolor=SPINE_MIDDLE, edgecolor="none"
        ),
        Key.of(ROLE_LABELS_DA["country"], "line", **LEVEL_STYLES["country"]),
    ]
    draw_legend(canvas, spine_keys, MARGIN_IN, top, usable, 3, gid="overview-legend")
    present = [c for c in COMPARISON_COLOURS if (rows["comparison"][has_value] == c).any()]
    colour_keys = [
        Key.of(COMPARISON_LABELS_DA[c], "marker", **MARKER, markerfacecolor=COMPARISON_COLOURS[c])
        for c in present
    ]
    lead = "Prikkens farve, sammenlignet med hele landet:"
    lead_y = top - ROW_IN * 1.5
    canvas.text(MARGIN_IN, lead_y - ROW_IN, TREND_KEY_DA, gid="overview-legend-trend")
    canvas.text(MARGIN_IN, lead_y, lead, gid="overview-legend-label")
    lead_w = text_width(lead) + 0.2
    draw_legend(
        canvas,
        colour_keys,
        MARGIN_IN + lead_w,
        lead_y + ROW_IN / 2,
        usable - lead_w,
        len(colour_keys),
        gid="overview-legend",
    )
    if rows["suppressed"].any():
        canvas.text(
            canvas.width - MARGIN_IN,
            top - ROW_IN / 2,
            suppressed_key_da(threshold),
            ha="right",
            color=MUTED,
            gid="footer",
        )
