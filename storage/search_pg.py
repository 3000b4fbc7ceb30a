"""PostgreSQL's side of newest-first search (storage.search_queries): which way to find matches.

GIN has no order.  Walking the primary key backwards de-TOASTs each row's tsvector (tens of
microseconds) and stops after the wanted matches; sorting the GIN bitmap visits every
match's heap tuple (no de-TOASTing) and sorts them.  Each is cheap where the other is not;
these functions choose.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.search import SEARCH_TABLE

if TYPE_CHECKING:
    from storage.search_queries import _Where

#: Requests up to this many matches (a page and one more) may walk the key first.
PAGE_WALK_MAX = 201

#: PostgreSQL walks at most this many newest index rows per wanted match before it
#: switches to the GIN bitmap: the two cost the same near a word in 1 article of 10.
PG_WALK_PER_MATCH = 10
#: Newest index rows sampled to decide how the facets' many matches are found.
PG_SAMPLE = 400
#: A word the planner expects in at most this many rows is rare: an outlet or language
#: filter is then tested on the few heap rows the GIN bitmap finds.  Left to itself, the
#: planner ANDs that bitmap with the filter btree's (350k entries for lang=en at 1M, 20 ms):
#: 普京 with lang=en counted in 62 ms instead of 21 (measured, benchmarks/search_latency.py).
#: For a common word the btree's bitmap pays (中国 with outlet=bbc: 141 ms against 243).
PG_RARE_ROWS = 10_000


def newest_ids(session: Session, where: _Where, after: int | None, n: int, *, few: bool = False) -> list[int]:
    """The newest ``n`` matches below ``after``, from the index alone (PostgreSQL).

    The walk counts rows that pass the filters (outlet, language, day: the index table's
    own columns, each with a btree on (column, article_id) that the walk runs down), so a
    filter does not make a common word look rare.

    Two ways, each cheap where the other is not.  Walking the primary key backwards
    de-TOASTs each row's tsvector (tens of microseconds) and stops after ``n`` matches:
    cheap for a common word, ruinous for a rare one.  The GIN bitmap visits every match's
    heap tuple (a fraction of a microsecond, no de-TOASTing: a single-word match needs no
    recheck) and sorts them: cheap for a rare word, costly for one in 40 % of a million
    articles.  So a page first walks at most ``PG_WALK_PER_MATCH * n`` rows, and only
    when that finds fewer than ``n`` (the word is in fewer than 1 article of 10) takes
    the bitmap; ``few`` (the caller counted at most COUNT_CAP matches) skips the walk.
    Larger requests (the facets' newest 5,000) walk only for a word in more than 1
    article of 4.
    """
    bound = "s.article_id < :upper" if after is not None else "TRUE"
    params = {**where.params, "upper": after, "n": n}
    prefer_index(session)

    def walk(rows: int, n: int) -> list[int]:
        return list(
            session.execute(
                text(
                    f"SELECT s.article_id FROM (SELECT article_id, tsv FROM {SEARCH_TABLE} s"
                    f" WHERE {bound} AND {where.index_filters}"
                    f" ORDER BY article_id DESC LIMIT :walk) AS s WHERE {where.match}"
                    " ORDER BY s.article_id DESC LIMIT :n"
                ),
                {**params, "walk": rows, "n": n},
            ).scalars()
        )

    if not few and n <= PAGE_WALK_MAX:
        ids = walk(PG_WALK_PER_MATCH * n, n)
        if len(ids) >= n:
            return ids
    elif not few and len(walk(PG_SAMPLE, PG_SAMPLE)) >= PG_SAMPLE // 4:
        # Many matches wanted (the facets): walking pays only for a word in more than
        # 1 article of 4 (its n matches lie within 4n rows), seen in a sample of the newest.
        ids = walk(5 * n, n)
        if len(ids) >= n:
            return ids
    # "+ 0" hides the key's order and range from the planner: it must take the GIN bitmap
    # (it would rather filter the key's rows by de-TOASTing each, a cost it does not count).
    bound = "s.article_id + 0 < :upper" if after is not None else "TRUE"
    return list(
        session.execute(
            text(
                f"SELECT s.article_id FROM {SEARCH_TABLE} s WHERE {where.match} AND {where.index_filters} AND {bound}"
                " ORDER BY s.article_id + 0 DESC LIMIT :n"
            ),
            params,
        ).scalars()
    )


def few_matches(session: Session, where: _Where, extra: list[str], params: dict[str, Any]) -> bool:
    """Whether the query matches few enough rows that sorting them all beats the key order.

    Walking the key backwards examines about page x total / matches rows, each a
    de-TOASTed tsvector; the bitmap path reads every match.  They cost the same near
    matches = sqrt(200 x total) (measured, benchmarks/search_latency.py).
    """
    prefer_index(session)
    total = session.execute(
        text(f"SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = '{SEARCH_TABLE}'")
    ).scalar()
    threshold = max(1000, int(math.sqrt(200 * float(total or 0))))
    found = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {where.source}{where.sql(extra)} LIMIT :cap) AS few"),
        {**params, "cap": threshold + 1},
    ).scalar_one()
    return int(found) <= threshold


def rare_word(session: Session, match: str, params: dict[str, Any]) -> bool:
    """Whether the planner expects the query's match in at most PG_RARE_ROWS index rows."""
    plan = session.execute(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {SEARCH_TABLE} s WHERE {match}"), params).scalar()
    parsed: Any = json.loads(plan) if isinstance(plan, str | bytes) else plan
    return float(parsed[0]["Plan"]["Plan Rows"]) <= PG_RARE_ROWS


def prefer_index(session: Session) -> None:
    # The planner does not cost de-TOASTing a tsvector, so it takes a sequential scan
    # for a common word: 80 ms for 2,000 rows of 68k where the GIN bitmap takes 2 ms.
    session.execute(text("SET LOCAL enable_seqscan = off"))
