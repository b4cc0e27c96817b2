"""What went wrong in a refresh, in one line per problem, and telling the download page.

Shared by ``make run`` (its terminal lines) and the Dagster failure sensor (the UI's runs), so
the page, the terminal and the UI say the same thing.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from datapakke.config import Settings
from datapakke.raw.advice import explain_step_failure

STOPPED_TAG = "datapakke/stopped"


def mark_stopped(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag a run stopped by a rejected source: it is green in the UI's run list (nothing failed,
    the rest was skipped), and the tag says beside it that it published nothing."""
    instance.add_run_tags(run_id, {STOPPED_TAG: "rejected source: nothing published"})


def stopped_by_check(events: Iterable[dg.DagsterEvent]) -> bool:
    """Whether a check of severity ERROR failed: a rejected source is not materialized and all
    that depends on it is skipped, so the run itself succeeds, yet the refresh did not happen."""
    return any(
        _failed_check(event)
        and event.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.ERROR
        for event in events
    )


def problem_lines(events: Iterable[dg.DagsterEvent]) -> tuple[list[str], list[str]]:
    """(one line per failed check and failed step, the first unexpected traceback if any)."""
    problems: list[str] = []
    tracebacks: list[str] = []
    for event in events:
        if _failed_check(event):
            problems.append(_check_line(event.asset_check_evaluation_data))
        elif event.is_step_failure:
            error = event.event_specific_data.error
            full = disk_full_line(event.step_key, _chain(error))
            if full:
                problems.append(full)
                continue
            explained = explain_step_failure(event.step_key, _chain(error))
            problems += [explained.line] if explained.line else []
            if explained.unexpected and not tracebacks:
                tracebacks.append(error.to_string())
    return problems, tracebacks


# How a full disk (or quota, or file-size limit) reads in Python's and DuckDB's messages.
_DISK_FULL = ("No space left on device", "Errno 28]", "Disk quota exceeded", "File too large")


def disk_full_line(step: str, chain: list[tuple[str, str]]) -> str | None:
    """One line for a write that failed for want of space (None for any other error).

    Expected on a full disk, so no traceback: the user's move is to make room, not to debug.
    """
    for _cls_name, message in chain:
        reason = next((text for text in _DISK_FULL if text in message), None)
        if reason:
            reason = "No space left on device" if reason == "Errno 28]" else reason
            return (
                f"{step}: the disk is full ({reason}); nothing half-written was kept. Make room "
                "on the disk that holds data/marts, then run make run again"
            )
    return None


def publish_failure(settings: Settings, problems: list[str]) -> None:
    """Record the failed attempt and rebuild the download page from yesterday's packs, so it
    says the latest refresh failed, when and why (best effort: the failure is already told)."""
    try:
        from datapakke.geography import default_geography
        from datapakke.publish.refresh_status import record_failure
        from datapakke.publish.site import refresh_site

        record_failure(settings, datetime.now(UTC), "; ".join(problems) or "se kørslen i Dagster")
        if settings.marts_dir.is_dir():
            refresh_site(settings, default_geography())
    except Exception as exc:  # the refresh already failed: say so, never mask it
        print(f"  (the download page could not be updated: {exc})")


def _failed_check(event: dg.DagsterEvent) -> bool:
    return (
        event.event_type_value == "ASSET_CHECK_EVALUATION"
        and not event.asset_check_evaluation_data.passed
    )


def _check_line(check: dg.AssetCheckEvaluation) -> str:
    """A source's validation check carries its advice line; other checks are named."""
    if check.check_name == "validation" and check.description:
        return check.description
    name = f"{check.asset_key.to_user_string()}:{check.check_name}"
    return f"check {name} did not pass" + (f": {check.description}" if check.description else "")


def _chain(error: SerializableErrorInfo | None) -> list[tuple[str, str]]:
    """(class name, message) of an error and its causes, outermost first."""
    chain = []
    while error is not None:
        chain.append((error.cls_name or "", error.message or ""))
        error = error.cause or error.context
    return chain
