"""What to ask StatBank for: ``POST /data`` bodies, variable lookup in tableinfo, and splitting
a CSV request along time so each part stays under StatBank's cell limit.

Pure functions of the configuration and tableinfo, so fetch can store exactly what was asked
and tests need no server.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CSV_CELL_LIMIT = 1_000_000
"""StatBank refuses a CSV extract of this many cells or more (``REQUEST-LIMIT``)."""

#: The extract formats the project can read (BULK streams without a cell limit).
FORMATS = ("BULK", "CSV")


def build_data_request(
    table: str,
    variables: Mapping[str, Sequence[str]],
    fmt: str = "BULK",
    value_presentation: str = "Code",
    lang: str | None = "da",
) -> dict[str, Any]:
    """The JSON body of ``POST /data`` (pure, so fetch can store exactly what was asked)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    body: dict[str, Any] = {
        "table": table,
        "format": fmt,
        "valuePresentation": value_presentation,
    }
    if lang:
        body["lang"] = lang
    body["variables"] = [
        {"code": code, "values": [str(v) for v in values]} for code, values in variables.items()
    ]
    return body


def _info_variables(info: Mapping[str, Any]) -> list[dict[str, Any]]:
    variables = info.get("variables")
    if not isinstance(variables, list):
        raise ValueError(f"tableinfo for {info.get('id', '?')} has no list of variables")
    return variables


def find_variable(info: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    """The tableinfo entry for a variable id (StatBank matches ids case-insensitively)."""
    variables = _info_variables(info)
    for variable in variables:
        if variable.get("id") == code:
            return variable
    folded = code.casefold()
    for variable in variables:
        if str(variable.get("id", "")).casefold() == folded:
            return variable
    return None


def time_variable(info: Mapping[str, Any]) -> dict[str, Any] | None:
    """The table's time variable: flagged ``time: true`` in tableinfo (id ``Tid`` in practice)."""
    for variable in _info_variables(info):
        if variable.get("time"):
            return variable
    return find_variable(info, "Tid")


def resolve_values(variable: Mapping[str, Any], values: Iterable[str]) -> list[str]:
    """Expand ``*`` / ``?`` patterns against the variable's value ids (in tableinfo order)."""
    ids = [str(v["id"]) for v in variable.get("values", [])]
    resolved: list[str] = []
    for value in values:
        value = str(value)
        if "*" in value or "?" in value:
            resolved += [i for i in ids if fnmatch.fnmatchcase(i, value)]
        else:
            resolved.append(value)
    return list(dict.fromkeys(resolved))


def count_cells(variables: Mapping[str, Sequence[str]], info: Mapping[str, Any]) -> int:
    """Cells of a CSV extract as StatBank counts them: rows × columns (one per variable + value).

    Rows are the product of the selected value counts; ``*`` means every value in tableinfo.
    Variables left out of the request are eliminated (summed) and so do not multiply.
    """
    rows = 1
    for code, values in variables.items():
        variable = find_variable(info, code)
        if variable is None:
            raise ValueError(f"table {info.get('id', '?')} has no variable {code!r}")
        rows *= len(resolve_values(variable, values))
    return rows * (len(variables) + 1)


def split_for_cell_limit(
    variables: Mapping[str, Sequence[str]],
    info: Mapping[str, Any],
    limit: int = CSV_CELL_LIMIT,
) -> list[dict[str, list[str]]]:
    """Split a request along the time variable so every part stays strictly under ``limit``.

    Time is the natural axis: parts are whole periods, so they concatenate into the same rows
    one big request would give. Raises ValueError when a single period is already too big
    (then use BULK, which has no limit).
    """
    request = {code: [str(v) for v in values] for code, values in variables.items()}
    if count_cells(request, info) < limit:
        return [request]
    tvar = time_variable(info)
    time_code = next(
        (c for c in request if tvar and c.casefold() == str(tvar["id"]).casefold()), None
    )
    table = info.get("id", "?")
    if tvar is None or time_code is None:
        raise ValueError(
            f"table {table}: request of {count_cells(request, info):,} cells is over the "
            f"{limit:,} cell limit and selects no time variable to split along; use BULK"
        )
    periods = resolve_values(tvar, request[time_code])
    one_period = count_cells({**request, time_code: periods[:1]}, info)
    if one_period >= limit:
        raise ValueError(
            f"table {table}: a single period is {one_period:,} cells, over the {limit:,} cell "
            "limit; narrow the other variables or use BULK"
        )
    per_part = max(1, (limit - 1) // one_period)
    return [
        {**request, time_code: periods[i : i + per_part]} for i in range(0, len(periods), per_part)
    ]
