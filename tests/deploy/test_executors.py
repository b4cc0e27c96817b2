"""The fanned-out refresh (pipelines/fanout.py) on real executors (issue 15, item 5).

Two Celery workers are started as their systemd unit says (deploy/celery/), on the machine's Redis
(a database of its own, emptied afterwards), against a temporary DAGSTER_HOME and a temporary copy
of the sample. The refresh runs once with the Celery executor and once with Dagster's multiprocess
executor, each from the command line as an operator would, and every area's mart and pack must
hold the same values as an in-process build of the same warehouse (the stage functions
refresh_all's steps call). While the Celery run starts, this process holds the warehouse pool's
only slot: the warehouse step must wait for it (the one-writer rule holds under Celery too).

A handful of areas keeps the runtime to a few minutes; benchmarks/executors.py runs all 44.
Skipped, with the reason, when Redis does not answer on 127.0.0.1:6379.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.raw import WAREHOUSE_POOL
from datapakke.config import REPO_ROOT, SAMPLE_DIR, Settings, get_settings
from tests.publish.sample_build import built_warehouse

REDIS = ("127.0.0.1", 6379)
REDIS_DB = 11  # a database of the machine's Redis for this test alone (emptied before and after)
WORKER_UNIT = REPO_ROOT / "deploy" / "celery" / "datapakker-celery-worker@.service"
AREAS = [
    "region.hovedstaden",  # the largest pack
    "klynge2022.bornholm",  # one municipality
    "klynge2022.hovedstaden-byen",  # shares København
    "sundhedsraad2027.nordsjaelland",
]
RUN_CONFIG = {"ops": {"warehouse": {"config": {"areas": AREAS, "shards": 2}}}}
RUN_TIMEOUT = 900  # seconds; a run takes 1-3 minutes on two cores shared with other work


def _redis_or_skip() -> None:
    """Skip, saying why, unless Redis answers PING and the test's database is empty."""
    try:
        with socket.create_connection(REDIS, timeout=3) as sock:
            sock.sendall(f"SELECT {REDIS_DB}\r\nDBSIZE\r\n".encode())
            time.sleep(0.2)
            reply = sock.recv(256).decode()
    except OSError as error:
        pytest.skip(f"Redis not reachable on {REDIS[0]}:{REDIS[1]}: {error}")
    if not reply.startswith("+OK"):
        pytest.skip(f"Redis on {REDIS[0]}:{REDIS[1]} refused database {REDIS_DB}: {reply!r}")
    keys = int(reply.split(":")[1].split()[0])
    if keys:
        pytest.skip(f"Redis database {REDIS_DB} holds {keys} keys: in use by something else")


def _flush_redis_db() -> None:
    with socket.create_connection(REDIS, timeout=3) as sock:
        sock.sendall(f"SELECT {REDIS_DB}\r\nFLUSHDB\r\n".encode())
        time.sleep(0.2)


def _copy_sample(root: Path, warehouse: Settings) -> Settings:
    """A folder with the sample's raw files and a copy of its built warehouse."""
    shutil.copytree(SAMPLE_DIR, root / "raw" / "sample")
    (root / "marts").mkdir(parents=True)
    for path in warehouse.marts_dir.glob("warehouse.duckdb*"):
        shutil.copy2(path, root / "marts" / path.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAPAKKE_RAW_DIR", str(root / "raw"))
        patch.setenv("DATAPAKKE_MARTS_DIR", str(root / "marts"))
        return get_settings()


def _worker_command(name: str) -> list[str]:
    """The worker unit's ExecStart for worker ``name``, with this checkout's venv."""
    text = WORKER_UNIT.read_text()
    workdir = re.search(r"^WorkingDirectory=(.+)$", text, re.M).group(1).strip()
    line = re.search(r"^ExecStart=(.+)$", text, re.M).group(1).replace("%i", name)
    venv_bin = f"{workdir}/.venv/bin/"
    return [
        str(Path(sys.executable).parent / a.removeprefix(venv_bin)) if a.startswith(venv_bin) else a
        for a in shlex.split(line)
    ]


@contextlib.contextmanager
def _processes() -> Iterator[dict[str, subprocess.Popen]]:
    """Processes started by the test, each in its own session; all of them and everything they
    started are killed at the end, whatever happened."""
    import psutil

    procs: dict[str, subprocess.Popen] = {}
    try:
        yield procs
    finally:
        tree = []
        for proc in procs.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(proc.pid)
                tree += [parent, *parent.children(recursive=True)]
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(tree, timeout=15)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        for proc in procs.values():
            proc.wait()


def _start(
    procs: dict[str, subprocess.Popen], name: str, command: list[str], env: dict, logs: Path
) -> None:
    procs[name] = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=(logs / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _tail(logs: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:])
        for path in sorted(logs.glob("*.log"))
    )


def _wait(
    what: str,
    ready: Callable[[], bool],
    procs: dict[str, subprocess.Popen],
    logs: Path,
    timeout: float,
) -> None:
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        if ready():
            print(f"{what}: {time.monotonic() - started:.1f} s", file=sys.stderr)
            return
        for name, proc in procs.items():
            # A worker may not end at all; the run's process only with success, at the end.
            if proc.poll() is not None and (proc.returncode != 0 or name.startswith("worker")):
                pytest.fail(f"{name} exited ({proc.returncode}) before {what}\n{_tail(logs)}")
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}\n{_tail(logs)}")


def _the_run(instance: dg.DagsterInstance, job: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(dg.RunsFilter(job_name=job))
    return runs[0] if runs else None


def _launch(procs: dict[str, subprocess.Popen], job: str, env: dict, logs: Path) -> None:
    """`dagster job execute`: the run's orchestrator in a process of its own, as a run worker."""
    config = logs / f"{job}.yaml"
    config.write_text(yaml.safe_dump(RUN_CONFIG))
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [
        dagster,
        "job",
        "execute",
        "-m",
        "pipelines.definitions",
        "-j",
        job,
        "-c",
        str(config),
    ]
    _start(procs, job, command, env, logs)


def _finish(procs: dict[str, subprocess.Popen], job: str, logs: Path) -> None:
    try:
        code = procs[job].wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{job} did not finish in {RUN_TIMEOUT} s\n{_tail(logs)}")
    assert code == 0, _tail(logs)


def _step_workers(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Step key → the Celery worker that ran it (from the run's engine events)."""
    workers = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        metadata = event.event_specific_data.metadata if event else {}
        if "Celery worker" in metadata:
            workers[event.step_key] = metadata["Celery worker"].value
    return workers


def _prints(settings: Settings) -> dict[str, tuple[str, str]]:
    """Area → (its mart's content fingerprint, its pack's cell-value checksum)."""
    from benchmarks.faults import pack_print
    from datapakke.publish.snapshot import content_fingerprint

    prints = {}
    for key in AREAS:
        outputs = settings.area_outputs(*key.split("."))
        prints[key] = (content_fingerprint(outputs.mart), pack_print(outputs.pack))
    return prints


# About 4-8 minutes with the two cores shared with other work, 2.5 of them building the sample's
# warehouse (skipped when another module of the session built it already).
@pytest.mark.executors
def test_fanout_on_celery_and_multiprocess_matches_in_process(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pytest.importorskip("dagster_celery", reason="dagster-celery not installed")
    pytest.importorskip("psutil", reason="psutil not installed")
    _redis_or_skip()
    from datapakke.geography import default_geography
    from datapakke.publish.stage import build_area_marts, build_area_packs

    warehouse = built_warehouse(tmp_path_factory)
    # In process: the stage functions refresh_all's area_mart and area_pack steps call.
    reference = _copy_sample(tmp_path / "in_process", warehouse)
    geo = default_geography()
    build_area_marts([geo.area_by_partition_key(key) for key in AREAS], reference, geo)
    build_area_packs(AREAS, reference)
    expected = _prints(reference)

    home, logs = tmp_path / "dagster_home", tmp_path / "logs"
    home.mkdir()
    logs.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")  # the pool: one slot
    base_env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DATAPAKKE_CELERY_BROKER": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
    }
    # Created here, before the workers: two processes creating a fresh SQLite storage race.
    instance = dg.DagsterInstance.from_config(str(home))
    storage = instance.event_log_storage
    try:
        with _processes() as procs:
            celery = _copy_sample(tmp_path / "celery", warehouse)
            env = {
                **base_env,
                "DATAPAKKE_RAW_DIR": str(celery.raw_dir),
                "DATAPAKKE_MARTS_DIR": str(celery.marts_dir),
            }
            for name in ("w1", "w2"):
                _start(procs, f"worker-{name}", _worker_command(name), env, logs)
            for name in ("w1", "w2"):
                log = logs / f"worker-{name}.log"
                _wait(
                    f"worker {name}", lambda log=log: " ready." in log.read_text(), procs, logs, 180
                )

            # The warehouse pool's one slot is taken (as by a writer in another run): the Celery
            # run's warehouse step must wait for it, then go on once it is free.
            storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
            storage.claim_concurrency_slot(WAREHOUSE_POOL, "another-run", "writer")
            _launch(procs, "refresh_fanout_celery", env, logs)

            def waiting() -> bool:
                run = _the_run(instance, "refresh_fanout_celery")
                info = storage.get_concurrency_info(WAREHOUSE_POOL)
                return run is not None and run.run_id in info.pending_run_ids

            _wait("the warehouse step to wait for the pool", waiting, procs, logs, 180)
            time.sleep(5)
            run = _the_run(instance, "refresh_fanout_celery")
            assert run is not None
            assert _step_workers(instance, run.run_id) == {}  # nothing was sent to a worker
            storage.free_concurrency_slot_for_step("another-run", "writer")
            _finish(procs, "refresh_fanout_celery", logs)

            workers = _step_workers(instance, run.run_id)
            print(f"steps on workers: {workers}", file=sys.stderr)
            steps = {"warehouse", "area_shard[shard_0]", "area_shard[shard_1]", "download_page"}
            assert set(workers) == steps
            assert {worker.split("@")[0] for worker in workers.values()} <= {"w1", "w2"}
            assert _prints(celery) == expected
            assert (celery.site_dir / "index.html").is_file()
            packs = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("area_pack"), asset_partitions=AREAS),
                limit=100,
            ).records
            assert {r.partition_key for r in packs} == set(AREAS)
            assert {r.run_id for r in packs} == {run.run_id}

            # Dagster's multiprocess executor: one process per step, on this machine.
            multiprocess = _copy_sample(tmp_path / "multiprocess", warehouse)
            env = {
                **base_env,
                "DATAPAKKE_RAW_DIR": str(multiprocess.raw_dir),
                "DATAPAKKE_MARTS_DIR": str(multiprocess.marts_dir),
            }
            _launch(procs, "refresh_fanout", env, logs)
            _finish(procs, "refresh_fanout", logs)
            assert _the_run(instance, "refresh_fanout").status == dg.DagsterRunStatus.SUCCESS
            assert _prints(multiprocess) == expected
    finally:
        instance.dispose()
        _flush_redis_db()
