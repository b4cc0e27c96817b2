"""Run retention (pipelines/retention.py) on a local instance: what it must never delete."""

from pathlib import Path

import dagster as dg

from pipelines.retention import prune_runs

LETTERS = dg.StaticPartitionsDefinition(["a", "b"])


@dg.asset(partitions_def=LETTERS)
def letter(context: dg.AssetExecutionContext) -> None:
    """Observes its partition only when the run says so, as area_pack observes only the packs
    it rewrote."""
    if context.run.tags.get("observe"):
        context.log_event(
            dg.AssetObservation(
                asset_key=context.asset_key, partition=context.partition_key, metadata={"n": 1}
            )
        )


def _run(instance: dg.DagsterInstance, observe: bool) -> str:
    result = dg.materialize(
        [letter], partition_key="a", instance=instance, tags={"observe": "1"} if observe else {}
    )
    return result.run_id


def test_a_run_holding_a_partitions_latest_observation_is_kept(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        observed = _run(instance, observe=True)  # the night the pack was built
        quiet = _run(instance, observe=False)  # nights it was unchanged: nothing of its own
        latest = _run(instance, observe=False)
        deleted = prune_runs(instance, days=0)
        assert deleted == [quiet]
        assert instance.get_run_by_id(observed) is not None  # its picture and path stay
        assert instance.get_run_by_id(latest) is not None  # the latest materialization
        records = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=letter.key, asset_partitions=["a"]), limit=1
        ).records
        assert [record.run_id for record in records] == [observed]
