"""Issue 16's fault suite: inject the faults operations meet, print one table with a figure each.

    python -m benchmarks.faults            # everything (about an hour on the 2-core machine)
    python -m benchmarks.faults --short    # one kill point, a few bad inputs, clock, server

Every refresh runs in a scratch copy of the repository (:mod:`benchmarks.scratch`), never in the
real ``data/``. One undisturbed refresh is the baseline; each fault starts from a copy of it, so
"the previous packs" are the baseline's and "the same packs as an undisturbed run" means the
baseline's cell values. (A refresh does not rewrite a pack whose content is unchanged, so the
faults that must hit pack writing start from a copy without the packs' snapshots, and compare
with an undisturbed refresh from that same state: ``Baseline.prepared``.) The table's columns:

- **runs**: faults injected; **survived**: runs after which every guarantee held;
- **rows lost**: rows of the baseline's ``core`` tables (and published indicator rows) that are
  gone afterwards without being reported as quarantined or missing;
- **wrong figures published**: published numbers (area marts) that differ from the baseline's,
  or appeared from nowhere: a figure may be withheld (blank, with a note), never wrong;
- **message shown**: the terminal line the user reads (the first injection's, or the first
  that did not survive).

The full version writes the table into the section "Faults (issue 16)" of
``benchmarks/results.md``; ``tests/faults/`` runs the same injections as tests.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.scratch import RunResult, RunWatch, Scratch, kill_group, processes_of
from benchmarks.sections import replace_section
from datapakke.config import REPO_ROOT

SECTION = "## Faults (issue 16)"
BAD_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "bad"
RUN_TIMEOUT = 1800.0  # a refresh takes 100 s alone, up to 3x that when others use the machine
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# Under data/marts/: what a write in progress (or a killed one) looks like. ``.site.lock`` is
# the swap lock, there on purpose.
LEFTOVER_GLOBS = (".*.tmp-*", ".site.new-*", ".site.old-*")


def log(text: str) -> None:
    """Progress on stderr; stdout is kept for the one table."""
    print(f"[faults {datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    """One injected fault and whether every guarantee held afterwards."""

    fault: str  # the table row it counts in
    case: str  # this injection
    message: str  # what the user was shown
    problems: list[str] = field(default_factory=list)  # broken guarantees, empty = survived
    rows_lost: int = 0
    wrong_figures: int = 0
    seconds: float = 0.0

    @property
    def survived(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        verdict = "survived" if self.survived else "NOT survived: " + "; ".join(self.problems)
        return f"{self.fault} / {self.case}: {verdict} ({self.seconds:.0f} s)"


def _cell(text: str, limit: int = 190) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(outcomes: list[Outcome]) -> str:
    """One markdown row per fault, in the order first injected."""
    rows = [
        "| fault | runs | survived | rows lost | wrong figures published | message shown |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for fault in dict.fromkeys(o.fault for o in outcomes):
        group = [o for o in outcomes if o.fault == fault]
        failed = [o for o in group if not o.survived]
        shown = failed[0] if failed else group[0]
        message = f"{shown.case}: {shown.message}" if len(group) > 1 else shown.message
        if failed:
            message += f" — NOT survived: {'; '.join(failed[0].problems)}"
        rows.append(
            f"| {fault} | {len(group)} | {len(group) - len(failed)} | "
            f"{sum(o.rows_lost for o in group)} | {sum(o.wrong_figures for o in group)} | "
            f"{_cell(message)} |"
        )
    return "\n".join(rows)


def _journal(work: Path) -> dict[str, Outcome]:
    """Injections already measured in ``work`` (``--keep``): a suite killed from outside (the
    machine's memory watchdog did, three times) resumes where it stopped."""
    path = work / "journal.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return {json.loads(line)["key"]: Outcome(**json.loads(line)["outcome"]) for line in lines}


def attempt(
    outcomes: list[Outcome],
    fault: str,
    case: str,
    inject: Callable[[], Outcome],
    work: Path | None = None,
) -> None:
    """Run one injection; an error of the suite itself is recorded as not survived, not raised
    (one broken injection must not hide the other figures). With ``work``, an injection
    recorded there already is not run again, and a new one is recorded."""
    key = f"{fault} / {case}"
    done = _journal(work) if work else {}
    if key in done:
        outcomes.append(done[key])
        log(f"{done[key].describe()} (recorded earlier)")
        return
    started = time.perf_counter()
    try:
        outcome = inject()
    except Exception as error:  # the suite's own failure is a finding to show, not to hide
        outcome = Outcome(fault, case, "", [f"the injection failed: {type(error).__name__}: {error}"])  # fmt: skip
    outcome.seconds = time.perf_counter() - started
    outcomes.append(outcome)
    log(outcome.describe())
    if work:
        with (work / "journal.jsonl").open("a", encoding="utf-8") as journal:
            journal.write(json.dumps({"key": key, "outcome": asdict(outcome)}) + "\n")


# --------------------------------------------------------------------------- packs and data


_VOLATILE = (
    # "3. december 2026 kl. 14.43" (front page, footers) and ISO times (document properties)
    re.compile(rb"\d{1,2}\. [a-z]+ \d{4} kl\. \d{2}\.\d{2}( \(UTC\))?"),
    re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"),
)


def pack_print(path: Path) -> str:
    """A checksum of a pack's cell values (sheets and notes), blind to its build time.

    Two builds of the same data differ only in the build time they print, so the sheet XML with
    those times blanked is equal exactly when every cell is. Raises BadZipFile for a broken pack.
    """
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        if bad is not None:
            raise zipfile.BadZipFile(f"{path.name}: member {bad} fails its CRC")
        for name in sorted(archive.namelist()):
            if name.startswith(("xl/worksheets/", "xl/comments", "xl/sharedStrings")):
                data = archive.read(name)
                for pattern in _VOLATILE:
                    data = pattern.sub(b"<time>", data)
                digest.update(name.encode() + b"\0" + data)
    return digest.hexdigest()


def file_sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def opens_in_openpyxl(path: Path) -> str | None:
    """None if the pack opens normally and read-only (every row read); else why not."""
    from openpyxl import load_workbook

    try:
        load_workbook(path).close()
        book = load_workbook(path, read_only=True)
        try:
            for sheet in book.worksheets:
                for _ in sheet.iter_rows(values_only=True):
                    pass
        finally:
            book.close()
    except Exception as error:  # any failure to open is the finding
        return f"{path.name} does not open in openpyxl: {type(error).__name__}: {error}"
    return None


def opens_in_libreoffice(path: Path) -> str | None:
    """None if LibreOffice converts the pack (or is not installed); else why it could not.

    Excel itself is not available here; LibreOffice is the nearest independent reader.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [soffice, "--headless", "--convert-to", "csv", "--outdir", out, str(path)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not any(Path(out).iterdir()):
            return f"{path.name} does not open in LibreOffice: {done.stderr.strip()[-200:]}"
    return None


def find_leftovers(marts: Path) -> list[str]:
    """Temporary and half-written files under ``marts`` (none may be visible after a run)."""
    found = {p for pattern in LEFTOVER_GLOBS for p in marts.rglob(pattern)}
    return sorted(str(p.relative_to(marts)) for p in found)


def site_problems(marts: Path) -> list[str]:
    """The download page must link only files that exist in the site folder."""
    page = marts / "site" / "index.html"
    if not page.is_file():
        return ["the download page is missing"]
    links = re.findall(r'href="(packs/[^"#?]+)"', page.read_text(encoding="utf-8"))
    missing = [link for link in links if not (marts / "site" / link).is_file()]
    if missing:
        return [f"the download page links {len(missing)} missing files, e.g. {missing[0]}"]
    return []


def warehouse_problems(path: Path) -> list[str]:
    """The warehouse must open (read-only, as a notebook would) and answer."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("SELECT count(*) FROM core.observation").fetchone()
            con.execute("SELECT count(*) FROM mart.indicator_value").fetchone()
        finally:
            con.close()
    except Exception as error:  # any failure to open is the finding
        return [f"the warehouse does not open: {type(error).__name__}: {error}"]
    return []


_KEY = ("indicator_id", "role", "area_level", "grouping", "area_code", "period", "sex")
_FIGURES = ("value", "numerator", "denominator", "ci95_low", "ci95_high")


def forget_snapshots(scratch: Scratch) -> int:
    """Remove the packs' content snapshots, so the next refresh rebuilds every pack."""
    snapshots = list(scratch.marts.glob("*/*/datapakke-*.parquet"))
    for path in snapshots:
        path.unlink()
    return len(snapshots)


def forget_fingerprints(scratch: Scratch) -> None:
    """Make the next refresh read every source again, as after an upgrade from a warehouse
    without input fingerprints (a source whose file and registry entry are as last loaded is
    otherwise skipped, and a kill "during ingest" would hit a step with nothing to do)."""
    import duckdb

    con = duckdb.connect(str(scratch.warehouse))
    try:
        con.execute("UPDATE raw.source_file SET input_fingerprint = NULL")
    finally:
        con.close()


def published_figures(base_marts: Path, marts: Path) -> tuple[int, int, int]:
    """(wrong, withheld, vanished) published figures of every area mart against the baseline's.

    Wrong: a number that differs, or one that appeared where the baseline had none (no row, or
    a blank). Withheld:
    a number that became blank (allowed, with a note). Vanished: a row that is gone entirely.
    """
    import duckdb

    join = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in _KEY)
    differs = " OR ".join(
        f"(a.{c} IS NOT NULL AND b.{c} IS NOT NULL AND abs(a.{c} - b.{c}) > 1e-9 * greatest(1, abs(b.{c})))"
        for c in _FIGURES
    )
    wrong = withheld = vanished = 0
    con = duckdb.connect()
    try:
        for old in sorted(base_marts.glob("*/*/mart.duckdb")):
            new = marts / old.relative_to(base_marts)
            if not new.is_file():
                vanished += 1
                continue
            con.execute(f"ATTACH '{old}' AS b (READ_ONLY)")
            con.execute(f"ATTACH '{new}' AS a (READ_ONLY)")
            try:
                row = con.execute(
                    f"""
                    SELECT
                      count(*) FILTER (WHERE a.indicator_id IS NULL AND b.value IS NOT NULL),
                      count(*) FILTER (WHERE b.value IS NOT NULL AND a.indicator_id IS NOT NULL
                                         AND a.value IS NULL),
                      count(*) FILTER (WHERE a.value IS NOT NULL AND b.value IS NULL),
                      count(*) FILTER (WHERE {differs})
                    FROM b.indicator_value b FULL JOIN a.indicator_value a ON {join}
                    """
                ).fetchone()
            finally:
                con.execute("DETACH a")
                con.execute("DETACH b")
            vanished += row[0]
            withheld += row[1]
            wrong += row[2] + row[3]
    finally:
        con.close()
    return wrong, withheld, vanished


def rows_lost(base_warehouse: Path, warehouse: Path) -> int:
    """Baseline core rows gone from ``warehouse`` without a quarantine/missing record for them."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{base_warehouse}' AS b (READ_ONLY)")
        con.execute(f"ATTACH '{warehouse}' AS a (READ_ONLY)")
        observation = con.execute(
            """
            SELECT count(*) FROM b.core.observation o
            WHERE NOT EXISTS (
                SELECT 1 FROM a.core.observation x
                WHERE x.source_id = o.source_id AND x.measure_id = o.measure_id
                  AND x.municipality_code = o.municipality_code AND x.period = o.period
                  AND x.sex IS NOT DISTINCT FROM o.sex
                  AND x.age_band IS NOT DISTINCT FROM o.age_band)
              AND NOT EXISTS (
                SELECT 1 FROM a.raw.missing m
                WHERE m.measure_id = o.measure_id AND m.municipality_code = o.municipality_code
                  AND m.period = o.period)
            """
        ).fetchone()[0]
        population = con.execute(
            """
            SELECT count(*) FROM b.core.population o
            WHERE NOT EXISTS (
                SELECT 1 FROM a.core.population x
                WHERE x.municipality_code = o.municipality_code AND x.period = o.period
                  AND x.sex = o.sex AND x.age_band = o.age_band)
              AND NOT EXISTS (
                SELECT 1 FROM a.raw.missing m
                WHERE m.source_id = o.source_id AND m.municipality_code = o.municipality_code
                  AND m.period = o.period)
            """
        ).fetchone()[0]
    finally:
        con.close()
    return int(observation + population)


# --------------------------------------------------------------------------- the baseline


@dataclass
class Baseline:
    """One undisturbed refresh in a scratch copy: the packs every fault is measured against."""

    scratch: Scratch
    run: RunResult
    sha: dict[str, str]  # pack (relative to marts) → file checksum
    prints: dict[str, str]  # pack → cell-value checksum
    _controls: dict[tuple[bool, bool], Baseline] = field(default_factory=dict)

    @classmethod
    def build(cls, work: Path) -> Baseline:
        """The undisturbed refresh in ``work/baseline`` (reused when it is there already)."""
        if (earlier := _recorded_run(work / "baseline")) is not None:
            return cls.of(Scratch(work / "baseline"), earlier)
        shutil.rmtree(work / "baseline", ignore_errors=True)
        scratch = Scratch.create(work / "baseline")
        log("baseline: an undisturbed refresh in a scratch copy")
        run = _recorded(scratch)
        if run.code != 0:
            raise RuntimeError(f"the undisturbed refresh failed ({run.code}):\n{run.output}")
        packs = sorted(scratch.marts.glob("*/*/datapakke-*.xlsx"))
        smallest = min(packs, key=lambda p: p.stat().st_size)
        problem = opens_in_openpyxl(smallest)
        if problem:
            raise RuntimeError(f"a pack of the undisturbed refresh does not open: {problem}")
        log(f"baseline: {len(packs)} packs in {run.seconds:.0f} s")
        return cls.of(scratch, run)

    @classmethod
    def of(cls, scratch: Scratch, run: RunResult) -> Baseline:
        """The baseline of a scratch copy that has been refreshed undisturbed."""
        packs = sorted(scratch.marts.glob("*/*/datapakke-*.xlsx"))
        sha = {str(p.relative_to(scratch.marts)): file_sha(p) for p in packs}
        prints = {str(p.relative_to(scratch.marts)): pack_print(p) for p in packs}
        return cls(scratch, run, sha, prints)

    @property
    def marts(self) -> Path:
        return self.scratch.marts

    def clone(self, work: Path, name: str) -> Scratch:
        target = work / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        _unmount_under(target)  # a disk-full copy whose suite was killed keeps its tmpfs
        shutil.rmtree(target, ignore_errors=True)
        return self.scratch.clone(target)

    def prepared(
        self, work: Path, name: str, rebuild: bool = False, reload: bool = False
    ) -> Scratch:
        """A copy of the baseline to fault; with ``rebuild`` its packs, with ``reload`` its
        sources, are all built again by the next refresh.

        Why: a refresh leaves a pack whose content has not changed untouched and skips a source
        whose file is as last loaded (and with it core, the indicators and the area marts, whose
        inputs are then as last built), so a second run on the same data writes nothing, and a
        kill "while packs are written" or "during ingest" would hit nothing. The
        copy without the packs' snapshots, or without the sources' fingerprints, is the state
        after an upgrade from a version without them.
        """
        scratch = self.clone(work, name)
        if rebuild:
            forget_snapshots(scratch)
        if reload:
            forget_fingerprints(scratch)
        return scratch

    def control(self, work: Path, rebuild: bool = False, reload: bool = False) -> Baseline:
        """The undisturbed refresh from the same state as ``prepared`` (made once per state):
        what a faulted run from that state must end up publishing. Rebuilt packs say "changes
        unknown" on their changes sheet, so they are compared with this, not with the baseline.
        """
        if not (rebuild or reload):
            return self
        key = (rebuild, reload)
        if key not in self._controls:
            name = f"control{' rebuild' * rebuild}{' reload' * reload}"
            folder = work / name.replace(" ", "-")
            if (earlier := _recorded_run(folder)) is not None:
                self._controls[key] = Baseline.of(Scratch(folder), earlier)
                return self._controls[key]
            scratch = self.prepared(work, name, rebuild, reload)
            log(f"{name}: an undisturbed refresh from that state")
            run = _recorded(scratch)
            if run.code != 0:
                raise RuntimeError(f"the undisturbed {name} failed ({run.code}):\n{run.output}")
            self._controls[key] = Baseline.of(scratch, run)
        return self._controls[key]

    def pack_problems(
        self, marts: Path, open_at_most: int = 3, rebuilt_as: Baseline | None = None
    ) -> tuple[list[str], int]:
        """Every baseline pack present, whole and with the baseline's cell values (or, if
        rebuilt since, those of ``rebuilt_as``).

        Returns the problems and how many packs hold other bytes than the baseline's (rebuilt).
        A pack byte-identical to the baseline's opens as it did; of the rebuilt ones, the
        ``open_at_most`` written last are also opened in openpyxl (normal and read-only), and
        the last in LibreOffice when it is installed.
        """
        problems, rebuilt = [], []

        for relative, sha in self.sha.items():
            path = marts / relative
            if not path.is_file():
                problems.append(f"pack missing: {relative}")
                continue
            if file_sha(path) == sha:
                continue
            rebuilt.append(path)
            expected = {self.prints[relative]}
            expected |= {rebuilt_as.prints[relative]} if rebuilt_as else set()
            try:
                same = pack_print(path) in expected
            except (zipfile.BadZipFile, OSError) as error:
                problems.append(f"pack broken: {relative}: {error}")
                continue
            if not same:
                problems.append(f"pack cells differ from the undisturbed build: {relative}")
        rebuilt.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        problems += [p for path in rebuilt[:open_at_most] if (p := opens_in_openpyxl(path))]
        if rebuilt and open_at_most and (problem := opens_in_libreoffice(rebuilt[0])):
            problems.append(problem)
        return problems, len(rebuilt)

    def figures(self, scratch: Scratch) -> tuple[int, int, list[str]]:
        """(rows lost, wrong figures, problems) of ``scratch`` against the baseline."""
        wrong, _withheld, vanished = published_figures(self.marts, scratch.marts)
        lost = rows_lost(self.scratch.warehouse, scratch.warehouse) + vanished
        problems = [f"{lost} rows lost"] * bool(lost) + [f"{wrong} wrong figures"] * bool(wrong)
        return lost, wrong, problems

    def same_as_undisturbed(self, scratch: Scratch) -> tuple[int, int, list[str]]:
        """After a full refresh: marts and packs as the baseline's, nothing lost or left over."""
        from benchmarks.compare_builds import compare_marts

        problems = [f"mart differs: {line}" for line in compare_marts(self.marts, scratch.marts)]
        pack_problems, _ = self.pack_problems(scratch.marts, open_at_most=1)
        problems += pack_problems
        problems += [f"left over: {name}" for name in find_leftovers(scratch.marts)]
        problems += site_problems(scratch.marts)
        lost, wrong, figure_problems = self.figures(scratch)
        return lost, wrong, problems[:6] + figure_problems


def _recorded(scratch: Scratch) -> RunResult:
    """An undisturbed refresh, recorded beside its folder once it succeeded (for resuming)."""
    run = scratch.run(timeout=RUN_TIMEOUT)
    if run.code == 0:
        marker = scratch.root.with_name(scratch.root.name + ".json")
        marker.write_text(json.dumps(asdict(run)), encoding="utf-8")
    return run


def _recorded_run(folder: Path) -> RunResult | None:
    marker = folder.with_name(folder.name + ".json")
    if not (marker.is_file() and folder.is_dir()):
        return None
    return RunResult(**json.loads(marker.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- 1. kill -9


@dataclass(frozen=True)
class KillPoint:
    """Where to kill: when ``step`` has run ``delay`` seconds, and (if given) as soon as a
    file matching ``marker`` exists under data/marts (a write in progress)."""

    name: str
    step: str
    delay: float = 0.0
    marker: str | None = None
    main_only: bool = False  # kill only the main process (as the OOM killer does), not its group
    rebuild: bool = False  # start from a copy whose packs are all rebuilt (Baseline.prepared)
    reload: bool = False  # start from a copy whose sources are all read again


KILL_POINTS = (
    KillPoint("ingest", "raw_sources", delay=4, reload=True),
    KillPoint("core", "core_tables", delay=0.3, reload=True),
    KillPoint("indicators", "indicator_values", delay=8, reload=True),
    KillPoint(
        "area marts (a mart half written)",
        "area_mart",
        marker="*/*/.mart.duckdb.tmp-*.wal",
        reload=True,
    ),
    KillPoint("charts", "area_pack", delay=4, rebuild=True),
    KillPoint(
        "workbooks (a pack half written)",
        "area_pack",
        marker="*/*/.datapakke-*.tmp-*",
        rebuild=True,
    ),
    KillPoint("site (copies half made)", "download_site", marker=".site.new-*/packs", rebuild=True),
    KillPoint(
        "charts, main process only (OOM killer)", "area_pack", delay=4, main_only=True, rebuild=True
    ),
)
SHORT_KILL_POINTS = (KILL_POINTS[3],)  # a mart half written


def _reach(point: KillPoint, watch: RunWatch, process: subprocess.Popen[str], marts: Path) -> str:
    """Wait for the kill point; say where the run is (step and seconds into it)."""
    started = watch.wait_for_start(point.step, process, timeout=RUN_TIMEOUT)
    if started is None:
        return f"the run ended before {point.step} started"
    time.sleep(max(0.0, started + point.delay - time.time()))
    seen = point.marker is None
    while not seen and process.poll() is None:
        seen = any(marts.glob(point.marker))
        time.sleep(0.02)
    where = watch.current() or point.step
    note = "" if seen else f", {point.marker} never seen"
    return f"{where}, {time.time() - started:.1f} s in{note}"


def _orphans_after(scratch: Scratch, grace: float = 30.0) -> tuple[list[tuple[int, str]], float]:
    """Processes of the killed refresh still alive after ``grace`` seconds, and how long the
    last of them lived on (a pool worker may finish the area it was drawing first)."""
    started = time.time()
    while (alive := processes_of(scratch)) and time.time() < started + grace:
        time.sleep(0.25)
    return alive, time.time() - started


def kill_fault(base: Baseline, point: KillPoint, work: Path) -> Outcome:
    """``kill -9`` at ``point``; then: warehouse opens, previous packs whole, no orphans; the
    next run recovers by itself and publishes what an undisturbed run does, with no leftovers."""
    control = base.control(work, point.rebuild, point.reload)
    scratch = base.prepared(work, f"kill {point.name}", point.rebuild, point.reload)
    problems: list[str] = []
    try:
        with RunWatch(scratch) as watch, scratch.running() as process:
            where = _reach(point, watch, process, scratch.marts)
            if point.main_only:
                os.kill(process.pid, signal.SIGKILL)
            else:
                kill_group(process)
            process.communicate()
        orphans, lived = _orphans_after(scratch)
        if orphans:
            problems.append(f"{len(orphans)} orphan processes: {orphans[0][1][:60]}")
            for pid, _ in orphans:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        problems += warehouse_problems(scratch.warehouse)
        pack_problems, _ = base.pack_problems(scratch.marts, rebuilt_as=control)
        problems += pack_problems
        after = scratch.run(timeout=RUN_TIMEOUT)
        if after.code != 0 or after.has_traceback:
            problems.append(f"next run: exit {after.code}: {after.headline}")
        lost, wrong, more = control.same_as_undisturbed(scratch)
        first = after.output.strip().splitlines()[0] if after.output.strip() else ""
        after_kill = f"; workers gone {lived:.0f} s later" if point.main_only else ""
        message = f"killed in {where}{after_kill}; next run: {first}"
        return Outcome("kill -9 of the refresh", point.name, message, problems + more, lost, wrong)
    finally:
        scratch.remove()


# --------------------------------------------------------------------------- 2. readers


READER = """
import sys, time, duckdb
warehouse, mart, hold, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
deadline = time.time() + 600
while True:  # a notebook retrying until the refresh lets go of the warehouse for a moment
    try:
        con = duckdb.connect(warehouse, read_only=True)
        break
    except duckdb.IOException:
        if time.time() > deadline:
            raise
        time.sleep(0.05)
area = duckdb.connect(mart, read_only=True)
open(ready, "w").close()
queries, end = 0, time.time() + hold
while time.time() < end:
    con.execute("SELECT count(*) FROM core.observation").fetchone()
    area.execute("SELECT count(*) FROM indicator_value").fetchone()
    queries += 1
    time.sleep(0.2)
print(queries)
"""


@contextlib.contextmanager
def reader(scratch: Scratch, hold: float) -> Iterator[subprocess.Popen[str]]:
    """A notebook-style process with the warehouse and one area mart open read-only."""
    mart = next(iter(sorted(scratch.marts.glob("region/*/mart.duckdb"))))
    ready = scratch.root / "reader.ready"
    ready.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", READER, str(scratch.warehouse), str(mart), str(hold), str(ready)],
        cwd=scratch.root, env=scratch.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 600
        while not ready.exists() and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            kill_group(process)
        process.communicate()


def _reader_ok(process: subprocess.Popen[str]) -> list[str]:
    """The reader must have kept reading (killed by us at the end is fine; an error is not)."""
    if process.poll() is None or process.returncode in (0, -signal.SIGKILL):
        return []
    output = (process.stdout.read() if process.stdout else "") or ""
    return [f"the reader failed: {output.strip().splitlines()[-1:]}"]


def reader_before_fault(base: Baseline, work: Path) -> Outcome:
    """A reader has the warehouse and a mart open when `make run` starts: refuse at once."""
    scratch = base.clone(work, "reader before")
    try:
        with reader(scratch, hold=900) as held:
            run = scratch.run(timeout=RUN_TIMEOUT)
            problems = _reader_ok(held)
        if run.code == 0 or run.has_traceback or "open in another program" not in run.output:
            problems.append(f"exit {run.code}, not one clear line: {run.output[-200:]!r}")
        if run.seconds > 120:
            problems.append(f"took {run.seconds:.0f} s to refuse")
        pack_problems, rebuilt = base.pack_problems(scratch.marts)
        problems += pack_problems + [f"{rebuilt} packs rewritten"] * bool(rebuilt)
        lost, wrong, more = base.figures(scratch)
        return Outcome(
            "reader holding the marts open", "open before the refresh", run.headline,
            problems + more, lost, wrong,
        )  # fmt: skip
    finally:
        scratch.remove()


def reader_during_fault(base: Baseline, work: Path, step: str = "indicator_values") -> Outcome:
    """A reader opens the warehouse and a mart while ``step`` runs and keeps them open: the
    refresh waits or fails with one clear line; nothing is corrupted either way."""
    scratch = base.prepared(work, f"reader during {step}", reload=True)  # so the step has work
    problems: list[str] = []
    try:
        with RunWatch(scratch) as watch, scratch.running() as process:
            watch.wait_for_start(step, process, timeout=RUN_TIMEOUT)
            with reader(scratch, hold=RUN_TIMEOUT) as held:
                output, _ = process.communicate(timeout=RUN_TIMEOUT)
                problems += _reader_ok(held)
        run = RunResult(process.returncode, output, 0.0)
        problems += warehouse_problems(scratch.warehouse)
        if run.has_traceback:
            problems.append("a traceback on the terminal")
        if run.code == 0:
            lost, wrong, more = base.same_as_undisturbed(scratch)
        else:
            if "open in another program" not in run.output:
                problems.append(f"no clear line: {run.output[-200:]!r}")
            pack_problems, _ = base.pack_problems(scratch.marts)
            problems += pack_problems + [f"left over: {n}" for n in find_leftovers(scratch.marts)]
            lost, wrong, more = base.figures(scratch)
        message = " ".join([run.headline, *run.problems[:1]])
        return Outcome(
            "reader holding the marts open", f"opened during {step}", message, problems + more,
            lost, wrong,
        )  # fmt: skip
    finally:
        scratch.remove()


def second_run_fault(base: Baseline, work: Path) -> Outcome:
    """A second `make run` while one runs: it refuses at once; the first finishes as usual."""
    scratch = base.prepared(work, "second run", reload=True)  # so area_mart has work to do
    problems: list[str] = []
    try:
        with RunWatch(scratch) as watch, scratch.running() as first:
            watch.wait_for_start("area_mart", first, timeout=RUN_TIMEOUT)
            second = scratch.run(timeout=RUN_TIMEOUT)
            output, _ = first.communicate(timeout=RUN_TIMEOUT)
        if second.code != 2 or "another refresh" not in second.output or second.has_traceback:
            problems.append(f"second run: exit {second.code}: {second.output[-200:]!r}")
        if second.seconds > 120:
            problems.append(f"the second run took {second.seconds:.0f} s to refuse")
        if first.returncode != 0:
            problems.append(f"the first run failed: {output[-200:]!r}")
        lost, wrong, more = base.same_as_undisturbed(scratch)
        return Outcome(
            "second make run while one runs", "started during area_mart", second.headline,
            problems + more, lost, wrong,
        )  # fmt: skip
    finally:
        scratch.remove()


# --------------------------------------------------------------------------- 3. disk full


def _unmount_under(folder: Path) -> None:
    """Unmount every file system mounted inside ``folder`` (none, normally)."""
    mounts = Path("/proc/mounts").read_text().splitlines() if Path("/proc/mounts").exists() else []
    for line in mounts:
        point = Path(line.split()[1])
        if point.is_relative_to(folder):
            subprocess.run(["umount", "-l", str(point)], check=False)


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    with tempfile.TemporaryDirectory() as probe:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe],
            capture_output=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            return False
        subprocess.run(["umount", probe], check=False)
    return True


@contextlib.contextmanager
def small_disk(marts: Path, headroom_mb: int) -> Iterator[None]:
    """data/marts moved onto a tmpfs with ``headroom_mb`` free beyond what it holds."""
    used = sum(p.stat().st_size for p in marts.rglob("*") if p.is_file()) // 2**20
    aside = marts.with_name("marts.aside")
    marts.rename(aside)
    marts.mkdir()
    size = f"size={used + headroom_mb}m"
    subprocess.run(["mount", "-t", "tmpfs", "-o", size, "tmpfs", str(marts)], check=True)
    try:
        subprocess.run(["cp", "-a", f"{aside}/.", str(marts)], check=True)
        shutil.rmtree(aside)
        yield
    finally:
        subprocess.run(["umount", "-l", str(marts)], check=False)


def fill_disk(folder: Path) -> Path:
    """Write zeros into ``folder`` until the file system is full, to the last byte; returns
    the filler (unbuffered, so nothing is left to fail on close)."""
    filler = folder / "fault-filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        size = 1 << 20
        while size >= 1:
            try:
                os.write(fd, b"\0" * size)
            except OSError:
                size //= 2
    finally:
        os.close(fd)
    return filler


def disk_full_fault(base: Baseline, work: Path, full: bool = True) -> Outcome:
    """The disk fills up while charts and packs are written: the run stops with a clear line,
    every previous pack stays whole, nothing half-written is left; with room again, the next
    run publishes as usual."""
    control = base.control(work, rebuild=True)
    scratch = base.prepared(work, "disk full", rebuild=True)  # every pack is written again
    problems: list[str] = []
    try:
        if not _can_mount():
            return _disk_full_by_rlimit(base, scratch)
        with small_disk(scratch.marts, headroom_mb=1500):
            with RunWatch(scratch) as watch, scratch.running() as process:
                watch.wait_for_start("area_pack", process, timeout=RUN_TIMEOUT)
                time.sleep(2)
                filler = fill_disk(scratch.marts)
                output, _ = process.communicate(timeout=RUN_TIMEOUT)
            run = RunResult(process.returncode, output, 0.0)
            if run.code == 0 or run.has_traceback or "space" not in run.output.lower():
                problems.append(f"exit {run.code}, not one clear line: {run.output[-300:]!r}")
            pack_problems, _ = base.pack_problems(scratch.marts, rebuilt_as=control)
            problems += pack_problems
            problems += [f"left over: {n}" for n in find_leftovers(scratch.marts)]
            problems += warehouse_problems(scratch.warehouse)
            lost, wrong = 0, 0
            filler.unlink()
            if full:
                after = scratch.run(timeout=RUN_TIMEOUT)
                if after.code != 0:
                    problems.append(f"with room again, the next run failed: {after.headline}")
                lost, wrong, more = control.same_as_undisturbed(scratch)
                problems += more
        message = " ".join([run.headline, *run.problems[:1]])
        return Outcome(
            "disk full while packs are written", "tmpfs filled during area_pack", message,
            problems, lost, wrong,
        )  # fmt: skip
    finally:
        scratch.remove()


def _disk_full_by_rlimit(base: Baseline, scratch: Scratch) -> Outcome:
    """Without root (no tmpfs): RLIMIT_FSIZE on the refresh, so no file may grow past 1 MB
    beyond the biggest pack; a write past it fails (EFBIG) as a full disk's would (ENOSPC)."""
    import resource

    limit = max(p.stat().st_size for p in scratch.marts.glob("*/*/datapakke-*.xlsx")) // 2

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    scratch.prepare()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.run_all"], cwd=scratch.root, env=scratch.env(),
        capture_output=True, text=True, timeout=RUN_TIMEOUT, preexec_fn=limited, check=False,
    )  # fmt: skip
    run = RunResult(done.returncode, done.stdout + done.stderr, 0.0)
    problems = []
    if run.code == 0 or run.has_traceback:
        problems.append(f"exit {run.code}, not one clear line: {run.output[-300:]!r}")
    pack_problems, _ = base.pack_problems(scratch.marts)
    problems += pack_problems + [f"left over: {n}" for n in find_leftovers(scratch.marts)]
    return Outcome(
        "disk full while packs are written", f"RLIMIT_FSIZE {limit} bytes (no root)",
        run.headline, problems,
    )  # fmt: skip


# --------------------------------------------------------------------------- 4. clock edges


def dst_ticks(first: date, last: date) -> list[datetime]:
    """The nightly schedule's ticks from ``first`` to ``last``, as Dagster's daemon computes them."""
    from dagster._utils.schedules import schedule_execution_time_iterator

    from pipelines.schedules import nightly_refresh

    tz = ZoneInfo(nightly_refresh.execution_timezone or "UTC")
    start = datetime.combine(first, datetime.min.time(), tz).timestamp()
    ticks = []
    for tick in schedule_execution_time_iterator(
        start, nightly_refresh.cron_schedule, nightly_refresh.execution_timezone
    ):
        if tick.astimezone(tz).date() > last:
            return ticks
        ticks.append(tick)
    return ticks


DST_CHANGES = (date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31))


def dst_fault() -> Outcome:
    """Across the DST changes of 2026 and 2027: one nightly run per day, none lost, none
    doubled, one run key each; and a daemon (re)started at any minute of a DST night picks the
    same next tick as one that ran all along."""
    import dagster as dg

    from pipelines.schedules import nightly_refresh

    problems: list[str] = []
    ticks = dst_ticks(date(2026, 1, 1), date(2027, 12, 31))
    days = [tick.astimezone(COPENHAGEN).date() for tick in ticks]
    expected = [date(2026, 1, 1) + timedelta(days=n) for n in range((date(2028, 1, 1) - date(2026, 1, 1)).days)]  # fmt: skip
    if days != expected:
        lost = sorted(set(expected) - set(days))
        doubled = sorted({d for d in days if days.count(d) > 1})
        problems.append(f"days without a run: {lost[:3]}; days with two: {doubled[:3]}")
    keys = set()
    for tick in ticks:
        if tick.astimezone(COPENHAGEN).date() not in {*DST_CHANGES, *(d + timedelta(1) for d in DST_CHANGES), *(d - timedelta(1) for d in DST_CHANGES)}:  # fmt: skip
            continue
        request = nightly_refresh.evaluate_tick(
            dg.build_schedule_context(scheduled_execution_time=tick)
        )
        keys |= {r.run_key for r in request.run_requests or []}
    if len(keys) != 3 * len(DST_CHANGES):
        problems.append(f"{len(keys)} distinct run keys for {3 * len(DST_CHANGES)} nights")
    for day in DST_CHANGES:
        midnight = datetime.combine(day, datetime.min.time(), COPENHAGEN)
        for minutes in range(0, 6 * 60, 5):  # a restart at every 5 minutes from 00:00 to 06:00
            restart = midnight.timestamp() + minutes * 60
            want = next(t for t in ticks if t.timestamp() >= restart)
            got = dst_ticks_from(restart)
            if got != want:
                problems.append(f"restart at {datetime.fromtimestamp(restart, COPENHAGEN)}: {got} != {want}")  # fmt: skip
                break
    shown = [
        f"{t.astimezone(COPENHAGEN):%Y-%m-%d %H:%M %Z}"
        for t in ticks
        if t.astimezone(COPENHAGEN).date() in DST_CHANGES
    ]
    message = f"{len(ticks)} nights, one run each; on the DST nights: {', '.join(shown)}"
    return Outcome("clock: nightly schedule across DST", "2026-2027", message, problems)


def dst_ticks_from(timestamp: float) -> datetime:
    """The first tick at or after ``timestamp`` (a daemon started then)."""
    from dagster._utils.schedules import schedule_execution_time_iterator

    from pipelines.schedules import nightly_refresh

    return next(
        schedule_execution_time_iterator(
            timestamp, nightly_refresh.cron_schedule, nightly_refresh.execution_timezone
        )
    )


class _Clock:
    """A settable ``datetime`` for the modules whose ``datetime.now`` a refresh reads."""

    now_value: datetime = datetime(2000, 1, 1, tzinfo=UTC)

    @classmethod
    def install(cls, moment: datetime) -> type[datetime]:
        cls.now_value = moment

        class Fake(datetime):
            @classmethod
            def now(cls_, tz=None):
                value = _Clock.now_value
                return value.astimezone(tz) if tz else value.astimezone().replace(tzinfo=None)

        return Fake


def midnight_fault(work: Path) -> Outcome:
    """A refresh that runs past midnight: the marts are stamped before it, the pack written and
    the page built after. Every date a reader sees for one pack (front page, footers, document
    properties, history name, download page) must say the same moment.

    Tried at local midnight (New Year's Eve, Copenhagen) and at UTC midnight (01:00 local), with
    the project's own writers: only the clock is faked.
    """
    from unittest import mock

    from openpyxl import load_workbook

    from datapakke.config import get_settings
    from datapakke.publish.site import build as site_build
    from datapakke.publish.site.page import format_datetime_da
    from datapakke.publish.workbook import publish_pack
    from datapakke.publish.workbook.values import danish_time
    from tests.publish.pack_fixture import make_area_pack_data

    problems: list[str] = []
    shown: list[str] = []
    cases = {
        "local midnight": datetime(2026, 12, 31, 23, 59, 50, tzinfo=COPENHAGEN),
        "UTC midnight": datetime(2027, 1, 1, 0, 59, 50, tzinfo=COPENHAGEN),
    }
    for name, before in cases.items():
        root = work / f"midnight-{name.split()[0].lower()}"
        shutil.rmtree(root, ignore_errors=True)
        settings = replace(get_settings(), marts_dir=root / "marts")
        built = before.astimezone(UTC)
        builds = [built, built + timedelta(seconds=70)]  # tonight's run, then the next one
        for moment in builds:
            pack = replace(make_area_pack_data("klynge2022", "bornholm"), built_at=moment)
            outputs = settings.area_outputs(pack.grouping, pack.area_id)
            _write_stamp_mart(outputs.mart, moment)
            publish_pack(pack, {}, outputs, history_keep=10)
            after = moment + timedelta(seconds=50)  # the page is built after midnight
            with mock.patch.object(site_build, "datetime", _Clock.install(after)):
                site_build.build_site(settings, workers=1)
        want = danish_time(built)
        history = sorted(outputs.history_dir.glob("*.xlsx"))
        stamp = outputs.history_stamp(history[0].name) if history else None
        book = load_workbook(history[0]) if history else None
        front = [c.value for row in book.worksheets[0].iter_rows() for c in row] if book else []
        footers = {ws.oddFooter.right.text for ws in book.worksheets} if book else set()
        created = book.properties.created if book else None
        page = (settings.site_dir / "index.html").read_text(encoding="utf-8")
        seen = {
            "history name": danish_time(stamp) if stamp else None,
            "front page": want if want in front else f"not {want!r}",
            "footers": footers.pop() if len(footers) == 1 else f"{len(footers)} different",
            "document created": danish_time(created.replace(tzinfo=UTC)) if created else None,
        }
        for where, text in seen.items():
            if text != want and not (where == "footers" and text == f"Dannet {want}"):
                problems.append(f"{name}: {where} says {text!r}, not {want!r}")
        # The page dates the latest pack and the earlier one by their marts, not by the clock.
        latest, earlier = format_datetime_da(builds[1]), format_datetime_da(builds[0])
        for text in (f"· bygget {latest}</span>", f">{earlier}</a>"):
            if text not in page:
                problems.append(f"{name}: the download page lacks {text!r}")
        shown.append(f"{name}: {want}")
    return Outcome(
        "clock: refresh running past midnight", "local and UTC midnight",
        "every date of the pack says the marts' moment (" + "; ".join(shown) + ")", problems,
    )  # fmt: skip


def _write_stamp_mart(path: Path, built_at: datetime) -> None:
    """The smallest area mart the download page reads: synthetic, built at ``built_at``."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "CREATE TABLE area AS SELECT true AS is_synthetic, ?::TIMESTAMPTZ AS built_at",
            [built_at],
        )
        con.execute("CREATE TABLE source (source_id TEXT, title TEXT, publisher TEXT, caveat_da TEXT)")  # fmt: skip
    finally:
        con.close()


# --------------------------------------------------------------------------- 5. bad input


PSYKIATRI = "esundhed/psykiatri.csv"  # the sample file the CSV fixtures are transplanted into
AELDRE = "esundhed/aeldre.xlsx"


def _lines(sample: Path) -> list[str]:
    return (sample / PSYKIATRI).read_text(encoding="utf-8-sig").splitlines()


def _join(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _set_field(lines: list[str], row: int, column: int, value: str) -> list[str]:
    """``lines`` with field ``column`` of 1-based file row ``row`` set to ``value``."""
    fields = lines[row - 1].split(";")
    fields[column] = value
    return [*lines[: row - 1], ";".join(fields), *lines[row:]]


def _truncated(lines: list[str]) -> bytes:
    last = lines[-1].split(";")
    return ("\n".join([*lines[:-1], ";".join(last[:3])[:-2]])).encode("utf-8")


def _ragged(lines: list[str]) -> bytes:
    """Comma-separated, and one value with an unquoted decimal comma: a field too many."""
    return _join([line.replace(";", ",") for line in _set_field(lines, 3, -1, "12,5")])


def _formula(lines: list[str]) -> bytes:
    formulas = ['"=HYPERLINK(""http://example.com/x"";""Frederiksberg"")"', "+45 1234", "-1+2", "@SUM(A1)"]  # fmt: skip
    for row, text in zip(range(3, 7), formulas, strict=True):
        lines = _set_field(lines, row, 1, text)
    return _join(lines)


@dataclass(frozen=True)
class BadDrop:
    """A fixture's fault, carried into the file of the source it would reach in real life."""

    fixture: str  # file name in tests/fixtures/bad
    drop: str  # where it is dropped, under data/raw
    make: Callable[[Path], bytes]  # the sample folder → the dropped file's bytes


def _fixture(name: str) -> Callable[[Path], bytes]:
    """The fixture's own bytes (files that are not a table: a picture, an HTML page, workbooks)."""
    return lambda _sample: (BAD_FIXTURES / name).read_bytes()


def _half_workbook(sample: Path) -> bytes:
    data = (sample / AELDRE).read_bytes()
    return data[: len(data) // 2]


def _text_in_numbers(lines: list[str]) -> bytes:
    for row, text in ((3, "ca. 40"), (4, "mange"), (5, "12,3,4")):
        lines = _set_field(lines, row, -1, text)
    return _join(lines)


def _csv(name: str, make: Callable[[list[str]], bytes]) -> BadDrop:
    """A fixture whose fault is carried into the full psychiatry file (8,624 rows)."""
    return BadDrop(name, "esundhed/psykiatri-2026.csv", lambda sample: make(_lines(sample)))


def _appended(row: int, column: int, value: str) -> Callable[[list[str]], bytes]:
    """The whole file plus a copy of ``row`` with one field changed (no good row goes)."""
    return lambda lines: _join([*lines, _set_field(lines, row, column, value)[row - 1]])


def _changed(row: int, column: int, value: str) -> Callable[[list[str]], bytes]:
    return lambda lines: _join(_set_field(lines, row, column, value))


XLSX_DROP, XLS_DROP = "esundhed/aeldre-2026.xlsx", "esundhed/aeldre-2026.xls"
BAD_DROPS = (
    _csv("empty.csv", lambda lines: b""),
    _csv("header_only.csv", lambda lines: _join(lines[:1])),
    _csv("truncated.csv", _truncated),
    _csv("utf16.csv", lambda lines: "\n".join(lines).replace(";", "\t").encode("utf-16")),
    _csv("utf16_no_bom.csv", lambda lines: "\n".join(lines).encode("utf-16-le")),
    BadDrop("binary_nul.csv", "esundhed/psykiatri-2026.csv", _fixture("binary_nul.csv")),
    _csv("wrong_delimiter.csv", lambda lines: _join([line.replace(";", " ") for line in lines])),
    BadDrop("html_error_page.csv", "esundhed/psykiatri-2026.csv", _fixture("html_error_page.csv")),
    _csv("mojibake.csv", lambda lines: _join(lines).decode("cp1252").encode("utf-8")),
    _csv("ragged_row.csv", _ragged),
    _csv("missing_column.csv", lambda lines: _join([line.rsplit(";", 1)[0] for line in lines])),
    _csv("renamed_column.csv", lambda lines: _join([lines[0] + " personer", *lines[1:]])),
    BadDrop("corrupt.xlsx", XLSX_DROP, _half_workbook),
    BadDrop("csv_renamed.xlsx", XLSX_DROP, lambda sample: (sample / PSYKIATRI).read_bytes()),
    BadDrop("old_format.xls", XLS_DROP, _fixture("old_format.xls")),
    BadDrop("missing_sheet.xlsx", XLSX_DROP, _fixture("missing_sheet.xlsx")),
    _csv("unknown_municipality.csv", _appended(3, 0, "999")),
    _csv("duplicate_rows.csv", lambda lines: _join([*lines[:3], lines[1], *lines[3:]])),
    _csv("negative_count.csv", _changed(3, -1, "-3")),
    _csv("text_in_number.csv", _text_in_numbers),
    _csv("future_period.csv", _appended(3, 2, "2031")),
    _csv("absurd_value.csv", _changed(3, -1, "9.999.999.999")),
    _csv("formula_injection.csv", _formula),
    _csv("cp1252_names.csv", lambda lines: "\n".join(lines).encode("cp1252")),
)
SHORT_BAD_DROPS = ("truncated.csv", "utf16.csv", "missing_sheet.xlsx")


def bad_input_fault(base: Baseline, drop: BadDrop, work: Path) -> Outcome:
    """Drop a bad file as the source's newest file and run: rejected whole with a line naming
    it and the previous packs unchanged, or accepted with its bad rows quarantined (named on
    the terminal) and every figure correct or blank — never wrong, no rows lost."""
    scratch = base.clone(work, f"bad {drop.fixture}")
    try:
        target = scratch.raw / drop.drop
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(drop.make(scratch.raw / "sample"))
        run = scratch.run(timeout=RUN_TIMEOUT)
        named = [line for line in run.output.splitlines() if Path(drop.drop).name in line]
        problems = ["a traceback on the terminal"] * run.has_traceback
        if run.code != 0:
            pack_problems, rebuilt = base.pack_problems(scratch.marts)
            problems += pack_problems + [f"{rebuilt} packs rewritten"] * bool(rebuilt)
            problems += ["no line names the file"] * (not named)
        else:
            quarantined = _quarantined(scratch, Path(drop.drop).name)
            used = _file_used(scratch, drop.drop)
            if quarantined and not named:
                problems.append(f"{quarantined} rows quarantined, but no line names the file")
            if not used and not named:
                problems.append("the file was ignored without a word")
        lost, wrong, more = base.figures(scratch)
        shown = named[0].strip() if named else run.headline
        return Outcome(
            "bad input through the drop folder", f"{drop.fixture} as {drop.drop}",
            f"exit {run.code}: {shown}", problems + more, lost, wrong,
        )  # fmt: skip
    finally:
        scratch.remove()


def _quarantined(scratch: Scratch, name: str) -> int:
    from datapakke.warehouse import read_frame

    frame = read_frame(
        scratch.warehouse,
        "SELECT count(*) AS n FROM raw.quarantine WHERE file LIKE ?",
        [f"%{name}"],
    )
    return int(frame["n"].iloc[0])


def _file_used(scratch: Scratch, drop: str) -> bool:
    from datapakke.warehouse import read_frame

    frame = read_frame(
        scratch.warehouse, "SELECT count(*) AS n FROM raw.source_file WHERE file = ?", [drop]
    )
    return bool(frame["n"].iloc[0])


# --------------------------------------------------------------------------- 6. reference data


def _edit_csv(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def _two_regions(reference: Path) -> str:
    path = reference / "municipalities.csv"
    _edit_csv(path, lambda lines: [*lines, lines[1].replace(",084,Region Hovedstaden,", ",085,Region Sjælland,")])  # fmt: skip
    return "municipalities.csv"


def _area_without_members(reference: Path) -> str:
    path = reference / "areas.csv"
    _edit_csv(path, lambda lines: [*lines, lines[1].replace("hovedstaden-byen,Sundhedsklynge Byen", "tom,Sundhedsklynge Tom")])  # fmt: skip
    return "areas.csv"


def _unknown_member(reference: Path) -> str:
    _edit_csv(reference / "area_members.csv", lambda lines: [*lines, "klynge2022,bornholm,999,full"])  # fmt: skip
    return "area_members.csv"


def _excel_saved(reference: Path) -> str:
    path = reference / "area_members.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(("\ufeff" + text.replace(",", ";")).replace("\n", "\r\n").encode("utf-8"))
    return "area_members.csv"


BAD_REFERENCE: dict[str, Callable[[Path], str]] = {
    "a municipality in two regions": _two_regions,
    "an area with no members": _area_without_members,
    "a membership row for an unknown code": _unknown_member,
    "a grouping file saved from Excel (BOM, ';')": _excel_saved,
}


def marts_state(marts: Path) -> dict[str, tuple[int, int]]:
    """Every file under data/marts with its size and modification time."""
    return {
        str(p.relative_to(marts)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in marts.rglob("*")
        if p.is_file() and p.name != ".site.lock"
    }


def reference_fault(
    source: Scratch, case: str, work: Path, base: Baseline | None = None
) -> Outcome:
    """Corrupt the reference data of a copy of ``source``: the run names file and row and
    publishes nothing.

    A file that is only saved differently (BOM, ';') may instead be read as it was meant; then
    the run must succeed and (given the ``base`` it was copied from) publish the same packs.
    """
    scratch = source.clone(work / re.sub(r"[^a-z0-9]+", "-", f"reference {case}".lower()))
    try:
        before = marts_state(scratch.marts)
        file = BAD_REFERENCE[case](scratch.reference)
        run = scratch.run(timeout=RUN_TIMEOUT)
        problems = ["a traceback on the terminal"] * run.has_traceback
        lost = wrong = 0
        if run.code == 0:
            if "Excel" not in case:
                problems.append("the bad reference data was accepted")
            if base is not None:
                lost, wrong, more = base.same_as_undisturbed(scratch)
                problems += more
        else:
            if marts_state(scratch.marts) != before:
                problems.append("something under data/marts changed")
            if not re.search(rf"{re.escape(file)}, row \d+", run.output):
                problems.append(f"the message does not name {file} and a row: {run.headline!r}")
        message = f"exit {run.code}: {run.headline}"
        return Outcome("bad reference data", case, message, problems, lost, wrong)
    finally:
        scratch.remove()


# --------------------------------------------------------------------------- 7. the server


SECRET = "fault-suite-secret-3f9a"


def _raw_request(port: int, request: bytes, timeout: float = 10) -> tuple[int | None, bytes]:
    """Send bytes as they are (no client normalises the path) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    answer = b"".join(chunks)
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return (int(match.group(1)) if match else None), answer


def server_requests(outside: Path) -> list[tuple[str, bytes]]:
    """(description, raw request) for every attack tried."""
    paths = [
        "/../secret.txt", "/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt", "/..%5csecret.txt", "/%5c..%5csecret.txt", "/..\\secret.txt",
        "/packs/../../secret.txt", "/./.././secret.txt", "/%252e%252e/secret.txt",
        "/..%c0%afsecret.txt", f"/{outside}/secret.txt", f"//{str(outside).lstrip('/')}/secret.txt",
        f"/{'%2f'.join(str(outside / 'secret.txt').split('/'))}", "/etc/passwd", "//etc/passwd",
        "/link-to-secret.txt", "/link-to-outside/secret.txt", "/packs/link-to-outside/secret.txt",
        f"http://127.0.0.1{outside}/secret.txt", "/%00", "/index.html%00.txt",
    ]  # fmt: skip
    requests = [(f"GET {p}", f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode()) for p in paths]
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"):
        body = f"{method} /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
        requests.append((method, body.encode()))
    long_url = "/" + "a" * 65536
    requests.append(("64 KB URL", f"GET {long_url} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    requests.append(("64 KB header", f"GET / HTTP/1.1\r\nX: {'b' * 65536}\r\n\r\n".encode()))
    return requests


def _quiet_handler() -> type:
    from datapakke.publish.site.server import SiteRequestHandler

    class Quiet(SiteRequestHandler):
        """The project's handler without its access log (the suite prints one table)."""

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Quiet


def server_fault(work: Path) -> Outcome:
    """The download server: nothing outside the site folder is served, whatever the path or
    method, and it keeps serving after every request."""
    from datapakke.publish.site.server import make_server

    root = work / "server"
    shutil.rmtree(root, ignore_errors=True)
    site, outside = root / "site", root / "outside"
    (site / "packs").mkdir(parents=True)
    outside.mkdir()
    (site / "index.html").write_text("<html>datapakker</html>", encoding="utf-8")
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    (site / "link-to-secret.txt").symlink_to(outside / "secret.txt")
    (site / "link-to-outside").symlink_to(outside, target_is_directory=True)
    (site / "packs" / "link-to-outside").symlink_to(outside, target_is_directory=True)
    server = make_server(0, site)
    server.RequestHandlerClass = partial(_quiet_handler(), directory=str(site))
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    problems: list[str] = []
    statuses: dict[int | None, int] = {}
    try:
        for name, request in server_requests(outside):
            status, answer = _raw_request(port, request)
            statuses[status] = statuses.get(status, 0) + 1
            if SECRET.encode() in answer or b"root:" in answer:
                problems.append(f"{name[:60]} served a file outside the site ({status})")
            if status is None or status < 400:
                problems.append(f"{name[:60]} answered {status}")
            check = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            check.request("GET", "/index.html")
            if check.getresponse().status != 200:
                problems.append(f"the server stopped serving after {name[:60]}")
            check.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)
    answered = ", ".join(f"{n}× {s}" for s, n in sorted(statuses.items(), key=str))
    return Outcome(
        "download server: traversal, methods, long URL", f"{sum(statuses.values())} requests",
        f"answers {answered}; index.html served after each", problems,
    )  # fmt: skip


# --------------------------------------------------------------------------- the suite


def run_suite(work: Path, short: bool) -> tuple[list[Outcome], float]:
    """Every fault (a subset with ``short``), the fast ones first; each outcome is recorded in
    ``work`` as it comes, so a suite killed from outside resumes there (``--keep``). Returns
    the outcomes and the seconds they took, with the undisturbed refreshes (over sessions)."""
    outcomes: list[Outcome] = []

    def inject(fault: str, case: str, injection: Callable[[], Outcome]) -> None:
        attempt(outcomes, fault, case, injection, work)

    inject("clock: nightly schedule across DST", "2026-2027", dst_fault)
    midnight = "clock: refresh running past midnight"
    inject(midnight, "local and UTC midnight", partial(midnight_fault, work))
    inject("download server: traversal, methods, long URL", "requests", partial(server_fault, work))
    base = Baseline.build(work)
    for point in SHORT_KILL_POINTS if short else KILL_POINTS:
        inject("kill -9 of the refresh", point.name, partial(kill_fault, base, point, work))
    if not short:
        readers = "reader holding the marts open"
        inject(readers, "open before", partial(reader_before_fault, base, work))
        inject(readers, "opened during", partial(reader_during_fault, base, work))
        second = "second make run while one runs"
        inject(second, "during area_mart", partial(second_run_fault, base, work))
        disk = "disk full while packs are written"
        inject(disk, "during area_pack", partial(disk_full_fault, base, work))
    for drop in BAD_DROPS:
        if not short or drop.fixture in SHORT_BAD_DROPS:
            bad = partial(bad_input_fault, base, drop, work)
            inject("bad input through the drop folder", drop.fixture, bad)
    for case in list(BAD_REFERENCE)[:1] if short else BAD_REFERENCE:
        reference = partial(reference_fault, base.scratch, case, work, base)
        inject("bad reference data", case, reference)
    undisturbed = [base.run.seconds, *(c.run.seconds for c in base._controls.values())]
    return outcomes, sum(o.seconds for o in outcomes) + sum(undisturbed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a subset in a few minutes")
    parser.add_argument(
        "--keep",
        type=Path,
        help="work here and keep it; run again with it to resume a killed suite",
    )
    args = parser.parse_args(argv)
    from benchmarks.run import machine

    started, clock = datetime.now(UTC), time.perf_counter()
    on = machine()
    work = args.keep or Path(tempfile.mkdtemp(prefix="datapakke-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        outcomes, seconds = run_suite(work, args.short)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    minutes = seconds / 60
    result = table(outcomes)
    print(result)
    if not args.short:
        survived = sum(o.survived for o in outcomes)
        replace_section(
            SECTION,
            f"{SECTION}\n\n`python -m benchmarks.faults`, {started:%Y-%m-%d %H:%M} UTC, "
            f"{minutes:.1f} min in all, on {on}.\n\n"
            f"{survived} of {len(outcomes)} injected faults survived. Each refresh ran in a "
            "scratch copy of the repository (benchmarks/scratch.py), faulted from a copy of one "
            "undisturbed refresh, the baseline; rows lost and wrong figures are counted "
            "against it (see the module docstring of benchmarks/faults.py).\n\n"
            f"{result}\n\n"
            "Every injection, with what the user saw:\n\n"
            + "\n".join(f"- {_cell(o.describe(), 400)}: {_cell(o.message, 400)}" for o in outcomes)
            + "\n",
        )
    log(f"{minutes:.1f} min measured, {(time.perf_counter() - clock) / 60:.1f} min this session")
    return 0 if all(o.survived for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
