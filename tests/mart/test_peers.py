"""Similar municipalities against independently computed values.

References never come from the code under test: z-scores and distances are worked out by hand
for a tiny example, the Poisson limits by root finding on scipy's Poisson distribution, Byar and
Wilson by their formulas, and on the sample build the basis year, the basis values, the peers
and the medians are recomputed with SQL and plain Python.
"""

from __future__ import annotations

import math
import statistics

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps

from datapakke.geography import default_geography
from datapakke.mart.catalogue import catalogue_frame, load_catalogue
from datapakke.mart.peers import (
    K_PEERS,
    PEER_COMPARISON_COLUMNS,
    PEER_GROUP_COLUMNS,
    basis_features,
    latest_complete_year,
    peer_comparison_table,
    peer_group_table,
)
from datapakke.mart.stats import Z95, opportunity, peer_groups, rate_interval, wilson_interval
from datapakke.schemas import GRAIN
from datapakke.standard_population import AGE_BANDS
from tests.publish.sample_build import built_warehouse

pytestmark = pytest.mark.filterwarnings("error")
GEO = default_geography()
CATALOGUE = catalogue_frame(load_catalogue())


# --- peer_groups: a hand-worked example ------------------------------------------------------


def test_z_scored_euclidean_distances_by_hand() -> None:
    """a = 0, 2, 4, 6 (mean 3, population SD √5), b = 1, 1, 3, 3 (mean 2, SD 1):
    z_a = (−3, −1, 1, 3)/√5, z_b = (−1, −1, 1, 1), so neighbours along a are 2/√5 apart and a
    step in b adds 2 (distances √(0.8 + 4) = √4.8, √(3.2 + 4) = √7.2)."""
    features = pd.DataFrame({"a": [0, 2, 4, 6], "b": [1, 1, 3, 3]}, index=["w", "x", "y", "z"])
    out = peer_groups(features, k=2)
    assert out.columns.tolist() == ["municipality_code", "peer_code", "rank", "distance"]
    expected = [
        ("w", "x", 1, 2 / math.sqrt(5)),
        ("w", "y", 2, math.sqrt(7.2)),
        ("x", "w", 1, 2 / math.sqrt(5)),
        ("x", "y", 2, math.sqrt(4.8)),
        ("y", "z", 1, 2 / math.sqrt(5)),
        ("y", "x", 2, math.sqrt(4.8)),
        ("z", "y", 1, 2 / math.sqrt(5)),
        ("z", "x", 2, math.sqrt(7.2)),
    ]
    got = list(out.itertuples(index=False, name=None))
    for (code, peer, rank, dist), row in zip(expected, got, strict=True):
        assert row[:3] == (code, peer, rank)
        assert row[3] == pytest.approx(dist, abs=1e-12)


def test_log_transform_changes_who_is_nearest() -> None:
    """1.000's nearest is 100 on the raw scale (900 apart, against 4.000) but 5.000 on the log
    scale (ln 5 = 1,61 apart, against ln 10 = 2,30)."""
    features = pd.DataFrame({"pop": [100, 1000, 5000, 100000]}, index=["a", "b", "c", "d"])
    raw = peer_groups(features, k=1)
    logged = peer_groups(features, k=1, log_cols=("pop",))
    assert raw.set_index("municipality_code").loc["b", "peer_code"] == "a"
    assert logged.set_index("municipality_code").loc["b", "peer_code"] == "c"
    x = np.log([100, 1000, 5000, 100000])
    sd = statistics.pstdev(x)
    b = logged.set_index("municipality_code").loc["b"]
    assert b["distance"] == pytest.approx((x[2] - x[1]) / sd, abs=1e-12)


def test_a_constant_column_counts_for_nothing_and_ties_keep_row_order() -> None:
    features = pd.DataFrame({"a": [1, 2, 3], "same": [7, 7, 7]}, index=["p", "q", "r"])
    out = peer_groups(features, k=2).set_index(["municipality_code", "rank"])["peer_code"]
    assert out[("q", 1)] == "p" and out[("q", 2)] == "r"  # equal distances: row order


@pytest.mark.parametrize(
    ("features", "kwargs", "message"),
    [
        (pd.DataFrame({"a": [1, 2]}, index=["x", "x"]), {"k": 1}, "unique"),
        (pd.DataFrame({"a": [1, 2, 3]}, index=list("xyz")), {"k": 3}, "k must be"),
        (pd.DataFrame({"a": [1, np.nan, 3]}, index=list("xyz")), {"k": 1}, "missing"),
        (pd.DataFrame({"a": [1, 0, 3]}, index=list("xyz")), {"k": 1, "log_cols": ("a",)}, "≤ 0"),
    ],
)
def test_peer_groups_refuse_bad_input(features, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        peer_groups(features, **kwargs)


# --- opportunity: against scipy and the formulas ---------------------------------------------


def exact_poisson_by_root_finding(x: int, tail: float = 0.025) -> tuple[float, float]:
    """Garwood limits: the means where P(X ≥ x) = tail and P(X ≤ x) = tail."""
    low = optimize.brentq(lambda mu: sps.poisson.sf(x - 1, mu) - tail, 1e-12, 10 * x + 10)
    high = optimize.brentq(lambda mu: sps.poisson.cdf(x, mu) - tail, 1e-12, 10 * x + 50)
    return low, high


def test_opportunity_below_ten_events_uses_the_exact_poisson_interval() -> None:
    """7 events in 2.000 people against a peer rate of 1,0 per 1.000: 2 expected, 5 fewer."""
    out = opportunity([7], [2000], [1.0], 1000, "rate")
    low, high = exact_poisson_by_root_finding(7)
    assert out["expected"].iloc[0] == pytest.approx(2.0)
    assert out["opportunity"].iloc[0] == pytest.approx(5.0)
    assert out["opportunity_low"].iloc[0] == pytest.approx(low - 2.0, abs=1e-6)
    assert out["opportunity_high"].iloc[0] == pytest.approx(high - 2.0, abs=1e-6)


def test_opportunity_from_ten_events_uses_byar_and_equals_the_rate_gap() -> None:
    """120 events in 10.000 (12 per 1.000) against 9 per 1.000: (12 − 9) · 10.000 / 1.000 = 30."""
    out = opportunity(pd.Series([120.0], index=["851"]), [10_000], [9.0], 1000, "rate")
    x, z = 120, Z95
    byar_low = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3
    byar_high = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * math.sqrt(x + 1))) ** 3
    row = out.loc["851"]
    assert row["opportunity"] == pytest.approx((12 - 9) * 10_000 / 1000)
    assert row["opportunity_low"] == pytest.approx(byar_low - 90, abs=1e-9)
    assert row["opportunity_high"] == pytest.approx(byar_high - 90, abs=1e-9)
    # the same limits as the table's rate interval, moved to events
    lo, hi = rate_interval(120, 10_000, 1000)
    assert row["opportunity_low"] == pytest.approx((lo[()] - 9) * 10, abs=1e-9)
    assert row["opportunity_high"] == pytest.approx((hi[()] - 9) * 10, abs=1e-9)


def test_opportunity_for_a_proportion_uses_the_wilson_interval_in_events() -> None:
    """40 readmissions of 200 discharges (20 %) against 12 %: 24 expected, 16 fewer."""
    out = opportunity([40], [200], [12.0], 100, "proportion").iloc[0]
    z2 = Z95 * Z95
    half = Z95 * math.sqrt(z2 + 4 * 40 * (1 - 40 / 200))
    low, high = (80 + z2 - half) / (2 * (200 + z2)), (80 + z2 + half) / (2 * (200 + z2))
    assert out["opportunity"] == pytest.approx(16.0)
    assert out["opportunity_low"] == pytest.approx(low * 200 - 24, abs=1e-9)
    assert out["opportunity_high"] == pytest.approx(high * 200 - 24, abs=1e-9)
    w_low, _ = wilson_interval(40, 200)
    assert out["opportunity_low"] == pytest.approx(float(w_low) * 200 - 24, abs=1e-9)


def test_opportunity_signs_and_missing_input() -> None:
    out = opportunity([5, np.nan, 5, 5], [1000, 1000, 0, 1000], [9.0, 1.0, 1.0, np.nan], 1000)
    assert out["opportunity"].iloc[0] == pytest.approx(-4.0)  # more events at the peers' rate
    assert out[["opportunity", "opportunity_low", "opportunity_high"]].iloc[1:].isna().all().all()
    with pytest.raises(ValueError, match="statistic"):
        opportunity([1], [2], [3], 1, "dsr")


# --- the basis: latest complete 1 January ----------------------------------------------------


def _population(codes: list[str], periods: list[str], value: float = 100.0) -> pd.DataFrame:
    rows = [
        (code, period, sex, band, value)
        for code in codes
        for period in periods
        for sex in ("M", "K")
        for band in AGE_BANDS
    ]
    return pd.DataFrame(
        rows, columns=["municipality_code", "period", "sex", "age_band", "population"]
    )


NO_MISSING = pd.DataFrame(columns=["municipality_code", "period"])


def test_latest_complete_year_skips_a_gap_and_quarantined_quarters() -> None:
    pop = _population(["101", "147"], ["2023K1", "2024K1", "2025K1", "2025K3"])
    gap = (pop["period"] == "2025K1") & (pop["municipality_code"] == "147")
    pop = pop[~(gap & (pop["age_band"] == "90+") & (pop["sex"] == "K"))]
    assert latest_complete_year(pop, ["101", "147"], NO_MISSING) == "2024"
    quarantined = pd.DataFrame({"municipality_code": ["101"], "period": ["2024K1"]})
    assert latest_complete_year(pop, ["101", "147"], quarantined) == "2023"
    assert latest_complete_year(pop, ["101", "147", "151"], NO_MISSING) is None


def test_basis_features_by_hand() -> None:
    """Every band holds 100 people per sex: 19 bands → 3.800; 65+ is 6 bands (31,6 %), 80+ is 3
    bands (15,8 %)."""
    features = basis_features(_population(["101"], ["2024K1"]), "2024")
    row = features.loc["101"]
    assert row["population"] == 3800
    assert row["share_65plus_pct"] == pytest.approx(6 / 19 * 100)
    assert row["share_80plus_pct"] == pytest.approx(3 / 19 * 100)


def test_peer_group_table_joins_both_basis_values() -> None:
    codes = [f"{100 + i}" for i in range(8)]
    pop = pd.concat(
        [_population([c], ["2024K1"], value=50.0 * (i + 1)) for i, c in enumerate(codes)]
    )
    old = pop["age_band"].isin(["80-84", "85-89", "90+"]) & (pop["municipality_code"] == "101")
    pop.loc[old, "population"] *= 3
    table = peer_group_table(pop, codes, NO_MISSING)
    assert table.columns.tolist() == PEER_GROUP_COLUMNS
    assert len(table) == len(codes) * K_PEERS
    assert (table["basis_year"] == "2024").all()
    first = table[table["municipality_code"] == "100"].iloc[0]
    assert first["population"] == 2 * 19 * 50  # 50 people in each sex × band
    own = table[table["municipality_code"] == "101"].iloc[0]
    assert own["population"] == 2 * (16 * 100 + 3 * 300)  # 80+ tripled
    assert own["share_80plus_pct"] == pytest.approx(3 * 300 / (16 * 100 + 3 * 300) * 100)
    # a peer's basis values are its own row's values
    by_code = table.drop_duplicates("municipality_code").set_index("municipality_code")
    for r in table.itertuples():
        assert r.peer_population == by_code.loc[r.peer_code, "population"]
        assert r.peer_share_65plus_pct == by_code.loc[r.peer_code, "share_65plus_pct"]
    # no complete year: an empty table with the columns
    empty = peer_group_table(pop, [*codes, "999"], NO_MISSING)
    assert empty.empty and empty.columns.tolist() == PEER_GROUP_COLUMNS


# --- the comparison with the peers' median ---------------------------------------------------


def _value(indicator: str, code: str, value: float, low: float, high: float, **more) -> dict:
    row = {
        "indicator_id": indicator,
        "area_level": "municipality",
        "area_code": code,
        "period": "2024",
        "sex": "T",
        "numerator": np.nan,
        "denominator": np.nan,
        "value": value,
        "ci95_low": low,
        "ci95_high": high,
        "is_suppressed": False,
    }
    return {**row, **more}


RATE = "preventable_admissions_65plus_per_1000"  # crude rate per 1.000, lower is better
DSR = "mortality_asr_per_100000"  # age-standardised, lower is better


def _groups(pairs: dict[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"municipality_code": code, "peer_code": peer, "rank": rank}
            for code, peers in pairs.items()
            for rank, peer in enumerate(peers, start=1)
        ]
    )


def test_median_comparison_and_opportunity_by_hand() -> None:
    """A's peers publish 10, 20, 30, 40 (E is suppressed): median 25. A has 400 events in
    10.000 (40 per 1.000, interval 36,2–44,1): worse, 400 − 250 = 150 fewer a year."""
    low, high = rate_interval(400, 10_000, 1000)
    rows = [
        _value(RATE, "A", 40.0, float(low), float(high), numerator=400, denominator=10_000),
        *[_value(RATE, c, v, v - 1, v + 1) for c, v in zip("BCDF", (10, 20, 30, 40), strict=True)],
        _value(RATE, "E", 1.0, 0.5, 1.5, is_suppressed=True),  # never feeds a median
        _value(RATE, "G", 41.0, 39.0, 43.0),  # only two published peers: no median
        _value(RATE, "H", np.nan, np.nan, np.nan, is_suppressed=True),
        _value(DSR, "A", 900.0, 850.0, 950.0, numerator=400, denominator=10_000),
        *[_value(DSR, c, 700.0, 690.0, 710.0) for c in "BCD"],
        _value(RATE, "A", 1.0, 0.5, 1.5) | {"period": "2023"},  # an older period: ignored
    ]
    groups = _groups({"A": list("BCDEF"), "G": list("BEH"), "H": list("BCD")})
    out = peer_comparison_table(pd.DataFrame(rows), groups, CATALOGUE, 5)
    assert out.columns.tolist() == PEER_COMPARISON_COLUMNS
    got = out.set_index(["indicator_id", "municipality_code"])
    a = got.loc[(RATE, "A")]
    assert a["period"] == "2024" and a["peer_values"] == 4
    assert a["peer_median"] == pytest.approx(statistics.median([10, 20, 30, 40]))
    assert a["compared_to_peers"] == "worse"
    x = 400
    byar_low = x * (1 - 1 / (9 * x) - Z95 / (3 * math.sqrt(x))) ** 3
    byar_high = (x + 1) * (1 - 1 / (9 * (x + 1)) + Z95 / (3 * math.sqrt(x + 1))) ** 3
    assert a["opportunity_events_per_year"] == pytest.approx((40 - 25) * 10_000 / 1000)
    assert a["opportunity_ci95_low"] == pytest.approx(byar_low - 250)
    assert a["opportunity_ci95_high"] == pytest.approx(byar_high - 250)
    g = got.loc[(RATE, "G")]
    assert g["peer_values"] == 1 and np.isnan(g["peer_median"])
    assert g["compared_to_peers"] == "not_compared"
    h = got.loc[(RATE, "H")]  # its own value withheld: never compared
    assert h["is_suppressed"] and h["compared_to_peers"] == "not_compared"
    assert np.isnan(h["opportunity_events_per_year"])
    dsr = got.loc[(DSR, "A")]  # worse, but an age-standardised rate is not a count of events
    assert dsr["compared_to_peers"] == "worse"
    assert np.isnan(dsr["opportunity_events_per_year"])


def test_an_opportunity_below_the_threshold_is_not_shown() -> None:
    """5 events in 1.000 against 0,6 per 1.000: significantly worse (exact lower limit 1,62),
    but 5 − 0,6 = 4,4 rounds to 4, a count below the threshold 5: withheld. With threshold 4 it
    is shown."""
    low, high = rate_interval(5, 1000, 1000)
    rows = [
        _value(RATE, "A", 5.0, float(low), float(high), numerator=5, denominator=1000),
        *[_value(RATE, c, 0.6, 0.1, 1.1) for c in "BCD"],
    ]
    groups = _groups({"A": list("BCD")})
    hidden = peer_comparison_table(pd.DataFrame(rows), groups, CATALOGUE, 5).iloc[0]
    assert hidden["compared_to_peers"] == "worse"
    assert np.isnan(hidden["opportunity_events_per_year"])
    assert np.isnan(hidden["opportunity_ci95_low"]) and np.isnan(hidden["opportunity_ci95_high"])
    shown = peer_comparison_table(pd.DataFrame(rows), groups, CATALOGUE, 4).iloc[0]
    assert shown["opportunity_events_per_year"] == pytest.approx(4.4)


def test_better_gives_no_opportunity() -> None:
    low, high = rate_interval(100, 10_000, 1000)
    rows = [
        _value(RATE, "A", 10.0, float(low), float(high), numerator=100, denominator=10_000),
        *[_value(RATE, c, 30.0, 29.0, 31.0) for c in "BCD"],
    ]
    out = peer_comparison_table(pd.DataFrame(rows), _groups({"A": list("BCD")}), CATALOGUE, 5)
    assert out["compared_to_peers"].iloc[0] == "better"
    assert out["opportunity_events_per_year"].isna().all()


# --- on the sample build ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    settings = built_warehouse(tmp_path_factory)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = {
            name: con.execute(f"SELECT * FROM mart.{name}").df()
            for name in ("peer_group", "peer_comparison", "indicator_value")
        }
        tables["population"] = con.execute(
            "SELECT municipality_code, period, sex, age_band, population FROM core.population "
            "WHERE period LIKE '%K1'"
        ).df()
        tables["comments"] = con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'mart'"
        ).df()
    finally:
        con.close()
    return settings, tables


def test_sample_every_municipality_has_five_distinct_peers(sample) -> None:
    _, t = sample
    groups = t["peer_group"]
    assert groups.columns.tolist() == PEER_GROUP_COLUMNS
    assert set(groups["municipality_code"]) == set(GEO.municipalities)
    for code, rows in groups.groupby("municipality_code"):
        assert rows["rank"].tolist() == [1, 2, 3, 4, 5]
        assert code not in set(rows["peer_code"]) and rows["peer_code"].is_unique
        assert rows["distance"].is_monotonic_increasing


def test_sample_basis_and_peers_recomputed_in_plain_python(sample) -> None:
    """The basis year is the latest with all 98 × 2 × 19 cells; the features and each
    municipality's nearest five are recomputed with loops and statistics.pstdev."""
    _, t = sample
    pop = t["population"]
    cells = pop.groupby("period").size()
    year = max(p[:4] for p, n in cells.items() if n == len(GEO.municipalities) * 2 * 19)
    groups = t["peer_group"]
    assert set(groups["basis_year"]) == {year}
    jan = pop[pop["period"] == f"{year}K1"]
    old65 = {b for b in AGE_BANDS if int(b.split("-")[0].rstrip("+")) >= 65}
    old80 = {b for b in AGE_BANDS if int(b.split("-")[0].rstrip("+")) >= 80}
    feats: dict[str, list[float]] = {}
    for code, rows in jan.groupby("municipality_code"):
        total = rows["population"].sum()
        feats[code] = [
            rows.loc[rows["age_band"].isin(old65), "population"].sum() / total * 100,
            rows.loc[rows["age_band"].isin(old80), "population"].sum() / total * 100,
            math.log(total),
        ]
    codes = sorted(feats)
    columns = list(zip(*(feats[c] for c in codes), strict=True))
    means = [statistics.fmean(col) for col in columns]
    sds = [statistics.pstdev(col) for col in columns]
    z = {c: [(v - m) / s for v, m, s in zip(feats[c], means, sds, strict=True)] for c in codes}
    for code in ("851", "101", "825", "400"):  # Aalborg, København, Læsø, Bornholm
        dist = sorted((math.dist(z[code], z[o]), o) for o in codes if o != code)[:5]
        rows = groups[groups["municipality_code"] == code].sort_values("rank")
        assert rows["peer_code"].tolist() == [o for _, o in dist]
        assert rows["distance"].to_numpy() == pytest.approx([d for d, _ in dist], abs=1e-9)
        own = rows.iloc[0]
        assert [own["share_65plus_pct"], own["share_80plus_pct"]] == pytest.approx(feats[code][:2])
        assert math.log(own["population"]) == pytest.approx(feats[code][2])


def test_sample_medians_recomputed_from_the_published_values(sample) -> None:
    _, t = sample
    comparison, values, groups = t["peer_comparison"], t["indicator_value"], t["peer_group"]
    assert comparison.columns.tolist() == PEER_COMPARISON_COLUMNS
    muni = values[(values["area_level"] == "municipality") & (values["sex"] == "T")]
    checked = 0
    for indicator in (RATE, "readmissions_30d_65plus_pct", DSR, "survey_smoking_daily_pct"):
        rows = muni[muni["indicator_id"] == indicator]
        latest = rows[rows["period"] == rows["period"].max()]
        published = {
            r.area_code: r.value
            for r in latest.itertuples()
            if not r.is_suppressed and not np.isnan(r.value)
        }
        for code in ("851", "101", "825"):
            peers = groups.loc[groups["municipality_code"] == code, "peer_code"]
            peer_values = [published[p] for p in peers if p in published]
            got = comparison[
                (comparison["indicator_id"] == indicator)
                & (comparison["municipality_code"] == code)
            ].iloc[0]
            assert got["period"] == latest["period"].iloc[0]
            assert got["peer_values"] == len(peer_values)
            if len(peer_values) >= 3:
                assert got["peer_median"] == pytest.approx(statistics.median(peer_values))
                checked += 1
            else:
                assert np.isnan(got["peer_median"])
    assert checked >= 6


def test_sample_opportunities_follow_the_rules(sample) -> None:
    """Only rates and proportions of counted events that are significantly worse, never below
    the threshold, interval on the same side of zero, equal to the gap times the denominator."""
    settings, t = sample
    comparison, values = t["peer_comparison"], t["indicator_value"]
    given = comparison[comparison["opportunity_events_per_year"].notna()]
    assert len(given) > 0
    methods = CATALOGUE.set_index("indicator_id")
    assert set(methods.loc[given["indicator_id"], "method"]) <= {"crude_rate", "proportion"}
    assert (given["compared_to_peers"] == "worse").all() and not given["is_suppressed"].any()
    gap = given["opportunity_events_per_year"]
    assert (gap.abs().round() >= settings.suppression_threshold).all()
    low, high = given["opportunity_ci95_low"], given["opportunity_ci95_high"]
    assert ((low > 0) & (high > gap) & (gap > low)).all()  # lower is better: fewer events
    row = given.iloc[0]
    source = values[
        (values["indicator_id"] == row["indicator_id"])
        & (values["area_code"] == row["municipality_code"])
        & (values["period"] == row["period"])
        & (values["sex"] == "T")
        & (values["area_level"] == "municipality")
    ].iloc[0]
    multiplier = methods.loc[row["indicator_id"], "multiplier"]
    by_hand = (source["value"] - row["peer_median"]) * source["denominator"] / multiplier
    assert row["opportunity_events_per_year"] == pytest.approx(by_hand, rel=1e-9)
    worse_counts = comparison[
        (comparison["compared_to_peers"] == "worse")
        & comparison["indicator_id"].map(methods["method"]).isin(["crude_rate", "proportion"])
    ]
    assert len(worse_counts) >= len(given)


def test_sample_tables_carry_their_grain_sentences(sample) -> None:
    _, t = sample
    comments = dict(zip(t["comments"]["table_name"], t["comments"]["comment"], strict=True))
    assert comments["peer_group"] == GRAIN["mart.peer_group"]
    assert comments["peer_comparison"] == GRAIN["mart.peer_comparison"]
