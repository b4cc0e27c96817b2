"""One measured aggregation in a fresh process, printing JSON with seconds and peak memory.

Run by ``benchmarks/run.py`` as ``python -m benchmarks.scale_worker MODE FILE``; a fresh process
per measurement so peak memory (ru_maxrss) belongs to that measurement alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet  # noqa: F401  (imported before the floor is read, for every path alike)

from datapakke.raw.records import AGGREGATE_SQL, aggregate_contacts


def bare_duckdb(path: Path) -> int:
    """The floor: the same aggregation as one plain DuckDB query, nothing else."""
    con = duckdb.connect()
    try:
        relation = f"read_parquet('{path}')"
        return len(con.execute(AGGREGATE_SQL.format(relation=relation)).fetchall())
    finally:
        con.close()


def pandas_baseline(path: Path) -> int:
    """What a plain pandas script would do: load the columns, derive keys, group."""
    frame = pd.read_parquet(
        path, columns=["municipality_code", "contact_date", "age", "sex", "diagnosis_group"]
    )
    frame["year"] = pd.to_datetime(frame["contact_date"]).dt.year
    start = frame["age"] - frame["age"] % 5
    frame["age_band"] = (start.astype(str) + "-" + (start + 4).astype(str)).where(
        frame["age"] < 90, "90+"
    )
    frame["contact_type"] = (
        frame["diagnosis_group"]
        .map({"outpatient": "outpatient_visits", "emergency": "emergency_visits"})
        .fillna("somatic_admissions")
    )
    result = frame.groupby(
        ["municipality_code", "year", "sex", "age_band", "contact_type"], observed=True
    ).size()
    return len(result)


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    floor_mb = _status_mb("VmRSS")  # pandas, DuckDB and pyarrow imported, no data yet
    started = time.perf_counter()
    if mode == "project":
        rows = len(aggregate_contacts(path))
    elif mode == "duckdb":
        rows = bare_duckdb(path)
    elif mode == "pandas":
        rows = pandas_baseline(path)
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - started
    peak_mb = _status_mb("VmHWM")
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "floor_mb": floor_mb,
                "groups": rows,
            }
        )
    )


def _status_mb(field: str) -> float:
    """This process's own memory figure from /proc (VmHWM: peak, VmRSS: now).

    Why not ru_maxrss: it survives exec on Linux, so a worker started from a large parent
    would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
