"""Cell values: the one guard every value passes on its way into a sheet, and text helpers.

Text from input files or the catalogue must stay text (never a formula Excel would run) and NaN
must never reach Excel, on every sheet and in both writers (openpyxl and ``fast_rows``), so both
call ``safe_value`` and nothing else decides what a cell holds.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from datapakke.presentation import MONTHS_DA

_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_ILLEGAL_CHARS = re.compile(r"[\000-\010\013\014\016-\037]")  # as openpyxl: XML cannot hold them
_ERROR_TEXTS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def safe_value(value: Any) -> tuple[Any, bool]:
    """What may be stored for ``value``, and whether it needs a quote prefix.

    Text stays text (a quote prefix stops Excel re-evaluating '=', '+', '-', '@' on edit),
    characters XML cannot hold are dropped, numbers stay numbers, and NaN/inf/None become None
    (callers show the suppressed text or '–' instead).
    """
    if value.__class__ is float:  # the common case, first
        return (value if math.isfinite(value) else None), False
    if isinstance(value, str):
        text = _ILLEGAL_CHARS.sub("", value)[:32767]
        return text, text.startswith(_RISKY_START) or text in _ERROR_TEXTS
    if value is None or value is pd.NA:
        return None, False
    if isinstance(value, bool):
        return value, False
    if isinstance(value, datetime):
        return naive_utc(value), False  # Excel has no time zones
    if getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
        return bool(value), False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return safe_value(str(value))
    if not math.isfinite(number):
        return None, False
    return (value if isinstance(value, int) else number), False


def is_missing(value: Any) -> bool:
    """No number to show (None, NaN, inf, NA): the cell shows '–' or the suppressed text."""
    return safe_value(value)[0] is None


def as_text(value: Any) -> str:
    """A catalogue or mart field as text; '' for a missing one (never 'nan')."""
    return "" if value is None or value is pd.NA or is_nan(value) else str(value)


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def naive_utc(moment: datetime) -> datetime:
    """Naive datetimes in the marts are UTC; Excel wants naive UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def danish_time(moment: datetime) -> str:
    """'22. november 2026 kl. 03.30' in Danish local time."""
    utc = naive_utc(moment).replace(tzinfo=UTC)
    try:
        from zoneinfo import ZoneInfo

        local, zone = utc.astimezone(ZoneInfo("Europe/Copenhagen")), ""
    except Exception:  # no time-zone database: say it is UTC rather than guess
        local, zone = utc, " (UTC)"
    return f"{local.day}. {MONTHS_DA[local.month - 1]} {local.year} kl. {local:%H.%M}{zone}"
