"""Every path and setting in one place, anchored at the repository root (never the working directory).

Settings can be overridden with environment variables so tests and operators can point the
pipeline at other folders without touching code:

- ``DATAPAKKE_RAW_DIR``: where source files are read (default ``data/raw``)
- ``DATAPAKKE_MARTS_DIR``: where everything the pipeline writes goes (default ``data/marts``)
- ``DATAPAKKE_SUPPRESSION_THRESHOLD``: counts from 1 to threshold-1 are suppressed (default 5)
- ``DATAPAKKE_HISTORY_KEEP``: how many earlier packs to keep per area (default 10)
- ``DATAPAKKE_MAX_BAD_SHARE``: above this share of bad rows a file is rejected whole (default 0.2)
- ``DATAPAKKE_STATBANK_URL``: StatBank API base URL (default https://api.statbank.dk/v1)
- ``DATAPAKKE_CONTACT``: the Danish contact line on every pack's front page (who answers
  questions about the numbers; default: the cluster's secretariat)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
SAMPLE_DIR = REPO_ROOT / "data" / "raw" / "sample"
# History file names carry the pack's build time in UTC, like ``built_at`` in the marts.
HISTORY_STAMP_FORMAT = "%Y%m%dT%H%M%S"
DEFAULT_CONTACT_DA = (
    "Spørgsmål til tallene: sundhedsklyngens eller sundhedsrådets sekretariat, eller regionens "
    "analyseenhed."
)


@dataclass(frozen=True)
class AreaOutputs:
    """Every published path of one area: the output contract of the README, in one place.

    ``data/marts/<grouping>/<area_id>/`` holds ``mart.duckdb``, the latest pack
    ``datapakke-<grouping>-<area_id>.xlsx``, ``charts/*.png`` and ``history/`` with earlier packs
    named ``datapakke-<grouping>-<area_id>-<UTC stamp>.xlsx``; the download page keeps copies
    under ``site/packs/<grouping>/<area_id>/``.
    """

    marts_dir: Path
    grouping: str
    area_id: str

    @property
    def folder(self) -> Path:
        return self.marts_dir / self.grouping / self.area_id

    @property
    def mart(self) -> Path:
        return self.folder / "mart.duckdb"

    @property
    def stem(self) -> str:
        return f"datapakke-{self.grouping}-{self.area_id}"

    @property
    def pack(self) -> Path:
        return self.folder / f"{self.stem}.xlsx"

    @property
    def charts_dir(self) -> Path:
        return self.folder / "charts"

    def chart(self, name: str) -> Path:
        return self.charts_dir / f"{name}.png"

    @property
    def history_dir(self) -> Path:
        return self.folder / "history"

    def history_pack(self, built_at: datetime) -> Path:
        """Where the pack built at ``built_at`` (UTC) is kept once a newer one replaces it."""
        return self.history_dir / f"{self.stem}-{built_at:{HISTORY_STAMP_FORMAT}}.xlsx"

    def history_stamp(self, name: str) -> datetime | None:
        """The build time (UTC) in a history file's name; None for any other file."""
        match = re.fullmatch(re.escape(self.stem) + r"-(\d{8}T\d{6})\.xlsx", name)
        try:
            stamp = datetime.strptime(match.group(1), HISTORY_STAMP_FORMAT) if match else None
        except ValueError:  # stamp-shaped but impossible, e.g. month 13: not one of ours
            return None
        return stamp.replace(tzinfo=UTC) if stamp else None

    @property
    def site_folder(self) -> PurePosixPath:
        """The area's folder inside the download site (relative to the site root)."""
        return PurePosixPath("packs", self.grouping, self.area_id)


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
    contact_da: str = DEFAULT_CONTACT_DA

    @property
    def sample_dir(self) -> Path:
        return self.raw_dir / "sample"

    @property
    def warehouse_path(self) -> Path:
        return self.marts_dir / "warehouse.duckdb"

    @property
    def site_dir(self) -> Path:
        return self.marts_dir / "site"

    def area_outputs(self, grouping: str, area_id: str) -> AreaOutputs:
        """Every output path of one area (see :class:`AreaOutputs`)."""
        return AreaOutputs(self.marts_dir, grouping, area_id)


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
        contact_da=os.environ.get("DATAPAKKE_CONTACT", "").strip() or DEFAULT_CONTACT_DA,
    )
