"""Bad reference data: the run names file and row and publishes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults import BAD_REFERENCE, Baseline, reference_fault

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("case", list(BAD_REFERENCE))
def test_bad_reference_data_names_file_and_row_and_publishes_nothing(
    baseline: Baseline, case: str, tmp_path: Path
) -> None:
    outcome = reference_fault(baseline.scratch, case, tmp_path, baseline)
    assert outcome.survived, (outcome.message, outcome.problems)
    assert (outcome.rows_lost, outcome.wrong_figures) == (0, 0)
