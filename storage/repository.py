"""The storage API: record an article seen by a run (the run's books: storage/runbook.py).

Every article update is one transaction: the article row, its version, its
sighting and its LSH bands are written together or not at all, so a process
killed at any point leaves no half-written record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from storage import dedup, search, validators
from storage.changes import classify
from storage.fingerprint import text_digest
from storage.models import (
    ArticleRecord,
    ArticleSignature,
    ArticleVersion,
    Base,
    MinhashBand,
    Sighting,
)
from storage.outcomes import OutcomeStatus
from storage.runbook import RunBook, utcnow
from storage.textsearch import index_text

if TYPE_CHECKING:
    from storage.article import ArticleLike
    from storage.db import Database


@dataclass(frozen=True, slots=True)
class Outcome:
    """What storage made of one sighting of an article."""

    status: OutcomeStatus
    article_id: int
    version: int
    duplicate_of: int | None = None
    similarity: float | None = None


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Store(RunBook):
    """Records articles and runs in one database (the run's books: :class:`storage.runbook.RunBook`)."""

    def __init__(self, db: Database, policy: dedup.DedupPolicy | None = None) -> None:
        self.db = db
        self.policy = policy or dedup.DedupPolicy()
        # Load the tokenizer's conversion tables now, not inside the first record's transaction.
        index_text("軍")

    # -- articles -------------------------------------------------------------

    def record(
        self,
        article: ArticleLike,
        run_id: int | None,
        fingerprint: dedup.Fingerprint | None = None,
    ) -> Outcome:
        """Store one sighting of ``article``: new, changed, unchanged or a duplicate.

        ``fingerprint`` is ``dedup.fingerprint(article.body)`` when the caller already
        computed it (a parse worker does, off the crawl process's core); one made from
        another text is not trusted (its digest of the exact text, cheap to check, says
        so) and is redone.
        """
        # CPU work outside the transaction, so the write lock is held briefly.
        if fingerprint is None or fingerprint.text_digest != text_digest(article.body):
            fingerprint = dedup.fingerprint(article.body)
        tokens = index_text(article.title, article.body)

        def work(session: Session) -> Outcome:
            outcome = self._record(session, article, run_id, fingerprint, tokens)
            # The page's validators now stand for this article: the next crawl may ask for a 304.
            validators.link_article(session, article.url, outcome.article_id)
            return outcome

        return self._write(work)

    def _record(
        self,
        session: Session,
        article: ArticleLike,
        run_id: int | None,
        fingerprint: dedup.Fingerprint,
        tokens: str,
    ) -> Outcome:
        now = utcnow()
        canonical = article.canonical_url or article.url
        row = _lock_article(session, canonical)
        if row is None:
            article_id = _insert_article(session, article, canonical, fingerprint, run_id, now)
            if article_id is None:  # another writer created it since our SELECT
                row = _lock_article(session, canonical)
                assert row is not None
            else:
                return self._record_new(session, article, article_id, run_id, fingerprint, tokens, now)
        # Only the outlet that first recorded an article makes its versions: the same
        # page reached through another outlet (a redirect, a cross-link) is read by
        # another parser, and its text would flip-flop between the two readings.
        removed = row.lifecycle == "removed"
        if row.outlet != article.outlet or (row.content_hash == article.content_hash and not removed):
            _update_article(session, row.id, last_seen_at=now, url=article.url)
            _add_sighting(session, run_id, row.id, row.version_count, "unchanged", article.url, now)
            return Outcome("unchanged", row.id, row.version_count, row.duplicate_of, row.similarity)
        version = row.version_count + 1
        # The entry being replaced: the current version's text and the article row's
        # filter values, exactly what the index was given (FTS5 deletes by them).
        old = session.execute(
            select(ArticleVersion.title, ArticleVersion.body, ArticleRecord.language, ArticleRecord.published_at)
            .join(ArticleRecord, ArticleRecord.id == ArticleVersion.article_id)
            .where(ArticleVersion.article_id == row.id, ArticleVersion.version == row.version_count)
        ).one()
        search.reindex(
            session, row.id,
            search.Replaced(old.title, old.body, row.outlet, old.language, old.published_at),
            search.Entry(tokens, row.outlet, article.language, article.published_at),
        )
        _update_article(
            session,
            row.id,
            **_article_values(article, fingerprint),
            version_count=version,
            last_seen_at=now,
            lifecycle="live",
        )
        previous = session.execute(
            select(ArticleVersion.title, ArticleVersion.published_at, ArticleVersion.body).where(
                ArticleVersion.article_id == row.id, ArticleVersion.version == row.version_count
            )
        ).one()
        changes = classify(
            previous.title, article.title, previous.published_at, article.published_at, previous.body, article.body
        )
        # A takedown that is answered again becomes a "restored" version (with any edit it brings).
        event = {"event": "restored", "event_reason": "returned"} if removed else {}
        _add_version(session, row.id, version, article, run_id, now, changes=changes, **event)
        session.execute(delete(MinhashBand).where(MinhashBand.article_id == row.id))
        session.execute(delete(ArticleSignature).where(ArticleSignature.article_id == row.id))
        _add_fingerprint(session, row.id, fingerprint)
        _add_sighting(session, run_id, row.id, version, "changed", article.url, now)
        return Outcome("changed", row.id, version, row.duplicate_of, row.similarity)

    def _record_new(
        self,
        session: Session,
        article: ArticleLike,
        article_id: int,
        run_id: int | None,
        fingerprint: dedup.Fingerprint,
        tokens: str,
        now: datetime,
    ) -> Outcome:
        _serialise_same_story(session, fingerprint)
        match = dedup.find_original(session, article_id, fingerprint, self.policy)
        if match is not None:
            session.execute(
                update(ArticleRecord)
                .where(ArticleRecord.id == article_id)
                .values(duplicate_of=match.article_id, similarity=match.similarity)
            )
        _add_version(session, article_id, 1, article, run_id, now)
        search.index_new(session, article_id, search.Entry(tokens, article.outlet, article.language, article.published_at))
        _add_fingerprint(session, article_id, fingerprint)
        status: OutcomeStatus = "duplicate" if match else "new"
        _add_sighting(session, run_id, article_id, 1, status, article.url, now)
        return Outcome(
            status,
            article_id,
            1,
            match.article_id if match else None,
            match.similarity if match else None,
        )


_ADVISORY_LOCKS = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(:keys) AS k ORDER BY 1) AS keys"
).bindparams(bindparam("keys", type_=postgresql.ARRAY(postgresql.BIGINT)))


def _serialise_same_story(session: Session, fingerprint: dedup.Fingerprint) -> None:
    """On PostgreSQL, one new article per story at a time: a lock per LSH band key and body hash.

    Two writers recording two copies of one story at once would each look for an
    original before the other committed, and both record ``new``.  Copies share their
    body hash (exact) or at least one band key (near), so holding a transaction-scoped
    advisory lock on each (in ascending order: no deadlock) makes the second writer wait
    until the first commits; under READ COMMITTED its next statement then sees the first
    copy.  SQLite needs nothing: its writers are serialised by BEGIN IMMEDIATE.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = {int.from_bytes(bytes.fromhex(fingerprint.body_hash[:16]), "big", signed=True)}
    keys.update(fingerprint.band_keys)
    session.execute(_ADVISORY_LOCKS, {"keys": sorted(keys)})


_ARTICLES = cast(Table, ArticleRecord.__table__)


def _lock_article(session: Session, canonical: str) -> Row[int, str, str, int, int | None, float | None, str] | None:
    """The few columns a sighting needs, row-locked: never the body, which is large."""
    return session.execute(_LOCK_ARTICLE, {"canonical": canonical}).first()


# FOR UPDATE serialises concurrent edits of one article on PostgreSQL; SQLite writers
# are already serialised by BEGIN IMMEDIATE and ignore the clause.  Built once, on the
# Core table (the same SQL and row as the ORM attributes gave, without the ORM's
# per-call statement building and compilation context: it ran once per page).
_LOCK_ARTICLE = (
    select(
        _ARTICLES.c.id,
        _ARTICLES.c.content_hash,
        _ARTICLES.c.outlet,
        _ARTICLES.c.version_count,
        _ARTICLES.c.duplicate_of,
        _ARTICLES.c.similarity,
        _ARTICLES.c.lifecycle,
    )
    .where(_ARTICLES.c.canonical_url == bindparam("canonical"))
    .with_for_update()
)


def _update_article(session: Session, article_id: int, **values: Any) -> None:
    session.execute(
        update(ArticleRecord)
        .where(ArticleRecord.id == article_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _article_values(article: ArticleLike, fingerprint: dedup.Fingerprint) -> dict[str, Any]:
    return {
        "url": article.url,
        "outlet": article.outlet,
        "title": article.title,
        "published_at": article.published_at,
        "author": article.author,
        "language": article.language,
        "body_chars": len(article.body),
        "extra": article.extra,
        "fetched_at": _parse_time(article.fetched_at),
        "content_hash": article.content_hash,
        "body_hash": fingerprint.body_hash,
    }


def _insert_article(
    session: Session,
    article: ArticleLike,
    canonical: str,
    fingerprint: dedup.Fingerprint,
    run_id: int | None,
    now: datetime,
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING; the new id, or None if the URL exists already."""
    values = {
        **_article_values(article, fingerprint),
        "canonical_url": canonical,
        "version_count": 1,
        "first_seen_at": now,
        "last_seen_at": now,
        "first_run_id": run_id,
    }
    return session.execute(_insert_article_statement(session.get_bind().dialect.name), values).scalar()


@functools.cache
def _insert_article_statement(dialect: str) -> Any:
    """The article INSERT, built once per dialect and run with the values as parameters.

    (A Core statement on the table: building ``.values(**values)`` per article, sixteen
    coerced columns, cost more than the insert.)
    """
    table = _table(ArticleRecord)
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=["canonical_url"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["canonical_url"])
    else:
        stmt = insert(table)
    return stmt.returning(table.c.id)


def _add_version(
    session: Session,
    article_id: int,
    version: int,
    article: ArticleLike,
    run_id: int | None,
    now: datetime,
    **classification: Any,
) -> None:
    # A Core INSERT with exactly the columns the ORM object would have set (unset ones
    # stay NULL, an explicit None in a JSON column is stored as the ORM stores it): the
    # unit of work's flush of one object cost more than the insert.
    session.execute(
        _table(ArticleVersion).insert(),
        {
            **classification,
            "article_id": article_id,
            "version": version,
            "url": article.url,
            "title": article.title,
            "published_at": article.published_at,
            "author": article.author,
            "language": article.language,
            "body": article.body,
            "extra": article.extra,
            "content_hash": article.content_hash,
            "fetched_at": _parse_time(article.fetched_at),
            "recorded_at": now,
            "run_id": run_id,
        },
    )


def _add_fingerprint(session: Session, article_id: int, fingerprint: dedup.Fingerprint) -> None:
    """The article's signature and its LSH band keys (none for a text too short to match)."""
    if fingerprint.signature_bytes is not None:
        session.execute(
            _table(ArticleSignature).insert(),
            {"article_id": article_id, "minhash": fingerprint.signature_bytes},
        )
    if fingerprint.band_keys:
        # Core executemany on the table: the ORM's bulk path costs more than the insert here.
        session.execute(
            _table(MinhashBand).insert(),
            [
                {"band": band, "key": key, "article_id": article_id}
                for band, key in enumerate(fingerprint.band_keys)
            ],
        )


def _add_sighting(
    session: Session,
    run_id: int | None,
    article_id: int,
    version: int,
    outcome: str,
    url: str,
    now: datetime,
) -> None:
    session.execute(
        _table(Sighting).insert(),
        {"run_id": run_id, "article_id": article_id, "version": version, "outcome": outcome, "url": url, "seen_at": now},
    )


def _table(model: type[Base]) -> Table:
    """A model's Core table, for executemany inserts that skip the ORM's bulk path."""
    return cast(Table, model.__table__)
