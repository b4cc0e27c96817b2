"""Pandera schemas: the single source of truth for the columns and rules of each table.

Grain sentences (also written as DuckDB table comments by ``warehouse.py``):

- ``raw.observation``: one row per value cell read from a source file, as text, with lineage.
- ``raw.quarantine``: one row per rejected input row: file, row, column, check, value, message.
- ``core.population``: one row per municipality × period (quarter) × sex × age band.
- ``core.observation``: one row per measure × municipality × period × sex × age band.
- ``mart.indicator_value``: one row per indicator × area level × area × period × sex.
"""

from __future__ import annotations

import pandera.pandas as pa

from datapakke.stats import AGE_BANDS

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


def indicator_value_schema() -> pa.DataFrameSchema:
    """What may be published: intervals contain the value, suppressed rows carry no numbers."""
    nullable_float = pa.Column(float, nullable=True)
    return pa.DataFrameSchema(
        {
            "indicator_id": pa.Column(str),
            "grouping": pa.Column(str),
            "area_level": pa.Column(
                str, pa.Check.isin(["municipality", "area", "region", "country"])
            ),
            "area_code": pa.Column(str),
            "area_name": pa.Column(str),
            "period": pa.Column(str),
            "sex": pa.Column(str, pa.Check.isin(SEXES)),
            "numerator": nullable_float,
            "denominator": nullable_float,
            "value": nullable_float,
            "ci95_low": nullable_float,
            "ci95_high": nullable_float,
            "ci998_low": nullable_float,
            "ci998_high": nullable_float,
            "is_suppressed": pa.Column(bool),
        },
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
        strict=False,
        name="mart.indicator_value",
    )
