"""The record-level path: a registry extract of single contacts becomes the activity counts.

The counts are checked against a plain Python count of the same rows, and the written CSV goes
through the real ingest of the ``esundhed_aktivitet`` source, as an analyst's drop would.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from datapakke.config import get_settings
from datapakke.raw import records
from datapakke.raw.registry import load_registry
from datapakke.raw.stage import ingest_source
from datapakke.warehouse import read_frame

CODES = ["101", "147", "461", "751", "851"]
GROUPS = ["medical", "surgical", "outpatient", "emergency"]


def _contacts(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame(
        {
            "person_id": range(n),
            "municipality_code": [rng.choice(CODES) for _ in range(n)],
            "contact_date": [date(2021, 1, 1) + timedelta(days=rng.randrange(3 * 365)) for _ in range(n)],
            "age": [rng.randrange(0, 105) for _ in range(n)],
            "sex": [rng.choice("MK") for _ in range(n)],
            "diagnosis_group": [rng.choice(GROUPS) for _ in range(n)],
            "is_acute": [rng.random() < 0.3 for _ in range(n)],
            "bed_days": [rng.randrange(0, 9) for _ in range(n)],
            "is_readmitted": [rng.random() < 0.1 for _ in range(n)],
        }
    )  # fmt: skip


def _expected(frame: pd.DataFrame) -> Counter:
    """The same aggregation written out by hand, row by row."""
    counted: Counter = Counter()
    for row in frame.itertuples():
        start = row.age - row.age % 5
        band = "90+" if row.age >= 90 else f"{start}-{start + 4}"
        kind = {"outpatient": "outpatient_visits", "emergency": "emergency_visits"}.get(
            row.diagnosis_group, "somatic_admissions"
        )
        counted[(row.municipality_code, str(row.contact_date.year), row.sex, band, kind)] += 1
    return counted


def _as_counter(aggregate: pd.DataFrame) -> Counter:
    keys = ["municipality_code", "year", "sex", "age_band", "contact_type"]
    return Counter(
        {tuple(r[:-1]): int(r[-1]) for r in aggregate[[*keys, "contacts"]].itertuples(index=False)}
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_contacts_are_counted_exactly_from_parquet_and_csv(tmp_path: Path, suffix: str) -> None:
    frame = _contacts()
    path = tmp_path / f"contacts{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    aggregate = records.aggregate_contacts(path, memory_limit="256MB", threads=1)
    assert _as_counter(aggregate) == _expected(frame)
    assert aggregate["contacts"].sum() == len(frame)  # every contact counted once


def test_integer_municipality_codes_keep_their_leading_zeros(tmp_path: Path) -> None:
    frame = _contacts(50).assign(municipality_code=lambda f: f["municipality_code"].astype(int))
    path = tmp_path / "contacts.parquet"
    frame.to_parquet(path)
    aggregate = records.aggregate_contacts(path)
    assert set(aggregate["municipality_code"]) <= set(CODES)


def test_an_extract_without_the_needed_columns_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "contacts.parquet"
    _contacts(20).drop(columns=["contact_date", "age"]).to_parquet(path)
    with pytest.raises(ValueError, match=r"missing column\(s\) contact_date, age"):
        records.aggregate_contacts(path)
    code = records.main([str(path), "--out", str(tmp_path / "out.csv")])
    assert code == 2
    assert not (tmp_path / "out.csv").exists()


def test_the_written_csv_is_ingested_as_the_activity_source(tmp_path: Path) -> None:
    frame = _contacts()
    extract = tmp_path / "contacts.parquet"
    frame.to_parquet(extract)
    raw = tmp_path / "raw"
    out = raw / "esundhed" / "aktivitet-2024.csv"
    assert records.main([str(extract), "--out", str(out)]) == 0

    settings = replace(get_settings(), raw_dir=raw, marts_dir=tmp_path / "marts")
    spec = next(s for s in load_registry() if s.id == "esundhed_aktivitet")
    report = ingest_source(spec, settings, today=date(2026, 11, 22))
    assert report.status == "accepted", report.message
    assert not report.is_synthetic
    assert report.quarantine.empty
    loaded = read_frame(
        settings.warehouse_path,
        "SELECT measure_id, sum(value) AS contacts FROM raw.validated "
        "WHERE source_id = 'esundhed_aktivitet' GROUP BY ALL",
    ).set_index("measure_id")["contacts"]
    expected = Counter()
    for (_, _, _, _, kind), n in _expected(frame).items():
        expected[kind] += n
    assert loaded.to_dict() == dict(expected)
