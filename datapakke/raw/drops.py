"""What is in ``data/raw/``: the data files (the file sensor's view, by content) and which of them
match a source's ``drop_glob``.

Files that are not data are never seen: hidden files and folders, Excel's ``~$`` lock files and
downloads or copies still in progress. A ``drop_glob`` matches case-insensitively, because the
people saving the files do not keep to one case (``Aeldre-2026.xlsx`` is an ``aeldre*.xlsx``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from pathlib import Path, PurePosixPath

IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".request.json")
# Spreadsheet formats the readers refuse (old .xls, OpenDocument .ods). A drop saved in one of
# them where the glob asks for .xlsx or .csv matches anyway, so it is refused with what to do
# ("save it as .xlsx") instead of being ignored without a word (found by the fault suite).
REFUSED_SUFFIXES = (".xls", ".ods")
_READ_SUFFIXES = (".xlsx", ".csv")
_BRACES = re.compile(r"\{([^{}]*)\}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_ignored(relative: PurePosixPath) -> bool:
    """Whether a path under ``data/raw/`` is not data: hidden, a lock file or a partial file."""
    return (
        any(part.startswith(".") for part in relative.parts)
        or relative.name.endswith(IGNORED_SUFFIXES)
        or relative.name.startswith("~$")
    )


def data_files(raw_dir: Path) -> list[Path]:
    """Every data file under ``raw_dir``, sorted by path."""
    if not raw_dir.exists():
        return []
    return [
        path
        for path in sorted(raw_dir.rglob("*"))
        if path.is_file() and not is_ignored(PurePosixPath(path.relative_to(raw_dir).as_posix()))
    ]


def snapshot(raw_dir: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every data file under ``raw_dir`` (hidden and partial files skipped)."""
    return {path.relative_to(raw_dir).as_posix(): file_sha256(path) for path in data_files(raw_dir)}


def changed(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files that are new or whose content changed (a touched but identical file is not)."""
    return sorted(path for path, sha in current.items() if previous.get(path) != sha)


def expand_braces(glob: str) -> list[str]:
    """``statbank/FOLK1A/*.{csv,xlsx}`` → one glob per alternative (innermost braces first)."""
    match = _BRACES.search(glob)
    if match is None:
        return [glob]
    return [
        expanded
        for alternative in match.group(1).split(",")
        for expanded in expand_braces(glob[: match.start()] + alternative + glob[match.end() :])
    ]


def glob_matches(glob: str, relative: str) -> bool:
    """Whether a path relative to ``data/raw/`` matches a ``drop_glob``, ignoring case.

    As ``pathlib`` globs: ``*``, ``?`` and ``[…]`` stay within one folder and ``**`` spans any
    number of folders; ``{a,b}`` gives alternatives. A pattern ending in .xlsx or .csv also
    matches the same name in a refused format (``REFUSED_SUFFIXES``).
    """
    parts = relative.casefold().split("/")
    patterns = [pattern.casefold() for pattern in expand_braces(glob)]
    patterns += [
        pattern.removesuffix(suffix) + refused
        for pattern in patterns
        for suffix in _READ_SUFFIXES
        if pattern.endswith(suffix)
        for refused in REFUSED_SUFFIXES
    ]
    return any(_parts_match(pattern.split("/"), parts) for pattern in patterns)


def _parts_match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_parts_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _parts_match(rest, parts[1:])


def matching_files(raw_dir: Path, glob: str) -> list[Path]:
    """The data files under ``raw_dir`` whose path relative to it matches ``glob``."""
    return [
        path
        for path in data_files(raw_dir)
        if glob_matches(glob, path.relative_to(raw_dir).as_posix())
    ]
