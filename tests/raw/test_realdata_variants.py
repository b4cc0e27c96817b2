"""Bad-input variants of the real Statistics Denmark files, as users damage them on the way.

The real files stay in ``../shared/realdata/`` (never copied into the project; the tests skip when
the folder is absent). Each variant is made from them here, at test time, the way it happens to
an analyst: a download cut off, a re-save from Excel as Windows-1252 or "Unicode text", a renamed
column, a provisional-figure star, a note typed under the table, labels instead of codes. FOLK1A
variants go through the real drop path (``statbank/FOLK1A/<name>`` under a temporary
``data/raw``, ingested with the registry entry of ``data/reference/sources.yaml``) and the test
asserts the line the terminal prints (``SourceCheck.description``, the same as the UI's check).
No configured source reads FOLK1AM or ERHV2, so their variants go through the reader. The table
in ``tests/fixtures/bad/README.md`` ("Variants of the real files") lists every variant here.
"""

from __future__ import annotations

import codecs
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from datapakke.config import Settings, get_settings
from datapakke.geography import default_geography
from datapakke.raw.advice import hint_for_message
from datapakke.raw.errors import SourceFileError
from datapakke.raw.read import read_raw
from datapakke.raw.registry import ResolvedSource, SourceSpec, load_registry
from datapakke.raw.stage import SourceCheck, SourceReport, check_source, ingest_source
from datapakke.raw.statbank import read_statbank_extract
from datapakke.raw.validate import validate_observations
from datapakke.warehouse import read_frame
from tests.raw.test_realdata_readers import ERHV2_SPEC, realdata

TODAY = date(2026, 11, 22)
FOLK1A_ROWS = 31_200  # data rows of the real FOLK1A.csv (its README)
MISSING_AGE_38 = "single ages missing (38): 78 municipality × period × age-band figures (35-39)"
DOWNLOAD_AGAIN = "What to do: download the file again: this one is not a complete export."
SAVE_AS_UTF8 = "What to do: save it as UTF-8 ('CSV UTF-8' in Excel)."
CHECK_COLUMNS = "What to do: check the column names against data/reference/sources.yaml"


# --------------------------------------------------------------------------------- the variants


def middle_line(data: bytes) -> tuple[int, int]:
    """Start and end (its ``\\n``) of the line holding the file's middle byte."""
    end = data.index(b"\n", len(data) // 2)
    return data.rindex(b"\n", 0, end) + 1, end


def cut_mid_line(data: bytes, field: int = 3) -> bytes:
    """The download stops one character into a field of a line half-way through the file."""
    at, _ = middle_line(data)
    for _ in range(field - 1):
        at = data.index(b";", at) + 1
    return data[: at + 1]


def cut_in_last_value(data: bytes) -> bytes:
    """The download stops inside the last number of a line: every field is there, but short."""
    _, end = middle_line(data)
    return data[: end - 2]


def cut_at_line_end(data: bytes) -> bytes:
    """The download stops at a line boundary half-way: a smaller file that reads cleanly."""
    _, end = middle_line(data)
    return data[: end + 1]


def last_line_number(data: bytes) -> int:
    return data.count(b"\n") + 1


def unicode_text(data: bytes, bom: bool = True) -> bytes:
    """Excel's "Unicode text": UTF-16 LE (with a BOM) and tabs between the columns."""
    body = data.decode("utf-8").replace(";", "\t").encode("utf-16-le")
    return codecs.BOM_UTF16_LE + body if bom else body


def windows_1252(data: bytes) -> bytes:
    return data.decode("utf-8").encode("cp1252")


def rename_header(data: bytes, old: str, new: str) -> bytes:
    header, newline, rest = data.partition(b"\n")
    return header.replace(old.encode(), new.encode()) + newline + rest


def provisional_last_quarter(data: bytes) -> bytes:
    """The web export's mark for a provisional figure on FOLK1A's last quarter: ``2020K1*``."""
    return data.replace(b";2020K1;", b";2020K1*;")


# Statistics Denmark's Danish labels for the codes in FOLK1A.csv (valuePresentation=Default).
AREA_LABELS = {
    "000": "Hele landet",
    "084": "Region Hovedstaden",
    "147": "Frederiksberg",
    "400": "Bornholm",
    "085": "Region Sjælland",
    "083": "Region Syddanmark",
    "082": "Region Midtjylland",
    "081": "Region Nordjylland",
    "851": "Aalborg",
    "461": "Odense",
    "561": "Esbjerg",
    "751": "Aarhus",
}
SEX_LABELS = {"1": "Mænd", "2": "Kvinder"}


def as_labels(data: bytes) -> bytes:
    """The same extract downloaded with labels: ``Aalborg;Mænd;38 år;2020K1;…``."""
    header, *lines = data.decode("utf-8").split("\n")
    out = [header]
    for line in lines:
        if line:
            area, sex, age, period, value = line.split(";")
            line = f"{AREA_LABELS[area]};{SEX_LABELS[sex]};{age} år;{period};{value}"
        out.append(line)
    return "\n".join(out).encode("utf-8")


NOTES = ["* Foreløbige tal", "Kilde: Danmarks Statistik"]


# ------------------------------------------------------------------------- the real drop path


@dataclass
class Ingested:
    """One drop through ingest: the report, the terminal's line and what was loaded."""

    settings: Settings
    report: SourceReport
    check: SourceCheck
    rows: pd.DataFrame  # raw.validated, sorted: municipality, period, sex, age band, value


def settings_at(root: Path) -> Settings:
    return replace(get_settings(), raw_dir=root / "raw", marts_dir=root / "marts")


def ingest_drop(root: Path, name: str, data: bytes) -> Ingested:
    """Write ``data`` to ``statbank/FOLK1A/<name>`` under ``root/raw`` and ingest FOLK1A."""
    settings = settings_at(root)
    (settings.raw_dir / "sample").mkdir(parents=True, exist_ok=True)  # no sample: only the drop
    folder = settings.raw_dir / "statbank" / "FOLK1A"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    spec = next(s for s in load_registry() if s.id == "folk1a_population")
    report = ingest_source(spec, settings, today=TODAY)
    rows = read_frame(
        settings.warehouse_path,
        "SELECT municipality_code, period, sex, age_band, value FROM raw.validated ORDER BY ALL",
    )
    return Ingested(settings, report, check_source(settings, spec.id), rows)


@pytest.fixture(scope="module")
def folk1a() -> bytes:
    return realdata("FOLK1A.csv").read_bytes()


@pytest.fixture(scope="module")
def original(folk1a: bytes, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """The real file as downloaded: what every variant that should load is compared with."""
    loaded = ingest_drop(tmp_path_factory.mktemp("original"), "FOLK1A.csv", folk1a)
    assert loaded.report.status == "accepted" and loaded.report.rows_read == FOLK1A_ROWS
    return loaded


def test_the_original_loads_with_only_the_missing_age_warning(original: Ingested) -> None:
    assert original.check.warnings and original.check.warnings[0].startswith(MISSING_AGE_38)
    assert len(original.check.warnings) == 1
    assert len(original.rows) == 6 * 13 * 2 * 19  # municipalities × quarters × sexes × bands


# ------------------------------------------------------------------ FOLK1A variants: rejected


# variant: (how it is made, the problem the line names, what it tells the user to do)
REJECTED: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "cut-mid-line": (
        cut_mid_line,
        "row {last}: expected 5 fields like the header, found 3; the file is probably "
        "truncated or damaged",
        DOWNLOAD_AGAIN,
    ),
    "cut-in-last-value": (
        cut_in_last_value,
        "row {last}: looks truncated: the last line has no line break (StatBank ends every "
        "line with one), so its last value '6' may be cut short; download the file again",
        DOWNLOAD_AGAIN,
    ),
    "utf16": (
        unicode_text,
        "is UTF-16 encoded, which the reader does not accept: save it as 'CSV UTF-8' (or "
        "Windows-1252)",
        SAVE_AS_UTF8,
    ),
    "utf16-no-bom": (
        lambda data: unicode_text(data, bom=False),
        "looks UTF-16 encoded (every other byte is NUL): save it as 'CSV UTF-8'",
        SAVE_AS_UTF8,
    ),
    "antal": (
        lambda data: rename_header(data, "INDHOLD", "ANTAL"),
        "row 1: no INDHOLD column; the header has OMRÅDE, KØN, ALDER, TID, ANTAL: StatBank "
        "writes the values in the last column, INDHOLD; if 'ANTAL' holds them (renamed on "
        "the way), rename it back to INDHOLD",
        CHECK_COLUMNS,
    ),
    "indhold-personer": (
        lambda data: rename_header(data, "INDHOLD", "Indhold personer"),
        "row 1: no INDHOLD column; the header has OMRÅDE, KØN, ALDER, TID, Indhold personer: "
        "StatBank writes the values in the last column, INDHOLD; if 'Indhold personer' holds "
        "them (renamed on the way), rename it back to INDHOLD",
        CHECK_COLUMNS,
    ),
}


@pytest.mark.parametrize("variant", REJECTED)
def test_a_damaged_folk1a_is_rejected_with_a_line_saying_what_and_what_to_do(
    folk1a: bytes, tmp_path: Path, variant: str
) -> None:
    make, problem, what_to_do = REJECTED[variant]
    data = make(folk1a)
    name = f"FOLK1A-{variant}.csv"
    loaded = ingest_drop(tmp_path, name, data)

    assert loaded.report.status == "rejected" and loaded.rows.empty
    expected = problem.format(last=last_line_number(data))
    assert f"file statbank/FOLK1A/{name}" in loaded.report.message  # raw.source_file.message
    assert expected in loaded.report.message
    line = loaded.check.description  # what `make run` prints, and the UI's check
    assert line.startswith(f"statbank/FOLK1A/{name}: rejected: {expected}. {what_to_do}")


# -------------------------------------------------------------- FOLK1A variants: the same rows


# How a file that must load the same rows as the original was changed on the way.
SAME_ROWS: dict[str, Callable[[bytes], bytes]] = {
    "cp1252": windows_1252,
    "crlf": lambda data: data.replace(b"\n", b"\r\n"),
    "omraade": lambda data: rename_header(data, "OMRÅDE", "OMRAADE"),
    "provisional": provisional_last_quarter,
    "labels": as_labels,
}


@pytest.fixture(scope="module")
def dropped(folk1a: bytes, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Ingested]:
    """Each variant of ``SAME_ROWS`` ingested once per module (a FOLK1A ingest takes seconds)."""
    cache: dict[str, Ingested] = {}

    def drop(variant: str) -> Ingested:
        if variant not in cache:
            data = SAME_ROWS[variant](folk1a)
            assert data != folk1a
            root = tmp_path_factory.mktemp(variant)
            cache[variant] = ingest_drop(root, f"FOLK1A-{variant}.csv", data)
        return cache[variant]

    return drop


@pytest.mark.parametrize("variant", SAME_ROWS)
def test_a_resaved_or_relabelled_folk1a_loads_the_same_rows(
    dropped: Callable[[str], Ingested], original: Ingested, variant: str
) -> None:
    loaded = dropped(variant)

    assert loaded.report.status == "accepted", loaded.check.description
    assert loaded.report.rows_read == FOLK1A_ROWS
    assert len(loaded.rows) == len(original.rows)
    assert loaded.rows["value"].sum() == original.rows["value"].sum()
    pd.testing.assert_frame_equal(loaded.rows, original.rows)
    # The same warning (age 38 is missing) whether ALDER is written '38' or '38 år'.
    assert loaded.check.warnings == original.check.warnings


def test_windows_1252_really_has_single_byte_letters(folk1a: bytes) -> None:
    assert windows_1252(folk1a).startswith(b"OMR\xc5DE;K\xd8N;")


def test_an_ascii_column_name_is_read_as_the_danish_one_and_said_so(
    dropped: Callable[[str], Ingested],
) -> None:
    """``OMRAADE`` is how users and tools write ``OMRÅDE`` without æ/ø/å: read, and noted."""
    findings = dropped("omraade").check.findings
    assert "column 'OMRAADE' read as 'OMRÅDE' (the same name without æ, ø, å)" in findings


def test_a_provisional_star_is_kept_as_written_and_read_as_the_quarter(
    dropped: Callable[[str], Ingested],
) -> None:
    loaded = dropped("provisional")
    written = read_frame(
        loaded.settings.warehouse_path, "SELECT DISTINCT period_text FROM raw.observation"
    )
    assert "2020K1*" in set(written["period_text"]) and "2020K1" not in set(written["period_text"])
    assert "2020K1" in set(loaded.rows["period"]) and "2020K1*" not in set(loaded.rows["period"])


# ------------------------------------------------------ FOLK1A cut at a line end: fewer rows


def test_a_file_cut_at_a_line_end_loads_and_warns_when_it_replaces_the_full_one(
    folk1a: bytes, original: Ingested, tmp_path: Path
) -> None:
    """Nothing in a file cut between two lines shows it was cut; only what it loses does."""
    half = cut_at_line_end(folk1a)
    # The cut download saved over yesterday's full file (a copy of the original's warehouse).
    shutil.copytree(original.settings.raw_dir.parent, tmp_path / "again")
    replaced = ingest_drop(tmp_path / "again", "FOLK1A.csv", half)

    assert replaced.report.status == "accepted"
    assert replaced.report.rows_read == half.count(b"\n") - 1
    line = replaced.check.description
    assert line.startswith("statbank/FOLK1A/FOLK1A.csv: ")
    # The first half holds areas 000 … 083: municipalities 147 and 400 only.
    assert (
        "loads 988 rows where the data it replaces (statbank/FOLK1A/FOLK1A.csv) had 2,964: "
        "check that the download covers every municipality, period, age and sex"
    ) in line
    assert (
        "municipalities 461, 561, 751, 851 were in the data it replaces "
        "(statbank/FOLK1A/FOLK1A.csv) for 2008K1, 2009K1"
    ) in line
    assert set(replaced.rows["municipality_code"]) == {"147", "400"}


# ------------------------------------------------------------------ FOLK1AM: through the reader


@pytest.fixture(scope="module")
def folk1am() -> tuple[bytes, pd.DataFrame]:
    data = realdata("FOLK1AM.csv").read_bytes()
    frame, skipped = read_statbank_extract(data, "FOLK1AM.csv")
    assert skipped == []
    return data, frame


def test_folk1am_without_bom_and_with_lf_reads_the_same(
    folk1am: tuple[bytes, pd.DataFrame],
) -> None:
    data, frame = folk1am
    plain = data.removeprefix(codecs.BOM_UTF8).replace(b"\r\n", b"\n")
    assert not plain.startswith(codecs.BOM_UTF8) and b"\r" not in plain
    again, skipped = read_statbank_extract(plain, "FOLK1AM.csv")
    pd.testing.assert_frame_equal(again, frame)
    assert skipped == []


@pytest.mark.parametrize("padding", ["", ";;"], ids=["typed", "saved-by-excel"])
def test_notes_under_folk1am_are_skipped_with_the_reason(
    folk1am: tuple[bytes, pd.DataFrame], padding: str
) -> None:
    """A note typed under the table (Excel pads it with empty fields) is not a row."""
    data, frame = folk1am
    noted = data + "".join(f"{note}{padding}\r\n" for note in NOTES).encode("utf-8")
    again, skipped = read_statbank_extract(noted, "FOLK1AM.csv")
    pd.testing.assert_frame_equal(again, frame)
    last = data.count(b"\n")  # the last data row's line
    assert skipped == [
        (last + 1, "below the table, not data (a note?): '* Foreløbige tal'"),
        (last + 2, "below the table, not data (a note?): 'Kilde: Danmarks Statistik'"),
    ]


def test_notes_under_folk1am_are_skipped_not_quarantined(
    folk1am: tuple[bytes, pd.DataFrame], tmp_path: Path
) -> None:
    """Through the registry reader and validation, as a FOLK1AM source would read it."""
    data, _ = folk1am
    path = tmp_path / "FOLK1AM.csv"
    path.write_bytes(data + "".join(f"{note}\r\n" for note in NOTES).encode("utf-8"))
    spec = SourceSpec(
        id="folk1am_population",
        title="FOLK1AM",
        publisher="Danmarks Statistik",
        target="population",
        reader="statbank",
        sample_file="statbank/FOLK1AM.csv",
        drop_glob="statbank/FOLK1AM/*.csv",
        columns={"municipality": "OMRÅDE", "period": "TID", "value": "INDHOLD"},
        measure="population",
    )
    load = read_raw(ResolvedSource(spec, path, is_synthetic=False))
    assert load.error is None and load.rows_read == 3_255
    notes = [line for line, reason in load.skipped if "a note?" in reason]
    assert notes == [3_257, 3_258]
    result = validate_observations(
        load.frame, spec, default_geography(), TODAY, 0.2, skipped=load.skipped
    )
    # Nothing quarantined: not the notes, and not DST's label 'Vesthimmerlands' for 820.
    assert result.quarantine.empty, result.quarantine.head().to_string()
    assert [line for line, _ in result.skipped if line in notes] == notes
    assert result.rows["municipality_code"].nunique() == 98


# -------------------------------------------------------------------- ERHV2: through the reader


@pytest.fixture(scope="module")
def erhv2() -> tuple[bytes, pd.DataFrame]:
    data = realdata("ERHV2_all.csv").read_bytes()
    frame, skipped = read_statbank_extract(data, "ERHV2_all.csv")
    assert skipped == [] and len(frame) == 2_448
    return data, frame


def test_erhv2_resaved_as_utf8_with_bom_reads_the_same(
    erhv2: tuple[bytes, pd.DataFrame],
) -> None:
    data, frame = erhv2
    resaved = codecs.BOM_UTF8 + data.decode("latin-1").encode("utf-8")
    again, skipped = read_statbank_extract(resaved, "ERHV2_all.csv")
    pd.testing.assert_frame_equal(again, frame)
    assert skipped == []


def test_erhv2_without_its_title_line_reads_with_generic_names_and_says_why(
    erhv2: tuple[bytes, pd.DataFrame], tmp_path: Path
) -> None:
    """The title names the label columns; without it they are STUB1…, and the registry's
    ``OMRÅDE`` is not found: the message says to keep the title line."""
    data, frame = erhv2
    untitled = data[data.index(b"\r\n") + 2 :]
    again, _ = read_statbank_extract(untitled, "ERHV2_all.csv")
    assert list(again.columns[:3]) == ["STUB1", "STUB2", "STUB3"]
    assert again.iloc[:, :5].values.tolist() == frame.iloc[:, :5].values.tolist()
    assert (again["_source_row"] == frame["_source_row"] - 1).all()

    path = tmp_path / "ERHV2.csv"
    path.write_bytes(untitled)
    load = read_raw(ResolvedSource(ERHV2_SPEC, path, is_synthetic=False))
    assert load.error is not None
    message = str(load.error)
    assert (
        "missing column(s) 'OMRÅDE' needed by source erhv2_jobs; found STUB1, STUB2, STUB3, "
        "TID, INDHOLD; STUB1… are the label columns of a statistikbanken.dk export, named from "
        "its title line ('… efter område, køn og tid'): keep that first line in the file"
    ) in message
    assert "check the column names" in hint_for_message(message)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (
            lambda data: cut_mid_line(data, field=6),
            "row {last}: expected 15 fields like the header, found 6; the file is probably "
            "truncated or damaged",
        ),
        (
            cut_in_last_value,
            "row {last}: looks truncated: the last line has no line break (StatBank ends every "
            "line with one), so its last value '{value}' may be cut short",
        ),
    ],
    ids=["mid-line", "in-last-value"],
)
def test_erhv2_cut_off_half_way_is_refused_naming_the_line(
    erhv2: tuple[bytes, pd.DataFrame], make, problem: str
) -> None:
    data, _ = erhv2
    cut = make(data)
    with pytest.raises(SourceFileError) as info:
        read_statbank_extract(cut, "ERHV2_all.csv")
    value = cut.rsplit(b";", 1)[-1].decode("latin-1")
    expected = problem.format(last=last_line_number(cut), value=value)
    assert str(info.value).startswith(f"file ERHV2_all.csv, {expected}")
    assert "download the file again" in hint_for_message(str(info.value))
