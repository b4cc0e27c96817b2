"""The undisturbed refresh every fault is measured against, built once per session.

Only the tests marked ``faults`` ask for it (run them with ``pytest -m faults tests/faults``); the
clock and server tests need no refresh and run by default.
"""

from __future__ import annotations

import pytest

from benchmarks.faults import Baseline


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """One refresh from the embedded sample in a scratch copy of the repository (~2-5 min)."""
    return Baseline.build(tmp_path_factory.mktemp("faults"))
