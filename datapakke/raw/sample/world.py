"""The shared model every sample file draws from: municipalities, their oldness and population.

Every file draws its own noise, but all start from the same population and the same municipal
effects, so e.g. readmissions follow discharges and deaths follow the age profile. Randomness is
keyed by name (:func:`stream`), so adding or reordering files never changes another file's numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from datapakke.config import REFERENCE_DIR
from datapakke.raw.sample import SEED
from datapakke.raw.sample.model import (
    AGE_TILT,
    BAND_GROWTH,
    BASE_YEAR,
    CELL_SD,
    MALE_SHARE,
    MUNICIPAL_GROWTH,
    MUNICIPAL_GROWTH_OLDNESS,
    NATIONAL_AGE_SHARE,
    OLD_MUNICIPALITIES,
    OLDNESS_CLIP,
    QUARTER_SD,
    QUARTERS,
    RAKING_ROUNDS,
    STUDENT_BOOST,
    STUDENT_CITIES,
    YOUNG_MUNICIPALITIES,
    Model,
)
from datapakke.standard_population import AGE_BANDS

DST_REGION_ORDER = ("084", "085", "083", "082", "081")  # the order StatBank lists regions in


def stream(key: str) -> np.random.Generator:
    """An independent child stream of ``default_rng(SEED)``, chosen by name (not call order).

    Keying by name means adding or reordering files never changes the numbers of another file.
    """
    return np.random.default_rng(
        np.random.SeedSequence(SEED, spawn_key=(zlib.crc32(key.encode()),))
    )


def load_municipalities() -> pd.DataFrame:
    """Municipalities in StatBank order: by region (084, 085, 083, 082, 081), then by code."""
    frame = pd.read_csv(REFERENCE_DIR / "municipalities.csv", dtype=str)
    frame["population"] = frame["approx_population_2024"].astype(int)
    frame["region_rank"] = frame["region_code"].map(DST_REGION_ORDER.index)
    frame = frame.sort_values(["region_rank", "municipality_code"], kind="stable")
    return frame.reset_index(drop=True)


@dataclass
class World:
    """The shared model: municipalities, their oldness, population and municipal effects."""

    municipalities: pd.DataFrame
    bands: tuple[str, ...] = AGE_BANDS
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

    def age_profile(self) -> np.ndarray:
        """Each municipality's share of its people per band: (m, b), rows summing to 1.

        Older municipalities tilt towards the old bands, student cities get extra young adults,
        and the profiles are raked so the country as a whole keeps the national profile.
        """
        centres = np.array([int(b.split("-")[0].rstrip("+")) + 2.5 for b in self.bands])
        tilt = np.exp(AGE_TILT * np.outer(self.oldness, (centres - 40) / 25))
        profile = np.asarray(NATIONAL_AGE_SHARE) * tilt
        student = self.municipalities["municipality_code"].isin(STUDENT_CITIES).to_numpy()
        for band, boost in STUDENT_BOOST.items():
            profile[student, band] *= boost
        profile /= profile.sum(axis=1, keepdims=True)
        target = np.asarray(NATIONAL_AGE_SHARE) / sum(NATIONAL_AGE_SHARE)
        weights = self.municipalities["population"].to_numpy(float)[:, None]
        for _ in range(RAKING_ROUNDS):
            national = (profile * weights).sum(axis=0)
            profile *= target / (national / national.sum())
            profile /= profile.sum(axis=1, keepdims=True)
        return profile

    @cached_property
    def population(self) -> np.ndarray:
        """Persons at the start of each quarter: (municipality, sex, band, quarter), integers."""
        rng = stream("model:population")
        n_mun, n_band = len(self.municipalities), len(self.bands)
        base = self.age_profile() * self.municipalities["population"].to_numpy(float)[:, None]
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
