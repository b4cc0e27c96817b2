"""What a user reads when a source or a refresh fails: one line saying what, why, what to do, where.

Built from the facts the warehouse already keeps (``raw.source_file``, ``raw.quarantine``), so the
terminal (``make run``) and the Dagster UI (each source's ``validation`` check) show the same
words. Pure text: no Dagster, no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SOURCES_YAML = "data/reference/sources.yaml"

# (pattern in the reader's or validation's message, what the user can do); first match wins.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        r"failed validation, above the limit",
        "open the quarantine table to see which rows failed, correct them and drop the file "
        "again; until then the previous good data stay in use",
    ),
    (
        r"expected header not found on row",
        "remove the added title row (or restore a removed one) above the header, or change "
        f"header_row for this source in {SOURCES_YAML}",
    ),
    (r"header_row \d+ is blank", f"check header_row for this source in {SOURCES_YAML}"),
    (
        r"missing column|required column|no column in|no \w+ column|fill_down column",
        f"check the column names against {SOURCES_YAML}, or download the table again with "
        "the variable {column}selected",
    ),
    (r"two header cells give column", "rename one of the two columns so each name is used once"),
    (r"garbled", "export or download the file again and save it as UTF-8"),
    (
        r"UTF-16|not UTF-8|neither UTF-8|cannot be decoded|encoding .* is wrong",
        "save it as UTF-8 ('CSV UTF-8' in Excel)",
    ),
    (r"old-style \.xls|OpenDocument", "open it in Excel and save it as .xlsx"),
    (
        r"zip file|text \(CSV\?\) file with an Excel name",
        "give the file the extension of what it holds (.csv for text, .xlsx for a workbook)",
    ),
    (
        r"wrong delimiter|fields but the header|no ';' separators",
        "save it with ';' between the columns (and values holding ';' or ',' in quotes)",
    ),
    (
        r"has no sheet|is a chart",
        f"rename the sheet, or set sheet for this source in {SOURCES_YAML}",
    ),
    (
        r"HTML|JSON|empty|truncated|corrupt|NUL bytes|control character|binary|damaged|"
        r"no header line|no data rows|file not found",
        "download the file again: this one is not a complete export",
    ),
)
_FALLBACK_HINT = (
    "correct the file, or move it out of data/raw/ so the previous data (or the sample) are used"
)

# Quarantine check → what the user can do about those rows (a partly bad file).
_CHECK_HINTS: dict[str, str] = {
    "known_municipality": "use 3-digit DST municipality codes or the names in "
    "data/reference/municipalities.csv",
    "parseable_period": "write periods as 2024, 2024K1, 2024Q1 or 2024M01",
    "not_future": "remove the rows for periods that have not happened yet",
    "number": "write values as plain numbers (',' as the decimal separator)",
    "unique_key": "remove the duplicated rows",
    "no_formula": "remove the leading '=', '+', '-' or '@' from those cells",
    "known_sex": "use the sex codes of the registry entry",
    "known_age": "use the age bands of the registry entry",
    "known_measure": "add the measure's label to measure_map in " + SOURCES_YAML,
}


@dataclass(frozen=True)
class SourceProblem:
    """A source's last load as the warehouse records it."""

    source_id: str
    file: str  # relative to data/raw/
    status: str  # accepted | rejected | unchanged
    message: str = ""  # raw.source_file.message: why a file was rejected
    rows_read: int = 0
    rows_quarantined: int = 0
    checks: Mapping[str, int] = field(default_factory=dict)  # quarantined rows per check


@dataclass(frozen=True)
class SourceAdvice:
    """One problem source, told in one line: file, what was wrong, what to do, where to look."""

    source_id: str
    file: str
    is_rejected: bool
    problem: str
    hint: str
    details: str

    @property
    def line(self) -> str:
        verdict = "rejected" if self.is_rejected else "partly quarantined"
        return (
            f"{self.file}: {verdict}: {self.problem}. What to do: {self.hint}. "
            f"Details: {self.details}."
        )


def advise_source(problem: SourceProblem) -> SourceAdvice | None:
    """The advice for a rejected or partly quarantined source; None when nothing is wrong."""
    rejected = problem.status == "rejected"
    if not rejected and not problem.rows_quarantined:
        return None
    if rejected:
        what = _without_file(problem.message, problem.file) or "the file could not be used"
        hint = hint_for_message(what)
    else:
        what = _quarantine_summary(problem)
        hint = "open the quarantine table; " + _hint_for_checks(problem.checks)
    return SourceAdvice(
        source_id=problem.source_id,
        file=problem.file,
        is_rejected=rejected,
        problem=what.rstrip(". "),
        hint=hint,
        details=details_for(problem.source_id),
    )


def details_for(source_id: str) -> str:
    """Where the evidence is: the UI asset's check and the warehouse's quarantine rows."""
    return (
        f"Dagster UI (make dev) asset raw_{source_id}, check validation; warehouse table "
        f"raw.quarantine with source_id = '{source_id}'"
    )


def hint_for_message(message: str) -> str:
    """What the user can do, chosen from the kind of problem the message describes."""
    for pattern, hint in _HINTS:
        if re.search(pattern, message, flags=re.IGNORECASE):
            return hint.replace("{column}", _quoted_column(message))
    return _FALLBACK_HINT


def _quoted_column(message: str) -> str:
    """``'CIVILSTAND' `` for "missing column(s) 'CIVILSTAND' …" (with the trailing space)."""
    match = re.search(r"column\(?s?\)? '([^']+)'|\bno (\w+) column", message)
    return f"'{match.group(1) or match.group(2)}' " if match else ""


def _without_file(message: str, file: str) -> str:
    """The message without its leading ``file <path>`` (the line names the file already), and
    without ``column 'X'`` where the message names that column again."""
    text = message.strip()
    named = re.match(r"^file (.+?)(?=, row \d|, column '|: )", text)
    if named and file and Path(named.group(1)).name == Path(file).name:
        text = text[named.end() :].lstrip(",: ")
    where = re.match(r"^(row \d+)?(?:, )?column '([^']*)': ", text)
    if where and f"'{where.group(2)}'" in text[where.end() :]:
        text = (f"{where.group(1)}: " if where.group(1) else "") + text[where.end() :]
    return text


def _quarantine_summary(problem: SourceProblem) -> str:
    checks = sorted(problem.checks.items(), key=lambda item: -item[1])
    kinds = ", ".join(f"{n} {check}" for check, n in checks[:3])
    out_of = f" of {problem.rows_read}" if problem.rows_read else ""
    return (
        f"{problem.rows_quarantined}{out_of} rows quarantined"
        + (f" ({kinds})" if kinds else "")
        + "; their municipality and period count as missing in the packs"
    )


def _hint_for_checks(checks: Mapping[str, int]) -> str:
    for check, _ in sorted(checks.items(), key=lambda item: -item[1]):
        hint = _CHECK_HINTS.get(check) or _CHECK_HINTS.get(check.partition(":")[0])
        if hint:
            return hint
    if any(check.startswith("value") for check in checks):
        return "check the values of those rows (negative or absurdly large counts)"
    return "correct those rows and drop the file again"


# --------------------------------------------------------------------------- failed steps

_LOCK = re.compile(r"Could not set lock on file \"(?P<file>[^\"]+)\"", re.IGNORECASE)
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# Errors whose message already names file, row and reason: shown as they are, no traceback.
EXPECTED_ERRORS = frozenset({"ReferenceDataError", "TileGridError", "SourceFileError"})


def locked_warehouse_line(message: str) -> str | None:
    """One line for DuckDB's lock conflict (None for any other message)."""
    lock = _LOCK.search(message)
    if lock is None and "conflicting lock" not in message.lower():
        return None
    holder = _HOLDER.search(message)
    who = f" ({Path(holder.group('program')).name}, pid {holder.group('pid')})" if holder else ""
    path = lock.group("file") if lock else "the warehouse"
    return (
        f"{path} is open in another program{who}: close it (a notebook, the duckdb CLI, "
        "DBeaver or a second make run) and run make run again"
    )


@dataclass(frozen=True)
class StepFailure:
    """How to tell a failed step: ``line`` (empty when another line tells it already), or
    ``unexpected`` when only the traceback can."""

    line: str = ""
    unexpected: bool = False


def explain_step_failure(step: str, chain: Sequence[tuple[str, str]]) -> StepFailure:
    """A failed step from its error chain, outermost first, as (class name, message) pairs."""
    for cls_name, message in chain:
        if cls_name == "DagsterAssetCheckFailedError":
            return StepFailure()  # each failed check has its own line
        locked = locked_warehouse_line(message) if "IOException" in cls_name else None
        if locked:
            return StepFailure(locked)
        if cls_name in EXPECTED_ERRORS:
            return StepFailure(f"{step}: {message.strip().splitlines()[0]}")
    # The user's error, not Dagster's wrapper or the worker pool's copy of the traceback.
    own = [c for c in chain if not c[0].startswith("Dagster") and "RemoteTraceback" not in c[0]]
    cls_name, message = (own or chain or [("Error", "failed")])[0]
    first_line = (message.strip().splitlines() or [""])[0]
    return StepFailure(f"{step}: {cls_name}: {first_line}", unexpected=True)
