"""What a published pack showed, kept beside it: its content fingerprint and a compact snapshot
of its values, so a rebuild can tell whether anything changed and say what.

**Fingerprint.** A SHA-256 over every table of the area mart (``mart.duckdb``) the pack is built
from, minus the columns that only record *when* something ran (``area.built_at``,
``source.loaded_at``), and what it was cut from (``area.input_fingerprint``). The area table carries the code version, contact and disclosure threshold,
so a new code version or setting is a new fingerprint too. Canonical form, so the same content
always gives the same digest: tables and columns by name, rows sorted by all columns, doubles
rounded to 10 significant digits (far below anything a pack shows, far above the last-bit noise
of a sum added up in another order), every cell as Arrow's text with NULL as ``\\0``. It is computed from the mart
before anything is drawn: an unchanged night costs one read of the mart (tens of ms), not the
charts and the workbook (seconds).

**Snapshot.** One Parquet file per pack version (zstd, ~150 kB for a region): the area's
``indicator_value`` rows reduced to what "Nyt siden sidst" compares (``SNAPSHOT_VALUE_COLUMNS``),
and in the file's key-value metadata (key ``datapakke``) a JSON object with the fingerprint, the
pack's build time and code version, the charts it was drawn with, the indicators (id, title,
decimals, definition) and the sources (id, title, file, checksum). The latest pack's snapshot is
``<stem>.parquet`` beside ``<stem>.xlsx``; when the pack moves to ``history/`` its snapshot moves
with it under the same stamp (``history/<stem>-<stamp>.parquet``) and is pruned with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from datapakke.atomic import atomic_path
from datapakke.config import AreaOutputs
from datapakke.publish.pack_data import AreaPackData

# Columns that say when a step ran, not what the reader sees: left out of the fingerprint.
# The area's input fingerprint changes with any source; its content may not.
BUILD_TIME_COLUMNS = {("area", "built_at"), ("source", "loaded_at"), ("area", "input_fingerprint")}
SIGNIFICANT_DIGITS = 10  # doubles are rounded to this many significant digits before hashing
SNAPSHOT_VALUE_COLUMNS = [
    *("indicator_id", "role", "area_code", "area_name", "period", "sex", "value"),
    *("is_suppressed", "compared_to_national", "compared_to_national_998", "compared_to_area"),
    "trend",
]
SNAPSHOT_SOURCE_COLUMNS = ["source_id", "title", "file", "sha256"]
# Catalogue fields kept per indicator: its title and decimals (for the lines) and what defines it.
SNAPSHOT_INDICATOR_COLUMNS = [
    *("indicator_id", "title_da", "decimals", "definition_da", "unit_da", "method"),
    *("multiplier", "numerator_measure", "denominator_measure", "standard_population"),
    "polarity",
]
SNAPSHOT_SUFFIX = ".parquet"
_METADATA_KEY = b"datapakke"
_FORMAT = 1


@dataclass(frozen=True)
class PackSnapshot:
    """One published version of an area's pack, as far as a later version is compared with it."""

    fingerprint: str | None  # None: written without a mart (``write_pack``-style callers)
    built_at: datetime  # naive UTC, as the pack's document properties
    code_version: str
    values: pd.DataFrame = field(repr=False)  # SNAPSHOT_VALUE_COLUMNS
    indicators: pd.DataFrame = field(repr=False)  # SNAPSHOT_INDICATOR_COLUMNS, reading order
    sources: pd.DataFrame = field(repr=False)  # SNAPSHOT_SOURCE_COLUMNS
    charts: tuple[str, ...] = ()  # chart names drawn for this version (``charts/<name>.png``)
    headline: tuple[str, ...] = ()  # the front page's first key findings (the download page)
    # the mart's input fingerprint (``area.input_fingerprint``) when it was drawn: while the mart
    # still records the same, it is the same file, and its content need not be hashed again
    mart_input: str = ""


# --------------------------------------------------------------------------- fingerprint


def content_fingerprint(mart_path: Path) -> str:
    """SHA-256 of what the area mart publishes, build times left out (see the module doc)."""
    import pyarrow as pa

    digest = hashlib.sha256(f"datapakke-content-{_FORMAT}\n".encode())
    # One thread: the packs are built two at a time on two cores, and the tables are small.
    with closing(duckdb.connect(str(mart_path), read_only=True, config={"threads": 1})) as con:
        columns = con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main' "
            "ORDER BY table_name, column_index"
        ).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column, kind in columns:
            if (table, column) in BUILD_TIME_COLUMNS:
                continue
            tables.setdefault(table, []).append(_canonical(column, kind))
        for table, cells in sorted(tables.items()):
            frame: pa.Table = con.execute(
                f"SELECT {', '.join(cells)} FROM {_quoted(table)} ORDER BY ALL"
            ).fetch_arrow_table()
            digest.update(f"table {table} {frame.num_rows}\n".encode())
            for column in sorted(frame.column_names):
                digest.update(f"column {column}\n".encode())
                digest.update(_column_bytes(frame.column(column)))
    return digest.hexdigest()


def _column_bytes(column: object) -> bytes:
    """One column as text cells joined by \\x1f, NULL as \\0 (vectorised in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.fill_null(pc.cast(column, pa.string()), "\x00").combine_chunks()
    if len(text) == 0:
        return b""
    one_list = pa.ListArray.from_arrays(pa.array([0, len(text)], pa.int32()), text)
    return pc.binary_join(one_list, "\x1f")[0].as_py().encode()


def _canonical(column: str, kind: str) -> str:
    """The SQL select item of one column in canonical form: doubles rounded to
    SIGNIFICANT_DIGITS (relative, so 5.9 million and 0.0012 alike), text, numbers and flags as
    they are, anything else (timestamps, lists, a table added later) as DuckDB's text."""
    name = _quoted(column)
    if kind in ("DOUBLE", "FLOAT"):
        digits = SIGNIFICANT_DIGITS - 1
        cell = (
            f"CASE WHEN {name} = 0 OR NOT isfinite({name}) THEN {name} "
            f"ELSE round({name}, {digits} - CAST(floor(log10(abs({name}))) AS INTEGER)) END"
        )
    elif kind in ("VARCHAR", "BOOLEAN", "BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        cell = name
    else:
        cell = f"CAST({name} AS VARCHAR)"
    return f"{cell} AS {name}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- snapshots


def snapshot_of(
    pack: AreaPackData,
    fingerprint: str | None,
    charts: Iterable[str] = (),
    headline: Iterable[str] = (),
    mart_input: str = "",
) -> PackSnapshot:
    """The snapshot of ``pack`` (its values, indicators in reading order and sources)."""
    from datapakke.publish.workbook.context import ordered
    from datapakke.publish.workbook.values import naive_utc

    catalogue = ordered(pack.catalogue)
    return PackSnapshot(
        fingerprint=fingerprint,
        built_at=naive_utc(pack.built_at).replace(microsecond=0),
        code_version=pack.code_version,
        values=_columns(pack.values, SNAPSHOT_VALUE_COLUMNS),
        indicators=_columns(catalogue, SNAPSHOT_INDICATOR_COLUMNS),
        sources=_columns(pack.sources, SNAPSHOT_SOURCE_COLUMNS),
        charts=tuple(sorted(charts)),
        headline=tuple(headline),
        mart_input=mart_input,
    )


def _columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``frame``; a column an older mart lacks is empty rather than an error."""
    return frame.reindex(columns=columns).reset_index(drop=True)


def latest_snapshot_path(outputs: AreaOutputs) -> Path:
    """The latest pack's snapshot: ``<stem>.parquet`` beside ``<stem>.xlsx``."""
    return outputs.pack.with_suffix(SNAPSHOT_SUFFIX)


def history_snapshot_path(history_pack: Path) -> Path:
    """The snapshot of an archived pack: the same name and stamp, ``.parquet``."""
    return history_pack.with_suffix(SNAPSHOT_SUFFIX)


def write_snapshot(snapshot: PackSnapshot, path: Path) -> Path:
    """Write ``snapshot`` atomically as one Parquet file (values + JSON metadata)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = {
        "format": _FORMAT,
        "fingerprint": snapshot.fingerprint,
        "built_at": snapshot.built_at.isoformat(),
        "code_version": snapshot.code_version,
        "charts": list(snapshot.charts),
        "headline": list(snapshot.headline),
        "mart_input": snapshot.mart_input,
        "indicators": _records(snapshot.indicators),
        "sources": _records(snapshot.sources),
    }
    values = snapshot.values.reindex(columns=SNAPSHOT_VALUE_COLUMNS)
    table = pa.Table.from_pandas(values, preserve_index=False)
    table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(header, ensure_ascii=False)})
    with atomic_path(Path(path)) as temp:
        pq.write_table(table, temp, compression="zstd")
    return Path(path)


def read_snapshot(path: Path, with_values: bool = True) -> PackSnapshot | None:
    """The snapshot at ``path``; None when there is none or it cannot be read (an unreadable
    snapshot only means the next build cannot say what changed, never a failed build).

    ``with_values=False`` reads only the file's footer (about a millisecond): enough to compare
    fingerprints."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        return None
    try:
        if with_values:
            table = pq.read_table(path)
            metadata, values = table.schema.metadata or {}, table.to_pandas()
        else:
            metadata = pq.read_schema(path).metadata or {}
            values = pd.DataFrame(columns=SNAPSHOT_VALUE_COLUMNS)
        header = json.loads(metadata[_METADATA_KEY])
        return PackSnapshot(
            fingerprint=header.get("fingerprint"),
            built_at=datetime.fromisoformat(header["built_at"]),
            code_version=str(header.get("code_version", "")),
            values=values.reindex(columns=SNAPSHOT_VALUE_COLUMNS),
            indicators=pd.DataFrame(header.get("indicators", [])).reindex(
                columns=SNAPSHOT_INDICATOR_COLUMNS
            ),
            sources=pd.DataFrame(header.get("sources", [])).reindex(
                columns=SNAPSHOT_SOURCE_COLUMNS
            ),
            charts=tuple(header.get("charts", ())),
            headline=tuple(header.get("headline", ())),
            mart_input=str(header.get("mart_input") or ""),
        )
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
        return None


def with_charts(snapshot: PackSnapshot, charts: Iterable[str]) -> PackSnapshot:
    return replace(snapshot, charts=tuple(sorted(charts)))


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts: NaN and NA become null, numpy scalars plain Python."""
    return json.loads(frame.to_json(orient="records", force_ascii=False))
