"""Statistics Denmark's StatBank API (https://api.statbank.dk/v1): a small HTTP client and parsers.

The client is standard library only (``urllib.request``) so ``make fetch`` needs nothing beyond
the project's own dependencies. It retries what is worth retrying (5xx, network errors, timeouts,
truncated bodies) with exponential backoff and never retries a 4xx: StatBank's 400/404 answers
(``EXTRACT-NOTFOUND``, ``REQUEST-LIMIT``, ...) are final, and the error quotes them verbatim.

The parsers turn an extract into a DataFrame of text: values are *read*, never interpreted
(``..`` stays ``..``, ``1,5`` stays ``1,5``); validation types them later, with each row's line
number (``_source_row``) so a problem can be traced to the line a person would open.
"""

from __future__ import annotations

import csv
import fnmatch
import http.client
import io
import itertools
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from datapakke.config import get_settings
from datapakke.raw.errors import SourceFileError

CSV_CELL_LIMIT = 1_000_000
"""StatBank refuses a CSV/JSON-stat extract of this many cells or more (``REQUEST-LIMIT``)."""

FORMATS = ("BULK", "CSV", "JSONSTAT")
VALUE_COLUMN = "INDHOLD"
MISSING_VALUE = ".."
BOM = b"\xef\xbb\xbf"
USER_AGENT = "datapakker/0.1 (+https://api.statbank.dk)"


class StatBankError(Exception):
    """StatBank refused a request, or could not be reached; the message says which and why.

    ``status`` is the HTTP status (None when no response arrived), ``error_type_code`` and
    ``api_message`` are StatBank's own ``errorTypeCode`` and ``message`` when it sent them.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type_code: str | None = None,
        api_message: str | None = None,
        table: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type_code = error_type_code
        self.api_message = api_message
        self.table = table
        self.url = url
        self.attempts = attempts


# --------------------------------------------------------------------------- request building


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


# --------------------------------------------------------------------------- HTTP client


def _error_details(body: bytes) -> tuple[str | None, str | None, str]:
    """StatBank's (errorTypeCode, message) from an error body, plus a short text fallback."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        code = parsed.get("errorTypeCode")
        message = parsed.get("message")
        return (
            str(code) if code is not None else None,
            str(message) if message is not None else None,
            text[:300],
        )
    return None, None, " ".join(text.split())[:300]


class StatBankClient:
    """A small, real HTTP client for StatBank's POST endpoints.

    ``max_retries`` is the number of *re*-tries: a request is tried at most ``max_retries + 1``
    times, waiting ``backoff * 2**n`` seconds (n = 0, 1, ...) between tries. ``sleep`` is
    injectable so tests run fast.
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 60,
        max_retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or get_settings().statbank_url).rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self._sleep = sleep

    def url(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint.lstrip('/')}"

    def post(self, endpoint: str, body: Mapping[str, Any], table: str | None = None) -> bytes:
        """POST a JSON body and return the response body, retrying transient failures."""
        url = self.url(endpoint)
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        attempts = self.max_retries + 1
        what = f"table {table}" if table else endpoint
        last_error = "no attempt made"
        last_status: int | None = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(
                url,
                data=payload,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Accept": "*/*",
                    "User-Agent": USER_AGENT,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    content = response.read()
                    declared = response.headers.get("Content-Length")
                    if declared and declared.strip().isdigit() and len(content) < int(declared):
                        raise http.client.IncompleteRead(content, int(declared) - len(content))
                    return content
            except urllib.error.HTTPError as error:
                try:
                    error_body = error.read()
                except (OSError, http.client.HTTPException):
                    error_body = b""
                code, message, text = _error_details(error_body)
                if error.code < 500:
                    detail = f"HTTP {error.code}, {code}" if code else f"HTTP {error.code}"
                    raise StatBankError(
                        f"StatBank refused {what} ({detail}): {message or text or error.reason}",
                        status=error.code,
                        error_type_code=code,
                        api_message=message,
                        table=table,
                        url=url,
                        attempts=attempt + 1,
                    ) from None
                last_status = error.code
                last_error = f"HTTP {error.code}" + (f" ({code}: {message})" if code else "")
            except http.client.IncompleteRead as error:
                last_status = None
                last_error = (
                    f"truncated response ({len(error.partial)} bytes received, "
                    f"{error.expected} more were announced)"
                )
            except TimeoutError:
                last_status = None
                last_error = f"no answer within the {self.timeout:g} s timeout"
            except urllib.error.URLError as error:
                last_status = None
                if isinstance(error.reason, TimeoutError):
                    last_error = f"no answer within the {self.timeout:g} s timeout"
                else:
                    last_error = f"network error: {error.reason}"
            except (http.client.HTTPException, OSError) as error:
                last_status = None
                last_error = f"network error: {type(error).__name__}: {error}"
        raise StatBankError(
            f"StatBank did not deliver {what} from {url} after {attempts} attempt(s); "
            f"last error: {last_error}",
            status=last_status,
            table=table,
            url=url,
            attempts=attempts,
        )

    def tableinfo(self, table: str, lang: str | None = None) -> dict[str, Any]:
        """Table metadata: variables and their value ids, ``updated``, ``suppressedDataValue``."""
        body: dict[str, Any] = {"table": table, "format": "JSON"}
        if lang:
            body["lang"] = lang
        content = self.post("tableinfo", body, table=table)
        try:
            info = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            snippet = " ".join(content[:120].decode("utf-8", errors="replace").split())
            raise StatBankError(
                f"StatBank sent tableinfo for table {table} that is not JSON: {snippet!r}",
                table=table,
                url=self.url("tableinfo"),
            ) from None
        if not isinstance(info, dict) or not isinstance(info.get("variables"), list):
            raise StatBankError(
                f"StatBank tableinfo for table {table} has no list of variables",
                table=table,
                url=self.url("tableinfo"),
            )
        return info

    def data(
        self,
        table: str,
        variables: Mapping[str, Sequence[str]],
        fmt: str = "BULK",
        value_presentation: str = "Code",
        lang: str | None = "da",
    ) -> bytes:
        """One ``POST /data`` request, returned as the raw bytes StatBank sent."""
        body = build_data_request(table, variables, fmt, value_presentation, lang)
        return self.post("data", body, table=table)

    def extract(
        self,
        table: str,
        variables: Mapping[str, Sequence[str]],
        fmt: str = "BULK",
        value_presentation: str = "Code",
        lang: str | None = "da",
        *,
        info: Mapping[str, Any] | None = None,
        cell_limit: int = CSV_CELL_LIMIT,
    ) -> bytes:
        """A whole extract: BULK in one streamed request, or CSV split under the cell limit.

        CSV parts are joined into one CSV (the first part's BOM and header, then every part's
        rows), so the caller cannot tell it was split.
        """
        if fmt == "BULK":
            return self.data(table, variables, "BULK", value_presentation, lang)
        if fmt != "CSV":
            raise ValueError(f"extract supports BULK and CSV, not {fmt!r}")
        info = info if info is not None else self.tableinfo(table)
        try:
            parts = split_for_cell_limit(variables, info, cell_limit)
        except ValueError as error:
            raise StatBankError(str(error), table=table) from None
        bodies = [self.data(table, part, "CSV", value_presentation, lang) for part in parts]
        return merge_csv_parts(bodies, table)


def merge_csv_parts(bodies: Sequence[bytes], table: str = "?") -> bytes:
    """Join CSV extracts of the same table: keep the first header, drop the others."""
    if not bodies:
        return b""
    merged = bytearray(bodies[0])
    header = _first_line(bodies[0].removeprefix(BOM))
    for body in bodies[1:]:
        body = body.removeprefix(BOM)
        line = _first_line(body)
        if line != header:
            raise StatBankError(
                f"StatBank sent CSV parts of table {table} with different headers: "
                f"{header!r} and {line!r}",
                table=table,
            )
        rest = body[len(line) :].lstrip(b"\r\n") if b"\n" in body else b""
        if rest and merged and not merged.endswith(b"\n"):
            merged += b"\r\n"
        merged += rest
    return bytes(merged)


def _first_line(data: bytes) -> bytes:
    end = data.find(b"\n")
    return (data if end < 0 else data[:end]).rstrip(b"\r")


# --------------------------------------------------------------------------- parsers


def _load(data: bytes | Path, source_name: str) -> tuple[bytes, str]:
    if isinstance(data, Path):
        name = str(data) if source_name == "<bytes>" else source_name
        try:
            return data.read_bytes(), name
        except OSError as error:
            raise SourceFileError(name, f"cannot read the file ({error.strerror})") from None
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes or Path, got {type(data).__name__}")
    return bytes(data), source_name


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or (
        start.startswith(b"<") and b"<html" in start[:2000]
    )


def _reject_non_data(raw: bytes, name: str, expected: str) -> None:
    """Clear errors for what arrives instead of data: nothing, an HTML page, an API error."""
    if not raw.strip():
        raise SourceFileError(name, f"the file is empty; expected a StatBank {expected}")
    if _looks_like_html(raw[:4096]):
        title = ""
        lower = raw[:8192].lower()
        at, end = lower.find(b"<title>"), lower.find(b"</title>")
        if 0 <= at < end:
            title = raw[at + 7 : end].decode("utf-8", errors="replace").strip()
        hint = f" (page title: {title!r})" if title else ""
        raise SourceFileError(
            name,
            f"this is an HTML page, not a StatBank {expected}{hint}; the download probably "
            "hit an error or login page",
            row=1,
        )
    if expected != "JSON-stat dataset" and raw.lstrip().startswith(b"{"):
        code, message, text = _error_details(raw)
        said = f"{code}: {message}" if code else text[:120]
        raise SourceFileError(
            name, f"this is JSON, not a StatBank {expected} (an API error? {said})", row=1
        )


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SourceFileError(
            name,
            f"bytes that are not UTF-8 at byte {error.start} ({raw[error.start : error.end]!r}); "
            "StatBank files are UTF-8, was the file re-saved in another encoding?",
            row=line,
        ) from None


def parse_statbank_csv(data: bytes | Path, source_name: str = "<bytes>") -> pd.DataFrame:
    """Read a StatBank CSV or BULK extract into text columns plus ``_source_row``.

    Accepts a BOM or none, CRLF or LF, ``;`` separators and quoted fields. Every column is
    text exactly as written (``..`` and decimal commas included); ``_source_row`` is the file's
    1-based line number of the row (the header is line 1). Empty lines are skipped; any other
    line must have as many fields as the header, so a truncated download is caught.
    """
    raw, name = _load(data, source_name)
    raw = raw.removeprefix(BOM)
    _reject_non_data(raw, name, "CSV extract")
    text = _decode(raw, name)
    if b'"' in raw:
        return _parse_quoted(text, name)
    # No quotes (every BULK/code extract): count separators per line with numpy and let
    # pandas' C reader do the rest; a full FOLK1A (~1.9M rows) reads in about a second.
    blank, separators, starts, ends = _scan_lines(raw)
    content = np.flatnonzero(~blank)
    header_at = int(content[0])
    header = raw[starts[header_at] : ends[header_at]].decode("utf-8").rstrip("\r").split(";")
    _check_header(header, name, header_at + 1)
    data_lines = content[1:]
    wrong = data_lines[separators[data_lines] != separators[header_at]]
    if wrong.size:
        line = int(wrong[0])
        _wrong_field_count(name, line + 1, len(header), int(separators[line]) + 1)
    frame = pd.read_csv(
        io.BytesIO(raw),
        sep=";",
        header=0,
        dtype=str,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=True,
        quoting=csv.QUOTE_NONE,
        encoding="utf-8",
        engine="c",
    )
    if len(frame) != len(data_lines) or list(frame.columns) != header:
        return _parse_quoted(text, name)  # something the fast path did not foresee
    if any(dtype != np.dtype(object) for dtype in frame.dtypes):
        frame = frame.astype(object)
    frame["_source_row"] = pd.Series(data_lines + 1, dtype="int64")
    return frame


def _scan_lines(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per physical line: is it empty, how many ``;`` it holds, and where it starts and ends."""
    octets = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(octets == 0x0A)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(octets)]))
    if starts[-1] == len(octets):  # the file ends with a line end: no line after it
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (octets[np.maximum(ends - 1, 0)] == 0x0D)
    ends = ends - has_cr
    separators = np.add.reduceat(octets == 0x3B, starts, dtype=np.int64)
    return ends == starts, separators, starts, ends


def _wrong_field_count(name: str, line: int, expected: int, found: int) -> NoReturn:
    raise SourceFileError(
        name,
        f"expected {expected} fields like the header, found {found}; "
        "the file is probably truncated or damaged",
        row=line,
    )


def _parse_quoted(text: str, name: str) -> pd.DataFrame:
    """The general path (quoted fields, possibly spanning lines) with Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    header: list[str] | None = None
    columns: list[list[str]] = []
    rows: list[int] = []
    next_line = 1
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not record:
                continue
            if header is None:
                header = record
                _check_header(header, name, line)
                columns = [[] for _ in header]
                continue
            if len(record) != len(header):
                _wrong_field_count(name, line, len(header), len(record))
            for column, value in zip(columns, record, strict=True):
                column.append(value)
            rows.append(line)
    except csv.Error as error:
        raise SourceFileError(name, f"not readable as CSV: {error}", row=next_line) from None
    if header is None:
        raise SourceFileError(name, "the file has no header line")
    frame = pd.DataFrame(
        {col: pd.Series(values, dtype=object) for col, values in zip(header, columns, strict=True)}
    )
    frame["_source_row"] = pd.Series(rows, dtype="int64")
    return frame


def _check_header(header: list[str], name: str, line: int) -> None:
    if len(header) < 2 and VALUE_COLUMN not in header:
        raise SourceFileError(
            name,
            f"the header {';'.join(header)[:80]!r} has no ';' separators; not a StatBank CSV",
            row=line,
        )
    if VALUE_COLUMN not in header:
        raise SourceFileError(
            name,
            f"no {VALUE_COLUMN} column; the header has {', '.join(header)}",
            row=line,
        )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise SourceFileError(
            name, f"column(s) named twice in the header: {', '.join(duplicates)}", row=line
        )


def _category_codes(dim_id: str, dimension: Mapping[str, Any], size: int, name: str) -> list[str]:
    category = dimension.get("category") if isinstance(dimension, Mapping) else None
    if not isinstance(category, Mapping):
        raise SourceFileError(name, f"dimension {dim_id!r} has no category", column=dim_id)
    index = category.get("index")
    if isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, Mapping):
        codes = [str(c) for c, _ in sorted(index.items(), key=lambda item: item[1])]
    elif isinstance(category.get("label"), Mapping) and len(category["label"]) == 1:
        codes = [str(next(iter(category["label"])))]
    else:
        raise SourceFileError(name, f"dimension {dim_id!r} has no category index", column=dim_id)
    if len(codes) != size:
        raise SourceFileError(
            name,
            f"dimension {dim_id!r} lists {len(codes)} categories but its size is {size}",
            column=dim_id,
        )
    return codes


def _value_text(value: Any) -> str:
    if value is None:
        return MISSING_VALUE
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING_VALUE
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def parse_jsonstat(data: bytes | Path, source_name: str = "<bytes>") -> pd.DataFrame:
    """Read a JSON-stat dataset (2.0, or the 1.x ``{"dataset": ...}`` wrapper) into long form.

    One text column per dimension (category codes), ``INDHOLD`` as text (null → ``..``), and
    ``_source_row`` = position in the value array + 2, so it lines up with the CSV convention
    of data starting on line 2.
    """
    raw, name = _load(data, source_name)
    raw = raw.removeprefix(BOM)
    _reject_non_data(raw, name, "JSON-stat dataset")
    text = _decode(raw, name)
    try:
        document = json.loads(text)
    except ValueError as error:
        raise SourceFileError(name, f"not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise SourceFileError(name, "not a JSON-stat dataset (the top level is not an object)")
    if "errorTypeCode" in document:
        raise SourceFileError(
            name,
            f"a StatBank error, not data: {document.get('errorTypeCode')}: "
            f"{document.get('message')}",
        )
    dataset = document.get("dataset", document)
    dimension = dataset.get("dimension") if isinstance(dataset, dict) else None
    if not isinstance(dimension, dict):
        raise SourceFileError(name, "not a JSON-stat dataset: no 'dimension' object")
    # 2.0 keeps id/size on the dataset; 1.x keeps them inside 'dimension'.
    ids = dataset.get("id", dimension.get("id"))
    sizes = dataset.get("size", dimension.get("size"))
    if not isinstance(ids, list) or not isinstance(sizes, list) or len(ids) != len(sizes):
        raise SourceFileError(name, "not a JSON-stat dataset: missing or unequal 'id' and 'size'")
    codes = [
        _category_codes(str(d), dimension.get(str(d), {}), int(s), name)
        for d, s in zip(ids, sizes, strict=True)
    ]
    total = math.prod(int(s) for s in sizes)
    values = dataset.get("value")
    if isinstance(values, dict):
        values = [values.get(str(i)) for i in range(total)]
    if not isinstance(values, list):
        raise SourceFileError(name, "not a JSON-stat dataset: no 'value' array")
    if len(values) != total:
        raise SourceFileError(
            name,
            f"the value array has {len(values)} entries but the dimensions give {total}; "
            "the file is probably truncated",
        )
    columns: dict[str, list[str]] = {str(d): [] for d in ids}
    for combination in itertools.product(*codes):
        for dim_id, code in zip(columns, combination, strict=True):
            columns[dim_id].append(code)
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in columns.items()})
    frame[VALUE_COLUMN] = pd.Series([_value_text(v) for v in values], dtype=object)
    frame["_source_row"] = pd.Series(range(2, total + 2), dtype="int64")
    return frame
