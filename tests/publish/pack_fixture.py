"""A small, realistic ``AreaPackData`` for testing charts, workbooks and the site without the pipeline.

Values are random but shaped like the real thing: every indicator of the catalogue, members, the
area, its region and Denmark, several periods, intervals around the value, some suppressed rows.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from datapakke.geography import default_geography
from datapakke.mart.catalogue import catalogue_frame, load_catalogue
from datapakke.publish.pack_data import (
    PEER_COMPARISON_COLUMNS,
    PEER_GROUP_COLUMNS,
    AreaPackData,
    Member,
)
from datapakke.standard_population import AGE_BANDS

PERIODS = [str(y) for y in range(2019, 2026)]


def make_area_pack_data(
    grouping: str = "klynge2022",
    area_id: str = "hovedstaden-byen",
    seed: int = 7,
    is_synthetic: bool = True,
) -> AreaPackData:
    rng = np.random.default_rng(seed)
    geo = default_geography()
    area = geo.area(grouping, area_id)
    members = [
        Member(code, geo.municipalities[code].name, code in area.partial_members)
        for code in area.members
    ]
    region_ids = sorted({geo.municipalities[m.code].region_area_id for m in members})
    regions = [geo.area("region", rid) for rid in region_ids]
    catalogue = catalogue_frame(load_catalogue())

    units = [("member", "municipality", "", m.code, m.name) for m in members]
    units.append(("area", "area", grouping, area_id, area.name))
    units += [("region", "region", "region", r.area_id, r.name) for r in regions]
    units.append(("country", "country", "", "DK", "Hele landet"))

    rows = []
    for ind in catalogue.itertuples():
        base = rng.uniform(5, 80)
        for role, level, grp, code, name in units:
            for sex in ("T", "M", "K"):
                for i, period in enumerate(PERIODS):
                    denominator = float(rng.integers(2_000, 600_000))
                    value = base * (1 + 0.02 * i) * rng.uniform(0.85, 1.15)
                    half = value * rng.uniform(0.03, 0.2)
                    suppressed = role == "member" and rng.random() < 0.04
                    rows.append(
                        {
                            "indicator_id": ind.indicator_id,
                            "role": role,
                            "area_level": level,
                            "grouping": grp,
                            "area_code": code,
                            "area_name": name,
                            "period": period,
                            "sex": sex,
                            "numerator": np.nan
                            if suppressed
                            else round(value * denominator / 1000),
                            "denominator": denominator,
                            "value": np.nan if suppressed else value,
                            "ci95_low": np.nan if suppressed else value - half,
                            "ci95_high": np.nan if suppressed else value + half,
                            "ci998_low": np.nan if suppressed else value - 1.6 * half,
                            "ci998_high": np.nan if suppressed else value + 1.6 * half,
                            "compared_to_area": "not_compared"
                            if suppressed or role != "member"
                            else rng.choice(["better", "similar", "worse"]),
                            "compared_to_region": "not_compared"
                            if suppressed
                            else rng.choice(["better", "similar", "worse"]),
                            "compared_to_national": (
                                national := "not_compared"
                                if suppressed or role == "country"
                                else rng.choice(["better", "similar", "worse", "higher", "lower"])
                            ),
                            "compared_to_national_998": national,
                            "trend": rng.choice(["increasing", "decreasing", "no_change"]),
                            "trend_p_value": float(rng.uniform(0, 1)),
                            "is_suppressed": suppressed,
                            "value_note": "Skjult af diskretionshensyn" if suppressed else "",
                            "data_origin": "synthetic" if is_synthetic else "real",
                        }
                    )
    values = pd.DataFrame(rows)

    funnel_rows = []
    for ind in catalogue.itertuples():
        target = rng.uniform(5, 80)
        for code, muni in geo.municipalities.items():
            denominator = float(muni.approx_population)
            value = target * rng.normal(1, 0.1)
            suppressed = rng.random() < 0.03
            funnel_rows.append(
                {
                    "indicator_id": ind.indicator_id,
                    "period": PERIODS[-1],
                    "area_code": code,
                    "area_name": muni.name,
                    "numerator": np.nan if suppressed else value * denominator / 1000,
                    "denominator": denominator,
                    "value": np.nan if suppressed else value,
                    "is_member": code in area.members,
                    "is_suppressed": suppressed,
                    "compared_to_national": "not_compared"
                    if suppressed
                    else ("better", "similar", "worse")[int(code) % 3],
                }
            )
    population = pd.DataFrame(
        [
            {
                "period": p,
                "sex": s,
                "age_band": band,
                "population": float(rng.integers(500, 20_000)),
                "national_population": float(rng.integers(50_000, 250_000)),
            }
            for p in PERIODS
            for s in ("M", "K")
            for band in AGE_BANDS
        ]
    )
    sources = pd.DataFrame(
        [
            {
                "source_id": "folk1a_population",
                "title": "Befolkningen 1. i kvartalet (FOLK1A)",
                "publisher": "Danmarks Statistik",
                "file": "sample/statbank/FOLK1A.csv",
                "sha256": "0" * 64,
                "rows": 173_888,
                "is_synthetic": is_synthetic,
                "status": "accepted",
                "rows_read": 183_920,
                "rows_quarantined": 0,
                "rows_skipped": 10_032,
                "loaded_at": pd.Timestamp("2026-11-30 02:31", tz="UTC"),
                "first_period": "2015K1",
                "last_period": "2025K4",
                "period_count": 44,
                "municipality_codes": ",".join(sorted(geo.municipalities)),
                "measures": "population",
                "caveat_da": "",
            }
        ]
    )
    # Drawn last, so the values above stay what they were before peers existed.
    peer_group, peer_comparison = _peer_frames(rng, geo, members, values, catalogue)
    return AreaPackData(
        grouping=grouping,
        grouping_title=geo.grouping_titles[grouping],
        area_id=area_id,
        area_name=area.name,
        members=members,
        region_names=[r.name for r in regions],
        membership_status=area.membership_status,
        catalogue=catalogue,
        values=values,
        funnel=pd.DataFrame(funnel_rows),
        population=population,
        sources=sources,
        is_synthetic=is_synthetic,
        built_at=datetime(2026, 11, 22, 2, 30),
        code_version="test",
        notes=["København er med i to sundhedsklynger og vises i begge."]
        if any(m.is_partial for m in members)
        else [],
        peer_group=peer_group,
        peer_comparison=peer_comparison,
    )


def _peer_frames(
    rng: np.random.Generator,
    geo,
    members: list[Member],
    values: pd.DataFrame,
    catalogue: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five similar municipalities per member, and each indicator's latest member value against
    a peer median near it; the first lower-is-better rate is significantly worse for the first
    member, so an opportunity is always there to show."""
    codes = sorted(geo.municipalities)
    groups = []
    for m in members:
        others = [c for c in codes if c != m.code]
        peers = rng.choice(others, size=5, replace=False)
        own = (float(rng.uniform(15, 25)), float(rng.uniform(3, 7)), float(rng.integers(2e3, 7e5)))
        for rank, code in enumerate(peers, start=1):
            groups.append(
                {
                    "municipality_code": m.code,
                    "municipality_name": m.name,
                    "rank": rank,
                    "peer_code": str(code),
                    "peer_name": geo.municipalities[str(code)].name,
                    "distance": 0.2 * rank + float(rng.uniform(0, 0.2)),
                    "basis_year": PERIODS[-1],
                    "population": own[2],
                    "share_65plus_pct": own[0],
                    "share_80plus_pct": own[1],
                    "peer_population": float(rng.integers(2_000, 700_000)),
                    "peer_share_65plus_pct": float(rng.uniform(15, 25)),
                    "peer_share_80plus_pct": float(rng.uniform(3, 7)),
                }
            )
    latest = values[(values["role"] == "member") & (values["sex"] == "T")]
    latest = latest[latest["period"] == PERIODS[-1]].merge(
        catalogue[["indicator_id", "polarity", "method", "multiplier"]], on="indicator_id"
    )
    forced = latest[(latest["method"] == "crude_rate") & (latest["polarity"] == "lower_is_better")]
    forced_key = (forced["indicator_id"].iloc[0], members[0].code)
    rows = []
    for r in latest.itertuples():
        median = r.value * float(rng.uniform(0.8, 1.2))
        if (r.indicator_id, r.area_code) == forced_key:
            median = r.ci95_low * 0.9 if not r.is_suppressed else median
        few_peers = rng.random() < 0.05
        median = np.nan if few_peers or np.isnan(median) else median
        above, below = r.ci95_low > median, r.ci95_high < median
        judged = {"lower_is_better": ("worse", "better"), "higher_is_better": ("better", "worse")}
        up, down = judged.get(r.polarity, ("higher", "lower"))
        compared = up if above else down if below else "similar"
        if r.is_suppressed or np.isnan(median):
            compared = "not_compared"
        gap = [np.nan] * 3
        if compared == "worse" and r.method in ("crude_rate", "proportion"):
            scale = r.denominator / r.multiplier
            gap = [(v - median) * scale for v in (r.value, r.ci95_low, r.ci95_high)]
        rows.append(
            {
                "indicator_id": r.indicator_id,
                "municipality_code": r.area_code,
                "municipality_name": r.area_name,
                "period": r.period,
                "value": r.value,
                "ci95_low": r.ci95_low,
                "ci95_high": r.ci95_high,
                "is_suppressed": bool(r.is_suppressed),
                "peer_values": 2 if few_peers else 5,
                "peer_median": median,
                "compared_to_peers": compared,
                "opportunity_events_per_year": gap[0],
                "opportunity_ci95_low": gap[1],
                "opportunity_ci95_high": gap[2],
            }
        )
    return (
        pd.DataFrame(groups)[PEER_GROUP_COLUMNS],
        pd.DataFrame(rows)[PEER_COMPARISON_COLUMNS],
    )
