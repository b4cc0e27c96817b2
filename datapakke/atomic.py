"""Atomic writes: every file the pipeline publishes appears whole or not at all.

A file is built under a hidden temporary name beside its target (same folder, so the same file
system) and renamed onto the target only when the build succeeded. A failed build removes its
temporary file and leaves the previous target untouched. Temporary names share one pattern, so a
later run can recognise and remove what a killed process left behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# ``.<target>.tmp-<pid>``, and the write-ahead log DuckDB keeps beside a database it writes.
TEMP_NAME = re.compile(r"^\..+\.tmp-(?P<pid>\d+)(\.wal)?$")


def temp_path(target: Path) -> Path:
    """The hidden temporary name this process builds ``target`` under."""
    return target.with_name(f".{target.name}.tmp-{os.getpid()}")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path; rename it onto ``target`` if the block succeeds, else remove it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(target)
    temp.unlink(missing_ok=True)
    try:
        yield temp
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
        temp.with_name(temp.name + ".wal").unlink(missing_ok=True)  # a DuckDB file's log


def write_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as temp:
        temp.write_bytes(data)
    return target


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove temporary files under ``folder`` that a killed process left behind.

    A temporary file is recognised by its name (``.<target>.tmp-<pid>``, or DuckDB's
    ``….tmp-<pid>.wal`` beside a half-written database); it is removed only
    when its process no longer runs, so a build under way in another process is left alone.
    """
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.rglob(".*.tmp-*"):
        match = TEMP_NAME.match(path.name)
        if match is None or not path.is_file() or process_alive(int(match["pid"])):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (somebody else's counts: it may be a build)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True
