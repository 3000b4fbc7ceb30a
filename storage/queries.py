"""Read-only queries behind the CLI: articles, versions, runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from storage.models import ArticleRecord, ArticleVersion, CrawlRun, RunProblem
from storage.repository import run_counts

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


def article_dict(row: ArticleRecord, body: str) -> dict[str, Any]:
    values = {name: body if name == "body" else getattr(row, name) for name in EXPORT_FIELDS}
    for name in ("fetched_at", "first_seen_at", "last_seen_at"):
        values[name] = values[name].isoformat()
    return values


def _with_current_body() -> Select[tuple[ArticleRecord, str]]:
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
    session: Session, *, outlet: str | None = None, limit: int | None = None
) -> list[ArticleRecord]:
    query = select(ArticleRecord).order_by(ArticleRecord.id)
    if outlet:
        query = query.where(ArticleRecord.outlet == outlet)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def iter_articles(
    session: Session, *, outlet: str | None = None
) -> Iterator[tuple[ArticleRecord, str]]:
    """All articles with their current body, in id order, fetched in batches (bounded memory)."""
    query = _with_current_body().execution_options(yield_per=500)
    if outlet:
        query = query.where(ArticleRecord.outlet == outlet)
    for row, body in session.execute(query):
        yield row, body
        session.expunge(row)


def get_article(session: Session, article_id: int) -> tuple[ArticleRecord, str] | None:
    found = session.execute(_with_current_body().where(ArticleRecord.id == article_id)).first()
    return None if found is None else (found[0], found[1])


def versions(session: Session, article_id: int) -> list[ArticleVersion]:
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.version)
        )
    )


def list_runs(session: Session, *, limit: int | None = None) -> list[CrawlRun]:
    query = select(CrawlRun).order_by(CrawlRun.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True)
class RunDetail:
    run: CrawlRun
    counts: dict[str, int]
    problems: list[RunProblem]


def run_detail(session: Session, run_id: int, *, problem_limit: int = 200) -> RunDetail | None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        return None
    problems = list(
        session.scalars(
            select(RunProblem).where(RunProblem.run_id == run_id).order_by(RunProblem.id).limit(problem_limit)
        )
    )
    return RunDetail(run=run, counts=run_counts(session, run_id), problems=problems)


def run_dict(run: CrawlRun, counts: dict[str, int] | None = None) -> dict[str, Any]:
    counts = counts or {
        name: getattr(run, f"{name}_count")
        for name in ("new", "changed", "unchanged", "duplicate", "dropped", "error")
    }
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
        "counts": counts,
    }


def worker_runs(session: Session, *, limit: int = 50) -> list[CrawlRun]:
    """Runs made by ``newswatch worker`` jobs, newest first."""
    return list(
        session.scalars(
            select(CrawlRun).where(CrawlRun.worker.is_not(None)).order_by(CrawlRun.id.desc()).limit(limit)
        )
    )
