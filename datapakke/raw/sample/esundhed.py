"""The Sundhedsdatastyrelsen (eSundhed) extracts of the sample: elderly medical patients,
chronic disease (RUKS) and COPD admissions, psychiatry and hospital activity, each with the
layout quirks of the real downloads (wide Excel sheets, '<5', fill-down blanks, BOM/CRLF/LF)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datapakke.atomic import write_bytes
from datapakke.raw.sample import GENERATOR, NOTICE_DA
from datapakke.raw.sample.formats import (
    FileRecord,
    count_small,
    csv_bytes,
    long_frame,
    masked_small,
    thousands,
)
from datapakke.raw.sample.model import (
    ACTIVITY_MODELS,
    ACTIVITY_YEARS,
    ACUTE_MEDICAL,
    COPD_ADMISSIONS,
    COPD_ADMISSIONS_PER_PATIENT,
    DISCHARGE_READY,
    DISCHARGE_READY_DAYS_SHAPE,
    DISCHARGES_PER_ACUTE_ADMISSION,
    DISEASE_MODELS,
    ELDER,
    PREVALENCE,
    PREVENTABLE,
    PSYCH_ACUTE,
    PSYCH_CONTACT,
    PSYCH_DISCHARGES_PER_ACUTE_ADMISSION,
    PSYCH_READMISSION_SHARE,
    READMISSION_SD,
    READMISSION_SHARE,
    REHABILITATION,
    YEARS,
)
from datapakke.raw.sample.world import World, binomial, poisson, stream
from datapakke.raw.sample.xlsx import Sheet, xlsx_bytes

SEX_NAMES = ("Mænd", "Kvinder")
ELDER_INDICATORS = {
    "preventable_admissions": "Forebyggelige indlæggelser",
    "acute_medical_admissions": "Akutte medicinske indlæggelser",
    "medical_discharges": "Udskrivninger",
    "readmissions_30d": "Genindlæggelser inden for 30 dage",
    "discharge_ready_bed_days": "Færdigbehandlingsdage",
    "rehabilitation_courses": "Genoptræningsforløb",
}
DISEASES = {
    "diabetes2": "Type 2-diabetes",
    "copd": "KOL",
    "dementia": "Demens",
    "rheumatoid_arthritis": "Leddegigt",
    "osteoporosis": "Knogleskørhed",
    "asthma": "Astma",
}
PSYCH_INDICATORS = {
    "psychiatric_contact_persons": "Personer i kontakt med psykiatrien",
    "psychiatric_acute_admissions": "Akutte psykiatriske indlæggelser",
    "psychiatric_discharges": "Psykiatriske udskrivninger",
    "psychiatric_readmissions_30d": "Psykiatriske genindlæggelser inden for 30 dage",
}
CONTACT_TYPES = {
    "somatic_admissions": "Somatiske indlæggelser",
    "outpatient_visits": "Ambulante besøg",
    "emergency_visits": "Skadestuebesøg",
}


# ------------------------------------------------------------------------------- ældre
def elder_counts(world: World) -> dict[str, np.ndarray]:
    """The six 'ældre' indicators, (m, s, band 65+, y); readmissions drawn from discharges."""
    rng = stream("file:aeldre")
    years = list(YEARS)
    elder = slice(ELDER, None)
    counts = {
        "preventable_admissions": poisson(rng, world.expected(PREVENTABLE, years, elder)),
        "acute_medical_admissions": poisson(rng, world.expected(ACUTE_MEDICAL, years, elder)),
    }
    discharges = poisson(
        rng,
        world.expected(ACUTE_MEDICAL, years, elder) * DISCHARGES_PER_ACUTE_ADMISSION,
    )
    effect = np.exp(
        READMISSION_SD * stream("effect:readmissions").standard_normal(len(world.codes))
    )
    share = np.asarray(READMISSION_SHARE)[None, None, :, None] * effect[:, None, None, None]
    counts["medical_discharges"] = discharges
    counts["readmissions_30d"] = binomial(rng, discharges, share)
    days = world.expected(DISCHARGE_READY, years, elder)
    days *= rng.gamma(DISCHARGE_READY_DAYS_SHAPE, 1 / DISCHARGE_READY_DAYS_SHAPE, days.shape)
    counts["discharge_ready_bed_days"] = poisson(rng, days)
    counts["rehabilitation_courses"] = poisson(rng, world.expected(REHABILITATION, years, elder))
    return {measure: counts[measure] for measure in ELDER_INDICATORS}


def write_aeldre(world: World, out: Path) -> FileRecord:
    """eSundhed-like wide sheet: years as columns, Kommune only on a block's first row, '<5'."""
    counts = elder_counts(world)
    age_labels = [f"{band} år" for band in world.bands[ELDER:-1]] + ["90 år og derover"]
    rows: list[list[object]] = []
    for m, kommune in enumerate(world.padded):
        first = True
        for measure, indicator in ELDER_INDICATORS.items():
            for s, sex in enumerate(SEX_NAMES):
                for b, age in enumerate(age_labels):
                    values = [masked_small(int(v)) for v in counts[measure][m, s, b]]
                    rows.append([kommune if first else None, sex, age, indicator, *values])
                    first = False
    sheet = Sheet(
        "Data",
        ["Sundhedsdatastyrelsen – Ældre medicinske patienter", NOTICE_DA, ""],
        ["Kommune", "Køn", "Aldersgruppe", "Indikator", *[str(y) for y in YEARS]],
        rows,
        notes=[
            "Kilde: Sundhedsdatastyrelsen, Landspatientregisteret og Genoptræningsdatabasen "
            f"(syntetisk udtræk genereret af {GENERATOR}).",
            "<5: færre end 5 personer eller hændelser; tallet vises ikke af diskretionshensyn.",
        ],
        widths={"A": 24, "B": 9, "C": 18, "D": 34},
    )
    write_bytes(out / "esundhed/aeldre.xlsx", xlsx_bytes([sheet], "Ældre medicinske patienter"))
    small = sum(count_small(c) for c in counts.values())
    return FileRecord(
        "esundhed/aeldre.xlsx",
        len(rows),
        "eSundhed Excel: sheet 'Data', 3 title rows, header row 4, years as columns (wide), "
        "Kommune '0101 København' only on a block's first row (fill down), counts 1-4 as '<5', "
        "notes below the table",
        tuple(ELDER_INDICATORS),
        small,
    )


# ----------------------------------------------------------------------------- kronisk
_KRONISK_NOTE = f"Kilde: Sundhedsdatastyrelsen (syntetisk udtræk genereret af {GENERATOR})."


def prevalence_counts(world: World) -> dict[str, np.ndarray]:
    """Persons with each disease on 1 January, (m, s, b, y) over all 19 bands."""
    rng = stream("file:kronisk:RUKS")
    years = list(YEARS)
    pop = world.yearly_population(years)
    return {
        disease: binomial(rng, pop, world.expected(model, years) / np.maximum(pop, 1))
        for disease, model in DISEASE_MODELS.items()
    }


def first_band(disease: str) -> int:
    """The youngest band RUKS lists a disease for (the first with a prevalence above zero)."""
    return int(np.flatnonzero(np.asarray(PREVALENCE[disease]) > 0)[0])


def ruks_sheet(world: World, prevalence: dict[str, np.ndarray]) -> Sheet:
    """Prevalence with years as columns, from the disease's first band on."""
    rows: list[list[object]] = []
    for m, (code, name) in enumerate(zip(world.codes, world.names, strict=True)):
        for s, sex in enumerate(SEX_NAMES):
            for disease, label in DISEASES.items():
                for b in range(first_band(disease), len(world.bands)):
                    values = [int(v) for v in prevalence[disease][m, s, b, :]]
                    rows.append([code.zfill(4), name, sex, world.bands[b], label, *values])
    return Sheet(
        "RUKS",
        [
            "Register for Udvalgte Kroniske Sygdomme (RUKS): personer med sygdommen "
            "pr. 1. januar. " + NOTICE_DA,
            "",
        ],
        ["Kommunekode", "Kommunenavn", "Køn", "Alder", "Sygdom", *(str(y) for y in YEARS)],
        rows,
        notes=[_KRONISK_NOTE],
        widths={"A": 13, "B": 20, "F": 16, "G": 15},
    )


def copd_admissions(world: World, copd_patients: np.ndarray) -> np.ndarray:
    """Admissions with COPD, (m, s, y), drawn from the persons with COPD."""
    expected = (
        copd_patients.sum(axis=2)  # (m, s, y)
        * COPD_ADMISSIONS_PER_PATIENT
        * world.effect(COPD_ADMISSIONS)[:, None, None]
        * COPD_ADMISSIONS.time_factors(list(YEARS))
    )
    return poisson(stream("file:kronisk:KOL"), expected)


def kol_sheet(world: World, admissions: np.ndarray) -> Sheet:
    rows: list[list[object]] = [
        [kommune, year, sex, int(admissions[m, s, y])]
        for m, kommune in enumerate(world.padded)
        for y, year in enumerate(YEARS)
        for s, sex in enumerate(SEX_NAMES)
    ]
    return Sheet(
        "KOL-indlæggelser",
        ["Sundhedsdatastyrelsen – Indlæggelser med KOL", NOTICE_DA, ""],
        ["Kommune", "År", "Køn", "Antal indlæggelser"],
        rows,
        notes=[_KRONISK_NOTE],
        widths={"A": 24, "D": 19},
    )


def write_kronisk(world: World, out: Path) -> FileRecord:
    """Two sheets: RUKS prevalence (years as columns) and COPD admissions (long)."""
    prevalence = prevalence_counts(world)
    admissions = copd_admissions(world, prevalence["copd"])
    ruks, kol = ruks_sheet(world, prevalence), kol_sheet(world, admissions)
    write_bytes(out / "esundhed/kronisk.xlsx", xlsx_bytes([ruks, kol], "Kronisk sygdom"))
    written = [prevalence[d][:, :, first_band(d) :] for d in DISEASES]
    return FileRecord(
        "esundhed/kronisk.xlsx",
        len(ruks.rows) + len(kol.rows),
        "eSundhed Excel, two sheets: 'RUKS' (1 title row + blank, header row 3, years as columns, "
        "Kommunekode '0101') and 'KOL-indlæggelser' (3 title rows, header row 4, "
        "Kommune '0101 København'); notes below each table",
        (*(f"prevalence_{d}" for d in DISEASES), "copd_admissions"),
        sum(count_small(p) for p in written) + count_small(admissions),
        sheets={ruks.name: len(ruks.rows), kol.name: len(kol.rows)},
    )


# ------------------------------------------------------------------- psykiatri, aktivitet
def write_psykiatri(world: World, out: Path) -> FileRecord:
    """Psychiatry by municipality x year x sex; exact counts (disclosure control is ours to do)."""
    rng = stream("file:psykiatri")
    years = list(YEARS)
    pop = world.yearly_population(years)
    contact = binomial(rng, pop, world.expected(PSYCH_CONTACT, years) / np.maximum(pop, 1))
    acute_expected = world.expected(PSYCH_ACUTE, years)
    acute = poisson(rng, acute_expected)
    discharges = poisson(rng, acute_expected * PSYCH_DISCHARGES_PER_ACUTE_ADMISSION)
    readmissions = binomial(rng, discharges, np.full(discharges.shape, PSYCH_READMISSION_SHARE))
    values = np.stack(
        [a.sum(axis=2) for a in (contact, acute, discharges, readmissions)], axis=2
    )  # (m, s, indicator, y) → written as (m, y, s, indicator)
    values = values.transpose(0, 3, 1, 2)
    frame = long_frame(
        values,
        [
            ("Kommunekode", world.codes),
            ("År", [str(y) for y in years]),
            ("Køn", SEX_NAMES),
            ("Indikator", list(PSYCH_INDICATORS.values())),
        ],
        "Antal",
    )
    names = dict(zip(world.codes, world.names, strict=True))
    frame.insert(1, "Kommune", frame["Kommunekode"].map(names))
    write_bytes(out / "esundhed/psykiatri.csv", csv_bytes(frame, line_end="\n"))
    return FileRecord(
        "esundhed/psykiatri.csv",
        len(frame),
        "eSundhed CSV: UTF-8 without BOM, ';', LF, long, exact counts",
        tuple(PSYCH_INDICATORS),
        count_small(values),
    )


def write_aktivitet(world: World, out: Path) -> FileRecord:
    """Hospital activity by band (LPR3, 2019-): BOM, CRLF, '.' as thousands separator."""
    rng = stream("file:aktivitet")
    years = list(ACTIVITY_YEARS)
    counts = np.stack(
        [poisson(rng, world.expected(model, years)) for model in ACTIVITY_MODELS.values()], axis=0
    )  # (type, m, s, b, y) → written as (m, y, s, b, type)
    values = counts.transpose(1, 4, 2, 3, 0)
    frame = long_frame(
        values,
        [
            ("Kommunekode", world.codes),
            ("År", [str(y) for y in years]),
            ("Køn", SEX_NAMES),
            ("Aldersgruppe", world.bands),
            ("Kontakttype", list(CONTACT_TYPES.values())),
        ],
        "Antal",
    )
    frame["Antal"] = [thousands(int(v)) for v in frame["Antal"]]
    write_bytes(out / "esundhed/aktivitet.csv", csv_bytes(frame, bom=True))
    return FileRecord(
        "esundhed/aktivitet.csv",
        len(frame),
        "eSundhed CSV: UTF-8 with BOM, ';', CRLF, long, '.' as thousands separator",
        tuple(CONTACT_TYPES),
        count_small(values),
    )
