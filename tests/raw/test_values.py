"""Danish number parsing: formats, suppression markers, clear errors, and a vectorised twin."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datapakke.raw.values import (
    MISSING_MARKERS,
    SUPPRESSED_MARKERS,
    ParsedNumber,
    looks_like_formula,
    parse_number,
    parse_number_series,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.234", 1234.0),
        ("1.234,5", 1234.5),
        ("1.234.567,25", 1234567.25),
        ("12,5", 12.5),
        ("-3", -3.0),  # negative stays negative: validation rejects it, not the parser
        ("−3,5", -3.5),  # typographic minus
        ("+7", 7.0),
        (" 42 ", 42.0),
        ("\u00a042\u00a0", 42.0),
        ("1 234", 1234.0),
        ("1\u00a0234", 1234.0),  # NBSP thousands (Excel's Danish number format)
        ("1\u202f234,5", 1234.5),  # narrow NBSP
        ("0", 0.0),
        (",5", 0.5),
        ("0012", 12.0),
        ("1,5E+03", 1500.0),  # Excel writes large numbers this way in CSV
    ],
)
def test_parses_danish_numbers(text: str, value: float) -> None:
    assert parse_number(text) == ParsedNumber(value, False, False)


@pytest.mark.parametrize("text", ["", "   ", None, "-", "–", "—", ".", float("nan")])
def test_missing_is_nan_and_not_suppressed(text: str | None) -> None:
    parsed = parse_number(text)
    assert math.isnan(parsed.value)
    assert parsed.is_missing and not parsed.is_suppressed


@pytest.mark.parametrize("text", [*sorted(SUPPRESSED_MARKERS), "< 5", " .. ", "DISKRETIONERET"])
def test_suppression_markers(text: str) -> None:
    parsed = parse_number(text)
    assert math.isnan(parsed.value)
    assert parsed.is_suppressed and not parsed.is_missing


def test_markers_are_disjoint_and_a_lone_dash_is_missing_not_zero() -> None:
    assert not SUPPRESSED_MARKERS & MISSING_MARKERS
    assert parse_number("-").is_missing
    assert not parse_number("-").is_suppressed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number (expected e.g. 1.234,5"),
        ("12,3,4", "'12,3,4' is not a number: more than one decimal separator ','"),
        ("1.23", "'.' is the thousands separator here (decimal is ',')"),
        ("12.5", "must be followed by groups of three digits"),
        ("1.2345", "thousands separator"),
        ("ca. 40", "'ca. 40' is not a number"),
        ("12 %", "is not a number"),
        ("--3", "is not a number"),
        ("1e999", "'1e999' is too large to be a number"),
        ("x" * 80, "'" + "x" * 50 + "…' is not a number"),
    ],
)
def test_bad_text_raises_a_clear_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"is not a number|too large") as info:
        parse_number(text)
    assert message in str(info.value)


def test_point_decimal_layout() -> None:
    assert parse_number("1,234.5", decimal=".").value == 1234.5
    assert parse_number("12.5", decimal=".").value == 12.5
    with pytest.raises(ValueError, match="',' is the thousands separator"):
        parse_number("12,5", decimal=".")
    with pytest.raises(ValueError, match="decimal must be"):
        parse_number("1", decimal=";")


def test_series_matches_scalar_and_never_raises() -> None:
    texts = ["1.234,5", "..", "<5", "", None, np.nan, "-", "abc", "12,3,4", " 7 ", "-3", "1e999"]
    series = pd.Series(texts, index=[10 * i for i in range(len(texts))], dtype=object)
    result = parse_number_series(series)
    assert list(result.columns) == ["value", "is_suppressed", "is_missing", "error"]
    assert list(result.index) == list(series.index)
    assert result["value"].dtype == float
    assert result["is_suppressed"].dtype == bool and result["is_missing"].dtype == bool
    for text, row in zip(texts, _as_tuples(result), strict=True):
        assert _same(row, _scalar(text)), (text, row, _scalar(text))
    assert math.isnan(result["value"].iloc[-1]) and "too large" in result["error"].iloc[-1]


def test_series_keeps_nul_and_empty_apart() -> None:
    # pd.factorize treats '' and '\x00' as one value; the parser must not.
    result = parse_number_series(pd.Series(["", "\x00", "5\x00"], dtype=object))
    assert result["is_missing"].tolist() == [True, False, False]
    assert (result["error"].iloc[1:] != "").all()


def test_series_edge_shapes() -> None:
    assert parse_number_series(pd.Series([], dtype=object)).empty
    all_missing = parse_number_series(pd.Series([None, np.nan], dtype=object))
    assert all_missing["is_missing"].all() and (all_missing["error"] == "").all()
    numeric = parse_number_series(pd.Series([1, 2.5, None]))
    assert numeric["value"].tolist()[:2] == [1.0, 2.5] and numeric["is_missing"].tolist()[2]
    dotted = parse_number_series(pd.Series(["1,234.5", "12,5"]), decimal=".")
    assert dotted["value"].tolist()[0] == 1234.5 and "thousands" in dotted["error"].iloc[1]


def test_series_parses_200k_distinct_rows() -> None:
    rng = np.random.default_rng(3)
    numbers = rng.integers(0, 10**9, 200_000)
    texts = pd.Series([f"{n:,}".replace(",", ".") + ",5" for n in numbers])
    result = parse_number_series(texts)
    assert (result["error"] == "").all()
    assert np.allclose(result["value"].to_numpy(), numbers + 0.5)


def _danish(value: float, decimals: int, thousands: str = ".") -> str:
    """Format like Danish Excel: '.' (or a space) between thousands, ',' before decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", thousands)


_FORMATTED = st.tuples(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.integers(min_value=0, max_value=4),
    st.sampled_from([".", " ", "\u00a0", ""]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_FORMATTED, min_size=1, max_size=30))
def test_round_trip_of_formatted_danish_numbers(cases: list[tuple[float, int, str]]) -> None:
    texts = [_danish(value, decimals, thousands) for value, decimals, thousands in cases]
    expected = [float(f"{value:.{decimals}f}") for value, decimals, _ in cases]
    assert [parse_number(text).value for text in texts] == expected
    assert parse_number_series(pd.Series(texts))["value"].tolist() == expected


def _as_tuples(result: pd.DataFrame) -> list[tuple[float, bool, bool, str]]:
    return list(
        zip(
            result["value"].tolist(),
            result["is_suppressed"].tolist(),
            result["is_missing"].tolist(),
            result["error"].tolist(),
            strict=True,
        )
    )


def _scalar(text: object) -> tuple[float, bool, bool, str]:
    try:
        parsed = parse_number(text)  # type: ignore[arg-type]
    except ValueError as exc:
        return (math.nan, False, False, str(exc))
    return (parsed.value, parsed.is_suppressed, parsed.is_missing, "")


def _same(a: tuple, b: tuple) -> bool:
    nan_a, nan_b = math.isnan(a[0]), math.isnan(b[0])
    return ((nan_a and nan_b) or a[0] == b[0]) and a[1:] == b[1:]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=12),
            st.text(alphabet="0123456789.,- +−<*\u00a0eE", max_size=12),
            st.none(),
        ),
        max_size=40,
    )
)
def test_random_text_never_crashes_and_series_agrees_with_scalar(texts: list) -> None:
    result = parse_number_series(pd.Series(texts, dtype=object))
    assert len(result) == len(texts)
    for text, row in zip(texts, _as_tuples(result), strict=True):
        assert _same(row, _scalar(text)), (text, row, _scalar(text))


@pytest.mark.parametrize(
    ("text", "is_formula"),
    [
        ("=SUM(A1)", True),
        ("@foo", True),
        ("+cmd|' /C calc'!A0", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ('=HYPERLINK("http://x";"y")', True),
        ("  =1+1", True),  # the reader strips cells, so leading spaces do not protect
        ("=", True),
        ("- Næstved", True),
        ("-3", False),
        ("+3", False),
        ("-1.234,5", False),
        ("-12.5", False),
        ("-", False),
        ("+", False),
        ("--", False),
        ("Næstved", False),
        ("", False),
        (None, False),
        (3, False),
    ],
)
def test_looks_like_formula(text: object, is_formula: bool) -> None:
    assert looks_like_formula(text) is is_formula
