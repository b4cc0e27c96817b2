"""Every path and setting in one place, anchored at the repository root (never the working directory).

Settings can be overridden with environment variables so tests and operators can point the
pipeline at other folders without touching code:

- ``DATAPAKKE_RAW_DIR``: where source files are read (default ``data/raw``)
- ``DATAPAKKE_MARTS_DIR``: where everything the pipeline writes goes (default ``data/marts``)
- ``DATAPAKKE_SUPPRESSION_THRESHOLD``: counts from 1 to threshold-1 are suppressed (default 5)
- ``DATAPAKKE_HISTORY_KEEP``: how many earlier packs to keep per area (default 10)
- ``DATAPAKKE_MAX_BAD_SHARE``: above this share of bad rows a file is rejected whole (default 0.2)
- ``DATAPAKKE_STATBANK_URL``: StatBank API base URL (default https://api.statbank.dk/v1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
SAMPLE_DIR = REPO_ROOT / "data" / "raw" / "sample"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run."""

    raw_dir: Path
    marts_dir: Path
    reference_dir: Path
    suppression_threshold: int
    history_keep: int
    max_bad_share: float
    statbank_url: str

    @property
    def sample_dir(self) -> Path:
        return self.raw_dir / "sample"

    @property
    def warehouse_path(self) -> Path:
        return self.marts_dir / "warehouse.duckdb"

    @property
    def site_dir(self) -> Path:
        return self.marts_dir / "site"

    def area_dir(self, grouping: str, area_id: str) -> Path:
        """Folder of one area's published artefacts: ``data/marts/<grouping>/<area_id>/``."""
        return self.marts_dir / grouping / area_id


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    if not value:
        return default
    path = Path(value)
    return path if path.is_absolute() else REPO_ROOT / path


def get_settings() -> Settings:
    """Read settings from the environment at call time (so tests can monkeypatch them)."""
    return Settings(
        raw_dir=_env_path("DATAPAKKE_RAW_DIR", REPO_ROOT / "data" / "raw"),
        marts_dir=_env_path("DATAPAKKE_MARTS_DIR", REPO_ROOT / "data" / "marts"),
        reference_dir=_env_path("DATAPAKKE_REFERENCE_DIR", REFERENCE_DIR),
        suppression_threshold=int(os.environ.get("DATAPAKKE_SUPPRESSION_THRESHOLD", "5")),
        history_keep=int(os.environ.get("DATAPAKKE_HISTORY_KEEP", "10")),
        max_bad_share=float(os.environ.get("DATAPAKKE_MAX_BAD_SHARE", "0.2")),
        statbank_url=os.environ.get("DATAPAKKE_STATBANK_URL", "https://api.statbank.dk/v1"),
    )
