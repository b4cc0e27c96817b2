"""Readers holding the marts open, and a second `make run` while one runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults import Baseline, reader_before_fault, reader_during_fault, second_run_fault

pytestmark = pytest.mark.faults


@pytest.mark.parametrize(
    "fault", [reader_before_fault, reader_during_fault, second_run_fault], ids=lambda f: f.__name__
)
def test_concurrent_use_never_corrupts_and_is_told_in_one_line(
    baseline: Baseline, fault, tmp_path: Path
) -> None:
    outcome = fault(baseline, tmp_path)
    assert outcome.survived, (outcome.message, outcome.problems)
    assert (outcome.rows_lost, outcome.wrong_figures) == (0, 0)
