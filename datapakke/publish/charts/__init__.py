"""The pack's charts: per indicator a trend, a comparison of members and a funnel; an overview
(spine chart) of every indicator; a population pyramid. Danish, print-sized, fast.

Why it is built like this:

* Print first: every figure fits the workbook's printed A4 box (:mod:`.style`).
* Speed: a pipeline run draws ~1,450 figures on 2 cores. Panels are drawn in inches on a bare
  ``Figure`` without ``Axes`` (:mod:`.canvas`, :mod:`.axis`, :mod:`.legend`), one Agg renderer
  is reused per thread and rasterised strings are cached (:mod:`.fast_text`), and PNGs are
  encoded without Pillow's filter search (:mod:`.png`).
* No global state: ``Figure`` + Agg canvas, never pyplot, no rcParams; matplotlib and ``stats``
  are loaded on first use, so importing this package (the Dagster code location) stays light.
* Meaning: comparisons use ``COMPARISON_COLOURS`` only, always against the whole country (the
  comparison a mayor understands); levels use the grey ``LEVEL_STYLES``. Suppressed or missing
  values are gaps or ``suppressed_text(threshold)``/``MISSING_TEXT``, never zero; what each
  method allows (funnel, benchmarks) comes from ``METHOD_RULES``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from datapakke.publish.charts.funnel import funnel_data
from datapakke.publish.charts.indicator import (
    comparison_chart,
    funnel_chart,
    indicator_figure,
    trend_chart,
)
from datapakke.publish.charts.map import comparison_map, map_indicator
from datapakke.publish.charts.overview import overview_chart
from datapakke.publish.charts.png import png_bytes, save_png
from datapakke.publish.charts.pyramid import population_pyramid
from datapakke.publish.charts.rows import catalogue_in_order
from datapakke.publish.charts.style import DPI, MAX_HEIGHT_IN, PAGE_WIDTH_IN, PRINT_BOX_IN

if TYPE_CHECKING:
    from datapakke.publish.key_findings import KeyFinding
    from datapakke.publish.pack_data import AreaPackData

__all__ = [
    "DPI",
    "MAX_HEIGHT_IN",
    "PAGE_WIDTH_IN",
    "PRINT_BOX_IN",
    "comparison_chart",
    "comparison_map",
    "funnel_chart",
    "funnel_data",
    "indicator_figure",
    "overview_chart",
    "png_bytes",
    "population_pyramid",
    "render_area_charts",
    "save_png",
    "trend_chart",
]


def render_area_charts(
    pack: AreaPackData,
    out_dir: str | os.PathLike[str],
    findings: list[KeyFinding] | None = None,
) -> dict[str, Path]:
    """Every chart of one pack: ``overview``, ``pyramid``, ``map`` (when an indicator has
    comparisons) and ``indicator_<id>`` → PNG path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = {
        "overview": save_png(overview_chart(pack), out / "overview.png"),
        "pyramid": save_png(population_pyramid(pack), out / "pyramid.png"),
    }
    mapped = map_indicator(pack, findings)
    if mapped is not None:
        charts["map"] = save_png(comparison_map(pack, mapped), out / "map.png")
    for indicator_id in catalogue_in_order(pack)["indicator_id"]:
        name = f"indicator_{indicator_id}"
        charts[name] = save_png(indicator_figure(pack, indicator_id), out / f"{name}.png")
    return charts
