"""What `make run` prints when things go wrong: one line per problem, no stack traces.

Each test runs ``python -m pipelines.run_all`` as `make run` does, on a temporary copy of the
sample, a temporary marts folder and a temporary DAGSTER_HOME, and reads its terminal output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from datapakke.config import REFERENCE_DIR, REPO_ROOT, SAMPLE_DIR
from pipelines.recovery import HOST_TAG, PID_TAG, owner_tags
from tests.orchestration.test_recovery import dead_pid, run_holding_the_slot

DAGSTER_NOISE = ("Traceback", "Stack Trace", "Error occurred while executing op", "STEP_FAILURE")


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """A raw folder holding the sample, an empty marts folder and a DAGSTER_HOME."""
    raw, marts, home = tmp_path / "raw", tmp_path / "marts", tmp_path / "home"
    shutil.copytree(SAMPLE_DIR, raw / "sample")
    marts.mkdir()
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return {"raw": raw, "marts": marts, "home": home, "root": tmp_path}


def make_run(place: dict[str, Path], **env: str) -> tuple[int, str, float]:
    """`make run` on the temporary place: exit code, everything on the terminal, seconds."""
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(place["home"]),
        "DATAPAKKE_RAW_DIR": str(place["raw"]),
        "DATAPAKKE_MARTS_DIR": str(place["marts"]),
        **env,
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.run_all"],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=900,
        check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def drop_folk1a_with_a_renamed_column(raw: Path) -> Path:
    """A StatBank extract whose value column was renamed (INDHOLD → ANTAL) on the way."""
    text = (SAMPLE_DIR / "statbank" / "FOLK1A.csv").read_text(encoding="utf-8-sig")
    drop = raw / "statbank" / "FOLK1A" / "FOLK1A-2020.csv"
    drop.parent.mkdir(parents=True)
    header, _, rest = text.partition("\n")
    drop.write_text(header.replace("INDHOLD", "ANTAL") + "\n" + rest, encoding="utf-8")
    return drop


def test_a_rejected_drop_after_a_killed_run_gives_one_line_and_no_traceback(
    place: dict[str, Path],
) -> None:
    drop_folk1a_with_a_renamed_column(place["raw"])
    with dg.DagsterInstance.from_config(str(place["home"])) as instance:
        killed = run_holding_the_slot(instance, {PID_TAG: str(dead_pid()), **_here()})
    code, out, _ = make_run(place)
    assert code == 1, out
    assert not [noise for noise in DAGSTER_NOISE if noise in out], out
    lines = out.splitlines()
    assert lines[0].startswith(f"Recovered: run {killed.run_id[:8]} ")
    assert "marked failed and its warehouse slot freed" in lines[0]
    assert lines[1].startswith("Refresh FAILED after ")
    problem = [line for line in lines if "FOLK1A-2020.csv" in line]
    assert len(problem) == 1, out
    assert problem[0].strip().startswith("statbank/FOLK1A/FOLK1A-2020.csv: rejected: ")
    assert "INDHOLD" in problem[0] and "ANTAL" in problem[0]  # what was wanted, what was found
    assert "What to do: check the column names against data/reference/sources.yaml" in problem[0]
    assert "asset raw_folk1a_population, check validation" in problem[0]
    assert "raw.quarantine with source_id = 'folk1a_population'" in problem[0]
    assert len(lines) == 3, out  # recovered, failed, the one source
    with dg.DagsterInstance.from_config(str(place["home"])) as instance:
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        # the stopped run is green in the run list (nothing failed); its tag says why
        stopped = instance.get_runs(limit=1)[0]
        assert stopped.run_id != killed.run_id
        assert stopped.tags["datapakke/stopped"] == "rejected source: nothing published"
        check = _last_validation(instance, "raw_folk1a_population")
        assert check.description == problem[0].strip()  # the UI says the same


def test_a_live_refresh_makes_the_next_one_refuse_at_once(place: dict[str, Path]) -> None:
    with dg.DagsterInstance.from_config(str(place["home"])) as instance:
        live = run_holding_the_slot(instance, owner_tags())
    code, out, seconds = make_run(place)
    assert code == 2, out
    assert out.strip() == (
        f"Refresh NOT started: another refresh (run {live.run_id[:8]}, pid {os.getpid()}, job "
        f"refresh_all) is running since {out.split(' is running since ')[1][:19]}; wait for it "
        f"to finish or stop it (kill {os.getpid()}), then run make run again."
    )
    assert seconds < 120  # no waiting for the slot: only Python's start-up


def test_a_locked_warehouse_is_one_line(place: dict[str, Path]) -> None:
    warehouse = place["marts"] / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)):  # a reader that forgot read_only=True
        code, out, _ = make_run(place)
    assert code == 2, out
    assert out.strip().startswith(f"Refresh NOT started: {warehouse} is open in another program")
    assert f"pid {os.getpid()})" in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_bad_reference_data_is_one_line_and_nothing_is_built(place: dict[str, Path]) -> None:
    reference = place["root"] / "reference"
    shutil.copytree(REFERENCE_DIR, reference)
    path = reference / "municipalities.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("147,Frederiksberg,084,Region Hovedstaden,", "147,Frederiksberg,084,,"), encoding="utf-8")  # fmt: skip
    code, out, _ = make_run(place, DATAPAKKE_REFERENCE_DIR=str(reference))
    assert code == 1, out
    assert out.strip() == (
        f"Refresh FAILED: bad reference data: {path}, row 3: region_name is blank. "
        "Nothing was built or published."
    )
    assert list(place["marts"].iterdir()) == []


def _here() -> dict[str, str]:
    return {HOST_TAG: owner_tags()[HOST_TAG]}


def _last_validation(instance: dg.DagsterInstance, asset: str) -> dg.AssetCheckEvaluation:
    key = dg.AssetCheckKey(dg.AssetKey(asset), "validation")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    return record.event.dagster_event.asset_check_evaluation_data
