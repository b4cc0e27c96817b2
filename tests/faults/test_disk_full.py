"""A full disk while packs are written: one clear line, the previous packs whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults import Baseline, disk_full_fault


@pytest.mark.faults
def test_a_full_disk_stops_the_run_clearly_and_keeps_the_previous_packs(
    baseline: Baseline, tmp_path: Path
) -> None:
    outcome = disk_full_fault(baseline, tmp_path)
    assert outcome.survived, (outcome.message, outcome.problems)
    assert (outcome.rows_lost, outcome.wrong_figures) == (0, 0)


def test_a_full_disk_is_one_line_without_a_traceback() -> None:
    from pipelines.outcome import disk_full_line

    pool = [("RemoteTraceback", "..."), ("OSError", "[Errno 28] No space left on device")]
    duck = [("IOException", "IO Error: Could not write file 'x.wal': No space left on device")]
    for chain in (pool, duck):
        line = disk_full_line("area_pack", chain)
        assert line is not None and line.startswith("area_pack: the disk is full (No space left")
    assert disk_full_line("area_pack", [("ValueError", "bad value")]) is None
