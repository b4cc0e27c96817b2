"""kill -9 of a refresh at each stage: nothing lost, nothing half-written, the next run recovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults import KILL_POINTS, Baseline, KillPoint, kill_fault

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: p.name)
def test_a_killed_refresh_leaves_whole_packs_and_the_next_run_recovers(
    baseline: Baseline, point: KillPoint, tmp_path: Path
) -> None:
    outcome = kill_fault(baseline, point, tmp_path)
    assert outcome.survived, (outcome.message, outcome.problems)
    assert (outcome.rows_lost, outcome.wrong_figures) == (0, 0)
