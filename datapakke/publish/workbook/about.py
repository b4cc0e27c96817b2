"""'Om data': every indicator's definition and method, and how disclosure control and
comparisons work (the sources with checksums are on 'Datastatus'). Each indicator is kept on one printed page."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from datapakke.mart.population import POPULATION_MEASURES
from datapakke.presentation import suppressed_text
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.peers import PEERS_METHOD_DA
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import interval_text, method_text, polarity_text
from datapakke.publish.workbook.values import as_text, danish_time, is_missing

LAST = 5  # the sheet's last column: paragraphs are merged up to here
DISCLOSURE_RULE_DA = {
    "count": "Omfattet af diskretionsreglerne (primær og sekundær diskretion).",
    "none": "Ikke omfattet af diskretionsreglerne.",
}
COMPARISON_TEXT_DA = (
    "Sammenligning. Hvert tal har et 95 %- og et 99,8 %-konfidensinterval. Alle tal "
    "sammenlignes med hele landets tal (Overblik og indikatorark); på indikatorarkene står "
    "kommunernes sammenligning med områdets tal i en kolonne for sig. Ligger hele "
    "95 %-intervallet over eller under det tal, der sammenlignes med, er forskellen sikker; ligger "
    "også 99,8 %-intervallet på samme side, er den meget sikker. Indikatorens retning afgør, om "
    "en sikker forskel kaldes bedre/dårligere eller blot højere/lavere. Udviklingen (stigende, "
    "faldende) er testet over de seneste fem år."
)
# Danish names of the catalogue's measures, as the "Tæller" and "Nævner" fields show them (the
# catalogue's measure ids are English and machine-readable: never shown in the Danish text).
MEASURE_NAMES_DA = {
    **{m.measure: m.name_da for m in POPULATION_MEASURES.values()},
    "deaths": "dødsfald",
    "preventable_admissions": "forebyggelige indlæggelser",
    "readmissions_30d": "akutte genindlæggelser inden for 30 dage",
    "medical_discharges": "udskrivninger af medicinske patienter",
    "discharge_ready_bed_days": "færdigbehandlingsdage",
    "acute_medical_admissions": "akutte medicinske indlæggelser",
    "home_help_recipients": "modtagere af hjemmehjælp",
    "home_nursing_recipients": "modtagere af hjemmesygepleje",
    "rehabilitation_courses": "genoptræningsforløb",
    "prevalence_diabetes2": "borgere med type 2-diabetes",
    "prevalence_copd": "borgere med KOL",
    "prevalence_dementia": "borgere med demens",
    "prevalence_rheumatoid_arthritis": "borgere med leddegigt",
    "prevalence_osteoporosis": "borgere med knogleskørhed",
    "prevalence_asthma": "borgere med astma",
    "copd_admissions": "indlæggelser med KOL",
    "psychiatric_contact_persons": "borgere i kontakt med psykiatrien",
    "psychiatric_acute_admissions": "akutte psykiatriske indlæggelser",
    "psychiatric_readmissions_30d": "psykiatriske genindlæggelser inden for 30 dage",
    "psychiatric_discharges": "udskrivninger fra psykiatrien",
    "somatic_admissions": "somatiske indlæggelser",
    "outpatient_visits": "ambulante besøg",
    "emergency_visits": "skadestuebesøg",
    "gp_contacts": "konsultationer i almen praksis",
    "survey_smoking_daily": "Sundhedsprofilens andel dagligrygere",
    "survey_alcohol_high": "Sundhedsprofilens andel med højt alkoholindtag",
    "survey_obesity_severe": "Sundhedsprofilens andel med svær overvægt",
    "survey_physical_inactivity": "Sundhedsprofilens andel fysisk inaktive",
    "survey_mental_health_poor": "Sundhedsprofilens andel med dårligt mentalt helbred",
}
# A measure without a Danish name above: described, never shown by its id.
UNNAMED_MEASURE_DA = "se definitionen"
SOURCES_TEXT_DA = (
    "Kilder. Hver kildes fil med kontrolsum (SHA-256), perioder, dækning og rækker, og om den er "
    "rigtig eller syntetisk, står på arket 'Datastatus'."
)
DATA_SHEET_TEXT_DA = (
    "Arket 'Data' har alle tal i én tabel med overskrifter i række 2 (i pandas: "
    "pd.read_excel(fil, sheet_name='Data', header=1))."
)


def build_text_da(code_version: str, built_at: datetime) -> str:
    """The technical facts a reader never needs but a support request does."""
    return (
        f"Om denne udgave. Dannet {danish_time(built_at)} med Datapakker, kodeversion "
        f"{code_version}. Kontrolsummer for kildefilerne står på arket 'Datastatus'."
    )


def disclosure_text_da(threshold: int) -> str:
    """How disclosure control works, for counts below ``threshold``."""
    return (
        f"Diskretion. Primær diskretion: et antal fra 1 til {max(threshold - 1, 1)} skjules og "
        f"vises som '{suppressed_text(threshold)}', og det samme gør alle tal, der er regnet ud "
        "fra det (rate, andel og intervaller). Sekundær diskretion: yderligere tal skjules, så et "
        "skjult tal ikke kan regnes ud ved at lægge sammen og trække fra – heller ikke på tværs "
        "af alle datapakker (kommuner, sundhedsklynger, sundhedsråd, regioner og hele landet), "
        "fordi inddelingerne overlapper. Nul er ikke i sig selv fortroligt. Aldersgrupperne "
        "(fx 65–79 år og 80 år og derover) er beskyttet sammen med totalerne, så en skjult "
        "aldersgruppe heller ikke kan findes som totalen minus de andre aldersgrupper."
    )


AGE_BANDS_TEXT_DA = (
    "Aldersgrupper. Rater og andele, hvis kilde har tal i femårs-aldersgrupper, vises for det "
    "seneste år også i brede aldersgrupper: 0–24, 25–64, 65–79 år og 80 år og derover (for "
    "indikatorer om borgere på 65 år og derover: 65–79 år og 80 år og derover). Hver "
    "aldersgruppe er beregnet som indikatoren selv (samme tæller, nævner og interval) og "
    "sammenlignet med hele landet i samme aldersgruppe. Indikatorer, hvis kilde kun har 65+ "
    "eller alle aldre samlet, og aldersstandardiserede rater vises ikke fordelt på alder. "
    "Befolkningspyramiden på forsiden viser områdets aldersfordeling i procent af alle borgere "
    "med hele landets fordeling som kontur, så man kan se, om området er ældre eller yngre end "
    "landet."
)


def write(sheet: Sheet, ctx: Context) -> None:
    sheet.layout({1: 24, 2: 40, 3: 60, 4: 10, 5: 12})
    sheet.title(f"Om data – {ctx.pack.area_name}")
    sheet.ws.freeze_panes = "A4"
    row = _indicators(sheet, ctx, 4)
    threshold = int(ctx.pack.suppression_threshold)
    texts = (
        SOURCES_TEXT_DA,
        disclosure_text_da(threshold),
        COMPARISON_TEXT_DA,
        AGE_BANDS_TEXT_DA,
        PEERS_METHOD_DA,
        DATA_SHEET_TEXT_DA,
        build_text_da(ctx.pack.code_version, ctx.pack.built_at),
    )
    for text in texts:
        sheet.keep(row, sheet.paragraph_height(text, 1, LAST))
        sheet.paragraph(row, text, 1, LAST)
        row += 2


def _indicators(sheet: Sheet, ctx: Context, row: int) -> int:
    """A themed title row and the fields of each indicator; returns the next free row."""
    sheet.heading(row, "Indikatorerne")
    row += 1
    for ind in ctx.catalogue.itertuples():
        fields = _fields(ind)
        sheet.keep(row, 15 + sum(sheet.paragraph_height(t, 2, LAST) for _, t in fields))
        sheet.put(row, 1, str(ind.theme), "dp_theme")
        sheet.link(
            row, 2, as_text(ind.title_da), ctx.sheet_names[ind.indicator_id], "dp_theme_link"
        )
        for col in range(3, LAST + 1):
            sheet.put(row, col, None, "dp_theme")
        row += 1
        for label, text in fields:
            sheet.paragraph(row, text, 2, LAST, label=label)
            row += 1
        row += 1
    return row


def _fields(ind: Any) -> list[tuple[str, str]]:
    disclosure = DISCLOSURE_RULE_DA.get(str(ind.disclosure), "")
    denominator = _measure_text(ind.denominator_measure, ind.denominator_min_age)
    return [
        ("Definition", as_text(ind.definition_da)),
        ("Tæller", _measure_text(ind.numerator_measure, ind.numerator_min_age)),
        ("Nævner", _denominator_text(ind.denominator_measure, denominator)),
        ("Metode", method_text(ind)),
        ("Usikkerhed", interval_text(ind)),
        ("Enhed", as_text(ind.unit_da)),
        ("Retning", polarity_text(ind)),
        ("Kilde", as_text(ind.source_da)),
        ("Forbehold", as_text(ind.caveats_da) or "Ingen særlige."),
        ("Diskretion", f"{disclosure} {as_text(ind.disclosure_note_da)}".strip()),
    ]


def _denominator_text(measure: Any, named: str) -> str:
    """The denominator's name, and for a population basis why that basis was chosen."""
    if not named:
        return "Ingen (optælling)"
    basis = POPULATION_MEASURES.get(str(measure))
    return f"{named}. {basis.basis_da}" if basis else named


def source_file_da(path: str) -> str:
    """A source file as the pack shows it: its path under the raw folder ('data/raw/'), never
    the server's absolute path; just the file name when the raw folder cannot be told."""
    text = path.replace("\\", "/")
    if not _ABSOLUTE.match(text):
        return text
    parts = PurePosixPath(re.sub(r"^[A-Za-z]:", "", text)).parts
    raw = max((i for i, part in enumerate(parts[:-1]) if part == "raw"), default=None)
    kept = parts[raw + 1 :] if raw is not None else parts[-1:]
    return "/".join(kept)


# '/srv/…', '//server/…' or 'C:/…' (after backslashes became slashes).
_ABSOLUTE = re.compile(r"^(?:/|[A-Za-z]:)")


def _measure_text(measure: Any, min_age: Any) -> str:
    """'folketal (65 år og derover)': what a numerator or denominator counts, in Danish."""
    if not as_text(measure):
        return ""
    name = MEASURE_NAMES_DA.get(str(measure), UNNAMED_MEASURE_DA)
    age = "alle aldre" if is_missing(min_age) else f"{int(min_age)} år og derover"
    return f"{name} ({age})"
