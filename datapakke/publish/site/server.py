"""Serving the site folder on localhost (``make serve``): static files, never cached."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from datapakke.config import get_settings
from datapakke.publish.site.build import build_site
from datapakke.publish.site.page import XLSX_MIME


class SiteRequestHandler(SimpleHTTPRequestHandler):
    """Static files with the Excel MIME type and no caching, so a rebuilt site shows at once."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".xlsx": XLSX_MIME,
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(port: int = 8000, directory: Path | str | None = None) -> ThreadingHTTPServer:
    """An HTTP server for the site folder on 127.0.0.1 only (port 0: any free port)."""
    root = Path(directory) if directory is not None else get_settings().site_dir
    handler = partial(SiteRequestHandler, directory=str(root))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve(port: int = 8000, directory: Path | str | None = None) -> None:
    """Serve the site on localhost until Ctrl+C; builds the page first if there is none."""
    if directory is None:
        directory = get_settings().site_dir
        if not (directory / "index.html").is_file():
            build_site()
    server = make_server(port, directory)
    host, real_port = server.server_address[:2]
    print(f"Datapakker: http://{host}:{real_port}/  (stop med Ctrl+C)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
