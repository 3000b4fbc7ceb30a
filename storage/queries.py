"""Read-only queries behind the CLI: articles, versions, runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
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


def article_dict(row: ArticleRecord) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in EXPORT_FIELDS}
    for name in ("fetched_at", "first_seen_at", "last_seen_at"):
        values[name] = values[name].isoformat()
    return values


def list_articles(
    session: Session, *, outlet: str | None = None, limit: int | None = None
) -> list[ArticleRecord]:
    query = select(ArticleRecord).order_by(ArticleRecord.id)
    if outlet:
        query = query.where(ArticleRecord.outlet == outlet)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def iter_articles(session: Session, *, outlet: str | None = None) -> Iterator[ArticleRecord]:
    """All articles in id order, fetched in batches so an export runs in bounded memory."""
    query = select(ArticleRecord).order_by(ArticleRecord.id).execution_options(yield_per=500)
    if outlet:
        query = query.where(ArticleRecord.outlet == outlet)
    for row in session.scalars(query):
        yield row
        session.expunge(row)


def get_article(session: Session, article_id: int) -> ArticleRecord | None:
    return session.get(ArticleRecord, article_id)


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
        "counts": counts,
    }
