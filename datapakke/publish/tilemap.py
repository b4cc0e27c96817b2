"""A tile map of Denmark's 98 municipalities: one equal square per municipality on a fixed grid.

Why tiles and not boundaries: boundary geometry comes with a licence and a large file, and on a
real map the small municipalities around København (29 of the 98 are in Region Hovedstaden) are
specks while Ringkøbing-Skjern dominates. Equal squares give every municipality the same
weight. The grid is a committed fact in
``data/reference/tile_grid.csv`` (analysts may move a tile without touching code);
:func:`load_tile_grid` checks it against the geography and names the file and row of a problem.

Two renderers share the grid and the colours of :mod:`datapakke.presentation`:
:func:`render_tile_map_png` (the Excel pack, print-sized, drawn like the other charts) and
:func:`tile_map_svg` (the download page: inline SVG with hover names and optional links).
"""

from __future__ import annotations

import csv
import functools
import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datapakke.config import REFERENCE_DIR
from datapakke.geography import Geography, ReferenceDataError, default_geography
from datapakke.presentation import COMPARISON_COLOURS, COMPARISON_LABELS_DA

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from datapakke.publish.charts.canvas import Canvas
    from datapakke.publish.charts.legend import Key

TILE_GRID_PATH = REFERENCE_DIR / "tile_grid.csv"
COLUMNS = ("municipality_code", "municipality_name", "col", "row")
NO_VALUE_COLOUR = "#BFBFBF"  # grey: darker than 'similar' sand, so "no value" never reads as one
NO_VALUE_LABEL_DA = "Ingen værdi"
MEMBER_LABEL_DA = "Kommune i området"
MAP_WIDTH_IN = 6.3  # 16 cm: the width the pack and the page show the map at
OUTLINE_PT = 2.0  # members' outline in the PNG, centred on the square's edge
GAP = 0.07  # white between tiles, per side, as a share of a cell
MIN_LABEL_PT = 6.0
INK = "#1A1A1A"  # = charts.style.INK (a test keeps them equal); importing it would load pandas

# Short labels where the first four letters collide or mislead (five Fred…, two Ring…, …).
ABBREVIATIONS = {
    "101": "Kbh",
    "147": "Frb",
    "153": "Brby",
    "201": "Allr",
    "210": "Fbrg",
    "250": "Fsnd",
    "329": "Rgst",
    "480": "Nfyn",
    "575": "Vejn",
    "607": "Fcia",
    "706": "Sdjs",
    "707": "Ndjs",
    "727": "Oddr",
    "760": "RKS",
    "810": "Brsl",
    "813": "Fhvn",
}


class TileGridError(ReferenceDataError):
    """A tile grid file that breaks a rule; the message names the file and, where one is to
    blame, the row."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line = path, line
        where = f"{path}, row {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    col: int
    row: int  # 0 is the top (north)


@dataclass(frozen=True)
class TileGrid:
    """Every municipality's cell, checked: each municipality once, no two on one cell."""

    tiles: tuple[Tile, ...]  # in file order
    source: Path

    @functools.cached_property
    def by_code(self) -> dict[str, Tile]:
        return {t.code: t for t in self.tiles}

    @property
    def n_cols(self) -> int:
        return max(t.col for t in self.tiles) + 1

    @property
    def n_rows(self) -> int:
        return max(t.row for t in self.tiles) + 1

    def short_labels(self) -> dict[str, str]:
        """Each municipality's 3–4 letter label: its abbreviation, else its name's first four
        letters."""
        return {t.code: ABBREVIATIONS.get(t.code, t.name[:4]) for t in self.tiles}


# ---------------------------------------------------------------------------------- loading


def load_tile_grid(path: Path = TILE_GRID_PATH, geography: Geography | None = None) -> TileGrid:
    """Load and check a tile grid against the geography (default: the project's)."""
    geo = geography if geography is not None else default_geography()
    tiles: dict[str, tuple[int, Tile]] = {}
    cells: dict[tuple[int, int], tuple[int, Tile]] = {}
    for line, row in _read_rows(path):
        tile = _tile(path, line, row, geo)
        if tile.code in tiles:
            first = tiles[tile.code][0]
            raise TileGridError(
                path, line, f"municipality {tile.code} {tile.name} appears twice (also row {first})"
            )
        other = cells.get((tile.col, tile.row))
        if other is not None:
            raise TileGridError(
                path,
                line,
                f"cell col {tile.col}, row {tile.row} of {tile.code} {tile.name} is already "
                f"taken by {other[1].code} {other[1].name} (row {other[0]})",
            )
        tiles[tile.code] = cells[(tile.col, tile.row)] = (line, tile)
    missing = [m for code, m in geo.municipalities.items() if code not in tiles]
    if missing:
        names = ", ".join(f"{m.code} {m.name}" for m in missing)
        raise TileGridError(path, None, f"no tile for {len(missing)} municipality(ies): {names}")
    return TileGrid(tiles=tuple(t for _, t in tiles.values()), source=path)


@functools.cache
def default_tile_grid() -> TileGrid:
    """The project's grid (cached: it never changes during a run)."""
    return load_tile_grid(TILE_GRID_PATH)


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, stripped row) for each data row; the header must have every column."""
    if not path.exists():
        raise TileGridError(path, None, "file is missing")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise TileGridError(
                path, 1, f"missing column(s) {', '.join(missing)}; found {reader.fieldnames}"
            )
        rows = []
        for row in reader:
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}))
    if not rows:
        raise TileGridError(path, None, "no rows")
    return rows


def _tile(path: Path, line: int, row: dict[str, str], geo: Geography) -> Tile:
    """One row as a tile: a known code, its name as in municipalities.csv, cells ≥ 0."""
    code, name = row["municipality_code"], row["municipality_name"]
    municipality = geo.municipalities.get(code)
    if municipality is None:
        raise TileGridError(
            path, line, f"unknown municipality_code {code!r} (3-digit DST code, e.g. '101')"
        )
    if name != municipality.name:
        raise TileGridError(
            path,
            line,
            f"municipality_name {name!r} for {code} should be {municipality.name!r} "
            "(as in municipalities.csv)",
        )
    col, row_index = (_cell_index(path, line, row, key) for key in ("col", "row"))
    return Tile(code=code, name=name, col=col, row=row_index)


def _cell_index(path: Path, line: int, row: dict[str, str], key: str) -> int:
    if not re.fullmatch(r"\d+", row[key]):
        raise TileGridError(path, line, f"{key} {row[key]!r} is not a whole number ≥ 0")
    return int(row[key])


# ------------------------------------------------------------------------ colours and legends


def comparison_fill(
    categories: Mapping[str, str | None],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Fill colours and legend entries for comparison categories (``better``, ``worse``, …) by
    municipality, in the colours and words every chart uses; ``None`` leaves a tile grey."""
    unknown = sorted({c for c in categories.values() if c and c not in COMPARISON_COLOURS})
    if unknown:
        raise ValueError(f"unknown comparison categories {unknown}; known: {[*COMPARISON_COLOURS]}")
    fill = {code: COMPARISON_COLOURS[c] for code, c in categories.items() if c}
    used = set(categories.values())
    legend = [
        (COMPARISON_LABELS_DA[c], COMPARISON_COLOURS[c]) for c in COMPARISON_COLOURS if c in used
    ]
    return fill, legend


def _legend_entries(
    grid: TileGrid, fill: Mapping[str, str], legend: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The caller's entries, plus grey 'no value' when a tile has no fill and it is not listed."""
    entries = list(legend)
    listed = {_hex(colour) for _, colour in entries}
    no_value = any(t.code not in fill for t in grid.tiles)
    if no_value and _hex(NO_VALUE_COLOUR) not in listed:
        entries.append((NO_VALUE_LABEL_DA, NO_VALUE_COLOUR))
    return entries


def _checked_codes(grid: TileGrid, what: str, codes: Iterable[str]) -> None:
    """Refuse codes that have no tile: a mis-keyed input ('0101', a region) must not vanish."""
    unknown = sorted(set(codes) - set(grid.by_code))
    if unknown:
        raise ValueError(f"{what}: no tile for code(s) {', '.join(map(repr, unknown))}")


@functools.lru_cache(maxsize=256)
def _hex(colour: str) -> str:
    from matplotlib.colors import to_hex

    return to_hex(colour, keep_alpha=False)


@functools.lru_cache(maxsize=256)
def _luminance(colour: str) -> float:
    """WCAG relative luminance."""
    from matplotlib.colors import to_rgb

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour_on(colour: str) -> str:
    """White or ink, whichever contrasts more with the tile (WCAG contrast ratio)."""
    lum = _luminance(colour)
    on_white = 1.05 / (lum + 0.05)
    on_ink = (lum + 0.05) / (_luminance(INK) + 0.05)
    return "#FFFFFF" if on_white > on_ink else INK


def _is_light(colour: str) -> bool:
    """A fill that would vanish on white paper without an edge ('not compared' is white)."""
    return _luminance(colour) > 0.8


# ----------------------------------------------------------------------------------- PNG


@dataclass(frozen=True)
class _PngLayout:
    """Where everything goes, in inches from the figure's bottom-left."""

    width: float
    height: float
    title: str
    cell: float
    map_left: float
    map_top: float
    legend_x: float
    legend_top: float
    legend_width: float
    legend_columns: int


def render_tile_map_png(
    grid: TileGrid,
    fill: Mapping[str, str],
    outlined: Iterable[str],
    labels: Mapping[str, str] | None,
    title: str,
    legend: list[tuple[str, str]],
    path: Path,
    *,
    width_in: float = MAP_WIDTH_IN,
) -> Path:
    """Draw the map and write it as a PNG atomically (see :func:`tile_map_figure`)."""
    from datapakke.publish.charts.png import save_png

    return save_png(tile_map_figure(grid, fill, outlined, labels, title, legend, width_in), path)


def tile_map_figure(
    grid: TileGrid,
    fill: Mapping[str, str],
    outlined: Iterable[str],
    labels: Mapping[str, str] | None,
    title: str,
    legend: list[tuple[str, str]],
    width_in: float = MAP_WIDTH_IN,
    *,
    synthetic: bool = False,
) -> Figure:
    """The tile map as a figure: ``fill`` colours by code (grey where missing), a thick dark
    outline round ``outlined`` (the area's members), ``labels`` in the tiles (``None``: the
    short names; a dict: exactly those texts), the title, and a legend of ``legend`` plus
    'no value' and 'member' where they apply, placed in the sea top right when it fits; the
    diagonal 'Syntetiske data' mark over it when ``synthetic``."""
    from datapakke.publish.charts.canvas import Canvas, draw_synthetic_mark
    from datapakke.publish.charts.legend import draw_legend

    members = set(outlined)
    _checked_codes(grid, "fill", fill)
    _checked_codes(grid, "outlined", members)
    texts = grid.short_labels() if labels is None else dict(labels)
    _checked_codes(grid, "labels", texts)
    keys = _png_keys(_legend_entries(grid, fill, legend), bool(members))
    layout = _png_layout(grid, keys, title, width_in)
    canvas = Canvas(layout.width, layout.height)
    _draw_title(canvas, layout)
    _draw_tiles(canvas, grid, fill, members, layout)
    _draw_labels(canvas, grid, fill, texts, layout)
    if keys:
        draw_legend(
            canvas, keys, layout.legend_x, layout.legend_top, layout.legend_width,
            layout.legend_columns, gid="tilemap-legend",
        )  # fmt: skip
    if synthetic:
        draw_synthetic_mark(canvas)
    return canvas.fig


def _png_keys(entries: list[tuple[str, str]], has_members: bool) -> list[Key]:
    from datapakke.publish.charts.legend import Key
    from datapakke.publish.charts.style import BAR_EDGE

    keys = [
        Key.of(label, "patch", facecolor=colour, edgecolor=BAR_EDGE, linewidth=0.5)
        for label, colour in entries
    ]
    if has_members:
        keys.append(
            Key.of(MEMBER_LABEL_DA, "patch", facecolor="none", edgecolor=INK, linewidth=OUTLINE_PT)
        )
    return keys


def _png_layout(grid: TileGrid, keys: list[Key], title: str, width_in: float) -> _PngLayout:
    """Title on top, the grid across the full width, the legend in the empty top-right corner
    of the grid (the sea east of Jutland) if it fits there, else below the grid."""
    from datapakke.publish.charts.legend import legend_height
    from datapakke.publish.charts.measure import wrap_to
    from datapakke.publish.charts.style import FONT_TITLE, MARGIN_IN, TITLE_LINE_IN

    usable = width_in - 2 * MARGIN_IN
    wrapped = wrap_to(title, usable, FONT_TITLE, bold=True)
    title_h = 0.1 + TITLE_LINE_IN * (wrapped.count("\n") + 1) + 0.12
    cell = usable / grid.n_cols
    map_h = cell * grid.n_rows
    spot = _legend_spot(grid, keys, cell)
    below = 0.0 if spot is not None or not keys else legend_height(keys, usable, 3) + 0.15
    height = title_h + map_h + below + MARGIN_IN
    map_top = height - title_h
    if spot is None:
        x, top, width, ncol = MARGIN_IN, map_top - map_h - 0.15, usable, 3
    else:
        x, width, ncol = MARGIN_IN + spot[0], spot[1], spot[2]
        top = map_top
    return _PngLayout(width_in, height, wrapped, cell, MARGIN_IN, map_top, x, top, width, ncol)


def _legend_spot(grid: TileGrid, keys: list[Key], cell: float) -> tuple[float, float, int] | None:
    """(left offset, width, columns) of an empty top-right block of grid rows the legend fits
    in, one column preferred (it reads top down), or None. A block is rows 0..k-1 right of
    their easternmost tile."""
    from datapakke.publish.charts.legend import legend_height

    if not keys:
        return None
    for ncol in (1, 2):
        for k in range(1, grid.n_rows + 1):
            east = max((t.col for t in grid.tiles if t.row < k), default=-1)
            left = (east + 1.5) * cell
            width = grid.n_cols * cell - left
            if width < 1.2:
                break
            if legend_height(keys, width, ncol) <= k * cell - 0.05:
                return left, width, ncol
    return None


def _square(layout: _PngLayout, tile: Tile, inset: float) -> list[tuple[float, float]]:
    """A tile's square in inches, ``inset`` inside the cell on every side."""
    x0 = layout.map_left + tile.col * layout.cell + inset
    y1 = layout.map_top - tile.row * layout.cell - inset
    side = layout.cell - 2 * inset
    return [(x0, y1), (x0 + side, y1), (x0 + side, y1 - side), (x0, y1 - side)]


def _draw_tiles(
    canvas: Canvas, grid: TileGrid, fill: Mapping[str, str], members: set[str], layout: _PngLayout
) -> None:
    """Filled squares with a white gap between them (a hairline edge on near-white fills), then
    the members' outlines on their squares' edges: half the line lies in the gap, so two
    outlined neighbours stay apart and the label keeps most of the square."""
    from datapakke.publish.charts.style import BAR_EDGE

    inset = layout.cell * GAP
    colours = [fill.get(t.code, NO_VALUE_COLOUR) for t in grid.tiles]
    canvas.polygons(
        [_square(layout, t, inset) for t in grid.tiles],
        gid="tilemap-tiles",
        facecolors=colours,
        edgecolors=[BAR_EDGE if _is_light(c) else "none" for c in colours],
        linewidths=0.5,
    )
    canvas.polygons(
        [_square(layout, t, inset) for t in grid.tiles if t.code in members],
        gid="tilemap-members",
        facecolors="none",
        edgecolors=INK,
        linewidths=OUTLINE_PT,
        zorder=2.5,
    )


def _draw_labels(
    canvas: Canvas,
    grid: TileGrid,
    fill: Mapping[str, str],
    texts: Mapping[str, str],
    layout: _PngLayout,
) -> None:
    """Every label in one size: the largest (≤ the charts' smallest text) that fits any tile,
    outlined or not, so maps of different areas print alike."""
    from datapakke.publish.charts.measure import text_width
    from datapakke.publish.charts.style import FONT_SMALL

    room = layout.cell * (1 - 2 * GAP) - OUTLINE_PT / 72 - 0.02
    widest = max((text_width(s, FONT_SMALL) for s in texts.values() if s), default=0.0)
    size = FONT_SMALL if widest <= room else max(MIN_LABEL_PT, FONT_SMALL * room / widest)
    for tile in grid.tiles:
        text = texts.get(tile.code, "")
        if not text:
            continue
        x = layout.map_left + (tile.col + 0.5) * layout.cell
        y = layout.map_top - (tile.row + 0.5) * layout.cell
        colour = text_colour_on(fill.get(tile.code, NO_VALUE_COLOUR))
        canvas.text(x, y, text, size=size, color=colour, ha="center", gid="tilemap-label")


def _draw_title(canvas: Canvas, layout: _PngLayout) -> None:
    from datapakke.publish.charts.style import FONT_TITLE, MARGIN_IN, TITLE_LINE_IN

    canvas.text(
        MARGIN_IN,
        layout.height - 0.1,
        layout.title,
        size=FONT_TITLE,
        bold=True,
        va="top",
        linespacing=TITLE_LINE_IN / (FONT_TITLE * 1.25 / 72),
        gid="title",
    )


# ----------------------------------------------------------------------------------- SVG

SVG_CELL = 26  # user units per cell
SVG_GAP = 2
SVG_OUTLINE = 2.5
SVG_FONT = 8.5


def tile_map_svg(
    grid: TileGrid,
    fill: Mapping[str, str],
    outlined: Iterable[str],
    names: Mapping[str, str],
    links: Mapping[str, str] | None = None,
    *,
    title: str,
    legend: list[tuple[str, str]] | None = None,
) -> str:
    """A standalone inline SVG: one ``<rect>`` per municipality with its name (``names``, else
    the grid's) as hover ``<title>`` and as ``aria-label`` (on the ``<a href>`` when ``links``
    gives the tile one, else on the rect), ``class="tile member"`` and a thick dark stroke for
    ``outlined``, the short label in the tile, and (if given) a legend in the empty top-right
    corner. No scripts, styles or external files, so it can be pasted into any page; ``title``
    is its accessible name."""
    members = set(outlined)
    for what, codes in (("fill", fill), ("outlined", members), ("names", names)):
        _checked_codes(grid, what, codes)
    _checked_codes(grid, "links", links or {})
    labels = grid.short_labels()
    tiles, texts = ['<g class="tiles">'], [_SVG_TEXT_GROUP]
    for tile in grid.tiles:
        colour = _hex(fill.get(tile.code, NO_VALUE_COLOUR))
        name, href = names.get(tile.code, tile.name), (links or {}).get(tile.code)
        tiles.append(_svg_tile(tile, name, colour, tile.code in members, href))
        texts.append(_svg_label(tile, labels[tile.code], colour))
    width, height = grid.n_cols * SVG_CELL, grid.n_rows * SVG_CELL
    parts = [*tiles, "</g>", *texts, "</g>"]
    if legend is not None:
        markup, right = _svg_legend(grid, _legend_entries(grid, fill, legend), bool(members))
        parts.append(markup)
        width = max(width, math.ceil(right))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="group" aria-label="{_esc(title)}" class="tile-map" '
        f'font-family="Arial, Helvetica, sans-serif"><title>{_esc(title)}</title>'
    )
    return head + "".join(parts) + "</svg>"


# The labels: hidden from screen readers (the tiles carry the names), and clicks go through
# them to the tile (and its link) underneath. Ink unless a tile needs white.
_SVG_TEXT_GROUP = (
    f'<g class="labels" aria-hidden="true" pointer-events="none" font-size="{SVG_FONT}" '
    f'text-anchor="middle" fill="{INK.lower()}">'
)


def _svg_tile(tile: Tile, name: str, colour: str, member: bool, href: str | None) -> str:
    """One municipality's square (stroked inside its cell if a member), linked if ``href``."""
    inset = SVG_GAP / 2 + (SVG_OUTLINE / 2 if member else 0)
    x, y = tile.col * SVG_CELL + inset, tile.row * SVG_CELL + inset
    side = SVG_CELL - 2 * inset
    stroke = (
        f' stroke="{INK.lower()}" stroke-width="{SVG_OUTLINE}"'
        if member
        else (' stroke="#8c8c8c" stroke-width="0.5"' if _is_light(colour) else "")
    )
    kind = "tile member" if member else "tile"
    label = "" if href else f' role="img" aria-label="{_esc(name)}"'
    rect = (
        f'<rect x="{x:g}" y="{y:g}" width="{side:g}" height="{side:g}" fill="{colour}"{stroke} '
        f'class="{kind}" data-code="{tile.code}"{label}><title>{_esc(name)}</title></rect>'
    )
    if href is None:
        return rect
    if re.match(r"\s*(javascript|data|vbscript):", href, re.IGNORECASE):
        raise ValueError(f"link for {tile.code} {tile.name}: scheme not allowed in {href!r}")
    return f'<a href="{_esc(href)}" aria-label="{_esc(name)}">{rect}</a>'


def _svg_label(tile: Tile, label: str, colour: str) -> str:
    cx, cy = (tile.col + 0.5) * SVG_CELL, (tile.row + 0.5) * SVG_CELL + SVG_FONT * 0.35
    ink = text_colour_on(colour)
    fill = "" if ink == INK else f' fill="{ink.lower()}"'
    return f'<text x="{cx:g}" y="{cy:.1f}"{fill}>{_esc(label)}</text>'


def _svg_legend(
    grid: TileGrid, entries: list[tuple[str, str]], has_members: bool
) -> tuple[str, float]:
    """Swatches and labels right of the northernmost rows' tiles, and the x where the longest
    label ends (estimated). Swatches are paths, so the SVG's rects stay one per municipality."""
    rows = [(label, _hex(colour), False) for label, colour in entries]
    if has_members:
        rows.append((MEMBER_LABEL_DA, "#ffffff", True))
    pitch, size = 14, SVG_FONT + 1
    k = max(1, -(-len(rows) * pitch // SVG_CELL))  # grid rows the legend spans
    east = max((t.col for t in grid.tiles if t.row < k), default=-1)
    x0 = (east + 1.5) * SVG_CELL
    parts = [f'<g class="legend" font-size="{size}">']
    for i, (label, colour, member) in enumerate(rows):
        y = 4 + i * pitch
        stroke, stroke_width = (INK.lower(), 2) if member else ("#8c8c8c", 0.5)
        parts.append(
            f'<path d="M{x0:g} {y}h16v10h-16z" fill="{colour}" stroke="{stroke}" '
            f'stroke-width="{stroke_width}"/>'
            f'<text x="{x0 + 21:g}" y="{y + 8.5:g}">{_esc(label)}</text>'
        )
    parts.append("</g>")
    right = x0 + 21 + max((len(label) for label, _, _ in rows), default=0) * size * 0.6
    return "".join(parts), right


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)
