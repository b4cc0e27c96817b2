"""What a killed build leaves behind is removed by the next one at once (not after a day)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from datapakke.atomic import sweep_leftovers
from datapakke.config import get_settings
from datapakke.publish.site import build_site


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_site_build_removes_the_staging_folder_of_a_killed_build(tmp_path: Path) -> None:
    settings = replace(get_settings(), marts_dir=tmp_path)
    killed = tmp_path / f".site.new-{_dead_pid()}-abcd1234"
    running = tmp_path / f".site.new-{os.getpid()}-efgh5678"
    for folder in (killed, running):
        (folder / "packs").mkdir(parents=True)
    build_site(settings, workers=1)
    assert not killed.exists()
    assert running.exists()  # another build under way is left alone
    assert (tmp_path / "site" / "index.html").is_file()


def test_a_killed_duckdb_write_leaves_no_wal_behind(tmp_path: Path) -> None:
    """DuckDB writes beside its file (``.mart.duckdb.tmp-<pid>.wal``); a kill leaves both."""
    dead = _dead_pid()
    names = [f".mart.duckdb.tmp-{dead}", f".mart.duckdb.tmp-{dead}.wal"]
    for name in names:
        (tmp_path / name).write_bytes(b"half")
    sweep_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
