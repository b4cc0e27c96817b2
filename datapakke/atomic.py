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
