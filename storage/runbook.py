"""A run's books: start or adopt it, its heartbeat, its problems, closing it, and runs whose process is gone.

:class:`storage.repository.Store` is built on :class:`RunBook`: the article decision
(``Store.record`` and its ``_record*`` steps) lives in storage/repository.py, the books
of the run that records them here, each write one transaction as there.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import write_transaction
from storage.models import CrawlRun, RunProblem
from storage.processes import pid_alive
from storage.queries import run_counts

if TYPE_CHECKING:
    from storage.db import Database

# The name the warnings were always logged under (before the books left storage/repository.py),
# so a log filter or a logging config naming it keeps working.
logger = logging.getLogger("storage.repository")

T = TypeVar("T")


def _storable(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udcff``: a file name that is not UTF-8
    reaches a problem's location that way, and no database column can hold one."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunBook:
    """The run-bookkeeping half of :class:`storage.repository.Store` (which sets ``db``)."""

    db: Database

    def start_run(
        self,
        *,
        spiders: Sequence[str],
        outlets: Sequence[str],
        mode: str,
        origin: str = "cli",
        worker: str | None = None,
        job_key: str | None = None,
    ) -> int:
        now = utcnow()
        run = CrawlRun(
            spiders=",".join(spiders)[:200],
            outlets=list(outlets),
            mode=mode,
            origin=origin,
            status="running",
            started_at=now,
            heartbeat_at=now,
            host=socket.gethostname(),
            pid=os.getpid(),
            worker=worker,
            job_key=job_key,
        )

        def write(session: Session) -> int:
            session.add(run)
            session.flush()
            return run.id

        return self._write(write)

    def adopt_run(self, run_id: int) -> None:
        """This process takes over a ``running`` run another process created."""

        def write(session: Session) -> None:
            run = session.get(CrawlRun, run_id)
            if run is None or run.status != "running":
                raise ValueError(f"run {run_id} is not a running run")
            run.pid, run.host, run.heartbeat_at = os.getpid(), socket.gethostname(), utcnow()

        self._write(write)

    def heartbeat(self, run_id: int) -> None:
        """The run is alive; its counts so far are flushed, so a crash leaves its progress visible."""

        def write(session: Session) -> None:
            counts = run_counts(session, run_id)
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id, CrawlRun.status == "running")
                .values(heartbeat_at=utcnow(), **{f"{name}_count": value for name, value in counts.items()})
            )

        self._write(write)

    def record_problem(self, run_id: int, *, kind: str, url: str, reason: str) -> None:
        """A page the run could not store: ``dropped`` (bad input) or ``error``."""
        self._write(
            lambda s: s.add(
                RunProblem(
                    run_id=run_id, kind=kind, url=_storable(url), reason=_storable(reason[:2000]), at=utcnow()
                )
            )
        )

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        message: str | None = None,
        stats: dict[str, Any] | None = None,
    ) -> CrawlRun:
        """Close the run and freeze its counts from what it recorded."""

        def write(session: Session) -> CrawlRun:
            counts = run_counts(session, run_id)
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(
                    status=status,
                    message=message,
                    stats=stats,
                    finished_at=utcnow(),
                    heartbeat_at=utcnow(),
                    **{f"{name}_count": value for name, value in counts.items()},
                )
            )
            return session.get_one(CrawlRun, run_id, populate_existing=True)

        return self._write(write)

    def mark_interrupted_runs(
        self, *, stale_after_s: float = 600, is_alive: Callable[[int], bool] | None = None
    ) -> list[int]:
        """Mark ``running`` rows whose process is gone as ``interrupted``.

        A run on this host is gone when its pid no longer exists; a run on another
        host when its heartbeat is older than ``stale_after_s``.
        """
        alive = is_alive or pid_alive
        host = socket.gethostname()
        now = utcnow()

        def write(session: Session) -> list[int]:
            gone: list[int] = []
            for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
                if run.host == host and run.pid != os.getpid():
                    dead = not alive(run.pid)
                else:
                    dead = (now - run.heartbeat_at).total_seconds() > stale_after_s
                if dead:
                    counts = run_counts(session, run.id)
                    run.status = "interrupted"
                    run.finished_at = now
                    run.message = "process ended without closing the run (killed or crashed)"
                    for name, value in counts.items():
                        setattr(run, f"{name}_count", value)
                    gone.append(run.id)
            return gone

        gone = self._write(write)
        for run_id in gone:
            logger.warning("run %d was interrupted: marked as such", run_id)
        return gone

    def _write(self, work: Callable[[Session], T]) -> T:
        return write_transaction(self.db, work)
