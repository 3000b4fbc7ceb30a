"""Send what the outbox has due: each row claimed, sent and settled on its own.

Called after each run (:func:`newswatch.alerts.after_run`) and by ``newswatch watch run``;
any number of these may run at once (the claim is an atomic UPDATE with a lease).  The
clock is a parameter, so the backoff can be tested without sleeping (``watch run --now``).
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections import defaultdict
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
    """Claim, send and settle every due outbox row, ``limit`` at a time, until none is left.

    Immediate rows are sent alone; a digest watch's due rows go in one message per channel,
    however many batches they span (a window is one digest).  A settled row is never due
    again at the same ``now`` (a retry waits at least a minute), so the loop ends.
    """
    moment = now or datetime.now(UTC)
    holder = holder_name()
    report = DeliveryReport()
    while True:
        with db.read_session() as session:
            ids = outbox.due(session, moment, limit=limit)
        claimed = _claim(db, ids, holder, moment)
        if not claimed:  # nothing due, or every due row taken by another sender
            return report
        for watch_id, channel in sorted({(row.watch_id, row.channel) for row in claimed if row.digest}):
            with db.read_session() as session:
                rest = outbox.due(session, moment, limit=None, watch_id=watch_id, channel=channel)
            claimed += _claim(db, rest, holder, moment)
        _send(db, claimed, moment, report)


def _claim(db: Database, ids: list[int], holder: str, moment: datetime) -> list[Claimed]:
    return [row for row in (outbox.claim(db, i, holder, moment) for i in ids) if row is not None]


def _send(db: Database, claimed: list[Claimed], moment: datetime, report: DeliveryReport) -> None:
    groups: dict[tuple[int, int, int], list[Claimed]] = defaultdict(list)
    for row in claimed:
        # Immediate rows are sent alone; a digest watch's due rows go in one message per channel.
        groups[(row.watch_id, row.channel, 0 if row.digest else row.outbox_id)].append(row)
    for rows in groups.values():
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
        for row in rows:
            status = outbox.settle(db, row.outbox_id, error=error, now=moment)
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
