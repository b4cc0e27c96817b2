"""Clock edges: the nightly schedule across daylight-saving changes, a refresh past midnight."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from benchmarks.faults import COPENHAGEN, dst_fault, dst_ticks, midnight_fault


def test_one_nightly_run_per_day_across_the_dst_changes_of_2026_and_2027() -> None:
    outcome = dst_fault()
    assert outcome.survived, outcome.problems


def test_the_dst_nights_run_once_at_the_documented_times() -> None:
    """Spring: 02:30 does not exist, the run starts at 03:00. Autumn: 02:30 comes twice, the
    run starts once (at the second, in winter time)."""
    nights = {
        day: [f"{t.astimezone(COPENHAGEN):%H:%M %Z}" for t in dst_ticks(day, day)]
        for day in (date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31))
    }
    assert nights == {
        date(2026, 3, 29): ["03:00 CEST"],
        date(2026, 10, 25): ["02:30 CET"],
        date(2027, 3, 28): ["03:00 CEST"],
        date(2027, 10, 31): ["02:30 CET"],
    }


def test_a_refresh_past_midnight_dates_its_pack_by_one_moment(tmp_path: Path) -> None:
    outcome = midnight_fault(tmp_path)
    assert outcome.survived, outcome.problems
