"""Record-level hospital contacts (as a registry extract arrives) → the activity counts, in DuckDB.

A record-level extract can hold tens of millions of rows: it is aggregated by DuckDB straight
from the Parquet or CSV file, with a memory limit and spilling to disk, so it is never loaded
into pandas. Only the small aggregate (municipality × year × sex × age band × contact type)
comes back, written as a Danish CSV in the layout of the ``aktivitet`` source, so the rest of the
pipeline reads it exactly like an eSundhed export.

Expected columns: ``person_id, municipality_code, contact_date, age, sex ('M'/'K'),
diagnosis_group, is_acute, bed_days, is_readmitted``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

CONTACT_TYPES = {
    "somatic_admissions": "Somatiske indlæggelser",
    "emergency_visits": "Skadestuebesøg",
    "outpatient_visits": "Ambulante besøg",
}
OUTPUT_COLUMNS = ["Kommunekode", "År", "Køn", "Aldersgruppe", "Kontakttype", "Antal"]
REQUIRED = ["municipality_code", "contact_date", "age", "sex", "diagnosis_group", "is_acute"]


def _relation(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', header=true, auto_detect=true)"


AGGREGATE_SQL = """
SELECT lpad(CAST(municipality_code AS VARCHAR), 3, '0') AS municipality_code,
       CAST(year(CAST(contact_date AS DATE)) AS VARCHAR) AS year,
       sex,
       CASE WHEN age >= 90 THEN '90+'
            ELSE CAST(age - age % 5 AS VARCHAR) || '-' || CAST(age - age % 5 + 4 AS VARCHAR) END
           AS age_band,
       CASE WHEN diagnosis_group = 'outpatient' THEN 'outpatient_visits'
            WHEN diagnosis_group = 'emergency' THEN 'emergency_visits'
            ELSE 'somatic_admissions' END AS contact_type,
       count(*) AS contacts
FROM {relation}
GROUP BY ALL
"""


def aggregate_contacts(
    path: Path, memory_limit: str = "2GB", threads: int | None = None
) -> pd.DataFrame:
    """Count contacts by municipality × year × sex × age band × contact type (bounded memory).

    Past ``memory_limit`` DuckDB spills to a private temporary folder (removed afterwards), never
    to the working directory.
    """
    with tempfile.TemporaryDirectory(prefix="datapakke-spill-") as spill:
        return _aggregate(path, memory_limit, threads, Path(spill))


def _aggregate(path: Path, memory_limit: str, threads: int | None, spill: Path) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        con.execute(f"SET temp_directory = '{spill.as_posix()}'")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET threads = {threads or os.cpu_count() or 1}")
        con.execute("SET preserve_insertion_order = false")
        columns = [
            row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_relation(path)}").fetchall()
        ]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; found {columns}")
        return con.execute(AGGREGATE_SQL.format(relation=_relation(path))).df()
    finally:
        con.close()


def to_aktivitet_csv(aggregate: pd.DataFrame, out: Path) -> Path:
    """Write the aggregate as the ``aktivitet`` source's Danish CSV (atomically)."""
    frame = pd.DataFrame(
        {
            "Kommunekode": aggregate["municipality_code"],
            "År": aggregate["year"],
            "Køn": aggregate["sex"].map({"M": "Mænd", "K": "Kvinder"}),
            "Aldersgruppe": aggregate["age_band"],
            "Kontakttype": aggregate["contact_type"].map(CONTACT_TYPES),
            "Antal": aggregate["contacts"].astype(int).astype(str),
        }
    ).sort_values(OUTPUT_COLUMNS[:5])
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    frame.to_csv(temp, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    os.replace(temp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path, help="Parquet or CSV file of individual contacts")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="CSV to write (e.g. data/raw/esundhed/aktivitet-2025.csv)",
    )
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args(argv)
    try:
        aggregate = aggregate_contacts(args.extract, args.memory_limit)
    except (ValueError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    to_aktivitet_csv(aggregate, args.out)
    print(f"{len(aggregate)} aggregate rows written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
