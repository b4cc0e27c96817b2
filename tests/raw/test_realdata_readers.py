"""Real Statistics Denmark downloads, byte for byte, read by the StatBank reader.

The files live outside the project in ``../shared/realdata/`` (see its README for where each
comes from); they are never copied in, and the tests skip when the folder is absent. Expected
figures are counted here from the raw bytes with a deliberately naive parse, so the reader is
checked against the file rather than against itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from datapakke.raw.read import read_raw
from datapakke.raw.registry import ResolvedSource, SourceSpec
from datapakke.raw.statbank import parse_statbank_csv, read_statbank_extract


def _repo_root() -> Path:
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"no pyproject.toml above {__file__}")


REALDATA = (_repo_root() / ".." / "shared" / "realdata").resolve()


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip(f"real extract {name} not available: {REALDATA} is absent or incomplete")
    return path


# ------------------------------------------------------------------------------ ERHV2 web export


def erhv2_lines() -> list[str]:
    """The file's lines, decoded independently of the reader (Latin-1, as its README says)."""
    return realdata("ERHV2_all.csv").read_bytes().decode("latin-1").split("\r\n")


def naive_data_rows(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """(line number, area, 12 numbers) for every line ending in twelve unquoted numbers."""
    rows = []
    for number, line in enumerate(lines, start=1):
        numbers = re.findall(r";(\d+)(?=;|$)", line)
        if len(numbers) == 12:
            rows.append((number, line.split(";")[2].strip('"'), numbers))
    return rows


@pytest.fixture(scope="module")
def erhv2() -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    return read_statbank_extract(realdata("ERHV2_all.csv"), "ERHV2_all.csv")


def test_erhv2_web_export_is_long(erhv2: tuple[pd.DataFrame, list[tuple[int, str]]]) -> None:
    frame, skipped = erhv2
    assert list(frame.columns) == ["BRANCHE", "ENHED", "OMRÅDE", "TID", "INDHOLD", "_source_row"]
    rows = naive_data_rows(erhv2_lines())
    assert len(rows) == 2 * 102  # the README's 2 blocks × 102 areas
    assert len(frame) == len(rows) * 12 == 2448
    assert frame["TID"].unique().tolist() == [str(year) for year in range(2008, 2020)]
    assert frame["BRANCHE"].unique().tolist() == ["TOT Erhverv i alt"]
    assert frame["ENHED"].unique().tolist() == [
        "Arbejdssteder ultimo november",
        "Job ultimo november",
    ]
    assert skipped == []  # the file ends in blank lines only
    # Every number of the file, in file order, each with the line it is on.
    expected = [(number, value) for number, _, values in rows for value in values]
    assert list(zip(frame["_source_row"], frame["INDHOLD"], strict=True)) == expected


def test_erhv2_value_is_the_number_on_its_line(
    erhv2: tuple[pd.DataFrame, list[tuple[int, str]]],
) -> None:
    frame, _ = erhv2
    lines = erhv2_lines()
    job_block = next(i for i, line in enumerate(lines) if "Job ultimo november" in line)
    at = next(i for i in range(job_block, len(lines)) if '"København"' in lines[i])
    value_2019 = lines[at].split(";")[-1]
    assert value_2019 == "463496"  # what the README's reader sees on screen, for the record
    hit = frame[
        (frame["ENHED"] == "Job ultimo november")
        & (frame["OMRÅDE"] == "København")
        & (frame["TID"] == "2019")
    ]
    assert hit["INDHOLD"].tolist() == [value_2019]
    assert hit["_source_row"].tolist() == [at + 1]


def test_erhv2_has_every_area_decoded(erhv2: tuple[pd.DataFrame, list[tuple[int, str]]]) -> None:
    frame, _ = erhv2
    areas = set(frame["OMRÅDE"])
    assert len(areas) == 102
    assert areas == {area for _, area, _ in naive_data_rows(erhv2_lines())}
    for name in ["Hele landet", "Christiansø", "Uden for Danmark", "Uoplyst kommune"]:
        assert name in areas
    assert {"København", "Morsø", "Læsø", "Høje-Taastrup", "Ærø"} <= areas
    assert not any("\ufffd" in area or "Ã" in area for area in areas)
    for block in frame["ENHED"].unique():
        assert frame.loc[frame["ENHED"] == block, "OMRÅDE"].nunique() == 102


# The web export read as a configured source would read it (jobs data: only to test the reader).
ERHV2_SPEC = SourceSpec(
    id="erhv2_jobs",
    title="ERHV2",
    publisher="Danmarks Statistik",
    target="observation",
    reader="statbank",
    sample_file="statbank/ERHV2.csv",
    drop_glob="statbank/ERHV2/*.csv",
    columns={"municipality": "OMRÅDE", "period": "TID", "value": "INDHOLD"},
    measure="jobs",
    filters={"ENHED": ("Job ultimo november",)},
)


def test_erhv2_through_the_registry_reader() -> None:
    """read_raw maps the web export's columns by name, as for an API extract."""
    load = read_raw(ResolvedSource(ERHV2_SPEC, realdata("ERHV2_all.csv"), is_synthetic=False))
    assert load.error is None
    assert load.rows_read == 2448
    assert len(load.frame) == 1224
    assert len(load.skipped) == 1224  # the Arbejdssteder block, each row with its reason
    row = load.frame[
        (load.frame["municipality_text"] == "København") & (load.frame["period_text"] == "2019")
    ]
    assert row["value_text"].tolist() == ["463496"]


# ---------------------------------------------------------------------- API / BULK extracts


def test_folk1a_bulk_extract_still_reads() -> None:
    path = realdata("FOLK1A.csv")
    frame, skipped = read_statbank_extract(path, "FOLK1A.csv")
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[0] == "OMRÅDE;KØN;ALDER;TID;INDHOLD"
    assert len(frame) == 31_200 == sum(1 for line in lines[1:] if line.count(";") == 4)
    assert skipped == []
    assert list(frame.columns) == ["OMRÅDE", "KØN", "ALDER", "TID", "INDHOLD", "_source_row"]
    assert frame["OMRÅDE"].iloc[0] == "000"  # codes keep their zeros
    assert "38" not in set(frame["ALDER"])  # the downloader left age 38 out
    pd.testing.assert_frame_equal(frame, parse_statbank_csv(path))


def test_folk1am_labels_extract_still_reads() -> None:
    path = realdata("FOLK1AM.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM is there in the file...
    frame, skipped = read_statbank_extract(path, "FOLK1AM.csv")
    assert list(frame.columns) == ["OMRÅDE", "TID", "INDHOLD", "_source_row"]  # ...not here
    assert skipped == []
    assert len(frame) == 3_255 == raw.count(b"\r\n") - 1
    areas = set(frame["OMRÅDE"])
    assert len(areas) == 105
    assert {"Høje-Taastrup", "København", "Christiansø", "Hele landet"} <= areas
    assert frame["TID"].iloc[0] == "2021M10"
    assert frame["_source_row"].iloc[0] == 2
