"""The European Standard Population 2013, read from ``data/reference/esp2013.csv``.

Its 19 five-year bands (``0-4`` … ``85-89``, ``90+``) are also the age bands every source is
aggregated to, so the validator, the schemas and the age standardisation share them.
"""

from __future__ import annotations

import csv

from datapakke.config import REFERENCE_DIR


def _read_esp2013() -> dict[str, int]:
    with (REFERENCE_DIR / "esp2013.csv").open(encoding="utf-8", newline="") as handle:
        return {row["age_band"]: int(row["weight"]) for row in csv.DictReader(handle)}


ESP2013: dict[str, int] = _read_esp2013()
AGE_BANDS: tuple[str, ...] = tuple(ESP2013)


def bands_from(min_age: int | None) -> list[str] | None:
    """The bands a count from ``min_age`` covers (None = every band, no filter). Sources that
    only publish 65+ write it as its own band, so it belongs to 65 too."""
    if min_age is None:
        return None
    bands = [b for b in AGE_BANDS if int(b.split("-")[0].rstrip("+")) >= min_age]
    if min_age == 65:
        bands.append("65+")
    return bands
