"""A small HTTP client for StatBank's POST endpoints: retries what is worth retrying, quotes
StatBank's own words for what is not.

Standard library only (``urllib.request``), so ``make fetch`` needs nothing beyond the project's
own dependencies. 5xx answers, network errors, timeouts and truncated bodies are retried with
exponential backoff; a 4xx never is: StatBank's 400/404 answers (``EXTRACT-NOTFOUND``,
``REQUEST-LIMIT``, ...) are final, and the error quotes them verbatim.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from datapakke.config import get_settings
from datapakke.raw.statbank.request import (
    CSV_CELL_LIMIT,
    build_data_request,
    split_for_cell_limit,
)

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


def error_details(body: bytes) -> tuple[str | None, str | None, str]:
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
            try:
                return self._send(url, payload)
            except urllib.error.HTTPError as error:
                code, message, text = error_details(_error_body(error))
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
            except (http.client.HTTPException, OSError) as error:
                last_status = None
                last_error = self._transient(error)
        raise StatBankError(
            f"StatBank did not deliver {what} from {url} after {attempts} attempt(s); "
            f"last error: {last_error}",
            status=last_status,
            table=table,
            url=url,
            attempts=attempts,
        )

    def _send(self, url: str, payload: bytes) -> bytes:
        """One try; a body shorter than its Content-Length is a (retryable) IncompleteRead."""
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
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            content = response.read()
            declared = response.headers.get("Content-Length")
            if declared and declared.strip().isdigit() and len(content) < int(declared):
                raise http.client.IncompleteRead(content, int(declared) - len(content))
            return content

    def _transient(self, error: http.client.HTTPException | OSError) -> str:
        """What went wrong on a try worth repeating, in words for the final message."""
        if isinstance(error, http.client.IncompleteRead):
            return (
                f"truncated response ({len(error.partial)} bytes received, "
                f"{error.expected} more were announced)"
            )
        timed_out = isinstance(error, TimeoutError) or (
            isinstance(error, urllib.error.URLError) and isinstance(error.reason, TimeoutError)
        )
        if timed_out:
            return f"no answer within the {self.timeout:g} s timeout"
        if isinstance(error, urllib.error.URLError):
            return f"network error: {error.reason}"
        return f"network error: {type(error).__name__}: {error}"

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


def _error_body(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""


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
