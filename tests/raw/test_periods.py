"""Period codes: every form the sources write is accepted, everything else is refused clearly."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from datapakke.raw.periods import Period, is_future, parse_period


@pytest.mark.parametrize(
    ("text", "year", "freq", "sub", "code"),
    [
        ("2024", 2024, "Y", 0, "2024"),
        ("2024H1", 2024, "H", 1, "2024H1"),
        ("2024H2", 2024, "H", 2, "2024H2"),
        ("2024K1", 2024, "Q", 1, "2024K1"),
        ("2024K4", 2024, "Q", 4, "2024K4"),
        ("2024Q1", 2024, "Q", 1, "2024K1"),
        ("2024Q3", 2024, "Q", 3, "2024K3"),
        ("2024K01", 2024, "Q", 1, "2024K1"),
        ("2024 K1", 2024, "Q", 1, "2024K1"),
        ("2024k2", 2024, "Q", 2, "2024K2"),
        ("2024M01", 2024, "M", 1, "2024M01"),
        ("2024M1", 2024, "M", 1, "2024M01"),
        ("2024M12", 2024, "M", 12, "2024M12"),
        ("2024-01", 2024, "M", 1, "2024M01"),
        ("2024-12", 2024, "M", 12, "2024M12"),
        ("  2024K2 ", 2024, "Q", 2, "2024K2"),
        ("\t2023\r\n", 2023, "Y", 0, "2023"),
        ("2021M10*", 2021, "M", 10, "2021M10"),
        ("2024K1*", 2024, "Q", 1, "2024K1"),
        ("2023*", 2023, "Y", 0, "2023"),
        ("2024M01 * ", 2024, "M", 1, "2024M01"),
    ],
)
def test_accepted_forms(text: str, year: int, freq: str, sub: int, code: str) -> None:
    period = parse_period(text)
    assert (period.year, period.freq, period.sub) == (year, freq, sub)
    assert period.code == code
    assert parse_period(period.code) == period


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "2024K5",
        "2024K0",
        "2024Q5",
        "2024H3",
        "2024H0",
        "2024M13",
        "2024M00",
        "2024-13",
        "2024-00",
        "2024-1",
        "2024K001",
        "2024 K 1",
        "2024X1",
        "20x4",
        "24K1",
        "202401",
        "2024/01",
        "K1 2024",
        "2024K1x",
        "2024.0",
        "*",
        "2021M10**",
        "2021*M10",
        "2021M10 (foreløbig)",
        "2021M10+",
    ],
)
def test_rejected_forms(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_period(text)
    message = str(info.value)
    assert repr(text) in message or "empty" in message
    assert "expected" in message or "must be" in message


def test_rejection_says_why() -> None:
    with pytest.raises(ValueError, match=r"quarter number must be 1-4, got 5"):
        parse_period("2024K5")
    with pytest.raises(ValueError, match=r"month number must be 1-12"):
        parse_period("2024M13")


def test_provisional_mark_is_the_same_period() -> None:
    """A web export marks provisional figures 2021M10*: same month, the mark is dropped."""
    assert parse_period("2021M10*") == Period(2021, "M", 10) == parse_period("2021M10")
    assert parse_period("2021M10*").label_da == "oktober 2021"
    with pytest.raises(ValueError, match=r"invalid period '2021M13\*'"):
        parse_period("2021M13*")


@pytest.mark.parametrize("value", [None, 2024, 2024.0])
def test_non_text_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="must be text"):
        parse_period(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("2024", "2024"),
        ("2024H1", "1. halvår 2024"),
        ("2024H2", "2. halvår 2024"),
        ("2024K1", "1. kvt. 2024"),
        ("2024K4", "4. kvt. 2024"),
        ("2024M01", "januar 2024"),
        ("2024M03", "marts 2024"),
        ("2024M05", "maj 2024"),
        ("2024M12", "december 2024"),
    ],
)
def test_danish_labels(text: str, label: str) -> None:
    assert parse_period(text).label_da == label


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024H2", date(2024, 7, 1), date(2024, 12, 31)),
        ("2024K1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2024K4", date(2024, 10, 1), date(2024, 12, 31)),
        ("2024M02", date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_start_and_end(text: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "today", "future"),
    [
        ("2025K2", date(2025, 3, 31), True),
        ("2025K2", date(2025, 4, 1), False),
        ("2025K1", date(2025, 2, 15), False),
        ("2026", date(2025, 12, 31), True),
        ("2025", date(2025, 12, 31), False),
        ("2025M07", date(2025, 6, 30), True),
        ("2025H2", date(2025, 7, 1), False),
    ],
)
def test_is_future(text: str, today: date, future: bool) -> None:
    assert is_future(parse_period(text), today) is future


def test_period_is_frozen_and_checked() -> None:
    period = Period(2024, "Q", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        period.year = 2025  # type: ignore[misc]
    with pytest.raises(ValueError):
        Period(2024, "Q", 5)
    with pytest.raises(ValueError):
        Period(2024, "Y", 1)
    with pytest.raises(ValueError):
        Period(2024, "W", 1)  # type: ignore[arg-type]
    assert str(period) == "2024K1"
    assert {Period(2024, "Q", 1), parse_period("2024Q1")} == {period}
