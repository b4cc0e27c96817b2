"""Read one drop file: decide its kind, get its rows, build the table, say how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files.delimited import choose_delimiter, decode, delimited_rows
from datapakke.raw.files.excel import EXCEL_SUFFIXES, OLE_MAGIC, ZIP_MAGIC, excel_rows
from datapakke.raw.files.layout import FileLayout
from datapakke.raw.files.table import Table, build_table


@dataclass
class ReadResult:
    """The table as text, where it came from, and every row that was left out and why.

    ``frame`` has one str column per table column (canonical names, blanks as ''), plus int
    ``_source_row``; a wide layout adds ``_source_column`` (the header the value sat under).
    """

    frame: pd.DataFrame
    encoding: str | None
    delimiter: str | None
    header_row: int
    skipped_rows: list[tuple[int, str]]
    sheet_name: str | None
    decimal: str = ","
    columns: dict[str, str] = field(default_factory=dict)  # canonical name → header as written

    @classmethod
    def of(
        cls,
        table: Table,
        layout: FileLayout,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet_name: str | None = None,
    ) -> ReadResult:
        return cls(
            frame=table.frame,
            encoding=encoding,
            delimiter=delimiter,
            header_row=table.header_row,
            skipped_rows=table.skipped,
            sheet_name=sheet_name,
            decimal=layout.decimal,
            columns=table.columns,
        )


def read_source_file(path: Path | str, layout: FileLayout) -> ReadResult:
    """Read one drop file as text rows; raise :class:`SourceFileError` for anything unreadable.

    The file is opened read-only and only once; nothing is written next to it.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(path, "is not a file" if path.exists() else "file not found")
    data = path.read_bytes()
    if _resolve_kind(path, data, layout.kind) == "excel":
        rows, sheet_name = excel_rows(path, data, layout)
        table = build_table(path, rows, layout, field_counts=False)
        return ReadResult.of(table, layout, sheet_name=sheet_name)
    text, encoding = decode(path, data, layout.encoding)
    delimiter = choose_delimiter(path, text, layout)
    table = build_table(path, delimited_rows(path, text, delimiter), layout, field_counts=True)
    return ReadResult.of(table, layout, encoding=encoding, delimiter=delimiter)


def _resolve_kind(path: Path, data: bytes, kind: str) -> str:
    """'excel' or 'delimited'; formats that cannot be read are refused with what to do."""
    suffix = path.suffix.lower()
    if suffix == ".ods":
        raise SourceFileError(
            path, "is an OpenDocument spreadsheet (.ods), which cannot be read: save it as .xlsx"
        )
    if suffix == ".xls" or (kind != "delimited" and data.startswith(OLE_MAGIC)):
        raise SourceFileError(
            path,
            "is an old-style .xls workbook (or a password-protected one), which cannot be "
            "read: open it in Excel and save it as an unprotected .xlsx",
        )
    if kind == "auto":
        kind = "excel" if suffix in EXCEL_SUFFIXES else "delimited"
    if kind == "delimited" and data.startswith(ZIP_MAGIC):
        raise SourceFileError(
            path,
            "is a zip file (an Excel .xlsx workbook?), not delimited text: give it an .xlsx "
            "name or set kind: excel in the layout",
        )
    return kind
