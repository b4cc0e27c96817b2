"""``python -m datapakke.raw.sample [--out DIR]`` (``make sample``): regenerate the sample."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from datapakke.config import get_settings
from datapakke.raw.sample.manifest import generate


def main(argv: list[str] | None = None) -> int:
    """Generate into ``--out`` (default: the settings' sample folder) and list what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m datapakke.raw.sample",
        description="Generate the embedded synthetic sample.",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder (default: data/raw/sample)")
    args = parser.parse_args(argv)
    out = args.out or get_settings().sample_dir
    started = time.perf_counter()
    result = generate(out)
    total = sum(f["bytes"] for f in result["files"])
    for f in result["files"]:
        print(
            f"{f['path']:40} {f['bytes']:>10,} bytes {f['rows']:>8,} rows "
            f"{f['cells_1_to_4']:>6,} cells 1-4"
        )
    print(
        f"{len(result['files'])} files, {total / 1e6:.1f} MB, in {out} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
