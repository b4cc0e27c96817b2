"""The embedded synthetic sample: deterministic, faithful to the real formats, plausible content.

Files are read back here with the format rules at the byte level (BOM, line ends, encodings,
markers), never with the pipeline's own readers, so a reader bug cannot hide a generator bug.
Everything is generated into temporary folders; the committed sample is only read.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from datapakke.config import REFERENCE_DIR, REPO_ROOT, SAMPLE_DIR
from datapakke.raw.registry import load_registry
from datapakke.raw.sample import GENERATOR
from datapakke.raw.sample.__main__ import main
from datapakke.raw.sample.manifest import ASSUMPTIONS_FILE, generate
from datapakke.raw.sample.world import stream

BOM = b"\xef\xbb\xbf"
MUNICIPALITIES = pd.read_csv(REFERENCE_DIR / "municipalities.csv", dtype=str)
CODES = set(MUNICIPALITIES["municipality_code"])
NAME_TO_CODE = dict(
    zip(MUNICIPALITIES["municipality_name"], MUNICIPALITIES["municipality_code"], strict=True)
)
NAME_TO_CODE |= {"Høje Taastrup": "169", "Bornholms Regionskommune": "400", "Århus": "751"}
BANDS = list(pd.read_csv(REFERENCE_DIR / "esp2013.csv", dtype=str)["age_band"])
ALLOWED_AGES = (
    set(BANDS)
    | {f"{b} år" for b in BANDS}
    | {"90 år og derover", "IALT", "TOT", "I alt", "65 år og derover"}
)
AGGREGATES = {"000", "081", "082", "083", "084", "085"}
LAYOUT_KEYS = {
    "kind", "sheet", "header_row", "required_columns", "column_aliases", "fill_down", "wide",
    "encoding", "delimiter", "decimal", "skip_rows_matching",
}  # fmt: skip


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One generation through the CLI with the default --out (DATAPAKKE_RAW_DIR points at tmp)."""
    raw = tmp_path_factory.mktemp("raw")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAPAKKE_RAW_DIR", str(raw))
        assert main([]) == 0
    yield raw / "sample"


@pytest.fixture(scope="module")
def out(fresh: Path) -> Path:
    return fresh


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_csv(data: bytes, encoding: str = "utf-8", skip: int = 0) -> pd.DataFrame:
    text = data.decode(encoding).removeprefix("\ufeff")
    return pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False, skiprows=skip)


@cache
def sheet_rows(path: Path, sheet: str) -> tuple[tuple, ...]:
    """All cell values of one sheet, read once per module (openpyxl needs ~8 s for RUKS)."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return tuple(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()


def aeldre_table(out: Path) -> pd.DataFrame:
    """The wide 'ældre' sheet as long rows, Kommune filled down, '<5' kept as text."""
    rows = sheet_rows(out / "esundhed/aeldre.xlsx", "Data")
    header, body = list(rows[3]), rows[4:]
    body = [r for r in body if any(v is not None for v in r[1:])]  # drop notes and blank row
    frame = pd.DataFrame(body, columns=header)
    frame["Kommune"] = frame["Kommune"].ffill()
    return frame.melt(
        id_vars=["Kommune", "Køn", "Aldersgruppe", "Indikator"], var_name="År", value_name="Antal"
    )


def ruks_table(out: Path) -> pd.DataFrame:
    """The RUKS sheet melted from years-as-columns to one row per year."""
    rows = sheet_rows(out / "esundhed/kronisk.xlsx", "RUKS")
    body = [r for r in rows[3:] if r[1] is not None]
    frame = pd.DataFrame(body, columns=list(rows[2]))
    return frame.melt(
        id_vars=["Kommunekode", "Kommunenavn", "Køn", "Alder", "Sygdom"],
        var_name="År",
        value_name="Antal personer",
    ).astype({"År": int})


def kol_table(out: Path) -> pd.DataFrame:
    rows = sheet_rows(out / "esundhed/kronisk.xlsx", "KOL-indlæggelser")
    body = [r for r in rows[4:] if r[1] is not None]
    return pd.DataFrame(body, columns=list(rows[3]))


def count(text: pd.Series) -> pd.Series:
    """Danish count text ('12.345', '7') → int."""
    return text.str.replace(".", "", regex=False).astype(int)


# ------------------------------------------------------------------------------ determinism
def test_two_runs_are_byte_identical(out: Path, tmp_path: Path) -> None:
    generate(tmp_path)
    assert files_of(tmp_path) == files_of(out)


def test_committed_sample_matches_the_generator(out: Path) -> None:
    committed, regenerated = files_of(SAMPLE_DIR), files_of(out)
    hint = "the committed sample differs from its generator: run `make sample`"
    assert sorted(committed) == sorted(regenerated), hint
    manifest = json.loads(committed["MANIFEST.json"])
    for entry in manifest["files"]:
        sha = hashlib.sha256(committed[entry["path"]]).hexdigest()
        assert sha == entry["sha256"], f"{entry['path']}: {hint}"
        assert sha == hashlib.sha256(regenerated[entry["path"]]).hexdigest(), hint
    for name, data in regenerated.items():
        assert committed[name] == data, f"{name}: {hint}"


def test_generation_leaves_no_temp_files(fresh: Path) -> None:
    assert not [p for p in fresh.rglob(".*")]


def test_streams_are_independent_per_file() -> None:
    a, b = stream("file:FOD207"), stream("file:FOD207")
    assert a.integers(0, 1 << 30, 5).tolist() == b.integers(0, 1 << 30, 5).tolist()
    c = stream("file:HJEMSYG")
    assert stream("file:FOD207").random() != c.random()


# ---------------------------------------------------------------------------------- manifest
def test_manifest_says_synthetic_and_describes_every_file(out: Path) -> None:
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True
    assert manifest["notice_da"] == (
        "SYNTETISKE DATA – kommunekoder og -navne er rigtige, men alle tal er opdigtede. "
        "Må ikke bruges til beslutninger."
    )
    assert manifest["seed"] == 20260101
    assert manifest["generator"] == "datapakke.raw.sample"
    data_files = {k for k in files_of(out) if k not in {"MANIFEST.json", "README.md"}}
    assert {f["path"] for f in manifest["files"]} == data_files
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] > 0 and entry["format"] and entry["measures"]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert manifest["notice_da"] in readme and "SYNTHETIC DATA" in readme


def test_readme_names_a_runnable_generator_and_an_existing_assumptions_file(out: Path) -> None:
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "`python -m datapakke.raw.sample`" in readme
    assert importlib.util.find_spec(f"{GENERATOR}.__main__") is not None
    assert f"`{ASSUMPTIONS_FILE}`" in readme
    assert (REPO_ROOT / ASSUMPTIONS_FILE).is_file()


def test_registry_points_at_sample_files_and_their_measures(out: Path) -> None:
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    measures = {f["path"]: set(f["measures"]) for f in manifest["files"]}
    specs = load_registry(REFERENCE_DIR / "sources.yaml")
    assert len({s.id for s in specs}) == len(specs)
    for spec in specs:
        assert spec.sample_file in measures, spec.id
        bases = set(spec.measure_map.values()) or {spec.measure}
        assert bases <= measures[spec.sample_file], spec.id
        assert set(spec.layout or {}) <= LAYOUT_KEYS, spec.id
    assert set().union(*measures.values()) == set().union(
        *(set(s.measure_map.values()) or {s.measure} for s in specs)
    )


def test_sample_is_small_enough() -> None:
    total = sum(len(d) for d in files_of(SAMPLE_DIR).values())
    assert total < 25_000_000


# ------------------------------------------------------------------------------ StatBank
def check_lines(data: bytes, *, bom: bool, crlf: bool) -> list[bytes]:
    assert data.startswith(BOM) == bom
    if crlf:
        assert data.count(b"\n") == data.count(b"\r\n") > 0
    else:
        assert b"\r" not in data
    return data.removeprefix(BOM).splitlines()


def test_folk1a_is_bulk_with_aggregates_that_sum(out: Path) -> None:
    data = (out / "statbank/FOLK1A.csv").read_bytes()
    lines = check_lines(data, bom=False, crlf=True)
    assert lines[0] == "OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD".encode()
    assert lines[0] == lines[0].upper()
    frame = read_csv(data)
    assert set(frame["KØN"]) == {"1", "2"} and set(frame["CIVILSTAND"]) == {"TOT"}
    assert set(frame["ALDER"]) == set(BANDS)
    assert set(frame["TID"]) == {f"{y}K{q}" for y in range(2015, 2026) for q in range(1, 5)}
    assert set(frame["OMRÅDE"]) == CODES | AGGREGATES
    value = frame["INDHOLD"].astype(int)
    is_municipality = frame["OMRÅDE"].isin(CODES)
    assert value[frame["OMRÅDE"] == "000"].sum() == value[is_municipality].sum()
    regions = frame["OMRÅDE"].isin(AGGREGATES - {"000"})
    assert value[regions].sum() == value[is_municipality].sum()


def test_fod207_has_bom_crlf_and_confidential_cells(out: Path) -> None:
    data = (out / "statbank/FOD207.csv").read_bytes()
    lines = check_lines(data, bom=True, crlf=True)
    assert lines[0] == "OMRÅDE;ALDER;KØN;TID;INDHOLD".encode()  # FOD207 order, KØN coded M/K
    assert b";..\r\n" in data
    frame = read_csv(data)
    assert set(frame["OMRÅDE"]) == CODES | AGGREGATES
    assert set(frame["TID"]) == {str(y) for y in range(2015, 2026)}
    national = frame[frame["OMRÅDE"] == "000"]
    yearly = national.groupby("TID")["INDHOLD"].apply(lambda s: s.astype(int).sum())
    assert yearly.between(45_000, 65_000).all()  # Denmark: ~55,000 deaths a year


def test_aed06_is_written_with_labels(out: Path) -> None:
    data = (out / "statbank/AED06.csv").read_bytes()
    check_lines(data, bom=True, crlf=True)
    frame = read_csv(data)
    assert list(frame.columns) == ["OMRÅDE", "ALDER", "TID", "INDHOLD"]
    assert set(frame["OMRÅDE"]) == set(MUNICIPALITIES["municipality_name"])
    assert set(frame["ALDER"]) == {"65 år og derover"}


def test_hjemsyg_and_sygk1(out: Path) -> None:
    hjemsyg = (out / "statbank/HJEMSYG.csv").read_bytes()
    check_lines(hjemsyg, bom=False, crlf=True)
    frame = read_csv(hjemsyg)
    assert set(frame["ALDER"]) == {"IALT"} and set(frame["KØN"]) == {"1", "2"}
    assert set(frame["TID"]) == {str(y) for y in range(2016, 2026)}
    sygk1 = (out / "statbank/SYGK1.csv").read_bytes()
    check_lines(sygk1, bom=True, crlf=True)
    frame = read_csv(sygk1)
    assert list(frame.columns) == ["OMRÅDE", "YDELSE", "ALDER", "KØN", "TID", "INDHOLD"]
    assert set(frame["YDELSE"]) == {"1", "2"}
    assert set(frame["ALDER"]) == set(frame["KØN"]) == {"TOT"}
    consultations = frame[(frame["YDELSE"] == "1") & (frame["TID"] == "2024")]
    per_citizen = (
        consultations["INDHOLD"].astype(int).sum()
        / MUNICIPALITIES["approx_population_2024"].astype(int).sum()
    )
    assert 5.5 < per_citizen < 7.5


# ------------------------------------------------------------------------------ eSundhed
def test_psykiatri_is_lf_only_with_exact_counts(out: Path) -> None:
    data = (out / "esundhed/psykiatri.csv").read_bytes()
    lines = check_lines(data, bom=False, crlf=False)
    assert lines[0] == "Kommunekode;Kommune;År;Køn;Indikator;Antal".encode()
    frame = read_csv(data)
    assert frame["Antal"].str.fullmatch(r"\d+").all()
    assert set(frame["Køn"]) == {"Mænd", "Kvinder"}
    keys = ["Kommunekode", "År", "Køn"]
    wide = frame.pivot_table(index=keys, columns="Indikator", values="Antal", aggfunc="first")
    readmissions = wide["Psykiatriske genindlæggelser inden for 30 dage"].astype(int)
    assert (readmissions <= wide["Psykiatriske udskrivninger"].astype(int)).all()


def test_aktivitet_has_bom_crlf_and_thousands_separators(out: Path) -> None:
    data = (out / "esundhed/aktivitet.csv").read_bytes()
    check_lines(data, bom=True, crlf=True)
    frame = read_csv(data)
    assert frame["Antal"].str.fullmatch(r"\d{1,3}(\.\d{3})*").all()
    assert frame["Antal"].str.contains(".", regex=False).any()
    assert set(frame["År"]) == {str(y) for y in range(2019, 2026)}
    assert set(frame["Aldersgruppe"]) == set(BANDS)


def test_aeldre_xlsx_layout(out: Path) -> None:
    rows = sheet_rows(out / "esundhed/aeldre.xlsx", "Data")
    assert rows[0][0] == "Sundhedsdatastyrelsen – Ældre medicinske patienter"
    assert rows[1][0].startswith("SYNTETISKE DATA")
    assert all(v is None for v in rows[2])
    assert list(rows[3]) == [
        "Kommune", "Køn", "Aldersgruppe", "Indikator", *[str(y) for y in range(2015, 2026)]
    ]  # fmt: skip
    assert rows[4][0] == "0101 København"
    assert rows[5][0] is None  # blank = same municipality as above
    assert rows[-2][0].startswith("Kilde") and rows[-1][0].startswith("<5")
    assert any(v == "<5" for row in rows[4:] for v in row[4:])
    table = aeldre_table(out)
    assert set(table["Kommune"].str.fullmatch(r"0\d{3} .+")) == {True}
    assert set(table["Aldersgruppe"]) == {
        "65-69 år", "70-74 år", "75-79 år", "80-84 år", "85-89 år", "90 år og derover"
    }  # fmt: skip


def test_aeldre_readmissions_never_exceed_discharges(out: Path) -> None:
    table = aeldre_table(out)
    low = table["Antal"].map(lambda v: 1 if v == "<5" else int(v))
    high = table["Antal"].map(lambda v: 4 if v == "<5" else int(v))
    keys = ["Kommune", "Køn", "Aldersgruppe", "År"]
    readm = table["Indikator"] == "Genindlæggelser inden for 30 dage"
    disch = table["Indikator"] == "Udskrivninger"
    readmissions = pd.Series(
        low[readm].to_numpy(), index=pd.MultiIndex.from_frame(table[readm][keys])
    )
    discharges = pd.Series(
        high[disch].to_numpy(), index=pd.MultiIndex.from_frame(table[disch][keys])
    )
    assert len(readmissions) == len(discharges) > 0
    assert (readmissions <= discharges.reindex(readmissions.index)).all()
    share = (
        table.loc[readm, "Antal"].map(lambda v: 2 if v == "<5" else v).astype(int).sum()
        / table.loc[disch, "Antal"].map(lambda v: 2 if v == "<5" else v).astype(int).sum()
    )
    assert 0.10 <= share <= 0.15


def test_kronisk_xlsx_layout(out: Path) -> None:
    workbook = openpyxl.load_workbook(out / "esundhed/kronisk.xlsx", read_only=True)
    assert workbook.sheetnames == ["RUKS", "KOL-indlæggelser"]
    assert workbook.properties.creator == "datapakke.raw.sample"
    workbook.close()
    ruks = sheet_rows(out / "esundhed/kronisk.xlsx", "RUKS")
    assert "SYNTETISKE DATA" in ruks[0][0] and all(v is None for v in ruks[1])
    assert list(ruks[2]) == [
        "Kommunekode", "Kommunenavn", "Køn", "Alder", "Sygdom", *map(str, range(2015, 2026))
    ]  # fmt: skip
    assert ruks[3][0] == "0101"
    kol = sheet_rows(out / "esundhed/kronisk.xlsx", "KOL-indlæggelser")
    assert kol[1][0].startswith("SYNTETISKE DATA")
    assert list(kol[3]) == ["Kommune", "År", "Køn", "Antal indlæggelser"]
    table = ruks_table(out)
    assert set(table["Sygdom"]) == {
        "Type 2-diabetes", "KOL", "Demens", "Leddegigt", "Knogleskørhed", "Astma"
    }  # fmt: skip
    assert set(table["Alder"]) <= set(BANDS)


# ------------------------------------------------------------------------ Sundhedsprofilen
def test_sundhedsprofil_is_cp1252_with_title_and_decimal_commas(out: Path) -> None:
    data = (out / "sundhedsprofil/sundhedsprofil.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    lines = check_lines(data, bom=False, crlf=True)
    assert lines[0].decode("cp1252") == "Den Nationale Sundhedsprofil – SYNTETISKE DATA"
    assert lines[1].decode("cp1252").startswith("Kommune;Indikator;År;Andel (%)")
    frame = read_csv(data, "cp1252", skip=1)
    assert frame["Kommune"].str.contains("[æøå]").any()
    assert {"Århus", "Høje Taastrup", "Bornholms Regionskommune"} <= set(frame["Kommune"])
    for column in ("Andel (%)", "Nedre grænse (%)", "Øvre grænse (%)"):
        assert frame[column].str.fullmatch(r"\d{1,3},\d").all()
    pct = frame["Andel (%)"].str.replace(",", ".").astype(float)
    low = frame["Nedre grænse (%)"].str.replace(",", ".").astype(float)
    high = frame["Øvre grænse (%)"].str.replace(",", ".").astype(float)
    assert ((low <= pct) & (pct <= high)).all()
    assert frame["Antal svarpersoner"].astype(int).between(250, 2300).all()
    smoking = frame[frame["Indikator"] == "Dagligrygning"].assign(p=pct)
    assert smoking.groupby("År")["p"].mean()["2023"] < smoking.groupby("År")["p"].mean()["2013"]


# --------------------------------------------------------------------------------- content
def municipality_codes(out: Path) -> dict[str, set[str]]:
    """The municipality codes each municipal source covers (aggregates removed)."""
    statbank = {
        name: set(read_csv((out / f"statbank/{name}.csv").read_bytes())["OMRÅDE"]) - AGGREGATES
        for name in ("FOLK1A", "FOD207", "HJEMSYG", "SYGK1")
    }
    aed06 = read_csv((out / "statbank/AED06.csv").read_bytes())["OMRÅDE"]
    profile = read_csv((out / "sundhedsprofil/sundhedsprofil.csv").read_bytes(), "cp1252", 1)
    return {
        **statbank,
        "AED06": set(aed06.map(NAME_TO_CODE)),
        "aeldre": set(aeldre_table(out)["Kommune"].str[1:4]),
        "RUKS": set(ruks_table(out)["Kommunekode"].str[1:]),
        "KOL": set(kol_table(out)["Kommune"].str[1:4]),
        "psykiatri": set(read_csv((out / "esundhed/psykiatri.csv").read_bytes())["Kommunekode"]),
        "aktivitet": set(read_csv((out / "esundhed/aktivitet.csv").read_bytes())["Kommunekode"]),
        "sundhedsprofil": set(profile["Kommune"].map(NAME_TO_CODE)),
    }


def test_every_municipality_in_every_source(out: Path) -> None:
    for source, codes in municipality_codes(out).items():
        assert codes == CODES, source


def test_age_labels_are_the_agreed_ones(out: Path) -> None:
    labels = set(aeldre_table(out)["Aldersgruppe"]) | set(ruks_table(out)["Alder"])
    labels |= set(read_csv((out / "esundhed/aktivitet.csv").read_bytes())["Aldersgruppe"])
    for name in ("FOLK1A", "FOD207", "AED06", "HJEMSYG", "SYGK1"):
        labels |= set(read_csv((out / f"statbank/{name}.csv").read_bytes())["ALDER"])
    assert labels <= ALLOWED_AGES


def small_cell_count(out: Path) -> int:
    values = [
        read_csv((out / "statbank/FOD207.csv").read_bytes())["INDHOLD"],
        read_csv((out / "esundhed/psykiatri.csv").read_bytes())["Antal"],
        read_csv((out / "esundhed/aktivitet.csv").read_bytes())["Antal"],
        ruks_table(out)["Antal personer"].astype(str),
        kol_table(out)["Antal indlæggelser"].astype(str),
    ]
    exact = sum(int(v.isin(["1", "2", "3", "4"]).sum()) for v in values)
    return exact + int((aeldre_table(out)["Antal"] == "<5").sum())


def test_values_are_non_negative_and_small_counts_exist(out: Path) -> None:
    for name in ("FOLK1A", "FOD207", "AED06", "HJEMSYG", "SYGK1"):
        values = read_csv((out / f"statbank/{name}.csv").read_bytes())["INDHOLD"]
        assert values[values != ".."].astype(int).min() >= 0, name
    assert count(read_csv((out / "esundhed/aktivitet.csv").read_bytes())["Antal"]).min() >= 0
    assert (ruks_table(out)["Antal personer"] >= 0).all()
    assert (kol_table(out)["Antal indlæggelser"] >= 0).all()
    numbers = aeldre_table(out)["Antal"]
    assert (numbers[numbers != "<5"].astype(int) >= 0).all()
    assert small_cell_count(out) >= 30


def test_real_trends_and_plausible_levels(out: Path) -> None:
    folk = read_csv((out / "statbank/FOLK1A.csv").read_bytes())
    national = folk[folk["OMRÅDE"] == "000"].assign(n=lambda f: f["INDHOLD"].astype(int))
    by = national.pivot_table(index="TID", columns="ALDER", values="n", aggfunc="sum")
    share_80 = by[["80-84", "85-89", "90+"]].sum(axis=1) / by.sum(axis=1)
    assert share_80["2025K1"] > share_80["2015K1"]
    pop_65 = by[BANDS[13:]].sum(axis=1)

    table = aeldre_table(out)
    preventable = table[table["Indikator"] == "Forebyggelige indlæggelser"]
    events = preventable["Antal"].map(lambda v: 2 if v == "<5" else v).astype(int)
    per_1000 = (
        events.groupby(preventable["År"]).sum()
        / pop_65[[f"{y}K1" for y in range(2015, 2026)]].to_numpy()
        * 1000
    )
    assert per_1000["2025"] < per_1000["2015"]
    assert 35 <= per_1000["2024"] <= 65

    ruks = ruks_table(out)
    total = by.sum(axis=1)
    prevalence = ruks.groupby(["Sygdom", "År"])["Antal personer"].sum()
    diabetes_2024 = prevalence["Type 2-diabetes", 2024] / total["2024K1"]
    copd_2024 = prevalence["KOL", 2024] / total["2024K1"]
    dementia_65 = prevalence["Demens"] / pop_65[[f"{y}K1" for y in range(2015, 2026)]].to_numpy()
    assert 0.045 <= diabetes_2024 <= 0.065
    assert 0.02 <= copd_2024 <= 0.04
    assert 0.01 <= dementia_65[2024] <= 0.025
    assert dementia_65[2025] > dementia_65[2015]
