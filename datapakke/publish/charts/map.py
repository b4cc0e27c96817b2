"""The pack's map: all 98 municipalities as tiles, coloured by their comparison with Denmark for
one indicator, the area's members outlined. It shows at a glance where the members stand in the
country; which indicator is the one the key findings put first (the strongest difference)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datapakke.publish.key_findings import KeyFinding, key_findings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from datapakke.publish.pack_data import AreaPackData

COMPARED = ("better", "similar", "worse", "higher", "lower")


def map_indicator(pack: AreaPackData, findings: list[KeyFinding] | None = None) -> str | None:
    """The indicator of the first key finding (``findings``, else computed) that has
    comparisons for every municipality, else the first indicator in the catalogue with any;
    None when no indicator has one."""
    compared = pack.funnel[pack.funnel["compared_to_national"].isin(COMPARED)]
    with_map = set(compared["indicator_id"])
    for finding in findings if findings is not None else key_findings(pack):
        if finding.indicator_id in with_map:
            return finding.indicator_id
    ordered = [i for i in pack.catalogue["indicator_id"] if i in with_map]
    return ordered[0] if ordered else None


def comparison_map(pack: AreaPackData, indicator_id: str) -> Figure:
    """The tile map for one indicator's latest period (the funnel's rows: every municipality)."""
    from datapakke.publish.tilemap import comparison_fill, default_tile_grid, tile_map_figure

    rows = pack.funnel[pack.funnel["indicator_id"] == indicator_id]
    shown = rows[rows["compared_to_national"].isin(COMPARED) & ~rows["is_suppressed"].astype(bool)]
    fill, legend = comparison_fill(
        dict(zip(shown["area_code"], shown["compared_to_national"], strict=True))
    )
    title_da = pack.catalogue.set_index("indicator_id").loc[indicator_id, "title_da"]
    period = rows["period"].max() if not rows.empty else ""
    title = (
        f"{title_da}, {period}: kommunerne sammenlignet med hele landet "
        f"({pack.area_name} har tyk kant)"
    )
    members = [m.code for m in pack.members]
    return tile_map_figure(
        default_tile_grid(), fill, members, None, title, legend, synthetic=pack.is_synthetic
    )
