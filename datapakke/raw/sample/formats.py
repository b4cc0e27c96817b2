"""How the publishers write their files, and what the manifest records about each one.

Long tables from labelled arrays, ';'-separated bytes with the publisher's encoding, BOM, line
ends and title line, and Danish number text (thousands separators, decimal commas, ``<5``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FileRecord:
    """What the manifest says about one generated file."""

    path: str
    rows: int
    format: str
    measures: tuple[str, ...]
    small_cells: int  # counts 1-4 (or '<5' markers) among the value cells
    sheets: dict[str, int] | None = None


def long_frame(
    values: np.ndarray, dims: Sequence[tuple[str, Sequence[str]]], value: str
) -> pd.DataFrame:
    """An n-d array and its labelled axes → a long table (first axis varies slowest)."""
    shape = tuple(len(labels) for _, labels in dims)
    if values.shape != shape:
        raise ValueError(f"values have shape {values.shape}, labels {shape}")
    index = np.indices(shape).reshape(len(shape), -1)
    data = {
        name: np.asarray(labels, dtype=object)[index[i]] for i, (name, labels) in enumerate(dims)
    }
    data[value] = values.reshape(-1)
    return pd.DataFrame(data)


def csv_bytes(
    frame: pd.DataFrame,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    line_end: str = "\r\n",
    title: str | None = None,
) -> bytes:
    """A ';'-separated file as the publisher writes it (encoding, BOM, line ends, title line)."""
    text = frame.to_csv(sep=";", index=False, lineterminator=line_end)
    if title is not None:
        text = title + line_end + text
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def count_small(values: np.ndarray) -> int:
    """Cells holding 1-4: the ones disclosure control must hide (reported in the manifest)."""
    return int(((values >= 1) & (values <= 4)).sum())


def thousands(value: int) -> str:
    """Danish thousands separator: 12345 → '12.345'."""
    return f"{value:,}".replace(",", ".")


def danish_decimal(value: float) -> str:
    """One decimal with a decimal comma: 12.34 → '12,3'."""
    return f"{value:.1f}".replace(".", ",")


def masked_small(value: int) -> int | str:
    """eSundhed hides counts 1-4 as '<5'."""
    return "<5" if 1 <= value <= 4 else int(value)
