"""Bulk population of brand-new articles: the rows ``Store.record`` writes, many at a time.

For benchmarks at 100k and 1M articles, where recording one article per transaction
(about 30 ms each: tokenizing, MinHash, duplicate lookup, several statements) would take
hours.  Each article gets what ``Store.record`` gives a *new* article that is no copy:
its ``articles`` row (version_count 1), version 1 in ``article_versions`` and its entry
in the search index (``index_text(title, body)``, or the tokens the caller already
computed with the same tokenizer).  It gets no MinHash signature, no band keys and no
sighting: nothing the search and list pages read (tests/storage/test_search.py checks
that a bulk-built database answers every search as one built by ``Store.record``).

Rows go through SQLAlchemy Core inserts on the models' own tables, so types (UTC
datetimes, JSON) are stored exactly as the ORM stores them; executemany makes one round
trip per batch (psycopg pipelines it, sqlite3 loops in C).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text

from storage import search
from storage.article import ArticleLike
from storage.db import Database
from storage.fingerprint import body_hash
from storage.models import ArticleRecord, ArticleVersion
from storage.textsearch import index_text


@dataclass(frozen=True)
class BulkItem:
    article: ArticleLike
    #: first_seen_at / last_seen_at / recorded_at (what ``now`` is for ``Store.record``).
    seen_at: datetime
    #: ``index_text(article.title, article.body)`` when the caller has it; computed if None.
    tokens: str | None = None
    #: ``fingerprint.body_hash(article.body)`` when the caller has it; computed if None.
    body_hash: str | None = None


def _time(value: str | datetime) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bulk_record(db: Database, items: Sequence[BulkItem]) -> list[int]:
    """Insert ``items`` as new articles in one transaction; their ids, in order.

    Ids continue after the largest stored one, in the order given (as ``Store.record``
    would assign them recording the items one after the other).
    """
    if not items:
        return []
    articles_table = cast(Table, ArticleRecord.__table__)
    versions_table = cast(Table, ArticleVersion.__table__)
    with db.engine.begin() as connection:
        first = int(connection.execute(select(func.coalesce(func.max(ArticleRecord.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(items)))
        article_rows: list[dict[str, Any]] = []
        version_rows: list[dict[str, Any]] = []
        entries: list[tuple[int, search.Entry]] = []
        for article_id, item in zip(ids, items, strict=True):
            a = item.article
            seen = _time(item.seen_at)
            fetched = _time(a.fetched_at)
            article_rows.append({
                "id": article_id, "canonical_url": a.canonical_url or a.url, "url": a.url, "outlet": a.outlet,
                "title": a.title, "published_at": a.published_at, "author": a.author, "language": a.language,
                "fetched_at": fetched, "content_hash": a.content_hash, "body_hash": item.body_hash or body_hash(a.body),
                "version_count": 1, "first_seen_at": seen, "last_seen_at": seen, "first_run_id": None,
                "body_chars": len(a.body), "extra": a.extra, "lifecycle": "live",
            })
            version_rows.append({
                "article_id": article_id, "version": 1, "url": a.url, "title": a.title,
                "published_at": a.published_at, "author": a.author, "language": a.language,
                "content_hash": a.content_hash, "fetched_at": fetched, "recorded_at": seen, "run_id": None,
                "extra": a.extra, "body": a.body,
            })
            tokens = item.tokens if item.tokens is not None else index_text(a.title, a.body)
            entries.append((article_id, search.Entry(tokens, a.outlet, a.language, a.published_at)))
        connection.execute(articles_table.insert(), article_rows)
        connection.execute(versions_table.insert(), version_rows)
        search.index_many(connection, entries)
        if connection.dialect.name == "postgresql":
            # Explicit ids do not advance the sequence; Store.record must continue after them.
            connection.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), :last)"),
                               {"last": ids[-1]})
    return ids


@contextmanager
def deferred_search_index(db: Database) -> Iterator[None]:
    """Load many articles without the PostgreSQL GIN index, and build it once at the end.

    Inserting into a GIN index row by row costs several times more than building it from
    the finished table; the index built is the same.  SQLite's FTS5 table is its own index:
    nothing to defer there.
    """
    if db.is_sqlite:
        yield
        return
    with db.engine.begin() as connection:
        search.drop_gin_index(connection)
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            search.create_gin_index(connection)
