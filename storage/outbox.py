"""The delivery outbox: claim due notifications, settle each attempt, retry with backoff.

At-least-once with a key: a sender claims a row with a lease (an UPDATE that succeeds for
one claimer only), sends, then settles it.  A sender that dies mid-send leaves a lease that
runs out, and the row is sent again with the same ``Idempotency-Key``; rows are claimed and
settled one by one, so one failing channel never holds back another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from storage.db import write_transaction
from storage.models import DeliveryAttempt, OutboxMessage, Watch, WatchMatch

if TYPE_CHECKING:
    from storage.db import Database

#: Wait before attempt n+1 after n failures: 1 min, 5 min, 30 min, 2 h, then 12 h.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
#: After this many failed attempts a row is ``dead`` (about three days of trying).
MAX_ATTEMPTS = 10
#: How long a claim holds a row: longer than any send (channel timeouts are 20 s).
LEASE = timedelta(minutes=5)


def backoff(failures: int) -> timedelta:
    return BACKOFF[min(failures, len(BACKOFF)) - 1]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed outbox row with everything needed to send it."""

    outbox_id: int
    idempotency_key: str
    attempts: int
    watch_id: int
    watch_name: str
    watch_secret: str
    digest: str | None
    channel: int
    channel_url: str
    match_id: int
    article_id: int
    version: int
    event: str
    url: str
    outlet: str
    title: str
    published_at: str | None
    summary: str
    matched_at: datetime


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A row due at ``now`` and leased to nobody: what :func:`due` lists and :func:`claim` takes."""
    return (
        OutboxMessage.status.in_(("pending", "failed")),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )


def due(
    session: Session, now: datetime, *, limit: int | None = 200, watch_id: int | None = None, channel: int | None = None
) -> list[int]:
    """The rows due and not leased, oldest first; ``watch_id`` and ``channel`` narrow it to one digest."""
    query = select(OutboxMessage.id).where(*_claimable(now))
    if watch_id is not None:
        query = query.where(OutboxMessage.watch_id == watch_id)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return list(session.scalars(query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def claim(db: Database, outbox_id: int, holder: str, now: datetime) -> Claimed | None:
    """Take the row for one send, or None if it is no longer due or someone else has it."""

    def write(session: Session) -> Claimed | None:
        taken = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, *_claimable(now))
            .values(lease_until=now + LEASE, lease_holder=holder[:255])
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.execute(
            select(OutboxMessage, Watch, WatchMatch)
            .join(Watch, Watch.id == OutboxMessage.watch_id)
            .join(WatchMatch, WatchMatch.id == OutboxMessage.match_id)
            .where(OutboxMessage.id == outbox_id)
        ).one()
        message, watch, match = row
        channels = watch.channels
        return Claimed(
            outbox_id=message.id,
            idempotency_key=message.idempotency_key,
            attempts=message.attempts,
            watch_id=watch.id,
            watch_name=watch.name,
            watch_secret=watch.secret,
            digest=watch.digest,
            channel=message.channel,
            channel_url=channels[message.channel] if message.channel < len(channels) else "",
            match_id=match.id,
            article_id=match.article_id,
            version=match.version,
            event=match.event,
            url=match.url,
            outlet=match.outlet,
            title=match.title,
            published_at=match.published_at,
            summary=match.summary,
            matched_at=match.created_at,
        )

    return write_transaction(db, write)


def settle(db: Database, outbox_id: int, *, error: str | None, now: datetime) -> str:
    """Record one attempt: ``sent``, or ``failed`` with the next try, or ``dead``; the new status."""

    def write(session: Session) -> str:
        message = session.get_one(OutboxMessage, outbox_id)
        message.attempts += 1
        message.lease_until = None
        message.lease_holder = None
        session.add(DeliveryAttempt(outbox_id=outbox_id, at=now, ok=error is None, error=error))
        if error is None:
            message.status, message.sent_at, message.last_error = "sent", now, None
        else:
            message.last_error = error[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "dead"
            else:
                message.status = "failed"
                message.next_attempt_at = now + backoff(message.attempts)
        return message.status

    return write_transaction(db, write)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    outbox_id: int
    match_id: int
    channel: int
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    tries: list[tuple[datetime, bool, str | None]]


def deliveries(session: Session, watch_id: int, *, limit: int = 50) -> list[DeliveryView]:
    """The watch's newest outbox rows, each with its attempts."""
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.watch_id == watch_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    tries: dict[int, list[tuple[datetime, bool, str | None]]] = {m.id: [] for m in messages}
    if messages:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.outbox_id.in_(list(tries)))
            .order_by(DeliveryAttempt.id)
        ):
            tries[attempt.outbox_id].append((attempt.at, attempt.ok, attempt.error))
    return [
        DeliveryView(m.id, m.match_id, m.channel, m.status, m.attempts, m.last_error, m.next_attempt_at, m.sent_at, tries[m.id])
        for m in messages
    ]


def status_counts(session: Session, watch_id: int) -> dict[str, int]:

    counts = {"pending": 0, "sent": 0, "failed": 0, "dead": 0}
    for status, n in session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.watch_id == watch_id)
        .group_by(OutboxMessage.status)
    ):
        counts[status] = n
    return counts



