"""SQLAlchemy 2.0 typed models: articles, their versions, runs and what each run saw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
    #: When the watches were evaluated on what this run changed (None: not yet; see
    #: newswatch.alerts: ``watch run`` catches up on finished runs still at None).
    watched_at: Mapped[datetime | None]


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
    #: ``live`` or ``removed`` (a confirmed takedown; the last text stays in the versions).
    lifecycle: Mapped[str] = mapped_column(String(10), default="live", server_default="live")
    #: Last revisit that did not store a sighting (a takedown page, an anti-bot page).
    checked_at: Mapped[datetime | None]

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
    #: What changed from the version before (storage.changes.classify): any of ``title``,
    #: ``date``, ``body``, or just ``cosmetic``; None for the first version and for rows
    #: recorded before classification existed.
    changes: Mapped[list[str] | None] = mapped_column(JSON)
    #: ``removed`` or ``restored`` for a lifecycle version; None for a content version.
    event: Mapped[str | None] = mapped_column(String(10))
    #: Why (``http_404``, ``wechat_violation`` …) and what showed it (evidence, new address).
    event_reason: Mapped[str | None] = mapped_column(String(40))
    event_evidence: Mapped[dict[str, Any] | None]

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


class Watch(Base):
    """A standing query: articles matching it, and the events of them to report, where."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    query: Mapped[str] = mapped_column(Text)
    #: Only these outlets (empty: all).
    outlets: Mapped[list[str]]
    language: Mapped[str | None] = mapped_column(String(8))
    #: Subset of new, edited, title, removed, restored.
    events: Mapped[list[str]]
    #: Channel URLs (apprise URLs, ``webhook+https://…``); secrets inside them stay here.
    channels: Mapped[list[str]]
    #: ``1h`` or ``1d`` to batch deliveries; None to send each event at once.
    digest: Mapped[str | None] = mapped_column(String(4))
    #: Alert on cosmetic versions too (whitespace, punctuation, furniture).
    include_cosmetic: Mapped[bool] = mapped_column(Boolean, default=False)
    #: HMAC-SHA256 key of the webhook signatures.
    secret: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Versions up to this article_versions.id predate the watch and never match.
    start_version_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class WatchMatch(Base):
    """One event of one article version that answered a watch: made once, whoever evaluates."""

    __tablename__ = "watch_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    #: new, edited, title, removed or restored.
    event: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(2048))
    outlet: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40))
    #: One line: what changed (diff summary, takedown reason).
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("watch_id", "article_id", "version", "event"),
        Index("ix_watch_matches_watch_created", "watch_id", "created_at"),
    )


class OutboxMessage(Base):
    """One notification to one channel: pending until sent, retried with backoff, then dead.

    Written in the transaction that makes its match, so no event is lost between the
    two; ``idempotency_key`` is unique, so no event is queued twice; a sender claims a
    row with a short lease (``lease_until``) so two senders never send it at once.
    """

    __tablename__ = "watch_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("watch_matches.id", ondelete="CASCADE"))
    #: Index of the channel in the watch's channel list.
    channel: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    #: pending, sent, failed (will be retried) or dead (gave up).
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_holder: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_watch_outbox_status_next", "status", "next_attempt_at"),)


class DeliveryAttempt(Base):
    """One try at sending an outbox row: when, and what went wrong."""

    __tablename__ = "watch_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("watch_outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
