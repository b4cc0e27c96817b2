"""Time the full refresh of the sample (44 packs) on three executors and print a table:

- in process: ``refresh_all``, one step per stage, the areas in a pool of 2 inside their steps;
- multiprocess: ``refresh_fanout``, one process per step, the areas dealt into shards;
- Celery: ``refresh_fanout_celery``, the same steps on two Celery workers (Redis broker).

Each run starts from an empty marts folder (everything is read, computed and published) and is
launched with ``dagster job execute`` in a fresh process, as a run worker would be, so the wall
time includes loading the code location. Every run's packs are checked against the in-process
ones (cell values), so a fast wrong run cannot pass. Everything is written under a temporary
folder; data/ is not touched.

    python -m benchmarks.executors [--shards 4] [--broker redis://127.0.0.1:6379/12]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml

from datapakke.config import REPO_ROOT, SAMPLE_DIR

BIN = Path(sys.executable).parent
WORKER_COMMAND = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
WORKER_COMMAND += ["-y", "deploy/celery/celery.yaml"]


@dataclass
class Timing:
    executor: str
    job: str
    seconds: float  # wall time of `dagster job execute`
    warehouse: float  # the steps that write the warehouse (ingest, core, indicators)
    areas: float  # first area step started → last area step finished
    steps: int
    same_packs: str  # against the in-process packs


def _launch(job: str, env: dict[str, str], folder: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    command = [str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-j", job]
    command += extra
    with (folder / f"{job}.log").open("wb") as log:
        subprocess.run(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True
        )
    return time.perf_counter() - started


def _step_spans(home: Path, job: str) -> tuple[float, float, int]:
    """(warehouse seconds, area span seconds, steps) of the job's run, from its step events."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(dg.RunsFilter(job_name=job))[0]
        stats = instance.get_run_step_stats(run.run_id)
    writers = {"raw_sources", "core_tables", "indicator_values", "warehouse"}
    warehouse = sum(s.end_time - s.start_time for s in stats if s.step_key in writers)
    areas = [s for s in stats if s.step_key.startswith("area_")]
    span = max(s.end_time for s in areas) - min(s.start_time for s in areas) if areas else 0.0
    return warehouse, span, len(stats)


def _pack_prints(marts: Path) -> dict[str, str]:
    from benchmarks.faults import pack_print

    return {str(p.relative_to(marts)): pack_print(p) for p in marts.glob("*/*/datapakke-*.xlsx")}


def _workers(env: dict[str, str], folder: Path) -> list[subprocess.Popen]:
    """Two Celery workers, one step at a time each, as deploy/celery's unit starts them."""
    procs = []
    for name in ("w1", "w2"):
        log = folder / f"worker-{name}.log"
        procs.append(
            subprocess.Popen(
                [*WORKER_COMMAND, "-n", name, "--", "--pool=solo"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 180
        while " ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or procs[-1].poll() is not None:
                raise RuntimeError(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    """Each worker and everything it started (dagster-celery runs `celery` as a child)."""
    import psutil

    tree = []
    for proc in procs:
        try:
            parent = psutil.Process(proc.pid)
            tree += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    for process in tree:
        process.terminate()
    for process in psutil.wait_procs(tree, timeout=30)[1]:
        process.kill()
    for proc in procs:
        proc.wait()


def run(shards: int, broker: str) -> list[Timing]:
    import redis

    from assets.partitions import ALL_AREAS_TAGS

    queue = redis.Redis.from_url(broker)
    if queue.dbsize():
        raise SystemExit(f"{broker} is not empty: in use by something else; pass --broker")
    scratch = Path(tempfile.mkdtemp(prefix="datapakke-executors-"))
    try:
        home = scratch / "dagster_home"
        home.mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
        dg.DagsterInstance.from_config(str(home)).dispose()  # storage made before any worker
        config = scratch / "fanout.yaml"
        config.write_text(yaml.safe_dump({"ops": {"warehouse": {"config": {"shards": shards}}}}))
        plans = [
            ("in process", "refresh_all", ["--tags", json.dumps(ALL_AREAS_TAGS)]),
            ("multiprocess", "refresh_fanout", ["-c", str(config)]),
            ("celery, 2 workers", "refresh_fanout_celery", ["-c", str(config)]),
        ]
        timings, reference = [], None
        for executor, job, extra in plans:
            folder = scratch / job
            shutil.copytree(SAMPLE_DIR, folder / "raw" / "sample")
            env = {
                **os.environ,
                "DAGSTER_HOME": str(home),
                "DATAPAKKE_RAW_DIR": str(folder / "raw"),
                "DATAPAKKE_MARTS_DIR": str(folder / "marts"),
                "DATAPAKKE_CELERY_BROKER": broker,
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            }
            workers = _workers(env, folder) if "celery" in job else []
            try:
                seconds = _launch(job, env, folder, extra)
            finally:
                _stop(workers)
            prints = _pack_prints(folder / "marts")
            reference = reference or prints
            same = "yes" if prints == reference else f"NO ({len(prints)} packs)"
            timings.append(Timing(executor, job, seconds, *_step_spans(home, job), same))
            print(f"{executor}: {seconds:.1f} s", file=sys.stderr)
        return timings
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        queue.flushdb()  # the broker's queues and results of these runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=4, help="area steps of the fan-out jobs")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    timings = run(args.shards, args.broker)
    print(f"Full refresh of the sample (44 packs), {os.cpu_count()} cores, shards={args.shards}\n")
    print(
        "| executor | job | wall s | warehouse steps s | area steps span s | steps | same packs |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for t in timings:
        print(
            f"| {t.executor} | `{t.job}` | {t.seconds:.1f} | {t.warehouse:.1f} | {t.areas:.1f} "
            f"| {t.steps} | {t.same_packs} |"
        )


if __name__ == "__main__":
    main()
