"""Refreshes in a scratch copy of the repository, never in the real ``data/``.

Shared by the fault benchmark (``benchmarks/faults.py``) and the fault tests (``tests/faults/``)
so both inject faults into the same kind of place. Why a copy of the code and not only settings
pointing at a temporary folder: other people edit this working tree while a long fault run goes
on, and a refresh that imports a half-edited module would be a fault of our own making. The copy
has its own ``data/raw`` (the sample), ``data/reference``, ``data/marts`` and DAGSTER_HOME, and
every path is also passed as the environment variables of ``datapakke.config``, so nothing can
fall back to the real folders. The virtual environment is shared.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from datapakke.config import REPO_ROOT

# Never copied: what the pipeline writes, caches, and the environment (shared, not copied).
_SKIP_TOP = {".git", ".venv", ".dagster_home", "data/marts", "benchmarks/data"}
_SKIP_NAMES = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints"}
# Noise that must never reach the terminal of a refresh (one line per problem, no traces).
TRACEBACK_NOISE = ("Traceback", "Stack Trace", "Error occurred while executing op", "STEP_FAILURE")


@dataclass(frozen=True)
class RunResult:
    """One `make run`: its exit status, everything on the terminal, and wall seconds."""

    code: int
    output: str
    seconds: float

    @property
    def headline(self) -> str:
        """The terminal line a user reads first: the first line that says how it went."""
        for line in self.output.splitlines():
            if line.startswith("Refresh "):
                return line.strip()
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        return lines[0] if lines else ""

    @property
    def problems(self) -> list[str]:
        """The indented problem lines under the headline (one per problem source or step)."""
        return [line.strip() for line in self.output.splitlines() if line.startswith("  ")]

    @property
    def has_traceback(self) -> bool:
        return any(noise in self.output for noise in TRACEBACK_NOISE)


def _tracked_files(repo: Path) -> list[Path]:
    """Files in git (tracked or new, not ignored) as they are in the working tree."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=repo, capture_output=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(repo) for p in repo.rglob("*") if p.is_file()]
    return [Path(name) for name in listed.decode().split("\0") if name]


def copy_code(dest: Path, repo: Path = REPO_ROOT) -> Path:
    """Copy the repository's files (not its outputs, caches or venv) into ``dest``."""
    for relative in _tracked_files(repo):
        text = relative.as_posix()
        if any(text == skip or text.startswith(skip + "/") for skip in _SKIP_TOP):
            continue
        if _SKIP_NAMES & set(relative.parts):
            continue
        source = repo / relative
        if not source.is_file():  # deleted in the working tree, not yet in git
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


@dataclass(frozen=True)
class Scratch:
    """A scratch copy of the repository: code, sample, reference data, outputs, run history."""

    root: Path

    @classmethod
    def create(cls, root: Path) -> Scratch:
        """A fresh copy of the current working tree with empty outputs."""
        root.mkdir(parents=True, exist_ok=True)
        copy_code(root)
        scratch = cls(root)
        scratch.marts.mkdir(parents=True, exist_ok=True)
        scratch.home.mkdir(parents=True, exist_ok=True)
        return scratch

    def clone(self, root: Path) -> Scratch:
        """A full copy (code, raw drops, outputs and run history) to fault without harming this.

        Packs, charts, snapshots and the download site (~700 of ~800 MB) are hard links: the
        pipeline never writes those in place (each is built under a new name and renamed, or
        the site swapped whole), so the copy can replace them without touching these. Every
        other file (the warehouse, area marts, run history, code, reference data) is copied.
        Why bother: a dozen full copies in a row filled the page cache the machine's memory
        watchdog counts, and the suite was killed.
        """
        root.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", str(self.root), str(root)], check=True)
        clone = Scratch(root)
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and not clone._shareable(path):
                temp = path.with_name(f"{path.name}.clone-{os.getpid()}")
                shutil.copy2(path, temp)
                os.replace(temp, path)
        return clone

    def _shareable(self, path: Path) -> bool:
        """Whether the pipeline only ever replaces ``path`` (never writes into it)."""
        if not path.is_relative_to(self.marts):
            return False
        return path.suffix in {".xlsx", ".png", ".parquet"} or path.is_relative_to(
            self.marts / "site"
        )

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def reference(self) -> Path:
        return self.root / "data" / "reference"

    @property
    def marts(self) -> Path:
        return self.root / "data" / "marts"

    @property
    def home(self) -> Path:
        return self.root / ".dagster_home"

    @property
    def warehouse(self) -> Path:
        return self.marts / "warehouse.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a refresh here: every path of ``datapakke.config`` pointed inside."""
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATAPAKKE_", "PYTEST_", "DAGSTER_"))
        }
        return {
            **environment,
            "PYTHONPATH": str(self.root),
            "DAGSTER_HOME": str(self.home),
            "DATAPAKKE_RAW_DIR": str(self.raw),
            "DATAPAKKE_MARTS_DIR": str(self.marts),
            "DATAPAKKE_REFERENCE_DIR": str(self.reference),
            **extra,
        }

    def prepare(self) -> None:
        """What `make run` does before Python starts: the folders and a fresh dagster.yaml."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.marts.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.root / "dagster.yaml", self.home / "dagster.yaml")

    def start(self, **extra: str) -> subprocess.Popen[str]:
        """Start `make run` here in its own process group (so a fault can kill all of it)."""
        self.prepare()
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.run_all"],
            cwd=self.root, env=self.env(**extra), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip

    @contextlib.contextmanager
    def running(self, **extra: str) -> Iterator[subprocess.Popen[str]]:
        """A refresh started here, killed with its workers if still running at the end (so a
        failed injection leaves nothing behind)."""
        process = self.start(**extra)
        try:
            yield process
        finally:
            if process.poll() is None:
                kill_group(process)
                process.communicate()

    def run(self, timeout: float = 900, **extra: str) -> RunResult:
        """`make run` here, to the end: exit status, terminal output, seconds."""
        started = time.perf_counter()
        process = self.start(**extra)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            output, _ = process.communicate()
            output += f"\n[fault suite: no answer after {timeout:.0f} s; killed]"
        return RunResult(process.returncode, output, time.perf_counter() - started)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def kill_group(process: subprocess.Popen[str]) -> None:
    """``kill -9`` of the process and every process in its group (workers included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def processes_of(scratch: Scratch) -> list[tuple[int, str]]:
    """Live processes working in ``scratch`` (pid, command line), found by their environment.

    A refresh's workers inherit DATAPAKKE_MARTS_DIR, so this finds orphans even if they left
    the process group. Zombies are not counted: they run nothing and hold no file.
    """
    marts = str(scratch.marts)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, IndexError):
            continue
        if state != "Z" and f"DATAPAKKE_MARTS_DIR={marts}".encode() in environ:
            found.append((int(entry.name), command))
    return found


class RunWatch:
    """Which step of the refresh in ``scratch`` is running, read from its Dagster event log.

    Why the event log and not timing: the machine is shared, and a stage takes 2-3 times as long
    when others run their tests, so "after N seconds" lands in a different stage each time. The
    run writes STEP_START / STEP_SUCCESS events to DAGSTER_HOME as it goes; this reads them.
    """

    def __init__(self, scratch: Scratch) -> None:
        import dagster as dg

        self._instance = dg.DagsterInstance.from_config(str(scratch.home))
        self._known = {run.run_id for run in self._instance.get_runs()}
        self._run_id: str | None = None

    def close(self) -> None:
        self._instance.dispose()

    def __enter__(self) -> RunWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> str | None:
        if self._run_id is None:
            runs = [r for r in self._instance.get_runs(limit=3) if r.run_id not in self._known]
            self._run_id = runs[0].run_id if runs else None
        return self._run_id

    def steps(self) -> tuple[dict[str, float], set[str]]:
        """Steps started (step → epoch seconds) and steps ended, so far."""
        from dagster._core.events import DagsterEventType

        run_id = self._run()
        if run_id is None:
            return {}, set()
        kinds = {
            DagsterEventType.STEP_START,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
        }
        started: dict[str, float] = {}
        ended: set[str] = set()
        for record in self._instance.get_records_for_run(run_id, of_type=kinds).records:
            entry = record.event_log_entry
            if entry.dagster_event_type == DagsterEventType.STEP_START:
                started[entry.step_key or ""] = entry.timestamp
            else:
                ended.add(entry.step_key or "")
        return started, ended

    def current(self) -> str:
        """The step running now ('' before the first, 'done' after the last)."""
        started, ended = self.steps()
        running = [step for step in started if step not in ended]
        if running:
            return max(running, key=started.__getitem__)
        return "done" if started else ""

    def wait_for_start(
        self, step: str, process: subprocess.Popen[str], timeout: float = 1200
    ) -> float | None:
        """Wait until ``step`` starts; its start time (epoch), or None if the run ended first."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            started, _ = self.steps()
            if step in started:
                return started[step]
            if process.poll() is not None:
                return None
            time.sleep(0.2)
        return None
