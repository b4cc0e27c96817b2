"""A fake StatBank for the client and fetch tests: a real local HTTP server (never the network).

The server replays the hand-written responses in ``tests/fixtures/statbank/`` (or replies made
per request) and records every request, so tests check both what the client sends and how it
reacts to what comes back. The ``statbank`` fixture (``conftest.py``) starts one per test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from datapakke.raw.statbank import StatBankClient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "statbank"
BOM = b"\xef\xbb\xbf"
FOLK1A_VARIABLES = {
    "OMRÅDE": ["*"],
    "KØN": ["1", "2"],
    "ALDER": ["*"],
    "CIVILSTAND": ["TOT"],
    "Tid": ["*"],
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def bulk_body() -> bytes:
    """The BULK fixture with CRLF line ends, whatever a checkout did to them."""
    return fixture("folk1a_bulk_codes.csv").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def tableinfo() -> dict[str, Any]:
    return json.loads(fixture("folk1a_tableinfo.json"))


# --------------------------------------------------------------------------- the fake StatBank


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/csv; charset=utf-8"
    delay: float = 0.0
    announce: int | None = None  # Content-Length to announce (more than sent = truncated body)


def json_reply(name: str, status: int = 200) -> Reply:
    return Reply(status, fixture(name), "application/json; charset=utf-8")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw.decode("utf-8"))


@dataclass
class FakeStatBank:
    """Replies per path, in order; the last reply of a path repeats (a persistent state)."""

    base_url: str = ""
    replies: dict[str, list[Reply | Callable[[Any], Reply]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, endpoint: str, *replies: Reply | Callable[[Any], Reply]) -> None:
        self.replies[f"/v1/{endpoint}"] = list(replies)

    def next_reply(self, path: str, body: Any) -> Reply:
        with self.lock:
            queue = self.replies.get(path)
            if not queue:
                return Reply(404, b'{"errorTypeCode":"NOT-CONFIGURED","message":"no reply"}')
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(body) if callable(reply) else reply

    def calls(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"/v1/{endpoint}"]


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with fake.lock:
            fake.requests.append(Recorded("POST", self.path, dict(self.headers.items()), raw))
        reply = fake.next_reply(self.path, json.loads(raw.decode("utf-8")))
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(reply.announce or len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout) before the reply
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStatBank

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass
class Sleeps:
    seconds: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def client_for(fake: FakeStatBank, **kwargs: Any) -> tuple[StatBankClient, Sleeps]:
    sleeps = Sleeps()
    options: dict[str, Any] = {"timeout": 5, "max_retries": 4, "backoff": 1.0, **kwargs}
    return StatBankClient(fake.base_url, sleep=sleeps, **options), sleeps


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
