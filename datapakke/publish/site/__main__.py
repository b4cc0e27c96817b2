"""``python -m datapakke.publish.site [--serve]``: build the download page, or serve it."""

from datapakke.publish.site import main

if __name__ == "__main__":
    raise SystemExit(main())
