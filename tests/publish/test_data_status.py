"""The data status a pack and the download page show: real or synthetic per source and per
indicator, and what a real file covers of the area's municipalities."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from datapakke.config import get_settings
from datapakke.geography import default_geography
from datapakke.publish.data_status import (
    indicator_origin,
    indicator_origin_da,
    source_statuses,
    summary_da,
)
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.site.page import render_page
from datapakke.publish.workbook import write_pack
from tests.publish.pack_fixture import make_area_pack_data

MORTALITY = "mortality_asr_per_100000"


@pytest.fixture(scope="module")
def mixed_pack() -> AreaPackData:
    """Region Nordjylland with a real FOLK1A covering only Aalborg; deaths stay synthetic, so
    the mortality rate (deaths per middle population) is mixed."""
    pack = make_area_pack_data("region", "nordjylland")
    folk1a = pack.sources.iloc[0].copy()
    folk1a.update(
        {
            "is_synthetic": False,
            "file": "statbank/FOLK1A/FOLK1A.csv",
            "sha256": "a" * 64,
            "first_period": "2008K1",
            "last_period": "2020K1",
            "period_count": 13,
            "municipality_codes": "147,400,461,561,751,851",
        }
    )
    deaths = pack.sources.iloc[0].copy()
    deaths.update(
        {
            "source_id": "fod207_deaths",
            "title": "Døde (FOD207)",
            "file": "sample/statbank/FOD207.csv",
            "measures": "deaths",
        }
    )
    values = pack.values.copy()
    mortality = values["indicator_id"] == MORTALITY
    values["data_origin"] = "synthetic"
    values.loc[mortality, "data_origin"] = "mixed"
    return dataclasses.replace(
        pack, sources=pd.DataFrame([folk1a, deaths]), values=values, is_synthetic=True
    )


def test_coverage_names_the_members_a_real_file_lacks(mixed_pack: AreaPackData) -> None:
    real, synthetic = source_statuses(mixed_pack)
    assert not real.is_synthetic and synthetic.is_synthetic  # real sources first
    assert real.members_covered == ("Aalborg",)
    assert len(real.members_missing) == len(mixed_pack.members) - 1
    assert real.coverage_da.startswith(f"1 af {len(mixed_pack.members)} (mangler: ")
    assert "Hjørring" in real.coverage_da
    assert real.periods_da == "2008K1–2020K1, 13 perioder"
    assert synthetic.coverage_da == f"alle {len(mixed_pack.members)}"


def test_front_page_summary_says_what_is_real_and_how_far_it_reaches(
    mixed_pack: AreaPackData,
) -> None:
    text = summary_da(mixed_pack)
    assert text.startswith("Blandet: rigtige data fra Befolkningen 1. i kvartalet (FOLK1A)")
    assert "områdets kommuner: 1 af" in text
    assert "opdigtede tal for Døde (FOD207)" in text
    others = len(mixed_pack.catalogue) - 1
    assert f"0 indikatorer bygger på rigtige data, 1 på blandede og {others} på syntetiske" in text


def test_indicator_lines_name_the_real_and_the_synthetic_source(mixed_pack: AreaPackData) -> None:
    cat = mixed_pack.catalogue.set_index("indicator_id", drop=False)
    assert indicator_origin(mixed_pack, MORTALITY) == "mixed"
    line = indicator_origin_da(mixed_pack, cat.loc[MORTALITY])
    assert "rigtige data fra Befolkningen 1. i kvartalet (FOLK1A)" in line
    assert "syntetiske (opdigtede) tal fra Døde (FOD207)" in line
    other = next(i for i in cat.index if i != MORTALITY)
    assert indicator_origin_da(mixed_pack, cat.loc[other]).startswith("Syntetiske")


def test_pack_shows_the_status_on_front_page_sheet_and_indicator_sheet(
    mixed_pack: AreaPackData, tmp_path
) -> None:
    book = load_workbook(write_pack(mixed_pack, {}, tmp_path / "pack.xlsx"))
    front = [c.value for row in book["Forside"].iter_rows() for c in row if c.value]
    assert summary_da(mixed_pack) in front
    status = book["Datastatus"]
    rows = [[c.value for c in row] for row in status.iter_rows()]
    folk1a = next(r for r in rows if r[0] and str(r[0]).startswith("Befolkningen"))
    assert folk1a[1] == "Rigtige data" and folk1a[2] == "statbank/FOLK1A/FOLK1A.csv"
    assert folk1a[4].startswith("1 af ")
    mortality_title = mixed_pack.catalogue.set_index("indicator_id").loc[MORTALITY, "title_da"]
    line = next(r for r in rows if r[0] == mortality_title)
    assert line[1] == "Blandet (rigtige og syntetiske)"
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert "Datagrundlag" in values


def test_download_page_lists_the_sources(mixed_pack: AreaPackData) -> None:
    geo = default_geography()
    units = [(code, m.name) for code, m in sorted(geo.municipalities.items())]
    from datapakke.publish.data_status import statuses_of

    statuses = statuses_of(mixed_pack.sources, units)
    html = render_page(geo, {}, datetime(2026, 12, 3, tzinfo=UTC), get_settings(), statuses)
    assert '<section id="datastatus">' in html and 'href="#datastatus"' in html
    assert "statbank/FOLK1A/FOLK1A.csv" in html and "6 af 98" in html
    assert '<td class="real">Rigtige data</td>' in html
    assert "a" * 64 in html
