"""Atomic writes and the removal of what a killed process left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from datapakke.atomic import atomic_path, sweep_leftovers, temp_path


def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "pack.xlsx"
    target.write_bytes(b"yesterday")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    folder = tmp_path / "klynge2022" / "nordjylland-midt"
    (folder / "charts").mkdir(parents=True)
    pack = folder / "datapakke-klynge2022-nordjylland-midt.xlsx"
    pack.write_bytes(b"good")
    dead = folder / f".{pack.name}.tmp-{dead_pid()}"
    dead_chart = folder / "charts" / f".overview.png.tmp-{dead_pid()}"
    for path in (dead, dead_chart):
        path.write_bytes(b"half")
    running = temp_path(folder / "mart.duckdb")  # this very process: a build under way
    running.write_bytes(b"in progress")
    unrelated = folder / ".notes.txt"
    unrelated.write_text("mine")

    removed = sweep_leftovers(tmp_path)

    assert sorted(removed) == sorted([dead, dead_chart])
    assert pack.read_bytes() == b"good" and running.exists() and unrelated.exists()
    assert running.name.endswith(f".tmp-{os.getpid()}")
