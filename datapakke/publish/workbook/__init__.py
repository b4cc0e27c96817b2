"""The Excel data pack: one workbook per area, written from an ``AreaPackData`` and its charts.

The pack is the product: secretariats and mayors open it without help, so every sheet explains
itself in Danish, prints on A4 landscape, and shows withheld numbers as '<threshold' (the
configured disclosure threshold, '<5' by default) with a note.

Rules that keep it safe and fast:

- every value goes through ``values.safe_value`` (via ``Sheet.put`` or the fast row writer): text
  from input files or the catalogue is stored as text, never as a formula, and NaN never reaches
  Excel;
- the file is built under a temporary name beside the target and renamed into place
  (``datapakke.atomic``), so a failed build leaves the previous pack (and its history) untouched;
- openpyxl costs ~15 µs per cell, so plain table rows (tens of thousands of cells) are written
  straight as sheet XML (``fast_rows``); everything else uses openpyxl with named styles;
- openpyxl is imported inside functions: the Dagster code location imports this package and its
  start-up must stay light.

Layout: ``build`` assembles the sheets (``front``, ``contents``, ``overview``, ``indicator``,
``about``, ``data``) from a shared ``context``, each written through ``sheet.Sheet``; ``files``
saves, archives and prunes.
"""

from __future__ import annotations

from datapakke.publish.workbook.context import indicator_sheet_names
from datapakke.publish.workbook.files import publish_pack, write_pack
from datapakke.publish.workbook.geometry import PAGE_HIGH_PT, PAGE_WIDE_PX

__all__ = ["PAGE_HIGH_PT", "PAGE_WIDE_PX", "indicator_sheet_names", "publish_pack", "write_pack"]
