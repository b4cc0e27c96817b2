"""The Dagster code location end to end: loads, materializes everything, fails safely, automates.

Everything runs against a temporary copy of the sample, a temporary marts folder and a temporary
DAGSTER_HOME, never the real ``data/``.
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.partitions import ALL_AREAS_TAGS, area_partitions
from assets.resources import DatapakkeSettings
from datapakke.config import REPO_ROOT, SAMPLE_DIR
from datapakke.geography import default_geography
from datapakke.raw.registry import load_registry
from datapakke.raw.stage import ingest_sources
from pipelines.definitions import defs
from pipelines.schedules import nightly_refresh
from pipelines.sensors import raw_file_sensor, refresh_failure_sensor, stopped_refresh_sensor

EXPECTED_ASSETS = {
    "raw_folk1a_population", "raw_fod207_deaths", "raw_aed06_home_help",
    "raw_hjemsyg_home_nursing", "raw_sygk1_gp_contacts", "raw_esundhed_aeldre",
    "raw_ruks_prevalence", "raw_ruks_copd_admissions", "raw_esundhed_psykiatri",
    "raw_esundhed_aktivitet", "raw_sundhedsprofil_survey", "core_tables", "indicator_values",
    "area_mart", "area_pack", "download_site",
}  # fmt: skip
FETCH_ASSETS = {"statbank_extracts"}  # needs network: not part of refresh_all


def test_code_location_loads_with_the_expected_asset_graph() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS | FETCH_ASSETS  # a snapshot: renames break other tools' paths
    groups = {graph.get(dg.AssetKey(k)).group_name for k in keys}
    assert groups == {"raw", "core", "marts", "packs", "site", "fetch"}
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert jobs >= {"refresh_all", "build_area", "fetch_statbank"}
    fetch_node = graph.get(dg.AssetKey("statbank_extracts"))
    assert fetch_node.assets_def.op.retry_policy.max_retries == 3
    check_names = {key.name for key in graph.asset_check_keys}
    assert {"validation", "disclosure_audit", "reference_integrity"} <= check_names


def test_partitions_match_the_reference_data() -> None:
    keys = area_partitions.get_partition_keys()
    assert keys == default_geography().partition_keys
    assert len(keys) == 22 + 17 + 5
    assert "klynge2022.nordjylland-midt" in keys and "sundhedsraad2027.fyn" in keys


def test_partition_pickers_name_each_area() -> None:
    """Dagster shows partition keys only: the per-area assets' descriptions name each one."""
    geo = default_geography()
    graph = defs.resolve_asset_graph()
    for key in ("area_mart", "area_pack"):
        description = graph.get(dg.AssetKey(key)).description
        for area in geo.areas.values():
            assert f"| `{area.partition_key}` | {area.name} |" in description, (key, area)


def test_nightly_schedule_runs_at_0230_copenhagen_for_all_areas() -> None:
    assert nightly_refresh.cron_schedule == "30 2 * * *"
    assert nightly_refresh.execution_timezone == "Europe/Copenhagen"
    when = datetime(2026, 11, 23, 2, 30, tzinfo=ZoneInfo("Europe/Copenhagen"))
    context = dg.build_schedule_context(scheduled_execution_time=when)
    request = nightly_refresh(context)
    assert request.tags == ALL_AREAS_TAGS
    # 02:30 local time every night; on 29 March 2026 02:30 does not exist and the run is at 03:00.
    from dagster._utils.schedules import cron_string_iterator

    start = datetime(2026, 3, 27, 12, 0, tzinfo=ZoneInfo("Europe/Copenhagen")).timestamp()
    ticks = cron_string_iterator(start, "30 2 * * *", "Europe/Copenhagen")
    local = [next(ticks).astimezone(ZoneInfo("Europe/Copenhagen")) for _ in range(4)]
    assert [(t.hour, t.minute) for t in local] == [(2, 30), (3, 0), (2, 30), (2, 30)]
    assert [t.day for t in local] == [28, 29, 30, 31]


@pytest.fixture
def loaded_sample(tmp_path: Path) -> DatapakkeSettings:
    """A warehouse that has loaded the embedded sample (raw stage only), in tmp_path."""
    shutil.copytree(SAMPLE_DIR, tmp_path / "raw" / "sample")
    settings = DatapakkeSettings(raw_dir=str(tmp_path / "raw"), marts_dir=str(tmp_path / "marts"))
    ingest_sources(load_registry(), settings.get(), default_geography())
    return settings


class SensorTicks:
    """Ticks of the file sensor, keeping its cursor as the daemon would (also over a restart)."""

    def __init__(self, settings: DatapakkeSettings) -> None:
        self.settings, self.cursor = settings, None

    def tick(self) -> tuple[list[dg.RunRequest], str]:
        """The run requests and the skip message of one tick."""
        context = dg.build_sensor_context(cursor=self.cursor, resources={"settings": self.settings})
        result = raw_file_sensor(context)
        if isinstance(result, dg.SkipReason):
            return [], result.skip_message or ""
        self.cursor = result.cursor or self.cursor
        skip = result.skip_reason.skip_message if result.skip_reason else ""
        return list(result.run_requests or []), skip or ""

    def settled(self) -> tuple[list[dg.RunRequest], str]:
        """Tick until files have been still for one tick (a first sight only records them)."""
        self.tick()
        return self.tick()


def _changed(requests: list[dg.RunRequest]) -> str:
    assert len(requests) == 1
    return requests[0].tags["datapakke/changed_sources"]


def test_loading_the_code_location_leaves_the_heavy_libraries_for_the_steps() -> None:
    """Every run, the UI and each multiprocess step load the code location: scipy's statistics
    and solvers, matplotlib and openpyxl are imported by the steps that draw or compute, not by
    the load."""
    heavy = "{'scipy.stats', 'scipy.optimize', 'matplotlib', 'openpyxl'}"
    code = f"import sys, pipelines.definitions; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_sensor_sees_the_truth_of_data_raw(loaded_sample: DatapakkeSettings) -> None:
    raw = Path(loaded_sample.raw_dir)
    sensor = SensorTicks(loaded_sample)
    # the sample is what the warehouse holds: not a drop, no run
    assert sensor.settled() == ([], "data/raw/ holds what the warehouse loaded")
    # a burst of two drops, the second still being copied: nothing until both are still
    drop = raw / "statbank" / "AED06" / "AED06-2026.csv"
    drop.parent.mkdir(parents=True)
    shutil.copyfile(raw / "sample" / "statbank" / "AED06.csv", drop)
    partial = raw / "statbank" / "HJEMSYG" / "HJEMSYG-2026.csv"
    partial.parent.mkdir(parents=True)
    content = (raw / "sample" / "statbank" / "HJEMSYG.csv").read_bytes()
    partial.write_bytes(content[: len(content) // 2])
    requests, skip = sensor.tick()
    assert not requests and "waiting" in skip
    partial.write_bytes(content)  # the copy completes
    assert sensor.tick()[0] == []
    requests, _ = sensor.tick()
    assert _changed(requests) == "aed06_home_help, hjemsyg_home_nursing"  # one run for both
    # a restart: the daemon keeps the cursor; the same state gives the same run key (run once)
    restarted = SensorTicks(loaded_sample)
    restarted.cursor = sensor.cursor
    assert restarted.tick()[0][0].run_key == requests[0].run_key
    # once loaded, quiet; deleting a drop is a change
    ingest_sources(load_registry(), loaded_sample.get(), default_geography())
    assert sensor.tick() == ([], "data/raw/ holds what the warehouse loaded")
    drop.unlink()
    assert _changed(sensor.settled()[0]) == "aed06_home_help"
    # editor lock files and partial downloads are not drops: still only the deletion
    (raw / "statbank" / "HJEMSYG" / "~$HJEMSYG-2026.xlsx").write_bytes(b"lock")
    (raw / "statbank" / "HJEMSYG" / "HJEMSYG-2027.csv.crdownload").write_bytes(b"half")
    assert _changed(sensor.settled()[0]) == "aed06_home_help"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole graph materialized once on a temporary copy of the sample."""
    root = tmp_path_factory.mktemp("e2e")
    raw = root / "raw"
    shutil.copytree(SAMPLE_DIR, raw / "sample")
    patch = pytest.MonkeyPatch()
    patch.setenv("DATAPAKKE_RAW_DIR", str(raw))
    patch.setenv("DATAPAKKE_MARTS_DIR", str(root / "marts"))
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=instance, tags=ALL_AREAS_TAGS
    )
    yield {"root": root, "raw": raw, "marts": root / "marts", "result": result,
           "instance": instance}  # fmt: skip
    patch.undo()


def check_results(result) -> dict[str, bool]:
    return {
        f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:"
        f"{e.asset_check_evaluation_data.check_name}": e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_refresh_all_builds_every_pack_and_the_site(built) -> None:
    result, marts = built["result"], built["marts"]
    assert result.success
    checks = check_results(result)
    assert checks["indicator_values:disclosure_audit"]
    assert checks["indicator_values:indicator_value_schema_check"]
    assert checks["core_tables:reference_integrity"]
    assert all(passed for name, passed in checks.items() if name.endswith(":validation"))
    for area in default_geography().areas.values():
        folder = marts / area.grouping / area.area_id
        assert (folder / "mart.duckdb").exists()
        assert (folder / f"datapakke-{area.grouping}-{area.area_id}.xlsx").stat().st_size > 10_000
        assert (folder / "charts" / "overview.png").exists()
    assert (marts / "site" / "index.html").exists()
    assert (marts / "warehouse.duckdb").exists()
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == EXPECTED_ASSETS
    # each area_pack partition has its own path, size, build time and overview in the UI
    observed = {
        e.partition: e.asset_observation_data.asset_observation.metadata
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION" and e.asset_key.to_user_string() == "area_pack"
    }
    assert set(observed) == set(area_partitions.get_partition_keys())
    bornholm = observed["klynge2022.bornholm"]
    assert bornholm["path"].value.endswith("datapakke-klynge2022-bornholm.xlsx")
    assert bornholm["area_name"].value == "Sundhedsklynge Bornholm"
    assert bornholm["size_kb"].value > 10 and bornholm["built_at"].value > 0
    assert "data:image/png;base64," in bornholm["overview"].value
    # the small copy the pack's build made beside the chart (not a 1.7k px chart per partition)
    small = marts / "klynge2022" / "bornholm" / "charts" / "overview-lille.png"
    assert base64.b64encode(small.read_bytes()).decode("ascii") in bornholm["overview"].value


def _file_states(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``folder``: modification time (ns) and SHA-256."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _data_versions(result: dg.ExecuteInProcessResult) -> dict[str, str | None]:
    return {
        event.asset_key.to_user_string(): event.materialization.tags.get("dagster/data_version")
        for event in result.get_asset_materialization_events()
        if event.partition is None
    }


def test_a_night_with_nothing_new_rewrites_nothing(built) -> None:
    """Issue 15: the same sources, reference data and code again: every asset is materialized
    (the nightly run is on record, the freshness check stays green) with the same data version,
    and no file under data/marts is touched: no pack, no history version, no site."""
    marts, instance = built["marts"], built["instance"]
    before = _file_states(marts)
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=instance, tags=ALL_AREAS_TAGS
    )
    assert result.success
    assert _file_states(marts) == before
    first, again = _data_versions(built["result"]), _data_versions(result)
    for key in ("core_tables", "indicator_values", "download_site"):
        assert again[key] is not None and again[key] == first[key], key
    # no pack changed, so no partition is observed again (its picture would fill the event
    # log night after night); each keeps the observation of the night it was built
    observed = [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    assert not [e for e in observed if e.asset_key.to_user_string() == "area_pack"]
    latest = {
        record.partition_key: record.event_log_entry.asset_observation.metadata
        for record in instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("area_pack")), limit=1000
        ).records[::-1]  # oldest first: the newest of each partition wins
    }
    assert set(latest) == set(area_partitions.get_partition_keys())
    bornholm = latest["klynge2022.bornholm"]
    assert bornholm["path"].value.endswith("datapakke-klynge2022-bornholm.xlsx")
    assert "data:image/png;base64," in bornholm["overview"].value


def test_one_area_can_be_rebuilt_alone_and_an_identical_pack_is_not_rewritten(built) -> None:
    key = "klynge2022.nordjylland-midt"
    folder = built["marts"] / "klynge2022" / "nordjylland-midt"
    result = defs.resolve_job_def("build_area").execute_in_process(
        instance=built["instance"], partition_key=key
    )
    assert result.success
    events = result.get_asset_materialization_events()
    pack_events = [e for e in events if e.asset_key.to_user_string() == "area_pack"]
    assert [e.partition for e in pack_events] == [key]
    metadata = pack_events[0].materialization.metadata
    assert metadata["path"].value.endswith("datapakke-klynge2022-nordjylland-midt.xlsx")
    assert "data:image/png;base64," in metadata["overview"].value
    assert metadata["unchanged"].value == 1  # same data, same code: no new version
    assert not list((folder / "history").glob("*.xlsx"))


def test_one_source_can_be_refreshed_alone(built) -> None:
    from assets import raw

    key = dg.AssetKey("raw_fod207_deaths")
    result = dg.materialize(
        [raw.raw_sources],
        selection=[key],
        instance=built["instance"],
        resources={"settings": DatapakkeSettings()},
    )
    assert result.success
    assert {e.asset_key for e in result.get_asset_materialization_events()} == {key}
    assert check_results(result) == {"raw_fod207_deaths:validation": True}


def _sensor_context(
    name: str, result: dg.ExecuteInProcessResult, built: dict
) -> dg.RunStatusSensorContext:
    """The context a run-status sensor gets for ``result``'s run (its last run event)."""
    return dg.build_run_status_sensor_context(
        sensor_name=name,
        dagster_event=result.get_run_success_event()
        if result.success
        else result.get_run_failure_event(),
        dagster_instance=built["instance"],
        dagster_run=result.dagster_run,
        resources={"settings": DatapakkeSettings()},
    )


def test_a_broken_source_fails_its_check_and_leaves_the_packs_in_place(built) -> None:
    marts = built["marts"]
    packs = sorted(marts.glob("*/*/datapakke-*.xlsx"))
    before = {p: p.read_bytes() for p in packs}
    folk1a = built["raw"] / "sample" / "statbank" / "FOLK1A.csv"
    original = folk1a.read_bytes()
    folk1a.write_bytes(b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>")
    try:
        result = defs.resolve_job_def("refresh_all").execute_in_process(
            instance=built["instance"], tags=ALL_AREAS_TAGS, raise_on_error=False
        )
    finally:
        folk1a.write_bytes(original)
    checks = check_results(result)
    assert checks["raw_folk1a_population:validation"] is False
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "raw_folk1a_population" not in materialized
    assert "area_pack" not in materialized and "indicator_values" not in materialized
    # Honest status (issue 15): nothing that never ran is painted failed; it was skipped.
    types = [e.event_type_value for e in result.all_events]
    assert "STEP_FAILURE" not in types and "ASSET_FAILED_TO_MATERIALIZE" not in types
    skipped = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert {"core_tables", "indicator_values", "area_pack", "download_site"} <= skipped
    assert {p: p.read_bytes() for p in packs} == before
    # the sensor tells the download page, which keeps offering yesterday's packs
    stopped_refresh_sensor(_sensor_context("stopped_refresh_sensor", result, built))
    run = built["instance"].get_run_by_id(result.run_id)
    assert run.tags["datapakke/stopped"] == "rejected source: nothing published"
    page = (marts / "site" / "index.html").read_text(encoding="utf-8")
    assert "Den seneste opdatering" in page and "mislykkedes" in page
    assert "statbank/FOLK1A" in page or "FOLK1A.csv" in page  # the reason, as on the terminal
    assert "Data pr. " in page  # the last good refresh (the fixture's) is still named
    assert {p: p.read_bytes() for p in packs} == before


def test_a_failed_run_is_told_by_the_failure_sensor(built) -> None:
    """A step that fails (here the page's, with an error of its own) fails the run; the failure
    sensor puts when and why on the download page."""
    from datapakke.publish import site

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the site folder went away")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(site, "refresh_site", broken)
        result = defs.resolve_job_def("refresh_all").execute_in_process(
            instance=built["instance"], tags=ALL_AREAS_TAGS, raise_on_error=False
        )
    assert not result.success
    refresh_failure_sensor(
        _sensor_context("refresh_failure_sensor", result, built).for_run_failure()
    )
    page = (built["marts"] / "site" / "index.html").read_text(encoding="utf-8")
    assert "mislykkedes" in page and "the site folder went away" in page
    assert "Data pr. " in page


def test_webserver_starts_and_lists_the_assets(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "pipelines.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
        deadline = time.monotonic() + 120
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = json.loads(response.read())
                if body.get("data", {}).get("assetNodes"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "webserver did not answer within 120 s"
            time.sleep(1)
        names = {"/".join(node["assetKey"]["path"]) for node in body["data"]["assetNodes"]}
        assert names == EXPECTED_ASSETS | FETCH_ASSETS
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_exploration_notebook_runs_against_a_built_mart(built, monkeypatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("DATAPAKKE_MARTS_DIR", str(built["marts"]))
    notebook = nbformat.read(REPO_ROOT / "notebooks" / "01-explore-area-mart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()  # fmt: skip
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the chart was drawn
