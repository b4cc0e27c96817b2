"""What readers see: Danish labels, the one colour per meaning, number formatting.

Charts, the Excel pack and the download page all take their words and colours from here, so a
comparison is called and coloured the same everywhere.
"""

from __future__ import annotations

import math

# One meaning per colour, colour-blind safe (Okabe–Ito based), used in every chart and sheet.
COMPARISON_COLOURS = {
    "better": "#0072B2",  # blue
    "similar": "#E8E3C9",  # pale sand: no evidence of a difference
    "worse": "#D55E00",  # vermillion
    "higher": "#6A3D9A",  # purple (no judgement)
    "lower": "#CAB2D6",  # light purple (no judgement)
    "not_compared": "#FFFFFF",  # white with a grey edge
}
COMPARISON_LABELS_DA = {
    "better": "Bedre",
    "similar": "Ingen sikker forskel",
    "worse": "Dårligere",
    "higher": "Højere",
    "lower": "Lavere",
    "not_compared": "Ikke sammenlignet",
}
TREND_LABELS_DA = {
    "increasing": "Stigende",
    "decreasing": "Faldende",
    "no_change": "Ingen sikker udvikling",
    "insufficient_data": "For få tal",
}
# What a value rests on (``data_origin``): an analyst's real file or the embedded sample.
ORIGIN_LABELS_DA = {
    "real": "Rigtige data",
    "synthetic": "Syntetiske data",
    "mixed": "Blandet (rigtige og syntetiske)",
}
TREND_ARROWS = {"increasing": "↑", "decreasing": "↓", "no_change": "→"}
# Lines and markers for the levels in trend charts (grey scale + one accent, never a comparison colour).
LEVEL_STYLES = {
    "area": {"color": "#000000", "linewidth": 2.6},
    "region": {"color": "#7F7F7F", "linewidth": 1.8, "linestyle": "--"},
    "country": {"color": "#4D4D4D", "linewidth": 1.8, "linestyle": ":"},
    "member": {"color": "#B3B3B3", "linewidth": 1.0},
}
ROLE_LABELS_DA = {
    "member": "Kommune",
    "area": "Område",
    "region": "Region",
    "country": "Hele landet",
}
SEX_LABELS_DA = {"T": "I alt", "M": "Mænd", "K": "Kvinder"}
# The broad age bands of mart.indicator_age_value (``mart.age_bands``).
AGE_BAND_LABELS_DA = {
    "total": "Alle aldre",
    "0-24": "0–24 år",
    "25-64": "25–64 år",
    "65-79": "65–79 år",
    "80+": "80 år og derover",
}
MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip
THEME_ORDER = [
    "Befolkning",
    "Ældre",
    "Kronisk sygdom",
    "Psykiatri",
    "Aktivitet",
    "Sundhedsprofil",
    "Dødelighed",
]
MISSING_TEXT = "–"  # no number, but not suppressed (a note says why)
MEMBERSHIP_STATUS_DA = {  # short label, for the download page
    "confirmed": "Bekræftet medlemskab",
    "single-source": "Medlemskab fra én kilde",
    "proxy": "Skønnet medlemskab",
}
MEMBERSHIP_STATUS_HELP_DA = {  # the explanation, for the pack and the page's tooltip
    "confirmed": "Bekræftet: medlemskommunerne er bekræftet af offentlige kilder.",
    "single-source": "Én kilde: medlemskommunerne står i én offentlig kilde, men er ikke "
    "bekræftet af flere.",
    "proxy": "Skønnet ud fra 2019-optageområdet: der er ikke fundet en offentlig liste fra 2022, "
    "så sygehusets optageområde fra 2019 er brugt.",
}


def suppressed_text(threshold: int) -> str:
    """What a withheld number shows: ``<threshold`` (the configured disclosure threshold)."""
    return f"<{threshold}"


def suppressed_note_da(threshold: int) -> str:
    """The note on a withheld number."""
    return (
        f"Tallet er skjult af hensyn til diskretion (færre end {threshold} hændelser, eller fordi "
        "det ellers kunne regnes ud fra andre viste tal)."
    )


SYNTHETIC_BANNER_DA = (
    "SYNTETISKE DATA – kommunekoder og -navne er rigtige, men alle tal er opdigtede. "
    "Må ikke bruges til beslutninger."
)
SYNTHETIC_WATERMARK_DA = "Syntetiske data"


def format_da(value: float | None, decimals: int = 1) -> str:
    """A number as Danes write it: '.' for thousands, ',' for decimals; '' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def excel_number_format(decimals: int) -> str:
    """Excel format code; Excel and LibreOffice render the separators in the reader's locale."""
    return "#,##0" if decimals == 0 else "#,##0." + "0" * decimals
