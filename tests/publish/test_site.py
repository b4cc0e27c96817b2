"""The download page: every area listed, links that resolve inside the site, Danish formats,
the synthetic banner, escaping, path safety, atomic rebuilds, serving, and a real browser."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import duckdb
import pandas as pd
import pytest

from datapakke.config import get_settings
from datapakke.geography import Geography, default_geography
from datapakke.presentation import MEMBERSHIP_STATUS_HELP_DA, SYNTHETIC_BANNER_DA
from datapakke.publish import site
from datapakke.publish.charts.png import THUMBNAIL_WIDTH
from datapakke.publish.site import build
from datapakke.publish.site.page import XLSX_MIME, format_datetime_da, format_size_da

BUILT_AT = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)  # 02:30 in Copenhagen (CET)
HISTORY_STAMPS = ["20261101T013000", "20261115T013000", "20261008T120500"]
MISSING = {("klynge2022", "bornholm"), ("sundhedsraad2027", "fyn")}  # fyn: mart, no pack
BIG = ("region", "hovedstaden")  # a 1,2 MB pack
RICH = ("klynge2022", "hovedstaden-byen")  # history and a real workbook
SMALL = {RICH, BIG, *MISSING, ("klynge2022", "nordjylland-midt"), ("region", "nordjylland")}


class _Links(HTMLParser):
    """hrefs, srcs, download attributes and element ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.downloads: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
            if "download" in a:
                self.downloads.append(a["href"] or "")
        if tag == "img" and a.get("src"):
            self.srcs.append(a["src"] or "")


def _links(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    return parser


def _write_mart(path: Path, grouping: str, area_id: str, is_synthetic: bool) -> None:
    info = pd.DataFrame(
        [
            {
                "grouping": grouping,
                "grouping_title": grouping,
                "area_id": area_id,
                "area_name": area_id,
                "membership_status": "confirmed",
                "is_synthetic": is_synthetic,
                "built_at": BUILT_AT,
                "code_version": "test",
                "suppression_threshold": 5,
            }
        ]
    )
    sources = pd.DataFrame([{"source_id": "folk1a", "publisher": "Danmarks Statistik"}])
    con = duckdb.connect(str(path))
    try:
        con.register("_info", info)
        con.execute("CREATE TABLE area AS SELECT * FROM _info")
        con.register("_src", sources)
        con.execute("CREATE TABLE source AS SELECT * FROM _src")
    finally:
        con.close()


def _template_files(folder: Path) -> tuple[bytes, bytes]:
    """A tiny real workbook and a tiny real PNG, made once and copied to every area."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Forside"
    book.active["A1"] = "Datapakke (test)"
    book.save(folder / "template.xlsx")
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.barh(["A", "B", "C"], [3, 5, 2], color="#0072B2")
    ax.set_title("Overblik")
    fig.savefig(folder / "template.png")
    plt.close(fig)
    return (folder / "template.xlsx").read_bytes(), (folder / "template.png").read_bytes()


def make_marts(root: Path, geo: Geography) -> None:
    """A fake marts tree (all synthetic): every area but MISSING has a mart, a pack and a chart."""
    root.mkdir(parents=True)
    xlsx, png = _template_files(root.parent)
    for grouping, area_id in geo.areas:
        folder = root / grouping / area_id
        folder.mkdir(parents=True)
        if (grouping, area_id) == ("klynge2022", "bornholm"):
            continue
        _write_mart(folder / "mart.duckdb", grouping, area_id, is_synthetic=True)
        if (grouping, area_id) in MISSING:
            continue
        pack = folder / f"datapakke-{grouping}-{area_id}.xlsx"
        pack.write_bytes(b"\0" * 1_258_291 if (grouping, area_id) == BIG else xlsx)
        (folder / "charts").mkdir()
        (folder / "charts" / "overview.png").write_bytes(png)
    history = root / RICH[0] / RICH[1] / "history"
    history.mkdir()
    for stamp in HISTORY_STAMPS:
        (history / f"datapakke-{RICH[0]}-{RICH[1]}-{stamp}.xlsx").write_bytes(xlsx)
    (history / "notes.txt").write_text("not a pack")  # ignored: not a stamped pack name
    # ignored: shaped like a stamp, but there is no 13th month
    (history / f"datapakke-{RICH[0]}-{RICH[1]}-20261301T000000.xlsx").write_bytes(xlsx)


def set_synthetic(root: Path, value: bool, only: tuple[str, str] | None = None) -> None:
    """Flip ``is_synthetic`` in the marts of SMALL (or one area)."""
    for grouping, area_id in [only] if only else sorted(SMALL):
        path = root / grouping / area_id / "mart.duckdb"
        if path.exists():
            con = duckdb.connect(str(path))
            try:
                con.execute("UPDATE area SET is_synthetic = ?", [value])
            finally:
                con.close()


def small_geo() -> Geography:
    """The real geography cut to SMALL: the same code paths, a fraction of the build time."""
    geo = default_geography()
    areas = {key: area for key, area in geo.areas.items() if key in SMALL}
    return Geography(dict(geo.municipalities), areas, dict(geo.grouping_titles))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "marts"
    make_marts(root, default_geography())
    return root


@pytest.fixture
def marts(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the fake marts tree, with the settings pointing at it."""
    root = tmp_path / "marts"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.setenv("DATAPAKKE_MARTS_DIR", str(root))
    return root


@dataclasses.dataclass(frozen=True)
class Built:
    marts: Path
    site_dir: Path
    page: str


@pytest.fixture(scope="module")
def full(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One site for the whole geography, built once and only read by the tests that use it."""
    root = tmp_path_factory.mktemp("full") / "marts"
    shutil.copytree(template, root, symlinks=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAPAKKE_MARTS_DIR", str(root))
        index = site.build_site()
        assert index == get_settings().site_dir / "index.html"
    return Built(root, index.parent, index.read_text(encoding="utf-8"))


def _card(page: str, grouping: str, area_id: str) -> str:
    start = page.index(f'<article class="card" id="{grouping}-{area_id}">')
    return page[start : page.index("</article>", start)]


def _file_of(site_dir: Path, href: str) -> Path:
    """The file a relative link on index.html points at; fails if it leaves the site folder."""
    parsed = urlparse(href)
    assert not parsed.scheme and not parsed.netloc and not href.startswith("/"), href
    path = (site_dir / unquote(parsed.path)).resolve()
    assert path.is_relative_to(site_dir.resolve()), href
    return path


@contextlib.contextmanager
def running_server(directory: Path) -> Iterator[str]:
    """The site served on a free localhost port in a thread; yields its base URL."""
    server = site.make_server(0, directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _get(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers.get("Content-Type", "")


# --------------------------------------------------------------------------- formats


def test_danish_sizes() -> None:
    assert format_size_da(812) == "812 byte"
    assert format_size_da(5_427) == "5,3 kB"
    assert format_size_da(48 * 1024) == "48 kB"
    assert format_size_da(1_258_291) == "1,2 MB"
    assert format_size_da(15 * 1024 * 1024) == "15,0 MB"


def test_danish_dates_in_copenhagen_time() -> None:
    assert format_datetime_da(BUILT_AT) == "22. november 2026 kl. 02:30"
    summer = datetime(2026, 7, 3, 22, 5, tzinfo=UTC)  # CEST: next day 00:05
    assert format_datetime_da(summer) == "4. juli 2026 kl. 00:05"
    assert format_datetime_da(datetime(2026, 5, 1, 8, 0)) == "1. maj 2026 kl. 10:00"


# --------------------------------------------------------------------------- the page


def test_every_area_of_every_grouping_is_listed(full: Built) -> None:
    page = full.page
    assert "<title>Datapakker for sundhedsklynger og sundhedsråd</title>" in page
    geo = default_geography()
    ids = _links(page).ids
    counts = {g: len(geo.areas_of_grouping(g)) for g in geo.groupings}
    assert counts == {"klynge2022": 22, "sundhedsraad2027": 17, "region": 5}
    for grouping in geo.groupings:
        assert grouping in ids
        assert f"<h2>{geo.grouping_titles[grouping]}</h2>" in page
        for area in geo.areas_of_grouping(grouping):
            assert f"{grouping}-{area.area_id}" in ids
            assert f"<h3>{area.name}</h3>" in _card(page, grouping, area.area_id)


def test_links_point_to_copies_inside_the_site(full: Built) -> None:
    links = _links(full.page)
    internal = [h for h in links.hrefs if not h.startswith("#")]
    assert len(links.downloads) == 42 + len(HISTORY_STAMPS)  # 44 areas, 2 without a pack
    assert len(links.srcs) == 42
    for href in internal + links.srcs:
        assert href.startswith("packs/"), href
        assert _file_of(full.site_dir, href).is_file(), href
    rich = f"packs/{RICH[0]}/{RICH[1]}/datapakke-{RICH[0]}-{RICH[1]}.xlsx"
    assert rich in links.downloads
    original = full.marts / RICH[0] / RICH[1] / f"datapakke-{RICH[0]}-{RICH[1]}.xlsx"
    assert (full.site_dir / rich).read_bytes() == original.read_bytes()
    # nothing else is copied: no marts, no stray files from history/
    assert not list(full.site_dir.rglob("*.txt")) and not list(full.site_dir.rglob("*.duckdb"))


def test_card_shows_members_status_size_date_history_and_thumbnail(full: Built) -> None:
    card = _card(full.page, *RICH)
    assert "Frederiksberg" in card and "København (delvis)" in card
    assert "Bekræftet medlemskab" in card or "Medlemskab fra én kilde" in card
    assert "bygget 22. november 2026 kl. 02:30" in card
    assert 'download="datapakke-klynge2022-hovedstaden-byen.xlsx"' in card
    assert "Tidligere versioner (3)" in card
    dates = [
        "15. november 2026 kl. 02:30",
        "1. november 2026 kl. 02:30",
        "8. oktober 2026 kl. 14:05",
    ]
    positions = [card.index(d) for d in dates]
    assert positions == sorted(positions)  # newest first
    assert '<img src="packs/klynge2022/hovedstaden-byen/overview-lille.png"' in card
    assert 'alt="Overblik over Sundhedsklynge Byen"' in card
    assert "1,2 MB" in _card(full.page, *BIG)
    proxy = [a for a in default_geography().areas.values() if a.membership_status == "proxy"]
    for area in proxy:
        card = _card(full.page, area.grouping, area.area_id)
        assert "Skønnet medlemskab" in card
        assert f'title="{MEMBERSHIP_STATUS_HELP_DA["proxy"]}"' in card  # the pack's wording


def test_thumbnail_is_small(full: Built) -> None:
    from PIL import Image

    folder = full.site_dir / "packs" / RICH[0] / RICH[1]
    with Image.open(folder / "overview-lille.png") as image:
        assert image.width <= THUMBNAIL_WIDTH
    assert (folder / "overview.png").read_bytes() == (
        full.marts / RICH[0] / RICH[1] / "charts" / "overview.png"
    ).read_bytes()


def test_missing_pack_says_not_built_yet(full: Built) -> None:
    for grouping, area_id in MISSING:
        card = _card(full.page, grouping, area_id)
        assert "Ikke bygget endnu" in card
        assert "download=" not in card
    assert full.page.count("Ikke bygget endnu") == len(MISSING)


def test_map_names_every_municipality_and_links_to_its_card(full: Built) -> None:
    geo = default_geography()
    svg = full.page[full.page.index('<svg xmlns="http://www.w3.org/2000/svg"') :]
    svg = svg[: svg.index("</svg>")]
    hrefs = re.findall(r'<a href="#([a-z0-9-]+)"', svg)
    assert len(hrefs) == len(geo.municipalities) == 98
    for anchor in set(hrefs):  # every link lands on a card of the page
        assert f'<article class="card" id="{anchor}">' in full.page, anchor
    aalborg = geo.municipalities["851"]
    assert f"<title>{aalborg.name}: " in svg  # the name on hover, then its areas
    assert 'id="find"' in full.page and 'getElementById("find")' in full.page


def test_a_card_shows_its_packs_first_key_findings(full: Built) -> None:
    from datapakke.publish.site.page import AreaEntry, render_page

    geo = default_geography()
    area = geo.area("klynge2022", "bornholm")
    entry = AreaEntry(
        area, None, (), None, None, headline=("Første <sætning>.", "Anden.", "Tredje.")
    )
    page = render_page(geo, {"klynge2022": [entry]}, datetime.now(UTC), get_settings())
    card = _card(page, "klynge2022", "bornholm")
    assert '<p class="headline">Første &lt;sætning&gt;.</p>' in card
    assert "Anden." in card and "Tredje." not in card  # two lines on a card


def test_page_says_data_as_of_and_a_failed_latest_refresh(tmp_path: Path) -> None:
    from datapakke.publish.refresh_status import read_status, record_failure, record_success
    from datapakke.publish.site.page import render_page

    settings = dataclasses.replace(get_settings(), marts_dir=tmp_path)
    geo = default_geography()
    good = datetime(2026, 12, 2, 1, 31, tzinfo=UTC)
    ok = record_success(settings, good)
    page = render_page(geo, {}, good, settings, refresh=ok)
    assert "Data pr. 2. december 2026 kl. 02:31" in page and 'class="failed"' not in page
    failed = record_failure(settings, good + timedelta(days=1), "file statbank/FOLK1A/x.csv: <bad>")
    assert read_status(settings) == failed and failed.latest_failed
    page = render_page(geo, {}, good, settings, refresh=failed)
    assert "Den seneste opdatering (3. december 2026 kl. 02:31) mislykkedes." in page
    assert "fra den seneste vellykkede opdatering (2. december 2026 kl. 02:31)" in page
    assert "&lt;bad&gt;" in page  # the reason is escaped like every text
    assert not record_success(settings, good + timedelta(days=2)).latest_failed


def test_footer_has_build_time_sources_and_disclosure(full: Built) -> None:
    footer = full.page[full.page.index("<footer") :]
    assert "Siden er bygget " in footer and " kl. " in footer
    assert "Danmarks Statistik" in footer
    assert "Små tal (1–4) er skjult" in footer


def test_synthetic_banner_when_every_pack_is_synthetic(full: Built) -> None:
    assert full.page.count(SYNTHETIC_BANNER_DA) == 1
    assert full.page.index(SYNTHETIC_BANNER_DA) < full.page.index("<main")
    assert "tag synthetic" not in full.page  # all synthetic: the banner says it once


def test_no_banner_when_every_pack_is_real(marts: Path) -> None:
    set_synthetic(marts, False)
    page = site.build_site(geo=small_geo()).read_text(encoding="utf-8")
    assert SYNTHETIC_BANNER_DA not in page
    assert 'class="banner"' not in page


def test_one_synthetic_pack_is_enough_and_is_tagged(marts: Path) -> None:
    set_synthetic(marts, False)
    set_synthetic(marts, True, only=BIG)
    page = site.build_site(geo=small_geo()).read_text(encoding="utf-8")
    assert SYNTHETIC_BANNER_DA in page
    assert "Syntetiske data" in _card(page, *BIG)
    assert "Syntetiske data" not in _card(page, *RICH)


def test_synthetic_mart_without_pack_shows_no_banner(marts: Path) -> None:
    set_synthetic(marts, False)
    set_synthetic(marts, True, only=("sundhedsraad2027", "fyn"))  # a mart but no pack
    assert SYNTHETIC_BANNER_DA not in site.build_site(geo=small_geo()).read_text(encoding="utf-8")


def test_unreadable_mart_counts_as_synthetic(marts: Path) -> None:
    set_synthetic(marts, False)
    (marts / BIG[0] / BIG[1] / "mart.duckdb").write_bytes(b"not a database")
    page = site.build_site(geo=small_geo()).read_text(encoding="utf-8")
    assert SYNTHETIC_BANNER_DA in page
    assert "1,2 MB" in _card(page, *BIG)  # the pack is still offered


def test_mart_connections_are_closed(marts: Path) -> None:
    site.build_site(geo=small_geo())
    con = duckdb.connect(str(marts / RICH[0] / RICH[1] / "mart.duckdb"))  # read-write: no one else
    con.close()


def _geo_with(geo: Geography, key: tuple[str, str], **changes: object) -> Geography:
    areas = dict(geo.areas)
    areas[key] = dataclasses.replace(areas[key], **changes)
    return Geography(dict(geo.municipalities), areas, dict(geo.grouping_titles))


def test_every_text_is_escaped(marts: Path) -> None:
    evil = "<script>alert(1)</script>"
    geo = _geo_with(
        small_geo(), RICH, name=evil, region_name='"><img src=x onerror=alert(2)>',
        membership_status="<b>ny</b>",
    )  # fmt: skip
    geo.grouping_titles["region"] = "Regioner <i>&</i>"
    page = site.build_site(geo=geo).read_text(encoding="utf-8")
    assert evil not in page and "<img src=x" not in page and "<b>ny" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "Regioner &lt;i&gt;&amp;&lt;/i&gt;" in page
    assert 'alt="Overblik over &lt;script&gt;alert(1)&lt;/script&gt;"' in page


# --------------------------------------------------------------------------- path safety


@pytest.mark.parametrize("bad_id", ["../../evil", "..", "a/b", "Bornholm", "", "x.y", "a\\b"])
def test_unsafe_ids_are_refused(bad_id: str) -> None:
    with pytest.raises(ValueError, match="unsafe id"):
        build.check_id(bad_id)


def test_build_refuses_an_area_id_that_would_escape(marts: Path) -> None:
    site.build_site(geo=small_geo())
    before = (get_settings().site_dir / "index.html").read_bytes()
    geo = small_geo()
    areas = dict(geo.areas)
    areas[("klynge2022", "../../evil")] = dataclasses.replace(areas[RICH], area_id="../../evil")
    with pytest.raises(ValueError, match="unsafe id"):
        site.build_site(geo=Geography(dict(geo.municipalities), areas, dict(geo.grouping_titles)))
    assert (get_settings().site_dir / "index.html").read_bytes() == before
    assert not list(marts.glob(".site.new-*"))
    assert not list(marts.parent.rglob("evil*"))


def test_safe_site_path_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    assert build.safe_site_path(root, "packs", "a-b", "x.xlsx") == root / "packs" / "a-b" / "x.xlsx"
    for parts in [("..", "x"), ("packs", "..", "..", "x"), ("/etc",), ("link", "x.xlsx"), ()]:
        with pytest.raises(ValueError):
            build.safe_site_path(root, *parts)


def test_symlinked_packs_are_not_published(marts: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.xlsx"
    secret.write_bytes(b"secret")
    history = marts / RICH[0] / RICH[1] / "history"
    (history / f"datapakke-{RICH[0]}-{RICH[1]}-20260101T000000.xlsx").symlink_to(secret)
    site_dir = site.build_site(geo=small_geo()).parent
    assert "Tidligere versioner (3)" in (site_dir / "index.html").read_text(encoding="utf-8")
    assert not any(p.read_bytes() == b"secret" for p in site_dir.rglob("*.xlsx"))


# --------------------------------------------------------------------------- atomic rebuild


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_rebuild_leaves_the_old_site(
    marts: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    from datapakke.atomic import write_bytes

    site_dir = site.build_site(geo=small_geo()).parent
    before = _files(site_dir)
    real_publish = build._publish_file
    calls = {"n": 0}

    def publish_then_fail(src: Path, dst: Path) -> None:
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError("disk full")
        real_publish(src, dst)

    monkeypatch.setattr(build, "_publish_file", publish_then_fail)
    # a new pack, published as the packs are: written beside and renamed over the old one
    write_bytes(marts / RICH[0] / RICH[1] / f"datapakke-{RICH[0]}-{RICH[1]}.xlsx", b"new")
    with pytest.raises(OSError, match="disk full"):  # raised in a worker, or here
        site.build_site(geo=small_geo(), workers=workers)
    if workers == 1:
        assert calls["n"] == 5  # it did fail midway (the workers count their own calls)
    assert _files(site_dir) == before
    assert not [p for p in marts.iterdir() if p.name.startswith(".site.") and p.is_dir()]


def test_failed_swap_puts_the_old_site_back(marts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site_dir = site.build_site(geo=small_geo()).parent
    before = _files(site_dir)
    real_rename = build.os.rename

    def new_site_cannot_move_in(src: object, dst: object) -> None:
        if Path(str(src)).name.startswith(".site.new-"):
            raise OSError("rename failed")
        real_rename(src, dst)

    monkeypatch.setattr(build.os, "rename", new_site_cannot_move_in)
    with pytest.raises(OSError, match="rename failed"):
        site.build_site(geo=small_geo())
    monkeypatch.undo()
    assert _files(site_dir) == before
    assert not [p for p in marts.iterdir() if p.name.startswith(".site.") and p.is_dir()]


def test_rebuild_replaces_the_whole_site(marts: Path) -> None:
    site_dir = site.build_site(geo=small_geo()).parent
    old = sorted((marts / RICH[0] / RICH[1] / "history").glob("*.xlsx"))[0]
    old.unlink()
    (site_dir / "stray.html").write_text("left over")
    site.build_site(geo=small_geo())
    assert not (site_dir / "stray.html").exists()
    assert not (site_dir / "packs" / RICH[0] / RICH[1] / "history" / old.name).exists()
    assert "Tidligere versioner (2)" in (site_dir / "index.html").read_text(encoding="utf-8")
    assert not [p for p in marts.iterdir() if p.name.startswith(".site.") and p.is_dir()]


# --------------------------------------------------------------------------- serving


def test_server_binds_localhost_only(full: Built) -> None:
    server = site.make_server(0, full.site_dir)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_serve_page_and_pack_over_http(full: Built) -> None:
    with running_server(full.site_dir) as base:
        page, content_type = _get(base)
        assert page == (full.site_dir / "index.html").read_bytes()
        assert content_type.startswith("text/html")
        href = next(h for h in _links(page.decode()).downloads if h.endswith(f"{RICH[1]}.xlsx"))
        body, content_type = _get(urljoin(base, href))
    original = full.marts / RICH[0] / RICH[1] / f"datapakke-{RICH[0]}-{RICH[1]}.xlsx"
    assert body == original.read_bytes()
    assert content_type == XLSX_MIME


@pytest.mark.parametrize("path", ["%00", "index.html%00.txt", "packs%00/x.xlsx", "a/%00/../b"])
def test_nul_byte_in_the_path_is_a_400_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    (tmp_path / "index.html").write_text("<p>hej</p>", encoding="utf-8")
    with running_server(tmp_path) as base:
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(base + path)
        assert refused.value.code == 400
        assert _get(base)[0] == b"<p>hej</p>"  # and the server keeps serving
    assert "Traceback" not in capsys.readouterr().err


def test_main_builds_or_serves(marts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "default_geography", small_geo)
    assert site.main([]) == 0
    assert (get_settings().site_dir / "index.html").is_file()
    served: list[int] = []
    monkeypatch.setattr(site, "serve", lambda port=8000, directory=None: served.append(port))
    assert site.main(["--serve", "--port", "8123"]) == 0
    assert served == [8123]


def test_runs_as_a_module() -> None:
    """``make serve`` runs ``python -m datapakke.publish.site --serve``."""
    done = subprocess.run(
        [sys.executable, "-m", "datapakke.publish.site", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--serve" in done.stdout and not done.stderr


# --------------------------------------------------------------------------- a real browser


def _chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"chromium did not finish in 120 s: {' '.join(command)}\n{exc.stderr!r}")


@pytest.mark.chromium
def test_chromium_renders_the_page_and_its_pack_link_downloads(full: Built, tmp_path: Path) -> None:
    binary = _chromium()
    if binary is None:
        pytest.skip("Debian chromium not installed (.ci/run installs it)")
    from openpyxl import load_workbook

    screenshot = tmp_path / "page.png"
    with running_server(full.site_dir) as base:
        shot = _run_chromium(
            binary, tmp_path / "profile-shot", f"--screenshot={screenshot}",
            "--window-size=1280,1800", "--hide-scrollbars", base,
        )  # fmt: skip
        assert screenshot.is_file() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
        dom = _run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", base)
        assert "<h1>Datapakker for sundhedsklynger og sundhedsråd</h1>" in dom.stdout, dom.stderr[
            -2000:
        ]
        links = _links(dom.stdout)
        assert len(links.downloads) == 42 + len(HISTORY_STAMPS)
        href = next(h for h in links.downloads if h.endswith(f"{RICH[1]}.xlsx"))
        body, content_type = _get(urljoin(base, href))
    assert content_type == XLSX_MIME
    book = load_workbook(io.BytesIO(body), read_only=True)
    try:
        assert book.sheetnames == ["Forside"]
        assert book["Forside"]["A1"].value == "Datapakke (test)"
    finally:
        book.close()

    import matplotlib.image

    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200


def test_a_rebuild_makes_thumbnails_only_for_charts_that_changed(
    marts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    site_dir = site.build_site(geo=small_geo(), workers=1).parent
    scaled: list[tuple[int, int]] = []
    real_thumbnail = Image.Image.thumbnail

    def counting_thumbnail(image, size, *args, **kwargs):
        scaled.append(image.size)
        return real_thumbnail(image, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "thumbnail", counting_thumbnail)  # counted in this process
    site.build_site(geo=small_geo(), workers=1)
    assert scaled == []  # no chart changed: every thumbnail is taken over

    chart = marts / RICH[0] / RICH[1] / "charts" / "overview.png"
    with Image.open(chart) as image:
        image.convert("RGB").resize((300, 200)).save(chart, format="PNG")
    site.build_site(geo=small_geo(), workers=1)
    assert scaled == [(300, 200)]  # only the changed chart was scaled again
    small = site_dir / "packs" / RICH[0] / RICH[1] / build.THUMBNAIL_FILE
    with Image.open(small) as image:
        assert image.size == (300, 200)  # the thumbnail follows the new chart


def test_the_site_links_the_published_files_and_keeps_what_it_linked(marts: Path) -> None:
    """No second copy of about 1 GB of packs on disk; a pack rebuilt afterwards (written beside
    and renamed over, as every publisher does) leaves the page's file as it was until the next
    site is built."""
    from datapakke.atomic import write_bytes

    site_dir = site.build_site(geo=small_geo(), workers=1).parent
    area = marts / RICH[0] / RICH[1]
    name = f"datapakke-{RICH[0]}-{RICH[1]}.xlsx"
    served = site_dir / "packs" / RICH[0] / RICH[1] / name
    assert served.stat().st_ino == (area / name).stat().st_ino
    before = served.read_bytes()
    write_bytes(area / name, before + b"rebuilt")
    assert served.read_bytes() == before
    site.build_site(geo=small_geo(), workers=1)
    assert served.read_bytes() == before + b"rebuilt"
