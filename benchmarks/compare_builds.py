"""Compare two builds of the marts folder: every per-area ``mart.duckdb`` table and every pack's
cell values. Used to show that a refactor changed no published number or word.

    python -m benchmarks.compare_builds BEFORE_MARTS_DIR AFTER_MARTS_DIR

Build times, code versions, the warehouse's load times and the input fingerprints made from
them differ between any two builds; they are not differences.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb
import pandas as pd

# Cells and columns that name when, from which commit or from which loads a build was made.
_VOLATILE_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\b[0-9a-f]{7,40}(-dirty)?\b|kl\. \d{1,2}[.:]\d{2}"
)
_VOLATILE_COLUMNS = {"built_at", "code_version", "loaded_at", "_loaded_at", "input_fingerprint"}


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()
        frames = {}
        for (name,) in names:
            frame = con.execute(f"SELECT * FROM {name}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in _VOLATILE_COLUMNS])
            frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return frames
    finally:
        con.close()


def compare_marts(before: Path, after: Path) -> list[str]:
    problems = []
    for old in sorted(before.glob("*/*/mart.duckdb")):
        new = after / old.relative_to(before)
        if not new.exists():
            problems.append(f"missing: {new}")
            continue
        a, b = _tables(old), _tables(new)
        if set(a) != set(b):
            problems.append(f"{new}: tables {sorted(a)} != {sorted(b)}")
        for name in sorted(set(a) & set(b)):
            try:
                pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False)
            except AssertionError as error:
                problems.append(f"{new} {name}: {str(error).splitlines()[0:3]}")
    return problems


def _cells(path: Path) -> dict[tuple[str, str], object]:
    from openpyxl import load_workbook

    book = load_workbook(path)
    cells = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    cells[(sheet.title, cell.coordinate)] = cell.value
    return cells


def compare_packs(before: Path, after: Path) -> tuple[list[str], int]:
    problems, volatile = [], 0
    for old in sorted(before.glob("*/*/datapakke-*.xlsx")):
        new = after / old.relative_to(before)
        if not new.exists():
            problems.append(f"missing: {new}")
            continue
        a, b = _cells(old), _cells(new)
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key), b.get(key)
            if va == vb:
                continue
            if isinstance(va, str) and isinstance(vb, str) and _VOLATILE_TEXT.search(va):
                volatile += 1
                continue
            problems.append(f"{new.name} {key}: {va!r} -> {vb!r}")
    return problems, volatile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    mart_problems = compare_marts(args.before, args.after)
    pack_problems, volatile = compare_packs(args.before, args.after)
    marts = len(list(args.before.glob("*/*/mart.duckdb")))
    packs = len(list(args.before.glob("*/*/datapakke-*.xlsx")))
    for line in mart_problems + pack_problems[:200]:
        print(line)
    print(
        f"{marts} marts, {packs} packs compared: {len(mart_problems)} mart differences, "
        f"{len(pack_problems)} cell differences ({volatile} build-time/version cells ignored)"
    )
    return 1 if mart_problems or pack_problems else 0


if __name__ == "__main__":
    sys.exit(main())
