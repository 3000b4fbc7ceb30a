"""Watches, the changes they are evaluated on, and their matches (with their outbox rows).

A match is unique per (watch, article, version, event) and is written in the same
transaction as the outbox rows that will carry it: evaluating twice, or from two
processes at once, adds nothing the second time, and a match never lacks its deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from storage.db import write_transaction
from storage.models import (
    ArticleRecord,
    ArticleVersion,
    CrawlRun,
    DeliveryAttempt,
    OutboxMessage,
    Watch,
    WatchMatch,
)
from storage.queries import row_of

if TYPE_CHECKING:
    from storage.db import Database


class WatchExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class WatchSpec:
    name: str
    query: str
    outlets: list[str]
    language: str | None
    events: list[str]
    channels: list[str]
    digest: str | None
    include_cosmetic: bool
    secret: str


def create_watch(db: Database, spec: WatchSpec, *, now: datetime, backfill: bool) -> Watch:
    """A new watch; it sees only versions recorded from now on unless ``backfill``."""

    def write(session: Session) -> Watch:
        if session.scalar(select(Watch.id).where(Watch.name == spec.name)) is not None:
            raise WatchExists(f"a watch named {spec.name!r} exists already")
        start = 0 if backfill else session.scalar(select(func.max(ArticleVersion.id))) or 0
        watch = Watch(
            name=spec.name,
            query=spec.query,
            outlets=list(spec.outlets),
            language=spec.language,
            events=list(spec.events),
            channels=list(spec.channels),
            digest=spec.digest,
            include_cosmetic=spec.include_cosmetic,
            secret=spec.secret,
            paused=False,
            start_version_id=start,
            created_at=now,
        )
        session.add(watch)
        session.flush()
        session.expunge(watch)
        return watch

    return write_transaction(db, write)


def list_watches(session: Session, *, active_only: bool = False) -> list[Watch]:
    query = select(Watch).order_by(Watch.name)
    if active_only:
        query = query.where(Watch.paused.is_(False))
    return list(session.scalars(query))


def get_watch(session: Session, name: str) -> Watch | None:
    return session.scalar(select(Watch).where(Watch.name == name))


def set_paused(db: Database, name: str, paused: bool) -> bool:
    return write_transaction(
        db,
        lambda s: bool(s.execute(update(Watch).where(Watch.name == name).values(paused=paused)).rowcount > 0),  # type: ignore[attr-defined]
    )


def remove_watch(db: Database, name: str) -> bool:
    def write(session: Session) -> bool:
        watch_id = session.scalar(select(Watch.id).where(Watch.name == name))
        if watch_id is None:
            return False
        # Children first: SQLite enforces ON DELETE CASCADE only with foreign keys on.
        matches = select(WatchMatch.id).where(WatchMatch.watch_id == watch_id)
        outbox = select(OutboxMessage.id).where(OutboxMessage.watch_id == watch_id)
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(outbox)))
        session.execute(delete(OutboxMessage).where(OutboxMessage.watch_id == watch_id))
        session.execute(delete(WatchMatch).where(WatchMatch.id.in_(matches)))
        session.execute(delete(Watch).where(Watch.id == watch_id))
        return True

    return write_transaction(db, write)


# -- what changed ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionChange:
    """One stored version with what a watch needs to judge it (and the version before)."""

    version_id: int
    article_id: int
    version: int
    url: str
    outlet: str
    language: str
    title: str
    published_at: str | None
    body: str
    changes: list[str] | None
    event: str | None
    event_reason: str | None
    event_evidence: dict[str, Any] | None
    previous_title: str | None
    previous_published_at: str | None
    previous_body: str | None


def _changes_query() -> Any:
    previous = aliased(ArticleVersion)
    return (
        select(ArticleVersion, ArticleRecord.outlet, previous.title, previous.published_at, previous.body)
        .join(ArticleRecord, ArticleRecord.id == ArticleVersion.article_id)
        .outerjoin(
            previous,
            (previous.article_id == ArticleVersion.article_id)
            & (previous.version == ArticleVersion.version - 1),
        )
        .order_by(ArticleVersion.id)
    )


def _change(row: Any) -> VersionChange:
    version, outlet, prev_title, prev_published, prev_body = row
    # The version's own columns by name; the rest come from the joins.
    return row_of(
        VersionChange,
        version,
        version_id=version.id,
        outlet=outlet,
        previous_title=prev_title,
        previous_published_at=prev_published,
        previous_body=prev_body,
    )


def run_changes(session: Session, run_id: int) -> list[VersionChange]:
    """The versions one run recorded: what a watch is evaluated on after the run."""
    return [_change(row) for row in session.execute(_changes_query().where(ArticleVersion.run_id == run_id))]


def changes_after(session: Session, after_id: int, *, batch: int = 500) -> Iterator[list[VersionChange]]:
    """Every version after ``after_id``, in batches (``watch add --backfill`` only)."""
    while True:
        rows = [
            _change(row)
            for row in session.execute(_changes_query().where(ArticleVersion.id > after_id).limit(batch))
        ]
        if not rows:
            return
        yield rows
        after_id = rows[-1].version_id


def unwatched_runs(session: Session) -> list[int]:
    """Ended runs whose changes the watches have not been evaluated on yet."""
    return list(
        session.scalars(
            select(CrawlRun.id)
            .where(CrawlRun.watched_at.is_(None), CrawlRun.status != "running")
            .order_by(CrawlRun.id)
        )
    )


def mark_run_watched(db: Database, run_id: int, now: datetime) -> None:
    write_transaction(
        db, lambda s: s.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(watched_at=now))
    )


# -- matches --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchDraft:
    watch_id: int
    #: The watch as one lifetime of it (:func:`watch_tag`), for the outbox keys.
    watch_tag: str
    article_id: int
    version: int
    event: str
    url: str
    outlet: str
    title: str
    published_at: str | None
    summary: str
    #: How many channels the watch has: one outbox row each.
    channels: int
    #: When the outbox rows are first due (now, or the watch's next digest time).
    due_at: datetime


def watch_tag(watch: Watch) -> str:
    """The watch's id and creation time: SQLite gives a removed watch's id to the next watch
    added, whose notifications must not carry the keys (Idempotency-Key) of the old one's."""
    return f"{watch.id}.{int(watch.created_at.timestamp() * 1_000_000):x}"


def outbox_key(draft: MatchDraft, channel: int) -> str:
    return f"nw:{draft.watch_tag}:{draft.article_id}:{draft.version}:{draft.event}:{channel}"


def record_matches(db: Database, drafts: Sequence[MatchDraft], *, now: datetime) -> int:
    """Insert the matches that do not exist yet, each with its outbox rows; how many were new."""
    if not drafts:
        return 0

    def write(session: Session) -> int:
        dialect = session.get_bind().dialect.name
        added = 0
        for draft in drafts:
            values = {
                "watch_id": draft.watch_id,
                "article_id": draft.article_id,
                "version": draft.version,
                "event": draft.event,
                "url": draft.url,
                "outlet": draft.outlet,
                "title": draft.title,
                "published_at": draft.published_at,
                "summary": draft.summary,
                "created_at": now,
            }
            match_id = session.execute(_insert_ignoring_duplicates(dialect).values(**values).returning(WatchMatch.id)).scalar()
            if match_id is None:
                continue  # made already, by an earlier evaluation or another process
            added += 1
            for channel in range(draft.channels):
                session.execute(
                    insert(OutboxMessage).values(
                        watch_id=draft.watch_id,
                        match_id=match_id,
                        channel=channel,
                        idempotency_key=outbox_key(draft, channel),
                        status="pending",
                        attempts=0,
                        next_attempt_at=draft.due_at,
                        created_at=now,
                    )
                )
        return added

    return write_transaction(db, write)


def _insert_ignoring_duplicates(dialect: str) -> Any:
    keys = ["watch_id", "article_id", "version", "event"]
    if dialect == "postgresql":
        return postgresql.insert(WatchMatch).on_conflict_do_nothing(index_elements=keys)
    if dialect == "sqlite":
        return sqlite.insert(WatchMatch).on_conflict_do_nothing(index_elements=keys)
    return insert(WatchMatch)


def recent_matches(session: Session, watch_id: int, *, limit: int = 50) -> list[WatchMatch]:
    """Newest first."""
    return list(
        session.scalars(
            select(WatchMatch)
            .where(WatchMatch.watch_id == watch_id)
            .order_by(WatchMatch.id.desc())
            .limit(limit)
        )
    )


def match_count(session: Session, watch_id: int) -> int:
    return session.scalar(select(func.count()).select_from(WatchMatch).where(WatchMatch.watch_id == watch_id)) or 0
