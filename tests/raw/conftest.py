"""The ``statbank`` fixture: a fake StatBank server for the duration of one test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.raw.statbank_fake import FakeStatBank, Handler, Server


@pytest.fixture
def statbank() -> Iterator[FakeStatBank]:
    server = Server(("127.0.0.1", 0), Handler)
    server.fake = FakeStatBank(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.daemon = True
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
