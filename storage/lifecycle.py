"""Takedowns as versions, and when a known article is due to be fetched again.

A confirmed takedown is a new version of the article with ``event='removed'``, its
reason and evidence, and the last text copied forward (a removed article still reads as
what it last said); the article is then ``lifecycle='removed'`` until a sighting brings
it back, which ``Store.record`` turns into a ``restored`` version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.db import write_transaction
from storage.models import ArticleRecord, ArticleVersion, HttpValidator

if TYPE_CHECKING:
    from storage.db import Database

#: After first being seen an article is fetched again at these ages, then daily for a
#: month: about 90% of deletions come within 24 hours ("The Velocity of Censorship").
REVISIT_LADDER: tuple[timedelta, ...] = (
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=24),
    *(timedelta(days=day) for day in range(2, 31)),
)


@dataclass(frozen=True, slots=True)
class Revisit:
    article_id: int
    url: str


def last_revisit_point(first_seen: datetime, now: datetime) -> datetime | None:
    """The latest ladder point at or before ``now`` (None before the first one)."""
    passed = [first_seen + step for step in REVISIT_LADDER if first_seen + step <= now]
    return passed[-1] if passed else None


def revisits_due(session: Session, outlet: str, now: datetime, *, limit: int = 500) -> list[Revisit]:
    """Articles of ``outlet`` whose last look is older than the ladder point they have passed.

    Only articles first seen within the ladder's span are read, so the cost follows the
    last month's articles, not the whole store.
    """
    horizon = now - REVISIT_LADDER[-1]
    rows = session.execute(
        select(
            ArticleRecord.id,
            ArticleRecord.url,
            ArticleRecord.first_seen_at,
            ArticleRecord.last_seen_at,
            ArticleRecord.checked_at,
        )
        .where(ArticleRecord.outlet == outlet, ArticleRecord.first_seen_at >= horizon)
        .where(ArticleRecord.duplicate_of.is_(None))
        .order_by(ArticleRecord.first_seen_at.desc())
    )
    due: list[Revisit] = []
    for article_id, url, first_seen, last_seen, checked in rows:
        point = last_revisit_point(first_seen, now)
        looked = max(last_seen, checked) if checked else last_seen
        if point is not None and looked < point:
            due.append(Revisit(article_id, url))
            if len(due) >= limit:
                break
    return due


def mark_checked(db: Database, article_id: int, now: datetime) -> None:
    """A revisit that stored no sighting (a takedown already known, an anti-bot page)."""
    write_transaction(
        db,
        lambda s: s.execute(
            update(ArticleRecord).where(ArticleRecord.id == article_id).values(checked_at=now)
        ),
    )


def record_takedown(
    db: Database,
    article_id: int,
    *,
    reason: str,
    evidence: dict[str, Any],
    run_id: int | None,
    now: datetime,
) -> int | None:
    """Record a confirmed takedown as a version; the new version number, or None if already removed."""

    def write(session: Session) -> int | None:
        row = session.execute(
            select(ArticleRecord.version_count, ArticleRecord.lifecycle)
            .where(ArticleRecord.id == article_id)
            .with_for_update()
        ).first()
        if row is None or row.lifecycle == "removed":
            session.execute(
                update(ArticleRecord).where(ArticleRecord.id == article_id).values(checked_at=now)
            )
            return None
        last = session.scalars(
            select(ArticleVersion).where(
                ArticleVersion.article_id == article_id, ArticleVersion.version == row.version_count
            )
        ).one()
        version: int = int(row.version_count) + 1
        session.add(
            ArticleVersion(
                article_id=article_id,
                version=version,
                url=last.url,
                title=last.title,
                published_at=last.published_at,
                author=last.author,
                language=last.language,
                body=last.body,
                extra=last.extra,
                content_hash=last.content_hash,
                fetched_at=now,
                recorded_at=now,
                run_id=run_id,
                changes=None,
                event="removed",
                event_reason=reason[:40],
                event_evidence=evidence,
            )
        )
        session.execute(
            update(ArticleRecord)
            .where(ArticleRecord.id == article_id)
            .values(version_count=version, lifecycle="removed", checked_at=now)
        )
        # The page's validators stood for the text that is gone: the next visit must fetch
        # in full, or a 304 from a page that came back would hide its return (no "restored").
        session.execute(delete(HttpValidator).where(HttpValidator.article_id == article_id))
        return version

    return write_transaction(db, write)


def lookup_article(session: Session, url: str) -> int | None:
    """The id of the article stored under this (canonical or last-seen) URL."""
    found = session.scalar(
        select(ArticleRecord.id)
        .where(or_(ArticleRecord.canonical_url == url, ArticleRecord.url == url))
        .limit(1)
    )
    return None if found is None else int(found)
