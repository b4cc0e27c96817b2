"""The tile map: the committed grid covers the geography once and still looks like Denmark
(checked against centroids written down here, independently of the grid), a broken grid fails
naming file and row, the PNG is drawn at print size with readable labels inside their tiles,
and the SVG is small, escaped, accessible and outlines exactly the members."""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image
from scipy.stats import spearmanr

from datapakke.geography import ReferenceDataError, default_geography
from datapakke.presentation import COMPARISON_COLOURS, COMPARISON_LABELS_DA
from datapakke.publish import tilemap
from datapakke.publish.charts.png import png_bytes
from datapakke.publish.charts.style import DPI, INK
from datapakke.publish.tilemap import (
    MAP_WIDTH_IN,
    NO_VALUE_COLOUR,
    TILE_GRID_PATH,
    TileGrid,
    TileGridError,
    comparison_fill,
    load_tile_grid,
    render_tile_map_png,
    tile_map_figure,
    tile_map_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KØBENHAVN, FREDERIKSBERG, AALBORG, BORNHOLM = "101", "147", "851", "400"
REGIONS = {"081": "Nordjylland", "082": "Midtjylland", "083": "Syddanmark"}
REGIONS |= {"084": "Hovedstaden", "085": "Sjælland"}

# Approximate centroids (latitude, longitude), written down independently of the grid.
CENTROIDS = {
    "101": (55.67, 12.57), "147": (55.68, 12.53), "151": (55.73, 12.36), "153": (55.64, 12.42),
    "155": (55.59, 12.67), "157": (55.75, 12.55), "159": (55.74, 12.47), "161": (55.68, 12.40),
    "163": (55.73, 12.43), "165": (55.66, 12.35), "167": (55.63, 12.47), "169": (55.66, 12.27),
    "173": (55.78, 12.52), "175": (55.68, 12.45), "183": (55.62, 12.33), "185": (55.62, 12.60),
    "187": (55.62, 12.38), "190": (55.80, 12.35), "201": (55.87, 12.35), "210": (55.95, 12.40),
    "217": (56.03, 12.55), "219": (55.92, 12.30), "223": (55.88, 12.50), "230": (55.82, 12.48),
    "240": (55.77, 12.20), "250": (55.85, 12.05), "253": (55.58, 12.28), "259": (55.45, 12.15),
    "260": (55.97, 12.00), "265": (55.65, 12.10), "269": (55.53, 12.18), "270": (56.05, 12.25),
    "306": (55.85, 11.60), "316": (55.65, 11.70), "320": (55.25, 12.10), "326": (55.62, 11.15),
    "329": (55.45, 11.80), "330": (55.38, 11.30), "336": (55.33, 12.35), "340": (55.42, 11.55),
    "350": (55.60, 12.00), "360": (54.78, 11.35), "370": (55.22, 11.75), "376": (54.75, 11.85),
    "390": (55.00, 12.00), "400": (55.13, 14.92), "410": (55.48, 9.85), "420": (55.27, 10.00),
    "430": (55.18, 10.35), "440": (55.45, 10.60), "450": (55.30, 10.80), "461": (55.40, 10.40),
    "479": (55.08, 10.60), "480": (55.52, 10.25), "482": (54.90, 10.75), "492": (54.87, 10.40),
    "510": (55.25, 9.45), "530": (55.73, 9.10), "540": (54.95, 9.80), "550": (55.00, 8.90),
    "561": (55.50, 8.55), "563": (55.42, 8.40), "573": (55.65, 8.55), "575": (55.48, 9.15),
    "580": (55.05, 9.35), "607": (55.57, 9.70), "615": (55.87, 9.85), "621": (55.48, 9.45),
    "630": (55.72, 9.35), "657": (56.13, 8.95), "661": (56.35, 8.65), "665": (56.55, 8.30),
    "671": (56.50, 8.60), "706": (56.30, 10.55), "707": (56.45, 10.75), "710": (56.30, 9.95),
    "727": (55.95, 10.15), "730": (56.50, 10.05), "740": (56.15, 9.50), "741": (55.85, 10.60),
    "746": (56.05, 9.90), "751": (56.15, 10.20), "756": (56.05, 9.20), "760": (56.00, 8.35),
    "766": (55.77, 9.70), "773": (56.80, 8.75), "779": (56.60, 9.05), "787": (56.95, 8.70),
    "791": (56.45, 9.40), "810": (57.25, 10.05), "813": (57.44, 10.45), "820": (56.80, 9.35),
    "825": (57.27, 11.00), "840": (56.83, 9.85), "846": (56.70, 10.10), "849": (57.15, 9.55),
    "851": (57.03, 9.95), "860": (57.42, 10.00),
}  # fmt: skip
# Islands and the coast (municipalities) they must sit beside.
ISLAND_COASTS = {
    "825": {"813"},  # Læsø: Frederikshavn
    "741": {"727", "615", "751"},  # Samsø: Odder, Horsens, Aarhus
    "563": {"561"},  # Fanø: Esbjerg
    "492": {"430", "479"},  # Ærø: Faaborg-Midtfyn, Svendborg
    "482": {"479"},  # Langeland: Svendborg
    "773": {"787", "671", "779"},  # Morsø: Thisted, Struer, Skive
}


@pytest.fixture(scope="module")
def grid() -> TileGrid:
    return load_tile_grid(TILE_GRID_PATH)


def _cells(grid: TileGrid) -> dict[str, tuple[int, int]]:
    return {t.code: (t.col, t.row) for t in grid.tiles}


def _km(a: str, b: str) -> float:
    (lat_a, lon_a), (lat_b, lon_b) = CENTROIDS[a], CENTROIDS[b]
    return math.hypot((lon_a - lon_b) * 111 * math.cos(math.radians(56)), (lat_a - lat_b) * 111)


def _chebyshev(p: tuple[int, int], q: tuple[int, int]) -> int:
    return max(abs(p[0] - q[0]), abs(p[1] - q[1]))


# ------------------------------------------------------------------------------ the grid file


def test_grid_covers_every_municipality_once_on_its_own_cell(grid: TileGrid) -> None:
    geo = default_geography()
    assert [t.code for t in grid.tiles] == sorted(t.code for t in grid.tiles)  # file in code order
    assert {t.code: t.name for t in grid.tiles} == {
        c: m.name for c, m in geo.municipalities.items()
    }
    assert len(grid.tiles) == 98
    assert len({(t.col, t.row) for t in grid.tiles}) == 98
    assert min(min(t.col, t.row) for t in grid.tiles) == 0


def test_short_labels_are_unique_and_short(grid: TileGrid) -> None:
    labels = grid.short_labels()
    assert len(set(labels.values())) == 98
    assert all(3 <= len(s) <= 4 for s in labels.values())
    assert labels[KØBENHAVN] == "Kbh" and labels["461"] == "Oden"


def test_centroid_list_is_complete() -> None:
    assert set(CENTROIDS) == set(default_geography().municipalities)


# ------------------------------------------------------------------- does it look like Denmark


def test_frederiksberg_is_nearer_københavn_than_aalborg(grid: TileGrid) -> None:
    cells = _cells(grid)
    by_distance = sorted(
        (c for c in cells if c != KØBENHAVN), key=lambda c: math.dist(cells[c], cells[KØBENHAVN])
    )
    assert by_distance.index(FREDERIKSBERG) < 3
    assert by_distance.index(FREDERIKSBERG) < by_distance.index(AALBORG)


def test_geographic_neighbours_stay_near_on_the_grid(grid: TileGrid) -> None:
    """Each municipality's two nearest (by centroid) are at most two cells away, and tiles
    that touch (also diagonally) are at most 80 km apart."""
    cells = _cells(grid)
    mainland = [c for c in cells if c != BORNHOLM]
    too_far = []
    for a in mainland:
        for b in sorted((b for b in mainland if b != a), key=lambda b: _km(a, b))[:2]:
            if _chebyshev(cells[a], cells[b]) > 2:
                too_far.append((a, b))
    assert not too_far
    touching_far = [
        (a, b, round(_km(a, b)))
        for a in mainland
        for b in mainland
        if a < b and _chebyshev(cells[a], cells[b]) == 1 and _km(a, b) > 80
    ]
    assert not touching_far


def test_grid_distances_rank_like_real_distances(grid: TileGrid) -> None:
    cells = _cells(grid)
    codes = sorted(c for c in cells if c != BORNHOLM)
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    real = [_km(a, b) for a, b in pairs]
    on_grid = [math.dist(cells[a], cells[b]) for a, b in pairs]
    assert spearmanr(real, on_grid).statistic > 0.85


def test_bornholm_is_most_eastern_and_detached(grid: TileGrid) -> None:
    cells = _cells(grid)
    bornholm = cells.pop(BORNHOLM)
    assert bornholm[0] > max(col for col, _ in cells.values())
    assert min(_chebyshev(bornholm, cell) for cell in cells.values()) >= 2


def test_islands_sit_beside_their_coast(grid: TileGrid) -> None:
    cells = _cells(grid)
    for island, coast in ISLAND_COASTS.items():
        assert min(_chebyshev(cells[island], cells[c]) for c in coast) <= 2, island


def _clusters(cells: list[tuple[int, int]]) -> int:
    """Groups of tiles connected through shared edges."""
    left, count = set(cells), 0
    while left:
        count += 1
        stack = [left.pop()]
        while stack:
            col, row = stack.pop()
            for step in ((col + 1, row), (col - 1, row), (col, row + 1), (col, row - 1)):
                if step in left:
                    left.remove(step)
                    stack.append(step)
    return count


def test_each_region_stays_together(grid: TileGrid) -> None:
    geo = default_geography()
    cells = _cells(grid)
    for region in REGIONS:
        codes = [c for c, m in geo.municipalities.items() if m.region_code == region]
        if region == "084":
            codes.remove(BORNHOLM)
        assert _clusters([cells[c] for c in codes]) <= 2, REGIONS[region]


def test_regions_lie_where_they_do_on_a_map(grid: TileGrid) -> None:
    geo = default_geography()
    cells = _cells(grid)

    def mean(region: str, axis: int, keep=lambda code: True) -> float:
        return float(
            np.mean(
                [
                    cells[c][axis]
                    for c, m in geo.municipalities.items()
                    if m.region_code == region and keep(c) and c != BORNHOLM
                ]
            )
        )

    assert mean("081", 1) < mean("082", 1) < mean("083", 1)  # north to south
    fyn = lambda code: code.startswith("4")  # noqa: E731 - Fyn's DST codes are 4xx
    jutland = lambda code: not code.startswith("4")  # noqa: E731
    assert mean("083", 0, jutland) < mean("083", 0, fyn) < mean("085", 0) < mean("084", 0)


# -------------------------------------------------------------------------- broken grid files


def _write_broken(tmp_path: Path, change) -> tuple[Path, int]:
    """The committed grid with one change; returns the file and the changed row's line."""
    with TILE_GRID_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    line = change(rows)
    path = tmp_path / "tile_grid.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["municipality_code", "municipality_name", "col", "row"]
        )
        writer.writeheader()
        writer.writerows(rows)
    return path, line


def _set(code: str, **values: str):
    def change(rows: list[dict[str, str]]) -> int:
        index = next(i for i, r in enumerate(rows) if r["municipality_code"] == code)
        rows[index].update(values)
        return index + 2  # header is line 1

    return change


def _same_cell_as_københavn(rows: list[dict[str, str]]) -> int:
    kbh = next(r for r in rows if r["municipality_code"] == KØBENHAVN)
    return _set(FREDERIKSBERG, col=kbh["col"], row=kbh["row"])(rows)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_same_cell_as_københavn, "already taken by 101 København"),
        (_set("147", municipality_code="999"), "unknown municipality_code '999'"),
        (_set("147", municipality_code="0147"), "unknown municipality_code '0147'"),
        (_set("169", municipality_name="Høje Taastrup"), "should be 'Høje-Taastrup'"),
        (_set("147", col="1.5"), "col '1.5' is not a whole number"),
        (_set("147", row="-1"), "row '-1' is not a whole number"),
        (_set("147", col=""), "col '' is not a whole number"),
        (_set("147", municipality_code="101", municipality_name="København"), "appears twice"),
    ],
    ids=["duplicate-cell", "unknown-code", "padded-code", "name", "fraction", "negative",
         "empty", "duplicate-code"],
)  # fmt: skip
def test_broken_grid_names_file_and_row(tmp_path: Path, change, message: str) -> None:
    path, line = _write_broken(tmp_path, change)
    with pytest.raises(TileGridError) as caught:
        load_tile_grid(path)
    text = str(caught.value)
    assert text.startswith(f"{path}, row {line}: "), text
    assert message in text
    assert caught.value.line == line and caught.value.path == path
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ReferenceDataError)


def test_missing_municipality_is_named(tmp_path: Path) -> None:
    def drop_læsø(rows: list[dict[str, str]]) -> int:
        rows[:] = [r for r in rows if r["municipality_code"] != "825"]
        return 0

    path, _ = _write_broken(tmp_path, drop_læsø)
    with pytest.raises(
        TileGridError, match=r"no tile for 1 municipality\(ies\): 825 Læsø"
    ) as caught:
        load_tile_grid(path)
    assert str(caught.value).startswith(str(path))


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "tile_grid.csv"
    path.write_text("municipality_code,municipality_name,col\n101,København,1\n", encoding="utf-8")
    with pytest.raises(TileGridError, match=r"row 1: missing column\(s\) row"):
        load_tile_grid(path)
    with pytest.raises(TileGridError, match="file is missing"):
        load_tile_grid(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------- colours


def test_comparison_fill_uses_the_palette_and_its_words() -> None:
    fill, legend = comparison_fill({"101": "worse", "147": "better", "151": None})
    assert fill == {"101": COMPARISON_COLOURS["worse"], "147": COMPARISON_COLOURS["better"]}
    assert legend == [
        (COMPARISON_LABELS_DA["better"], COMPARISON_COLOURS["better"]),
        (COMPARISON_LABELS_DA["worse"], COMPARISON_COLOURS["worse"]),
    ]
    with pytest.raises(ValueError, match="unknown comparison categories"):
        comparison_fill({"101": "bad"})


def test_labels_contrast_with_their_tile() -> None:
    assert tilemap.text_colour_on(COMPARISON_COLOURS["better"]) == "#FFFFFF"  # dark blue
    assert tilemap.text_colour_on(COMPARISON_COLOURS["similar"]) == tilemap.INK
    assert tilemap.text_colour_on(NO_VALUE_COLOUR) == tilemap.INK
    assert tilemap.INK == INK  # the module keeps its own copy to stay light to import


# ------------------------------------------------------------------------------------ PNG

MEMBERS = ["101", "147", "153", "155", "167", "185"]


def _example_fill(grid: TileGrid) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Better, similar and worse in turn, every seventh municipality without a value."""
    kinds = ["better", "similar", "worse"]
    categories = {t.code: (None if i % 7 == 0 else kinds[i % 3]) for i, t in enumerate(grid.tiles)}
    return comparison_fill(categories)


def test_png_renders_at_print_width(grid: TileGrid, tmp_path: Path) -> None:
    fill, legend = _example_fill(grid)
    title = "Akutte medicinske indlæggelser, 65+ år: kommunerne sammenlignet med hele landet"
    path = render_tile_map_png(grid, fill, MEMBERS, None, title, legend, tmp_path / "map.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert width == round(MAP_WIDTH_IN * DPI)  # 16 cm
    assert 0.7 * width < height < 1.1 * width
    present = {tuple(int(v) for v in p) for p in np.unique(pixels, axis=0)}
    for colour in (NO_VALUE_COLOUR, COMPARISON_COLOURS["better"], tilemap.INK):
        assert tuple(round(c * 255) for c in to_rgb(colour)) in present, colour
    assert not list(tmp_path.glob(".*.tmp-*"))  # written atomically, nothing left behind


def _extents(fig, gid: str) -> list:
    return [a.get_window_extent() for a in fig.get_children() if (a.get_gid() or "") == gid]


def test_png_labels_fit_their_tiles_and_legend_avoids_them(grid: TileGrid) -> None:
    """Every label lies inside its tile, also where a member's outline narrows it, at a size
    readable on paper; the legend (in the sea top right) touches no tile."""
    fill, legend = _example_fill(grid)
    members = [t.code for t in grid.tiles]  # every tile outlined: the narrowest room
    fig = tile_map_figure(grid, fill, members, None, "Titel", legend)
    png_bytes(fig)  # draw
    tiles = next(a for a in fig.get_children() if a.get_gid() == "tilemap-tiles")
    squares = [p.vertices * fig.dpi for p in tiles.get_paths()]
    labels = [a for a in fig.get_children() if a.get_gid() == "tilemap-label"]
    assert len(labels) == 98
    assert min(a.get_fontsize() for a in labels) >= tilemap.MIN_LABEL_PT
    outline_px = tilemap.OUTLINE_PT / 72 * fig.dpi / 2
    for label, square in zip(labels, squares, strict=True):
        box = label.get_window_extent()
        (x0, y0), (x1, y1) = square.min(axis=0), square.max(axis=0)
        assert x0 + outline_px <= box.x0 and box.x1 <= x1 - outline_px, label.get_text()
    legend_boxes = _extents(fig, "tilemap-legend-label") + _extents(fig, "tilemap-legend-handle")
    assert legend_boxes
    for square in squares:
        (x0, y0), (x1, y1) = square.min(axis=0), square.max(axis=0)
        for box in legend_boxes:
            assert box.x1 < x0 or box.x0 > x1 or box.y1 < y0 or box.y0 > y1


def test_png_refuses_codes_without_a_tile(grid: TileGrid, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fill: no tile for code"):
        render_tile_map_png(grid, {"0101": "#000000"}, [], None, "T", [], tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()


# ------------------------------------------------------------------------------------ SVG


def _rects(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}rect")


def test_svg_has_a_named_rect_per_municipality(grid: TileGrid) -> None:
    fill, legend = _example_fill(grid)
    svg = tile_map_svg(grid, fill, MEMBERS, {}, title="Kommunerne", legend=legend)
    root = ET.fromstring(svg)
    rects = _rects(root)
    assert len(rects) == 98
    titles = {r.get("data-code"): r.find(f"{SVG}title").text for r in rects}
    assert titles == {t.code: t.name for t in grid.tiles}
    assert titles["169"] == "Høje-Taastrup" and titles["173"] == "Lyngby-Taarbæk"
    assert all(r.get("aria-label") == titles[r.get("data-code")] for r in rects)
    assert root.get("aria-label") == "Kommunerne"
    no_value = [t.code for i, t in enumerate(grid.tiles) if i % 7 == 0]
    assert {r.get("fill") for r in rects if r.get("data-code") in no_value} == {"#bfbfbf"}


def test_svg_outlines_exactly_the_members(grid: TileGrid) -> None:
    root = ET.fromstring(tile_map_svg(grid, {}, MEMBERS, {}, title="T"))
    stroked = {r.get("data-code") for r in _rects(root) if r.get("stroke-width") == "2.5"}
    classed = {r.get("data-code") for r in _rects(root) if "member" in r.get("class").split()}
    assert stroked == classed == set(MEMBERS)


def test_svg_escapes_names_and_links(grid: TileGrid) -> None:
    odd = 'Kø<b>&"nhavn"</b>'
    links = {t.code: f"kommune.html?k={t.code}&v=<1>" for t in grid.tiles}
    svg = tile_map_svg(grid, {}, [], {"101": odd}, links, title="A <&> B")
    root = ET.fromstring(svg)  # would fail on an unescaped '<' or '&'
    kbh = next(r for r in _rects(root) if r.get("data-code") == "101")
    assert kbh.find(f"{SVG}title").text == odd
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    anchors = root.findall(f".//{SVG}a")
    assert len(anchors) == 98
    assert {a.get("href") for a in anchors} == set(links.values())
    by_code = {a.find(f"{SVG}rect").get("data-code"): a for a in anchors}
    assert by_code["101"].get("aria-label") == odd  # the link carries the name ...
    assert by_code["147"].get("aria-label") == "Frederiksberg"
    assert kbh.get("aria-label") is None  # ... so a screen reader hears it once
    assert root.find(f"{SVG}title").text == "A <&> B"


def test_svg_is_small_and_self_contained(grid: TileGrid) -> None:
    fill, legend = _example_fill(grid)
    names = {t.code: f"{t.name}: 123,4 pr. 1.000 (Dårligere end hele landet)" for t in grid.tiles}
    links = {t.code: f"../kommuner/{t.code}.html" for t in grid.tiles}
    svg = tile_map_svg(grid, fill, MEMBERS, names, links, title="Kort", legend=legend)
    assert len(svg.encode("utf-8")) < 40_000
    assert "<script" not in svg and "<style" not in svg and "xlink" not in svg
    assert "<image" not in svg and "url(" not in svg


def test_svg_refuses_bad_input(grid: TileGrid) -> None:
    with pytest.raises(ValueError, match="outlined: no tile for code"):
        tile_map_svg(grid, {}, ["084"], {}, title="T")
    with pytest.raises(ValueError, match="scheme not allowed"):
        tile_map_svg(grid, {}, [], {}, {"101": "javascript:alert(1)"}, title="T")
    with pytest.raises(ValueError):
        tile_map_svg(grid, {"101": "not a colour"}, [], {}, title="T")
