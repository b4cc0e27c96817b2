"""Read one source file into ``raw.observation`` rows: canonical roles, all text, with lineage.

Reading never interprets values (that is validation's job) and never modifies the file. Rows
that the registry deliberately leaves out (filters, footnotes) are counted, never silently lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from datapakke.raw.drops import file_sha256
from datapakke.raw.errors import SourceFileError
from datapakke.raw.registry import ResolvedSource, SourceSpec
from datapakke.schemas import RAW_TEXT_COLUMNS

RAW_COLUMNS = [*RAW_TEXT_COLUMNS, "_source_file", "_source_row", "_file_sha256", "_loaded_at"]
#: How StatBank writes "all values of a variable", as codes and as Danish/English labels: a filter
#: asking for one of them accepts any of them (``CIVILSTAND: [TOT]`` keeps "I alt").
TOTAL_TEXTS = frozenset({"tot", "ialt", "i alt", "total", "in total", "all"})
#: Æ, Ø, Å written out in ASCII, as users and some tools rename ``OMRÅDE`` to ``OMRAADE`` or
#: ``OMRADE``: two spellings of each letter, tried in turn.
_ASCII_SPELLINGS = (
    str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"}),
    str.maketrans({"æ": "ae", "ø": "o", "å": "a"}),
)


@dataclass
class RawLoad:
    """What reading one source file gave: rows, or a file-level error; and what was skipped."""

    source: ResolvedSource
    sha256: str
    frame: pd.DataFrame
    rows_read: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    error: SourceFileError | None = None
    # What the reader assumed about the file, said once per file (e.g. an implied total).
    notes: list[str] = field(default_factory=list)

    @property
    def source_id(self) -> str:
        return self.source.spec.id


def _read_table(resolved: ResolvedSource) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    spec = resolved.spec
    if spec.reader == "statbank":
        from datapakke.raw.statbank import read_statbank_extract

        return read_statbank_extract(resolved.path, source_name=resolved.display_path)
    from datapakke.raw.files import FileLayout, read_source_file

    result = read_source_file(resolved.path, FileLayout.from_dict(spec.layout or {}))
    return result.frame, list(result.skipped_rows)


def _required_columns(spec: SourceSpec) -> list[str]:
    needed = [c for role, c in spec.columns.items() if role != "value"]
    needed += list(spec.value_columns) or [spec.columns["value"]]
    return list(dict.fromkeys(needed))


def _ascii_spellings(column: str) -> set[str]:
    folded = column.strip().casefold()
    return {folded.translate(table) for table in _ASCII_SPELLINGS}


def _match_ascii_spellings(
    table: pd.DataFrame, needed: list[str], notes: list[str]
) -> pd.DataFrame:
    """Rename a column the registry needs that the file writes without æ, ø, å (``OMRAADE`` for
    ``OMRÅDE``, ``KON`` for ``KØN``): the same variable, so it is read, and noted once."""
    renames: dict[str, str] = {}
    for column in needed:
        if column in table.columns:
            continue
        spellings = _ascii_spellings(column)
        found = [c for c in table.columns if c not in needed and c.casefold() in spellings]
        if len(found) == 1:
            renames[found[0]] = column
            notes.append(f"column {found[0]!r} read as {column!r} (the same name without æ, ø, å)")
    return table.rename(columns=renames) if renames else table


def _unnamed_columns_hint(found: list[str]) -> str:
    """Why a web export's columns are STUB1…: its title line, which names them, is gone."""
    if not any(re.fullmatch(r"STUB\d+", c) for c in found):
        return ""
    return (
        "; STUB1… are the label columns of a statistikbanken.dk export, named from its title "
        "line ('… efter område, køn og tid'): keep that first line in the file, as exported"
    )


def filter_matches(values: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    """Which cells a registry filter keeps: the value as code or label, case-insensitively.

    A web export writes a category as "TOT Erhverv i alt" (code, then label), so the first word
    counts too; any way of writing "total" matches a filter that asks for a total.
    """
    wanted = {a.strip().casefold() for a in allowed}
    if wanted & TOTAL_TEXTS:
        wanted |= TOTAL_TEXTS
    text = values.astype(str).str.strip().str.casefold()
    return text.isin(wanted) | text.str.split(" ", n=1).str[0].isin(wanted)


def _apply_filters(
    table: pd.DataFrame,
    spec: SourceSpec,
    file: str,
    skipped: list[tuple[int, str]],
    notes: list[str],
) -> pd.DataFrame:
    """Keep the rows the registry's filters select; skipped rows are counted with the reason.

    StatBank leaves a variable out of an extract when the user did not select it, and then every
    row is its total: a filter on an absent column is noted, not an error. A filter that keeps no
    row at all is an error, because loading nothing would silently empty the table.
    """
    keep = pd.Series(True, index=table.index)
    for column, allowed in spec.filters.items():
        if column not in table.columns:
            notes.append(
                f"{column} is not in the file: StatBank leaves an unselected variable out, so "
                f"every row counts as {column} = {' / '.join(allowed)}"
            )
            continue
        matches = filter_matches(table[column], allowed)
        if len(table) and not (keep & matches).any():
            found = ", ".join(repr(v) for v in table[column].astype(str).unique()[:6])
            raise SourceFileError(
                file,
                f"the registry filter {column} = {', '.join(allowed)} keeps none of the "
                f"{len(table)} rows (values found: {found}); select {column} = "
                f"{' or '.join(allowed)} (the total) in the download, or leave {column} out",
                column=column,
            )
        for row, value in zip(
            table.loc[keep & ~matches, "_source_row"],
            table.loc[keep & ~matches, column],
            strict=True,
        ):
            skipped.append((int(row), f"{column}={value!r} is not selected by the registry filter"))
        keep &= matches
    return table[keep]


def read_raw(resolved: ResolvedSource, loaded_at: datetime | None = None) -> RawLoad:
    """Read the file behind one source into the raw text shape (file errors are returned)."""
    loaded_at = loaded_at or datetime.now(UTC)
    spec = resolved.spec
    sha = file_sha256(resolved.path)
    empty = pd.DataFrame(columns=RAW_COLUMNS)
    notes: list[str] = []
    try:
        table, skipped = _read_table(resolved)
        needed = _required_columns(spec)
        table = _match_ascii_spellings(table, [*needed, *spec.filters], notes)
        missing = [c for c in needed if c not in table.columns]
        if missing:
            found = [c for c in table.columns if not c.startswith("_")]
            raise SourceFileError(
                resolved.display_path,
                f"missing column(s) {', '.join(repr(c) for c in missing)} needed by source "
                f"{spec.id}; found {', '.join(found)}" + _unnamed_columns_hint(found),
                column=missing[0],
            )
    except SourceFileError as error:
        return RawLoad(resolved, sha, empty, error=error)

    rows_read = len(table)
    try:
        table = _apply_filters(table, spec, resolved.display_path, skipped, notes)
    except SourceFileError as error:
        return RawLoad(resolved, sha, empty, error=error)

    value_columns = spec.value_columns or {spec.columns["value"]: ""}
    pieces = []
    for value_column in value_columns:
        piece = pd.DataFrame(
            {
                "source_id": spec.id,
                "measure_text": table[spec.columns["measure"]]
                if "measure" in spec.columns
                else (spec.measure or ""),
                "municipality_text": table[spec.columns["municipality"]],
                "period_text": table[spec.columns["period"]],
                "sex_text": table[spec.columns["sex"]] if "sex" in spec.columns else "T",
                "age_text": table[spec.columns["age"]] if "age" in spec.columns else "total",
                "value_text": table[value_column],
                "value_column": value_column,
                "_source_row": table["_source_row"].astype(int),
            }
        )
        pieces.append(piece)
    frame = pd.concat(pieces, ignore_index=True) if pieces else empty
    for column in RAW_TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    frame["_source_file"] = resolved.display_path
    frame["_file_sha256"] = sha
    stamp = pd.Timestamp(loaded_at)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    frame["_loaded_at"] = pd.Series(stamp, index=frame.index).astype("datetime64[ns, UTC]")
    return RawLoad(
        resolved, sha, frame[RAW_COLUMNS], rows_read=rows_read, skipped=skipped, notes=notes
    )
