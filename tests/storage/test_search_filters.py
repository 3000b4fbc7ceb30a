"""The index's own filters (outlet, language, published day): a filtered search answers exactly what
the unfiltered search, filtered by the article rows, answers; edits move an article between
filters; the migration gives an existing index its filters.  SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from storage import search, search_pg, search_queries
from storage.db import Database, _alembic_config, open_database
from storage.search_filters import DAY, day_cover, filter_tokens
from storage.search_queries import ArticleHit, SearchFilters
from tests.support.search_seed import WORDS
from tests.support.search_seed import seed as _seed


def _all(db: Database, filters: SearchFilters) -> list[ArticleHit]:
    hits: list[ArticleHit] = []
    after = None
    with db.read_session() as session:
        while True:
            page = search_queries.search(session, SearchFilters(**{**filters.__dict__, "limit": 7, "after": after}))
            hits += page.hits
            if page.next_after is None:
                return hits
            after = page.next_after


def _passes(hit: ArticleHit, outlet: str | None, lang: str | None, start: date | None, end: date | None) -> bool:
    day = hit.published_at[:10] if hit.published_at else None
    return (
        (outlet is None or hit.outlet == outlet) and (lang is None or hit.language == lang)
        and (start is None or (day is not None and day >= start.isoformat()))
        and (end is None or (day is not None and day <= end.isoformat()))
    )


RANGES = [(None, None), (date(2024, 1, 1), None), (None, date(2024, 2, 29)), (date(2024, 3, 9), date(2024, 3, 9)),
          (date(2023, 1, 1), date(2024, 12, 31)), (date(2024, 3, 10), date(2024, 3, 9))]


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


def _assert_filters_equal_python(db: Database) -> int:
    checked = 0
    for word in WORDS:
        unfiltered = _all(db, SearchFilters(q=word))
        assert unfiltered, word
        for outlet, lang, (start, end) in itertools.product([None, "bbc", "rfi-zh"], [None, "en"], RANGES):
            filters = SearchFilters(q=word, outlet=outlet, lang=lang, date_from=start, date_to=end)
            expected = [h.id for h in unfiltered if _passes(h, outlet, lang, start, end)]
            assert [h.id for h in _all(db, filters)] == expected, filters
            with db.read_session() as session:
                assert search_queries.count(session, filters) == (len(expected), False), filters
                facets = search_queries.facet_counts(session, filters)
            assert sum(f.count for f in facets["outlet"]) == len(expected), filters
            checked += bool(expected)
    return checked


def test_filtered_search_equals_the_unfiltered_search_filtered_by_the_article_rows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(db)
    assert _assert_filters_equal_python(db) > 20  # not a comparison of empty lists
    # PostgreSQL: walk one row per wanted match, so the GIN bitmap way is taken too.
    monkeypatch.setattr(search_pg, "PG_WALK_PER_MATCH", 1)
    monkeypatch.setattr(search_pg, "PG_SAMPLE", 4)
    _assert_filters_equal_python(db)
    # PostgreSQL: every word common, so the filters are the indexable form, not "|| ''".
    monkeypatch.setattr(search_pg, "PG_RARE_ROWS", -1)
    _assert_filters_equal_python(db)


def test_no_query_text_matches_a_filter_token(db: Database) -> None:
    _seed(db)
    for token in filter_tokens("bbc", "en", "2024-03-09T00:00:00Z").split():
        assert _all(db, SearchFilters(q=token)) == [], token


def test_relevance_with_filters_ranks_only_filtered_matches(db: Database) -> None:
    _seed(db)
    unfiltered = _all(db, SearchFilters(q="中国"))
    with db.read_session() as session:
        page = search_queries.search(session, SearchFilters(q="中国", outlet="bbc", sort="relevance", limit=200))
    assert sorted(h.id for h in page.hits) == sorted(h.id for h in unfiltered if h.outlet == "bbc")


def test_the_migration_gives_an_existing_index_its_filters(db_url: str) -> None:
    db = open_database(db_url)
    _seed(db)
    config = _alembic_config(db_url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015_shared_crawl_state")
    with db.engine.connect() as connection:
        assert not search.has_filters(connection)  # the index as 0012 built it, articles in it
        if db.is_sqlite:
            found = connection.execute(text(f"SELECT rowid FROM {search.SEARCH_TABLE}"
                                            f" WHERE {search.SEARCH_TABLE} MATCH '\"中国\"'")).all()
            assert found
    db.dispose()
    again = open_database(db_url)  # upgrades: 0016 adds the filters to the stored entries
    with again.engine.connect() as connection:
        assert search.has_filters(connection)
    assert _assert_filters_equal_python(again) > 20
    again.dispose()


def test_day_cover_is_exactly_the_range() -> None:
    rng = random.Random(7)
    days = [date(1999, 12, 31), date(2000, 1, 1), date(2024, 2, 29), date(2024, 12, 31), date(2025, 1, 1),
            *(date(1990, 1, 1) + timedelta(days=rng.randrange(20000)) for _ in range(300))]
    bounds = [None, date(2000, 1, 1), date(2024, 2, 28), date(2024, 3, 1), date(2024, 12, 31), date(2031, 6, 15)]
    for start, end in itertools.product(bounds, bounds):
        if start is None and end is None:
            continue
        cover = set(day_cover(start, end))
        assert len(cover) <= 120
        for day in days:
            tokens = set(filter_tokens("x", "y", day.isoformat() + "T12:00:00Z").split())
            inside = (start is None or day >= start) and (end is None or day <= end)
            assert bool(tokens & cover) == inside, (start, end, day)
    assert day_cover(date(2024, 3, 2), date(2024, 3, 1)) == []
    assert day_cover(date(2024, 3, 1), date(2024, 3, 31)) == [DAY + "202403"]
    assert not [t for t in filter_tokens("x", "y", "2024-13-01").split() if t.startswith(DAY)]
    assert not [t for t in filter_tokens("x", "y", None).split() if t.startswith(DAY)]
