"""Every bad-input fixture, dropped as a source's file and run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.faults import BAD_DROPS, BAD_FIXTURES, BadDrop, Baseline, bad_input_fault


def test_every_fixture_of_the_bad_input_corpus_is_dropped() -> None:
    """A new fixture needs its way into a source's file here, or it is never run end to end."""
    fixtures = {p.name for p in BAD_FIXTURES.iterdir() if p.suffix in {".csv", ".xlsx", ".xls"}}
    assert fixtures == {drop.fixture for drop in BAD_DROPS}


@pytest.mark.faults
@pytest.mark.parametrize("drop", BAD_DROPS, ids=lambda d: d.fixture)
def test_a_bad_drop_is_rejected_or_quarantined_never_published_wrong(
    baseline: Baseline, drop: BadDrop, tmp_path: Path
) -> None:
    outcome = bad_input_fault(baseline, drop, tmp_path)
    assert outcome.survived, (outcome.message, outcome.problems)
    assert (outcome.rows_lost, outcome.wrong_figures) == (0, 0)
