"""Pandera schemas: the single source of truth for the columns and rules of each table.

Grain sentences (also written as DuckDB table comments by ``warehouse.py``):

- ``raw.observation``: one row per value cell read from a source file, as text, with lineage.
- ``raw.quarantine``: one row per rejected input row: file, row, column, check, value, message.
- ``core.population``: one row per municipality × period (quarter) × sex × age band.
- ``core.observation``: one row per measure × municipality × period × sex × age band.
- ``mart.indicator_value``: one row per indicator × area level × area × period × sex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from datapakke.standard_population import AGE_BANDS

if TYPE_CHECKING:  # pandera is imported where a schema is built, so light readers stay light
    import pandera.pandas as pa

LINEAGE_COLUMNS = ["_source_file", "_source_row", "_file_sha256", "_loaded_at"]
SEXES = ["T", "M", "K"]
AGE_BAND_VALUES = [*AGE_BANDS, "65+", "total"]
# Anything larger in one cell is a typo or a unit error (Denmark has ~6 million people).
MAX_CELL_VALUE = 10_000_000

GRAIN = {
    "raw.observation": "one row per value cell read from a source file, as text, with lineage",
    "raw.quarantine": "one row per rejected input row: file, row, column, check, value, message",
    "raw.source_file": "one row per source file loaded: checksum, counts and whether it was accepted",
    "core.population": "one row per municipality × period (quarter) × sex × age band",
    "core.observation": "one row per measure × municipality × period × sex × age band",
    "mart.indicator": "one row per indicator in the catalogue",
    "mart.indicator_value": "one row per indicator × area level × area × period × sex",
    "mart.area_member": "one row per grouping × area × member municipality",
    "mart.indicator_age_value": "one row per indicator × area level × area × age band (total, "
    "0-24, 25-64, 65-79, 80+) for the indicator's latest period, sexes together",
    "mart.published_count": "one row per count series × area level × area × period × sex × age "
    "band ('total', or a broad band in the latest period): the count, NULL where suppressed",
    "mart.peer_group": "one row per municipality × similar municipality (peer): rank, distance, "
    "basis year and the basis values of both (share 65+, share 80+, population)",
    "mart.audit_finding": "one row per finding of the last verified build's disclosure audit "
    "('disclosure_audit') or schema check ('schema'); empty when both passed",
    "mart.peer_comparison": "one row per indicator × municipality (latest period, sex T): value, "
    "its 95 % interval, the median of its peers, the comparison and the opportunity",
    "raw.source_finding": "one row per accepted source × finding: what its file covers besides "
    "its rows (implied totals, aggregates cross-checked, special areas, missing ages)",
    "raw.source_part": "one row per accepted source × file its rows come from: the periods taken "
    "from it (each period from the newest file that has it), rows loaded, checksum, modified time",
    "raw.missing": "one row per source × measure × municipality × period × age band (NULL = all) "
    "left incomplete by quarantined rows or single ages absent from the file",
    "core.missing": "one row per measure × municipality × period × age band (NULL = all) whose "
    "figure is incomplete in an accepted source: the engine treats it as missing",
}

QUARANTINE_COLUMNS = [
    "source_id",
    "file",
    "row",
    "column",
    "check",
    "value",
    "message",
    "file_sha256",
    "loaded_at",
]

# raw.missing / core.missing: the figures a file leaves incomplete. ``age_band`` NULL = the whole
# figure; ``reason`` is 'quarantined' (rows rejected) or 'age_gap' (single ages absent).
MISSING_COLUMNS = [
    "measure_id",
    "municipality_code",
    "period",
    "age_band",
    "rows_quarantined",
    "reason",
]

RAW_TEXT_COLUMNS = [
    "source_id",
    "measure_text",
    "municipality_text",
    "period_text",
    "sex_text",
    "age_text",
    "value_text",
    "value_column",
]


def raw_observation_schema() -> pa.DataFrameSchema:
    """Raw rows are text as read; only lineage is typed."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            **{c: pa.Column(str) for c in RAW_TEXT_COLUMNS},
            "_source_file": pa.Column(str),
            "_source_row": pa.Column(int, pa.Check.ge(1)),
            "_file_sha256": pa.Column(str, pa.Check.str_length(64, 64)),
            "_loaded_at": pa.Column("datetime64[ns, UTC]"),
        },
        strict=True,
        name="raw.observation",
    )


def core_observation_schema(
    municipality_codes: list[str], count_measures: bool = True, check_unique: bool = True
) -> pa.DataFrameSchema:
    """Typed, validated observations.

    ``count_measures`` adds the whole-number rule; ``check_unique`` the key rule (off while
    single-year ages are still to be summed into bands).
    """
    import pandera.pandas as pa

    value_checks = [
        pa.Check.ge(0, error="negative value: counts cannot be below zero"),
        pa.Check.le(MAX_CELL_VALUE, error=f"absurdly large value (over {MAX_CELL_VALUE:,})"),
    ]
    if count_measures:
        value_checks.append(
            pa.Check(
                lambda s: (s % 1 == 0) | s.isna(),
                element_wise=False,
                error="not a whole number: counts must be integers",
            )
        )
    return pa.DataFrameSchema(
        {
            "measure_id": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$")),
            "municipality_code": pa.Column(
                str, pa.Check.isin(municipality_codes, error="unknown municipality code")
            ),
            "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}(K[1-4]|H[12]|M\d{2})?$")),
            "sex": pa.Column(str, pa.Check.isin(SEXES)),
            "age_band": pa.Column(str, pa.Check.isin(AGE_BAND_VALUES)),
            "value": pa.Column(float, value_checks, nullable=True),
            "source_suppressed": pa.Column(bool),
            "source_id": pa.Column(str),
            "_source_file": pa.Column(str),
            "_source_row": pa.Column(int, pa.Check.ge(1)),
            "_source_column": pa.Column(str),
            "_file_sha256": pa.Column(str),
            "_loaded_at": pa.Column("datetime64[ns, UTC]"),
        },
        unique=["measure_id", "municipality_code", "period", "sex", "age_band"]
        if check_unique
        else None,
        report_duplicates="exclude_first",
        strict=True,
        name="core.observation",
    )


COMPARISONS = ["better", "similar", "worse", "higher", "lower", "not_compared"]
TRENDS = ["", "increasing", "decreasing", "no_change", "insufficient_data"]
AREA_LEVELS = ["municipality", "area", "region", "country"]
DATA_ORIGINS = ["real", "synthetic", "mixed"]


@dataclass(frozen=True)
class ValueColumn:
    """One column of the published indicator values: its name, kind and meaning."""

    name: str
    kind: str  # text | count | value | label | p | flag (how readers format it)
    meaning: str


# mart.indicator_value: one row per indicator × area level × area × period × sex.
# The one description of the published values; the Pandera model, the engine, the area marts and
# the pack's Data sheet all take their columns from here.
INDICATOR_VALUE_KEY = ("indicator_id", "area_level", "grouping", "area_code", "period", "sex")
UNIT_KEY = ["area_level", "grouping", "area_code"]  # one published unit (municipality … Denmark)
# The estimate and its limits: what is withheld together when a value may not be shown.
ESTIMATE_COLUMNS = ["value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"]
INDICATOR_VALUE: tuple[ValueColumn, ...] = (
    ValueColumn("indicator_id", "text", "the catalogue id"),
    ValueColumn("grouping", "text", "the area's grouping for area/region rows, '' otherwise"),
    ValueColumn("area_level", "label", "municipality | area | region | country"),
    ValueColumn("area_code", "text", "municipality code, area id, region area id, or 'DK'"),
    ValueColumn("area_name", "text", "the Danish name"),
    ValueColumn("region_area_id", "text", "a municipality's region (its region area id)"),
    ValueColumn("period", "text", "'2024' (year)"),
    ValueColumn("sex", "label", "T | M | K"),
    ValueColumn("numerator", "count", "events or people counted"),
    ValueColumn("denominator", "count", "the population at risk"),
    ValueColumn("value", "value", "the indicator value in the catalogue's unit"),
    ValueColumn("ci95_low", "value", "95 % interval, lower limit"),
    ValueColumn("ci95_high", "value", "95 % interval, upper limit"),
    ValueColumn("ci998_low", "value", "99.8 % interval, lower limit"),
    ValueColumn("ci998_high", "value", "99.8 % interval, upper limit"),
    ValueColumn("compared_to_region", "label", "the 95 % interval against the region's value"),
    ValueColumn("compared_to_national", "label", "the 95 % interval against Denmark's value"),
    ValueColumn("compared_to_national_998", "label", "the 99.8 % interval against Denmark"),
    ValueColumn("trend", "label", "increasing | decreasing | no_change | insufficient_data"),
    ValueColumn("trend_p_value", "p", "the trend test's p-value"),
    ValueColumn("is_suppressed", "flag", "True: numerator, value and intervals are withheld"),
    ValueColumn("value_note", "text", "Danish note for the reader, '' when none"),
    ValueColumn(
        "data_origin",
        "label",
        "real | synthetic | mixed: whether the source files behind the value are analysts' "
        "real drops or the embedded synthetic sample (mixed: some of each)",
    ),
)
INDICATOR_VALUE_COLUMNS = [column.name for column in INDICATOR_VALUE]

# An area mart's ``indicator_value``: the same rows cut for one area, each with its role in the
# area and its comparison with the area; the warehouse-only columns are left out.
AREA_VALUE_ADDED = (
    ValueColumn("role", "label", "member | area | region | country"),
    ValueColumn("compared_to_area", "label", "the 95 % interval against the area's value"),
)
_VALUE_COLUMN = {c.name: c for c in (*INDICATOR_VALUE, *AREA_VALUE_ADDED)}
AREA_VALUE: tuple[ValueColumn, ...] = tuple(
    _VALUE_COLUMN[name]
    for name in (
        *("indicator_id", "role", "area_level", "grouping", "area_code", "area_name", "period"),
        *("sex", "numerator", "denominator", "value", "ci95_low", "ci95_high", "ci998_low"),
        *("ci998_high", "compared_to_area", "compared_to_region", "compared_to_national"),
        "compared_to_national_998",
        *("trend", "trend_p_value", "is_suppressed", "value_note", "data_origin"),
    )
)
AREA_VALUE_COLUMNS = [column.name for column in AREA_VALUE]

# mart.indicator_age_value (``mart.age_breakdown``): the latest period by broad age band, sexes
# together; 'total' rows are the published totals. An area mart adds each unit's role.
AGE_BREAKDOWN_BANDS = ("total", "0-24", "25-64", "65-79", "80+")
AGE_VALUE_DTYPES = {
    "indicator_id": "object",
    "area_level": "object",
    "grouping": "object",
    "area_code": "object",
    "area_name": "object",
    "period": "object",
    "sex": "object",
    "age_band": "object",
    "numerator": "float64",
    "denominator": "float64",
    "value": "float64",
    "ci95_low": "float64",
    "ci95_high": "float64",
    "compared_to_national": "object",
    "is_suppressed": "bool",
    "value_note": "object",
}
AGE_VALUE_COLUMNS = list(AGE_VALUE_DTYPES)


def indicator_value_schema() -> pa.DataFrameSchema:
    """What may be published: exactly the contract's columns, one row per key, intervals that
    contain the value, suppressed rows without numbers."""
    import pandera.pandas as pa

    checks = {
        "area_level": [pa.Check.isin(AREA_LEVELS)],
        "sex": [pa.Check.isin(SEXES)],
        "compared_to_region": [pa.Check.isin(COMPARISONS)],
        "compared_to_national": [pa.Check.isin(COMPARISONS)],
        "compared_to_national_998": [pa.Check.isin(COMPARISONS)],
        "trend": [pa.Check.isin(TRENDS)],
        "data_origin": [pa.Check.isin(DATA_ORIGINS)],
    }
    dtype = {"count": float, "value": float, "p": float, "flag": bool}
    columns = {
        c.name: pa.Column(
            dtype.get(c.kind, str),
            checks=checks.get(c.name, []),
            nullable=c.kind in ("count", "value", "p"),
            description=c.meaning,
        )
        for c in INDICATOR_VALUE
    }
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(
                lambda df: (
                    ~df["is_suppressed"]
                    | (df["value"].isna() & (df["numerator"].isna() | df["denominator"].isna()))
                ),
                error="a suppressed row still carries its value, or both numerator and denominator",
            ),
            pa.Check(
                lambda df: (
                    (df["ci95_low"].isna() & df["ci95_high"].isna())
                    | (
                        (df["ci95_low"] <= df["value"] + 1e-9)
                        & (df["value"] <= df["ci95_high"] + 1e-9)
                    )
                ),
                error="value outside its 95 % interval",
            ),
        ],
        unique=list(INDICATOR_VALUE_KEY),
        report_duplicates="all",
        strict=True,
        ordered=True,
        name="mart.indicator_value",
    )
