"""Putting a built pack on disk: written atomically, the previous latest pack archived to the
area's history under its own build time, and history beyond ``history_keep`` pruned.

The new pack is built and saved under a temporary name before anything is moved, so a failed
build leaves the latest pack and the history exactly as they were.

Each pack published with a snapshot (``publish.snapshot``) keeps it beside itself
(``<stem>.parquet``); the snapshot moves to history with its pack under the same stamp and is
pruned with it. A snapshot counts only while its build time is the pack's, so one left behind by
an interrupted publish is never taken for the pack's own.
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
from datapakke.publish.changes import Changes
from datapakke.publish.key_findings import KeyFinding
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.snapshot import (
    SNAPSHOT_SUFFIX,
    PackSnapshot,
    history_snapshot_path,
    latest_snapshot_path,
    read_snapshot,
    write_snapshot,
)
from datapakke.publish.workbook.build import build
from datapakke.publish.workbook.values import naive_utc


def write_pack(pack: AreaPackData, charts: dict[str, Path], path: Path) -> Path:
    """Write the pack to ``path`` atomically; on any error the previous file is untouched."""
    path = Path(path)
    with atomic_path(path) as temp:
        build(pack, charts).save(temp)
    return path


def publish_pack(
    pack: AreaPackData,
    charts: dict[str, Path],
    outputs: AreaOutputs,
    history_keep: int,
    snapshot: PackSnapshot | None = None,
    changes: Changes | None = None,
    findings: list[KeyFinding] | None = None,
) -> Path:
    """Write the area's latest pack (``outputs.pack``); the one it replaces moves to history.

    ``snapshot`` is kept beside the pack (the next build compares with it); without one, no
    snapshot is kept and a stale one is removed. ``changes`` is what "Nyt siden sidst" shows.
    Whether to publish at all (content unchanged) is the caller's decision: this always does.
    """
    if (outputs.grouping, outputs.area_id) != (pack.grouping, pack.area_id):
        raise ValueError(
            f"pack of {pack.grouping}/{pack.area_id} given the folder of "
            f"{outputs.grouping}/{outputs.area_id}"
        )
    target = outputs.pack
    with atomic_path(target) as temp:
        build(pack, charts, changes, findings).save(temp)
        if target.is_file() and history_keep > 0:
            _archive(target, outputs)
    if snapshot is not None:
        write_snapshot(snapshot, latest_snapshot_path(outputs))
    else:
        latest_snapshot_path(outputs).unlink(missing_ok=True)
    prune_history(outputs, history_keep)
    return target


def latest_snapshot(outputs: AreaOutputs, with_values: bool = True) -> PackSnapshot | None:
    """The latest pack's snapshot, if it is that pack's (same build time); else None."""
    built_at = latest_built_at(outputs)
    if built_at is None:
        return None
    snapshot = read_snapshot(latest_snapshot_path(outputs), with_values)
    if snapshot is None or naive_utc(snapshot.built_at).replace(microsecond=0) != built_at:
        return None
    return snapshot


def latest_built_at(outputs: AreaOutputs) -> datetime | None:
    """When the latest pack was built (UTC, naive); None when there is no pack yet."""
    return _pack_built_at(outputs.pack) if outputs.pack.is_file() else None


def _archive(latest: Path, outputs: AreaOutputs) -> Path:
    """Copy the current latest pack (and its snapshot) into history, named by its build time."""
    moment = _pack_built_at(latest)
    while outputs.history_pack(moment).exists():  # a rebuild within the second: keep both
        moment += timedelta(seconds=1)
    dest = outputs.history_pack(moment)
    if latest_snapshot(outputs, with_values=False) is not None:
        with atomic_path(history_snapshot_path(dest)) as temp:
            shutil.copy2(latest_snapshot_path(outputs), temp)
    with atomic_path(dest) as temp:
        shutil.copy2(latest, temp)
    return dest


def prune_history(outputs: AreaOutputs, keep: int) -> None:
    """Delete the oldest history packs beyond ``keep``, each with its snapshot, and snapshots
    whose pack is gone; other files there are left alone."""
    if not outputs.history_dir.is_dir():
        return
    packs, snapshots = {}, {}
    for path in outputs.history_dir.iterdir():
        if (stamp := outputs.history_stamp(path.name)) is not None:
            packs[stamp] = path
        elif path.name.endswith(SNAPSHOT_SUFFIX):
            as_pack = path.name.removesuffix(SNAPSHOT_SUFFIX) + outputs.pack.suffix
            if (stamp := outputs.history_stamp(as_pack)) is not None:
                snapshots[stamp] = path
    stamps = sorted(packs)
    kept = set(stamps[max(len(stamps) - max(keep, 0), 0) :])
    for stamp in stamps:
        if stamp not in kept:
            packs[stamp].unlink(missing_ok=True)
    for stamp, path in snapshots.items():
        if stamp not in kept:
            path.unlink(missing_ok=True)


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
