"""A killed refresh must not make the next `make run` wait forever for the warehouse pool slot.

Each test builds a Dagster instance in a temporary DAGSTER_HOME (with the project's dagster.yaml)
and fakes the run a killed `make run` leaves behind: STARTED, holding the `duckdb_warehouse`
slot, its pid tag naming a process that is gone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType, EngineEventData
from dagster._core.storage.dagster_run import DagsterRun

from assets.raw import WAREHOUSE_POOL
from datapakke.config import REPO_ROOT
from pipelines.recovery import (
    HOST_TAG,
    PID_TAG,
    RefreshRunning,
    owner_tags,
    process_alive,
    recover_stale_runs,
)


@pytest.fixture
def instance(tmp_path: Path):
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def run_holding_the_slot(
    instance: dg.DagsterInstance,
    tags: dict[str, str],
    status: dg.DagsterRunStatus = dg.DagsterRunStatus.STARTED,
) -> DagsterRun:
    """A run as a killed `make run` leaves it: unfinished, with the warehouse slot claimed."""
    run = instance.add_run(
        DagsterRun(job_name="refresh_all", run_id=str(uuid.uuid4()), status=status, tags=tags)
    )
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    claim = storage.claim_concurrency_slot(WAREHOUSE_POOL, run.run_id, "raw_sources")
    assert claim.is_claimed
    return run


def slot_holders(instance: dg.DagsterInstance) -> set[str]:
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids


def status(instance: dg.DagsterInstance, run: DagsterRun) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run.run_id).status


def test_a_dead_run_is_marked_failed_and_its_slot_freed(instance: dg.DagsterInstance) -> None:
    pid = dead_pid()
    run = run_holding_the_slot(instance, {PID_TAG: str(pid), HOST_TAG: socket.gethostname()})
    assert slot_holders(instance) == {run.run_id}
    started = time.perf_counter()
    lines = recover_stale_runs(instance)
    assert time.perf_counter() - started < 5
    assert len(lines) == 1 and run.run_id[:8] in lines[0] and f"pid {pid}" in lines[0]
    assert status(instance, run) == dg.DagsterRunStatus.FAILURE
    assert slot_holders(instance) == set()
    failure = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert "process (pid" in failure[-1].dagster_event.message
    assert "is gone" in failure[-1].dagster_event.message
    assert recover_stale_runs(instance) == []  # nothing left to recover
    # The next run gets the slot at once.
    claim = instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, "next", "raw")
    assert claim.is_claimed


def test_a_live_run_makes_the_next_refresh_refuse_at_once(instance: dg.DagsterInstance) -> None:
    run = run_holding_the_slot(instance, owner_tags())  # this very process: alive
    with pytest.raises(RefreshRunning) as busy:
        recover_stale_runs(instance)
    message = str(busy.value)
    assert message.startswith(
        f"another refresh (run {run.run_id[:8]}, pid {os.getpid()}, job refresh_all) is "
        "running since "
    )
    assert f"wait for it to finish or stop it (kill {os.getpid()})" in message
    assert "\n" not in message
    assert status(instance, run) == dg.DagsterRunStatus.STARTED
    assert slot_holders(instance) == {run.run_id}  # untouched


def test_dead_runs_are_recovered_before_a_live_one_refuses(instance: dg.DagsterInstance) -> None:
    dead = run_holding_the_slot(instance, {PID_TAG: str(dead_pid())})
    live = instance.add_run(
        DagsterRun(
            job_name="build_area", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED,
            tags=owner_tags(),
        )
    )  # fmt: skip
    with pytest.raises(RefreshRunning, match=live.run_id[:8]):
        recover_stale_runs(instance)
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    assert slot_holders(instance) == set()


def test_a_run_from_before_the_tags_is_judged_by_dagsters_own_pid(
    instance: dg.DagsterInstance,
) -> None:
    """Runs started by `make dev`, or by `make run` before the tags: Dagster logs the pid."""
    pid = dead_pid()
    run = run_holding_the_slot(instance, tags={})
    instance.report_engine_event(
        f"Executing steps in process (pid: {pid})", run, EngineEventData.in_process(pid)
    )
    assert recover_stale_runs(instance) != []
    assert status(instance, run) == dg.DagsterRunStatus.FAILURE
    assert slot_holders(instance) == set()


def test_a_finished_run_that_still_holds_the_slot_lets_go(instance: dg.DagsterInstance) -> None:
    run = run_holding_the_slot(instance, tags={}, status=dg.DagsterRunStatus.CANCELED)
    lines = recover_stale_runs(instance)
    assert lines == [f"freed the warehouse slot still held by canceled run {run.run_id[:8]}"]
    assert slot_holders(instance) == set()


def test_a_run_without_a_process_is_given_the_start_timeout(instance: dg.DagsterInstance) -> None:
    run = run_holding_the_slot(instance, tags={}, status=dg.DagsterRunStatus.STARTING)
    with pytest.raises(RefreshRunning, match="another refresh"):
        recover_stale_runs(instance)  # just created: maybe still starting
    assert recover_stale_runs(instance, now=time.time() + 600) != []
    assert status(instance, run) == dg.DagsterRunStatus.FAILURE


def test_a_run_on_another_host_is_never_failed_from_here(instance: dg.DagsterInstance) -> None:
    run = run_holding_the_slot(instance, {PID_TAG: str(dead_pid()), HOST_TAG: "elsewhere"})
    with pytest.raises(RefreshRunning, match="on host elsewhere"):
        recover_stale_runs(instance)
    assert status(instance, run) == dg.DagsterRunStatus.STARTED


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_process_alive_sees_zombies_and_reused_pids() -> None:
    assert process_alive(os.getpid(), time.time())
    assert not process_alive(os.getpid(), run_started=0.0)  # pid reused by a later process
    assert not process_alive(dead_pid(), time.time())
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{zombie.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not process_alive(zombie.pid, time.time())
    zombie.wait()
