"""Building the site folder: each area's packs and overview linked in, then an atomic swap.

A server rooted at ``site/`` cannot reach ``../klynge2022/…``, so the page links to files under
each area's :attr:`~datapakke.config.AreaOutputs.site_folder`: hard links to the published ones
(``_publish_file``). Every path is built from validated geography ids and checked to stay inside
the site folder. The site is built in a temporary folder beside ``site/`` and swapped in with
renames, so a reader never sees half a site and a failed build leaves the previous one in place
(which is why single files inside the temporary folder need no atomic writes of their own).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath

from datapakke.atomic import process_alive
from datapakke.config import AreaOutputs, Settings, get_settings
from datapakke.geography import Area, Geography, default_geography
from datapakke.parallel import map_in_pool
from datapakke.publish.data_status import SourceStatus, statuses_of
from datapakke.publish.pack_data import SOURCE_COLUMNS
from datapakke.publish.refresh_status import STATUS_FILE, read_status, record_success
from datapakke.publish.site.page import INPUT_META, AreaEntry, PackLink, Thumbnail, render_page
from datapakke.publish.snapshot import latest_snapshot_path, read_snapshot
from datapakke.versions import code_digest, digest, file_states, reference_digest
from datapakke.warehouse import connect

log = logging.getLogger(__name__)

OVERVIEW_CHART = "overview"  # the chart shown as each area's picture
THUMBNAIL_FILE = "overview-lille.png"
_SAFE_ID = re.compile(r"[a-z0-9-]+")
_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(\.[a-z0-9]+)?")


# --------------------------------------------------------------------------- safe paths


def check_id(value: str) -> str:
    """A grouping or area id that is safe as one path segment; anything else is refused."""
    if not isinstance(value, str) or not _SAFE_ID.fullmatch(value):
        raise ValueError(f"unsafe id {value!r}: ids must match [a-z0-9-]+")
    return value


def safe_site_path(root: Path, *parts: str) -> Path:
    """``root/parts…`` if every part is a plain name and the result resolves inside ``root``.

    The one gate every file written into the site goes through, so neither a bad id nor a
    symlink can make the build write (or the page link) outside the site folder.
    """
    for part in parts:
        if not isinstance(part, str) or not _SAFE_PART.fullmatch(part):
            raise ValueError(f"unsafe path part {part!r} under {root}")
    base = root.resolve()
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(base) or path.resolve() == base:
        raise ValueError(f"{path} resolves outside the site folder {root}")
    return path


def _is_plain_file(path: Path) -> bool:
    """A regular file, not a symlink: the site never publishes what a link points at."""
    return path.is_file() and not path.is_symlink()


# --------------------------------------------------------------------------- one area


@dataclass(frozen=True)
class MartInfo:
    """What the page needs from one area's ``mart.duckdb``."""

    is_synthetic: bool
    built_at: datetime | None
    publishers: tuple[str, ...]
    caveats: tuple[str, ...] = ()  # "<source>: <caveat>" for sources with rejected rows


_UNREADABLE = MartInfo(is_synthetic=True, built_at=None, publishers=())


def read_mart_info(path: Path) -> MartInfo | None:
    """``is_synthetic``, ``built_at`` and publishers from the mart, read-only and closed after.

    None when there is no mart. An unreadable mart is reported as synthetic: the page would
    rather warn once too often than present invented numbers as real.
    """
    if not path.is_file():
        return None
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        log.warning("cannot open %s (%s); treating its pack as synthetic", path, exc)
        return _UNREADABLE
    try:
        row = con.execute("SELECT is_synthetic, epoch(built_at) FROM area LIMIT 1").fetchone()
        try:  # the pack's sources, when the mart carries them (older marts may not)
            publishers = tuple(
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT publisher FROM source WHERE trim(publisher) <> '' ORDER BY 1"
                ).fetchall()
            )
        except duckdb.CatalogException:
            publishers = ()
        try:  # what a reader must know about the sources (marts from before may lack it)
            caveats = tuple(
                f"{title}: {caveat}"
                for title, caveat in con.execute(
                    "SELECT title, caveat_da FROM source WHERE caveat_da <> '' ORDER BY source_id"
                ).fetchall()
            )
        except duckdb.Error:
            caveats = ()
    except duckdb.Error as exc:
        log.warning("cannot read %s (%s); treating its pack as synthetic", path, exc)
        return _UNREADABLE
    finally:
        con.close()
    if row is None:
        return MartInfo(is_synthetic=True, built_at=None, publishers=publishers)
    is_synthetic = True if row[0] is None else bool(row[0])
    built_at = None if row[1] is None else datetime.fromtimestamp(float(row[1]), UTC)
    return MartInfo(is_synthetic, built_at, publishers, caveats)


def _publish_pack(
    source: Path, outputs: AreaOutputs, site_root: Path, built_at: datetime
) -> PackLink:
    """Publish a pack at the same place under the area's site folder as under its mart folder."""
    path = outputs.site_folder.joinpath(*source.relative_to(outputs.folder).parts)
    target = safe_site_path(site_root, *path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    _publish_file(source, target)
    return PackLink(path, target.stat().st_size, built_at)


def _publish_file(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` in the site being built: a hard link (no bytes copied: the
    packs and their history are about 1 GB, copied again for every one-area rebuild), or a copy
    where a link cannot be made (another file system).

    A link is safe because a published file is only ever replaced by renaming a new file over it
    (``datapakke.atomic``) or moved into history, never written in place: the site keeps the
    bytes it linked until the next site replaces it."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _publish_latest(
    outputs: AreaOutputs, mart: MartInfo | None, site_root: Path
) -> PackLink | None:
    """The latest pack, dated by the mart's ``built_at`` (the file's time if the mart has none)."""
    if not _is_plain_file(outputs.pack):
        return None
    built_at = (mart.built_at if mart else None) or datetime.fromtimestamp(
        outputs.pack.stat().st_mtime, UTC
    )
    return _publish_pack(outputs.pack, outputs, site_root, built_at)


def _publish_history(outputs: AreaOutputs, site_root: Path) -> tuple[PackLink, ...]:
    """The earlier packs, newest first; other files in ``history/`` are left out."""
    if not outputs.history_dir.is_dir():
        return ()
    found: list[tuple[datetime, Path]] = []
    for path in outputs.history_dir.iterdir():
        moment = outputs.history_stamp(path.name)
        if moment is not None and _is_plain_file(path):
            found.append((moment, path))
    found.sort(key=lambda item: item[0], reverse=True)
    return tuple(_publish_pack(path, outputs, site_root, moment) for moment, path in found)


def _write_thumbnail(chart: Path, folder: PurePosixPath, site_root: Path) -> Thumbnail | None:
    """Publish the overview chart and its small copy (made beside the chart when the pack was drawn,
    see ``thumbnail_of``); a broken PNG only loses the picture."""
    from PIL import Image

    from datapakke.publish.charts.png import thumbnail_of

    full_path, small_path = folder / chart.name, folder / THUMBNAIL_FILE
    full = safe_site_path(site_root, *full_path.parts)
    small = safe_site_path(site_root, *small_path.parts)
    full.parent.mkdir(parents=True, exist_ok=True)
    _publish_file(chart, full)
    try:
        _publish_file(thumbnail_of(chart), small)
        with Image.open(small) as image:  # reads the header only
            width, height = image.size
    except (OSError, ValueError) as exc:
        log.warning("cannot make a thumbnail of %s (%s); the page shows no picture", chart, exc)
        small.unlink(missing_ok=True)
        return None
    return Thumbnail(small_path, full_path, width, height)


def publish_area(settings: Settings, area: Area, site_root: Path) -> AreaEntry:
    """Copy one area's latest pack, history and overview into ``site_root`` and describe them."""
    outputs = settings.area_outputs(check_id(area.grouping), check_id(area.area_id))
    mart = read_mart_info(outputs.mart)
    latest = _publish_latest(outputs, mart, site_root)
    history = _publish_history(outputs, site_root)
    chart = outputs.chart(OVERVIEW_CHART)
    thumbnail = (
        _write_thumbnail(chart, outputs.site_folder, site_root) if _is_plain_file(chart) else None
    )
    if latest is None:  # no pack: nothing to warn about, no sources to name
        return AreaEntry(area, latest, history, thumbnail, is_synthetic=None)
    is_synthetic = True if mart is None else mart.is_synthetic
    publishers = mart.publishers if mart else ()
    caveats = mart.caveats if mart else ()
    snapshot = read_snapshot(latest_snapshot_path(outputs), with_values=False)
    headline = snapshot.headline if snapshot is not None else ()
    return AreaEntry(area, latest, history, thumbnail, is_synthetic, publishers, caveats, headline)


def read_data_status(settings: Settings, geo: Geography) -> list[SourceStatus]:
    """The sources behind the packs, from the first readable area mart (every mart carries the
    same ``source`` table), with coverage counted over all of Denmark's municipalities."""
    import duckdb

    units = [(code, m.name) for code, m in sorted(geo.municipalities.items())]
    for area in geo.areas.values():
        path = settings.area_outputs(area.grouping, area.area_id).mart
        if not path.is_file():
            continue
        try:
            with connect(path, read_only=True) as con:
                sources = con.execute("SELECT * FROM source ORDER BY source_id").df()
        except duckdb.Error as exc:
            log.warning("cannot read the sources of %s (%s)", path, exc)
            continue
        if not set(SOURCE_COLUMNS) <= set(sources.columns):  # a mart from an older version
            return []
        return statuses_of(sources, units)
    return []


# --------------------------------------------------------------------------- build and swap


@contextlib.contextmanager
def _swap_lock(parent: Path) -> Iterator[None]:
    """One swap at a time, so two builds (Dagster and ``make run``) cannot interleave renames."""
    try:
        import fcntl
    except ImportError:  # not POSIX: renames are still each atomic
        yield
        return
    with (parent / ".site.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _abandoned(staging: Path) -> bool:
    """Whether a ``.site.new-<pid>-…`` folder's builder is gone (killed, crashed), so the
    folder (a few hundred MB of copies) can go at once; a folder without a pid in its name
    (from before) goes after a day."""
    match = re.match(r"\.site\.new-(\d+)-", staging.name)
    if match:
        return not process_alive(int(match.group(1)))
    return time.time() - staging.stat().st_mtime > 86_400


def _swap_in(staging: Path, site_dir: Path) -> None:
    """Rename the old site away, the new one in, then delete the old; put it back on failure."""
    parent = site_dir.parent
    old: Path | None = None
    with _swap_lock(parent):
        for leftover in parent.glob(".site.old-*"):  # from a swap that crashed before cleanup
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in parent.glob(".site.new-*"):  # abandoned builds (not a running one)
            with contextlib.suppress(OSError):
                if leftover != staging and _abandoned(leftover):
                    shutil.rmtree(leftover, ignore_errors=True)
        if site_dir.exists() or site_dir.is_symlink():
            old = parent / f".site.old-{uuid.uuid4().hex}"
            os.rename(site_dir, old)
        try:
            os.rename(staging, site_dir)
        except BaseException:
            if old is not None:
                os.rename(old, site_dir)
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class SiteReport:
    page: Path  # site/index.html
    input_fingerprint: str  # what the page is built from (its data version)
    rebuilt: bool  # False: the packs and the status were as the page shows them, nothing written


def refresh_site(
    settings: Settings | None = None,
    geo: Geography | None = None,
    succeeded_at: datetime | None = None,
    workers: int = 2,
) -> SiteReport:
    """Rebuild the site only when what it shows changed: the published files of any area (the
    earlier stages keep an unchanged file's bytes and mtime), the refresh status, the reference
    data or the site's code. ``succeeded_at``: the refresh that calls this succeeded then; it
    becomes the page's "Data pr." when the packs changed or the latest attempt had failed (a
    quiet night leaves the status file and the whole site alone)."""
    settings = settings or get_settings()
    geo = geo or default_geography()
    page = settings.site_dir / "index.html"
    packs = _published_files_digest(settings, geo)
    shown = _recorded_site_input(page)
    status = read_status(settings)
    if succeeded_at is not None and (
        status.last_success is None or status.latest_failed or shown[0] != packs
    ):
        record_success(settings, succeeded_at)
    fingerprint = f"{packs}:{_status_digest(settings)}"
    if shown == tuple(fingerprint.split(":")) and page.is_file():
        return SiteReport(page, fingerprint, rebuilt=False)
    return SiteReport(build_site(settings, geo, workers, fingerprint), fingerprint, rebuilt=True)


def _published_files_digest(settings: Settings, geo: Geography) -> str:
    files: list[Path] = []
    for area in geo.areas.values():
        outputs = settings.area_outputs(area.grouping, area.area_id)
        files += [outputs.mart, outputs.pack, latest_snapshot_path(outputs)]
        files.append(outputs.chart(OVERVIEW_CHART))
        if outputs.history_dir.is_dir():
            files += sorted(outputs.history_dir.iterdir())
    code = code_digest("publish/site", "publish/tilemap.py", "publish/data_status.py")
    return digest(file_states(files), reference_digest(settings), code)


def _status_digest(settings: Settings) -> str:
    try:
        return digest((settings.marts_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except OSError:
        return digest(None)


def _recorded_site_input(page: Path) -> tuple[str, str] | tuple[None, None]:
    """(published files, status) digests the page was built from, from its meta tag."""
    try:
        with page.open(encoding="utf-8") as handle:
            head = handle.read(4096)
    except OSError:
        return (None, None)
    match = re.search(rf'<meta name="{INPUT_META}" content="([0-9a-f]+):([0-9a-f]+)">', head)
    return (match[1], match[2]) if match else (None, None)


def build_site(
    settings: Settings | None = None,
    geo: Geography | None = None,
    workers: int = 2,
    input_fingerprint: str = "",
) -> Path:
    """Build ``site_dir/index.html`` with copies of what it links; returns the page's path.

    The areas are copied and their thumbnails made by ``workers`` processes side by side.
    Always builds; ``refresh_site`` builds only when something changed.
    """
    settings = settings or get_settings()
    geo = geo or default_geography()
    site_dir = settings.site_dir
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".site.new-{os.getpid()}-", dir=site_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the site is for everyone who can read it
        areas = [area for grouping in geo.groupings for area in geo.areas_of_grouping(grouping)]
        published = map_in_pool(partial(publish_area, settings, site_root=staging), areas, workers)
        entries: dict[str, list[AreaEntry]] = {check_id(g): [] for g in geo.groupings}
        for area, entry in zip(areas, published, strict=True):
            entries[area.grouping].append(entry)
        status = read_data_status(settings, geo)
        refresh = read_status(settings)
        page = render_page(
            geo, entries, datetime.now(UTC), settings, status, refresh, input_fingerprint
        )
        (staging / "index.html").write_text(page, encoding="utf-8")
        _swap_in(staging, site_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return site_dir / "index.html"
