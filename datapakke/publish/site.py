"""The static download page: each area's latest pack, earlier versions and an overview thumbnail.

``data/marts/site/index.html`` must work opened from disk *and* served from the site folder
alone (``make serve``). A server rooted at ``site/`` cannot reach ``../klynge2022/…``, so the
page links to copies under ``site/packs/<grouping>/<area_id>/``. Every path is built from
validated geography ids and checked to stay inside the site folder. The site is built in a
temporary folder beside ``site/`` and swapped in with renames, so a reader never sees half a
site and a failed build leaves the previous one in place.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datapakke.config import Settings, get_settings
from datapakke.geography import Area, Geography, default_geography
from datapakke.parallel import map_in_pool
from datapakke.presentation import MONTHS_DA, SYNTHETIC_BANNER_DA, format_da

log = logging.getLogger(__name__)

PAGE_TITLE = "Datapakker for sundhedsklynger og sundhedsråd"
NOT_BUILT_DA = "Ikke bygget endnu"
PACKS_DIR = "packs"
MART_FILE = "mart.duckdb"
OVERVIEW_CHART = "overview.png"
THUMBNAIL_FILE = "overview-lille.png"
THUMBNAIL_WIDTH = 480
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Timestamps in history file names are written in UTC, like ``built_at`` in the marts.
HISTORY_STAMP_FORMAT = "%Y%m%dT%H%M%S"
_SAFE_ID = re.compile(r"[a-z0-9-]+")
_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(\.[a-z0-9]+)?")

MEMBERSHIP_STATUS_DA = {
    "confirmed": "Bekræftet medlemskab",
    "single-source": "Medlemskab fra én kilde",
    "proxy": "Skønnet medlemskab",
}
MEMBERSHIP_STATUS_HELP_DA = {
    "confirmed": "Medlemskabet er bekræftet i offentlige kilder.",
    "single-source": "Medlemskabet bygger på én offentlig kilde.",
    "proxy": "Medlemskabet er skønnet ud fra sygehusets optageområde i 2019, fordi der ikke er "
    "fundet en offentlig liste fra 2022.",
}
_DANISH_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}"})  # æ, ø, å sort after z

try:
    LOCAL_TZ: ZoneInfo | None = ZoneInfo("Europe/Copenhagen")
except ZoneInfoNotFoundError:  # no tz database: fall back to the machine's local time
    LOCAL_TZ = None


# --------------------------------------------------------------------------- Danish formatting


def format_datetime_da(moment: datetime) -> str:
    """'22. november 2026 kl. 02:30' in Danish time (naive values are taken as UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL_TZ)
    return f"{local.day}. {MONTHS_DA[local.month - 1]} {local.year} kl. {local:%H:%M}"


def format_size_da(size: int) -> str:
    """A file size as a Dane reads it: '1,2 MB', '48 kB', '5,3 kB', '812 byte' (1 kB = 1024)."""
    if size < 1024:
        return f"{size} byte"
    kilobytes = size / 1024
    if kilobytes < 1024:
        return f"{format_da(kilobytes, 1 if kilobytes < 10 else 0)} kB"
    return f"{format_da(kilobytes / 1024, 1)} MB"


def _danish_sort_key(name: str) -> str:
    return name.casefold().translate(_DANISH_ORDER)


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


def _href(*parts: str) -> str:
    """A relative, URL-quoted link from index.html (works from file:// and when served)."""
    return quote(str(PurePosixPath(*parts)), safe="/")


# --------------------------------------------------------------------------- what the page lists


@dataclass(frozen=True)
class MartInfo:
    """What the page needs from one area's ``mart.duckdb`` (None: unreadable, see log)."""

    is_synthetic: bool
    built_at: datetime | None
    publishers: tuple[str, ...]


@dataclass(frozen=True)
class PackLink:
    href: str
    file_name: str
    size: int
    built_at: datetime


@dataclass(frozen=True)
class Thumbnail:
    href: str
    full_href: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class AreaEntry:
    area: Area
    member_names: tuple[str, ...]
    latest: PackLink | None
    history: tuple[PackLink, ...]
    thumbnail: Thumbnail | None
    is_synthetic: bool | None  # None: no pack, so nothing to warn about
    publishers: tuple[str, ...] = ()


def read_mart_info(path: Path) -> MartInfo | None:
    """``is_synthetic`` and ``built_at`` from the mart's ``area`` table, read-only and closed after.

    An unreadable mart is reported as synthetic: the page would rather warn once too often than
    present invented numbers as real.
    """
    if not path.is_file():
        return None
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        log.warning("cannot open %s (%s); treating its pack as synthetic", path, exc)
        return MartInfo(is_synthetic=True, built_at=None, publishers=())
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
    except duckdb.Error as exc:
        log.warning("cannot read %s (%s); treating its pack as synthetic", path, exc)
        return MartInfo(is_synthetic=True, built_at=None, publishers=())
    finally:
        con.close()
    if row is None:
        return MartInfo(is_synthetic=True, built_at=None, publishers=publishers)
    is_synthetic = True if row[0] is None else bool(row[0])
    built_at = None if row[1] is None else datetime.fromtimestamp(float(row[1]), UTC)
    return MartInfo(is_synthetic=is_synthetic, built_at=built_at, publishers=publishers)


def _is_plain_file(path: Path) -> bool:
    """A regular file, not a symlink: the site never publishes what a link points at."""
    return path.is_file() and not path.is_symlink()


def _copy_pack(source: Path, site_root: Path, parts: Sequence[str], built_at: datetime) -> PackLink:
    target = safe_site_path(site_root, *parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return PackLink(_href(*parts), parts[-1], target.stat().st_size, built_at)


def _write_thumbnail(
    source: Path, site_root: Path, folder: Sequence[str], previous_root: Path | None = None
) -> Thumbnail | None:
    """Copy the overview chart and a small version of it; a broken PNG only loses the picture.

    The small version is taken over from the previous site when the chart has not changed
    (scaling and encoding it is most of the page's build time, and most areas are unchanged
    after a one-area rebuild).
    """
    full = safe_site_path(site_root, *folder, OVERVIEW_CHART)
    small = safe_site_path(site_root, *folder, THUMBNAIL_FILE)
    full.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, full)
    try:
        from PIL import Image
    except ImportError:
        shutil.copyfile(source, small)
        return Thumbnail(_href(*folder, THUMBNAIL_FILE), _href(*folder, OVERVIEW_CHART), None, None)
    try:
        if previous_root is not None and _same_chart_before(full, previous_root, folder):
            shutil.copyfile(safe_site_path(previous_root, *folder, THUMBNAIL_FILE), small)
            with Image.open(small) as image:  # reads the header only
                width, height = image.size
        else:
            with Image.open(full) as image:
                image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 2))
                image.save(small, format="PNG")
                width, height = image.size
    except (OSError, ValueError) as exc:
        log.warning("cannot make a thumbnail of %s (%s); the page shows no picture", source, exc)
        small.unlink(missing_ok=True)
        return None
    return Thumbnail(_href(*folder, THUMBNAIL_FILE), _href(*folder, OVERVIEW_CHART), width, height)


def _same_chart_before(chart: Path, previous_root: Path, folder: Sequence[str]) -> bool:
    """Whether the previous site holds the same overview chart, byte for byte, and its thumbnail."""
    try:
        old_chart = safe_site_path(previous_root, *folder, OVERVIEW_CHART)
        old_small = safe_site_path(previous_root, *folder, THUMBNAIL_FILE)
    except ValueError:
        return False
    return (
        _is_plain_file(old_chart)
        and _is_plain_file(old_small)
        and old_chart.stat().st_size == chart.stat().st_size
        and old_chart.read_bytes() == chart.read_bytes()
    )


def publish_area(settings: Settings, geo: Geography, area: Area, site_root: Path) -> AreaEntry:
    """Copy one area's latest pack, history and overview into ``site_root`` and describe them."""
    grouping, area_id = check_id(area.grouping), check_id(area.area_id)
    source = settings.area_dir(grouping, area_id)
    folder = (PACKS_DIR, grouping, area_id)
    stem = f"datapakke-{grouping}-{area_id}"
    mart = read_mart_info(source / MART_FILE)

    latest = None
    latest_source = source / f"{stem}.xlsx"
    if _is_plain_file(latest_source):
        built_at = (mart.built_at if mart else None) or datetime.fromtimestamp(
            latest_source.stat().st_mtime, UTC
        )
        latest = _copy_pack(latest_source, site_root, (*folder, f"{stem}.xlsx"), built_at)

    stamped = re.compile(re.escape(stem) + r"-(\d{8}T\d{6})\.xlsx")
    found: list[tuple[datetime, Path]] = []
    history_dir = source / "history"
    if history_dir.is_dir():
        for path in history_dir.iterdir():
            match = stamped.fullmatch(path.name)
            if not match or not _is_plain_file(path):
                continue
            try:
                moment = datetime.strptime(match.group(1), HISTORY_STAMP_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                continue
            found.append((moment, path))
    history = tuple(
        _copy_pack(path, site_root, (*folder, "history", path.name), moment)
        for moment, path in sorted(found, key=lambda item: item[0], reverse=True)
    )

    chart = source / "charts" / OVERVIEW_CHART
    thumbnail = (
        _write_thumbnail(chart, site_root, folder, settings.site_dir)
        if _is_plain_file(chart)
        else None
    )

    partial_members = set(area.partial_members)
    names = sorted(
        ((geo.municipalities[code].name, code in partial_members) for code in area.members),
        key=lambda item: _danish_sort_key(item[0]),
    )
    member_names = tuple(f"{name} (delvis)" if partial else name for name, partial in names)
    is_synthetic = None
    if latest is not None:
        is_synthetic = True if mart is None else mart.is_synthetic
    publishers = mart.publishers if mart and latest else ()
    return AreaEntry(area, member_names, latest, history, thumbnail, is_synthetic, publishers)


# --------------------------------------------------------------------------- the HTML


_CSS = """
:root { --ink: #1d232b; --muted: #5a6470; --line: #d9dee4; --accent: #0b5cad; --warn: #d55e00; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: var(--ink); background: #f4f6f8; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 28px 0 18px; }
h1 { margin: 0 0 6px; font-size: 1.9rem; line-height: 1.2; }
.lede { margin: 0 0 14px; color: var(--muted); max-width: 60em; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 8px; }
nav a { display: inline-block; padding: 4px 12px; border: 1px solid var(--line);
  border-radius: 999px; color: var(--accent); text-decoration: none; background: #f8fafc; }
nav a:hover { border-color: var(--accent); }
.banner { margin: 20px 0 0; padding: 16px 20px; background: #fff4e5; color: #5c2600;
  border: 2px solid var(--warn); border-left-width: 10px; border-radius: 6px;
  font-size: 1.2rem; font-weight: 700; }
section { margin: 30px 0 10px; }
h2 { margin: 0; font-size: 1.45rem; }
.count { margin: 2px 0 14px; color: var(--muted); }
.cards { display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fill, minmax(min(340px, 100%), 1fr)); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px;
  display: flex; flex-direction: column; gap: 10px; }
.card h3 { margin: 0; font-size: 1.12rem; line-height: 1.3; }
.sub { margin: 0; color: var(--muted); font-size: .9rem; }
.tags { display: flex; flex-wrap: wrap; gap: 6px; }
.tag { font-size: .78rem; padding: 1px 8px; border-radius: 4px; background: #eef2f6;
  color: #394452; }
.tag.proxy { background: #fdf0e6; color: #8a3b00; }
.tag.synthetic { background: var(--warn); color: #fff; }
.thumb { display: block; border: 1px solid var(--line); border-radius: 4px; overflow: hidden;
  background: #fff; }
.thumb.empty { height: 172px; background: #f1f3f5; }
.thumb img { display: block; width: 100%; height: 170px; object-fit: contain; }
.members { margin: 0; font-size: .92rem; }
.members strong { font-weight: 600; }
.foot { margin-top: auto; display: flex; flex-direction: column; gap: 8px; }
.download { margin: 0; display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; }
.button { display: inline-block; padding: 7px 14px; border-radius: 6px; background: var(--accent);
  color: #fff; font-weight: 600; text-decoration: none; }
.button:hover, .button:focus { background: #084a8c; }
.meta { color: var(--muted); font-size: .9rem; }
.missing { margin: 0; padding: 8px 12px; border-radius: 6px; background: #f1f3f5;
  color: var(--muted); font-style: italic; }
details { font-size: .92rem; }
summary { cursor: pointer; color: var(--accent); }
details ul { margin: 6px 0 0; padding-left: 20px; }
details a { color: var(--accent); }
footer { margin-top: 36px; padding: 20px 0 36px; border-top: 1px solid var(--line);
  background: #fff; color: var(--muted); font-size: .9rem; }
footer p { margin: 4px 0; max-width: 70em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _pack_link(pack: PackLink, text: str, css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return (
        f'<a{cls} href="{_e(pack.href)}" download="{_e(pack.file_name)}" '
        f'type="{XLSX_MIME}">{_e(text)}</a>'
    )


def _render_card(entry: AreaEntry, mixed_data: bool) -> str:
    area = entry.area
    status = MEMBERSHIP_STATUS_DA.get(area.membership_status, area.membership_status)
    status_help = MEMBERSHIP_STATUS_HELP_DA.get(area.membership_status, "")
    proxy = " proxy" if area.membership_status == "proxy" else ""
    tags = [f'<span class="tag{proxy}" title="{_e(status_help)}">{_e(status)}</span>']
    if mixed_data and entry.is_synthetic:
        tags.append('<span class="tag synthetic">Syntetiske data</span>')
    parts = [f'<article class="card" id="{_e(area.grouping)}-{_e(area.area_id)}">']
    parts.append(f"<h3>{_e(area.name)}</h3>")
    if area.region_name and area.region_name != area.name:
        parts.append(f'<p class="sub">{_e(area.region_name)}</p>')
    parts.append(f'<div class="tags">{"".join(tags)}</div>')
    if entry.thumbnail is not None:
        thumb = entry.thumbnail
        size = ""
        if thumb.width and thumb.height:
            size = f' width="{thumb.width}" height="{thumb.height}"'
        parts.append(
            f'<a class="thumb" href="{_e(thumb.full_href)}" '
            'title="Vis overblikket i fuld størrelse">'
            f'<img src="{_e(thumb.href)}" alt="{_e(f"Overblik over {area.name}")}"{size} '
            'loading="lazy"></a>'
        )
    else:  # keeps the cards of a row aligned
        parts.append('<div class="thumb empty" aria-hidden="true"></div>')
    parts.append(
        f'<p class="members"><strong>{_count(len(entry.member_names), "kommune", "kommuner")}:'
        "</strong> "
        f"{_e(', '.join(entry.member_names))}</p>"
    )
    parts.append('<div class="foot">')
    if entry.latest is None:
        parts.append(f'<p class="missing">{NOT_BUILT_DA}</p>')
    else:
        latest = entry.latest
        parts.append(
            '<p class="download">'
            + _pack_link(latest, "Hent datapakken (Excel)", "button")
            + f' <span class="meta">{_e(format_size_da(latest.size))} · bygget '
            f"{_e(format_datetime_da(latest.built_at))}</span></p>"
        )
    if entry.history:
        items = "".join(
            f"<li>{_pack_link(pack, format_datetime_da(pack.built_at))} "
            f'<span class="meta">({_e(format_size_da(pack.size))})</span></li>'
            for pack in entry.history
        )
        parts.append(
            f"<details><summary>Tidligere versioner ({len(entry.history)})</summary>"
            f"<ul>{items}</ul></details>"
        )
    parts.append("</div></article>")
    return "\n".join(parts)


def render_page(
    geo: Geography,
    entries: dict[str, list[AreaEntry]],
    built_at: datetime,
    settings: Settings,
    publishers: Sequence[str] = (),
) -> str:
    """The whole page as one HTML string; every text from data goes through ``html.escape``."""
    packs = [e for group in entries.values() for e in group if e.latest is not None]
    synthetic = [e for e in packs if e.is_synthetic]
    mixed_data = 0 < len(synthetic) < len(packs)
    nav = "".join(
        f'<li><a href="#{_e(g)}">{_e(geo.grouping_titles[g])} ({len(entries[g])})</a></li>'
        for g in entries
    )
    out = [
        "<!doctype html>",
        '<html lang="da">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(PAGE_TITLE)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<header><div class="wrap">',
        f"<h1>{_e(PAGE_TITLE)}</h1>",
        '<p class="lede">Én Excel-datapakke pr. sundhedsklynge, sundhedsråd og region med tal '
        "for befolkning, ældre, kronisk sygdom, psykiatri, aktivitet, sundhedsprofil og "
        "dødelighed – for hver kommune i området, området selv, regionen og hele landet, med "
        "usikkerhed og sammenligninger.</p>",
        f'<nav aria-label="Inddelinger"><ul>{nav}</ul></nav>',
    ]
    if synthetic:
        out.append(f'<div class="banner" role="note">{_e(SYNTHETIC_BANNER_DA)}</div>')
    out.append('</div></header>\n<main class="wrap">')
    for grouping, group in entries.items():
        built = sum(e.latest is not None for e in group)
        out.append(f'<section id="{_e(grouping)}">')
        out.append(f"<h2>{_e(geo.grouping_titles[grouping])}</h2>")
        out.append(
            f'<p class="count">{_count(len(group), "område", "områder")} · '
            f"{_count(built, 'datapakke', 'datapakker')} bygget</p>"
            '<div class="cards">'
        )
        out.extend(_render_card(entry, mixed_data) for entry in group)
        out.append("</div></section>")
    threshold = settings.suppression_threshold
    small = f"1–{threshold - 1}" if threshold > 2 else "1"
    sources = (
        f"Kilder: {_e(', '.join(publishers))}. " if publishers else ""
    ) + "Hver datapakkes forside og arket »Om data« beskriver kilder, filer og metoder."
    out += [
        "</main>",
        '<footer><div class="wrap">',
        f"<p>Siden er bygget {_e(format_datetime_da(built_at))} (dansk tid).</p>",
        f"<p>{sources}</p>",
        f"<p>Diskretion: Små tal ({small}) er skjult og vist som »&lt;{threshold}«; tal, som et "
        "skjult tal kunne regnes ud fra, er også skjult.</p>",
        f"<p>De seneste {settings.history_keep} tidligere versioner af hver datapakke gemmes.</p>",
        "</div></footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)


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


def _swap_in(staging: Path, site_dir: Path) -> None:
    """Rename the old site away, the new one in, then delete the old; put it back on failure."""
    parent = site_dir.parent
    old: Path | None = None
    with _swap_lock(parent):
        for leftover in parent.glob(".site.old-*"):  # from a swap that crashed before cleanup
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in parent.glob(".site.new-*"):  # abandoned builds (not a running one)
            with contextlib.suppress(OSError):
                if leftover != staging and time.time() - leftover.stat().st_mtime > 86_400:
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


def build_site(
    settings: Settings | None = None, geo: Geography | None = None, workers: int = 2
) -> Path:
    """Build ``site_dir/index.html`` with copies of what it links; returns the page's path.

    The areas are copied and their thumbnails made by ``workers`` processes side by side.
    """
    settings = settings or get_settings()
    geo = geo or default_geography()
    site_dir = settings.site_dir
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".site.new-", dir=site_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the site is for everyone who can read it
        areas = [area for grouping in geo.groupings for area in geo.areas_of_grouping(grouping)]
        published = map_in_pool(
            partial(publish_area, settings, geo, site_root=staging), areas, workers
        )
        entries: dict[str, list[AreaEntry]] = {check_id(g): [] for g in geo.groupings}
        for area, entry in zip(areas, published, strict=True):
            entries[area.grouping].append(entry)
        publishers = sorted(
            {p for group in entries.values() for e in group for p in e.publishers},
            key=_danish_sort_key,
        )
        page = render_page(geo, entries, datetime.now(UTC), settings, publishers)
        (staging / "index.html").write_text(page, encoding="utf-8")
        _swap_in(staging, site_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return site_dir / "index.html"


# --------------------------------------------------------------------------- serving


class SiteRequestHandler(SimpleHTTPRequestHandler):
    """Static files with the Excel MIME type and no caching, so a rebuilt site shows at once."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".xlsx": XLSX_MIME,
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(port: int = 8000, directory: Path | str | None = None) -> ThreadingHTTPServer:
    """An HTTP server for the site folder on 127.0.0.1 only (port 0: any free port)."""
    root = Path(directory) if directory is not None else get_settings().site_dir
    handler = partial(SiteRequestHandler, directory=str(root))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve(port: int = 8000, directory: Path | str | None = None) -> None:
    """Serve the site on localhost until Ctrl+C; builds the page first if there is none."""
    if directory is None:
        directory = get_settings().site_dir
        if not (directory / "index.html").is_file():
            build_site()
    server = make_server(port, directory)
    host, real_port = server.server_address[:2]
    print(f"Datapakker: http://{host}:{real_port}/  (stop med Ctrl+C)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m datapakke.publish.site`` rebuilds the page; ``--serve [--port N]`` serves it."""
    parser = argparse.ArgumentParser(
        prog="python -m datapakke.publish.site",
        description="Byg download-siden for datapakkerne, eller server den på 127.0.0.1.",
    )
    parser.add_argument("--serve", action="store_true", help="server siden i stedet for at bygge")
    parser.add_argument("--port", type=int, default=8000, help="port (standard 8000)")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0
    path = build_site()
    print(f"Download-siden er bygget: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
