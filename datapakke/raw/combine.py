"""Several drops of one source, combined by period: each period comes from the newest file that has it.

An analyst drops ``aktivitet-2024.csv`` (2019–2024) and a year later ``aktivitet-2025.csv``
(2024–2025). Both are read: 2024 and 2025 come from the newer file, 2019–2023 from the older, so
a drop covering only recent years never makes earlier years vanish, and a corrected file saved
later (``aktivitet (2).csv``) replaces exactly the periods it holds. "Newest" is the latest
modification time (then the path), never name order. Every row keeps its own file and line as
lineage; the rows of a period that a newer file has are not loaded but counted as skipped, naming
that file. A period counts as a file's when any of its rows carries it, even rows that fail
validation: their figures are then missing, never filled in from an older delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from datapakke.raw.periods import describe_periods, parse_period
from datapakke.raw.read import RawLoad
from datapakke.raw.validate import ValidationResult
from datapakke.schemas import QUARANTINE_COLUMNS


@dataclass
class FilePart:
    """One file of a source: its rows for the periods it supplies, and their validation."""

    raw: RawLoad  # the rows of its periods (and rows whose period cannot be read, to quarantine)
    periods: tuple[str, ...] = ()  # period codes this file supplies
    validation: ValidationResult | None = (
        None  # None: unreadable, or every period is in a newer file
    )

    @property
    def file(self) -> str:
        return self.raw.source.display_path

    @property
    def rows_loaded(self) -> int:
        return len(self.validation.rows) if self.validation is not None else 0

    @property
    def quarantine(self) -> pd.DataFrame:
        """Its quarantined rows; an unreadable file is one row naming it and the reason."""
        if self.validation is not None:
            return self.validation.quarantine
        error = self.raw.error
        if error is None:
            return pd.DataFrame(columns=QUARANTINE_COLUMNS)
        return pd.DataFrame(
            [
                {
                    "source_id": self.raw.source_id,
                    "file": self.file,
                    "row": error.row or 0,
                    "column": error.column or "",
                    "check": "readable_file",
                    "value": "",
                    "message": error.reason,
                    "file_sha256": self.raw.sha256,
                    "loaded_at": pd.Timestamp.now(tz="UTC"),
                }
            ]
        )

    @property
    def problem(self) -> str:
        """Why this file makes its source rejected, naming the file ('' when it does not)."""
        if self.raw.error is not None:
            return str(self.raw.error)
        if self.validation is not None and self.validation.is_rejected:
            return f"file {self.file}: {self.validation.rejected_reason}"
        return ""


def _period_code(text: str) -> str | None:
    try:
        return parse_period(text).code
    except ValueError:
        return None


def split_by_period(loads: list[RawLoad]) -> list[FilePart]:
    """Each file's rows for the periods no newer file has (``loads`` newest first, all readable)."""
    supplier: dict[str, str] = {}  # period code → the newer file it is taken from
    parts = []
    for load in loads:
        frame = load.frame
        texts = frame["period_text"]
        codes = texts.map({text: _period_code(text) for text in texts.unique()})
        newer = codes.map(supplier)
        superseded = newer.notna()
        skipped = [
            (int(row), f"period {code} is in a newer file: {file}")
            for row, code, file in zip(
                frame.loc[superseded, "_source_row"],
                codes[superseded],
                newer[superseded],
                strict=True,
            )
        ]
        periods = tuple(sorted(set(codes[~superseded].dropna())))
        supplier.update(dict.fromkeys(periods, load.source.display_path))
        kept = frame[~superseded].reset_index(drop=True)
        parts.append(
            FilePart(replace(load, frame=kept, skipped=[*load.skipped, *skipped]), periods)
        )
    return parts


def in_period_order(parts: list[FilePart]) -> list[FilePart]:
    """The files that supply periods, earliest periods first: how the source's files are listed."""
    used = [part for part in parts if part.periods]
    return sorted(used, key=lambda part: min(parse_period(code).start for code in part.periods))


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of one shape stacked (at least one given); empty ones add nothing but the shape."""
    filled = [frame for frame in frames if not frame.empty]
    return pd.concat(filled, ignore_index=True) if filled else frames[0]


def quarantine_of(parts: list[FilePart]) -> pd.DataFrame:
    """Every file's quarantined rows, an unreadable file as one row naming it and the reason."""
    return stack([part.quarantine for part in parts])


def combined_validation(parts: list[FilePart]) -> ValidationResult:
    """The validated files as one source's result (none rejected): rows, quarantine and missing
    figures of every file; findings name their file when several files are used. (Skipped rows
    are counted from the parts: a file every period of which is in a newer one is not validated.)"""
    validated = [part for part in parts if part.validation is not None]
    several = len(validated) > 1

    def named(part: FilePart, texts: list[str]) -> list[str]:
        return [f"{part.file}: {text}" for text in texts] if several else list(texts)

    results = [part.validation for part in validated]
    return ValidationResult(
        source_id=results[0].source_id,
        rows=stack([r.rows for r in results]),
        quarantine=quarantine_of(parts),
        rows_in=sum(r.rows_in for r in results),
        missing=stack([r.missing for r in results]),
        findings=[
            *_combination_findings(parts),
            *(text for part in validated for text in named(part, part.validation.findings)),
        ],
        warnings=[text for part in validated for text in named(part, part.validation.warnings)],
    )


def _combination_findings(parts: list[FilePart]) -> list[str]:
    """Which file supplies which periods, when a source has several files."""
    if len(parts) < 2:
        return []
    supplied = ", ".join(
        f"{describe_periods(part.periods)} from {part.file}" for part in in_period_order(parts)
    )
    unused = [part.file for part in parts if not part.periods]
    return [
        f"{len(parts)} files combined by period, each period from the newest file that has it: "
        + supplied
        + (
            f"; not used (a newer file has each of its periods): {', '.join(unused)}"
            if unused
            else ""
        )
    ]
