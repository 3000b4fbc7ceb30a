"""Parsing in worker processes, so a crawl uses every core, and no page can stall it.

trafilatura and lxml hold the GIL: in the crawl process they would use one core.
:class:`ParsePool` keeps ``NEWSWATCH_PARSE_WORKERS`` processes, each parsing one page
at a time (:func:`crawler.parseworker.worker_main`), and answers every page with a
Deferred that fires in the reactor thread with a :data:`~crawler.parseworker.Result`:

- a page still parsing after ``NEWSWATCH_PARSE_TIMEOUT`` seconds is dropped
  ("parse timeout after 30 s"), its worker killed and replaced;
- a worker that dies (segfault, OOM killer, ``kill -9``) costs the page it was parsing,
  dropped with the way it died, and is replaced; the run goes on;
- workers are started by a forkserver (never by forking the crawl process, which holds
  the reactor, threads and database connections) that preloads the parsers, and each
  one exits as soon as the crawl process is gone (:func:`worker_main`'s lifeline).

One thread of the crawl process (the *dispatcher*) owns the workers: it sends pages,
waits on answers, deaths and deadlines together, and hands results to the reactor.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

from crawler.parseworker import READY, Dropped, Result, worker_main

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

    from crawler.parsing import RawPage

logger = logging.getLogger(__name__)

#: How workers are started; "fork" is refused (see the module docstring).
START_METHODS = ("forkserver", "spawn")
#: Workers in a row dying before they are ready: the pool gives up (pages are dropped).
MAX_STARTUP_FAILURES = 3
#: Seconds a worker gets to exit when the pool closes before it is killed.
CLOSE_GRACE_S = 2.0


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class _Job:
    task_id: int
    page: RawPage
    parser: str
    deferred: Deferred[Result]
    started: float = 0.0


@dataclass
class _Worker:
    process: BaseProcess
    tasks: Connection
    lifeline: Connection  # our end; closing it (or dying) ends the worker
    job: _Job | None = None
    ready: bool = False  # started up; only then is it sent pages
    pages: int = field(default=0)


class ParsePool:
    """``workers`` parse processes with a per-page ``timeout`` (seconds)."""

    def __init__(self, workers: int, timeout: float, *, start_method: str = "forkserver") -> None:
        if workers < 1:
            raise ValueError("a parse pool needs at least one worker (0 means parse in-process)")
        if start_method not in START_METHODS:
            raise ValueError(f"parse workers start by {' or '.join(START_METHODS)}, not {start_method!r}")
        self.size = workers
        self.timeout = timeout
        self._context: BaseContext = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Each worker is forked from a server that has imported the parsers once:
            # fast to replace, and the code pages are shared between workers.
            self._context.set_forkserver_preload(["crawler.parseworker"])
        self._queue: deque[_Job] = deque()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._ids = count()
        self._closing = False
        self._startup_failures = 0
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._thread = threading.Thread(target=self._dispatch, name="parse-pool", daemon=True)
        self._thread.start()

    # -- the reactor's side -------------------------------------------------------

    def parse(self, page: RawPage, parser: str) -> Deferred[Result]:
        """Queue ``page``; the Deferred fires in the reactor thread with its result."""
        job = _Job(next(self._ids), page, parser, Deferred())
        with self._lock:
            if self._closing:
                job.deferred.callback(Dropped("parse pool closed"))
                return job.deferred
            self._queue.append(job)
        self._wake()
        return job.deferred

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def close(self) -> None:
        """Stop the workers (pages still queued are dropped) and wait for the dispatcher."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._wake()
        self._thread.join(timeout=CLOSE_GRACE_S + 5)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # closed: the dispatcher is gone already
            self._wake_w.send_bytes(b"")

    # -- the dispatcher thread ------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            while not self._closing:
                self._start_workers()
                self._assign()
                ready = wait(self._waitables(), timeout=self._next_deadline())
                for item in ready:
                    if item is self._wake_r:
                        while self._wake_r.poll():
                            self._wake_r.recv_bytes()
                    else:
                        self._serve(item)
                self._expire()
        except Exception as exc:  # workers cannot start (or a bug): drop pages, never hang
            logger.error("parse workers failed: %s: %s", type(exc).__name__, exc, exc_info=logger.isEnabledFor(logging.DEBUG))
        finally:
            self._shutdown()

    def _waitables(self) -> list[Any]:
        items: list[Any] = [self._wake_r]
        for worker in self._workers:
            items += [worker.tasks, worker.process.sentinel]
        return items

    def _next_deadline(self) -> float | None:
        started = [w.job.started for w in self._workers if w.job is not None]
        if not started:
            return None
        return max(0.0, min(started) + self.timeout - time.monotonic())

    def _start_workers(self) -> None:
        while len(self._workers) < self.size:
            tasks, child_tasks = multiprocessing.Pipe()
            life_r, life_w = multiprocessing.Pipe(duplex=False)
            process = self._context.Process(  # type: ignore[attr-defined]
                target=worker_main, args=(child_tasks, life_r), name="newswatch-parse", daemon=True
            )
            with _main_script_hidden():
                process.start()
            # The worker has its own copies now; ours would keep its pipes open after it dies.
            child_tasks.close()
            life_r.close()
            self._workers.append(_Worker(process, tasks, life_w))
            logger.debug("parse worker %s started", process.pid)

    def _assign(self) -> None:
        for worker in self._workers:
            if worker.job is not None or not worker.ready:
                continue
            with self._lock:
                if not self._queue:
                    return
                job = self._queue.popleft()
            job.started = time.monotonic()
            worker.job = job
            try:
                worker.tasks.send((job.task_id, job.page, job.parser))
            except OSError:  # it died idle; its sentinel reports it and the page is retried
                with self._lock:
                    self._queue.appendleft(job)
                worker.job = None

    def _serve(self, item: Any) -> None:
        worker = next(
            (w for w in self._workers if item is w.tasks or item == w.process.sentinel), None
        )
        if worker is None:
            return
        if item is worker.tasks:
            try:
                message = worker.tasks.recv()
            except (EOFError, OSError):
                self._bury(worker)
                return
            if message == READY:
                worker.ready = True
                self._startup_failures = 0
                return
            task_id, result = message
            job, worker.job = worker.job, None
            worker.pages += 1
            if job is not None and job.task_id == task_id:
                self._resolve(job, result)
        elif not worker.tasks.poll():  # dead, and no answer left to read
            self._bury(worker)

    def _bury(self, worker: _Worker) -> None:
        """A worker died on its own: its page (if any) is dropped, a new one takes its place."""
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        logger.warning("parse worker %s died (%s)", worker.process.pid, how)
        self._remove(worker)
        if not worker.ready:  # died starting up: replacing it would loop forever
            self._startup_failures += 1
            if self._startup_failures >= MAX_STARTUP_FAILURES:
                raise RuntimeError(f"{self._startup_failures} parse workers died starting up ({how})")
        if worker.job is not None:
            self._resolve(worker.job, Dropped(f"parse worker died ({how})"))

    def _expire(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            job = worker.job
            if job is not None and now - job.started >= self.timeout:
                self._kill(worker)
                self._remove(worker)
                self._resolve(job, Dropped(f"parse timeout after {self.timeout:g} s"))

    def _kill(self, worker: _Worker) -> None:
        if worker.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(timeout=5)

    def _remove(self, worker: _Worker) -> None:
        self._workers.remove(worker)
        worker.tasks.close()
        worker.lifeline.close()

    def _resolve(self, job: _Job, result: Result) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(_fire, job.deferred, result)

    def _shutdown(self) -> None:
        with self._lock:
            self._closing = True
            queued = list(self._queue)
            self._queue.clear()
        for job in queued:
            self._resolve(job, Dropped("parse pool closed"))
        for worker in self._workers:
            worker.lifeline.close()  # workers exit on their own, even mid-page
            worker.tasks.close()
        deadline = time.monotonic() + CLOSE_GRACE_S
        for worker in list(self._workers):
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                self._kill(worker)
            if worker.job is not None:
                self._resolve(worker.job, Dropped("parse pool closed"))
        self._workers.clear()
        self._wake_r.close()
        self._wake_w.close()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start a worker without making it re-run the crawl's main script.

    multiprocessing re-imports ``__main__`` from its file in every new process: for
    ``newswatch`` that is the whole CLI (Scrapy, SQLAlchemy, ...), tens of MB per worker
    that a worker never uses.  Without ``__file__`` it is skipped; the worker's code is
    all in ``crawler.parseworker``.
    """
    main = sys.modules["__main__"]
    script = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if script is not None:
            main.__file__ = script


def _fire(deferred: Deferred[Result], result: Result) -> None:
    if not deferred.called:
        deferred.callback(result)


# -- one pool per crawl process -------------------------------------------------------

_shared: ParsePool | None = None
_shared_lock = threading.Lock()


def shared_pool(workers: int, timeout: float) -> ParsePool:
    """The process's pool, started on first use; every crawler of the process shares it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ParsePool(workers, timeout)
            logger.info("parsing in %d worker processes (timeout %g s per page)", workers, timeout)
        return _shared


def close_shared_pool() -> None:
    """Stop the process's pool, if one was started (run owners call this when the crawl ends)."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.close()


atexit.register(close_shared_pool)
