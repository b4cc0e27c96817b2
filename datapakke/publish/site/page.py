"""The download page's HTML: what it lists for each area, in Danish, every text escaped.

Rendering only reads the :class:`AreaEntry` values the build made; it touches no files, so the
page is the same whether the areas were copied in this process or in workers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datapakke.config import Settings
from datapakke.geography import Area, Geography
from datapakke.presentation import (
    MEMBERSHIP_STATUS_DA,
    MEMBERSHIP_STATUS_HELP_DA,
    MONTHS_DA,
    SYNTHETIC_BANNER_DA,
    format_da,
    suppressed_text,
)
from datapakke.publish.data_status import SourceStatus
from datapakke.publish.refresh_status import RefreshStatus

PAGE_TITLE = "Datapakker for sundhedsklynger og sundhedsråd"
NOT_BUILT_DA = "Ikke bygget endnu"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DANISH_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}"})  # æ, ø, å sort after z

try:
    LOCAL_TZ: ZoneInfo | None = ZoneInfo("Europe/Copenhagen")
except ZoneInfoNotFoundError:  # no tz database: fall back to the machine's local time
    LOCAL_TZ = None


# --------------------------------------------------------------------------- what the page lists


@dataclass(frozen=True)
class PackLink:
    """A pack copied into the site; ``path`` is relative to the site folder."""

    path: PurePosixPath
    size: int
    built_at: datetime


@dataclass(frozen=True)
class Thumbnail:
    """The small overview picture and the full chart it links to (paths inside the site)."""

    path: PurePosixPath
    full_path: PurePosixPath
    width: int | None
    height: int | None


@dataclass(frozen=True)
class AreaEntry:
    area: Area
    latest: PackLink | None
    history: tuple[PackLink, ...]
    thumbnail: Thumbnail | None
    is_synthetic: bool | None  # None: no pack, so nothing to warn about
    publishers: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()  # rejected files or quarantined rows behind this pack
    headline: tuple[str, ...] = ()  # the pack's first key findings (its front page)


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


def danish_sort_key(name: str) -> str:
    """Sorts names as a Danish reader expects: case-insensitive, with æ, ø, å after z."""
    return name.casefold().translate(_DANISH_ORDER)


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
.headline { margin: 0; font-size: .9rem; border-left: 3px solid var(--accent);
  padding-left: 8px; }
.caveat { font-size: .85rem; color: #8a3b00; margin: .3rem 0; }
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
/* On a phone the map keeps a size its names can be read at (~10 px) and scrolls sideways. */
.map { overflow-x: auto; }
.map svg { width: 100%; max-width: 620px; min-width: 560px; height: auto; display: block; }
.map a:hover rect, .map a:focus rect { stroke: #1d232b; stroke-width: 2; }
#find { font: inherit; padding: 6px 10px; width: min(360px, 100%); border: 1px solid var(--line);
  border-radius: 6px; }
.asof { margin: 0 0 12px; font-weight: 600; }
.failed { margin: 12px 0 0; padding: 12px 16px; background: #fdecea; color: #611a15;
  border: 2px solid #b3261e; border-left-width: 10px; border-radius: 6px; }
table.status { border-collapse: collapse; background: #fff; font-size: .88rem; width: 100%; }
table.status th, table.status td { border: 1px solid var(--line); padding: 5px 8px;
  text-align: left; vertical-align: top; }
table.status td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.status code { font-size: .78rem; word-break: break-all; }
.real { color: #0b5cad; font-weight: 600; }
footer { margin-top: 36px; padding: 20px 0 36px; border-top: 1px solid var(--line);
  background: #fff; color: var(--muted); font-size: .9rem; }
footer p { margin: 4px 0; max-width: 70em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _href(path: PurePosixPath) -> str:
    """A relative, URL-quoted link from index.html (works from file:// and when served)."""
    return quote(str(path), safe="/")


def _pack_link(pack: PackLink, text: str, css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return (
        f'<a{cls} href="{_e(_href(pack.path))}" download="{_e(pack.path.name)}" '
        f'type="{XLSX_MIME}">{_e(text)}</a>'
    )


def _member_names(geo: Geography, area: Area) -> list[str]:
    """The area's municipalities in Danish order, those only partly in it marked '(delvis)'."""
    partial_members = set(area.partial_members)
    names = sorted(
        ((geo.municipalities[code].name, code in partial_members) for code in area.members),
        key=lambda item: danish_sort_key(item[0]),
    )
    return [f"{name} (delvis)" if partial else name for name, partial in names]


def _render_tags(entry: AreaEntry, mixed_data: bool) -> str:
    status_id = entry.area.membership_status
    status = MEMBERSHIP_STATUS_DA.get(status_id, status_id)
    status_help = MEMBERSHIP_STATUS_HELP_DA.get(status_id, "")
    proxy = " proxy" if status_id == "proxy" else ""
    tags = [f'<span class="tag{proxy}" title="{_e(status_help)}">{_e(status)}</span>']
    if mixed_data and entry.is_synthetic:  # all synthetic: the banner says it once
        tags.append('<span class="tag synthetic">Syntetiske data</span>')
    caveats = "".join(f'<p class="caveat">Forbehold: {_e(c)}</p>' for c in entry.caveats)
    return f'<div class="tags">{"".join(tags)}</div>{caveats}'


def _render_thumbnail(entry: AreaEntry) -> str:
    thumb = entry.thumbnail
    if thumb is None:  # keeps the cards of a row aligned
        return '<div class="thumb empty" aria-hidden="true"></div>'
    size = f' width="{thumb.width}" height="{thumb.height}"' if thumb.width and thumb.height else ""
    return (
        f'<a class="thumb" href="{_e(_href(thumb.full_path))}" '
        'title="Vis overblikket i fuld størrelse">'
        f'<img src="{_e(_href(thumb.path))}" alt="{_e(f"Overblik over {entry.area.name}")}"{size} '
        'loading="lazy"></a>'
    )


def _render_downloads(entry: AreaEntry) -> list[str]:
    """The latest pack's button (or 'not built yet') and the list of earlier versions."""
    parts = []
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
    return parts


def _render_card(geo: Geography, entry: AreaEntry, mixed_data: bool) -> str:
    area = entry.area
    members = _member_names(geo, area)
    parts = [f'<article class="card" id="{_e(area.grouping)}-{_e(area.area_id)}">']
    parts.append(f"<h3>{_e(area.name)}</h3>")
    if area.region_name and area.region_name != area.name:
        parts.append(f'<p class="sub">{_e(area.region_name)}</p>')
    parts.append(_render_tags(entry, mixed_data))
    parts.extend(f'<p class="headline">{_e(line)}</p>' for line in entry.headline[:2])
    parts.append(_render_thumbnail(entry))
    parts.append(
        f'<p class="members"><strong>{_count(len(members), "kommune", "kommuner")}:</strong> '
        f"{_e(', '.join(members))}</p>"
    )
    parts.append('<div class="foot">')
    parts.extend(_render_downloads(entry))
    parts.append("</div></article>")
    return "\n".join(parts)


def _render_refresh(refresh: RefreshStatus | None) -> list[str]:
    """'Data pr. …' from the last successful refresh; a failed latest attempt said plainly, with
    yesterday's packs still offered below."""
    if refresh is None:
        return []
    out = []
    if refresh.last_success is not None:
        out.append(f'<p class="asof">Data pr. {_e(format_datetime_da(refresh.last_success))}</p>')
    if refresh.latest_failed and refresh.last_failure is not None:
        kept = (
            "Datapakkerne nedenfor er fra den seneste vellykkede opdatering"
            + (f" ({format_datetime_da(refresh.last_success)})" if refresh.last_success else "")
            + "."
        )
        out.append(
            '<div class="failed" role="alert"><strong>Den seneste opdatering '
            f"({_e(format_datetime_da(refresh.last_failure))}) mislykkedes.</strong> "
            f"{_e(kept)} Årsag (til driften): {_e(refresh.failure_reason or 'ukendt')}</div>"
        )
    return out


def _render_header(
    geo: Geography,
    entries: Mapping[str, Sequence[AreaEntry]],
    banner: bool,
    status: bool,
    refresh: RefreshStatus | None = None,
) -> str:
    nav = "".join(
        f'<li><a href="#{_e(g)}">{_e(geo.grouping_titles[g])} ({len(entries[g])})</a></li>'
        for g in entries
    )
    if status:
        nav += '<li><a href="#datastatus">Datastatus</a></li>'
    out = [
        '<header><div class="wrap">',
        f"<h1>{_e(PAGE_TITLE)}</h1>",
        '<p class="lede">Én Excel-datapakke pr. sundhedsklynge, sundhedsråd og region med tal '
        "for befolkning, ældre, kronisk sygdom, psykiatri, aktivitet, sundhedsprofil og "
        "dødelighed – for hver kommune i området, området selv, regionen og hele landet, med "
        "usikkerhed og sammenligninger.</p>",
        f'<nav aria-label="Inddelinger"><ul>{nav}</ul></nav>',
    ]
    out += _render_refresh(refresh)
    if banner:
        out.append(f'<div class="banner" role="note">{_e(SYNTHETIC_BANNER_DA)}</div>')
    out.append("</div></header>")
    return "\n".join(out)


# Muted region colours for the page's map (not the comparison colours: the map finds a pack).
REGION_COLOURS = ("#9ecae1", "#c7e9c0", "#fdd0a2", "#dadaeb", "#fcbba1")


def _render_map(geo: Geography, entries: Mapping[str, Sequence[AreaEntry]]) -> str:
    """All 98 municipalities as tiles coloured by region; hovering shows the name and its
    areas, clicking goes to the card of its area in the first grouping on the page."""
    from datapakke.publish.tilemap import default_tile_grid, tile_map_svg

    first = next(iter(entries), None)
    regions = sorted({(m.region_area_id, m.region_name) for m in geo.municipalities.values()})
    colour = {r: REGION_COLOURS[i % len(REGION_COLOURS)] for i, (r, _) in enumerate(regions)}
    fill, names, links = {}, {}, {}
    for code, muni in geo.municipalities.items():
        areas = geo.areas_of_municipality(code)
        fill[code] = colour[muni.region_area_id]
        names[code] = f"{muni.name}: " + ", ".join(a.name for a in areas)
        target = next((a for a in areas if a.grouping == first), None)
        if target is not None:
            links[code] = f"#{target.grouping}-{target.area_id}"
    svg = tile_map_svg(
        default_tile_grid(),
        fill,
        (),
        names,
        links,
        title="Kort over kommunerne: klik på en kommune for at finde dens datapakke",
        legend=[(name, colour[region]) for region, name in regions],
    )
    return "\n".join(
        [
            '<section id="kort">',
            "<h2>Find din kommune</h2>",
            '<p class="count">Skriv et kommunenavn for at se dens datapakker, eller klik på '
            "kortet (farverne er regionerne).</p>",
            '<p><input type="search" id="find" placeholder="Kommune, fx Aalborg" '
            'aria-label="Find en kommune" autocomplete="off"></p>',
            f'<div class="map">{svg}</div>',
            "</section>",
        ]
    )


# Filters the cards by the text typed into #find (names of areas and members); without
# JavaScript the page is unchanged: every card shows.
_SEARCH_SCRIPT = """<script>
(function () {
  var box = document.getElementById("find");
  if (!box) { return; }
  var norm = function (t) { return t.toLocaleLowerCase("da"); };
  box.addEventListener("input", function () {
    var q = norm(box.value.trim());
    document.querySelectorAll("article.card").forEach(function (card) {
      card.hidden = q !== "" && norm(card.textContent).indexOf(q) === -1;
    });
  });
})();
</script>"""


def _render_data_status(statuses: Sequence[SourceStatus]) -> str:
    """The sources behind every pack: real or synthetic, file, periods, coverage, rows, checksum."""
    if not statuses:
        return ""
    head = (
        "Kilde",
        "Datagrundlag",
        "Fil (under data/raw/)",
        "Perioder",
        "Kommuner med tal",
        "Rækker læst",
        "Indlæst",
        "I karantæne",
        "Indlæst den",
        "Status",
        "SHA-256",
    )
    rows = []
    for s in statuses:
        origin_class = "" if s.is_synthetic else ' class="real"'
        numbers = "".join(
            f'<td class="n">{_e(format_da(n, 0))}</td>'
            for n in (s.rows_read, s.rows_loaded, s.rows_quarantined)
        )
        loaded = format_datetime_da(s.loaded_at) if s.loaded_at else ""
        rows.append(
            f"<tr><td>{_e(s.title)}</td><td{origin_class}>{_e(s.origin_da)}</td>"
            f"<td>{_e(s.file)}</td><td>{_e(s.periods_da)}</td>"
            f"<td>{_e(s.coverage_count_da)}</td>{numbers}<td>{_e(loaded)}</td>"
            f"<td>{_e(s.status_da)}</td><td><code>{_e(s.sha256)}</code></td></tr>"
        )
    return "\n".join(
        [
            '<section id="datastatus">',
            "<h2>Datastatus</h2>",
            '<p class="count">Hvilke filer datapakkerne bygger på. »Rigtige data« er filer, som '
            "en analytiker har lagt i datamappen; »Syntetiske data« er den indbyggede prøve med "
            "opdigtede tal. En kommune, som en rigtig fil ikke dækker, har ingen tal.</p>",
            '<table class="status"><thead><tr>'
            + "".join(f"<th>{_e(h)}</th>" for h in head)
            + "</tr></thead><tbody>",
            *rows,
            "</tbody></table></section>",
        ]
    )


def _render_footer(built_at: datetime, settings: Settings, publishers: Iterable[str]) -> str:
    threshold = settings.suppression_threshold
    small = f"1–{threshold - 1}" if threshold > 2 else "1"
    named = ", ".join(sorted(publishers, key=danish_sort_key))
    sources = (
        f"Kilder: {_e(named)}. " if named else ""
    ) + "Hver datapakkes ark »Datastatus« beskriver kilder og filer, »Om data« metoderne."
    return "\n".join(
        [
            '<footer><div class="wrap">',
            f"<p>Siden er bygget {_e(format_datetime_da(built_at))} (dansk tid).</p>",
            f"<p>{sources}</p>",
            f"<p>Diskretion: Små tal ({small}) er skjult og vist som "
            f"»{_e(suppressed_text(threshold))}«; tal, som et skjult tal kunne regnes ud fra, "
            "er også skjult.</p>",
            f"<p>De seneste {settings.history_keep} tidligere versioner af hver datapakke "
            "gemmes.</p>",
            "</div></footer>",
        ]
    )


INPUT_META = "datapakke-inputs"  # the page's input fingerprint (``site.build.refresh_site``)


def render_page(
    geo: Geography,
    entries: Mapping[str, Sequence[AreaEntry]],
    built_at: datetime,
    settings: Settings,
    data_status: Sequence[SourceStatus] = (),
    refresh: RefreshStatus | None = None,
    input_fingerprint: str = "",
) -> str:
    """The whole page as one HTML string; every text from data goes through ``html.escape``.
    ``input_fingerprint`` (what the page was built from) goes in a meta tag for the next build."""
    packs = [e for group in entries.values() for e in group if e.latest is not None]
    synthetic = [e for e in packs if e.is_synthetic]
    mixed_data = 0 < len(synthetic) < len(packs)
    out = [
        "<!doctype html>",
        '<html lang="da">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="{INPUT_META}" content="{_e(input_fingerprint)}">',
        f"<title>{_e(PAGE_TITLE)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        _render_header(geo, entries, bool(synthetic), bool(data_status), refresh),
        '<main class="wrap">',
        _render_map(geo, entries),
    ]
    for grouping, group in entries.items():
        built = sum(e.latest is not None for e in group)
        out.append(f'<section id="{_e(grouping)}">')
        out.append(f"<h2>{_e(geo.grouping_titles[grouping])}</h2>")
        out.append(
            f'<p class="count">{_count(len(group), "område", "områder")} · '
            f"{_count(built, 'datapakke', 'datapakker')} bygget</p>"
            '<div class="cards">'
        )
        out.extend(_render_card(geo, entry, mixed_data) for entry in group)
        out.append("</div></section>")
    out.append(_render_data_status(data_status))
    publishers = {p for e in packs for p in e.publishers}
    out += ["</main>", _render_footer(built_at, settings, publishers), _SEARCH_SCRIPT]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
