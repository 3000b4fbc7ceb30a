"""Every read of the database, as functions that return plain typed rows.

Nothing outside ``storage`` imports the models or writes SQL: the command line, the web
page and the alerts read through these functions, and the rows they get are frozen
dataclasses detached from any session.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from storage.models import ArticleRecord, ArticleVersion, CrawlRun, RunProblem, Sighting
from storage.outcomes import RUN_COUNTS
from storage.processes import pid_alive

#: The columns ``items export`` writes, in order.
EXPORT_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "outlet",
    "title",
    "published_at",
    "author",
    "language",
    "body",
    "extra",
    "fetched_at",
    "content_hash",
    "first_seen_at",
    "last_seen_at",
    "version_count",
    "duplicate_of",
    "similarity",
)


R = TypeVar("R")


def row_of(cls: type[R], obj: object, **given: Any) -> R:
    """A frozen row of ``cls`` from an ORM object's attributes of the same names."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: given[name] if name in given else getattr(obj, name) for name in names})


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """An article as stored: its current metadata (the text is in :class:`VersionRow`)."""

    id: int
    url: str
    canonical_url: str
    outlet: str
    title: str
    published_at: str | None
    author: str | None
    language: str
    extra: dict[str, Any]
    fetched_at: datetime
    content_hash: str
    first_seen_at: datetime
    last_seen_at: datetime
    #: The run that first saw it (None: recorded outside a run).
    first_run_id: int | None
    version_count: int
    duplicate_of: int | None
    similarity: float | None
    body_chars: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    article_id: int
    version: int
    url: str
    title: str
    published_at: str | None
    author: str | None
    language: str
    content_hash: str
    fetched_at: datetime
    recorded_at: datetime
    run_id: int | None
    extra: dict[str, Any]
    body: str
    #: What this version changed (storage.changes): title, date, body, or cosmetic only.
    changes: list[str] | None
    #: A lifecycle event version: "removed" or "restored", with its reason and evidence.
    event: str | None
    event_reason: str | None
    event_evidence: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    spiders: str
    outlets: list[str]
    mode: str
    status: str
    origin: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime
    host: str
    pid: int
    message: str | None
    stats: dict[str, Any] | None
    counts: dict[str, int]
    #: The Celery worker that ran it (``newswatch worker``), and the job (``outlet@due``).
    worker: str | None = None
    job_key: str | None = None


@dataclass(frozen=True, slots=True)
class ProblemRow:
    kind: str
    url: str
    reason: str
    at: datetime


def _run_row(run: CrawlRun, counts: dict[str, int] | None = None) -> RunRow:
    stored = {name: getattr(run, f"{name}_count") for name in RUN_COUNTS}
    return row_of(RunRow, run, counts=counts if counts is not None else stored)


def article_dict(row: ArticleRow, body: str) -> dict[str, Any]:
    values: dict[str, Any] = {name: body if name == "body" else getattr(row, name) for name in EXPORT_FIELDS}
    for name in ("fetched_at", "first_seen_at", "last_seen_at"):
        values[name] = getattr(row, name).isoformat()
    return values


def with_current_body() -> Select[ArticleRecord, str]:
    """Articles with the body of their current version (the only copy of the text)."""
    return (
        select(ArticleRecord, ArticleVersion.body)
        .join(
            ArticleVersion,
            and_(
                ArticleVersion.article_id == ArticleRecord.id,
                ArticleVersion.version == ArticleRecord.version_count,
            ),
        )
        .order_by(ArticleRecord.id)
    )


def list_articles(
    session: Session,
    *,
    outlet: str | None = None,
    limit: int | None = None,
    run_id: int | None = None,
) -> list[ArticleRow]:
    """Articles in id order; ``run_id``: only those the run saw."""
    query = select(ArticleRecord).order_by(ArticleRecord.id)
    if outlet:
        query = query.where(ArticleRecord.outlet == outlet)
    if run_id is not None:
        query = query.where(
            ArticleRecord.id.in_(select(Sighting.article_id).where(Sighting.run_id == run_id))
        )
    if limit:
        query = query.limit(limit)
    return [row_of(ArticleRow, row) for row in session.scalars(query)]


def iter_articles(session: Session, *, outlet: str | None = None) -> Iterator[tuple[ArticleRow, str]]:
    """All articles with their current body, in id order, fetched in batches (bounded memory)."""
    query = with_current_body().execution_options(yield_per=500)
    if outlet:
        query = query.where(ArticleRecord.outlet == outlet)
    for row, body in session.execute(query):
        yield row_of(ArticleRow, row), body
        session.expunge(row)


def get_article(session: Session, article_id: int) -> tuple[ArticleRow, str] | None:
    found = session.execute(with_current_body().where(ArticleRecord.id == article_id)).first()
    return None if found is None else (row_of(ArticleRow, found[0]), found[1])


def versions(session: Session, article_id: int) -> list[VersionRow]:
    return [
        row_of(VersionRow, version)
        for version in session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.version)
        )
    ]


def run_counts(session: Session, run_id: int) -> dict[str, int]:
    """Counts of a run, derived from what it recorded (never kept by hand)."""
    counts = dict.fromkeys(RUN_COUNTS, 0)
    for outcome, n in session.execute(
        select(Sighting.outcome, func.count()).where(Sighting.run_id == run_id).group_by(Sighting.outcome)
    ):
        counts[outcome] = n
    for kind, n in session.execute(
        select(RunProblem.kind, func.count()).where(RunProblem.run_id == run_id).group_by(RunProblem.kind)
    ):
        counts[kind] = n
    return counts


def list_runs(session: Session, *, limit: int | None = None, silent_after_s: float | None = None) -> list[RunRow]:
    """Runs, newest first; with ``silent_after_s``, running ones as they are now (see ``_live``)."""
    query = select(CrawlRun).order_by(CrawlRun.id.desc())
    if limit:
        query = query.limit(limit)
    return [
        _live(session, run, silent_after_s) if silent_after_s is not None and run.status == "running" else _run_row(run)
        for run in session.scalars(query)
    ]


@dataclass(frozen=True)
class RunDetail:
    run: RunRow
    counts: dict[str, int]
    problems: list[ProblemRow]


def run_detail(
    session: Session, run_id: int, *, problem_limit: int = 200, silent_after_s: float | None = None
) -> RunDetail | None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        return None
    problems = [
        row_of(ProblemRow, problem)
        for problem in session.scalars(
            select(RunProblem).where(RunProblem.run_id == run_id).order_by(RunProblem.id).limit(problem_limit)
        )
    ]
    counts = run_counts(session, run_id)
    row = _live(session, run, silent_after_s) if silent_after_s is not None and run.status == "running" else _run_row(run, counts)
    return RunDetail(run=row, counts=counts, problems=problems)


def run_is_stale(run: RunRow, *, silent_after_s: float) -> bool:
    """A ``running`` run nobody is running any more: its process on this host is gone,
    or (another host) its heartbeat has been silent for ``silent_after_s``."""
    if run.status != "running":
        return False
    if run.host == socket.gethostname():
        return not pid_alive(run.pid)
    heartbeat = run.heartbeat_at if run.heartbeat_at.tzinfo else run.heartbeat_at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - heartbeat).total_seconds() > silent_after_s


def status_now(run: CrawlRun, *, silent_after_s: float) -> str:
    """The run's status as a reader should see it: ``stale`` for a running run that is gone."""
    return "stale" if run_is_stale(_run_row(run), silent_after_s=silent_after_s) else run.status


def _live(session: Session, run: CrawlRun, silent_after_s: float) -> RunRow:
    """A running run's counts so far, and ``stale`` when its process is gone.

    A run killed with -9 stays ``running`` in the table until the next run starts and
    marks it interrupted; a reader is told at once.
    """
    row = _run_row(run, run_counts(session, run.id))
    if run_is_stale(row, silent_after_s=silent_after_s):
        row = replace(row, status="stale", message="its process is gone (killed or crashed); the next run marks it interrupted")
    return row


def run_dict(run: RunRow, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": run.id,
        "spiders": run.spiders.split(",") if run.spiders else [],
        "outlets": run.outlets,
        "mode": run.mode,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "message": run.message,
        "worker": run.worker,
        "job_key": run.job_key,
        "counts": counts if counts is not None else run.counts,
    }


def worker_runs(session: Session, *, limit: int = 50) -> list[RunRow]:
    """Runs made by ``newswatch worker`` jobs, newest first."""
    query = select(CrawlRun).where(CrawlRun.worker.is_not(None)).order_by(CrawlRun.id.desc()).limit(limit)
    return [_run_row(run) for run in session.scalars(query)]
