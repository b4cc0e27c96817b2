"""`make bench`: time the pipeline and its peers, print a table, write benchmarks/results.md.

1. Full refresh on the sample, stage by stage in a plain loop, then the same through Dagster
   (``refresh_all`` in process) to measure what orchestration adds.
2. Packs: build time per pack and per chart for one area.
3. Scale: record-level contacts at 1 M / 10 M / 50 M rows in Parquet, aggregated by the
   project's DuckDB path, by a bare DuckDB query (the floor) and by plain pandas (the baseline),
   each in a fresh process so peak memory is its own.

Everything is written under a temporary folder; the real data/ is not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from datapakke.config import REPO_ROOT, SAMPLE_DIR, get_settings

RESULTS = REPO_ROOT / "benchmarks" / "results.md"


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def full_refresh(work: Path) -> tuple[list[tuple[str, float]], float]:
    from datapakke.geography import default_geography
    from datapakke.pipeline import (
        build_area_marts,
        build_area_packs,
        build_core_tables,
        build_indicator_values,
        ingest_source,
    )
    from datapakke.site import build_site
    from datapakke.sources.registry import load_registry

    raw = work / "raw"
    shutil.copytree(SAMPLE_DIR, raw / "sample")
    settings = replace(get_settings(), raw_dir=raw, marts_dir=work / "marts-loop")
    geo = default_geography()
    areas = list(geo.areas.values())
    stages: list[tuple[str, float]] = []

    def timed(name: str, func) -> None:
        started = time.perf_counter()
        func()
        stages.append((name, time.perf_counter() - started))

    timed("ingest + validate", lambda: [ingest_source(s, settings, geo) for s in load_registry()])
    timed("warehouse (core)", lambda: build_core_tables(settings))
    timed("indicators + disclosure + audit", lambda: build_indicator_values(settings, geo))
    timed("area marts", lambda: build_area_marts(areas, settings, geo))
    timed("charts + packs", lambda: build_area_packs([a.partition_key for a in areas], settings))
    timed("site", lambda: build_site(settings, geo))
    loop_total = sum(s for _, s in stages)

    os.environ["DATAPAKKE_RAW_DIR"] = str(raw)
    os.environ["DATAPAKKE_MARTS_DIR"] = str(work / "marts-dagster")
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.partitions import ALL_AREAS_TAGS

    started = time.perf_counter()
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=ALL_AREAS_TAGS
    )
    dagster_total = time.perf_counter() - started
    assert result.success
    stages.append(("TOTAL plain loop", loop_total))
    return stages, dagster_total


def one_pack(work: Path) -> dict[str, float]:
    from datapakke.charts import indicator_figure, save_png
    from datapakke.pipeline import build_area_pack
    from datapakke.publish import load_area_pack_data

    settings = replace(get_settings(), marts_dir=work / "marts-loop")
    key = "klynge2022.nordjylland-midt"
    started = time.perf_counter()
    build_area_pack(key, settings)
    pack_seconds = time.perf_counter() - started
    pack = load_area_pack_data(settings.area_dir("klynge2022", "nordjylland-midt") / "mart.duckdb")
    started = time.perf_counter()
    ids = list(pack.catalogue["indicator_id"])
    for indicator_id in ids:
        save_png(indicator_figure(pack, indicator_id), work / "bench-chart.png")
    chart_seconds = (time.perf_counter() - started) / len(ids)
    return {"pack_s": pack_seconds, "chart_s": chart_seconds}


GENERATE_SQL = """
COPY (
  SELECT i AS person_id,
         (ARRAY[{codes}])[1 + (hash(i) % {n_codes})::INT] AS municipality_code,
         DATE '2019-01-01' + INTERVAL ((hash(i * 7) % 2556)::INT) DAY AS contact_date,
         (hash(i * 13) % 100)::INT AS age,
         CASE WHEN hash(i * 17) % 2 = 0 THEN 'M' ELSE 'K' END AS sex,
         (ARRAY['medical', 'surgical', 'outpatient', 'outpatient', 'emergency'])
             [1 + (hash(i * 19) % 5)::INT] AS diagnosis_group,
         hash(i * 23) % 3 = 0 AS is_acute,
         (hash(i * 29) % 8)::INT AS bed_days,
         hash(i * 31) % 9 = 0 AS is_readmitted
  FROM range({rows}) t(i)
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""


def scale(work: Path, sizes: list[int]) -> list[dict]:
    from datapakke.geography import default_geography

    codes = ", ".join(f"'{c}'" for c in sorted(default_geography().municipalities))
    results = []
    for rows in sizes:
        path = work / f"contacts_{rows}.parquet"
        con = duckdb.connect()
        con.execute(GENERATE_SQL.format(codes=codes, n_codes=98, rows=rows, path=path))
        con.close()
        for mode in ("project", "duckdb", "pandas"):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.scale_worker", mode, str(path)],
                capture_output=True, text=True, cwd=REPO_ROOT, check=True,
            )  # fmt: skip
            measured = json.loads(out.stdout.strip().splitlines()[-1])
            measured["rows"] = rows
            results.append(measured)
            print(f"  {rows:>11,} rows {mode:8s} {measured['seconds']:7.2f} s "
                  f"{measured['peak_mb']:8.0f} MB")  # fmt: skip
        path.unlink()
    return results


def machine() -> str:
    return (
        f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB · "
        f"Python {platform.python_version()} · DuckDB {duckdb.__version__}"
    )


def write_results(stages, dagster_total, pack, scaled) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
    ]
    if stages:
        loop_total = dict(stages)["TOTAL plain loop"]
        lines += [
            "## Full refresh on the embedded sample (all 44 packs)",
            "",
            "| stage | seconds |",
            "|---|---:|",
            *[f"| {name} | {seconds:.1f} |" for name, seconds in stages],
            f"| TOTAL through Dagster (refresh_all, in process) | {dagster_total:.1f} |",
            f"| orchestration overhead | {100 * (dagster_total / loop_total - 1):+.0f} % |",
            "",
            f"Peak memory of the benchmark process and its workers: {peak_mb():.0f} MB.",
            "",
        ]
    if pack:
        lines += [
            "## Packs",
            "",
            f"One pack (klynge2022.nordjylland-midt: charts + workbook): {pack['pack_s']:.2f} s; "
            f"one indicator chart (three panels): {1000 * pack['chart_s']:.0f} ms.",
            "",
        ]
    lines += [
        "## Record-level aggregation (Parquet → indicator counts)",
        "",
        "Each measurement runs in a fresh process that imports pandas and DuckDB (about 200 MB "
        "before any data), so peak memory includes that floor for every path.",
        "",
        "| rows | path | seconds | rows/s | peak MB | vs bare DuckDB | pandas ÷ project (time) | pandas ÷ project (memory) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    by = {(r["rows"], r["mode"]): r for r in scaled}
    for (rows, mode), r in sorted(by.items()):
        floor = by[(rows, "duckdb")]["seconds"]
        project = by[(rows, "project")]
        ratio_t = (
            by[(rows, "pandas")]["seconds"] / project["seconds"] if mode == "project" else None
        )
        ratio_m = (
            by[(rows, "pandas")]["peak_mb"] / project["peak_mb"] if mode == "project" else None
        )
        lines.append(
            f"| {rows:,} | {mode} | {r['seconds']:.2f} | {rows / r['seconds']:,.0f} | "
            f"{r['peak_mb']:.0f} | {r['seconds'] / floor:.2f}× | "
            f"{f'{ratio_t:.1f}×' if ratio_t else ''} | {f'{ratio_m:.1f}×' if ratio_m else ''} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000,50000000")
    parser.add_argument("--scale-only", action="store_true", help="skip the refresh and pack runs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stages, dagster_total, pack = [], 0.0, {}
    with tempfile.TemporaryDirectory(prefix="datapakke-bench-") as tmp:
        work = Path(tmp)
        if not args.scale_only:
            print("Full refresh …")
            stages, dagster_total = full_refresh(work)
            print("One pack …")
            pack = one_pack(work)
        print("Scale …")
        scaled = scale(work, sizes)
        print(write_results(stages, dagster_total, pack, scaled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
