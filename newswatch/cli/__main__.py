"""``python -m newswatch.cli``: the newswatch command; the scheduler starts its crawls this way.

With NEWSWATCH_DIE_WITH_PARENT=<pid> (set by crawler/scheduling/service.py) the process asks
Linux to SIGKILL it when its parent dies: a scheduler killed with SIGKILL leaves no
orphan crawl running beside the next scheduler, whose outlet lock would otherwise
expire while the orphan still crawls.  The next start records the run as interrupted.
"""

from __future__ import annotations

import os
import signal
import sys


def _die_with_parent() -> None:
    parent = os.environ.pop("NEWSWATCH_DIE_WITH_PARENT", "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the parent died before prctl took effect
        os._exit(1)


if __name__ == "__main__":
    _die_with_parent()
    from newswatch.cli.app import app

    app(prog_name="newswatch")
