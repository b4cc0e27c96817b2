"""Small helpers that turn domain results into Dagster metadata an analyst can read in the UI."""

import base64
from pathlib import Path

import dagster as dg
import pandas as pd


def table_preview(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """The first rows of a frame as a Markdown table."""
    if frame.empty:
        return dg.MetadataValue.md("_(ingen rækker)_")
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False))


def column_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()]
    )


def png_thumbnail(path: Path, title: str) -> dg.MetadataValue:
    """A PNG shown inline in the asset's metadata (base64 in Markdown)."""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")
