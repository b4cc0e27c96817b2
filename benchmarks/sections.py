"""``benchmarks/results.md`` is written by several benchmarks, each owning its own sections."""

from __future__ import annotations

from datapakke.config import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results.md"


def replace_section(heading: str, text: str) -> None:
    """Put ``text`` (starting with ``heading``, a '## ' line) in place of that section of
    results.md, or at its end; every other section is kept as it is."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start = current.find(heading)
    if start >= 0:
        end = current.find("\n## ", start + len(heading))
        rest = current[end:] if end >= 0 else ""
        current = current[:start].rstrip("\n") + "\n\n" + text.strip("\n") + "\n" + rest
    else:
        current = current.rstrip("\n") + "\n\n" + text.strip("\n") + "\n"
    RESULTS.write_text(current, encoding="utf-8")


def replace_sections(text: str) -> None:
    """Put a whole results text in: its preamble (the lines before its first section) replaces
    the file's, each of its sections replaces the file's of the same heading."""
    preamble, *sections = text.split("\n## ")
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    first = current.find("\n## ")
    RESULTS.write_text(
        preamble.rstrip("\n") + "\n" + (current[first:] if first >= 0 else ""), encoding="utf-8"
    )
    for section in sections:
        replace_section("## " + section.split("\n", 1)[0], "## " + section)
