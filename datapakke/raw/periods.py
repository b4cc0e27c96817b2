"""Period codes as the sources write them, parsed once so every source agrees on what a period is.

StatBank codes quarters ``2024K1`` (English labels say ``2024Q1``), months ``2024M01``, years
``2024`` and half-years ``2024H1``; Danish files add ``2024 K1`` and ``2024-01``. All of them
become one :class:`Period` with a canonical ``code`` (the StatBank form) and a Danish label.
A trailing ``*`` (``2021M10*``, the web export's mark for a provisional figure) is ignored: the
period is the same, only the number may still be revised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Freq = Literal["Y", "H", "Q", "M"]

MONTHS_DA = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
_SUB_RANGE = {"Y": (0, 0), "H": (1, 2), "Q": (1, 4), "M": (1, 12)}
_SUB_NAME = {"H": "half-year", "Q": "quarter", "M": "month"}
_MONTHS_PER = {"Y": 12, "H": 6, "Q": 3, "M": 1}
_LETTER_FREQ: dict[str, Freq] = {"H": "H", "K": "Q", "Q": "Q", "M": "M"}

_YEAR = re.compile(r"(\d{4})")
_CODED = re.compile(r"(\d{4})\s?([A-Za-z])(\d{1,2})")
_DASH_MONTH = re.compile(r"(\d{4})-(\d{2})")

ACCEPTED_FORMS = (
    "2024, 2024H1, 2024K1 (also 2024Q1, 2024 K1, 2024K01), 2024M01 (also 2024M1, 2024-01)"
)


@dataclass(frozen=True)
class Period:
    """One reporting period: ``sub`` is the half-year, quarter or month number (0 for a year)."""

    year: int
    freq: Freq
    sub: int = 0

    def __post_init__(self) -> None:
        if self.freq not in _SUB_RANGE:
            raise ValueError(f"unknown period frequency {self.freq!r}; use one of Y, H, Q, M")
        low, high = _SUB_RANGE[self.freq]
        if not low <= self.sub <= high:
            what = _SUB_NAME.get(self.freq, "year")
            raise ValueError(f"{what} number must be {low}-{high}, got {self.sub}")
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"year must have four digits, got {self.year}")

    @property
    def code(self) -> str:
        """The canonical StatBank code: ``2024``, ``2024H1``, ``2024K1``, ``2024M01``."""
        if self.freq == "Y":
            return str(self.year)
        if self.freq == "M":
            return f"{self.year}M{self.sub:02d}"
        return f"{self.year}{'K' if self.freq == 'Q' else 'H'}{self.sub}"

    @property
    def label_da(self) -> str:
        """How a Danish reader expects the period written in a pack."""
        if self.freq == "Y":
            return str(self.year)
        if self.freq == "H":
            return f"{self.sub}. halvår {self.year}"
        if self.freq == "Q":
            return f"{self.sub}. kvt. {self.year}"
        return f"{MONTHS_DA[self.sub - 1]} {self.year}"

    @property
    def start(self) -> date:
        """First day of the period."""
        first_month = 1 if self.freq == "Y" else (self.sub - 1) * _MONTHS_PER[self.freq] + 1
        return date(self.year, first_month, 1)

    @property
    def end(self) -> date:
        """Last day of the period."""
        months = self.start.month - 1 + _MONTHS_PER[self.freq]
        next_start = date(self.year + months // 12, months % 12 + 1, 1)
        return next_start - timedelta(days=1)

    def __str__(self) -> str:
        return self.code


def parse_period(text: str) -> Period:
    """Parse any period form the sources use; a clear ValueError names the text otherwise.

    One trailing ``*`` (provisional) is dropped first; other footnote marks are refused.
    """
    if not isinstance(text, str):
        raise ValueError(f"period must be text, got {type(text).__name__} {text!r}")
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(f"empty period code; expected one of: {ACCEPTED_FORMS}")
    cleaned = cleaned.removesuffix("*").rstrip()
    try:
        if match := _YEAR.fullmatch(cleaned):
            return Period(int(match.group(1)), "Y", 0)
        if match := _DASH_MONTH.fullmatch(cleaned):
            return Period(int(match.group(1)), "M", int(match.group(2)))
        if match := _CODED.fullmatch(cleaned):
            freq = _LETTER_FREQ.get(match.group(2).upper())
            if freq is not None:
                return Period(int(match.group(1)), freq, int(match.group(3)))
    except ValueError as error:
        raise ValueError(f"invalid period {text!r}: {error}") from None
    raise ValueError(f"invalid period {text!r}; expected one of: {ACCEPTED_FORMS}")


def is_future(period: Period, today: date) -> bool:
    """True when the period has not begun by ``today`` (a data row for it cannot be real yet)."""
    return period.start > today


def describe_periods(codes: Iterable[str]) -> str:
    """Period codes as people read a span: ``2019–2023, 2025`` ('' for none).

    Consecutive periods of one frequency become one run, so a warning or a table names what a
    file covers in a few characters however many quarters it holds.
    """
    periods = sorted({parse_period(code) for code in codes}, key=lambda p: (p.freq, p.start))
    runs: list[list[Period]] = []
    for period in periods:
        last = runs[-1][-1] if runs else None
        if last and last.freq == period.freq and last.end + timedelta(days=1) == period.start:
            runs[-1].append(period)
        else:
            runs.append([period])
    return ", ".join(
        run[0].code if len(run) == 1 else f"{run[0].code}–{run[-1].code}" for run in runs
    )
