"""What is in ``data/raw/`` by content: the file sensor's view of new and changed drops."""

from __future__ import annotations

from pathlib import Path

from datapakke.raw.read import file_sha256

IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".request.json")


def snapshot(raw_dir: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every data file under ``raw_dir`` (hidden and partial files skipped)."""
    result: dict[str, str] = {}
    if not raw_dir.exists():
        return result
    for path in sorted(raw_dir.rglob("*")):
        relative = path.relative_to(raw_dir)
        if (
            not path.is_file()
            or any(part.startswith(".") for part in relative.parts)
            or path.name.endswith(IGNORED_SUFFIXES)
            or path.name.startswith("~$")
        ):
            continue
        result[relative.as_posix()] = file_sha256(path)
    return result


def changed(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files that are new or whose content changed (a touched but identical file is not)."""
    return sorted(path for path, sha in current.items() if previous.get(path) != sha)
