"""HTTP validators in the database: what a conditional request needs, for every machine.

Replaces Scrapy's file cache, which kept whole responses (``Set-Cookie`` and every other
header included) on one machine's disk, world-readable and forever.  A row holds only
ETag, Last-Modified, status and content type of a page, keyed by a hash of its URL
(secrets already stripped by the caller), and the article stored from it:

* :func:`remember` after a 200 with a validator;
* :func:`conditional` before a request: validators only for pages an article was stored
  from (a feed or listing must be read in full to find new links);
* :func:`record_not_modified` after a 304: an ``unchanged`` sighting of that article,
  without its body; False when there is no such article any more (the caller refetches);
* :func:`prune`: rows not seen for a while go.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.db import Database, write_transaction
from storage.models import ArticleRecord, HttpValidator, Sighting


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str | None
    last_modified: str | None


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def conditional(db: Database, url: str) -> Validators | None:
    """The validators to send for ``url``, if an article was stored from it."""
    with db.read_session() as session:
        row = session.execute(
            select(HttpValidator.etag, HttpValidator.last_modified).where(
                HttpValidator.url_key == url_key(url), HttpValidator.article_id.is_not(None)
            )
        ).first()
    if row is None or not (row.etag or row.last_modified):
        return None
    return Validators(row.etag, row.last_modified)


def remember(
    db: Database, url: str, *, etag: str | None, last_modified: str | None, status: int,
    content_type: str | None,
) -> None:
    """Keep the validators of a fresh response (the article link survives a new ETag)."""
    values: dict[str, Any] = {
        "url_key": url_key(url), "url": url[:2048], "etag": etag[:512] if etag else None,
        "last_modified": last_modified[:64] if last_modified else None, "status": status,
        "content_type": content_type[:255] if content_type else None, "seen_at": _now(),
    }

    def work(session: Session) -> None:
        dialect = session.get_bind().dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        changing = {k: v for k, v in values.items() if k != "url_key"}
        session.execute(
            module.insert(HttpValidator).values(**values)
            .on_conflict_do_update(index_elements=["url_key"], set_=changing)
        )

    write_transaction(db, work)


_VALIDATORS = cast(Table, HttpValidator.__table__)
# Built once, run with parameters (a Core statement: no ORM session to synchronise):
# building and coercing the statement per article cost more than running it.
_LINK_ARTICLE = (
    update(_VALIDATORS)
    .where(_VALIDATORS.c.url_key == bindparam("page_key"))
    .values(article_id=bindparam("linked_article"))
)


def link_article(session: Session, url: str, article_id: int) -> None:
    """Inside Store.record's transaction: the page at ``url`` gave ``article_id``."""
    session.execute(_LINK_ARTICLE, {"page_key": url_key(url), "linked_article": article_id})


def forget(db: Database, url: str) -> None:
    write_transaction(
        db, lambda s: s.execute(delete(HttpValidator).where(HttpValidator.url_key == url_key(url)))
    )


def record_not_modified(db: Database, url: str, run_id: int | None) -> int | None:
    """A 304 for ``url``: an ``unchanged`` sighting of its article; its id, or None if gone."""

    def work(session: Session) -> int | None:
        now = _now()
        row = session.execute(
            select(ArticleRecord.id, ArticleRecord.version_count)
            .join(HttpValidator, HttpValidator.article_id == ArticleRecord.id)
            .where(HttpValidator.url_key == url_key(url))
            .with_for_update(of=ArticleRecord)
        ).first()
        if row is None:
            return None
        session.execute(
            update(ArticleRecord).where(ArticleRecord.id == row.id).values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(HttpValidator).where(HttpValidator.url_key == url_key(url)).values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
        session.add(
            Sighting(run_id=run_id, article_id=row.id, version=row.version_count,
                     outcome="unchanged", url=url[:2048], seen_at=now)
        )
        return int(row.id)

    return write_transaction(db, work)


def prune(db: Database, *, older_than_s: float) -> int:
    """Delete validators not seen for ``older_than_s`` seconds; how many went."""
    cutoff = _now() - timedelta(seconds=older_than_s)

    def work(session: Session) -> int:
        result = session.execute(delete(HttpValidator).where(HttpValidator.seen_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    return write_transaction(db, work)
