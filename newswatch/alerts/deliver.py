"""Send what the outbox has due: each row claimed, sent and settled on its own.

Called after each run (:func:`newswatch.alerts.after_run`) and by ``newswatch watch run``;
any number of these may run at once (the claim is an atomic UPDATE with a lease).  The
clock is a parameter, so the backoff can be tested without sleeping (``watch run --now``).
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newswatch.alerts.channels import ChannelError, DeliveryError, parse_channel, send
from newswatch.alerts.message import Event, Notification
from storage import outbox

if TYPE_CHECKING:
    from storage.db import Database
    from storage.outbox import Claimed


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _event(row: Claimed) -> Event:
    return Event(
        watch=row.watch_name,
        event=row.event,
        article_id=row.article_id,
        url=row.url,
        outlet=row.outlet,
        title=row.title,
        published_at=row.published_at,
        version=row.version,
        change_summary=row.summary,
        matched_at=row.matched_at.isoformat(),
    )


def deliver_due(db: Database, *, now: datetime | None = None, limit: int = 200) -> DeliveryReport:
    """Claim, send and settle every outbox row due at ``now``, ``limit`` at a time.

    Each immediate row, or each digest (a watch's due rows for one channel: a window is one
    message, however many batches it spans), is claimed just before it is sent, on the
    real clock: a lease covers one send, not a whole batch of slow sends, so a second
    sender never takes a row that this one has yet to send.  What is due is fixed at the
    start (a row failed here waits for its backoff), so the loop ends.
    """
    moment = now or datetime.now(UTC)

    def clock() -> datetime:
        return now or datetime.now(UTC)

    holder = holder_name()
    report = DeliveryReport()
    while True:
        with db.read_session() as session:
            ids = outbox.due(session, moment, limit=limit)
        sent_any = False
        for outbox_id in ids:
            row = outbox.claim(db, outbox_id, holder, clock())
            if row is None:  # sent meanwhile (with its digest), or another sender has it
                continue
            rows = [row]
            if row.digest:
                with db.read_session() as session:
                    rest = outbox.due(session, moment, limit=None, watch_id=row.watch_id, channel=row.channel)
                rows += _claim(db, rest, holder, clock())
            _send(db, rows, clock, report)
            sent_any = True
        if not sent_any:  # nothing due, or every due row taken by another sender
            return report


def _claim(db: Database, ids: list[int], holder: str, moment: datetime) -> list[Claimed]:
    return [row for row in (outbox.claim(db, i, holder, moment) for i in ids) if row is not None]


def _send(db: Database, rows: list[Claimed], clock: Callable[[], datetime], report: DeliveryReport) -> None:
    """One message: a single row, or every row of one digest; then each row settled."""
    first = rows[0]
    digest = bool(first.digest)
    key = _digest_key(rows) if digest else first.idempotency_key
    notification = Notification(first.watch_name, tuple(_event(r) for r in rows), key, digest=digest)
    error: str | None = None
    try:
        send(parse_channel(first.channel_url), notification, secret=first.watch_secret)
    except (ChannelError, DeliveryError) as exc:
        error = str(exc)
    except Exception as exc:  # a channel library bug must not stop the other channels
        error = f"{type(exc).__name__}: {exc}"
    settled_at = clock()
    for row in rows:
        status = outbox.settle(db, row.outbox_id, error=error, now=settled_at)
        if status == "sent":
            report.sent += 1
        elif status == "dead":
            report.dead += 1
        else:
            report.failed += 1
    if error:
        report.errors.append(error)


def _digest_key(rows: list[Claimed]) -> str:
    keys = "\n".join(sorted(r.idempotency_key for r in rows))
    return "nw-digest:" + hashlib.sha256(keys.encode()).hexdigest()[:40]
