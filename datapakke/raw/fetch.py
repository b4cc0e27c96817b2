"""``make fetch``: pull the configured StatBank tables into ``data/raw/statbank/<TABLE>/``.

Extracts are stored immutably, so a pack can always be traced to the exact bytes it was built
from: ``<TABLE>_<UTC timestamp>_<sha256[:12]>.csv`` plus ``<same stem>.request.json`` (url,
request body, checksum, size, time, tableinfo ``updated``). Files are written under a temporary
dot-name and linked into place, never overwritten; an extract identical to the newest stored one
is not stored again. Configured variables are checked against ``tableinfo`` first, because
variable ids and total codes differ between tables and a wrong guess should fail with the valid
ids in the message, not with a bare HTTP 400.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from datapakke.config import get_settings
from datapakke.raw.errors import SourceFileError
from datapakke.raw.statbank import (
    StatBankClient,
    StatBankError,
    build_data_request,
    find_variable,
    parse_statbank_csv,
    resolve_values,
)

FETCH_FORMAT = "BULK"
VALUE_PRESENTATION = "Code"
LANG = "da"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_SHOWN_VALUES = 25


class FetchConfigError(ValueError):
    """The table configuration cannot be used as written; the message names table and variable."""


@dataclass(frozen=True)
class TableConfig:
    """One entry of ``statbank_tables.yaml``."""

    table: str
    title: str
    feeds: str
    variables: dict[str, list[str]]


def default_config_path() -> Path:
    return get_settings().reference_dir / "statbank_tables.yaml"


def load_config(path: Path | None = None) -> list[TableConfig]:
    """Read and check ``statbank_tables.yaml`` (structure only; ids are checked at fetch)."""
    path = path or default_config_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FetchConfigError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise FetchConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise FetchConfigError(f"{path}: expected a mapping with a list under 'tables'")
    tables: list[TableConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["tables"], start=1):
        where = f"{path}: entry #{i}"
        if not isinstance(entry, dict):
            raise FetchConfigError(f"{where}: expected a mapping")
        table = str(entry.get("table") or "").strip().upper()
        where = f"{path}: table {table or f'#{i}'}"
        unknown = set(entry) - {"table", "title", "feeds", "variables", "notes"}
        if unknown:
            raise FetchConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("table", "title", "feeds", "variables"):
            if not entry.get(key):
                raise FetchConfigError(f"{where}: missing {key}")
        if table in seen:
            raise FetchConfigError(f"{where}: configured twice")
        seen.add(table)
        if not isinstance(entry["variables"], dict):
            raise FetchConfigError(f"{where}: variables must map variable id to a list of values")
        variables: dict[str, list[str]] = {}
        for code, values in entry["variables"].items():
            values = values if isinstance(values, list) else [values]
            if not values:
                raise FetchConfigError(f"{where}: variable {code} selects no values")
            variables[str(code)] = [str(v) for v in values]
        tables.append(TableConfig(table, str(entry["title"]), str(entry["feeds"]), variables))
    return tables


def _listing(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_VALUES])
    more = len(ids) - _SHOWN_VALUES
    return f"{shown}, … ({more} more)" if more > 0 else shown


def check_variables(config: TableConfig, info: Mapping[str, Any]) -> dict[str, list[str]]:
    """Match the configured selection against tableinfo; return it with StatBank's own ids.

    A BULK extract needs every variable, so a variable missing from the configuration is an
    error too (StatBank would answer ``EXTRACT-NOTALLOWED``).
    """
    table = config.table
    valid_ids = [str(v.get("id")) for v in info.get("variables", [])]
    checked: dict[str, list[str]] = {}
    for code, values in config.variables.items():
        variable = find_variable(info, code)
        if variable is None:
            raise FetchConfigError(
                f"table {table}: variable {code!r} does not exist; "
                f"valid variable ids: {', '.join(valid_ids)}"
            )
        value_ids = [str(v.get("id")) for v in variable.get("values", [])]
        for value in values:
            matched = resolve_values(variable, [value])
            if not matched or ("*" not in value and "?" not in value and value not in value_ids):
                raise FetchConfigError(
                    f"table {table}: variable {variable['id']} has no value {value!r}; "
                    f"valid values: {_listing(value_ids)}"
                )
        checked[str(variable["id"])] = list(values)
    missing = [v for v in valid_ids if v not in checked]
    if missing:
        raise FetchConfigError(
            f"table {table}: a BULK extract needs every variable; add {', '.join(missing)} "
            f'(use ["*"] for all values, or the total code)'
        )
    return checked


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_extracts(folder: Path, table: str) -> list[Path]:
    """Stored extracts of a table, oldest first (names start with a sortable UTC timestamp)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{table}_*.csv") if p.is_file())


def _write_new(path: Path, data: bytes) -> None:
    """Write under a temporary dot-name in the same folder, then link into place (no overwrite)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        try:
            os.link(tmp, path)  # fails if path exists: an extract is never overwritten
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class FetchOutcome:
    """What fetching one table did: ``stored`` False means identical to the newest extract."""

    table: str
    path: Path
    sha256: str
    size: int
    stored: bool


def fetch_table(
    client: StatBankClient,
    config: TableConfig,
    raw_dir: Path,
    now: Callable[[], datetime] | None = None,
) -> FetchOutcome:
    """Fetch one configured table and store it unless the newest stored extract is identical."""
    info = client.tableinfo(config.table)
    variables = check_variables(config, info)
    body = build_data_request(config.table, variables, FETCH_FORMAT, VALUE_PRESENTATION, LANG)
    data = client.extract(config.table, variables, FETCH_FORMAT, VALUE_PRESENTATION, LANG)
    try:  # an HTML page or a cut-off body answered with 200 must never become an extract
        parse_statbank_csv(data, source_name=f"{config.table} extract")
    except SourceFileError as error:
        raise StatBankError(
            f"StatBank sent an unusable extract for table {config.table}; nothing stored: "
            f"{error.reason}" + (f" (line {error.row})" if error.row else ""),
            table=config.table,
        ) from None
    sha = _sha256(data)
    folder = raw_dir / "statbank" / config.table
    existing = stored_extracts(folder, config.table)
    if existing and _sha256(existing[-1].read_bytes()) == sha:
        return FetchOutcome(config.table, existing[-1], sha, len(data), stored=False)
    fetched_at = (now or (lambda: datetime.now(UTC)))().astimezone(UTC)
    stem = f"{config.table}_{fetched_at.strftime(TIMESTAMP_FORMAT)}_{sha[:12]}"
    path = folder / f"{stem}.csv"
    sidecar = folder / f"{stem}.request.json"
    if path.exists() or sidecar.exists():
        raise FileExistsError(f"{path} already exists; extracts are never overwritten")
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "table": config.table,
        "title": config.title,
        "feeds": config.feeds,
        "url": client.url("data"),
        "method": "POST",
        "request": body,
        "sha256": sha,
        "bytes": len(data),
        "fetched_at": fetched_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tableinfo_updated": info.get("updated"),
        "suppressed_data_value": info.get("suppressedDataValue"),
        "file": path.name,
    }
    sidecar_bytes = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    # The sidecar goes first: a stored extract never lacks the record of how it was requested.
    _write_new(sidecar, sidecar_bytes)
    _write_new(path, data)
    return FetchOutcome(config.table, path, sha, len(data), stored=True)


def fetch_configured(
    client: StatBankClient,
    config_path: Path | None = None,
    raw_dir: Path | None = None,
    *,
    tables: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
    now: Callable[[], datetime] | None = None,
) -> list[Path]:
    """Fetch every configured table (or only ``tables``); return the extract files stored now."""
    configs = load_config(config_path)
    if tables:
        wanted = {t.upper() for t in tables}
        unknown = wanted - {c.table for c in configs}
        if unknown:
            raise FetchConfigError(
                f"table(s) {', '.join(sorted(unknown))} not configured; configured: "
                f"{', '.join(c.table for c in configs)}"
            )
        configs = [c for c in configs if c.table in wanted]
    raw_dir = raw_dir or get_settings().raw_dir
    stored: list[Path] = []
    for config in configs:
        log(f"{config.table}: checking variables and requesting a BULK extract ...")
        outcome = fetch_table(client, config, raw_dir, now=now)
        if outcome.stored:
            stored.append(outcome.path)
            log(f"{config.table}: stored {outcome.path} ({outcome.size:,} bytes)")
        else:
            log(
                f"{config.table}: unchanged (sha256 {outcome.sha256[:12]} equals the newest "
                f"extract {outcome.path.name}); nothing stored"
            )
    return stored


def _print_list(configs: Sequence[TableConfig], raw_dir: Path) -> None:
    for c in configs:
        extracts = stored_extracts(raw_dir / "statbank" / c.table, c.table)
        newest = extracts[-1].name if extracts else "none stored"
        selection = ", ".join(f"{k}={','.join(v)}" for k, v in c.variables.items())
        print(f"{c.table:8} feeds {c.feeds:24} {c.title}")
        print(f"{'':8} {selection}")
        print(f"{'':8} {len(extracts)} extract(s); newest: {newest}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; failures end in one line on stderr and a non-zero exit."""
    parser = argparse.ArgumentParser(
        prog="python -m datapakke.raw.fetch",
        description="Fetch the StatBank tables in statbank_tables.yaml into data/raw/statbank/.",
    )
    parser.add_argument("--table", action="append", help="fetch only this table (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the configured tables and exit")
    parser.add_argument("--config", type=Path, help="table configuration (YAML)")
    parser.add_argument("--raw-dir", type=Path, help="raw data folder (default: settings)")
    parser.add_argument("--retries", type=int, default=4, help="retries per request (default 4)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per request")
    args = parser.parse_args(argv)
    raw_dir = args.raw_dir or get_settings().raw_dir
    try:
        if args.list:
            _print_list(load_config(args.config), raw_dir)
            return 0
        client = StatBankClient(timeout=args.timeout, max_retries=args.retries)
        stored = fetch_configured(client, args.config, raw_dir, tables=args.table)
    except StatBankError as error:
        print(f"fetch failed: {error}", file=sys.stderr)
        return 2
    except (FetchConfigError, OSError) as error:
        print(f"fetch failed: {error}", file=sys.stderr)
        return 1
    print(f"done: {len(stored)} new extract(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
