"""Issue 15's performance budget, measured as operations meet it: each refresh is `make run`
(``python -m pipelines.run_all``) in a fresh process, with its own run history on disk, so the
figures include the process start and loading the code location, as a nightly run launched by
the daemon does.

    python -m benchmarks.incremental

1. **full**: every pack from the embedded sample into an empty marts folder;
2. **nothing changed**: the same again (the nightly refresh on a quiet night); every file under
   the marts folder is compared before and after (mtime and SHA-256);
3. **one changed source**: one count changed in one source file, then a refresh;
4. **one area from the UI**: the ``build_area`` job for one partition in a fresh process.

Peak memory is the largest resident set of any process of a refresh (``ru_maxrss`` of the
children). The section "Incremental refresh (issue 15)" of ``benchmarks/results.md`` is
replaced, its seconds kept as the table's "previous" column and the date of that run named;
the other sections are kept.

Drops: the changed source is the sample's psychiatry file dropped as
``data/raw/esundhed/psykiatri-2026.csv`` with one count revised.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.run import ONE_AREA, machine
from benchmarks.sections import RESULTS, replace_section
from datapakke.config import REPO_ROOT, SAMPLE_DIR

SECTION = "## Incremental refresh (issue 15)"
# The changed source: the sample's file dropped again with one count revised.
SAMPLE_FILE, DROP = Path("esundhed") / "psykiatri.csv", Path("esundhed") / "psykiatri-2026.csv"
BUDGET = {"full": 30.0, "nothing changed": 5.0, "one changed source": 20.0, "one area": 3.0}
BUDGET_PEAK_MB = 1024


@dataclass
class Measured:
    case: str
    seconds: float
    peak_mb: float
    files_modified: int  # under the marts folder
    packs_rewritten: int
    note: str = ""


def file_states(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in folder.rglob("*")
        if path.is_file()
    }


def _modified(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def _packs(names: list[str]) -> int:
    return sum(1 for name in names if name.count("/") == 2 and name.endswith(".xlsx"))


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, the peak memory (MB) of the command's processes, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    # ru_maxrss of children is the largest of any child so far: a new peak only if it grew.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, done.stdout


def drop_with_one_count_changed(sample: Path, drop: Path) -> None:
    """The sample file dropped as a new export whose last count is one higher (a revision)."""
    lines = sample.read_text(encoding="utf-8").splitlines()
    fields = lines[-1].split(";")
    fields[-1] = str(int(fields[-1]) + 1)
    lines[-1] = ";".join(fields)
    drop.parent.mkdir(parents=True, exist_ok=True)
    drop.write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(work: Path) -> list[Measured]:
    raw, marts, home = work / "raw", work / "marts", work / "dagster-home"
    shutil.copytree(SAMPLE_DIR, raw / "sample")
    marts.mkdir()
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DATAPAKKE_RAW_DIR": str(raw),
        "DATAPAKKE_MARTS_DIR": str(marts),
        "DAGSTER_HOME": str(home),
    }
    refresh = [sys.executable, "-m", "pipelines.run_all"]
    results = []

    def run(case: str, command: list[str], note: str = "") -> None:
        before = file_states(marts)
        seconds, peak, _ = _timed(command, env)
        modified = _modified(before, file_states(marts))
        results.append(Measured(case, seconds, peak, len(modified), _packs(modified), note))
        print(f"  {case}: {seconds:.1f} s, {len(modified)} files modified", file=sys.stderr)

    run("full", refresh, "into an empty marts folder")
    run("nothing changed", refresh, "the nightly refresh on a quiet night")
    drop_with_one_count_changed(raw / "sample" / SAMPLE_FILE, raw / DROP)
    run("one changed source", refresh, f"{DROP.as_posix()} dropped: the sample's, one count + 1")
    # The area's pack drawn and written again (its snapshot removed, as after an upgrade), so
    # the run does the work an analyst waits for, not only the check that nothing changed.
    grouping, _, area_id = ONE_AREA.partition(".")
    for snapshot in (marts / grouping / area_id).glob("datapakke-*.parquet"):
        snapshot.unlink()
    area = FRESH_AREA_RUN.format(key=ONE_AREA)
    run("one area", [sys.executable, "-c", area], f"build_area for {ONE_AREA}, pack redrawn")
    return results


FRESH_AREA_RUN = """
import dagster as dg
from pipelines.definitions import defs
result = defs.resolve_job_def("build_area").execute_in_process(
    instance=dg.DagsterInstance.get(), partition_key="{key}")
assert result.success
"""


def previous_run(results_text: str) -> tuple[str, dict[str, str]]:
    """The date and each case's seconds of the run recorded in results.md ("", {} if none)."""
    start = results_text.find(SECTION)
    if start < 0:
        return "", {}
    end = results_text.find("\n## ", start + len(SECTION))
    text = results_text[start : end if end >= 0 else None]
    when = re.search(r"incremental`, (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", text)
    seconds = {
        row.group(1): row.group(2)
        for row in re.finditer(r"^\| ([a-z ]+) \| ([\d.]+) \|", text, re.M)
        if row.group(1) in BUDGET
    }
    return (when.group(1) if when else ""), seconds


def section(
    results: list[Measured], started: datetime, previous: tuple[str, dict[str, str]]
) -> str:
    when, before = previous
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.incremental`, {started:%Y-%m-%d %H:%M} UTC, on {machine()}. "
        "Each refresh is `make run` in a fresh process (process start and code location "
        "included), with a run history on disk; files modified are counted under the marts "
        "folder by mtime and SHA-256. Previous: the seconds of the run recorded here before "
        f"({when or 'none'}).",
        "",
        "| refresh | seconds | previous | budget | met? | peak MB | files modified "
        "| packs rewritten | what |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        budget = BUDGET[r.case]
        met = "yes" if r.seconds <= budget and r.peak_mb <= BUDGET_PEAK_MB else "**no**"
        lines.append(
            f"| {r.case} | {r.seconds:.1f} | {before.get(r.case, '')} | ≤ {budget:g} | {met} | "
            f"{r.peak_mb:.0f} | {r.files_modified} | {r.packs_rewritten} | {r.note} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="datapakke-incremental-") as tmp:
        results = measure(Path(tmp))
    previous = previous_run(RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "")
    text = section(results, started, previous)
    print(text)
    replace_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
