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

TEMP_NAME = re.compile(r"^\..+\.tmp-\d+$")


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


def write_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as temp:
        temp.write_bytes(data)
    return target


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove temporary files under ``folder`` that a killed process left behind.

    A temporary file is recognised by its name (``.<target>.tmp-<pid>``); it is removed only
    when its process no longer runs, so a build under way in another process is left alone.
    """
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.rglob(".*.tmp-*"):
        if not TEMP_NAME.match(path.name) or not path.is_file():
            continue
        if _process_alive(int(path.name.rsplit("-", 1)[1])):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True
