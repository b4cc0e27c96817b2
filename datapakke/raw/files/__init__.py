"""Readers for the CSV and Excel files analysts drop into ``data/raw/<source>/``.

Danish exports differ in every detail that matters to a parser: separator, encoding, title rows
above the header, notes and totals below it, pivoted "same as above" blanks, years spread across
columns. Rather than code per publisher, one reader is driven by a small declarative
:class:`FileLayout` that can live in YAML, so a new eSundhed layout is configuration.

The reader only *reads*: every cell comes back as the text the publisher wrote (stripped), with
the 1-based line or sheet row it came from, and nothing is interpreted (numbers are validation's
job, see :mod:`datapakke.raw.values`). Rows it leaves out (totals, footnotes) are returned
with the reason, never silently dropped. Anything it cannot read is a :class:`SourceFileError`
naming the file and, where it helps, the row and column.

The parts: :mod:`~datapakke.raw.files.layout` (the layout), :mod:`~datapakke.raw.files.reader`
(the entry point), :mod:`~datapakke.raw.files.delimited` and :mod:`~datapakke.raw.files.excel`
(rows from each kind of file), :mod:`~datapakke.raw.files.header` (finding and naming the
columns) and :mod:`~datapakke.raw.files.table` (notes, skips, fill-down, wide layouts).
"""

from datapakke.raw.files.layout import FileLayout, LayoutError, WideSpec
from datapakke.raw.files.reader import ReadResult, read_source_file

__all__ = ["FileLayout", "LayoutError", "ReadResult", "WideSpec", "read_source_file"]
