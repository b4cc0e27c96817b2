"""The embedded synthetic sample: real municipality codes and names, invented numbers, real formats.

Why it exists: the whole pipeline (readers, validation, disclosure control, packs) must run end to
end without access to restricted data, and it must meet the same quirks real extracts have (BOMs,
CRLF, cp1252, decimal commas, thousands separators, wide Excel sheets with title rows, ``<5`` and
``..`` markers, aggregate rows, name variants). Every number here is drawn from a simple model
whose assumptions are the constants below; none of it is real and it must never be used for
decisions (MANIFEST.json, README.md and the Excel title rows say so).

Deterministic: one seed, one independent child stream of it per file (and per shared model
part), no clock anywhere, so a rerun is byte-identical and the test suite can check that the
committed sample never drifts from this generator. The Excel files are written directly as a
minimal SpreadsheetML package (fixed document times, zip entry times, order and compression);
openpyxl was ~20 s for kronisk.xlsx and stamps "now" into every file. The bytes of deflated zip
entries depend on zlib: a different zlib build could compress differently (then the determinism
test says so and ``make sample`` regenerates).

Run: ``python -m datapakke.raw.sample [--out DIR]`` (default: ``data/raw/sample``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from datapakke.config import REFERENCE_DIR, get_settings

# ----------------------------------------------------------------------------------- identity
SEED = 20260101
GENERATOR = "datapakke.raw.sample"
NOTICE_DA = (
    "SYNTETISKE DATA – kommunekoder og -navne er rigtige, men alle tal er opdigtede. "
    "Må ikke bruges til beslutninger."
)
NOTICE_EN = (
    "SYNTHETIC DATA – municipality codes and names are real, but every number is invented. "
    "Must not be used for decisions."
)
#: Document times written into the Excel files and their zip entries (never "now").
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)

# ------------------------------------------------------------------------------------ periods
YEARS = tuple(range(2015, 2026))
ACTIVITY_YEARS = tuple(range(2019, 2026))  # LPR3 from 2019
HOME_NURSING_YEARS = tuple(range(2016, 2026))
SURVEY_YEARS = (2013, 2017, 2021, 2023)
QUARTERS = tuple(f"{y}K{q}" for y in YEARS for q in range(1, 5))
BASE_YEAR = 2024  # approx_population_2024 is the 1 January 2024 population; trends pivot here

# --------------------------------------------------------------------------- population model
# Age bands follow esp2013.csv (19 bands '0-4' ... '90+'); every per-band tuple has 19 values,
# except the "ældre" ones, which cover the six bands 65-69 ... 90+.
# fmt: off
#: National age distribution around 2024 (% of population, normalised on use): 65+ ~20 %.
NATIONAL_AGE_SHARE = (
    5.3, 5.5, 5.8, 5.9, 6.4, 6.9, 6.6, 6.1, 5.9, 6.6, 7.0, 6.9, 6.3, 5.7, 5.3, 4.8, 2.9, 1.5, 0.7,
)
#: Share of men per band (women outlive men: a quarter of the 90+ are men).
MALE_SHARE = (
    0.513, 0.513, 0.513, 0.514, 0.51, 0.51, 0.505, 0.5, 0.5, 0.5, 0.5, 0.5, 0.497, 0.49, 0.48,
    0.465, 0.44, 0.39, 0.29,
)
#: Annual log growth per band: the large post-war cohorts move into 75-84 (population ageing:
#: the 80+ share rises from ~4.4 % in 2015 to ~5.3 % in 2025), while 40-49 and teens shrink.
BAND_GROWTH = (
    0.005, -0.005, -0.005, -0.005, 0.0, 0.015, 0.015, 0.01, -0.01, -0.015, 0.0, 0.01, 0.01,
    -0.005, 0.01, 0.04, 0.035, 0.015, 0.015,
)
# fmt: on
#: How strongly a municipality's "oldness" score (standardised, clipped to +-2.5) tilts its age
#: profile (log scale per 25 years of age); the tilted profiles are then raked so the country
#: keeps NATIONAL_AGE_SHARE (65+ share ~12 % in København, ~34 % on Læsø, ~20 % nationally).
AGE_TILT = 0.15
OLDNESS_CLIP = 2.5
RAKING_ROUNDS = 25
#: Student cities: extra young adults (bands 20-24, 25-29, 30-34).
STUDENT_CITIES = ("101", "147", "461", "751", "851")
STUDENT_BOOST = {4: 1.6, 5: 1.6, 6: 1.3}
#: Islands and peripheral municipalities: older, shrinking, more chronic illness.
OLD_MUNICIPALITIES = (
    "825", "563", "741", "492", "482", "400", "360", "306", "390", "376", "665", "773", "787",
    "707", "813", "336", "270", "260", "223", "550",
)  # fmt: skip
#: Young suburbs and growth towns.
YOUNG_MUNICIPALITIES = ("101", "147", "751", "461", "851", "183", "165", "153", "530", "187")
#: Municipal population growth per year: +0.4 % on average, less where older.
MUNICIPAL_GROWTH, MUNICIPAL_GROWTH_OLDNESS = 0.004, -0.004
CELL_SD = 0.04  # fixed irregularity of each municipality x sex x band cell (log scale)
QUARTER_SD = 0.002  # quarter-to-quarter jitter (log scale)

# --------------------------------------------------------------------------------- event rates
# fmt: off
#: Mortality per person-year (men x1.16, women x0.83): ~51,000 deaths in 2015, ~57,000 in 2024.
DEATH_RATE = (
    0.0007, 0.00006, 0.00008, 0.0002, 0.0003, 0.0004, 0.0005, 0.0007, 0.0011, 0.0018, 0.0029,
    0.0047, 0.0076, 0.012, 0.02, 0.034, 0.062, 0.12, 0.26,
)
#: Hospital contacts per person-year by band (LPR3-like): ~0.95 M somatic admissions, ~11 M
#: outpatient visits and ~0.95 M emergency visits a year.
SOMATIC_ADMISSION_RATE = (
    0.22, 0.06, 0.05, 0.07, 0.08, 0.1, 0.12, 0.11, 0.09, 0.1, 0.12, 0.15, 0.19, 0.25, 0.31, 0.39,
    0.48, 0.56, 0.6,
)
OUTPATIENT_VISIT_RATE = (
    0.9, 0.7, 0.8, 1.0, 1.1, 1.3, 1.6, 1.6, 1.5, 1.6, 1.9, 2.2, 2.6, 3.0, 3.4, 3.6, 3.6, 3.2, 2.5,
)
EMERGENCY_VISIT_RATE = (
    0.25, 0.16, 0.17, 0.19, 0.19, 0.16, 0.14, 0.12, 0.11, 0.11, 0.11, 0.11, 0.12, 0.13, 0.15,
    0.18, 0.23, 0.3, 0.36,
)
#: GP consultations per person-year (~6.5 per citizen); phone/e-mail ~0.7 per consultation.
GP_CONSULTATION_RATE = (
    5.5, 2.8, 2.8, 4.0, 5.0, 5.2, 5.6, 5.6, 5.6, 6.0, 6.5, 7.0, 7.8, 8.8, 10.0, 11.0, 12.0, 12.0,
    11.5,
)
GP_EMAIL_PER_CONSULTATION = 0.75
#: Home nursing (HJEMSYG) recipients per person by band (~2.5-3 % of the population).
HOME_NURSING_RATE = (
    0.003, 0.001, 0.001, 0.001, 0.004, 0.004, 0.004, 0.004, 0.004, 0.008, 0.008, 0.015, 0.015,
    0.035, 0.06, 0.11, 0.19, 0.30, 0.45,
)
#: Psychiatry per person-year by band: ~2.5 % in contact, ~0.5 % acutely admitted.
PSYCH_CONTACT_RATE = (
    0.002, 0.012, 0.03, 0.05, 0.05, 0.04, 0.03, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02, 0.012, 0.012,
    0.012, 0.012, 0.012, 0.012,
)
PSYCH_ACUTE_ADMISSION_RATE = (
    0.0, 0.0001, 0.0005, 0.006, 0.009, 0.008, 0.008, 0.007, 0.007, 0.006, 0.006, 0.004, 0.004,
    0.0025, 0.0025, 0.0025, 0.003, 0.003, 0.003,
)
#: RUKS prevalence on 1 January, share of persons by band (0 = band not written for the disease).
#: Overall ~2024: type 2 diabetes ~5.4 %, COPD ~2.9 %, dementia ~1.5 % of the 65+, asthma ~5 %,
#: osteoporosis ~2.5 % (mostly women), rheumatoid arthritis ~0.8 %.
PREVALENCE = {
    "diabetes2": (
        0, 0, 0, 0, 0.0011, 0.0034, 0.0067, 0.0134, 0.0246, 0.0392, 0.0616, 0.0896, 0.1176,
        0.1456, 0.168, 0.1792, 0.1792, 0.1568, 0.1232,
    ),
    "copd": (
        0, 0, 0, 0, 0, 0, 0, 0.0026, 0.0052, 0.0104, 0.0195, 0.0364, 0.0585, 0.0845, 0.1105, 0.13,
        0.1365, 0.1235, 0.0975,
    ),
    "dementia": (
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0003, 0.0005, 0.0013, 0.0026, 0.006, 0.0135, 0.027, 0.047,
        0.064,
    ),
    "rheumatoid_arthritis": (
        0, 0, 0, 0, 0.001, 0.002, 0.003, 0.004, 0.006, 0.008, 0.01, 0.012, 0.015, 0.018, 0.02,
        0.021, 0.02, 0.018, 0.015,
    ),
    "osteoporosis": (
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0.003, 0.007, 0.015, 0.03, 0.05, 0.08, 0.11, 0.14, 0.16, 0.17,
    ),
    "asthma": (
        0.02, 0.05, 0.06, 0.06, 0.055, 0.05, 0.05, 0.05, 0.048, 0.046, 0.045, 0.045, 0.046, 0.048,
        0.05, 0.05, 0.048, 0.045, 0.04,
    ),
}
# fmt: on
ELDER = 13  # index of '65-69': the eSundhed "ældre" file covers the six bands 65-69 ... 90+
#: Home help (AED06) recipients per person, 65-69 ... 90+ (~9 % of the 65+, falling ~2 %/yr).
HOME_HELP_RATE = (0.02, 0.035, 0.07, 0.14, 0.27, 0.45)
#: Elderly medical patients per person-year, 65-69 ... 90+.
PREVENTABLE_ADMISSION_RATE = (0.018, 0.028, 0.045, 0.075, 0.11, 0.14)  # ~45 per 1,000 65+
ACUTE_MEDICAL_ADMISSION_RATE = (0.10, 0.14, 0.20, 0.29, 0.38, 0.45)  # ~190 per 1,000 65+
DISCHARGES_PER_ACUTE_ADMISSION = 1.15
READMISSION_SHARE = (0.10, 0.11, 0.12, 0.13, 0.14, 0.14)  # of discharges: ~12 % overall
READMISSION_SD = 0.1  # municipal variation of the readmission share (lognormal)
DISCHARGE_READY_DAYS_RATE = (0.03, 0.05, 0.09, 0.18, 0.26, 0.30)  # bed days: ~90 per 1,000 65+
DISCHARGE_READY_DAYS_SHAPE = 3.0  # gamma-Poisson overdispersion: a few long stays dominate
REHABILITATION_RATE = (0.06, 0.08, 0.10, 0.13, 0.15, 0.13)  # ~90 courses per 1,000 65+
COPD_ADMISSIONS_PER_PATIENT = 0.12  # admissions per person with COPD a year
PSYCH_DISCHARGES_PER_ACUTE_ADMISSION = 1.4  # planned admissions come on top of acute ones
PSYCH_READMISSION_SHARE = 0.2
#: 2020 (COVID-19 lockdowns), by model key: fewer hospital contacts and GP consultations, more
#: phone/e-mail contacts.
COVID_2020 = {
    "somatic": 0.9, "outpatient": 0.93, "emergency": 0.85, "preventable": 0.9,
    "acute_medical": 0.9, "copd_adm": 0.8, "gp": 0.92, "gp_email": 1.25,
}  # fmt: skip


@dataclass(frozen=True)
class Model:
    """One measure's assumptions: rate by band, sex factors, trend, municipal variation.

    ``sd`` is the lognormal sd of the municipal random effect and ``rho`` its correlation with
    the municipality's oldness score (positive: rural and older municipalities have more, on
    top of what their age structure already gives them).
    """

    key: str
    rate: tuple[float, ...]
    male: float = 1.0
    female: float = 1.0
    trend: float = 0.0  # annual log change (e.g. -0.02 = falling ~2 % a year)
    sd: float = 0.1
    rho: float = 0.0

    def sex_factors(self) -> np.ndarray:
        return np.array([self.male, self.female])

    def time_factors(self, years: Sequence[int]) -> np.ndarray:
        """Trend relative to BASE_YEAR, with the COVID-19 dip (or jump) of 2020."""
        covid = COVID_2020.get(self.key, 1.0)
        return np.array(
            [np.exp(self.trend * (y - BASE_YEAR)) * (covid if y == 2020 else 1.0) for y in years]
        )


# fmt: off
#                    key, rate, male, female, trend, sd, rho
DEATHS = Model("deaths", DEATH_RATE, 1.16, 0.83, -0.015, 0.06, 0.4)
PREVENTABLE = Model("preventable", PREVENTABLE_ADMISSION_RATE, 1.05, 0.95, -0.02, 0.15, 0.4)
ACUTE_MEDICAL = Model("acute_medical", ACUTE_MEDICAL_ADMISSION_RATE, 1.05, 0.95, -0.005, 0.12, 0.3)
DISCHARGE_READY = Model("discharge_ready", DISCHARGE_READY_DAYS_RATE, 1, 1, 0.03, 0.5, 0.0)
REHABILITATION = Model("rehabilitation", REHABILITATION_RATE, 0.85, 1.15, 0.01, 0.12, 0.1)
DISEASE_MODELS = {
    disease: Model(disease, PREVALENCE[disease], *parameters)
    for disease, parameters in {
        #                      male, female, trend, sd, rho
        "diabetes2":            (1.2,  0.8,  0.025, 0.12, 0.5),
        "copd":                 (1.0,  1.0,  0.005, 0.2,  0.6),
        "dementia":             (0.85, 1.15, 0.03,  0.15, 0.3),
        "rheumatoid_arthritis": (0.67, 1.33, 0.01,  0.1,  0.2),
        "osteoporosis":         (0.3,  1.7,  0.03,  0.15, 0.2),
        "asthma":               (0.95, 1.05, 0.015, 0.1,  0.0),
    }.items()
}
ACTIVITY_MODELS = {
    "somatic_admissions": Model("somatic", SOMATIC_ADMISSION_RATE, 1.0, 1.0, -0.005, 0.08, 0.3),
    "outpatient_visits": Model("outpatient", OUTPATIENT_VISIT_RATE, 0.85, 1.15, 0.02, 0.08, 0.1),
    "emergency_visits": Model("emergency", EMERGENCY_VISIT_RATE, 1.1, 0.9, -0.01, 0.15, -0.2),
}
HOME_HELP = Model("home_help", HOME_HELP_RATE, 0.8, 1.1, -0.02, 0.2, 0.2)
HOME_NURSING = Model("home_nursing", HOME_NURSING_RATE, 0.85, 1.1, 0.01, 0.15, 0.2)
GP_CONSULTATIONS = Model("gp", GP_CONSULTATION_RATE, 0.85, 1.15, -0.005, 0.06, 0.2)
GP_EMAIL = Model("gp_email", GP_CONSULTATION_RATE, 0.85, 1.15, 0.04, 0.1, -0.2)
PSYCH_CONTACT = Model("psych_contact", PSYCH_CONTACT_RATE, 0.9, 1.1, 0.02, 0.15, -0.4)
PSYCH_ACUTE = Model("psych_acute", PSYCH_ACUTE_ADMISSION_RATE, 1.1, 0.9, 0.0, 0.2, -0.4)
COPD_ADMISSIONS = Model("copd_adm", (COPD_ADMISSIONS_PER_PATIENT,), 1, 1, -0.015, 0.2, 0.4)
# fmt: on

#: Den Nationale Sundhedsprofil: national % by survey year, municipal sd (logit), rho (oldness).
#: Daily smoking falls, obesity, inactivity and poor mental health rise (as in the real survey).
SURVEY = {
    "Dagligrygning": ({2013: 17.0, 2017: 16.9, 2021: 13.9, 2023: 11.8}, 0.18, 0.6),
    "Højt alkoholindtag": ({2013: 18.5, 2017: 18.8, 2021: 18.0, 2023: 17.2}, 0.12, -0.3),
    "Svær overvægt": ({2013: 15.9, 2017: 16.8, 2021: 18.5, 2023: 18.8}, 0.15, 0.6),
    "Fysisk inaktivitet": ({2013: 21.0, 2017: 23.0, 2021: 26.0, 2023: 25.0}, 0.1, 0.4),
    "Dårligt mentalt helbred": ({2013: 10.0, 2017: 13.2, 2021: 15.6, 2023: 15.9}, 0.12, -0.4),
}
SURVEY_RESPONDENTS_MIN, SURVEY_RESPONDENTS_MAX = 300, 2000  # scaled by sqrt(population)
SURVEY_DESIGN_EFFECT = 1.3
#: Real-world spellings seen in survey exports (the pipeline maps them back).
SURVEY_NAME_VARIANTS = {"169": "Høje Taastrup", "400": "Bornholms Regionskommune", "751": "Århus"}
FOD207_SUPPRESSED_CELLS = 8  # '..' cells written into FOD207 (confidential in DST's terms)

# --------------------------------------------------------------------------------- labels
SEX_CODES = ("1", "2")
SEX_NAMES = ("Mænd", "Kvinder")
DST_REGION_ORDER = ("084", "085", "083", "082", "081")  # the order StatBank lists regions in
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
SURVEY_MEASURES = {
    "Dagligrygning": "survey_smoking_daily",
    "Højt alkoholindtag": "survey_alcohol_high",
    "Svær overvægt": "survey_obesity_severe",
    "Fysisk inaktivitet": "survey_physical_inactivity",
    "Dårligt mentalt helbred": "survey_mental_health_poor",
}


# ====================================================================== randomness and model
def stream(key: str) -> np.random.Generator:
    """An independent child stream of ``default_rng(SEED)``, chosen by name (not call order).

    Keying by name means adding or reordering files never changes the numbers of another file.
    """
    return np.random.default_rng(
        np.random.SeedSequence(SEED, spawn_key=(zlib.crc32(key.encode()),))
    )


def load_bands() -> tuple[str, ...]:
    return tuple(pd.read_csv(REFERENCE_DIR / "esp2013.csv", dtype=str)["age_band"])


def load_municipalities() -> pd.DataFrame:
    """Municipalities in StatBank order: by region (084, 085, 083, 082, 081), then by code."""
    frame = pd.read_csv(REFERENCE_DIR / "municipalities.csv", dtype=str)
    frame["population"] = frame["approx_population_2024"].astype(int)
    frame["region_rank"] = frame["region_code"].map(DST_REGION_ORDER.index)
    frame = frame.sort_values(["region_rank", "municipality_code"], kind="stable")
    return frame.reset_index(drop=True)


@dataclass
class World:
    """The shared model: municipalities, their oldness, population and municipal effects.

    Every file draws its own noise, but all files start from the same population and the same
    municipal effects, so e.g. readmissions follow discharges and deaths follow the age profile.
    """

    municipalities: pd.DataFrame
    bands: tuple[str, ...]
    _effects: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return list(self.municipalities["municipality_code"])

    @property
    def names(self) -> list[str]:
        return list(self.municipalities["municipality_name"])

    @property
    def padded(self) -> list[str]:
        """eSundhed style: '0101 København'."""
        return [f"{c.zfill(4)} {n}" for c, n in zip(self.codes, self.names, strict=True)]

    @cached_property
    def oldness(self) -> np.ndarray:
        """Standardised score: islands and periphery high, student cities and suburbs low."""
        codes = self.municipalities["municipality_code"]
        log_pop = np.log(self.municipalities["population"].to_numpy(float))
        score = (
            1.2 * codes.isin(OLD_MUNICIPALITIES).to_numpy()
            - 1.2 * codes.isin(YOUNG_MUNICIPALITIES).to_numpy()
            - 0.3 * (log_pop - log_pop.mean()) / log_pop.std()
            + 0.5 * stream("model:oldness").standard_normal(len(codes))
        )
        return np.clip((score - score.mean()) / score.std(), -OLDNESS_CLIP, OLDNESS_CLIP)

    @cached_property
    def population(self) -> np.ndarray:
        """Persons at the start of each quarter: (municipality, sex, band, quarter), integers."""
        rng = stream("model:population")
        n_mun, n_band = len(self.municipalities), len(self.bands)
        centres = np.array([int(b.split("-")[0].rstrip("+")) + 2.5 for b in self.bands])
        tilt = np.exp(AGE_TILT * np.outer(self.oldness, (centres - 40) / 25))
        profile = np.asarray(NATIONAL_AGE_SHARE) * tilt
        student = self.municipalities["municipality_code"].isin(STUDENT_CITIES).to_numpy()
        for band, boost in STUDENT_BOOST.items():
            profile[student, band] *= boost
        profile /= profile.sum(axis=1, keepdims=True)
        target = np.asarray(NATIONAL_AGE_SHARE) / sum(NATIONAL_AGE_SHARE)
        weights = self.municipalities["population"].to_numpy(float)[:, None]
        for _ in range(RAKING_ROUNDS):  # so the country as a whole keeps the national profile
            national = (profile * weights).sum(axis=0)
            profile *= target / (national / national.sum())
            profile /= profile.sum(axis=1, keepdims=True)
        base = profile * self.municipalities["population"].to_numpy(float)[:, None]
        male = np.asarray(MALE_SHARE)
        by_sex = np.stack([base * male, base * (1 - male)], axis=1)  # (m, s, b)
        by_sex *= np.exp(CELL_SD * rng.standard_normal(by_sex.shape))
        t = np.array([int(q[:4]) + (int(q[-1]) - 1) / 4 - BASE_YEAR for q in QUARTERS])
        growth = MUNICIPAL_GROWTH + MUNICIPAL_GROWTH_OLDNESS * self.oldness
        log_trend = (
            np.asarray(BAND_GROWTH)[None, None, :, None] * t + growth[:, None, None, None] * t
        )
        jitter = QUARTER_SD * rng.standard_normal((n_mun, 2, n_band, len(QUARTERS)))
        return np.rint(by_sex[..., None] * np.exp(log_trend + jitter)).astype(np.int64)

    def yearly_population(self, years: Sequence[int]) -> np.ndarray:
        """Population on 1 January (first quarter) of each year: (m, s, b, y)."""
        return self.population[..., [QUARTERS.index(f"{y}K1") for y in years]]

    def effect(self, model: Model) -> np.ndarray:
        """Municipal random effect of one measure, shared by every file that uses it: (m,)."""
        if model.key not in self._effects:
            z = stream(f"effect:{model.key}").standard_normal(len(self.municipalities))
            mixed = model.rho * self.oldness + np.sqrt(1 - model.rho**2) * z
            self._effects[model.key] = np.exp(model.sd * mixed - model.sd**2 / 2)
        return self._effects[model.key]

    def expected(
        self, model: Model, years: Sequence[int], bands: slice = slice(None)
    ) -> np.ndarray:
        """Expected events or persons: population x rate x sex x municipality x trend, (m,s,b,y)."""
        pop = self.yearly_population(years)[:, :, bands, :].astype(float)
        rate = np.asarray(model.rate)[None, None, :, None]
        sex = model.sex_factors()[None, :, None, None]
        municipal = self.effect(model)[:, None, None, None]
        trend = model.time_factors(years)
        return pop * rate * sex * municipal * trend


def poisson(rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
    return rng.poisson(np.maximum(expected, 0.0)).astype(np.int64)


def binomial(rng: np.random.Generator, trials: np.ndarray, p: np.ndarray) -> np.ndarray:
    return rng.binomial(trials, np.clip(p, 0.0, 1.0)).astype(np.int64)


# ================================================================================ writers
@dataclass(frozen=True)
class FileRecord:
    """What the manifest says about one generated file."""

    path: str
    rows: int
    format: str
    measures: tuple[str, ...]
    small_cells: int  # counts 1-4 (or '<5' markers) among the value cells
    sheets: dict[str, int] | None = None


def atomic_write(path: Path, data: bytes) -> None:
    """Write a hidden temp file in the same folder, then rename: no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_bytes(data)
    os.replace(temp, path)


def long_frame(
    values: np.ndarray, dims: Sequence[tuple[str, Sequence[str]]], value: str
) -> pd.DataFrame:
    """An n-d array and its labelled axes → a long table (first axis varies slowest)."""
    shape = tuple(len(labels) for _, labels in dims)
    if values.shape != shape:
        raise ValueError(f"values have shape {values.shape}, labels {shape}")
    index = np.indices(shape).reshape(len(shape), -1)
    data = {
        name: np.asarray(labels, dtype=object)[index[i]] for i, (name, labels) in enumerate(dims)
    }
    data[value] = values.reshape(-1)
    return pd.DataFrame(data)


def csv_bytes(
    frame: pd.DataFrame,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    line_end: str = "\r\n",
    title: str | None = None,
) -> bytes:
    """A ';'-separated file as the publisher writes it (encoding, BOM, line ends, title line)."""
    text = frame.to_csv(sep=";", index=False, lineterminator=line_end)
    if title is not None:
        text = title + line_end + text
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def count_small(values: np.ndarray) -> int:
    """Cells holding 1-4: the ones disclosure control must hide (reported in the manifest)."""
    return int(((values >= 1) & (values <= 4)).sum())


def thousands(value: int) -> str:
    """Danish thousands separator: 12345 → '12.345'."""
    return f"{value:,}".replace(",", ".")


def masked_small(value: int) -> int | str:
    """eSundhed hides counts 1-4 as '<5'."""
    return "<5" if 1 <= value <= 4 else int(value)


@dataclass
class Sheet:
    """One worksheet: title rows (bold), a header row (bold), data rows and notes below."""

    name: str
    titles: list[str]
    header: list[str]
    rows: list[list[object]]
    notes: list[str] = field(default_factory=list)
    widths: dict[str, float] = field(default_factory=dict)

    def all_rows(self) -> list[tuple[list[object], bool]]:
        """(cells, bold) in sheet order; a blank row separates the table from its notes."""
        rows = [([t] if t else [], True) for t in self.titles] + [(self.header, True)]
        rows += [(r, False) for r in self.rows]
        if self.notes:
            rows += [([], False)] + [([n], False) for n in self.notes]
        return rows


# A minimal SpreadsheetML package written directly: openpyxl needs ~20 s for the 1.2 million
# cells of kronisk.xlsx and stamps the clock into the file; this takes about a second and every
# byte (document times, zip entry times and order) is fixed. openpyxl and pandas read it.
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STYLES = (
    f'<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_xml(sheet: Sheet, strings: dict[str, int], counter: list[int]) -> str:
    """One worksheet's XML; text goes to the shared-string table ``strings`` (first-use order)."""
    rows = sheet.all_rows()
    width = max(len(cells) for cells, _ in rows)
    letters = [_column_letter(i) for i in range(width)]
    out = [
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:{letters[-1]}{len(rows)}"/>'
    ]
    if sheet.widths:
        out.append("<cols>")
        for column, size in sorted(sheet.widths.items(), key=lambda kv: letters.index(kv[0])):
            n = letters.index(column) + 1
            out.append(f'<col min="{n}" max="{n}" width="{size}" customWidth="1"/>')
        out.append("</cols>")
    out.append("<sheetData>")
    for r, (cells, bold) in enumerate(rows, start=1):
        style = ' s="1"' if bold else ""
        out.append(f'<row r="{r}">')
        for letter, value in zip(letters, cells, strict=False):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                index = strings.setdefault(value, len(strings))
                counter[0] += 1
                out.append(f'<c r="{letter}{r}"{style} t="s"><v>{index}</v></c>')
            else:
                out.append(f'<c r="{letter}{r}"{style}><v>{value}</v></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def xlsx_bytes(sheets: Sequence[Sheet], title: str) -> bytes:
    """An .xlsx whose bytes depend only on its content (no clock, fixed zip metadata)."""
    strings: dict[str, int] = {}
    counter = [0]
    parts = {
        f"xl/worksheets/sheet{i}.xml": _sheet_xml(sheet, strings, counter)
        for i, sheet in enumerate(sheets, start=1)
    }
    n = len(sheets)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    overrides = [("/xl/workbook.xml", f"{_CT}.sheet.main+xml")]
    overrides += [(f"/{name}", f"{_CT}.worksheet+xml") for name in parts]
    overrides += [
        ("/xl/styles.xml", f"{_CT}.styles+xml"),
        ("/xl/sharedStrings.xml", f"{_CT}.sharedStrings+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        (
            "/docProps/app.xml",
            "application/vnd.openxmlformats-officedocument.extended-properties+xml",
        ),
    ]
    workbook_rels = [(f"rId{i}", "worksheet", f"worksheets/sheet{i}.xml") for i in range(1, n + 1)]
    workbook_rels += [
        (f"rId{n + 1}", "styles", "styles.xml"),
        (f"rId{n + 2}", "sharedStrings", "sharedStrings.xml"),
    ]
    entries = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'extended-properties"><Application>{GENERATOR}</Application></Properties>'
        ),
        "docProps/core.xml": (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(title)}</dc:title><dc:description>{escape(NOTICE_DA)}</dc:description>"
            f"<dc:creator>{GENERATOR}</dc:creator><cp:lastModifiedBy>{GENERATOR}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
            + "".join(
                f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, s in enumerate(sheets, start=1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG_REL_NS}">'
            + "".join(
                f'<Relationship Id="{rid}" Type="{_REL_NS}/{kind}" Target="{target}"/>'
                for rid, kind, target in workbook_rels
            )
            + "</Relationships>"
        ),
        "xl/styles.xml": _STYLES,
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{_MAIN_NS}" count="{counter[0]}" uniqueCount="{len(strings)}">'
            + "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in strings)
            + "</sst>"
        ),
        **parts,
    }
    return zip_bytes(
        {
            name: (text if text.startswith("<?xml") else _XML_HEAD + text).encode("utf-8")
            for name, text in entries.items()
        }
    )


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip with entries in the given order, fixed times and attributes, deflated at level 6."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, payload in entries.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload, compresslevel=6)
    return out.getvalue()


# ============================================================================ StatBank files
def areas_with_aggregates(world: World, values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Prepend StatBank's aggregate rows ('000' Hele landet, region codes) as sums, DST order."""
    regions = world.municipalities["region_code"].to_numpy()
    codes: list[str] = ["000"]
    blocks = [values.sum(axis=0, keepdims=True)]
    for region in DST_REGION_ORDER:
        members = regions == region
        codes += [region, *np.asarray(world.codes)[members]]
        blocks += [values[members].sum(axis=0, keepdims=True), values[members]]
    return codes, np.concatenate(blocks)


def write_folk1a(world: World, out: Path) -> FileRecord:
    """FOLK1A in the API's BULK format: no BOM, ';', CRLF, codes, with aggregate rows."""
    codes, values = areas_with_aggregates(world, world.population)
    frame = long_frame(
        values,
        [("OMRÅDE", codes), ("KØN", SEX_CODES), ("ALDER", world.bands), ("TID", QUARTERS)],
        "INDHOLD",
    )
    frame.insert(3, "CIVILSTAND", "TOT")
    atomic_write(out / "statbank/FOLK1A.csv", csv_bytes(frame))
    return FileRecord(
        "statbank/FOLK1A.csv",
        len(frame),
        "StatBank BULK: UTF-8 without BOM, ';', CRLF, codes; ALDER in 5-year bands (the real "
        "table has single years); OMRÅDE includes 000 and region aggregates",
        ("population",),
        count_small(world.population),
    )


def write_fod207(world: World, out: Path) -> FileRecord:
    """FOD207 (deaths by area, age, sex) in the API's CSV format (BOM), a few cells '..'."""
    rng = stream("file:FOD207")
    years = list(YEARS)
    deaths = poisson(rng, world.expected(DEATHS, years))
    codes, values = areas_with_aggregates(world, deaths)
    frame = long_frame(
        values,
        [
            ("OMRÅDE", codes),
            ("KØN", SEX_CODES),
            ("ALDER", world.bands),
            ("TID", [str(y) for y in years]),
        ],
        "INDHOLD",
    )
    # FOD207 codes sex as M/K and lists ALDER before KØN.
    frame["KØN"] = frame["KØN"].map({"1": "M", "2": "K"})
    frame = frame[["OMRÅDE", "ALDER", "KØN", "TID", "INDHOLD"]]
    frame["INDHOLD"] = frame["INDHOLD"].astype(str).astype(object)
    municipal_small = frame.index[
        ~frame["OMRÅDE"].isin(["000", *DST_REGION_ORDER]) & frame["INDHOLD"].isin(["1", "2"])
    ]
    hidden = rng.choice(municipal_small, size=FOD207_SUPPRESSED_CELLS, replace=False)
    frame.loc[np.sort(hidden), "INDHOLD"] = ".."
    atomic_write(out / "statbank/FOD207.csv", csv_bytes(frame, bom=True))
    return FileRecord(
        "statbank/FOD207.csv",
        len(frame),
        "StatBank CSV: UTF-8 with BOM, ';', CRLF, codes; '..' = confidential; OMRÅDE includes "
        "000 and region aggregates",
        ("deaths",),
        count_small(deaths) - FOD207_SUPPRESSED_CELLS,
    )


def write_aed06(world: World, out: Path) -> FileRecord:
    """AED06 with labels (valuePresentation=Default, lang=da): names, '65 år og derover'."""
    rng = stream("file:AED06")
    years = list(YEARS)
    pop = world.yearly_population(years)[:, :, ELDER:, :]
    recipients = binomial(
        rng, pop, world.expected(HOME_HELP, years, slice(ELDER, None)) / np.maximum(pop, 1)
    )
    values = recipients.sum(axis=(1, 2))  # (m, y)
    frame = long_frame(
        values, [("OMRÅDE", world.names), ("TID", [str(y) for y in years])], "INDHOLD"
    )
    frame.insert(1, "ALDER", "65 år og derover")
    atomic_write(out / "statbank/AED06.csv", csv_bytes(frame, bom=True))
    return FileRecord(
        "statbank/AED06.csv",
        len(frame),
        "StatBank CSV with labels (lang=da): UTF-8 with BOM, ';', CRLF, municipality names",
        ("home_help_recipients",),
        count_small(values),
    )


def write_hjemsyg(world: World, out: Path) -> FileRecord:
    """HJEMSYG in BULK format: recipients of home nursing by sex, all ages ('IALT')."""
    rng = stream("file:HJEMSYG")
    years = list(HOME_NURSING_YEARS)
    pop = world.yearly_population(years)
    recipients = binomial(rng, pop, world.expected(HOME_NURSING, years) / np.maximum(pop, 1))
    values = recipients.sum(axis=2)  # (m, s, y)
    frame = long_frame(
        values,
        [("OMRÅDE", world.codes), ("KØN", SEX_CODES), ("TID", [str(y) for y in years])],
        "INDHOLD",
    )
    frame.insert(2, "ALDER", "IALT")
    atomic_write(out / "statbank/HJEMSYG.csv", csv_bytes(frame))
    return FileRecord(
        "statbank/HJEMSYG.csv",
        len(frame),
        "StatBank BULK: UTF-8 without BOM, ';', CRLF, codes",
        ("home_nursing_recipients",),
        count_small(values),
    )


def write_sygk1(world: World, out: Path) -> FileRecord:
    """SYGK1 (CSV, BOM, codes): GP consultations (YDELSE 1) and phone/e-mail contacts (2)."""
    rng = stream("file:SYGK1")
    years = list(YEARS)
    consultations = poisson(rng, world.expected(GP_CONSULTATIONS, years)).sum(axis=(1, 2))
    email = poisson(rng, world.expected(GP_EMAIL, years) * GP_EMAIL_PER_CONSULTATION).sum(
        axis=(1, 2)
    )
    values = np.stack([consultations, email], axis=1)  # (m, ydelse, y)
    frame = long_frame(
        values,
        [("OMRÅDE", world.codes), ("YDELSE", ["1", "2"]), ("TID", [str(y) for y in years])],
        "INDHOLD",
    )
    frame.insert(2, "ALDER", "TOT")
    frame.insert(3, "KØN", "TOT")
    atomic_write(out / "statbank/SYGK1.csv", csv_bytes(frame, bom=True))
    return FileRecord(
        "statbank/SYGK1.csv",
        len(frame),
        "StatBank CSV: UTF-8 with BOM, ';', CRLF, codes; YDELSE 1 = consultations (used), "
        "2 = phone/e-mail (filtered out by the registry)",
        ("gp_contacts",),
        0,
    )


# ============================================================================ eSundhed files
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
            "(syntetisk udtræk genereret af datapakke.raw.sample).",
            "<5: færre end 5 personer eller hændelser; tallet vises ikke af diskretionshensyn.",
        ],
        widths={"A": 24, "B": 9, "C": 18, "D": 34},
    )
    atomic_write(out / "esundhed/aeldre.xlsx", xlsx_bytes([sheet], "Ældre medicinske patienter"))
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


def prevalence_counts(world: World) -> dict[str, np.ndarray]:
    """Persons with each disease on 1 January, (m, s, b, y) over all 19 bands."""
    rng = stream("file:kronisk:RUKS")
    years = list(YEARS)
    pop = world.yearly_population(years)
    return {
        disease: binomial(rng, pop, world.expected(model, years) / np.maximum(pop, 1))
        for disease, model in DISEASE_MODELS.items()
    }


def write_kronisk(world: World, out: Path) -> FileRecord:
    """Two sheets: RUKS prevalence (years as columns, bands where the disease occurs) and COPD admissions."""
    prevalence = prevalence_counts(world)
    years = list(YEARS)
    ruks_rows: list[list[object]] = []
    small = 0
    first_band = {d: int(np.flatnonzero(np.asarray(PREVALENCE[d]) > 0)[0]) for d in DISEASES}
    for m, (code, name) in enumerate(zip(world.codes, world.names, strict=True)):
        for s, sex in enumerate(SEX_NAMES):
            for disease, label in DISEASES.items():
                for b in range(first_band[disease], len(world.bands)):
                    values = [int(v) for v in prevalence[disease][m, s, b, :]]
                    small += sum(1 <= v <= 4 for v in values)
                    ruks_rows.append([code.zfill(4), name, sex, world.bands[b], label, *values])
    copd_patients = prevalence["copd"].sum(axis=2)  # (m, s, y)
    expected = (
        copd_patients
        * COPD_ADMISSIONS_PER_PATIENT
        * world.effect(COPD_ADMISSIONS)[:, None, None]
        * COPD_ADMISSIONS.time_factors(years)
    )
    admissions = poisson(stream("file:kronisk:KOL"), expected)
    kol_rows = [
        [kommune, year, sex, int(admissions[m, s, y])]
        for m, kommune in enumerate(world.padded)
        for y, year in enumerate(years)
        for s, sex in enumerate(SEX_NAMES)
    ]
    small += count_small(admissions)
    source_note = (
        "Kilde: Sundhedsdatastyrelsen (syntetisk udtræk genereret af datapakke.raw.sample)."
    )
    sheets = [
        Sheet(
            "RUKS",
            [
                "Register for Udvalgte Kroniske Sygdomme (RUKS): personer med sygdommen "
                "pr. 1. januar. " + NOTICE_DA,
                "",
            ],
            ["Kommunekode", "Kommunenavn", "Køn", "Alder", "Sygdom", *(str(y) for y in years)],
            ruks_rows,
            notes=[source_note],
            widths={"A": 13, "B": 20, "F": 16, "G": 15},
        ),
        Sheet(
            "KOL-indlæggelser",
            ["Sundhedsdatastyrelsen – Indlæggelser med KOL", NOTICE_DA, ""],
            ["Kommune", "År", "Køn", "Antal indlæggelser"],
            kol_rows,
            notes=[source_note],
            widths={"A": 24, "D": 19},
        ),
    ]
    atomic_write(out / "esundhed/kronisk.xlsx", xlsx_bytes(sheets, "Kronisk sygdom"))
    return FileRecord(
        "esundhed/kronisk.xlsx",
        len(ruks_rows) + len(kol_rows),
        "eSundhed Excel, two sheets: 'RUKS' (1 title row + blank, header row 3, years as columns, "
        "Kommunekode '0101') and 'KOL-indlæggelser' (3 title rows, header row 4, "
        "Kommune '0101 København'); notes below each table",
        (*(f"prevalence_{d}" for d in DISEASES), "copd_admissions"),
        small,
        sheets={"RUKS": len(ruks_rows), "KOL-indlæggelser": len(kol_rows)},
    )


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
    atomic_write(out / "esundhed/psykiatri.csv", csv_bytes(frame, line_end="\n"))
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
    atomic_write(out / "esundhed/aktivitet.csv", csv_bytes(frame, bom=True))
    return FileRecord(
        "esundhed/aktivitet.csv",
        len(frame),
        "eSundhed CSV: UTF-8 with BOM, ';', CRLF, long, '.' as thousands separator",
        tuple(CONTACT_TYPES),
        count_small(values),
    )


# ======================================================================= Sundhedsprofilen
def danish_decimal(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def write_sundhedsprofil(world: World, out: Path) -> FileRecord:
    """Survey shares with 95 % CI: cp1252, decimal commas, names with real-world variants."""
    rng = stream("file:sundhedsprofil")
    population = world.municipalities["population"].to_numpy(float)
    scale = np.sqrt(population / population.max())
    base_n = SURVEY_RESPONDENTS_MIN + (SURVEY_RESPONDENTS_MAX - SURVEY_RESPONDENTS_MIN) * scale
    names = [SURVEY_NAME_VARIANTS.get(c, n) for c, n in zip(world.codes, world.names, strict=True)]
    columns: dict[str, list[np.ndarray]] = {"pct": [], "low": [], "high": [], "n": []}
    for indicator, (national, sd, rho) in SURVEY.items():
        model = Model(f"survey:{indicator}", (0.0,), sd=sd, rho=rho)
        log_effect = np.log(world.effect(model))
        for year in SURVEY_YEARS:
            p_national = national[year] / 100
            p_true = 1 / (1 + np.exp(-(np.log(p_national / (1 - p_national)) + log_effect)))
            n = np.rint(base_n * rng.uniform(0.9, 1.1, len(base_n))).astype(np.int64)
            p_hat = rng.binomial(n, p_true) / n
            half = 1.96 * np.sqrt(p_hat * (1 - p_hat) * SURVEY_DESIGN_EFFECT / n)
            columns["pct"].append(100 * p_hat)
            columns["low"].append(np.maximum(0.0, 100 * (p_hat - half)))
            columns["high"].append(np.minimum(100.0, 100 * (p_hat + half)))
            columns["n"].append(n)
    shape = (len(SURVEY), len(SURVEY_YEARS), len(names))  # written as (m, indicator, year)
    arrays = {k: np.stack(v).reshape(shape).transpose(2, 0, 1) for k, v in columns.items()}
    dims = [("Kommune", names), ("Indikator", list(SURVEY)), ("År", [str(y) for y in SURVEY_YEARS])]
    frame = long_frame(arrays["pct"], dims, "Andel (%)")
    frame["Andel (%)"] = [danish_decimal(v) for v in frame["Andel (%)"]]
    frame["Nedre grænse (%)"] = [danish_decimal(v) for v in arrays["low"].reshape(-1)]
    frame["Øvre grænse (%)"] = [danish_decimal(v) for v in arrays["high"].reshape(-1)]
    frame["Antal svarpersoner"] = arrays["n"].reshape(-1)
    atomic_write(
        out / "sundhedsprofil/sundhedsprofil.csv",
        csv_bytes(frame, encoding="cp1252", title="Den Nationale Sundhedsprofil – SYNTETISKE DATA"),
    )
    return FileRecord(
        "sundhedsprofil/sundhedsprofil.csv",
        len(frame),
        "Survey CSV: Windows-1252, ';', CRLF, title line above the header, decimal commas, "
        "municipality names only (with variant spellings)",
        tuple(SURVEY_MEASURES.values()),
        0,
    )


# ============================================================================ manifest
WRITERS: tuple[Callable[[World, Path], FileRecord], ...] = (
    write_folk1a,
    write_fod207,
    write_aed06,
    write_hjemsyg,
    write_sygk1,
    write_aeldre,
    write_kronisk,
    write_psykiatri,
    write_aktivitet,
    write_sundhedsprofil,
)

README = """# Syntetisk eksempeldata / Synthetic sample data

**{notice_da}**

Filerne i denne mappe er genereret af `python -m datapakke.raw.sample` (`make sample`) med
fast seed ({seed}) og er byte-identiske ved hver kørsel. Kommunekoder og -navne er rigtige;
alle tal er tilfældigt trukket fra en simpel model (antagelserne står øverst i
`datapakke/raw/sample.py`). Formaterne efterligner de rigtige kilder (Danmarks Statistik,
Sundhedsdatastyrelsen/eSundhed, Den Nationale Sundhedsprofil), så pipelinen kan køres fra ende til
anden uden adgang til rigtige data. Læg rigtige udtræk i `data/raw/` (se
`data/reference/sources.yaml`); så erstatter de eksempeldataene.

**{notice_en}**

The files in this folder are generated by `python -m datapakke.raw.sample` (`make sample`)
with a fixed seed ({seed}) and are byte-identical on every run. Municipality codes and names are
real; every number is drawn from a simple model (its assumptions are the constants at the top of
`datapakke/raw/sample.py`). The formats mimic the real sources so the pipeline runs end to
end without access to real data. Real extracts dropped into `data/raw/` (see
`data/reference/sources.yaml`) replace the sample. `MANIFEST.json` lists every file with its
SHA-256, size, rows, format and the measures it feeds. Do not edit these files by hand: the test
suite checks that they match the generator.

| fil / file | rækker / rows | format |
|---|---:|---|
{table}
"""


def manifest(records: Sequence[FileRecord], out: Path) -> dict:
    files = []
    for record in sorted(records, key=lambda r: r.path):
        data = (out / record.path).read_bytes()
        entry = {
            "path": record.path,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "rows": record.rows,
            "format": record.format,
            "measures": list(record.measures),
            "cells_1_to_4": record.small_cells,
        }
        if record.sheets:
            entry["sheets"] = record.sheets
        files.append(entry)
    return {
        "synthetic": True,
        "notice_da": NOTICE_DA,
        "notice_en": NOTICE_EN,
        "seed": SEED,
        "generator": GENERATOR,
        "files": files,
    }


def generate(out: Path) -> dict:
    """Write every sample file, README.md and MANIFEST.json into ``out``; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    world = World(load_municipalities(), load_bands())
    records = [writer(world, out) for writer in WRITERS]
    result = manifest(records, out)
    table = "\n".join(f"| `{f['path']}` | {f['rows']} | {f['format']} |" for f in result["files"])
    readme = README.format(notice_da=NOTICE_DA, notice_en=NOTICE_EN, seed=SEED, table=table)
    atomic_write(out / "README.md", readme.encode("utf-8"))
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    atomic_write(out / "MANIFEST.json", text.encode("utf-8"))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the embedded synthetic sample.")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: data/raw/sample)")
    args = parser.parse_args(argv)
    out = args.out or get_settings().sample_dir
    started = time.perf_counter()
    result = generate(out)
    total = sum(f["bytes"] for f in result["files"])
    for f in result["files"]:
        print(
            f"{f['path']:40} {f['bytes']:>10,} bytes {f['rows']:>8,} rows "
            f"{f['cells_1_to_4']:>6,} cells 1-4"
        )
    print(
        f"{len(result['files'])} files, {total / 1e6:.1f} MB, in {out} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
