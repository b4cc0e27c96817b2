"""The disclosure audit of the published standardised rates, on a copy of the sample warehouse:
what a reader could exploit in the published table is reported, per indicator and row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datapakke.config import Settings
from datapakke.mart.stage import audit_standardised_rates
from tests.publish.sample_build import private_warehouse


@pytest.fixture
def warehouse(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
    return private_warehouse(tmp_path_factory, tmp_path)


def _smallest_row(con: duckdb.DuckDBPyConnection, indicator_id: str) -> tuple:
    """The published municipal row of a DSR indicator with the fewest events (so some age band
    holds a small count): (area_code, period, sex, value)."""
    return con.execute(
        """
        SELECT area_code, period, sex, value FROM mart.indicator_value
        WHERE indicator_id = ? AND area_level = 'municipality' AND value IS NOT NULL
        ORDER BY numerator, area_code, period, sex LIMIT 1
        """,
        [indicator_id],
    ).fetchone()


def test_the_audit_reports_an_unrounded_rate_and_a_rate_no_count_spread_explains(
    warehouse: Settings,
) -> None:
    assert audit_standardised_rates(warehouse) == []  # the build as verified
    with duckdb.connect(str(warehouse.warehouse_path)) as con:
        first = _smallest_row(con, "mortality_asr_per_100000")
        second = _smallest_row(con, "prevalence_asthma_asr_pct")
        # one rate published with a decimal too many, one moved to a figure its counts cannot give
        for (code, period, sex, _), ind, new in (
            (first, "mortality_asr_per_100000", first[3] + 0.04),
            (second, "prevalence_asthma_asr_pct", round(second[3] + 0.7, 1)),
        ):
            con.execute(
                "UPDATE mart.indicator_value SET value = ? WHERE indicator_id = ? "
                "AND area_level = 'municipality' AND area_code = ? AND period = ? AND sex = ?",
                [new, ind, code, period, sex],
            )
    findings = audit_standardised_rates(warehouse)
    code, period, sex, _ = first
    assert f"mortality_asr_per_100000 {period} municipality:{code}|{sex}: published with more" in (
        "\n".join(findings)
    )
    code, period, sex, _ = second
    assert any(
        f.startswith(f"prevalence_asthma_asr_pct {period} municipality:{code}|{sex}: the standard")
        for f in findings
    ), findings
    assert {f.split(" ", 1)[0] for f in findings} == {
        "mortality_asr_per_100000",
        "prevalence_asthma_asr_pct",
    }
