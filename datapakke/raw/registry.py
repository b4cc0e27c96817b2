"""The source registry (``data/reference/sources.yaml``): which files feed which tables.

Analysts edit the registry, not code, when a layout changes or a new drop arrives. Each source
names its embedded sample file and a glob for real drops under ``data/raw/``; when real files
match, they are used instead of the sample (all of them, combined by period: see
:mod:`datapakke.raw.combine`), so the same pipeline runs on real data exactly as on the sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from datapakke.config import REFERENCE_DIR, Settings
from datapakke.raw.drops import matching_files

TARGETS = {"population", "observation"}
READERS = {"statbank", "file"}
CANONICAL_COLUMNS = {"municipality", "period", "sex", "age", "value", "measure"}


class RegistryError(ValueError):
    """A registry entry that cannot be used; the message names the source and the key."""


@dataclass(frozen=True)
class SourceSpec:
    id: str
    title: str
    publisher: str
    target: str
    reader: str
    sample_file: str
    drop_glob: str
    columns: dict[str, str]
    measure: str | None = None
    measure_map: dict[str, str] = field(default_factory=dict)
    value_columns: dict[str, str] = field(default_factory=dict)
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    layout: dict | None = None

    @property
    def measures(self) -> set[str]:
        """Measure ids this source can produce (what the catalogue may refer to)."""
        bases = set(self.measure_map.values()) or {self.measure or ""}
        suffixes = set(self.value_columns.values()) or {""}
        return {base + suffix for base in bases for suffix in suffixes}


@dataclass(frozen=True)
class ResolvedSource:
    spec: SourceSpec
    path: Path
    is_synthetic: bool
    raw_dir: Path | None = None

    @property
    def display_path(self) -> str:
        """The file as users name it: its path under ``data/raw/`` (never the server's absolute
        path, which would end up in lineage, marts and packs)."""
        if self.raw_dir is not None and self.path.is_relative_to(self.raw_dir):
            return self.path.relative_to(self.raw_dir).as_posix()
        return self.path.name

    @property
    def modified(self) -> datetime:
        """When the file was last written: the newest file supplies a period shared by several."""
        return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)


_KEYS = {f for f in SourceSpec.__dataclass_fields__} | {"description"}


def parse_registry(data: object, source: str) -> list[SourceSpec]:
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise RegistryError(f"{source}: expected a mapping with a list under 'sources'")
    specs: list[SourceSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["sources"]):
        where = f"{source}: source {raw.get('id', f'#{i + 1}')!r}"
        unknown = set(raw) - _KEYS
        if unknown:
            raise RegistryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("id", "title", "target", "reader", "sample_file", "drop_glob", "columns"):
            if not raw.get(key):
                raise RegistryError(f"{where}: missing {key}")
        if raw["id"] in seen:
            raise RegistryError(f"{where}: id used twice")
        seen.add(raw["id"])
        if raw["target"] not in TARGETS:
            raise RegistryError(f"{where}: target must be one of {sorted(TARGETS)}")
        if raw["reader"] not in READERS:
            raise RegistryError(f"{where}: reader must be one of {sorted(READERS)}")
        if raw["reader"] == "file":
            if not raw.get("layout"):
                raise RegistryError(f"{where}: reader 'file' needs a layout")
            from datapakke.raw.files import FileLayout, LayoutError

            try:
                FileLayout.from_dict(raw["layout"])
            except LayoutError as exc:
                raise RegistryError(f"{where}: bad layout: {exc}") from None
        columns = {str(k): str(v) for k, v in raw["columns"].items()}
        bad = set(columns) - CANONICAL_COLUMNS
        if bad:
            raise RegistryError(f"{where}: unknown column role(s) {sorted(bad)}")
        value_columns = {str(k): str(v) for k, v in (raw.get("value_columns") or {}).items()}
        for role in ("municipality", "period"):
            if role not in columns:
                raise RegistryError(f"{where}: columns needs {role}")
        if "value" not in columns and not value_columns:
            raise RegistryError(f"{where}: columns needs value (or give value_columns)")
        if "measure" in columns and not raw.get("measure_map"):
            raise RegistryError(f"{where}: a measure column needs a measure_map")
        if "measure" not in columns and not raw.get("measure"):
            raise RegistryError(f"{where}: give a fixed measure or a measure column")
        filters = {
            str(k): tuple(str(v) for v in (vals if isinstance(vals, list) else [vals]))
            for k, vals in (raw.get("filters") or {}).items()
        }
        specs.append(
            SourceSpec(
                id=raw["id"],
                title=raw["title"],
                publisher=raw.get("publisher", ""),
                target=raw["target"],
                reader=raw["reader"],
                sample_file=raw["sample_file"],
                drop_glob=raw["drop_glob"],
                columns=columns,
                measure=raw.get("measure"),
                measure_map={str(k): str(v) for k, v in (raw.get("measure_map") or {}).items()},
                value_columns=value_columns,
                filters=filters,
                layout=raw.get("layout"),
            )
        )
    return specs


def load_registry(path: Path | None = None) -> list[SourceSpec]:
    path = path or REFERENCE_DIR / "sources.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML ({exc})") from None
    return parse_registry(data, str(path))


def resolve_files(spec: SourceSpec, settings: Settings) -> list[ResolvedSource]:
    """The files to load for a source, newest first: every real drop matching its glob (newest by
    modification time, then by path, so ``aktivitet (2).csv`` saved today beats ``aktivitet.csv``
    from last year), else the embedded sample."""
    drops = sorted(
        (
            p
            for p in matching_files(settings.raw_dir, spec.drop_glob)
            if settings.sample_dir not in p.parents
        ),
        key=lambda p: (p.stat().st_mtime_ns, p.relative_to(settings.raw_dir).as_posix()),
        reverse=True,
    )
    if drops:
        return [
            ResolvedSource(spec, p, is_synthetic=False, raw_dir=settings.raw_dir) for p in drops
        ]
    sample = settings.sample_dir / spec.sample_file
    if not sample.exists():
        raise RegistryError(
            f"source {spec.id}: no file matches {settings.raw_dir / spec.drop_glob} and the "
            f"sample file {sample} is missing (run `make sample`)"
        )
    return [ResolvedSource(spec, sample, is_synthetic=True, raw_dir=settings.raw_dir)]
