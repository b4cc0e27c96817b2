"""Putting a built pack on disk: written atomically, the previous latest pack archived to the
area's history under its own build time, and history beyond ``history_keep`` pruned.

The new pack is built and saved under a temporary name before anything is moved, so a failed
build leaves the latest pack and the history exactly as they were.
"""

from __future__ import annotations

import shutil
import zipfile
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

from datapakke.atomic import atomic_path
from datapakke.config import AreaOutputs
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.workbook.build import build
from datapakke.publish.workbook.values import naive_utc


def write_pack(pack: AreaPackData, charts: dict[str, Path], path: Path) -> Path:
    """Write the pack to ``path`` atomically; on any error the previous file is untouched."""
    path = Path(path)
    with atomic_path(path) as temp:
        build(pack, charts).save(temp)
    return path


def publish_pack(
    pack: AreaPackData, charts: dict[str, Path], outputs: AreaOutputs, history_keep: int
) -> Path:
    """Write the area's latest pack (``outputs.pack``); the one it replaces moves to history."""
    if (outputs.grouping, outputs.area_id) != (pack.grouping, pack.area_id):
        raise ValueError(
            f"pack of {pack.grouping}/{pack.area_id} given the folder of "
            f"{outputs.grouping}/{outputs.area_id}"
        )
    target = outputs.pack
    with atomic_path(target) as temp:
        build(pack, charts).save(temp)
        if target.is_file() and history_keep > 0:
            _archive(target, outputs)
    _prune_history(outputs, history_keep)
    return target


def _archive(latest: Path, outputs: AreaOutputs) -> Path:
    """Copy the current latest pack into history, named by its own build time (UTC)."""
    moment = _pack_built_at(latest)
    while outputs.history_pack(moment).exists():  # a rebuild within the second: keep both
        moment += timedelta(seconds=1)
    dest = outputs.history_pack(moment)
    with atomic_path(dest) as temp:
        shutil.copy2(latest, temp)
    return dest


def _prune_history(outputs: AreaOutputs, keep: int) -> None:
    """Delete the oldest history packs beyond ``keep``; other files there are left alone."""
    if not outputs.history_dir.is_dir():
        return
    stamped = [
        (stamp, path)
        for path in outputs.history_dir.iterdir()
        if (stamp := outputs.history_stamp(path.name)) is not None
    ]
    stamped.sort()
    for _, old in stamped[: max(len(stamped) - max(keep, 0), 0)]:
        old.unlink(missing_ok=True)


def _pack_built_at(path: Path) -> datetime:
    """When a pack was built: its document creation time (UTC), else the file's mtime."""
    with suppress(OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        with zipfile.ZipFile(path) as archive:
            root = ElementTree.fromstring(archive.read("docProps/core.xml"))
        node = root.find("{http://purl.org/dc/terms/}created")
        if node is not None and node.text:
            stamp = datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
            return naive_utc(stamp)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
