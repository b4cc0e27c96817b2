"""The static download page: each area's latest pack, earlier versions and an overview thumbnail.

``data/marts/site/index.html`` must work opened from disk *and* served from the site folder
alone (``make serve``), so it links only to copies inside ``site/``. :mod:`.build` copies the
areas' outputs and swaps the new folder in, :mod:`.page` writes the HTML, :mod:`.server` serves
the folder on localhost.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from datapakke.publish.site.build import build_site, refresh_site
from datapakke.publish.site.server import make_server, serve

__all__ = ["build_site", "main", "make_server", "refresh_site", "serve"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m datapakke.publish.site`` rebuilds the page; ``--serve [--port N]`` serves it."""
    parser = argparse.ArgumentParser(
        prog="python -m datapakke.publish.site",
        description="Byg download-siden for datapakkerne, eller server den på 127.0.0.1.",
    )
    parser.add_argument("--serve", action="store_true", help="server siden i stedet for at bygge")
    parser.add_argument("--port", type=int, default=8000, help="port (standard 8000)")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0
    path = build_site()
    print(f"Download-siden er bygget: {path}")
    return 0
