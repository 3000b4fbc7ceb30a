"""Read-only queries behind the web page's article, story, run and outlet pages: plain rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from storage.models import ArticleRecord, ArticleVersion, CrawlRun, RunProblem
from storage.outcomes import RUN_COUNTS
from storage.queries import ArticleRow, ProblemRow, row_of, with_current_body


@dataclass(frozen=True, slots=True)
class ArticleView(ArticleRow):
    """The article page's article: the stored row and the text of its current version."""

    body: str


@dataclass(frozen=True)
class VersionRow:
    version: int
    url: str
    title: str
    published_at: str | None
    author: str | None
    content_hash: str
    fetched_at: datetime
    recorded_at: datetime
    run_id: int | None
    body_chars: int


@dataclass(frozen=True)
class VersionText:
    version: int
    title: str
    published_at: str | None
    author: str | None
    fetched_at: datetime
    body: str


@dataclass(frozen=True)
class StoryMember:
    """One outlet's article in a story (the original and its copies)."""

    id: int
    outlet: str
    title: str
    url: str
    published_at: str | None
    first_seen_at: datetime
    version_count: int
    #: When a later version was recorded (None if never edited).
    last_edited_at: datetime | None
    duplicate_of: int | None
    similarity: float | None

    @property
    def relation(self) -> str:
        if self.duplicate_of is None:
            return "original"
        return "exact copy" if (self.similarity or 0) >= 0.9999 else "near copy"


@dataclass(frozen=True)
class Story:
    root: int
    #: Ordered by first sighting: the first publisher first.
    members: list[StoryMember]


@dataclass(frozen=True)
class RunRow:
    id: int
    spiders: str
    outlets: list[str]
    mode: str
    origin: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    message: str | None
    counts: dict[str, int]


@dataclass(frozen=True)
class OutletActivity:
    articles: int
    last_run: RunRow | None


def article(session: Session, article_id: int) -> ArticleView | None:
    found = session.execute(with_current_body().where(ArticleRecord.id == article_id)).first()
    if found is None:
        return None
    row, body = found
    return row_of(ArticleView, row, extra=dict(row.extra or {}), body=body)


def versions(session: Session, article_id: int) -> list[VersionRow]:
    v = ArticleVersion
    rows = session.execute(
        select(
            v.version, v.url, v.title, v.published_at, v.author, v.content_hash, v.fetched_at,
            v.recorded_at, v.run_id, func.length(v.body),
        )
        .where(v.article_id == article_id)
        .order_by(v.version)
    ).all()
    return [VersionRow(*row) for row in rows]


def version_text(session: Session, article_id: int, version: int) -> VersionText | None:
    v = ArticleVersion
    row = session.execute(
        select(v.version, v.title, v.published_at, v.author, v.fetched_at, v.body).where(
            v.article_id == article_id, v.version == version
        )
    ).first()
    return None if row is None else VersionText(*row)


def version_texts(session: Session, article_id: int) -> list[VersionText]:
    v = ArticleVersion
    rows = session.execute(
        select(v.version, v.title, v.published_at, v.author, v.fetched_at, v.body)
        .where(v.article_id == article_id)
        .order_by(v.version)
    ).all()
    return [VersionText(*row) for row in rows]


def story(session: Session, article_id: int) -> Story | None:
    """The story ``article_id`` belongs to: its original and every copy, first sighting first."""
    found = session.execute(
        select(ArticleRecord.id, ArticleRecord.duplicate_of).where(ArticleRecord.id == article_id)
    ).first()
    if found is None:
        return None
    root = found[1] or found[0]
    return stories(session, [root])[0]


def stories(session: Session, roots: Iterable[int]) -> list[Story]:
    """The stories rooted at ``roots`` (original article ids), in the order given."""
    roots = list(dict.fromkeys(roots))
    if not roots:
        return []
    a = ArticleRecord
    rows = session.execute(
        select(
            a.id, a.outlet, a.title, a.url, a.published_at, a.first_seen_at, a.version_count,
            a.duplicate_of, a.similarity,
        ).where((a.id.in_(roots)) | (a.duplicate_of.in_(roots)))
    ).all()
    ids = [row[0] for row in rows]
    edited = dict(
        session.execute(
            select(ArticleVersion.article_id, func.max(ArticleVersion.recorded_at))
            .where(ArticleVersion.article_id.in_(ids), ArticleVersion.version > 1)
            .group_by(ArticleVersion.article_id)
        ).all()
    ) if ids else {}
    members: dict[int, list[StoryMember]] = {root: [] for root in roots}
    for row in rows:
        last_edit = edited.get(row[0])
        if last_edit is not None and last_edit.tzinfo is None:
            last_edit = last_edit.replace(tzinfo=UTC)
        member = StoryMember(
            id=row[0], outlet=row[1], title=row[2], url=row[3], published_at=row[4],
            first_seen_at=row[5], version_count=row[6], last_edited_at=last_edit,
            duplicate_of=row[7], similarity=row[8],
        )
        members[row[7] if row[7] in members else row[0]].append(member)
    return [
        Story(root, sorted(group, key=lambda m: (m.first_seen_at, m.id)))
        for root, group in members.items()
        if group
    ]


def copies(session: Session, article_id: int) -> list[StoryMember]:
    """The other articles of this article's story (exact and near copies, or its original)."""
    found = story(session, article_id)
    return [] if found is None else [m for m in found.members if m.id != article_id]


def _run_row(run: CrawlRun) -> RunRow:
    return RunRow(
        id=run.id, spiders=run.spiders, outlets=list(run.outlets or []), mode=run.mode,
        origin=run.origin, status=run.status, started_at=run.started_at,
        finished_at=run.finished_at, message=run.message,
        counts={name: getattr(run, f"{name}_count") for name in RUN_COUNTS},
    )


def runs(session: Session, *, after: int | None = None, limit: int = 50) -> tuple[list[RunRow], int | None]:
    """Newest runs first; keyset pages by id.  Returns the rows and the next page's ``after``."""
    query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(CrawlRun.id < after)
    found = [_run_row(run) for run in session.scalars(query)]
    next_after = found[limit - 1].id if len(found) > limit else None
    return found[:limit], next_after


def run(session: Session, run_id: int, *, problem_limit: int = 500) -> tuple[RunRow, list[ProblemRow]] | None:
    found = session.get(CrawlRun, run_id)
    if found is None:
        return None
    problems = session.execute(
        select(RunProblem.kind, RunProblem.url, RunProblem.reason, RunProblem.at)
        .where(RunProblem.run_id == run_id)
        .order_by(RunProblem.id)
        .limit(problem_limit)
    ).all()
    return _run_row(found), [ProblemRow(*p) for p in problems]


def outlet_activity(session: Session, outlets: Iterable[str], *, scan: int = 1000) -> dict[str, OutletActivity]:
    """Per outlet: how many articles are stored and the newest run that covered it.

    ``crawl_runs.outlets`` is a JSON list (no portable index into it), so the newest
    ``scan`` runs are read and matched here.
    """
    wanted = list(outlets)
    counts = dict(
        session.execute(
            select(ArticleRecord.outlet, func.count()).where(ArticleRecord.outlet.in_(wanted)).group_by(ArticleRecord.outlet)
        ).all()
    )
    last: dict[str, RunRow] = {}
    for found in session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(scan)):
        for name in found.outlets or []:
            if name in wanted and name not in last:
                last[name] = _run_row(found)
        if len(last) == len(wanted):
            break
    return {name: OutletActivity(int(counts.get(name, 0)), last.get(name)) for name in wanted}


def stored_outlets(session: Session) -> list[str]:
    """Every outlet name articles were stored under (replays use their folder names)."""
    return sorted(session.scalars(select(ArticleRecord.outlet).distinct()))


_JOBS = table("apscheduler_jobs", column("id"), column("next_run_time"))


def next_run_times(session: Session) -> dict[str, datetime | None]:
    """APScheduler's job table: job id -> next run time (None when paused)."""
    return {
        str(job_id): None if when is None else datetime.fromtimestamp(float(when), UTC)
        for job_id, when in session.execute(select(_JOBS.c.id, _JOBS.c.next_run_time)).all()
    }
