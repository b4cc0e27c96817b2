"""Before `make run` executes: recover from a killed refresh, refuse while one is alive.

A run killed with ``kill -9`` (or a crash, or a power cut) never tells Dagster that it ended: it
stays STARTED in DAGSTER_HOME and keeps its ``duckdb_warehouse`` pool slot, and the next
``execute_in_process`` waits for that slot forever, silently. ``make dev`` has the daemon's run
monitoring for this (``run_monitoring`` in dagster.yaml); ``make run`` has no daemon, so it looks
here first:

- a run whose process is gone is marked failed, with a message saying why, and its slots are
  freed;
- slots still held by a run that has finished (or was deleted) are freed;
- a run whose process is alive makes the new refresh stop at once with one line saying which
  run, which process and since when (the warehouse has one writer; waiting silently is worse).

A run's process is the pid (and host) that ``make run`` records as tags when it starts a run;
for runs from elsewhere (``make dev``, or before these tags) it is the pid Dagster records in the
run's first engine event, on this host (the instance in DAGSTER_HOME is a local folder). A pid
counts as the run's only if that process started before the run did, so a pid reused after a
reboot is not mistaken for the run.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.events import DagsterEventType

from datapakke.raw.advice import locked_warehouse_line
from datapakke.warehouse import connect

PID_TAG = "datapakke/pid"
HOST_TAG = "datapakke/host"
IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# A run with no process on record is given this long to start (Dagster's start_timeout_seconds).
START_TIMEOUT_SECONDS = 180
# Slack between a process's start (whole seconds from /proc) and its run's recorded start.
_CLOCK_SLACK_SECONDS = 2.0


class RefreshRunning(RuntimeError):
    """Another refresh is alive; its message is the one line the terminal shows."""


def owner_tags() -> dict[str, str]:
    """Tags naming this process, so a later `make run` can tell whether the run is alive."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


@dataclass(frozen=True)
class RunProcess:
    """An unfinished run and the process that runs (or ran) it."""

    run: dg.DagsterRun
    started: float  # epoch seconds: the run's start, else its creation
    pid: int | None
    host: str | None  # None: recorded by Dagster, so on this host

    @property
    def short_id(self) -> str:
        return self.run.run_id[:8]

    def since(self) -> str:
        return datetime.fromtimestamp(self.started).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def recover_stale_runs(
    instance: dg.DagsterInstance,
    is_alive: Callable[[int, float], bool] | None = None,
    now: float | None = None,
) -> list[str]:
    """Fail dead runs and free every slot nothing alive holds; one line per recovery.

    Raises RefreshRunning (after recovering the dead ones) when a run's process is alive.
    """
    is_alive = is_alive or process_alive
    now = time.time() if now is None else now
    here = socket.gethostname()
    lines = [*_free_finished_holders(instance)]
    live: list[RunProcess] = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS)):
        owner = _run_process(instance, record)
        if _is_dead(owner, here, now, is_alive):
            lines.append(_fail_and_free(instance, owner))
        else:
            live.append(owner)
    if live:
        raise RefreshRunning(busy_line(live[0], here))
    return lines


def busy_line(owner: RunProcess, here: str) -> str:
    """The one line for a refresh that is alive (or cannot be checked from this host)."""
    where = f", pid {owner.pid}" if owner.pid else ""
    if owner.host and owner.host != here:
        where += f" on host {owner.host}"
    stop = f"kill {owner.pid}" if owner.pid and owner.host in (None, here) else "stop it"
    return (
        f"another refresh (run {owner.short_id}{where}, job {owner.run.job_name}) is running "
        f"since {owner.since()}; wait for it to finish or stop it ({stop}), then run make run "
        "again"
    )


def _free_finished_holders(instance: dg.DagsterInstance) -> list[str]:
    """Free the slots and queue places of runs that have finished or no longer exist."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    holders = set(storage.get_concurrency_run_ids())
    for key in storage.get_concurrency_keys():
        holders |= storage.get_concurrency_info(key).active_run_ids
    if not holders:
        return []
    records = {
        r.dagster_run.run_id: r for r in instance.get_run_records(dg.RunsFilter(run_ids=[*holders]))
    }
    lines = []
    for run_id in sorted(holders):
        record = records.get(run_id)
        if record is None or record.dagster_run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            status = record.dagster_run.status.value.lower() if record else "deleted"
            lines.append(f"freed the warehouse slot still held by {status} run {run_id[:8]}")
    return lines


def _run_process(instance: dg.DagsterInstance, record: dg.RunRecord) -> RunProcess:
    run = record.dagster_run
    started = record.start_time or record.create_timestamp.timestamp()
    pid_tag = run.tags.get(PID_TAG, "")
    if pid_tag.isdigit():
        return RunProcess(run, started, int(pid_tag), run.tags.get(HOST_TAG))
    return RunProcess(run, started, _engine_pid(instance, run.run_id), None)


def _engine_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid Dagster logged for the run's process ("Started process for run", "Executing
    steps in process"), if any."""
    events = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for event in events:
        dagster_event = event.event_log_entry.dagster_event
        data = dagster_event.engine_event_data if dagster_event else None
        pid = data.metadata.get("pid") if data else None
        text = str(getattr(pid, "value", pid or ""))
        if text.isdigit():
            return int(text)
    return None


def _is_dead(
    owner: RunProcess, here: str, now: float, is_alive: Callable[[int, float], bool]
) -> bool:
    if owner.host and owner.host != here:
        return False  # another machine's process: cannot be checked from here
    if owner.pid is None:
        return now - owner.started > START_TIMEOUT_SECONDS
    return not is_alive(owner.pid, owner.started)


def _fail_and_free(instance: dg.DagsterInstance, owner: RunProcess) -> str:
    """Mark the run failed (the UI's run history says why) and free its slots."""
    instance.report_run_failed(
        owner.run,
        message=(
            f"Marked failed by the next make run: the run's process"
            f"{f' (pid {owner.pid})' if owner.pid else ''} is gone (killed or crashed); its "
            "concurrency slots were freed. The previous marts and packs stay in place."
        ),
    )
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(owner.run.run_id)
    pid = f"pid {owner.pid}" if owner.pid else "no process"
    return (
        f"run {owner.short_id} (since {owner.since()}, {pid}) was not running any more: "
        "marked failed and its warehouse slot freed"
    )


def process_alive(pid: int, run_started: float) -> bool:
    """Whether ``pid`` is a live process that started no later than the run (not a zombie,
    not a later process that reuses the number)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(pid)
    if stat is None:  # no /proc (macOS): the signal is all we know
        return True
    state, started = stat
    return state != "Z" and (started is None or started <= run_started + _CLOCK_SLACK_SECONDS)


def _proc_stat(pid: int) -> tuple[str, float | None] | None:
    """A Linux process's state letter and start time (epoch seconds), from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    fields = text.rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        return fields[0], boot + int(fields[19]) / ticks
    except (IndexError, ValueError):
        return fields[0] if fields else "?", None


def warehouse_lock_line(path: Path, retries: int = 8) -> str | None:
    """One line naming the program that holds the warehouse open (None when it is free).

    Checked before the refresh so the user hears at once, not after the steps' own waits; a
    reader's short query is waited for a few seconds, as the warehouse's connections do.
    """
    if not path.exists():
        return None
    try:
        with connect(path, retries=retries):
            return None
    except duckdb.IOException as exc:
        line = locked_warehouse_line(str(exc))
        if line is None:
            raise
        return line
