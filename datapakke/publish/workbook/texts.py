"""Words the pack uses on more than one sheet, so each is written once and reads the same
everywhere. Words of a single sheet stay with that sheet."""

from __future__ import annotations

from typing import Any

from datapakke.mart.catalogue import METHOD_RULES
from datapakke.presentation import MISSING_TEXT, suppressed_text
from datapakke.publish.workbook.values import as_text

# Fixed sheets; indicator sheets go between OVERVIEW and DATA_STATUS.
FRONT, CONTENTS, OVERVIEW, ABOUT, DATA = "Forside", "Indhold", "Overblik", "Om data", "Data"
DATA_STATUS, KEY_POINTS, PEERS = "Datastatus", "Hovedpointer", "Lignende kommuner"
CHANGES = "Nyt siden sidst"
BACK_LINK_DA = "← Til indhold"
SYNTHETIC_MARK_DA = "SYNTETISKE DATA"
AUTHOR = "Datapakker"  # document creator and the author of every cell note

POLARITY_DA = {
    "higher_is_better": "Højere er bedre.",
    "lower_is_better": "Lavere er bedre.",
    "no_judgement": "Ingen retning: et højere eller lavere tal er ikke i sig selv bedre eller "
    "dårligere.",
}
INTERVAL_DA = {
    "none": "Ingen usikkerhed vist: tallet er en optælling af hele befolkningen.",
    "wilson": "95 %- og 99,8 %-konfidensintervaller efter Wilsons metode for andele.",
    "byar_exact": "95 %- og 99,8 %-konfidensintervaller efter Byars metode (10 hændelser eller "
    "flere) og eksakt Poisson (under 10 hændelser).",
    "dobson": "95 %- og 99,8 %-konfidensintervaller efter Dobsons metode for "
    "aldersstandardiserede rater.",
    "survey": "Konfidensintervaller fra undersøgelsen (stikprøveusikkerhed i spørgeskemaet).",
}


def legend_da(threshold: int) -> str:
    """The one-line key above every table: what the placeholders mean, how percents are shown."""
    return (
        f"'{suppressed_text(threshold)}' = skjult af diskretionshensyn. '{MISSING_TEXT}' = intet "
        "tal (se note). Procenttal er skrevet som tal: 17,3 betyder 17,3 %."
    )


def method_text(ind: Any) -> str:
    """How a catalogue indicator is computed, in Danish (the catalogue's method rule)."""
    rule = METHOD_RULES.get(str(ind.method))
    return rule.description_da if rule is not None else as_text(ind.method)


def interval_text(ind: Any) -> str:
    return INTERVAL_DA.get(str(ind.interval), as_text(ind.interval))


def polarity_text(ind: Any) -> str:
    return POLARITY_DA.get(str(ind.polarity), as_text(ind.polarity))
