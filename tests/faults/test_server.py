"""The download server: nothing outside the site folder, whatever the path or method."""

from __future__ import annotations

from pathlib import Path

from benchmarks.faults import server_fault, server_requests


def test_no_request_reaches_outside_the_site_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    outcome = server_fault(tmp_path)
    assert outcome.survived, outcome.problems


def test_the_attacks_include_links_encodings_methods_and_a_64_kb_url(tmp_path: Path) -> None:
    names = [name for name, _ in server_requests(tmp_path)]
    assert {"GET /link-to-secret.txt", "GET /%2e%2e/secret.txt", "GET /..%5csecret.txt"} <= set(
        names
    )
    assert {"POST", "PUT", "DELETE", "64 KB URL"} <= set(names)
