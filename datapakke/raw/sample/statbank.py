"""The Statistics Denmark (StatBank) files of the sample: population, deaths, home help and care,
GP contacts, each in the format and with the quirks the real extract has."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datapakke.atomic import write_bytes
from datapakke.raw.sample.formats import FileRecord, count_small, csv_bytes, long_frame
from datapakke.raw.sample.model import (
    DEATHS,
    ELDER,
    GP_CONSULTATIONS,
    GP_EMAIL,
    GP_EMAIL_PER_CONSULTATION,
    HOME_HELP,
    HOME_NURSING,
    HOME_NURSING_YEARS,
    QUARTERS,
    YEARS,
)
from datapakke.raw.sample.world import DST_REGION_ORDER, World, binomial, poisson, stream

SEX_CODES = ("1", "2")
FOD207_SUPPRESSED_CELLS = 8  # '..' cells written into FOD207 (confidential in DST's terms)


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
    write_bytes(out / "statbank/FOLK1A.csv", csv_bytes(frame))
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
    write_bytes(out / "statbank/FOD207.csv", csv_bytes(frame, bom=True))
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
    write_bytes(out / "statbank/AED06.csv", csv_bytes(frame, bom=True))
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
    write_bytes(out / "statbank/HJEMSYG.csv", csv_bytes(frame))
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
    write_bytes(out / "statbank/SYGK1.csv", csv_bytes(frame, bom=True))
    return FileRecord(
        "statbank/SYGK1.csv",
        len(frame),
        "StatBank CSV: UTF-8 with BOM, ';', CRLF, codes; YDELSE 1 = consultations (used), "
        "2 = phone/e-mail (filtered out by the registry)",
        ("gp_contacts",),
        0,
    )
