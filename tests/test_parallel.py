"""Pool workers die with their parent (issue 16): a refresh killed alone, as by the OOM killer,
leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from datapakke.config import REPO_ROOT
from datapakke.parallel import map_forked, map_in_pool

_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from datapakke.parallel import map_forked, map_in_pool

    def report_and_wait(item):
        os.write(1, f"{os.getpid()}\\n".encode())  # one write: the two workers share the pipe
        time.sleep(120)

    def shared_wait(shared, item):
        report_and_wait(item)

    if sys.argv[1] == "forked":
        map_forked(shared_wait, None, [1, 2], 2)
    else:
        map_in_pool(report_and_wait, [1, 2], 2)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, only not yet reaped
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="the kernel's parent-death signal is Linux's")
@pytest.mark.parametrize("kind", ["pool", "forked"])
def test_workers_die_when_their_parent_is_killed_alone(kind: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, kind],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    workers = [int(parent.stdout.readline()) for _ in range(2)]
    assert all(_alive(pid) for pid in workers)
    os.kill(parent.pid, signal.SIGKILL)  # the parent alone, as the OOM killer does
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []


def _add(shared: int, item: int) -> int:
    return shared + item


def test_pools_still_return_results_in_order() -> None:
    assert map_in_pool(abs, [-3, -1, -2], 2) == [3, 1, 2]
    assert map_forked(_add, 10, [1, 2, 3], 2) == [11, 12, 13]
