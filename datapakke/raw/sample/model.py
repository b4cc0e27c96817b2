"""The sample's assumptions: periods, the population model, event rates and measure models.

Every number in the sample is drawn from the simple model these constants describe; none of it
is real. Each constant says what it stands for and the level it gives, so a reviewer can check
the sample's plausibility here without reading the writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
