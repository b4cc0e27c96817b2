"""`make bench`: time the pipeline and its peers, print a table, write benchmarks/results.md.

1. Full refresh on the sample, stage by stage in a plain loop, and the same through Dagster
   (``refresh_all`` in process) to measure what orchestration adds. Each is run twice,
   alternating, each time into an empty marts folder; the faster run of each counts.
2. Packs: build time of every pack in the refresh, one area alone (plain and through the
   ``build_area`` job), and the drawing time of each kind of chart.
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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.sections import replace_sections
from datapakke.config import REPO_ROOT, SAMPLE_DIR, Settings, get_settings

ONE_AREA = "klynge2022.nordjylland-midt"
ROUNDS = 2


@dataclass
class Stage:
    """One step of the refresh: its wall time and the parts it is made of."""

    name: str
    seconds: float
    parts: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class Refresh:
    """What the full-refresh runs measured."""

    stages: list[Stage]  # of the faster plain-loop run
    loop_totals: list[float]
    dagster_totals: list[float]
    peak_mb: float
    packs: list = field(default_factory=list)  # PackReport of every area (faster loop run)

    @property
    def loop_best(self) -> float:
        return min(self.loop_totals)

    @property
    def dagster_best(self) -> float:
        return min(self.dagster_totals)

    @property
    def overhead_pct(self) -> float:
        return 100 * (self.dagster_best / self.loop_best - 1)


def peak_mb() -> float:
    """Peak resident memory of this process and of its largest finished child (pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def plain_loop(settings: Settings) -> tuple[list[Stage], list]:
    """``datapakke.pipeline.run_all``: the functions the assets and checks call, in a loop."""
    from datapakke.pipeline import run_all

    report = run_all(settings)
    sources, packs = report.sources, report.packs
    parts = {
        "ingest + validate": [
            ("read files (in 2 workers, summed)", sum(r.seconds.get("read", 0) for r in sources)),
            ("validate (in 2 workers, summed)", sum(r.seconds.get("validate", 0) for r in sources)),
            ("load the warehouse", sum(r.seconds.get("load", 0) for r in sources)),
        ],
        "indicators + disclosure": list(report.indicators.seconds.items()),
        "charts + packs": [
            ("charts (summed over the workers)", sum(r.chart_seconds for r in packs)),
            ("workbooks (summed over the workers)", sum(r.workbook_seconds for r in packs)),
        ],
    }
    stages = [Stage(name, s, parts.get(name, [])) for name, s in report.seconds.items()]
    return stages, packs


def through_dagster(marts: Path) -> float:
    """refresh_all in process, recorded in a run history on disk (SQLite) as `make run` does."""
    import dagster as dg

    from assets.partitions import ALL_AREAS_TAGS
    from pipelines.definitions import defs

    os.environ["DATAPAKKE_MARTS_DIR"] = str(marts)
    home = marts.with_name(f"{marts.name}-dagster-home")
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    started = time.perf_counter()
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=dg.DagsterInstance.from_config(str(home)),
        tags=ALL_AREAS_TAGS,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    elapsed = time.perf_counter() - started
    assert result.success, "refresh_all failed in the benchmark"
    return elapsed


def full_refresh(work: Path) -> Refresh:
    raw = work / "raw"
    shutil.copytree(SAMPLE_DIR, raw / "sample")
    os.environ["DATAPAKKE_RAW_DIR"] = str(raw)
    # Both sides start with the same modules imported (Dagster's definitions included), so
    # neither pays the imports the other has already paid.
    import datapakke.publish.charts
    import datapakke.publish.workbook  # noqa: F401
    import pipelines.definitions  # noqa: F401

    loops: list[tuple[float, list[Stage], list]] = []
    dagster_totals: list[float] = []
    for round_ in range(1, ROUNDS + 1):
        settings = replace(get_settings(), raw_dir=raw, marts_dir=work / f"marts-loop-{round_}")
        stages, packs = plain_loop(settings)
        total = sum(stage.seconds for stage in stages)
        loops.append((total, stages, packs))
        print(f"  plain loop, run {round_}: {total:6.1f} s")
        dagster_totals.append(through_dagster(work / f"marts-dagster-{round_}"))
        print(f"  Dagster,    run {round_}: {dagster_totals[-1]:6.1f} s")
    _, best_stages, best_packs = min(loops, key=lambda item: item[0])
    return Refresh(
        stages=best_stages,
        loop_totals=[total for total, _, _ in loops],
        dagster_totals=dagster_totals,
        peak_mb=peak_mb(),
        packs=best_packs,
    )


def one_area(work: Path) -> dict[str, object]:
    """One area's pack alone, and the time to draw each kind of chart (mean per chart)."""
    import dagster as dg

    from datapakke.publish import charts
    from datapakke.publish.area_mart import load_area_pack_data
    from datapakke.publish.stage import build_area_pack
    from pipelines.definitions import defs

    grouping, _, area_id = ONE_AREA.partition(".")
    marts = work / "marts-dagster-1"
    settings = replace(get_settings(), marts_dir=marts)
    started = time.perf_counter()
    build_area_pack(ONE_AREA, settings)
    pack_s = time.perf_counter() - started

    os.environ["DATAPAKKE_MARTS_DIR"] = str(marts)
    started = time.perf_counter()
    result = defs.resolve_job_def("build_area").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=ONE_AREA,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    job_s = time.perf_counter() - started
    assert result.success, "build_area failed in the benchmark"
    # As a run launched from the UI: a fresh process that loads the code location first.
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_RUN.format(key=ONE_AREA)],
        cwd=REPO_ROOT, env=dict(os.environ), check=True, capture_output=True,
    )  # fmt: skip
    fresh_s = time.perf_counter() - started

    pack = load_area_pack_data(settings.area_outputs(grouping, area_id).mart)
    ids = list(pack.catalogue["indicator_id"])
    kinds: dict[str, Callable[[str], object]] = {
        "indicator figure (trend + comparison + funnel)": lambda i: charts.indicator_figure(
            pack, i
        ),
        "trend": lambda i: charts.trend_chart(pack, i),
        "comparison": lambda i: charts.comparison_chart(pack, i),
        "funnel": lambda i: charts.funnel_chart(pack, i),
    }
    chart_ms: dict[str, float] = {}
    out = work / "bench-chart.png"
    for name, draw in kinds.items():
        started = time.perf_counter()
        for indicator_id in ids:
            charts.save_png(draw(indicator_id), out)
        chart_ms[name] = 1000 * (time.perf_counter() - started) / len(ids)
    for name, draw_one in (
        ("overview (spine chart)", lambda: charts.overview_chart(pack)),
        ("population pyramid", lambda: charts.population_pyramid(pack)),
    ):
        started = time.perf_counter()
        for _ in range(5):
            charts.save_png(draw_one(), out)
        chart_ms[name] = 1000 * (time.perf_counter() - started) / 5
    return {
        "pack_s": pack_s,
        "job_s": job_s,
        "fresh_s": fresh_s,
        "chart_ms": chart_ms,
        "indicators": len(ids),
    }


FRESH_PROCESS_RUN = """
import dagster as dg
from pipelines.definitions import defs
result = defs.resolve_job_def("build_area").execute_in_process(
    instance=dg.DagsterInstance.ephemeral(), partition_key="{key}")
assert result.success
"""


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
            runs = [_scale_run(mode, path) for _ in range(scale_repeats(rows))]
            measured = {**min(runs, key=lambda r: r["seconds"]), "rows": rows, "runs": len(runs)}
            results.append(measured)
            print(f"  {rows:>11,} rows {mode:8s} {measured['seconds']:7.2f} s "
                  f"{measured['peak_mb']:8.0f} MB (best of {len(runs)})")  # fmt: skip
        path.unlink()
    return results


def scale_repeats(rows: int) -> int:
    """Best of two where a run takes seconds; one run at 50 M (keeps `make bench` short)."""
    return 2 if rows <= 10_000_000 else 1


def _scale_run(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_worker", mode, str(path)],
        capture_output=True, text=True, cwd=REPO_ROOT, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node()} · {cpu} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB · "
        f"Python {platform.python_version()} · DuckDB {duckdb.__version__} · "
        f"load average {load:.2f} at the start"
    )


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def targets(refresh: Refresh | None, area: dict, scaled: list[dict]) -> list[str]:
    """The issue's targets against what was measured, each with met or not."""
    rows = []
    if refresh:
        rows += [
            (
                "full refresh of all packs from the sample < 60 s",
                f"{refresh.dagster_best:.1f} s through Dagster, {refresh.loop_best:.1f} s plain",
                refresh.dagster_best < 60,
            ),
            (
                "orchestration adds ≤ 15 % over a plain loop",
                f"{refresh.overhead_pct:+.0f} %",
                refresh.overhead_pct <= 15,
            ),
        ]
    if area:
        rows.append(
            (
                "one area's pack < 3 s",
                f"{area['pack_s']:.2f} s (charts + workbook); build_area job (mart + pack + "
                f"site) {area['job_s']:.2f} s, {area['fresh_s']:.2f} s in a fresh process",
                area["pack_s"] < 3,
            )
        )
    by = {(r["rows"], r["mode"]): r for r in scaled}
    for rows_n in sorted({r["rows"] for r in scaled}):
        project, floor, pandas = (by[(rows_n, m)] for m in ("project", "duckdb", "pandas"))
        vs_floor = project["seconds"] / floor["seconds"]
        faster = pandas["seconds"] / project["seconds"]
        leaner = pandas["peak_mb"] / project["peak_mb"]
        rows += [
            (f"{rows_n:,} rows: within 1.2× of bare DuckDB", f"{vs_floor:.2f}×", vs_floor <= 1.2),
            (f"{rows_n:,} rows: ≥ 4× faster than pandas", f"{faster:.1f}×", faster >= 4),
            (f"{rows_n:,} rows: ≥ 5× leaner than pandas", f"{leaner:.1f}×", leaner >= 5),
        ]
    if (50_000_000, "project") in by:
        peak = by[(50_000_000, "project")]["peak_mb"]
        rows.append(("50 M rows under 4 GB peak", f"{peak:,.0f} MB", peak < 4096))
    notes = []
    for rows_n in sorted({r["rows"] for r in scaled}):
        project, pandas = by[(rows_n, "project")], by[(rows_n, "pandas")]
        if pandas["peak_mb"] / project["peak_mb"] < 5:
            net = (pandas["peak_mb"] - pandas["floor_mb"]) / (
                project["peak_mb"] - project["floor_mb"]
            )
            notes.append(
                f"At {rows_n:,} rows the aggregation takes {project['seconds']:.2f} s (pandas "
                f"{pandas['seconds']:.2f} s) on top of the ~{project['floor_mb']:.0f} MB import "
                f"floor both paths share; above that floor the project path is {net:.1f}× "
                "leaner than pandas (see the last table)."
            )
    return [
        "## Targets (issue 7)",
        "",
        "| target | measured | met? |",
        "|---|---|---|",
        *[f"| {name} | {measured} | {_yes(ok)} |" for name, measured, ok in rows],
        "",
        *[line for note in notes for line in (note, "")],
    ]


def refresh_section(refresh: Refresh) -> list[str]:
    lines = [
        "## Full refresh on the embedded sample (all 44 packs)",
        "",
        f"Stages of the faster plain-loop run ({ROUNDS} runs each, alternating, each into an "
        "empty marts folder). The parts in italics are what the stage is made of; work done in "
        "the two worker processes is summed over both, so it can exceed the stage's wall time.",
        "",
        "| stage | seconds |",
        "|---|---:|",
        *[
            line
            for stage in refresh.stages
            for line in [
                f"| {stage.name} | {stage.seconds:.1f} |",
                *[f"| &nbsp;&nbsp;· {part} | *{s:.1f}* |" for part, s in stage.parts],
            ]
        ],
        f"| **total, plain loop** (runs: {', '.join(f'{t:.1f}' for t in refresh.loop_totals)}) "
        f"| **{refresh.loop_best:.1f}** |",
        "| **total through Dagster** (refresh_all, in process; runs: "
        f"{', '.join(f'{t:.1f}' for t in refresh.dagster_totals)}) | **{refresh.dagster_best:.1f}** |",
        f"| orchestration overhead | {refresh.overhead_pct:+.0f} % |",
        "",
        f"Peak memory (the benchmark process or its largest worker): {refresh.peak_mb:.0f} MB.",
        "",
    ]
    return lines


def packs_section(refresh: Refresh | None, area: dict) -> list[str]:
    lines = ["## Packs", ""]
    if refresh and refresh.packs:
        per_pack = {r.partition_key: r.chart_seconds + r.workbook_seconds for r in refresh.packs}
        slowest = max(per_pack, key=per_pack.get)
        lines += [
            "Every pack in the refresh (two workers side by side, so each is slower than alone):",
            "",
            "| packs | n | median s | max s | charts s (sum) | workbooks s (sum) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for label, keys in (
            ("clusters and councils", [k for k in per_pack if not k.startswith("region.")]),
            ("regions", [k for k in per_pack if k.startswith("region.")]),
        ):
            group = [r for r in refresh.packs if r.partition_key in keys]
            times = [per_pack[k] for k in keys]
            lines.append(
                f"| {label} | {len(group)} | {statistics.median(times):.2f} | {max(times):.2f} | "
                f"{sum(r.chart_seconds for r in group):.1f} | "
                f"{sum(r.workbook_seconds for r in group):.1f} |"
            )
        lines += ["", f"Slowest: {slowest} ({per_pack[slowest]:.2f} s).", ""]
    if area:
        lines += [
            f"One area alone ({ONE_AREA}): pack (charts + workbook) {area['pack_s']:.2f} s; "
            f"the `build_area` job for that partition (mart + pack + site) {area['job_s']:.2f} s "
            f"in this process, {area['fresh_s']:.2f} s in a fresh process that first loads the "
            "code location (as a run launched from the UI does).",
            "",
            f"Drawing and writing one chart (mean over the area's {area['indicators']} "
            "indicators, or 5 draws):",
            "",
            "| chart | ms |",
            "|---|---:|",
            *[f"| {name} | {ms:.0f} |" for name, ms in area["chart_ms"].items()],
            "",
        ]
    return lines


def scale_section(scaled: list[dict]) -> list[str]:
    lines = [
        "## Record-level aggregation (Parquet → indicator counts)",
        "",
        "Each measurement runs in a fresh process that imports pandas and DuckDB before any "
        "data is read (the floor); peak MB includes that floor, above floor is what the "
        "aggregation itself added. The targets are judged on the whole peak. Each path is the "
        "best of two runs up to 10 M rows and one run at 50 M.",
        "",
        "| rows | path | seconds | rows/s | peak MB | above floor MB | vs bare DuckDB | pandas ÷ project (time) | pandas ÷ project (memory) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by = {(r["rows"], r["mode"]): r for r in scaled}
    for (rows, mode), r in sorted(by.items()):
        floor = by[(rows, "duckdb")]["seconds"]
        project = by[(rows, "project")]
        pandas = by[(rows, "pandas")]
        ratio_t = f"{pandas['seconds'] / project['seconds']:.1f}×" if mode == "project" else ""
        ratio_m = f"{pandas['peak_mb'] / project['peak_mb']:.1f}×" if mode == "project" else ""
        lines.append(
            f"| {rows:,} | {mode} | {r['seconds']:.2f} | {rows / r['seconds']:,.0f} | "
            f"{r['peak_mb']:.0f} | {r['peak_mb'] - r['floor_mb']:.0f} | "
            f"{r['seconds'] / floor:.2f}× | {ratio_t} | {ratio_m} |"
        )
    return [*lines, ""]


def write_results(
    refresh: Refresh | None, area: dict, scaled: list[dict], started: datetime, seconds: float
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"`make bench`, {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} min in all, on "
        f"{machine()}.",
        "",
        *targets(refresh, area, scaled),
        *(refresh_section(refresh) if refresh else []),
        *packs_section(refresh, area),
        *(scale_section(scaled) if scaled else []),
    ]
    text = "\n".join(lines)
    replace_sections(text)  # the sections other benchmarks write are kept
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000,50000000")
    parser.add_argument("--scale-only", action="store_true", help="skip the refresh and pack runs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    started, clock = datetime.now(UTC), time.perf_counter()
    refresh, area = None, {}
    with tempfile.TemporaryDirectory(prefix="datapakke-bench-") as tmp:
        work = Path(tmp)
        if not args.scale_only:
            print("Full refresh …")
            refresh = full_refresh(work)
            print("One area …")
            area = one_area(work)
        print("Scale …")
        scaled = scale(work, sizes)
        print(write_results(refresh, area, scaled, started, time.perf_counter() - clock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
