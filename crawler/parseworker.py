"""One page in, plain data out: the work a parse worker process does (and 0 workers do in-process).

Only a :class:`~crawler.parsing.RawPage` (bytes, a dict of headers, a datetime) goes in,
and only an :class:`~crawler.items.Article` with its near-duplicate fingerprint (strings,
bytes, ints) or a one-line reason comes out: no lxml tree ever crosses a process
boundary.  This module imports neither Scrapy nor Twisted, so the forkserver that starts
workers preloads just the parsers.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

from crawler.items import Article
from crawler.parsing import PARSERS, NotAnArticle, ParseError, RawPage, parse
from storage.fingerprint import Fingerprint, fingerprint

# crawler.parsing imports a parser at its first use; the forkserver preloads this module,
# so every worker it forks starts with all of them imported, as a crawl process does.
_ALL_PARSERS = dict(PARSERS)


@dataclass(frozen=True, slots=True)
class Parsed:
    article: Article


@dataclass(frozen=True, slots=True)
class Dropped:
    """The page gives no article; ``reason`` is the one line the run records.

    ``kind`` is what a valid page turned out to be instead (a listing, an error page ...:
    ``crawler.parsing.page.PAGE_KINDS``), or None for a page that could not be read.
    """

    reason: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Crashed:
    """The parser raised something other than ParseError: a bug, reported as one."""

    error: str
    traceback: str


Result = Parsed | Dropped | Crashed
#: A worker's first message: it is ready for pages.
READY = "ready"
#: prctl(2) option: the signal the kernel sends when the parent process dies.
PR_SET_PDEATHSIG = 1


def parse_page(page: RawPage, parser: str) -> Result:
    """Parse ``page`` and fingerprint its body (the MinHash is as costly as a parse)."""
    try:
        article = parse(page, parser)
        signature: Fingerprint = fingerprint(article.body)
    except NotAnArticle as exc:
        return Dropped(f"{exc.kind}: {exc.reason}", kind=exc.kind)
    except ParseError as exc:
        return Dropped(exc.reason)
    except Exception as exc:
        return Crashed(f"{type(exc).__name__}: {exc}", traceback.format_exc())
    return Parsed(article.replace(fingerprint=signature))


def worker_main(tasks: Connection, lifeline: Connection) -> None:
    """Parse the pages sent on ``tasks`` one at a time until the pool closes it.

    ``lifeline``'s other end is held only by the crawl process: when that process
    dies, however it dies, the kernel closes it and this worker exits at once, even
    in the middle of a page.
    """
    # Ctrl-C in a terminal reaches the whole process group: the crawl process decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_forkserver()
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True).start()
    # The parsers' modules and tables live as long as the worker: frozen, the collector's
    # full passes skip them (as the crawl process does during a run, newswatch.runs).
    gc.freeze()
    # Start-up (imports, unpickling) is not parse time: the deadline starts after this.
    tasks.send(READY)
    while True:
        try:
            task_id, page, parser = tasks.recv()
        except (EOFError, OSError):  # the pool closed (or the crawl process is gone)
            return
        tasks.send((task_id, parse_page(page, parser)))


def _die_with_forkserver() -> None:
    """Linux: SIGKILL when our parent (the forkserver, which exits with the crawl) dies.

    A second line behind the lifeline, for a worker stuck in C code holding the GIL.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _exit_with_parent(lifeline: Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()  # nothing is ever sent: this returns only by EOF
    os._exit(0)
