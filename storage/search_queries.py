"""Search and list articles for the web page: plain typed rows, newest first, keyset pages.

Newest first means by article id, descending: ids grow in the order articles were first
seen.  SQLite's FTS5 walks its rowids (= article ids) in that order and stops after a
page, so a page costs the same for a rare word and a common one.  PostgreSQL's GIN index
has no order, and walking the primary key backwards de-TOASTs every row's tsvector on
the way: it walks a bounded number of rows and otherwise sorts the GIN bitmap's matches
(see storage/search_pg.py).

``sort=relevance`` ranks only the newest :data:`RELEVANCE_WINDOW` hits (bm25 / ts_rank
over every hit of a common word would cost seconds at a million articles); its pages are
offsets into that ranked window, which ``after`` pins (see :func:`search`).  Counts stop
at :data:`COUNT_CAP`; facets count the newest :data:`FACET_WINDOW` matches, and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage import search_pg
from storage.search import SEARCH_TABLE, fts5_match, pg_tsquery
from storage.search_filters import day_cover, fts5_filters
from storage.textsearch import Query, parse_query

RELEVANCE_WINDOW = 1000
#: The count stops here ("1,000+ articles").  On PostgreSQL a common word's count first
#: builds the GIN bitmap of all its matches (about 27 ms for 400k at 1M articles), then
#: visits heap rows until the cap: 10,000 visits cost as much again, 1,000 a tenth
#: (中国 at 1M: 54.7 -> 37.4 ms CPU p95 per search, benchmarks/search_latency.py).
COUNT_CAP = 1_000
#: Facets count the newest this many matches (all of them when there are fewer).  On
#: PostgreSQL a common word's newest matches are found by walking the key and
#: de-TOASTing each row's tsvector (~10 µs): 5,000 matches of a word in 40 % of the
#: articles cost ~200 ms of CPU whatever the size; 10,000 cost ~390 ms (measured at 100k).
FACET_WINDOW = 5_000
#: Page kinds an article can have (``extra["page_kind"]`` as the parsers set it; none: an article).
KINDS = ("article", "video", "image_post", "text_post")
FACET_LIMIT = 20
#: Largest page; storage.search_pg.PAGE_WALK_MAX is this plus one.
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
    #: ``article``, ``video``, ``image_post`` or ``text_post`` (:data:`KINDS`).
    kind: str | None = None
    #: Keyset: only articles with a smaller id (the last id of the previous page).
    after: int | None = None
    #: ``sort=relevance`` only: the position in the ranked window (bounded by RELEVANCE_WINDOW).
    offset: int = 0
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
    #: Set when the facets count only the newest FACET_WINDOW matches (there may be more).
    facets_window: int | None = None
    #: ``sort=relevance``: pass as ``offset`` (with ``after``) for the next page.
    next_offset: int | None = None
    #: With ``with_count``: how many articles answer (at most COUNT_CAP), and whether capped.
    total: int | None = None
    total_capped: bool = False


class _Where:
    """WHERE clauses and bound parameters on ``articles a`` (and the index, when a query is given).

    With a query, the outlet, language and date filters are the index's own
    (storage/search_filters.py): FTS5 ANDs them into the MATCH, PostgreSQL compares the
    index table's columns (``index_filters``, which search_pg's walk applies before it
    de-TOASTs a row's tsvector).  Only ``kind`` still needs the article row.
    """

    def __init__(self, session: Session, filters: SearchFilters, *, join: bool = False) -> None:
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}
        self.query = filters.query
        self.match = ""
        #: PostgreSQL, with a query: the filters on the index table's columns, AND-ed ("TRUE": none).
        self.index_filters = "TRUE"
        #: PostgreSQL: an outlet or language filter (a btree walks its rows newest first).
        self.equality_filters = False
        # A range whose end comes before its start answers nothing (FTS5 has no empty OR).
        empty_range = bool(filters.date_from and filters.date_to and filters.date_from > filters.date_to)
        if not self.query.empty:
            if self.pg:
                expression, params = pg_tsquery(self.query)
                self.match = f"s.tsv @@ {expression}"
                self.params.update(params)
                self.clauses.append(self.match)
                self.equality_filters = bool(filters.outlet or filters.lang)
                # "|| ''" hides a filter btree from the planner (see search_pg.PG_RARE_ROWS).
                heap = self.equality_filters and search_pg.rare_word(session, self.match, self.params)
                column = "(s.{} || '')" if heap else "s.{}"
                self._filters(filters, column.format("outlet"), column.format("language"), "s.day")
                self.index_filters = " AND ".join(self.clauses[1:]) or "TRUE"
            else:
                self.match = f"{SEARCH_TABLE} MATCH :match"
                days = day_cover(filters.date_from, filters.date_to) if filters.date_from or filters.date_to else None
                self.params["match"] = fts5_match(self.query, fts5_filters(filters.outlet, filters.lang, days))
                self.clauses.append(self.match)
            if empty_range:
                self.clauses.append("1 = 0")
        else:
            self._filters(filters, "a.outlet", "a.language", "a.published_at")
        # Unless ``kind`` (or the caller) needs the article row, the index alone answers: no join.
        self.index_only = not join and not self.query.empty and not filters.kind
        if filters.kind:
            # Parsers mark only pages that are not plain articles (crawler.parsing.kind).
            kind = "(a.extra ->> 'page_kind')" if self.pg else "json_extract(a.extra, '$.page_kind')"
            if filters.kind == "article":
                self.clauses.append(f"({kind} IS NULL OR {kind} = 'article')")
            else:
                self.clauses.append(f"{kind} = :kind")
                self.params["kind"] = filters.kind

    def _filters(self, filters: SearchFilters, outlet: str, language: str, published: str) -> None:
        if filters.outlet:
            self.clauses.append(f"{outlet} = :outlet")
            self.params["outlet"] = filters.outlet
        if filters.lang:
            self.clauses.append(f"{language} = :lang")
            self.params["lang"] = filters.lang
        # published_at is stored as the page gave it, ISO 8601: its first ten characters
        # are the day (the index's ``day``), so string bounds on the day work on both
        # engines, and give the same answer on the day as on the whole value.
        if filters.date_from:
            self.clauses.append(f"{published} >= :date_from")
            self.params["date_from"] = filters.date_from.isoformat()
        if filters.date_to:
            self.clauses.append(f"{published} < :date_to")
            self.params["date_to"] = (filters.date_to + timedelta(days=1)).isoformat()

    @property
    def id_column(self) -> str:
        """The id to order by: the index's own when there is a query, so the engine walks it."""
        if self.query.empty:
            return "a.id"
        return "s.article_id" if self.pg else f"{SEARCH_TABLE}.rowid"

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


def search(session: Session, filters: SearchFilters, *, with_facets: bool = False,
           with_count: bool = False) -> SearchPage:
    """One page of articles answering ``filters`` (all articles when ``q`` is empty).

    ``sort=relevance`` pages by offset, not by keyset: the ranked set is the newest
    RELEVANCE_WINDOW matches, scored in full for every page anyway, so an offset into it
    costs nothing more, whereas a keyset on (score, id) would carry a float score through
    the URL and still rank the whole window.  The next page's ``after`` pins the window
    (the newest match it started from), so articles recorded meanwhile do not shift it.
    """
    where = _Where(session, filters)
    limit = max(1, min(filters.limit, PAGE_MAX))
    next_offset = None
    # The capped count first: PostgreSQL's page then knows whether walking the key can pay.
    total, capped = count(session, filters) if with_count else (None, False)
    if filters.sort == "relevance" and not where.query.empty:
        ids, top = _relevance_ids(session, where, filters, limit + 1)
        if len(ids) > limit and top is not None:
            next_offset, next_after = filters.offset + limit, top + 1
        else:
            next_after = None
    else:
        if where.pg and where.index_only:
            # Few matches in all: sorting the GIN bitmap's beats walking.  With an outlet or
            # language, a few thousand matches can still be a common word among the
            # filtered rows (中国 in bbc's articles), which the walk down the filter's btree
            # (value, article_id) finds in a page's worth of rows; only matches that cannot
            # fill a page rule the walk out.  A day range has no such order (its rows may
            # lie far from the newest): the count decides, as without filters.
            few = total is not None and not capped and (not where.equality_filters or total <= limit)
            ids = search_pg.newest_ids(session, where, filters.after, limit + 1, few=few)
        else:
            ids = _newest_ids(session, where, filters.after, limit + 1)
        next_after = ids[limit - 1] if len(ids) > limit else None
    ids = ids[:limit]
    hits = _hits(session, ids)
    facets, counted = _facets(session, filters) if with_facets else ({}, 0)
    return SearchPage(
        hits=hits, next_after=next_after, facets=facets, next_offset=next_offset,
        facets_window=FACET_WINDOW if counted >= FACET_WINDOW else None, total=total, total_capped=capped,
    )


def _newest_ids(session: Session, where: _Where, after: int | None, n: int) -> list[int]:
    id_column = where.id_column
    extra = [f"{id_column} < :after"] if after is not None else []
    params = {**where.params, "after": after, "n": n}
    order = id_column
    if where.pg and not where.query.empty and search_pg.few_matches(session, where, extra, params):
        # "+ 0" hides the primary key's order from the planner: it then takes the GIN
        # bitmap and sorts the few matches, instead of walking the key backwards and
        # de-TOASTing every tsvector on the way (seconds for a rare word).
        order = f"{id_column} + 0"
    return list(
        session.execute(
            text(f"SELECT {id_column} FROM {where.source}{where.sql(extra)} ORDER BY {order} DESC LIMIT :n"),
            params,
        ).scalars()
    )


def _relevance_ids(session: Session, where: _Where, filters: SearchFilters, n: int) -> tuple[list[int], int | None]:
    """Ids of ranks offset .. offset + n in the window, and the newest id of the window."""
    if where.pg:
        expression, _ = pg_tsquery(where.query)
        score = f"ts_rank(s.tsv, {expression})"
        order = "score DESC, id DESC"
    else:
        score = f"bm25({SEARCH_TABLE}, 1.0, 0.0)"  # the filters column does not rank
        order = "score ASC, id DESC"  # bm25() is smaller for better matches
    extra = [f"{where.id_column} < :after"] if filters.after is not None else []
    sql = (
        f"SELECT id, max(id) OVER () FROM (SELECT {where.id_column} AS id, {score} AS score"
        f" FROM {where.source}{where.sql(extra)} ORDER BY {where.id_column} DESC LIMIT :window) AS newest"
        f" ORDER BY {order} LIMIT :n OFFSET :offset"
    )
    params = {**where.params, "after": filters.after, "window": RELEVANCE_WINDOW, "n": n,
              "offset": max(0, min(filters.offset, RELEVANCE_WINDOW))}
    rows = session.execute(text(sql), params).all()
    return [row[0] for row in rows], (rows[0][1] if rows else None)


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
        search_pg.prefer_index(session)
    n = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {where.source}{where.sql()} LIMIT :cap) AS capped"),
        {**where.params, "cap": COUNT_CAP + 1},
    ).scalar_one()
    return min(int(n), COUNT_CAP), int(n) > COUNT_CAP


def facet_counts(session: Session, filters: SearchFilters) -> dict[str, list[FacetValue]]:
    """Counts by outlet, language and published day over the newest FACET_WINDOW matches."""
    return _facets(session, filters)[0]


def _facets(session: Session, filters: SearchFilters) -> tuple[dict[str, list[FacetValue]], int]:
    """The facets, and how many matches they count (FACET_WINDOW at most).

    Counting every match of a common word costs seconds at a million articles (each
    match joins its article row); the newest FACET_WINDOW cost a bounded join, and the
    page says the counts are over the newest matches when there are that many.
    """
    where = _Where(session, filters, join=True)
    params: dict[str, Any] = {**where.params}
    index_only = _Where(session, filters)
    if index_only.pg and index_only.index_only:
        # The matches' ids from the index alone (no de-TOASTing), then their articles.
        params = {"ids": search_pg.newest_ids(session, index_only, None, FACET_WINDOW)}
        matches = "SELECT a.outlet, a.language, a.published_at FROM articles a WHERE a.id = ANY(:ids)"
    else:
        if where.pg and not where.query.empty:
            search_pg.prefer_index(session)
        matches = (
            f"SELECT a.outlet, a.language, a.published_at FROM {where.source}{where.sql()}"
            f" ORDER BY {where.id_column} DESC LIMIT :window"
        )
        params["window"] = FACET_WINDOW
    rows = session.execute(
        text(
            f"WITH m AS MATERIALIZED ({matches})"
            " SELECT 'outlet', outlet, count(*) FROM m GROUP BY outlet"
            " UNION ALL SELECT 'language', language, count(*) FROM m GROUP BY language"
            " UNION ALL SELECT 'day', substr(published_at, 1, 10), count(*) FROM m"
            " WHERE published_at IS NOT NULL GROUP BY substr(published_at, 1, 10)"
        ),
        params,
    ).all()
    grouped: dict[str, list[FacetValue]] = {"outlet": [], "language": [], "day": []}
    for name, value, n in rows:
        if value is not None:
            grouped[name].append(FacetValue(str(value), int(n)))
    counted = sum(f.count for f in grouped["outlet"])
    for name in ("outlet", "language"):
        grouped[name] = sorted(grouped[name], key=lambda f: (-f.count, f.value))[:FACET_LIMIT]
    grouped["day"] = sorted(grouped["day"], key=lambda f: f.value, reverse=True)[:31]
    return grouped, counted
