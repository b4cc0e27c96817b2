"""Per-area marts: the protected values one area's pack shows, in its own DuckDB file.

``data/marts/<grouping>/<area_id>/mart.duckdb`` holds only published values (already through
disclosure control) for the area's members, the area, its region(s) and Denmark, plus the
indicator metadata and provenance. It is written to a temporary file in the same folder and
renamed, so readers (notebooks, the UI) never see a half-written mart and a failed build leaves
the previous one in place. Packs and charts read these files, never the warehouse.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from datapakke.atomic import atomic_path, write_bytes
from datapakke.config import DEFAULT_CONTACT_DA, REPO_ROOT, Settings
from datapakke.geography import NATIONAL_CODE, Area, Geography
from datapakke.mart import stats
from datapakke.publish.pack_data import (
    AGE_VALUE_DTYPES,
    FUNNEL_COLUMNS,
    PEER_COMPARISON_DTYPES,
    PEER_GROUP_DTYPES,
    POPULATION_COLUMNS,
    SOURCE_COLUMNS,
    AreaPackData,
    Member,
    typed_frame,
)
from datapakke.schemas import AGE_VALUE_DTYPES as MART_AGE_VALUE
from datapakke.schemas import AREA_VALUE_COLUMNS
from datapakke.warehouse import connect

PEER_TABLES = ("peer_group", "peer_comparison")  # similar municipalities (mart.peers)
AGE_TABLE = "indicator_age_value"  # the latest period by age band (mart.age_breakdown)


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


@dataclass
class Published:
    """The warehouse's published tables, read once, indexed for cutting many area marts."""

    values: pd.DataFrame  # mart.indicator_value
    indicator: pd.DataFrame  # mart.indicator, in catalogue order
    sources: pd.DataFrame  # SOURCE_COLUMNS
    population: pd.DataFrame  # municipality × year (1st quarter) × sex × age band
    funnel: pd.DataFrame  # every municipality, sex T, each indicator's latest period
    unit_rows: dict[tuple[str, str, str], np.ndarray]  # (area_level, grouping, area_code) → rows
    # similar municipalities (mart.peer_group, mart.peer_comparison); empty when not built
    peer_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    peer_comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    age_values: pd.DataFrame = field(default_factory=pd.DataFrame)  # mart.indicator_age_value


def load_published(warehouse_path: Path, geo: Geography) -> Published:
    """The published tables the area marts are cut from, read once (read-only)."""
    with connect(warehouse_path, read_only=True) as con:
        values = con.execute("SELECT * FROM mart.indicator_value").df()
        indicator = con.execute('SELECT * FROM mart.indicator ORDER BY "order"').df()
        sources = con.execute(
            "SELECT source_id, title, publisher, accepted_file AS file, "
            "accepted_sha256 AS sha256, rows_loaded AS rows, is_synthetic, status, "
            "file AS latest_file, message, rows_read, rows_quarantined, rows_skipped, "
            "loaded_at, coverage.* EXCLUDE (source_id) "
            "FROM raw.source_file s LEFT JOIN ("
            "  SELECT source_id, min(period) AS first_period, max(period) AS last_period, "
            "  count(DISTINCT period) AS period_count, "
            "  string_agg(DISTINCT measure_id, ',' ORDER BY measure_id) AS measures, "
            "  coalesce(string_agg(DISTINCT municipality_code, ',' ORDER BY municipality_code), "
            "  '') AS municipality_codes FROM raw.validated GROUP BY source_id"
            ") coverage USING (source_id) ORDER BY source_id"
        ).df()
        missing = con.execute(
            "SELECT source_id, municipality_code, period FROM raw.missing "
            "ORDER BY source_id, period, municipality_code"
        ).df()
        population = con.execute(
            "SELECT municipality_code, substr(period, 1, 4) AS period, sex, age_band, "
            "population FROM core.population WHERE period LIKE '%K1'"
        ).df()
        peers = {name: _table_or_empty(con, f"mart.{name}") for name in PEER_TABLES}
        age_values = _table_or_empty(con, f"mart.{AGE_TABLE}")
    # The funnel shows every municipality in Denmark (published values only), latest period.
    funnel = values[(values["area_level"] == "municipality") & (values["sex"] == "T")]
    latest_period = funnel.groupby("indicator_id")["period"].transform("max")
    funnel = funnel[funnel["period"] == latest_period]
    return Published(
        values=values,
        indicator=indicator,
        sources=with_caveats(sources, missing, geo)[SOURCE_COLUMNS],
        population=population,
        funnel=funnel[[c for c in FUNNEL_COLUMNS if c != "is_member"]].reset_index(drop=True),
        unit_rows=values.groupby(["area_level", "grouping", "area_code"], sort=False).indices,
        peer_group=peers["peer_group"],
        peer_comparison=peers["peer_comparison"],
        age_values=age_values,
    )


def _table_or_empty(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """A table, or an empty frame where a warehouse or mart made before it has none."""
    schema, _, name = table.rpartition(".")
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND (? = '' OR table_schema = ?)",
        [name, schema, schema],
    ).fetchone()
    return con.execute(f"SELECT * FROM {table}").df() if found and found[0] else pd.DataFrame()


def area_peer_tables(published: Published, geo: Geography, area: Area) -> dict[str, pd.DataFrame]:
    """The members' similar municipalities (with names) and their comparison with them; empty
    tables where the warehouse has none."""
    names = {code: muni.name for code, muni in geo.municipalities.items()}
    groups, comparison = published.peer_group, published.peer_comparison
    if {"municipality_code", "peer_code", "rank"} <= set(groups.columns):
        groups = groups[groups["municipality_code"].isin(area.members)]
        groups = groups.assign(
            municipality_name=groups["municipality_code"].map(names),
            peer_name=groups["peer_code"].map(names),
        ).sort_values(["municipality_code", "rank"])
    if "municipality_code" in comparison.columns:
        comparison = comparison[comparison["municipality_code"].isin(area.members)]
        comparison = comparison.assign(municipality_name=comparison["municipality_code"].map(names))
    return {
        "peer_group": _typed_or_empty(PEER_GROUP_DTYPES, groups),
        "peer_comparison": _typed_or_empty(PEER_COMPARISON_DTYPES, comparison),
    }


def with_caveats(sources: pd.DataFrame, missing: pd.DataFrame, geo: Geography) -> pd.DataFrame:
    """Each source with ``caveat_da``: what a reader must know when its newest file was rejected
    or some of its rows were quarantined ('' when neither)."""
    caveats = []
    for src in sources.itertuples():
        if src.status == "rejected":
            caveats.append(
                f"Den nyeste fil ({src.latest_file}) blev afvist ved valideringen, så tallene "
                f"bygger på den tidligere godkendte fil ({src.file or 'ingen'}). Årsag: "
                f"{src.message}"
            )
            continue
        if not src.rows_quarantined:
            caveats.append("")
            continue
        gaps = missing[missing["source_id"] == src.source_id]
        places = [
            f"{geo.municipalities[r.municipality_code].name} {r.period}"
            for r in gaps.head(6).itertuples()
            if r.municipality_code in geo.municipalities
        ]
        more = " m.fl." if len(gaps) > len(places) else ""
        where = f" Berørte tal vises ikke: {', '.join(places)}{more}." if places else ""
        caveats.append(
            f"{int(src.rows_quarantined)} rækker i {src.file} blev afvist ved valideringen "
            f"og sat i karantæne.{where} Se kildens valideringstjek i Dagster (aktivet "
            f"raw_{src.source_id}) eller tabellen raw.quarantine."
        )
    return sources.assign(
        caveat_da=caveats,
        measures=sources["measures"].fillna(""),
    )


def area_tables(published: Published, geo: Geography, area: Area) -> dict[str, pd.DataFrame]:
    """Cut one area's tables from the published ones; add each member's comparison with the area."""
    regions = sorted({geo.municipalities[c].region_area_id for c in area.members})
    area_unit = ("region" if area.grouping == "region" else "area", area.grouping, area.area_id)
    units_by_role = {
        "member": [("municipality", "", code) for code in area.members],
        "area": [area_unit],
        "region": [
            ("region", "region", r) for r in regions if ("region", "region", r) != area_unit
        ],
        "country": [("country", "", NATIONAL_CODE)],
    }
    rows, roles = [], []
    for role, units in units_by_role.items():
        for unit in units:
            unit_rows = published.unit_rows.get(unit, np.empty(0, dtype=np.intp))
            rows.append(unit_rows)
            roles.append(np.full(len(unit_rows), role, dtype=object))
    role_of = {unit: role for role, units in units_by_role.items() for unit in units}
    all_rows = np.concatenate(rows)
    order = np.argsort(all_rows, kind="stable")  # keep the warehouse's row order
    cut = published.values.take(all_rows[order])
    cut["role"] = np.concatenate(roles)[order]

    keys = ["indicator_id", "period", "sex"]
    area_value = cut[cut["role"] == "area"][[*keys, "value"]].rename(
        columns={"value": "area_value"}
    )
    catalogue = published.indicator
    cut = cut.merge(area_value, on=keys, how="left").merge(
        catalogue[["indicator_id", "polarity", "interval"]], on="indicator_id"
    )
    compare = (cut["role"] == "member") & (cut["interval"] != "none")
    cut["compared_to_area"] = "not_compared"
    if compare.any():
        sub = cut[compare]
        cut.loc[compare, "compared_to_area"] = stats.compare_to_benchmark(
            sub["ci95_low"], sub["ci95_high"], sub["area_value"], sub["polarity"]
        )

    pop = published.population
    keys = ["period", "sex", "age_band"]
    national = pop.groupby(keys)["population"].sum().rename("national_population")
    pop = pop[pop["municipality_code"].isin(area.members)]
    population = pop.groupby(keys)["population"].sum().to_frame().join(national).reset_index()
    funnel = published.funnel.assign(is_member=published.funnel["area_code"].isin(area.members))
    return {
        "indicator_value": cut[AREA_VALUE_COLUMNS].reset_index(drop=True),
        "funnel": funnel[FUNNEL_COLUMNS],
        "population": population[POPULATION_COLUMNS],
        "indicator": catalogue,
        "source": published.sources,
        **area_peer_tables(published, geo, area),
        AGE_TABLE: _area_age_values(published.age_values, role_of),
    }


def _area_age_values(
    age_values: pd.DataFrame, role_of: dict[tuple[str, str, str], str]
) -> pd.DataFrame:
    """The area's units' rows of mart.indicator_age_value, each with its role."""
    if not set(MART_AGE_VALUE) <= set(age_values.columns):
        return typed_frame(AGE_VALUE_DTYPES)
    units = age_values[["area_level", "grouping", "area_code"]].itertuples(index=False, name=None)
    roles = pd.Series([role_of.get(u) for u in units], index=age_values.index, dtype=object)
    return typed_frame(AGE_VALUE_DTYPES, age_values.assign(role=roles)[roles.notna()])


def write_area_mart(
    settings: Settings,
    geo: Geography,
    area: Area,
    tables: dict[str, pd.DataFrame],
    built_at: datetime,
    version: str,
    input_fingerprint: str = "",
) -> Path:
    """Write ``mart.duckdb`` for one area atomically (temp file in the same folder, then rename);
    ``input_fingerprint`` is what it is cut from (``publish.stage.area_marts_input``)."""
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
                "contact_da": settings.contact_da,
                "input_fingerprint": input_fingerprint,
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
    target = settings.area_outputs(area.grouping, area.area_id).mart
    with atomic_path(target) as temp:
        con = duckdb.connect(str(temp), config={"threads": 1})
        try:
            for name, frame in {**tables, "area": info, "member": members}.items():
                con.register("_frame", frame)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
                con.unregister("_frame")
            con.execute("CHECKPOINT")
        finally:
            con.close()
    _note_input(target, input_fingerprint)
    return target


def recorded_area_input(mart_path: Path) -> str | None:
    """The input fingerprint an area mart was written from (None: no mart, or one from before).

    Read from the note beside the mart while the note still describes that very file (its size,
    mtime and inode), else from the mart itself: opening a DuckDB file costs about 12 ms, and a quiet
    night asks this of 44 marts twice.
    """
    if not mart_path.is_file():
        return None
    try:
        note = json.loads(_note_path(mart_path).read_text(encoding="utf-8"))
        if note["file"] == _file_state(mart_path):
            return str(note["input_fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with connect(mart_path, read_only=True, retries=1) as con:
            return con.execute("SELECT input_fingerprint FROM area").fetchone()[0]
    except duckdb.Error:
        return None


def _note_input(mart_path: Path, input_fingerprint: str) -> None:
    """Beside the mart just written: its input fingerprint and the file it belongs to."""
    note = {"input_fingerprint": input_fingerprint, "file": _file_state(mart_path)}
    write_bytes(_note_path(mart_path), json.dumps(note).encode("utf-8"))


def _note_path(mart_path: Path) -> Path:
    return mart_path.with_name(mart_path.name + ".input.json")


def _file_state(path: Path) -> list[int]:
    state = path.stat()
    return [state.st_size, state.st_mtime_ns, state.st_ino]


def load_area_pack_data(mart_path: Path) -> AreaPackData:
    """Read one published area mart into the object charts and workbooks draw from."""
    with connect(mart_path, read_only=True) as con:
        info = con.execute("SELECT * FROM area").df().iloc[0]
        members = con.execute("SELECT * FROM member ORDER BY municipality_code").df()
        tables = {
            name: con.execute(f'SELECT * FROM "{name}"').df()
            for name in ("indicator_value", "funnel", "population", "indicator", "source")
        }
        peers = {name: _table_or_empty(con, name) for name in PEER_TABLES}
        age_values = _table_or_empty(con, AGE_TABLE)
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
    sources = tables["source"]
    notes += [
        f"Forbehold om {src.title}: {src.caveat_da}"
        for src in sources.itertuples()
        if getattr(src, "caveat_da", "")
    ]
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
        population=tables["population"].reindex(columns=POPULATION_COLUMNS),
        sources=tables["source"],
        is_synthetic=bool(info["is_synthetic"]),
        built_at=built_at,
        code_version=str(info["code_version"]),
        suppression_threshold=int(info["suppression_threshold"]),
        notes=notes,
        contact_da=str(info.get("contact_da") or DEFAULT_CONTACT_DA),
        peer_group=_typed_or_empty(PEER_GROUP_DTYPES, peers["peer_group"]),
        peer_comparison=_typed_or_empty(PEER_COMPARISON_DTYPES, peers["peer_comparison"]),
        age_values=_typed_or_empty(AGE_VALUE_DTYPES, age_values),
    )


def _typed_or_empty(dtypes: dict[str, str], frame: pd.DataFrame) -> pd.DataFrame:
    return typed_frame(dtypes, frame if set(dtypes) <= set(frame.columns) else None)
