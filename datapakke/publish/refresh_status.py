"""When the packs were last refreshed, and whether the latest attempt failed and why.

A failed night leaves yesterday's packs in place, so the download page must say both: the data
are as of the last refresh that succeeded, and the latest attempt failed (when, and the reason
operations saw). One small JSON file beside the marts, written atomically by whoever learns the
outcome: the site step of a successful refresh, ``make run`` and the Dagster failure sensor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from datapakke.atomic import write_bytes
from datapakke.config import Settings

STATUS_FILE = "refresh-status.json"


@dataclass(frozen=True)
class RefreshStatus:
    last_success: datetime | None = None
    last_failure: datetime | None = None
    failure_reason: str = ""

    @property
    def latest_failed(self) -> bool:
        """The latest attempt failed (after the last success, or with no success yet)."""
        if self.last_failure is None:
            return False
        return self.last_success is None or self.last_failure > self.last_success


def read_status(settings: Settings) -> RefreshStatus:
    """The recorded status; an absent or unreadable file is no status (never an error)."""
    path = settings.marts_dir / STATUS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RefreshStatus(
            last_success=_moment(data.get("last_success")),
            last_failure=_moment(data.get("last_failure")),
            failure_reason=str(data.get("failure_reason") or ""),
        )
    except (OSError, ValueError, TypeError, AttributeError):
        return RefreshStatus()


def record_success(settings: Settings, when: datetime) -> RefreshStatus:
    status = RefreshStatus(when, read_status(settings).last_failure, "")
    return _write(settings, status)


def record_failure(settings: Settings, when: datetime, reason: str) -> RefreshStatus:
    status = RefreshStatus(read_status(settings).last_success, when, reason.strip()[:2000])
    return _write(settings, status)


def _write(settings: Settings, status: RefreshStatus) -> RefreshStatus:
    data = {
        "last_success": status.last_success.isoformat() if status.last_success else None,
        "last_failure": status.last_failure.isoformat() if status.last_failure else None,
        "failure_reason": status.failure_reason,
    }
    settings.marts_dir.mkdir(parents=True, exist_ok=True)
    write_bytes(settings.marts_dir / STATUS_FILE, json.dumps(data, indent=2).encode())
    return status


def _moment(text: object) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None
