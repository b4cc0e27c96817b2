"""The charts: what each figure draws, that hidden numbers stay hidden (gaps, '<threshold', never
0), the synthetic watermark, colours from the palette, funnel limits from ``stats``, readable
print sizes, no cut-off text, atomic PNG writes, and a light import."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image

from datapakke.config import REPO_ROOT
from datapakke.mart import stats
from datapakke.presentation import COMPARISON_COLOURS, SYNTHETIC_WATERMARK_DA, THEME_ORDER
from datapakke.publish import charts
from datapakke.publish.charts import png
from datapakke.publish.charts.axis import tick_labels
from datapakke.publish.charts.canvas import spread
from datapakke.publish.pack_data import AreaPackData
from tests.publish.pack_fixture import make_area_pack_data

RATE = "acute_medical_admissions_65plus_per_1000"  # crude_rate, multiplier 1000: funnel 'rate'
PROPORTION = "readmissions_30d_65plus_pct"  # proportion: funnel 'proportion'
DSR = "prevalence_copd_asr_pct"
SURVEY = "survey_smoking_daily_pct"
SHARE = "population_65plus_pct"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------- fixtures, helpers


@pytest.fixture(scope="module")
def pack() -> AreaPackData:
    """Ten members, with two of Brøndby's cells suppressed (latest year and a middle year)."""
    pack = make_area_pack_data("klynge2022", "hovedstaden-syd")
    return _suppress(pack, RATE, "153", ["2025", "2022"])


@pytest.fixture(scope="module")
def small_pack() -> AreaPackData:
    return make_area_pack_data()  # two members


def _suppress(pack: AreaPackData, indicator_id: str, code: str, periods: list[str]) -> AreaPackData:
    """A copy of the pack with one member's cells suppressed the way the mart publishes them."""
    v = pack.values.copy()
    hit = (v["indicator_id"] == indicator_id) & (v["area_code"] == code) & v["period"].isin(periods)
    assert hit.any()
    v.loc[hit, ["numerator", "value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"]] = np.nan
    v.loc[hit, "is_suppressed"] = True
    v.loc[hit, ["compared_to_area", "compared_to_national"]] = "not_compared"
    return dataclasses.replace(pack, values=v)


def _by_gid(fig: Figure, gid: str) -> list:
    return fig.findobj(lambda a: a.get_gid() == gid)


def _text_artists(fig: Figure) -> list:
    """matplotlib ``Text`` (the rotated watermark) and the charts' own ``_Label`` artists."""
    return fig.texts + [a for a in fig.artists if hasattr(a, "get_text")]


def _texts(fig: Figure, gid: str | None = None) -> list[str]:
    return [t.get_text() for t in _text_artists(fig) if gid is None or t.get_gid() == gid]


def _overview_row(fig: Figure, title: str) -> dict[str | None, list[str]]:
    """The overview's texts on the row of the indicator titled ``title``, grouped by gid."""
    (row,) = [
        t for t in _text_artists(fig) if t.get_gid() == "overview-title" and t.get_text() == title
    ]
    y = row.get_position()[1]
    texts: dict[str | None, list[str]] = {}
    for t in _text_artists(fig):
        if hasattr(t, "get_position") and t.get_position()[1] == y:
            texts.setdefault(t.get_gid(), []).append(t.get_text())
    return texts


def _title(pack: AreaPackData, indicator_id: str) -> str:
    return pack.catalogue.set_index("indicator_id").loc[indicator_id, "title_da"]


def _members_in_chart_order(pack: AreaPackData) -> list[str]:
    """Member codes as the trend chart concatenates them: by name, then code."""
    return [m.code for m in sorted(pack.members, key=lambda m: (m.name, m.code))]


# ---------------------------------------------------------------------------- each figure


def test_trend_chart_draws_every_level_and_the_area_interval(pack: AreaPackData) -> None:
    fig = charts.trend_chart(pack, RATE)
    assert isinstance(fig, Figure)
    for gid in ("trend-members", "trend-area", "trend-region", "trend-country", "trend-ci"):
        assert _by_gid(fig, gid), gid
    area = pack.indicator_values(RATE).query("role == 'area'").sort_values("period")
    (line,) = _by_gid(fig, "trend-area")
    np.testing.assert_allclose(line.get_ydata(), area["value"].to_numpy(float))
    np.testing.assert_array_equal(line.get_xdata(), area["period"].astype(int).to_numpy(float))
    # Ten members (≤ 12) are named at their line ends.
    assert sorted(_texts(fig, "member-label")) == sorted(m.name for m in pack.members)
    legend = _texts(fig, "level-legend-label")
    assert f"Område: {pack.area_name}" in legend
    assert {"Kommune", "Hele landet", "95 %-konfidensinterval (område)"} <= set(legend)
    assert "Region Hovedstaden" in legend


def test_trend_chart_leaves_suppressed_years_as_gaps_never_zero(pack: AreaPackData) -> None:
    fig = charts.trend_chart(pack, RATE)
    (line,) = _by_gid(fig, "trend-members")
    years = sorted(pack.indicator_values(RATE)["period"].astype(int).unique())
    y = np.asarray(line.get_ydata(), float).reshape(len(pack.members), len(years) + 1)
    v = pack.indicator_values(RATE).query("role == 'member'")
    for i, code in enumerate(_members_in_chart_order(pack)):
        for j, year in enumerate(years):
            row = v[(v["area_code"] == code) & (v["period"] == str(year))].iloc[0]
            if row["is_suppressed"]:
                assert np.isnan(y[i, j]), (code, year)
            else:
                assert y[i, j] == pytest.approx(row["value"])
        assert np.isnan(y[i, -1])  # the separator between members
    assert not np.any(y == 0)
    assert any("Skjulte værdier vises ikke" in t for t in _texts(fig, "footer"))


def test_a_long_series_gets_year_labels_that_do_not_overprint(small_pack: AreaPackData) -> None:
    """A source going back decades (six times the sample's years): fewer year labels, each
    clear of the next, the latest year always labelled; the sample's seven years all fit."""
    from datapakke.publish.charts.measure import text_width

    v = small_pack.values[small_pack.values["indicator_id"] == RATE]
    latest = int(v["period"].astype(int).max())
    shifted = [v.assign(period=(v["period"].astype(int) - 11 * k).astype(str)) for k in range(6)]
    long = dataclasses.replace(
        small_pack, values=pd.concat([small_pack.values[small_pack.values["indicator_id"] != RATE],
                                      *shifted], ignore_index=True)
    )  # fmt: skip
    years = v["period"].nunique()
    for data, fewest, most in ((small_pack, years, years), (long, 5, 2 * years)):
        fig = charts.trend_chart(data, RATE)
        labels = sorted(
            (t for t in _text_artists(fig) if t.get_gid() == "trend-xtick"),
            key=lambda t: t.get_position()[0],
        )
        assert labels[-1].get_text() == str(latest)
        xs = [t.get_position()[0] for t in labels]  # centres, in inches
        gaps = np.diff(xs) - text_width("0000")
        assert (gaps > 0.02).all(), [t.get_text() for t in labels]
        assert fewest <= len(labels) <= most  # long: 66 years, a label every 5 years or more


def test_trend_chart_without_members_many_are_not_named() -> None:
    region = make_area_pack_data("region", "hovedstaden")  # 29 members: too many to name
    fig = charts.trend_chart(region, RATE)
    assert _texts(fig, "member-label") == []
    # A region pack's own region is the area: not drawn twice.
    assert not _by_gid(fig, "trend-region")


def test_comparison_chart_bars_whiskers_benchmarks_and_suppressed_members(
    pack: AreaPackData,
) -> None:
    fig = charts.comparison_chart(pack, RATE)
    latest = pack.indicator_values(RATE).query("period == '2025'")
    members = latest[latest["role"] == "member"]
    assert sorted(_texts(fig, "member-name")) == sorted(members["area_name"])
    shown = members[~members["is_suppressed"]]
    bars = [b for c in COMPARISON_COLOURS for b in _by_gid(fig, f"comparison-bars-{c}")]
    assert sum(len(b.get_paths()) for b in bars) == len(shown)
    # Brøndby is suppressed in 2025: listed with '<5' (the fixture's threshold), no bar.
    assert _texts(fig, "suppressed-label") == ["<5"]
    drawn_values = sorted(max(p.vertices[:, 0]) for b in bars for p in b.get_paths())
    np.testing.assert_allclose(drawn_values, sorted(shown["value"]))
    for role in ("area", "region", "country"):
        (line,) = _by_gid(fig, f"benchmark-{role}")
        expected = latest[latest["role"] == role]["value"].iloc[0]
        assert line.get_xdata()[0] == pytest.approx(expected)
    (ci,) = _by_gid(fig, "comparison-ci")
    assert len(ci.get_segments()) == len(shown)
    assert "Farve: sammenlignet med hele landet" in _texts(fig, "panel-subtitle")


def test_comparison_colours_match_the_palette_for_their_category(pack: AreaPackData) -> None:
    fig = charts.comparison_chart(pack, PROPORTION)
    latest = pack.indicator_values(PROPORTION).query("period == '2025' and role == 'member'")
    expected = latest[~latest["is_suppressed"]]["compared_to_national"].value_counts()
    for category, colour in COMPARISON_COLOURS.items():
        found = _by_gid(fig, f"comparison-bars-{category}")
        if category not in expected:
            assert not found
            continue
        (bars,) = found
        assert len(bars.get_paths()) == expected[category]
        assert tuple(bars.get_facecolor()[0]) == pytest.approx(to_rgba(colour))


def test_comparison_chart_for_an_earlier_period(pack: AreaPackData) -> None:
    fig = charts.comparison_chart(pack, RATE, period="2022")
    assert "Kommunerne i området, 2022" in _texts(fig, "panel-title")
    assert _texts(fig, "suppressed-label") == ["<5"]  # Brøndby, 2022


@pytest.mark.parametrize(("threshold", "label"), [(3, "<3"), (5, "<5"), (10, "<10")])
def test_suppressed_label_follows_the_packs_threshold(
    pack: AreaPackData, threshold: int, label: str
) -> None:
    """The disclosure threshold is configurable: withheld numbers say '<threshold'."""
    v = pack.values.copy()
    hidden = (v["indicator_id"] == RATE) & (v["role"] == "area") & (v["period"] == "2025")
    v.loc[hidden, ["value", "ci95_low", "ci95_high"]] = np.nan
    v.loc[hidden, "is_suppressed"] = True
    configured = dataclasses.replace(pack, values=v, suppression_threshold=threshold)

    figure = charts.indicator_figure(configured, RATE)
    assert _texts(figure, "suppressed-label") == [label]  # Brøndby, 2025
    assert any(f"'{label}': skjult af diskretionshensyn" in t for t in _texts(figure, "footer"))
    assert charts.png_bytes(figure).startswith(PNG_SIGNATURE)

    overview = charts.overview_chart(configured)
    assert _overview_row(overview, _title(pack, RATE))["overview-value"] == [label]
    assert _texts(overview, "footer") == [f"'{label}': skjult af diskretionshensyn"]


def test_counts_are_drawn_without_region_and_country(pack: AreaPackData) -> None:
    """Folketal: the area is the sum of its members and Denmark is millions: no benchmarks."""
    fig = charts.indicator_figure(pack, "population_total")
    assert _by_gid(fig, "trend-area")
    assert len(_texts(fig, "member-name")) == len(pack.members)  # compared in their own panel
    for gid in ("trend-members", "trend-region", "trend-country", "benchmark-area"):
        assert not _by_gid(fig, gid), gid
    assert not _by_gid(fig, "benchmark-region") and not _by_gid(fig, "benchmark-country")
    assert any("region og hele landet vises ikke" in t for t in _texts(fig, "footer"))


def test_missing_value_that_is_not_suppressed_is_a_dash_not_zero(pack: AreaPackData) -> None:
    v = pack.values.copy()
    hit = (v["indicator_id"] == PROPORTION) & (v["area_code"] == "101") & (v["period"] == "2025")
    v.loc[hit, ["value", "ci95_low", "ci95_high"]] = np.nan
    fig = charts.indicator_figure(dataclasses.replace(pack, values=v), PROPORTION)
    assert _texts(fig, "missing-label") == ["–"]
    assert any("Manglende værdier vises ikke" in t for t in _texts(fig, "footer"))


# ---------------------------------------------------------------------------- funnel


def test_funnel_limits_are_stats_funnel_limits_around_the_pooled_national_value(
    pack: AreaPackData,
) -> None:
    fig = charts.funnel_chart(pack, RATE)
    ind = pack.catalogue.set_index("indicator_id").loc[RATE]
    f = pack.funnel[(pack.funnel["indicator_id"] == RATE) & ~pack.funnel["is_suppressed"]]
    target = f["numerator"].sum() / f["denominator"].sum() * ind["multiplier"]
    od = stats.overdispersion(f["value"], f["denominator"], target, "rate", ind["multiplier"])
    tau2 = od["tau2"] if od["overdispersed"] else 0.0
    (target_line,) = _by_gid(fig, "funnel-target")
    assert target_line.get_ydata()[0] == pytest.approx(target)
    drawn = {}
    for level, z in (("95", stats.Z95), ("998", stats.Z998)):
        (low,) = _by_gid(fig, f"funnel-limit-{level}-low")
        (high,) = _by_gid(fig, f"funnel-limit-{level}-high")
        grid = np.asarray(low.get_xdata(), float)
        expect_low, expect_high = stats.funnel_limits(
            target, grid, "rate", z, ind["multiplier"], tau2
        )
        np.testing.assert_allclose(low.get_ydata(), expect_low)
        np.testing.assert_allclose(high.get_ydata(), expect_high)
        drawn[level] = (np.asarray(low.get_ydata()), np.asarray(high.get_ydata()))
    assert np.all(drawn["998"][0] < drawn["95"][0]) and np.all(drawn["998"][1] > drawn["95"][1])
    # The fixture's municipalities vary far more than chance: limits widened, and said so.
    assert od["overdispersed"] and tau2 > 0
    assert "Grænser udvidet for overspredning" in _texts(fig, "panel-subtitle")


def test_funnel_points_leave_out_suppressed_municipalities(pack: AreaPackData) -> None:
    fig = charts.funnel_chart(pack, PROPORTION)
    f = pack.funnel[pack.funnel["indicator_id"] == PROPORTION]
    (others,) = _by_gid(fig, "funnel-others")
    (members,) = _by_gid(fig, "funnel-members")
    assert f["is_suppressed"].any()
    shown = f[~f["is_suppressed"]]
    assert len(others.get_xdata()) == (~shown["is_member"]).sum()
    assert len(members.get_xdata()) == shown["is_member"].sum()
    drawn = set(np.round(np.r_[others.get_ydata(), members.get_ydata()], 9))
    assert drawn == set(np.round(shown["value"], 9))


@pytest.mark.parametrize(
    ("indicator_id", "words"),
    [(DSR, "aldersstandardiserede"), (SURVEY, "spørgeskemaestimater"), (SHARE, "usikkerhed")],
)
def test_no_funnel_for_dsr_survey_and_whole_population_figures(
    pack: AreaPackData, indicator_id: str, words: str
) -> None:
    assert charts.funnel_data(pack, indicator_id) is None
    fig = charts.funnel_chart(pack, indicator_id)
    assert not any(
        _by_gid(fig, g) for g in ("funnel-target", "funnel-limit-95-low", "funnel-members")
    )
    (message,) = _texts(fig, "funnel-message")
    assert "Tragtdiagram vises ikke" in message.replace("\n", " ") and words in message
    panel = charts.indicator_figure(pack, indicator_id)
    assert not _by_gid(panel, "funnel-target") and not _texts(panel, "funnel-message")
    assert "Tragtdiagram, alle kommuner 2025" not in _texts(panel, "panel-title")
    assert any("Tragtdiagram vises ikke" in t.replace("\n", " ") for t in _texts(panel, "footer"))


def test_indicator_figure_has_the_three_panels_and_the_title(pack: AreaPackData) -> None:
    fig = charts.indicator_figure(pack, RATE)
    titles = _texts(fig, "panel-title")
    assert titles == [
        "Udvikling over tid",
        "Kommunerne i området, 2025",
        "Tragtdiagram, alle kommuner 2025",
    ]
    ind = pack.catalogue.set_index("indicator_id").loc[RATE]
    assert _texts(fig, "title") == [ind["title_da"]]
    assert _texts(fig, "subtitle")[0].startswith(ind["unit_da"])
    width, height = fig.get_size_inches()
    assert width == pytest.approx(charts.PAGE_WIDTH_IN) and height <= charts.MAX_HEIGHT_IN + 1e-9


# ---------------------------------------------------------------------------- overview, pyramid


def test_overview_has_every_indicator_in_theme_order(pack: AreaPackData) -> None:
    fig = charts.overview_chart(pack)
    cat = pack.catalogue
    order = sorted(range(len(cat)), key=lambda i: (THEME_ORDER.index(cat["theme"][i]), i))
    texts = [t for t in _text_artists(fig) if t.get_gid() == "overview-title"]
    assert [t.get_text() for t in sorted(texts, key=lambda t: -t.get_position()[1])] == [
        cat["title_da"][i] for i in order
    ]
    assert len(_texts(fig, "overview-value")) == len(cat)
    # Long themes are wrapped onto two lines (hyphenated if one word), in theme order.
    themes = [t.replace("-\n", "").replace("\n", " ") for t in _texts(fig, "overview-theme")]
    assert themes == [t for t in THEME_ORDER if t in set(cat["theme"])]
    assert all(t.count("\n") <= 1 for t in _texts(fig, "overview-theme"))


def test_overview_marker_colours_and_missing_values(pack: AreaPackData) -> None:
    v = pack.values.copy()
    no_value = (v["indicator_id"] == PROPORTION) & (v["role"] == "area")
    v.loc[no_value, "value"] = np.nan
    fig = charts.overview_chart(dataclasses.replace(pack, values=v))
    # Expected dots: the area's latest value of every indicator that is not a count.
    counts = pack.catalogue.loc[pack.catalogue["method"] == "count", "indicator_id"]
    area = v[(v["role"] == "area") & (v["sex"] == "T") & (v["period"] == "2025")]
    dots = area[area["value"].notna() & ~area["indicator_id"].isin(counts)]
    expected = dots["compared_to_national"].value_counts()
    for category, colour in COMPARISON_COLOURS.items():
        found = _by_gid(fig, f"spine-marker-{category}")
        if category not in expected:
            assert not found
            continue
        (markers,) = found
        assert len(markers.get_xdata()) == expected[category]
        assert to_rgba(markers.get_markerfacecolor()) == pytest.approx(to_rgba(colour))
    assert _overview_row(fig, _title(pack, PROPORTION))["overview-value"] == ["–"]
    for indicator_id in counts:  # no spine for a count, and the row says why
        assert "Antal – ikke sammenlignet" in _overview_row(fig, _title(pack, indicator_id))[None]


def test_overview_for_one_member_uses_its_values(pack: AreaPackData) -> None:
    member = pack.members[0]
    fig = charts.overview_chart(pack, member_code=member.code)
    assert _texts(fig, "title") == [f"Overblik – {member.name}"]
    assert "Kommune" in _texts(fig, "overview-head")
    v = pack.values.query("sex == 'T' and area_code == @member.code and indicator_id == @RATE")
    value = v[v["period"] == v["period"].max()]["value"].iloc[0]
    decimals = pack.catalogue.set_index("indicator_id").loc[RATE, "decimals"]
    (shown,) = _overview_row(fig, _title(pack, RATE))["overview-value"]
    assert float(shown.replace(".", "").replace(",", ".")) == pytest.approx(
        value, abs=0.5 * 10.0**-decimals
    )


def test_population_pyramid_shares_beside_denmark_and_five_years_before(
    pack: AreaPackData,
) -> None:
    fig = charts.population_pyramid(pack)
    bands = pack.population["age_band"].unique()
    assert len(_texts(fig, "pyramid-age")) == len(bands)
    (men,) = _by_gid(fig, "pyramid-men")
    (women,) = _by_gid(fig, "pyramid-women")
    latest = pack.population.query("period == '2025'")
    everyone = latest["population"].sum()
    # bars are shares of the area's citizens (both sexes): the widest man's band, all women
    assert -min(p.vertices[:, 0].min() for p in men.get_paths()) == pytest.approx(
        latest.query("sex == 'M'")["population"].max() / everyone * 100
    )
    assert sum(p.vertices[:, 0].max() for p in women.get_paths()) == pytest.approx(
        latest.query("sex == 'K'")["population"].sum() / everyone * 100
    )
    # Denmark's outline: its own shares, independent of the area's size
    (country_women,) = _by_gid(fig, "pyramid-country-women")
    national = latest["national_population"]
    widest = latest.query("sex == 'K'")["national_population"].max() / national.sum() * 100
    assert country_women.get_xdata().max() == pytest.approx(widest)
    assert "Hele landet 2025" in _texts(fig, "pyramid-legend-label")
    assert _by_gid(fig, "pyramid-earlier-men") and _by_gid(fig, "pyramid-earlier-women")
    assert "2020 (fem år før)" in _texts(fig, "pyramid-legend-label")
    no_history = charts.population_pyramid(pack, period="2021")  # 2016 is not in the pack
    assert not _by_gid(no_history, "pyramid-earlier-men")
    older_mart = dataclasses.replace(
        pack, population=pack.population.drop(columns="national_population")
    )
    assert not _by_gid(charts.population_pyramid(older_mart), "pyramid-country-men")


# ---------------------------------------------------------------------------- every figure


def _all_figures(pack: AreaPackData) -> list[Figure]:
    return [
        charts.trend_chart(pack, RATE),
        charts.comparison_chart(pack, RATE),
        charts.funnel_chart(pack, RATE),
        charts.funnel_chart(pack, DSR),
        charts.indicator_figure(pack, RATE),
        charts.indicator_figure(pack, DSR),
        charts.overview_chart(pack),
        charts.population_pyramid(pack),
        charts.comparison_map(pack, RATE),
    ]


def test_watermark_appears_if_and_only_if_synthetic(small_pack: AreaPackData) -> None:
    real = dataclasses.replace(small_pack, is_synthetic=False)
    for synthetic, fig in [(True, f) for f in _all_figures(small_pack)] + [
        (False, f) for f in _all_figures(real)
    ]:
        marks = [t for t in _text_artists(fig) if t.get_text() == SYNTHETIC_WATERMARK_DA]
        assert len(marks) == (1 if synthetic else 0)
        if synthetic:
            assert 0 < marks[0].get_rotation() < 90  # diagonal
            assert marks[0].get_zorder() > 100  # over everything


def test_map_shows_the_first_key_findings_indicator_with_its_comparisons(
    pack: AreaPackData, tmp_path: Path
) -> None:
    from datapakke.publish.charts.map import map_indicator
    from datapakke.publish.key_findings import key_findings

    chosen = map_indicator(pack)
    assert chosen == key_findings(pack)[0].indicator_id
    drawn = charts.render_area_charts(pack, tmp_path)
    assert drawn["map"].name == "map.png"
    colours = {tuple(int(c) for c in p) for p in _pixels(drawn["map"])}
    for category in ("better", "similar", "worse"):  # the fixture's three categories
        rgb = tuple(round(255 * v) for v in to_rgba(COMPARISON_COLOURS[category])[:3])
        assert rgb in colours, category
    quiet = dataclasses.replace(
        pack, funnel=pack.funnel.assign(compared_to_national="not_compared")
    )
    assert map_indicator(quiet) is None
    assert "map" not in charts.render_area_charts(quiet, tmp_path / "quiet")


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0)


def test_print_box_is_the_workbooks() -> None:
    from datapakke.publish import workbook

    box = (workbook.PAGE_WIDE_PX / 96, workbook.PAGE_HIGH_PT / 72)
    assert pytest.approx(box) == charts.PRINT_BOX_IN


def test_text_is_readable_at_print_size_and_never_cut_off() -> None:
    """Smallest text ≥ 8 pt (map tile labels ≥ 6 pt) once the workbook fits the picture to the A4
    page; no text cut off.

    Uses the largest area (29 members: the tallest figures).
    """
    region = make_area_pack_data("region", "hovedstaden")
    for fig in [*_all_figures(region), charts.indicator_figure(region, PROPORTION)]:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        width, height = fig.get_size_inches()
        print_pt = min(charts.PRINT_BOX_IN[0] / width, charts.PRINT_BOX_IN[1] / height)
        page = fig.bbox
        for text in _text_artists(fig):
            if not text.get_text().strip():
                continue
            # the map's tile abbreviations ('Kbh') shrink to fit their square, never below 6 pt
            smallest = 6 if text.get_gid() == "tilemap-label" else 8
            assert text.get_fontsize() * print_pt >= smallest - 1e-9, text.get_text()
            box = text.get_window_extent(renderer)
            assert page.x0 - 0.5 <= box.x0 and box.x1 <= page.x1 + 0.5, text.get_text()
            assert page.y0 - 0.5 <= box.y0 and box.y1 <= page.y1 + 0.5, text.get_text()


def test_danish_number_formats() -> None:
    assert tick_labels(np.array([0.0, 2500.0, 5000.0])) == ["0", "2.500", "5.000"]
    assert tick_labels(np.array([0.0, 0.5, 1.0])) == ["0,0", "0,5", "1,0"]
    assert tick_labels(np.array([-2.5, 0.0, 2.5])) == ["−2,5", "0,0", "2,5"]


def test_spread_keeps_labels_apart_in_order_and_inside_bounds() -> None:
    placed = spread([1.0, 1.01, 1.02, 5.0], gap=0.5)
    assert np.all(np.diff(np.sort(placed)) >= 0.5 - 1e-12)
    assert list(np.argsort(placed)) == [0, 1, 2, 3]
    assert placed[3] == 5.0
    assert np.mean(placed[:3]) == pytest.approx(1.01)
    bounded = spread([0.1, 0.0, 0.05, 3.0], gap=0.5, low=0.0, high=4.0)
    assert bounded.min() >= 0.0 and np.all(np.diff(np.sort(bounded)) >= 0.5 - 1e-12)
    assert list(np.argsort(bounded)) == [1, 2, 0, 3]


# ---------------------------------------------------------------------------- files


def test_render_area_charts_writes_every_png(small_pack: AreaPackData, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    paths = charts.render_area_charts(small_pack, out)
    expected = {"overview", "pyramid", "map"} | {
        f"indicator_{i}" for i in small_pack.catalogue["indicator_id"]
    }
    assert set(paths) == expected
    for name, path in paths.items():
        assert path == out / f"{name}.png"
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.mode == "RGB" and image.width > 500
            assert image.info["dpi"][0] == pytest.approx(charts.DPI, abs=0.1)
        assert path.stat().st_mode & 0o777 == 0o644  # readable by the web server
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in expected)


def test_png_is_world_readable_whatever_the_umask(small_pack: AreaPackData, tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        path = charts.save_png(charts.population_pyramid(small_pack), tmp_path / "pyramid.png")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def test_png_matches_what_matplotlib_draws(small_pack: AreaPackData) -> None:
    fig = charts.indicator_figure(small_pack, RATE)
    data = charts.png_bytes(fig)
    drawn = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    with Image.open(io.BytesIO(data)) as image:
        np.testing.assert_array_equal(np.asarray(image), drawn)


def test_failed_save_leaves_the_old_file_and_no_temp_file(
    small_pack: AreaPackData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "overview.png"
    target.write_bytes(b"old picture")

    def broken(fig: Figure, dpi: int = charts.DPI) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(png, "png_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        charts.save_png(charts.overview_chart(small_pack), target)
    assert target.read_bytes() == b"old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["overview.png"]


def test_save_is_an_atomic_rename_from_the_same_folder(
    small_pack: AreaPackData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "pyramid.png"
    target.write_bytes(b"old picture")
    renames: list[tuple[Path, Path, bool]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        renames.append((Path(src), Path(dst), Path(src).read_bytes().startswith(PNG_SIGNATURE)))
        assert target.read_bytes() == b"old picture"  # untouched until the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    charts.save_png(charts.population_pyramid(small_pack), target)
    ((src, dst, complete),) = renames
    assert src.parent == tmp_path and dst == target and complete
    assert not src.exists() and target.read_bytes().startswith(PNG_SIGNATURE)


def test_import_is_light_and_pyplot_is_never_used() -> None:
    code = (
        "import sys; import datapakke.publish.charts as c; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at start-up'; "
        "assert 'datapakke.mart.stats' not in sys.modules and 'scipy' not in sys.modules; "
        "from tests.publish.pack_fixture import make_area_pack_data; "
        "c.indicator_figure(make_area_pack_data(), 'readmissions_30d_65plus_pct'); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_dollar_signs_are_text_not_mathtext(small_pack: AreaPackData) -> None:
    cat = small_pack.catalogue.copy()
    cat.loc[cat["indicator_id"] == RATE, "unit_da"] = "$ pr. borger $"
    fig = charts.indicator_figure(dataclasses.replace(small_pack, catalogue=cat), RATE)
    assert charts.png_bytes(fig).startswith(PNG_SIGNATURE)
    assert "$ pr. borger $" in _texts(fig, "panel-subtitle")


def test_unknown_indicator_is_a_clear_error(small_pack: AreaPackData) -> None:
    with pytest.raises(KeyError, match="not_an_indicator"):
        charts.indicator_figure(small_pack, "not_an_indicator")


def test_pack_with_no_values_for_an_indicator_still_draws(small_pack: AreaPackData) -> None:
    v = small_pack.values[small_pack.values["indicator_id"] != RATE]
    f = small_pack.funnel[small_pack.funnel["indicator_id"] != RATE]
    empty = dataclasses.replace(small_pack, values=v, funnel=f)
    fig = charts.indicator_figure(empty, RATE)
    assert "Ingen kommuner med data" in _texts(fig, "empty-message")
    overview = charts.overview_chart(empty)
    assert _overview_row(overview, _title(empty, RATE))["overview-value"] == ["–"]
