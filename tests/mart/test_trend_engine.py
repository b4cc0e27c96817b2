"""The engine's trend column: which test each method gets, and where the label is stored.

Expected values are computed here by other means (``np.polyfit`` weighted least squares,
``scipy.stats.linregress``, a textbook IRLS), never by ``trend_test``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from datapakke.mart.catalogue import load_catalogue
from datapakke.mart.indicators import _trend
from datapakke.mart.stats import Z95
from tests.mart.test_stats import glm_by_hand, quasi_by_hand

pytestmark = pytest.mark.filterwarnings("error")
CATALOGUE = {ind.id: ind for ind in load_catalogue()}
YEARS = ["2021", "2022", "2023", "2024", "2025"]


def unit_rows(code: str, values, numerator=None, denominator=None, se=None) -> pd.DataFrame:
    """One municipality's series (sex T) as the engine has it just before the trend step."""
    values = np.asarray(values, float)
    se = np.full(len(values), np.nan) if se is None else np.asarray(se, float)
    return pd.DataFrame(
        {
            "area_level": "municipality",
            "grouping": "",
            "area_code": code,
            "sex": "T",
            "period": YEARS[-len(values) :],
            "numerator": numerator if numerator is not None else np.nan,
            "denominator": denominator if denominator is not None else np.nan,
            "value": values,
            "ci95_low": values - Z95 * se,
            "ci95_high": values + Z95 * se,
            "is_suppressed": False,
        }
    )


def latest(out: pd.DataFrame, code: str) -> pd.Series:
    return out[(out["area_code"] == code) & (out["period"] == YEARS[-1])].iloc[0]


def test_rate_trend_is_quasi_poisson_on_the_latest_row_only() -> None:
    ind = CATALOGUE["discharge_ready_bed_days_65plus_per_1000"]
    days = [5200.0, 6900.0, 4800.0, 7600.0, 6100.0]  # bed days: far noisier than Poisson
    pop = [20_000.0, 20_200.0, 20_400.0, 20_500.0, 20_700.0]
    value = np.array(days) / np.array(pop) * 1000
    out = _trend(unit_rows("851", value, days, pop), ind)
    slope, se, x2 = glm_by_hand(np.arange(5), days, pop, "poisson")
    _, p, phi = quasi_by_hand(slope, se, x2, 5)
    assert phi > 10
    row = latest(out, "851")
    assert row["trend_p_value"] == pytest.approx(p, rel=1e-6)
    assert p > 0.05 and row["trend"] == "no_change"
    assert math.erfc(abs(slope) / se / math.sqrt(2)) < 1e-10  # the unscaled test: 'increasing'
    earlier = out[out["period"] != YEARS[-1]]
    assert (earlier["trend"] == "").all() and earlier["trend_p_value"].isna().all()


def test_suppressed_or_blank_latest_rows_carry_no_trend() -> None:
    ind = CATALOGUE["preventable_admissions_65plus_per_1000"]
    counts = [300.0, 280.0, 250.0, 220.0, 200.0]
    pop = [10_000.0] * 5
    value = np.array(counts) / 10
    hidden = unit_rows("101", value, counts, pop)
    hidden.loc[4, ["value", "numerator"]] = np.nan
    hidden.loc[4, "is_suppressed"] = True
    blank = unit_rows("147", value, counts, pop)
    blank.loc[4, "value"] = np.nan  # withheld for another reason (e.g. incomplete)
    shown = unit_rows("851", value, counts, pop)
    out = _trend(pd.concat([hidden, blank, shown], ignore_index=True), ind)
    for code in ("101", "147"):
        row = latest(out, code)
        assert row["trend"] == "" and np.isnan(row["trend_p_value"])
    assert latest(out, "851")["trend"] == "decreasing"
    assert len(out) == 15


def test_dsr_trend_is_weighted_by_its_interval() -> None:
    ind = CATALOGUE["mortality_asr_per_100000"]  # published with 0 decimals: rounding q = 1
    value = np.array([930.0, 905.0, 940.0, 890.0, 880.0])
    se = np.array([12.0, 30.0, 11.0, 25.0, 14.0])
    out = _trend(unit_rows("851", value, se=se), ind)
    years = np.arange(2021, 2026, dtype=float)
    sigma = np.sqrt(se**2 + 1 / 12)  # the interval's SE and the rounding error of the value
    (slope, _), cov = np.polyfit(years, value, 1, w=1 / sigma, cov="unscaled")
    resid = value - np.polyval(np.polyfit(years, value, 1, w=1 / sigma), years)
    _, p, _ = quasi_by_hand(slope, math.sqrt(cov[0, 0]), float(np.sum((resid / sigma) ** 2)), 5)
    assert latest(out, "851")["trend_p_value"] == pytest.approx(p, rel=1e-6)
    # Unweighted OLS (the old test) gives another answer on the same values.
    assert sps.linregress(years, value).pvalue != pytest.approx(p, rel=1e-3)


def test_rounded_prevalence_with_a_zero_width_interval_keeps_its_points() -> None:
    """0,3 [0,3; 0,3] as published: the rounding error (q = 0.1, variance q²/12) is its
    uncertainty, so the point still counts and carries weight."""
    ind = CATALOGUE["prevalence_dementia_asr_pct"]  # 1 decimal
    rows = unit_rows("851", [0.3, 0.3, 0.4, 0.4, 0.5], se=[0.0, 0.05, 0.0, 0.05, 0.05])
    rows[["value", "ci95_low", "ci95_high"]] = rows[["value", "ci95_low", "ci95_high"]].round(1)
    out = _trend(rows, ind)
    years = np.arange(2021, 2026, dtype=float)
    half = ((rows["ci95_high"] - rows["ci95_low"]) / (2 * Z95)).to_numpy()
    sigma = np.sqrt(half**2 + 0.1**2 / 12)
    y = rows["value"].to_numpy()
    (slope, _), cov = np.polyfit(years, y, 1, w=1 / sigma, cov="unscaled")
    resid = y - np.polyval(np.polyfit(years, y, 1, w=1 / sigma), years)
    _, p, _ = quasi_by_hand(slope, math.sqrt(cov[0, 0]), float(np.sum((resid / sigma) ** 2)), 5)
    row = latest(out, "851")
    assert (
        row["trend_p_value"] == pytest.approx(p, rel=1e-6) and row["trend"] != "insufficient_data"
    )


def test_survey_on_three_waves_is_insufficient() -> None:
    ind = CATALOGUE["survey_smoking_daily_pct"]
    rows = unit_rows("851", [15.4, 12.8, 8.7], se=[1.2, 1.1, 0.9])
    rows["period"] = ["2017", "2021", "2023"]
    out = _trend(rows, ind)
    row = out[out["period"] == "2023"].iloc[0]
    assert row["trend"] == "insufficient_data" and np.isnan(row["trend_p_value"])


def test_count_without_interval_uses_ols() -> None:
    ind = CATALOGUE["population_total"]
    value = [58_000.0, 58_300.0, 58_900.0, 59_100.0, 59_800.0]
    out = _trend(unit_rows("851", value, numerator=value), ind)
    ref = sps.linregress(np.arange(5), value)
    assert latest(out, "851")["trend_p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
