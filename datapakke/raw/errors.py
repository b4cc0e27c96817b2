"""The one error type a source problem raises, so the user always learns file, row, column and why."""

from __future__ import annotations

from functools import partial
from pathlib import Path


class SourceFileError(ValueError):
    """A source file that cannot be read as expected.

    ``row`` is the 1-based line (CSV) or sheet row (Excel) a person would look at; ``column`` is
    the header as written in the file. Both are optional when the problem is the whole file.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.reason = message
        where = [f"file {self.file}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")

    def __reduce__(self) -> tuple:
        # Picklable with its keywords, so a file read in a worker process reports row and column.
        return partial(SourceFileError, row=self.row, column=self.column), (self.file, self.reason)
