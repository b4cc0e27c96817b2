"""The survey file of the sample: Den Nationale Sundhedsprofil's shares with 95 % intervals,
in Windows-1252 with decimal commas and the municipality name spellings real exports use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datapakke.atomic import write_bytes
from datapakke.raw.sample.formats import FileRecord, csv_bytes, danish_decimal, long_frame
from datapakke.raw.sample.model import (
    SURVEY,
    SURVEY_DESIGN_EFFECT,
    SURVEY_RESPONDENTS_MAX,
    SURVEY_RESPONDENTS_MIN,
    SURVEY_YEARS,
    Model,
)
from datapakke.raw.sample.world import World, stream

#: Real-world spellings seen in survey exports (the pipeline maps them back).
SURVEY_NAME_VARIANTS = {"169": "Høje Taastrup", "400": "Bornholms Regionskommune", "751": "Århus"}
SURVEY_MEASURES = {
    "Dagligrygning": "survey_smoking_daily",
    "Højt alkoholindtag": "survey_alcohol_high",
    "Svær overvægt": "survey_obesity_severe",
    "Fysisk inaktivitet": "survey_physical_inactivity",
    "Dårligt mentalt helbred": "survey_mental_health_poor",
}


def survey_estimates(world: World) -> dict[str, np.ndarray]:
    """Estimated % with its 95 % interval and the respondents: (m, indicator, year) each.

    Each municipality's true share is the national one shifted on the logit scale by its
    municipal effect; the estimate is a binomial draw from a sample of about ``base_n``.
    """
    rng = stream("file:sundhedsprofil")
    population = world.municipalities["population"].to_numpy(float)
    scale = np.sqrt(population / population.max())
    base_n = SURVEY_RESPONDENTS_MIN + (SURVEY_RESPONDENTS_MAX - SURVEY_RESPONDENTS_MIN) * scale
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
    shape = (len(SURVEY), len(SURVEY_YEARS), len(base_n))  # written as (m, indicator, year)
    return {k: np.stack(v).reshape(shape).transpose(2, 0, 1) for k, v in columns.items()}


def write_sundhedsprofil(world: World, out: Path) -> FileRecord:
    """Survey shares with 95 % CI: cp1252, decimal commas, names with real-world variants."""
    arrays = survey_estimates(world)
    names = [SURVEY_NAME_VARIANTS.get(c, n) for c, n in zip(world.codes, world.names, strict=True)]
    dims = [("Kommune", names), ("Indikator", list(SURVEY)), ("År", [str(y) for y in SURVEY_YEARS])]
    frame = long_frame(arrays["pct"], dims, "Andel (%)")
    frame["Andel (%)"] = [danish_decimal(v) for v in frame["Andel (%)"]]
    frame["Nedre grænse (%)"] = [danish_decimal(v) for v in arrays["low"].reshape(-1)]
    frame["Øvre grænse (%)"] = [danish_decimal(v) for v in arrays["high"].reshape(-1)]
    frame["Antal svarpersoner"] = arrays["n"].reshape(-1)
    write_bytes(
        out / "sundhedsprofil/sundhedsprofil.csv",
        csv_bytes(frame, encoding="cp1252", title="Den Nationale Sundhedsprofil – SYNTETISKE DATA"),
    )
    return FileRecord(
        "sundhedsprofil/sundhedsprofil.csv",
        len(frame),
        "Survey CSV: Windows-1252, ';', CRLF, title line above the header, decimal commas, "
        "municipality names only (with variant spellings)",
        tuple(SURVEY_MEASURES[indicator] for indicator in SURVEY),
        0,
    )
