"""Search and list articles for the web page: plain typed rows, newest first, keyset pages.

Newest first means by article id, descending: ids grow in the order articles were first
seen, and both engines walk the full-text index in that order (FTS5 rowid = article id),
so a page of the newest 50 hits costs the same for a rare word and a common one.
``sort=relevance`` ranks only the newest :data:`RELEVANCE_WINDOW` hits (bm25 / ts_rank
over every hit of a common word would cost seconds at a million articles) and has no
further pages.  Counts stop at :data:`COUNT_CAP`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.search import SEARCH_TABLE, fts5_match, pg_tsquery
from storage.textsearch import Query, parse_query

RELEVANCE_WINDOW = 1000
COUNT_CAP = 10_000
FACET_LIMIT = 20
PAGE_MAX = 200

Sort = Literal["new", "relevance"]


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    outlet: str | None = None
    lang: str | None = None
    #: Inclusive day bounds on the published date (articles without one are then left out).
    date_from: date | None = None
    date_to: date | None = None
    sort: Sort = "new"
    #: Keyset: only articles with a smaller id (the last id of the previous page).
    after: int | None = None
    limit: int = 50

    @property
    def query(self) -> Query:
        return parse_query(self.q)


@dataclass(frozen=True)
class ArticleHit:
    id: int
    title: str
    url: str
    outlet: str
    language: str
    published_at: str | None
    first_seen_at: datetime
    version_count: int
    duplicate_of: int | None
    similarity: float | None
    body: str


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    hits: list[ArticleHit]
    #: Pass as ``after`` for the next page; None on the last page.
    next_after: int | None
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


class _Where:
    """WHERE clauses and bound parameters on ``articles a`` (and the index, when a query is given)."""

    def __init__(self, session: Session, filters: SearchFilters) -> None:
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}
        self.query = filters.query
        if not self.query.empty:
            if self.pg:
                expression, params = pg_tsquery(self.query)
                self.clauses.append(f"s.tsv @@ {expression}")
                self.params.update(params)
            else:
                self.clauses.append(f"{SEARCH_TABLE} MATCH :match")
                self.params["match"] = fts5_match(self.query)
        # Without filters on the article row, the index alone answers: FTS5 walks its
        # rowids (= article ids) newest first and stops after a page; no join, no sort.
        self.index_only = not self.query.empty and not (
            filters.outlet or filters.lang or filters.date_from or filters.date_to
        )
        if filters.outlet:
            self.clauses.append("a.outlet = :outlet")
            self.params["outlet"] = filters.outlet
        if filters.lang:
            self.clauses.append("a.language = :lang")
            self.params["lang"] = filters.lang
        # published_at is stored as the page gave it, ISO 8601: its first ten characters
        # are the day, so string bounds on the day work on both engines.
        if filters.date_from:
            self.clauses.append("a.published_at >= :date_from")
            self.params["date_from"] = filters.date_from.isoformat()
        if filters.date_to:
            self.clauses.append("a.published_at < :date_to")
            self.params["date_to"] = (filters.date_to + timedelta(days=1)).isoformat()

    @property
    def id_column(self) -> str:
        if self.index_only:
            return "s.article_id" if self.pg else f"{SEARCH_TABLE}.rowid"
        return "a.id"

    @property
    def source(self) -> str:
        if self.query.empty:
            return "articles a"
        if self.index_only:
            return f"{SEARCH_TABLE} s" if self.pg else SEARCH_TABLE
        if self.pg:
            return f"{SEARCH_TABLE} s JOIN articles a ON a.id = s.article_id"
        return f"{SEARCH_TABLE} JOIN articles a ON a.id = {SEARCH_TABLE}.rowid"

    def sql(self, extra: Sequence[str] = ()) -> str:
        clauses = [*self.clauses, *extra]
        return " WHERE " + " AND ".join(clauses) if clauses else ""


def search(session: Session, filters: SearchFilters, *, with_facets: bool = False) -> SearchPage:
    """One page of articles answering ``filters`` (all articles when ``q`` is empty)."""
    where = _Where(session, filters)
    limit = max(1, min(filters.limit, PAGE_MAX))
    id_column = where.id_column
    if filters.sort == "relevance" and not where.query.empty:
        ids = _relevance_ids(session, where, limit)
        next_after = None
    else:
        extra = [f"{id_column} < :after"] if filters.after is not None else []
        params = {**where.params, "after": filters.after, "n": limit + 1}
        order = id_column
        if where.pg and not where.query.empty and _pg_few_matches(session, where, extra, params):
            # "+ 0" hides the primary key's order from the planner: it then takes the GIN
            # bitmap and sorts the few matches, instead of walking the key backwards and
            # de-TOASTing every tsvector on the way (seconds for a rare word).
            order = f"{id_column} + 0"
        ids = list(
            session.execute(
                text(f"SELECT {id_column} FROM {where.source}{where.sql(extra)} ORDER BY {order} DESC LIMIT :n"),
                params,
            ).scalars()
        )
        next_after = ids[limit - 1] if len(ids) > limit else None
        ids = ids[:limit]
    hits = _hits(session, ids)
    facets = facet_counts(session, filters) if with_facets else {}
    return SearchPage(hits=hits, next_after=next_after, facets=facets)


def _pg_few_matches(session: Session, where: _Where, extra: list[str], params: dict[str, Any]) -> bool:
    """Whether the query matches few enough rows that sorting them all beats the key order.

    Walking the key backwards examines about page x total / matches rows, each a
    de-TOASTed tsvector; the bitmap path reads every match.  They cost the same near
    matches = sqrt(200 x total) (measured, benchmarks/search_latency.py).
    """
    _pg_prefer_index(session)
    total = session.execute(
        text(f"SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = '{SEARCH_TABLE}'")
    ).scalar()
    threshold = max(1000, int(math.sqrt(200 * float(total or 0))))
    found = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {where.source}{where.sql(extra)} LIMIT :cap) AS few"),
        {**params, "cap": threshold + 1},
    ).scalar_one()
    return int(found) <= threshold


def _pg_prefer_index(session: Session) -> None:
    # The planner does not cost de-TOASTing a tsvector, so it takes a sequential scan
    # for a common word: 80 ms for 2,000 rows of 68k where the GIN bitmap takes 2 ms.
    session.execute(text("SET LOCAL enable_seqscan = off"))


def _relevance_ids(session: Session, where: _Where, limit: int) -> list[int]:
    if where.pg:
        expression, _ = pg_tsquery(where.query)
        score = f"ts_rank(s.tsv, {expression})"
        order = "score DESC, id DESC"
    else:
        score = f"bm25({SEARCH_TABLE})"
        order = "score ASC, id DESC"  # bm25() is smaller for better matches
    sql = (
        f"SELECT id FROM (SELECT {where.id_column} AS id, {score} AS score FROM {where.source}{where.sql()}"
        f" ORDER BY {where.id_column} DESC LIMIT :window) AS newest ORDER BY {order} LIMIT :n"
    )
    params = {**where.params, "window": RELEVANCE_WINDOW, "n": limit}
    return list(session.execute(text(sql), params).scalars())


def _hits(session: Session, ids: list[int]) -> list[ArticleHit]:
    if not ids:
        return []
    placeholders = ", ".join(f":id{i}" for i in range(len(ids)))
    rows = session.execute(
        text(
            "SELECT a.id, a.title, a.url, a.outlet, a.language, a.published_at, a.first_seen_at,"
            " a.version_count, a.duplicate_of, a.similarity, v.body"
            " FROM articles a JOIN article_versions v"
            " ON v.article_id = a.id AND v.version = a.version_count"
            f" WHERE a.id IN ({placeholders})"
        ),
        {f"id{i}": value for i, value in enumerate(ids)},
    ).all()
    by_id = {row[0]: row for row in rows}
    return [_hit(by_id[i]) for i in ids if i in by_id]


def _hit(row: Any) -> ArticleHit:
    first_seen = row[6]
    if isinstance(first_seen, str):  # SQLite through text(): no type processing
        first_seen = datetime.fromisoformat(first_seen)
    if first_seen.tzinfo is None:
        first_seen = first_seen.replace(tzinfo=UTC)
    return ArticleHit(
        id=row[0], title=row[1], url=row[2], outlet=row[3], language=row[4], published_at=row[5],
        first_seen_at=first_seen, version_count=row[7], duplicate_of=row[8], similarity=row[9],
        body=row[10],
    )


def count(session: Session, filters: SearchFilters) -> tuple[int, bool]:
    """How many articles answer ``filters``, and whether that number was capped at COUNT_CAP."""
    where = _Where(session, filters)
    if where.pg and not where.query.empty:
        _pg_prefer_index(session)
    n = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {where.source}{where.sql()} LIMIT :cap) AS capped"),
        {**where.params, "cap": COUNT_CAP + 1},
    ).scalar_one()
    return min(int(n), COUNT_CAP), int(n) > COUNT_CAP


def facet_counts(session: Session, filters: SearchFilters) -> dict[str, list[FacetValue]]:
    """Counts by outlet, language and published day over every article answering ``filters``."""
    where = _Where(session, filters)
    where.index_only = False  # facets group by article columns: the join is needed
    facets: dict[str, list[FacetValue]] = {}
    for name, expression, order in (
        ("outlet", "a.outlet", "n DESC, value"),
        ("language", "a.language", "n DESC, value"),
        ("day", "substr(a.published_at, 1, 10)", "value DESC"),
    ):
        extra = [f"{expression} IS NOT NULL"]
        rows = session.execute(
            text(
                f"SELECT {expression} AS value, count(*) AS n FROM {where.source}{where.sql(extra)}"
                f" GROUP BY {expression} ORDER BY {order} LIMIT :limit"
            ),
            {**where.params, "limit": FACET_LIMIT if name != "day" else 31},
        ).all()
        facets[name] = [FacetValue(str(value), int(n)) for value, n in rows]
    return facets
