"""Similar municipalities: each municipality's most similar ones, and every indicator compared
with their median.

Why: a municipality is compared with Denmark everywhere else, but Denmark is not like Læsø or
København. The NHS RightCare packs and the ONS/CIPFA nearest-neighbour models compare an area
with the areas most like it instead; this module does that for the packs (issue 14, item 4).

The method, in the words the pack's "Om data" shows (``publish/workbook/peers.PEERS_METHOD_DA``):

- **Basis**: the latest year whose 1 January population (FOLK1A, quarter 1) is complete for every
  municipality: share aged 65+ (%), share aged 80+ (%) and the population (log-transformed, so
  size counts by ratio). No configured source has a deprivation measure, so none is used.
- **Similarity**: each variable z-scored over the municipalities, Euclidean distance, the
  ``K_PEERS`` nearest (``stats.peer_groups``).
- **Comparison**: for each indicator's latest period (sex T), the median of the peers' published
  values (not computed when fewer than ``MIN_PEER_VALUES`` peers have one); the municipality's
  95 % interval against that median, read through the polarity (``stats.compare_to_benchmark``).
- **Opportunity** (rates and proportions of counted events only): (value − peer median) ·
  denominator / multiplier events a year, with its 95 % interval (``stats.opportunity``), given
  only when the comparison is significantly "worse"; an upper bound.

Disclosure: only published (non-suppressed) values feed it, and an opportunity that rounds to a
count from 1 to threshold − 1 is not given.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from datapakke.config import Settings
from datapakke.geography import Geography
from datapakke.mart.catalogue import METHOD_RULES, Indicator, catalogue_frame
from datapakke.mart.peer_columns import (
    PEER_COMPARISON_COLUMNS,
    PEER_COMPARISON_DTYPES,
    PEER_GROUP_COLUMNS,
    PEER_GROUP_DTYPES,
    typed_frame,
)
from datapakke.mart.stats import compare_to_benchmark, opportunity, peer_groups
from datapakke.standard_population import AGE_BANDS, bands_from
from datapakke.warehouse import connect, replace_table

K_PEERS = 5
MIN_PEER_VALUES = 3  # a median of fewer published peer values is not given
BASIS_SEXES = ("M", "K")  # FOLK1A's sexes in core.population (T is their sum)
# The similarity variables, in the order they are z-scored; population is log-transformed.
FEATURES = ("share_65plus_pct", "share_80plus_pct", "population")
LOG_FEATURES = ("population",)


def latest_complete_year(
    population: pd.DataFrame, municipality_codes: list[str], missing: pd.DataFrame
) -> str | None:
    """The latest year whose 1 January population is complete for every municipality.

    ``population``: core.population rows (municipality_code, period, sex, age_band, population);
    complete = every municipality × sex (M, K) × ESP age band present with a number, and no
    quarantined rows for that quarter in ``missing`` (municipality_code, period). Why: similar
    municipalities must be chosen on the same date for all, never on a partial count.
    """
    jan = population[
        population["period"].str.fullmatch(r"\d{4}K1")
        & population["municipality_code"].isin(municipality_codes)
        & population["sex"].isin(BASIS_SEXES)
        & population["age_band"].isin(AGE_BANDS)
        & population["population"].notna()
    ]
    cells = jan.drop_duplicates(["municipality_code", "period", "sex", "age_band"])
    counts = cells.groupby("period").size()
    expected = len(set(municipality_codes)) * len(BASIS_SEXES) * len(AGE_BANDS)
    incomplete = set(missing["period"]) if len(missing) else set()
    years = [p[:4] for p, n in counts.items() if n == expected and p not in incomplete]
    return max(years) if years else None


def basis_features(population: pd.DataFrame, year: str) -> pd.DataFrame:
    """Share 65+ (%), share 80+ (%) and the population on 1 January ``year``, per municipality
    (index = municipality code, sorted), from core.population rows."""
    jan = population[(population["period"] == f"{year}K1") & population["sex"].isin(BASIS_SEXES)]
    by_code = jan.groupby("municipality_code")
    total = by_code["population"].sum()

    def share(min_age: int) -> pd.Series:
        old = jan[jan["age_band"].isin(bands_from(min_age) or [])]
        return (
            old.groupby("municipality_code")["population"].sum().reindex(total.index, fill_value=0)
        )

    features = pd.DataFrame(
        {
            "share_65plus_pct": share(65) / total * 100,
            "share_80plus_pct": share(80) / total * 100,
            "population": total,
        }
    )
    return features.sort_index()


def peer_group_table(
    population: pd.DataFrame,
    municipality_codes: list[str],
    missing: pd.DataFrame | None = None,
    k: int = K_PEERS,
) -> pd.DataFrame:
    """mart.peer_group: each municipality's k most similar on the basis year's variables.

    Empty (typed) when no year is complete or there are too few municipalities."""
    missing = missing if missing is not None else pd.DataFrame(columns=["period"])
    year = latest_complete_year(population, municipality_codes, missing)
    if year is None:
        return typed_frame(PEER_GROUP_DTYPES)
    features = basis_features(population, year)
    features = features[features.index.isin(municipality_codes)]
    if len(features) <= k or (features["population"] <= 0).any():
        return typed_frame(PEER_GROUP_DTYPES)
    groups = peer_groups(features[list(FEATURES)], k=k, log_cols=LOG_FEATURES)
    table = (
        groups.assign(basis_year=year)
        .join(features, on="municipality_code")  # the municipality's own basis values
        .join(features.add_prefix("peer_"), on="peer_code")
    )
    return table[PEER_GROUP_COLUMNS].astype(PEER_GROUP_DTYPES).reset_index(drop=True)


def peer_comparison_table(
    values: pd.DataFrame, peer_group: pd.DataFrame, catalogue: pd.DataFrame, threshold: int
) -> pd.DataFrame:
    """mart.peer_comparison: every indicator's latest municipal value (sex T) against the median
    of its peers' published values, with the opportunity where the difference is worse.

    ``values``: mart.indicator_value; ``catalogue``: ``catalogue_frame``; ``threshold``: the
    suppression threshold. Only municipalities with a peer group get rows.
    """
    muni = values[(values["area_level"] == "municipality") & (values["sex"] == "T")]
    muni = muni[muni["period"] == muni.groupby("indicator_id")["period"].transform("max")]
    published = muni[~muni["is_suppressed"].astype(bool) & muni["value"].notna()]
    muni = muni[muni["area_code"].isin(peer_group["municipality_code"])]
    if muni.empty:
        return typed_frame(PEER_COMPARISON_DTYPES)
    peer_values = peer_group[["municipality_code", "peer_code"]].merge(
        published[["indicator_id", "area_code", "value"]].rename(
            columns={"area_code": "peer_code", "value": "peer_value"}
        ),
        on="peer_code",
    )
    summary = (
        peer_values.groupby(["indicator_id", "municipality_code"])["peer_value"]
        .agg(peer_values="count", peer_median="median")
        .reset_index()
    )
    out = (
        muni.rename(columns={"area_code": "municipality_code"})
        .merge(summary, on=["indicator_id", "municipality_code"], how="left")
        .merge(catalogue[["indicator_id", "method", "polarity", "multiplier"]], on="indicator_id")
    )
    out["peer_values"] = out["peer_values"].fillna(0).astype("int64")
    out["peer_median"] = out["peer_median"].where(out["peer_values"] >= MIN_PEER_VALUES)
    out["is_suppressed"] = out["is_suppressed"].astype(bool)
    shown = ~out["is_suppressed"] & out["value"].notna()  # a withheld value is never compared
    out["compared_to_peers"] = compare_to_benchmark(
        out["ci95_low"].where(shown),
        out["ci95_high"].where(shown),
        out["peer_median"],
        out["polarity"],
    )
    out = out.join(_opportunities(out, threshold))
    ordered = out.sort_values(["indicator_id", "municipality_code"], kind="stable")
    return ordered[PEER_COMPARISON_COLUMNS].astype(PEER_COMPARISON_DTYPES).reset_index(drop=True)


def _opportunities(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The opportunity and its 95 % interval where a rate or proportion of counted events is
    significantly worse than the peers' median; NaN elsewhere and where it rounds to fewer than
    ``threshold`` events (a count from 1 to threshold − 1 is never shown; 0 says nothing)."""
    columns = ["opportunity_events_per_year", "opportunity_ci95_low", "opportunity_ci95_high"]
    out = pd.DataFrame(np.nan, index=frame.index, columns=columns)
    statistic = frame["method"].map({m: rule.statistic for m, rule in METHOD_RULES.items()})
    eligible = (
        (frame["compared_to_peers"] == "worse")
        & frame["numerator"].notna()
        & frame["denominator"].notna()
        & ~frame["is_suppressed"]
    )
    for kind in ("rate", "proportion"):
        rows = frame[eligible & (statistic == kind)]
        if rows.empty:
            continue
        gap = opportunity(
            rows["numerator"], rows["denominator"], rows["peer_median"], rows["multiplier"], kind
        )
        out.loc[rows.index, columns] = gap[
            ["opportunity", "opportunity_low", "opportunity_high"]
        ].to_numpy()
    small = out[columns[0]].abs().round() < threshold
    out.loc[small, columns] = np.nan
    return out


def read_basis(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 1 January population rows and the population quarters quarantined rows left
    incomplete (core.missing)."""
    population = con.execute(
        "SELECT municipality_code, period, sex, age_band, population FROM core.population "
        "WHERE period LIKE '%K1'"
    ).df()
    missing = con.execute(
        "SELECT DISTINCT municipality_code, period FROM core.missing "
        "WHERE measure_id = 'population'"
    ).df()
    return population, missing


def build_peer_tables(
    settings: Settings, geo: Geography, catalogue: list[Indicator], values: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the basis (read-only), compute, and write mart.peer_group and mart.peer_comparison.

    ``values``: the mart.indicator_value just written (already through disclosure control)."""
    with connect(settings.warehouse_path, read_only=True) as con:
        population, missing = read_basis(con)
    groups = peer_group_table(population, list(geo.municipalities), missing)
    comparison = peer_comparison_table(
        values, groups, catalogue_frame(catalogue), settings.suppression_threshold
    )
    with connect(settings.warehouse_path) as con:
        replace_table(con, "mart.peer_group", groups)
        replace_table(con, "mart.peer_comparison", comparison)
    return groups, comparison
