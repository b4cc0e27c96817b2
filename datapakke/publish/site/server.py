"""Serving the site folder on localhost (``make serve``): static files, never cached."""

from __future__ import annotations

from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, ClassVar
from urllib.parse import unquote, urlsplit

from datapakke.config import get_settings
from datapakke.publish.site.build import build_site
from datapakke.publish.site.page import XLSX_MIME


class SiteRequestHandler(SimpleHTTPRequestHandler):
    """Static files with the Excel MIME type and no caching, so a rebuilt site shows at once."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".xlsx": XLSX_MIME,
    }

    def send_head(self) -> BinaryIO | None:
        """Refuse paths no file can have (a NUL byte, ``%00``) with 400 instead of a traceback.

        The standard handler passes them to ``open()``, which raises ValueError; that ends the
        request without an answer and prints a stack trace in the server's console.
        """
        if "\x00" in unquote(urlsplit(self.path).path):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request: the path holds a NUL byte")
            return None
        if not self._inside_site():
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            return super().send_head()
        except ValueError:  # any other path the file system cannot take
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request: not a valid path")
            return None

    def _inside_site(self) -> bool:
        """Whether the requested file, every symlink followed, lies inside the site folder.

        The standard handler stops ``..`` but follows links, so a link placed in the site
        folder (by hand, or by a tool that copies with ``symlinks=True``) would serve whatever
        it points at, ``/etc`` included.
        """
        root = Path(self.directory).resolve()
        try:
            target = Path(self.translate_path(self.path)).resolve()
        except (OSError, ValueError):
            return False
        return target.is_relative_to(root)

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
