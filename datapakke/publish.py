"""Per-area marts: the protected values one area's pack shows, in its own DuckDB file.

``data/marts/<grouping>/<area_id>/mart.duckdb`` holds only published values (already through
disclosure control) for the area's members, the area, its region(s) and Denmark, plus the
indicator metadata and provenance. It is written to a temporary file in the same folder and
renamed, so readers (notebooks, the UI) never see a half-written mart and a failed build leaves
the previous one in place. Packs and charts read these files, never the warehouse.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from datapakke import stats
from datapakke.catalogue import catalogue_frame, load_catalogue
from datapakke.config import REPO_ROOT, Settings
from datapakke.geography import Area, Geography
from datapakke.pack_data import (
    FUNNEL_COLUMNS,
    POPULATION_COLUMNS,
    SOURCE_COLUMNS,
    VALUE_COLUMNS,
    AreaPackData,
    Member,
)
from datapakke.warehouse import connect

MART_FILE = "mart.duckdb"


def code_version() -> str:
    """The git commit the pack was built from (or the package version outside a checkout)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import version

        return version("datapakker")


def load_published(warehouse_path: Path) -> dict[str, pd.DataFrame]:
    """The published tables the area marts are cut from, read once (read-only)."""
    with connect(warehouse_path, read_only=True) as con:
        return {
            "values": con.execute("SELECT * FROM mart.indicator_value").df(),
            "indicator": con.execute('SELECT * FROM mart.indicator ORDER BY "order"').df(),
            "sources": con.execute(
                "SELECT source_id, title, publisher, accepted_file AS file, "
                "accepted_sha256 AS sha256, rows_loaded AS rows, is_synthetic "
                "FROM raw.source_file ORDER BY source_id"
            ).df(),
            "population": con.execute(
                "SELECT municipality_code, substr(period, 1, 4) AS period, sex, age_band, "
                "population FROM core.population WHERE period LIKE '%K1'"
            ).df(),
        }


def area_tables(
    published: dict[str, pd.DataFrame], geo: Geography, area: Area
) -> dict[str, pd.DataFrame]:
    """Cut one area's tables from the published ones; add each member's comparison with the area."""
    values = published["values"]
    catalogue = published["indicator"]
    regions = sorted({geo.municipalities[c].region_area_id for c in area.members})
    level = "region" if area.grouping == "region" else "area"
    is_member = (values["area_level"] == "municipality") & values["area_code"].isin(area.members)
    is_area = (
        (values["area_level"] == level)
        & (values["grouping"] == area.grouping)
        & (values["area_code"] == area.area_id)
    )
    is_region = (values["area_level"] == "region") & values["area_code"].isin(regions) & ~is_area
    is_country = values["area_level"] == "country"
    cut = values[is_member | is_area | is_region | is_country].copy()
    cut["role"] = "member"
    cut.loc[is_area[cut.index], "role"] = "area"
    cut.loc[is_region[cut.index], "role"] = "region"
    cut.loc[is_country[cut.index], "role"] = "country"
    cut["grouping"] = cut["grouping"].where(cut["role"] != "area", area.grouping)

    keys = ["indicator_id", "period", "sex"]
    area_value = cut[cut["role"] == "area"][[*keys, "value"]].rename(
        columns={"value": "area_value"}
    )
    cut = cut.merge(area_value, on=keys, how="left").merge(
        catalogue[["indicator_id", "polarity", "interval"]], on="indicator_id"
    )
    compare = (cut["role"] == "member") & (cut["interval"] != "none")
    cut["compared_to_area"] = "not_compared"
    if compare.any():
        sub = cut[compare]
        cut.loc[compare, "compared_to_area"] = _compare_by_polarity(sub)
    values_out = cut[VALUE_COLUMNS].reset_index(drop=True)

    # The funnel shows every municipality in Denmark (published values only), latest period.
    funnel = values[(values["area_level"] == "municipality") & (values["sex"] == "T")]
    latest_period = funnel.groupby("indicator_id")["period"].transform("max")
    funnel = funnel[funnel["period"] == latest_period].copy()
    funnel["is_member"] = funnel["area_code"].isin(area.members)

    pop = published["population"]
    pop = pop[pop["municipality_code"].isin(area.members)]
    population = pop.groupby(["period", "sex", "age_band"], as_index=False)["population"].sum()
    return {
        "indicator_value": values_out,
        "funnel": funnel[FUNNEL_COLUMNS].reset_index(drop=True),
        "population": population[POPULATION_COLUMNS],
        "indicator": catalogue,
        "source": published["sources"][SOURCE_COLUMNS],
    }


def _compare_by_polarity(frame: pd.DataFrame) -> list[str]:
    result = pd.Series("not_compared", index=frame.index, dtype=object)
    for polarity, group in frame.groupby("polarity"):
        result[group.index] = stats.compare_to_benchmark(
            group["ci95_low"], group["ci95_high"], group["area_value"], polarity
        )
    return result.tolist()


def write_area_mart(
    settings: Settings,
    geo: Geography,
    area: Area,
    tables: dict[str, pd.DataFrame],
    built_at: datetime,
    version: str,
) -> Path:
    """Write ``mart.duckdb`` for one area atomically (temp file in the same folder, then rename)."""
    folder = settings.area_dir(area.grouping, area.area_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / MART_FILE
    temp = folder / f".{MART_FILE}.tmp-{os.getpid()}"
    temp.unlink(missing_ok=True)
    is_synthetic = bool(tables["source"]["is_synthetic"].any())
    info = pd.DataFrame(
        [
            {
                "grouping": area.grouping,
                "grouping_title": geo.grouping_titles[area.grouping],
                "area_id": area.area_id,
                "area_name": area.name,
                "membership_status": area.membership_status,
                "is_synthetic": is_synthetic,
                "built_at": built_at,
                "code_version": version,
                "suppression_threshold": settings.suppression_threshold,
            }
        ]
    )
    members = pd.DataFrame(
        [
            {
                "municipality_code": code,
                "municipality_name": geo.municipalities[code].name,
                "region_name": geo.municipalities[code].region_name,
                "is_partial": code in area.partial_members,
            }
            for code in area.members
        ]
    )
    try:
        con = duckdb.connect(str(temp))
        try:
            for name, frame in {**tables, "area": info, "member": members}.items():
                con.register("_frame", frame)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
                con.unregister("_frame")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def load_area_pack_data(mart_path: Path) -> AreaPackData:
    """Read one published area mart into the object charts and workbooks draw from."""
    with connect(mart_path, read_only=True) as con:
        info = con.execute("SELECT * FROM area").df().iloc[0]
        members = con.execute("SELECT * FROM member ORDER BY municipality_code").df()
        tables = {
            name: con.execute(f'SELECT * FROM "{name}"').df()
            for name in ("indicator_value", "funnel", "population", "indicator", "source")
        }
    partial = members[members["is_partial"]]
    notes = [
        f"{row.municipality_name} er delt mellem flere områder i denne inddeling og vises med hele "
        "kommunens tal i hvert af dem."
        for row in partial.itertuples()
    ]
    if info["membership_status"] == "proxy":
        notes.append(
            "Medlemskabet er skønnet ud fra sygehusets optageområde i 2019, fordi der ikke er "
            "fundet en offentlig liste fra 2022."
        )
    built_at = pd.Timestamp(info["built_at"]).to_pydatetime()
    return AreaPackData(
        grouping=info["grouping"],
        grouping_title=info["grouping_title"],
        area_id=info["area_id"],
        area_name=info["area_name"],
        members=[
            Member(r.municipality_code, r.municipality_name, bool(r.is_partial))
            for r in members.itertuples()
        ],
        region_names=sorted(members["region_name"].unique()),
        membership_status=info["membership_status"],
        catalogue=tables["indicator"],
        values=tables["indicator_value"],
        funnel=tables["funnel"],
        population=tables["population"],
        sources=tables["source"],
        is_synthetic=bool(info["is_synthetic"]),
        built_at=built_at,
        code_version=str(info["code_version"]),
        suppression_threshold=int(info["suppression_threshold"]),
        notes=notes,
    )


def catalogue_table() -> pd.DataFrame:
    """The catalogue as stored in ``mart.indicator``."""
    return catalogue_frame(load_catalogue())
