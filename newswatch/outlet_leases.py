"""The one rule for who may crawl an outlet now: a lease per outlet, for manual and scheduled crawls.

A crawl holds ``outlet:<name>`` for its whole run.  A lease left by a dead holder (its
process gone, or the lease expired) is taken over, and the run that holder left
``running`` is closed as interrupted before the new run starts.  ``newswatch crawl``
and the scheduler (and the workers that run its jobs) all go through :func:`outlet_lease`.
The scheduler's service renews the lease while it waits for its crawl process; a crawl
in the holder's own process (``newswatch crawl``) asks for ``keep_renewed`` instead, since
it may outlast one lease (a ``--timeout`` longer than the outlet's, a download in flight).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from storage import locks
from storage.db import Database
from storage.queries import run_detail
from storage.repository import Store

logger = logging.getLogger(__name__)


class OutletBusy(Exception):
    """The outlet is being crawled by a live holder."""

    def __init__(self, outlet: str, by: str) -> None:
        super().__init__(f"outlet {outlet} is being crawled by {by}")
        self.outlet = outlet
        self.by = by


@contextmanager
def outlet_lease(
    db: Database, outlet: str, *, holder: str, lease_s: float, keep_renewed: bool = False
) -> Iterator[str]:
    """Hold ``outlet``'s lease (yields its key) or raise :class:`OutletBusy`; always released.

    With ``keep_renewed`` a thread renews it every quarter lease until the block ends.
    """
    key = locks.outlet_key(outlet)
    attempt = locks.acquire(db, key, holder, lease_s=lease_s)
    if not attempt.acquired:
        raise OutletBusy(outlet, attempt.lease.describe() if attempt.lease else "another process")
    try:
        if attempt.previous is not None:
            logger.warning("outlet %s: took over the lease of %s (%s)", outlet, attempt.taken_from, attempt.reason)
            close_left_behind(db, attempt.previous, attempt.reason or "gone")
        if keep_renewed:
            with _renewing(db, outlet, key, holder, lease_s):
                yield key
        else:
            yield key
    finally:
        try:
            locks.release(db, key, holder)
        except Exception as exc:  # it runs out by itself
            logger.warning("could not release the lease of outlet %s: %s", outlet, exc)


@contextmanager
def _renewing(db: Database, outlet: str, key: str, holder: str, lease_s: float) -> Iterator[None]:
    done = threading.Event()

    def renew() -> None:
        while not done.wait(max(lease_s / 4, 0.5)):
            try:
                if not locks.renew(db, key, holder, lease_s=lease_s):
                    logger.error("outlet %s: lost its lease to another process", outlet)
                    return
            except Exception as exc:  # the database is away: try again next time
                logger.warning("could not renew the lease of outlet %s: %s", outlet, exc)

    renewer = threading.Thread(target=renew, name=f"lease-{outlet}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def close_left_behind(db: Database, previous: locks.Lease, reason: str) -> None:
    """Close the run a dead lease holder left ``running``, before a new run starts."""
    if previous.run_id is None:
        return
    with db.read_session() as session:
        detail = run_detail(session, previous.run_id, problem_limit=0)
    if detail is None or detail.run.status != "running":
        return
    why = "stopped renewing its lease" if reason == "expired" else "is gone"
    message = f"its holder ({previous.holder}) {why}; the outlet's lease was taken over"
    Store(db).finish_run(previous.run_id, status="interrupted", message=message, stats=detail.run.stats)
    logger.warning("run %d was left running by %s: recorded as interrupted", previous.run_id, previous.holder)
