"""The production instance of deploy/ against the machine's real PostgreSQL (issue 15, item 4).

The code server, the webserver and the daemon are started exactly as the systemd units say
(their ExecStart lines, with deploy/workspace.yaml and deploy/dagster.yaml in a temporary
DAGSTER_HOME), on a fresh database that is dropped afterwards. Runs go through the queue by
GraphQL, as the UI sends them, and by the CLI, as the runbook does; their results are read back
from PostgreSQL. Data are a temporary copy of the sample; nothing is written to data/ or
.dagster_home/.

Skipped, with the reason, when PostgreSQL does not answer on 127.0.0.1:5432.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from datapakke.config import REPO_ROOT, SAMPLE_DIR
from tests.publish.sample_build import built_warehouse

DEPLOY = REPO_ROOT / "deploy"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
LOCATION = "datapakker"
AREA = "klynge2022.bornholm"
IN_PROGRESS = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED}
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _admin_connection():
    """An autocommit connection to the server's `postgres` database, or skip saying why."""
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 (dagster-postgres) not installed")
    try:
        con = psycopg2.connect(dbname="postgres", connect_timeout=3, **PG)
    except psycopg2.OperationalError as error:
        where = f"{PG['host']}:{PG['port']} as {PG['user']}"
        pytest.skip(f"PostgreSQL not reachable on {where}: {error}".strip())
    con.autocommit = True
    return con


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database with a unique name, dropped at the end (even if the test fails)."""
    name = f"datapakker_test_{uuid.uuid4().hex[:12]}"
    con = _admin_connection()
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unit_command(unit: str, env: dict[str, str]) -> list[str]:
    """A systemd unit's ExecStart with its ${VARS} filled in and its paths mapped to this checkout.

    `<WorkingDirectory>/.venv/bin/<tool>` becomes this interpreter's venv, so the test runs what
    the unit runs.
    """
    text = (DEPLOY / "systemd" / f"{unit}.service").read_text()
    workdir = re.search(r"^WorkingDirectory=(.+)$", text, re.M).group(1).strip()
    line = re.search(r"^ExecStart=(.+)$", text, re.M).group(1)
    args = shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line))
    venv_bin = f"{workdir}/.venv/bin/"
    return [
        str(Path(sys.executable).parent / a.removeprefix(venv_bin)) if a.startswith(venv_bin) else a
        for a in args
    ]


@dataclass
class Services:
    """The three processes of a deployment; stopped (whole process groups) by `stop`."""

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, unit: str) -> None:
        log = (self.logs / f"{unit}.log").open("wb")
        self.procs[unit] = subprocess.Popen(
            unit_command(unit, self.env),
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, with the run workers it starts
        )

    def tail(self) -> str:
        """The end of every service's log, for a failure message."""
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
            for path in sorted(self.logs.glob("*.log"))
        )

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 120) -> None:
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            for unit, proc in self.procs.items():
                if proc.poll() is not None:
                    pytest.fail(f"{unit} exited ({proc.returncode}) before {what}\n{self.tail()}")
            try:
                if ready():
                    # Shown with a failure: where the time went on a slow machine.
                    print(f"{what}: {time.monotonic() - started:.1f} s", file=sys.stderr)
                    return
            except Exception:
                pass
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}\n{self.tail()}")

    def stop(self) -> None:
        """Terminate each process group, then kill what is left, including run workers that
        left the group, found by the marker in their environment."""
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        _kill_marked(self.env["DATAPAKKE_DEPLOY_TEST"])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _kill_marked(marker: str) -> None:
    import psutil

    for proc in psutil.process_iter():
        try:
            if proc.environ().get("DATAPAKKE_DEPLOY_TEST") == marker:
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


LOCATION_STATUS = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
AUTOMATION = """query($sel: RepositorySelector!) { repositoryOrError(repositorySelector: $sel) {
  ... on Repository { sensors { name sensorState { id status } }
                      schedules { name scheduleState { id status } } } } }"""
STOP_SENSOR = "mutation($id: String) { stopSensor(id: $id) { __typename } }"
STOP_SCHEDULE = "mutation($id: String) { stopRunningSchedule(id: $id) { __typename } }"


def _location_loaded(port: int) -> bool:
    entries = graphql(port, LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
    loaded = {e["name"]: e["locationOrLoadError"]["__typename"] for e in entries}
    return loaded.get(LOCATION) == "RepositoryLocation"


def _stop_automation(port: int) -> set[str]:
    """Stop the schedule and sensors (they would start refreshes of their own mid-test); the
    names of those stopped."""
    selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}
    repo = graphql(port, AUTOMATION, {"sel": selector})["repositoryOrError"]
    stopped = set()
    for sensor in repo["sensors"]:
        if sensor["sensorState"]["status"] == "RUNNING":
            result = graphql(port, STOP_SENSOR, {"id": sensor["sensorState"]["id"]})
            assert result["stopSensor"]["__typename"] == "StopSensorMutationResult", result
            stopped.add(sensor["name"])
    for schedule in repo["schedules"]:
        if schedule["scheduleState"]["status"] == "RUNNING":
            result = graphql(port, STOP_SCHEDULE, {"id": schedule["scheduleState"]["id"]})
            assert result["stopRunningSchedule"]["__typename"] == "ScheduleStateResult", result
            stopped.add(schedule["name"])
    return stopped


def _copy_warehouse(tmp_path_factory: pytest.TempPathFactory, marts: Path) -> None:
    """The sample's warehouse (raw → core → mart: what build_area reads) into ``marts``.

    Built once per test session and shared with other modules, so it is copied, never written.
    """
    settings = built_warehouse(tmp_path_factory)
    marts.mkdir(parents=True)
    for path in settings.marts_dir.glob("warehouse.duckdb*"):
        shutil.copy2(path, marts / path.name)


@contextlib.contextmanager
def _write_lock(warehouse: Path) -> Iterator[None]:
    """Hold DuckDB's write lock on the warehouse: other processes wait to open it."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        yield
    finally:
        con.close()


def _latest_materializations(instance: dg.DagsterInstance) -> dict[tuple[str, str], str]:
    """(asset, partition or "" for any) → the run of its latest materialization."""
    from dagster._core.events import DagsterEventType

    latest = {}
    for key in instance.get_asset_keys():
        event = instance.get_latest_materialization_event(key)
        if event is not None:
            latest[(key.to_user_string(), "")] = event.run_id
        storage = instance.event_log_storage
        ids = storage.get_latest_storage_id_by_partition(
            key, DagsterEventType.ASSET_MATERIALIZATION
        )
        for partition, storage_id in ids.items():
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, storage_ids=[storage_id]), limit=1
            ).records
            latest[(key.to_user_string(), partition)] = records[0].run_id
    return latest


def _status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None, run_id
    return run.status


# 4-5 minutes measured with the two cores shared with other work, 2.5 of them building the sample's
# warehouse (about 85 s of CPU; skipped when another module of the session built it already).
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning:gql.*")
def test_deployment_runs_through_the_queue_on_postgres(
    database: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster._core.events import DagsterEventType
    from dagster._core.scheduler.instigation import InstigatorStatus
    from dagster._grpc.client import DagsterGrpcClient
    from dagster_graphql import DagsterGraphQLClient

    from assets.partitions import ALL_AREAS_TAGS
    from pipelines.retention import prune_runs

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(SAMPLE_DIR, tmp_path / "raw" / "sample")
    grpc_port, web_port = _free_port(), _free_port()
    settings = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": PG["host"],
        "DAGSTER_PG_PORT": str(PG["port"]),
        "DAGSTER_PG_USER": PG["user"],
        "DAGSTER_PG_PASSWORD": "",  # trust authentication on this machine
        "DAGSTER_PG_DB": database,
        "DAGSTER_GRPC_HOST": "127.0.0.1",
        "DAGSTER_GRPC_PORT": str(grpc_port),
        "DAGSTER_WEBSERVER_HOST": "127.0.0.1",
        "DAGSTER_WEBSERVER_PORT": str(web_port),
        "DATAPAKKE_RAW_DIR": str(tmp_path / "raw"),
        "DATAPAKKE_MARTS_DIR": str(tmp_path / "marts"),
        "DATAPAKKE_DEPLOY_TEST": uuid.uuid4().hex,
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    logs = tmp_path / "logs"
    logs.mkdir()
    services = Services(env=dict(os.environ), logs=logs)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        # The instance keeps runs, events and schedules in PostgreSQL, nowhere else.
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

        services.start("datapakker-code")
        services.start("datapakker-webserver")
        started = time.monotonic()
        _copy_warehouse(tmp_path_factory, tmp_path / "marts")  # while the servers start
        print(f"warehouse: {time.monotonic() - started:.1f} s", file=sys.stderr)
        grpc = DagsterGrpcClient(port=grpc_port, host="127.0.0.1")
        services.wait_for("the code server", lambda: grpc.ping("up")["echo"] == "up")
        services.wait_for("the webserver's code location", lambda: _location_loaded(web_port))
        # Automation off before the daemon starts; its state is read back from PostgreSQL.
        stopped = _stop_automation(web_port)
        states = {s.name: s.status for s in instance.all_instigator_state()}
        assert all(states[name] == InstigatorStatus.STOPPED for name in stopped), states

        services.start("datapakker-daemon")
        services.wait_for(
            "the daemon's run queue",
            lambda: "QUEUED_RUN_COORDINATOR" in instance.get_daemon_heartbeats(),
        )
        client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)

        # One area through the queue: queued, launched by the daemon, SUCCESS in PostgreSQL.
        area_run = client.submit_job_execution(
            "build_area", LOCATION, "__repository__", tags={"dagster/partition": AREA}
        )
        services.wait_for(
            "build_area to finish", lambda: _status(instance, area_run) in FINISHED, timeout=180
        )
        assert _status(instance, area_run) == dg.DagsterRunStatus.SUCCESS, services.tail()
        assert client.get_run_status(area_run) == dg.DagsterRunStatus.SUCCESS
        # Through the queue: enqueued by the webserver, then launched (by the daemon).
        queued = instance.all_logs(area_run, of_type=DagsterEventType.RUN_ENQUEUED)
        launched = instance.all_logs(area_run, of_type=DagsterEventType.RUN_STARTING)
        assert len(queued) == len(launched) == 1
        assert queued[0].timestamp <= launched[0].timestamp
        grouping, area_id = AREA.split(".")
        pack = tmp_path / "marts" / grouping / area_id / f"datapakke-{grouping}-{area_id}.xlsx"
        assert pack.stat().st_size > 0
        materialized = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("area_pack"), asset_partitions=[AREA]),
            limit=1,
        ).records
        assert [r.run_id for r in materialized] == [area_run]

        # Two full refreshes: the second waits in the queue while the first runs. This process
        # holds the warehouse's write lock meanwhile, so a refresh stays in progress (waiting for
        # the warehouse, as behind a long one) however fast refreshes get.
        full = {**ALL_AREAS_TAGS}
        with _write_lock(tmp_path / "marts" / "warehouse.duckdb"):
            first = client.submit_job_execution(
                "refresh_all", LOCATION, "__repository__", tags=full
            )
            second = client.submit_job_execution(
                "refresh_all", LOCATION, "__repository__", tags=full
            )
            assert instance.get_run_by_id(first).tags["datapakke/refresh"] == "all"
            services.wait_for(
                "the first refresh to start", lambda: _status(instance, first) in IN_PROGRESS
            )
            seen: list[tuple[dg.DagsterRunStatus, dg.DagsterRunStatus]] = []
            for _ in range(24):  # 12 s: more than two dequeue intervals (5 s)
                seen.append((_status(instance, first), _status(instance, second)))
                time.sleep(0.5)
            assert all(b == dg.DagsterRunStatus.QUEUED for _, b in seen), seen
            assert all(a in IN_PROGRESS for a, _ in seen), (seen, services.tail())
            # Once the first ends, the queue lets the second go.
            client.terminate_run(first)
            services.wait_for(
                "the second refresh to leave the queue",
                lambda: _status(instance, second) != dg.DagsterRunStatus.QUEUED,
                timeout=90,
            )
            assert _status(instance, first) in FINISHED
            # (A run can be terminated once its worker has started.)
            services.wait_for(
                "the second refresh to start",
                lambda: _status(instance, second) == dg.DagsterRunStatus.STARTED,
                timeout=90,
            )
            # A third, from the command line as deploy/README.md says: queued behind the second.
            launch = [str(Path(sys.executable).parent / "dagster"), "job", "launch"]
            launch += ["-w", "deploy/workspace.yaml", "-j", "refresh_all"]
            launch += ["--tags", json.dumps(full)]
            subprocess.run(launch, cwd=REPO_ROOT, env=services.env, check=True, capture_output=True)
            (third,) = [
                run.run_id
                for run in instance.get_runs(dg.RunsFilter(job_name="refresh_all"))
                if run.run_id not in {first, second}
            ]
            time.sleep(6)  # a dequeue interval
            assert _status(instance, third) == dg.DagsterRunStatus.QUEUED
            assert _status(instance, second) == dg.DagsterRunStatus.STARTED
            client.terminate_run(third)  # cancelled in the queue: it never ran
            client.terminate_run(second)
            services.wait_for(
                "the refreshes to end",
                lambda: {_status(instance, run) for run in (first, second, third)} <= FINISHED,
                timeout=90,
            )

        # Run retention: a run that materialized nothing goes; the catalog forgets nothing.
        before = _latest_materializations(instance)
        deleted = prune_runs(instance, days=0)
        assert third in deleted and area_run not in deleted
        assert instance.get_run_by_id(third) is None
        assert _latest_materializations(instance) == before
        assert before[("area_pack", AREA)] == area_run
    finally:
        services.stop()
        instance.dispose()
