"""Finding the header row among title rows, and naming the columns as the layout declares them.

A missing or misspelt column is the commonest reason a drop cannot be read, so the error names
what was looked for, where, what was found, and the closest spelling worth adding as an alias.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files.layout import FileLayout, compile_pattern, header_key, norm_header

#: How far down a sheet the header may sit below title rows.
HEADER_SCAN_ROWS = 50


class Row:
    """One record: its 1-based line (CSV) or sheet row (Excel), stripped cells, field count."""

    __slots__ = ("cells", "fields", "filled", "number")

    def __init__(self, number: int, cells: list[str], fields: int) -> None:
        self.number = number
        self.cells = cells
        self.fields = fields  # as written (CSV), to catch truncated and ragged rows
        self.filled = len(cells) - cells.count("")

    def first(self) -> str:
        return next((c for c in self.cells if c), "")


class ColumnNames:
    """Header spelling → canonical column name, as the layout declares them."""

    def __init__(self, layout: FileLayout) -> None:
        self.layout = layout
        self.by_key: dict[str, str] = {}
        wide = layout.wide
        produced = {wide.name_col, wide.value_col} if wide else set()
        for name in (*layout.required_columns, *layout.fill_down):
            if name not in produced:
                self.by_key.setdefault(header_key(name), norm_header(name))
        for canonical, spellings in layout.column_aliases.items():
            for spelling in (canonical, *spellings):
                self.by_key[header_key(spelling)] = norm_header(canonical)
        self.needed = {norm_header(c) for c in layout.required_columns if c not in produced}
        self.wide = compile_pattern(wide.pattern, "wide") if wide else None

    def canonical(self, header: str) -> str:
        return self.by_key.get(header_key(header), norm_header(header))

    def is_header(self, row: Row) -> bool:
        names = {self.canonical(c) for c in row.cells if c}
        if not self.needed <= names:
            return False
        if self.wide is not None:
            return any(self.wide.fullmatch(norm_header(c)) for c in row.cells if c)
        return True


def find_header(path: Path, rows: list[Row], names: ColumnNames) -> int:
    """Index (into rows) of the header: the layout's row, or the first holding every column."""
    if names.layout.header_row is not None:
        return _declared_header(path, rows, names, names.layout.header_row)
    scan = [(i, r) for i, r in enumerate(rows[: HEADER_SCAN_ROWS * 2]) if r.filled]
    scan = scan[:HEADER_SCAN_ROWS]
    if not names.needed and names.wide is None:
        most = max(r.filled for _, r in scan)
        return next(i for i, r in scan if r.filled == most)
    for i, row in scan:
        if names.is_header(row):
            return i
    best = max(
        scan,
        key=lambda item: (
            len(names.needed & {names.canonical(c) for c in item[1].cells if c}),
            item[1].filled,
            -item[0],
        ),
    )[1]
    _raise_missing(path, best, names, searched=True)
    raise AssertionError("unreachable")


def _declared_header(path: Path, rows: list[Row], names: ColumnNames, header_row: int) -> int:
    """Index of the header on the layout's row; where it moved (an extra or a deleted title
    row), the error says on which row it is now, so the fix is one number."""
    index = next((i for i, r in enumerate(rows) if r.number == header_row), None)
    if index is not None and rows[index].filled and names.is_header(rows[index]):
        return index
    moved = _header_elsewhere(rows, names, header_row)
    if moved is not None:
        raise SourceFileError(
            path,
            f"expected header not found on row {header_row}; found it on row {moved.number} "
            f"(a title row {'added' if moved.number > header_row else 'removed'} above it?)",
            row=header_row,
        )
    if index is None or not rows[index].filled:
        raise SourceFileError(
            path,
            f"header_row {header_row} is blank or beyond the end of the file "
            f"(last row {rows[-1].number if rows else 0})",
            row=header_row,
        )
    _raise_missing(path, rows[index], names, searched=False)
    raise AssertionError("unreachable")


def _header_elsewhere(rows: list[Row], names: ColumnNames, header_row: int) -> Row | None:
    """The row nearest the declared one that holds every required column, if any (only when
    the layout names columns: without them any row would look like a header)."""
    if not names.needed and names.wide is None:
        return None
    candidates = [r for r in rows[: HEADER_SCAN_ROWS * 2] if r.filled and r.number != header_row]
    found = [r for r in candidates if names.is_header(r)]
    return min(found, key=lambda r: (abs(r.number - header_row), r.number), default=None)


def _raise_missing(path: Path, row: Row, names: ColumnNames, searched: bool) -> None:
    layout = names.layout
    found = [norm_header(c) for c in row.cells if c]
    present = {names.canonical(c) for c in found}
    order = list(map(norm_header, layout.required_columns))
    missing = sorted(names.needed - present, key=order.index)
    hints = []
    for name in missing:
        unused = [h for h in found if names.canonical(h) not in names.needed]
        guess = _closest(name, unused)
        if guess:
            hints.append(f"did you mean {guess!r} for {name!r}? (add it to column_aliases)")
    where = f"the first {HEADER_SCAN_ROWS} rows" if searched else f"header row {row.number}"
    if missing:
        what = f"required column(s) {', '.join(map(repr, missing))} not found in {where}"
    else:
        pattern = layout.wide.pattern if layout.wide else ""
        what = f"no column in {where} matches wide.pattern {pattern!r}"
    message = (
        f"{what}; "
        + ("; ".join(hints) + "; " if hints else "")
        + f"columns found in row {row.number}: "
        + (", ".join(map(repr, found)) or "none")
    )
    raise SourceFileError(path, message, row=row.number, column=missing[0] if missing else None)


def _closest(name: str, headers: list[str]) -> str | None:
    keys = {header_key(h): h for h in headers}
    close = difflib.get_close_matches(header_key(name), list(keys), n=1, cutoff=0.6)
    if close:
        return keys[close[0]]
    wanted = header_key(name)
    contains = [h for k, h in keys.items() if len(k) >= 3 and (wanted in k or k in wanted)]
    return contains[0] if contains else None


def column_names(
    path: Path, header: Row, width: int, names: ColumnNames
) -> tuple[list[str], dict[str, str]]:
    """Canonical names for the header cells; blank headers become ``column_<n>`` (1-based).

    Also returns canonical name → the header cell as written, for messages and lineage.
    """
    columns: list[str] = []
    written: dict[str, str] = {}
    for index, cell in enumerate((header.cells + [""] * width)[:width]):
        if not cell:
            columns.append(f"column_{index + 1}")
            continue
        name = names.canonical(cell)
        if name in written:
            raise SourceFileError(
                path,
                f"two header cells give column {name!r}: {written[name]!r} and {cell!r}"
                + (
                    " (via column_aliases)" if header_key(written[name]) != header_key(cell) else ""
                ),
                row=header.number,
                column=cell,
            )
        columns.append(name)
        written[name] = cell
    return columns, written
