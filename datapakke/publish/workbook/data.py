"""The Data sheet: every value of the pack in one long filtered table, for analysts.

Its columns are the area mart's value contract (``datapakke.schemas.AREA_VALUE``) plus the
catalogue's title and unit, so each row reads on its own. Only the Danish header and the width
of each column are given here, and ``data_columns`` checks them against the contract: a column
added to the mart cannot be left out of the pack unnoticed. Written with the fast row writer:
a big pack has over 20,000 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from datapakke.presentation import (
    COMPARISON_LABELS_DA,
    ORIGIN_LABELS_DA,
    ROLE_LABELS_DA,
    SEX_LABELS_DA,
    TREND_LABELS_DA,
)
from datapakke.publish.workbook.context import ROLE_ORDER, Context, withholds_denominator
from datapakke.publish.workbook.fast_rows import CellSpec
from datapakke.publish.workbook.geometry import col_letter
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import legend_da
from datapakke.publish.workbook.values import as_text
from datapakke.schemas import AREA_VALUE, ValueColumn

# The catalogue's fields the sheet adds to each value row.
CATALOGUE_COLUMNS = (
    ValueColumn("title_da", "text", "the indicator's Danish title"),
    ValueColumn("unit_da", "text", "the indicator's Danish unit"),
)
# Danish header and width of every column, in sheet order.
_HEADERS: dict[str, tuple[str, float]] = {
    "title_da": ("Indikator", 44),
    "indicator_id": ("Indikator-id", 30),
    "unit_da": ("Enhed", 18),
    "role": ("Niveau", 12),
    "area_level": ("Områdetype", 12),
    "grouping": ("Inddeling", 14),
    "area_code": ("Kode", 17),
    "area_name": ("Navn", 24),
    "period": ("Periode", 9),
    "sex": ("Køn", 9),
    "numerator": ("Tæller", 11),
    "denominator": ("Nævner", 12),
    "value": ("Værdi", 11),
    "ci95_low": ("95 % nedre", 11),
    "ci95_high": ("95 % øvre", 11),
    "ci998_low": ("99,8 % nedre", 11),
    "ci998_high": ("99,8 % øvre", 11),
    "compared_to_area": ("Sammenlignet med området", 20),
    "compared_to_region": ("Sammenlignet med regionen", 20),
    "compared_to_national": ("Sammenlignet med hele landet", 20),
    "compared_to_national_998": ("Sammenlignet med hele landet (99,8 %)", 20),
    "trend": ("Udvikling", 20),
    "trend_p_value": ("p-værdi (udvikling)", 11),
    "is_suppressed": ("Skjult", 8),
    "data_origin": ("Datagrundlag", 16),
    "value_note": ("Note", 40),
}
# Danish words for the codes in label and flag columns.
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
    "compared_to_national_998": COMPARISON_LABELS_DA,
    "trend": TREND_LABELS_DA,
    "data_origin": ORIGIN_LABELS_DA,
    "is_suppressed": {True: "Ja", False: "Nej"},
}
# What a suppressed row may withhold: where the mart has no number there, the cell shows the
# suppressed text; a number the mart still publishes (the count that is not small) is shown.
_WITHHELD = ("numerator", "value", "ci95_low", "ci95_high", "ci998_low", "ci998_high")


@dataclass(frozen=True)
class DataColumn:
    name: str
    kind: str  # the contract's kind: text | label | flag | count | value | p
    header: str
    width: float


@cache
def data_columns() -> tuple[DataColumn, ...]:
    """The sheet's columns in order: kinds from the contract, headers and widths from here.

    Raises if a contract column has no header, a header names a column outside the contract, or
    a label column has no Danish words."""
    contract = {c.name: c for c in (*AREA_VALUE, *CATALOGUE_COLUMNS)}
    unnamed, unknown = contract.keys() - _HEADERS.keys(), _HEADERS.keys() - contract.keys()
    wordless = {n for n, c in contract.items() if c.kind in ("label", "flag")} - _LABELS.keys()
    if unnamed or unknown or wordless:
        raise RuntimeError(
            "the Data sheet does not match the area value contract: "
            f"no header for {sorted(unnamed)}, header but no column {sorted(unknown)}, "
            f"no Danish labels for {sorted(wordless)}"
        )
    return tuple(
        DataColumn(name, contract[name].kind, header, width)
        for name, (header, width) in _HEADERS.items()
    )


def write(sheet: Sheet, ctx: Context) -> None:
    """A legend line, a filtered header in row 2, then one row per value."""
    columns = data_columns()
    frame = _sorted_values(ctx)
    sheet.layout({i: c.width for i, c in enumerate(columns, start=1)})
    sheet.paragraph(1, legend_da(ctx.pack.suppression_threshold), 1, 8, "dp_note")
    sheet.header(2, [c.header for c in columns])

    suppressed = frame["is_suppressed"].fillna(False).astype(bool)
    rows = _Rows(
        decimals=frame["_d"].fillna(1).astype(int).tolist(),
        suppressed=suppressed.tolist(),
        denominator_suppressed=(suppressed & frame["_w"].astype(bool)).tolist(),
        notes=frame["value_note"].map(as_text).tolist(),
    )
    cells = [rows.cells(sheet, col, c, frame[c.name]) for col, c in enumerate(columns, start=1)]
    may_note = [s or bool(note) for s, note in zip(rows.suppressed, rows.notes, strict=True)]
    for row, row_cells in enumerate(zip(*cells, strict=True), start=3):
        sheet.row(row, row_cells, may_note[row - 3])
    sheet.ws.auto_filter.ref = f"A2:{col_letter(len(columns))}{len(frame) + 2}"
    sheet.ws.freeze_panes = "B3"
    sheet.ws.print_title_rows = "2:2"


def _sorted_values(ctx: Context) -> pd.DataFrame:
    """The values with the catalogue's title, unit, decimals (``_d``) and whether the denominator
    may be withheld (``_w``), in the pack's reading order: indicator, level, area, sex, period."""
    cat = ctx.pack.catalogue.set_index("indicator_id")
    v = ctx.pack.values
    rank = {ind: i for i, ind in enumerate(ctx.catalogue["indicator_id"])}
    withheld = {ind.indicator_id: withholds_denominator(ind) for ind in ctx.catalogue.itertuples()}
    return v.assign(
        title_da=v["indicator_id"].map(cat["title_da"]),
        unit_da=v["indicator_id"].map(cat["unit_da"]),
        _d=v["indicator_id"].map(cat["decimals"]),
        _w=v["indicator_id"].map(withheld).fillna(False),
        _i=v["indicator_id"].map(rank),
        _r=v["role"].map({role: i for i, role in enumerate(ROLE_ORDER)}),
        _s=v["sex"].map({"T": 0, "M": 1, "K": 2}),
    ).sort_values(["_i", "_r", "area_code", "_s", "period"], kind="stable")


@dataclass
class _Rows:
    """Per row: the indicator's decimals, whether the row is suppressed (and its denominator
    may be withheld with it), and its note."""

    decimals: list[int]
    suppressed: list[bool]
    denominator_suppressed: list[bool]
    notes: list[str]

    def cells(
        self, sheet: Sheet, col: int, column: DataColumn, values: pd.Series
    ) -> list[CellSpec]:
        """One column's cells, top to bottom."""
        if column.kind in ("text", "label", "flag"):
            texts = values.astype("string").fillna("")
            if column.kind != "text":
                texts = values.map(_LABELS[column.name]).fillna(texts)
            return [(col, x, None, "") for x in texts.tolist()]
        if column.kind == "p":
            return [(col, x, "dp_p", "") for x in values.tolist()]
        count = column.kind == "count"
        if column.name in _WITHHELD:
            suppressed = self.suppressed
        elif column.name == "denominator":
            suppressed = self.denominator_suppressed
        else:
            suppressed = [False] * len(self.suppressed)
        styles = [sheet.styles.number(0 if count else d) for d in self.decimals]
        return [  # numbers as they are; anything else through ``look`` (placeholders and notes)
            (col, x, st, "")
            if x.__class__ is float and x == x
            else sheet.look(col, x, 0 if count else d, s, note)
            for x, st, d, s, note in zip(
                values.tolist(), styles, self.decimals, suppressed, self.notes, strict=True
            )
        ]
