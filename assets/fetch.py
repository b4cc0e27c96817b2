"""Fetching: StatBank extracts into data/raw/statbank/, with retries (needs network, so it is
not part of refresh_all; the file sensor starts a refresh when a fetched extract is new)."""

import dagster as dg

from assets.resources import DatapakkeSettings


@dg.asset(
    group_name="fetch",
    description="Pulls the tables in data/reference/statbank_tables.yaml from api.statbank.dk and "
    "stores each new extract immutably under data/raw/statbank/<TABLE>/ with its request.",
    kinds={"python"},
    owners=["team:datapakker"],
    code_version="1",
    retry_policy=dg.RetryPolicy(max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL),
)
def statbank_extracts(
    context: dg.AssetExecutionContext, settings: DatapakkeSettings
) -> dg.MaterializeResult:
    from datapakke.raw.fetch import fetch_configured
    from datapakke.raw.statbank import StatBankClient

    resolved = settings.get()
    client = StatBankClient(resolved.statbank_url)
    stored = fetch_configured(client, raw_dir=resolved.raw_dir, log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "new_extracts": len(stored),
            "files": dg.MetadataValue.md("\n".join(f"- {p.name}" for p in stored) or "none new"),
        }
    )


fetch_statbank = dg.define_asset_job(
    "fetch_statbank",
    selection=dg.AssetSelection.assets(statbank_extracts),
    description="Fetch StatBank extracts (network); the raw file sensor then refreshes the packs.",
)
