"""SQLAlchemy 2.0 typed models: articles, their versions, runs and what each run saw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names: Alembic (and SQLite batch migrations) need them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


class CrawlRun(Base):
    """One crawl or replay: what ran, how it ended, and what it found."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Spider names, comma-separated in the order they ran.
    spiders: Mapped[str] = mapped_column(String(200))
    #: Outlet names the run covered.
    outlets: Mapped[list[str]]
    #: ``live`` or ``replay``.
    mode: Mapped[str] = mapped_column(String(10))
    #: ``running``, ``finished``, ``failed`` or ``interrupted``.
    status: Mapped[str] = mapped_column(String(12), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    #: Last sign of life; a ``running`` row whose process is gone is interrupted.
    heartbeat_at: Mapped[datetime]
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    #: Who started it: ``cli`` (crawl, replay) or ``scheduler``.
    origin: Mapped[str] = mapped_column(String(12), default="cli", server_default="cli")
    #: Why the run failed, one line.
    message: Mapped[str | None] = mapped_column(Text)
    #: The Celery worker that ran it (``newswatch worker``), else None.
    worker: Mapped[str | None] = mapped_column(String(255))
    #: The dispatched job it ran (``outlet@due-time``, see :class:`CrawlDispatch`), else None.
    job_key: Mapped[str | None] = mapped_column(String(255), index=True)
    new_count: Mapped[int] = mapped_column(default=0)
    changed_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    dropped_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    #: Scrapy stats of the run (JSON-safe subset).
    stats: Mapped[dict[str, Any] | None]


class ArticleRecord(Base):
    """One article, identified by its canonical URL; its current state is the last version.

    The row holds no long text: the body lives once, in ``article_versions`` (version
    ``version_count`` is the current one), and the MinHash signature in
    ``article_signatures``.  Small rows keep the sighting path (look up by canonical
    URL, touch ``last_seen_at``) within a few cached pages however large the store.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    #: The URL it was last seen under (secrets stripped).
    url: Mapped[str] = mapped_column(String(2048))
    outlet: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40))
    author: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    fetched_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    #: Hash of the whitespace-free body: finds exact copies under other URLs.
    body_hash: Mapped[str] = mapped_column(String(64), index=True)
    version_count: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    #: The earliest record of the same story, when this one is a copy.
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    #: Estimated similarity to ``duplicate_of`` (1.0 for an exact copy).
    similarity: Mapped[float | None] = mapped_column(Float)
    #: Characters in the current body (the text itself is in the current version).
    body_chars: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any]]

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.version", lazy="raise"
    )

    __table_args__ = (Index("ix_articles_outlet_first_seen", "outlet", "first_seen_at"),)


class ArticleVersion(Base):
    """The article as seen at one moment; a new row only when title, date or body changed."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    #: 1, 2, 3 … in the order the edits were seen.
    version: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40))
    author: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    extra: Mapped[dict[str, Any]]
    body: Mapped[str] = mapped_column(Text)

    article: Mapped[ArticleRecord] = relationship(back_populates="versions", lazy="raise")

    __table_args__ = (UniqueConstraint("article_id", "version"),)


class Sighting(Base):
    """A run saw an article: what it made of it (new, changed, unchanged, duplicate)."""

    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(2048))
    seen_at: Mapped[datetime]


class RunProblem(Base):
    """A page a run could not store: dropped (bad input) or an error (network, storage)."""

    __tablename__ = "run_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    #: ``dropped`` or ``error``.
    kind: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class ArticleSignature(Base):
    """The MinHash signature of an article's current body (see storage.similarity)."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    minhash: Mapped[bytes] = mapped_column(LargeBinary)


class MinhashBand(Base):
    """LSH index: one row per (band, key) of an article's signature.

    ``key`` leads the primary key: lookups are ``key IN (...)`` (the band number is
    hashed into each key, see storage.similarity.band_keys), a B-tree search on
    both SQLite and PostgreSQL.
    """

    __tablename__ = "minhash_bands"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class OutletLock(Base):
    """A lease: at most one holder per name (``outlet:<name>`` while it is crawled, ``scheduler``).

    See storage/locks.py: taken with INSERT … ON CONFLICT DO NOTHING or by an UPDATE of an
    expired lease, renewed while the holder works, deleted when it is done.
    """

    __tablename__ = "outlet_locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: ``host:pid:token`` of the process holding it.
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    #: The lease runs out then unless renewed; anyone may take an expired lease.
    expires_at: Mapped[datetime]
    #: The crawl run the holder is working on (no foreign key: runs may be pruned).
    run_id: Mapped[int | None] = mapped_column(Integer)


class HttpValidator(Base):
    """What revalidating one page needs, and nothing more (no body, no cookies, no other headers).

    Keyed by a hash of the URL (secrets stripped), so the table works the same on every
    machine sharing the database.  ``article_id`` is set when an article was stored from the
    page: only such pages are requested conditionally (a 304 then means "that article,
    unchanged"); feeds and listings are always fetched in full.
    """

    __tablename__ = "http_validators"

    url_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    #: Last 200 or 304 from the server; entries not seen for a while are pruned.
    seen_at: Mapped[datetime] = mapped_column(index=True)


class CrawlDispatch(Base):
    """A crawl job handed to the broker: one row per outlet and due time, whoever dispatched it.

    The primary key makes "enqueued once per due time" a database fact, whatever the
    number of schedulers (the scheduler lease already keeps one active).
    """

    __tablename__ = "crawl_dispatches"

    job_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    outlet: Mapped[str] = mapped_column(String(100), index=True)
    due_at: Mapped[datetime]
    dispatched_at: Mapped[datetime]
    #: The scheduler lease holder that sent it.
    dispatcher: Mapped[str] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(64))
