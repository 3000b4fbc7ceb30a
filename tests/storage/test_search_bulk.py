"""storage.bulk (the benchmark's loader) builds a database that searches exactly like one built
by Store.record; PostgreSQL's windowed newest-first search, widened, finds what a scan finds.
SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import text

from crawler.items import Article
from storage import search_pg, search_queries
from storage.bulk import BulkItem, bulk_record, deferred_search_index
from storage.db import Database, open_database
from storage.repository import Store
from storage.search_queries import SearchFilters
from storage.textsearch import index_text, matches, parse_query, tokenize
from tests.support.factories import make_article

SENTENCES = [
    "普京今天在莫斯科会见了代表团。", "中国和俄罗斯举行了军事演习。", "經濟數據顯示增長放緩。",
    "The G20峰会 opened in Rio today.", "北京方面没有回应。", "Markets closed higher on Friday.",
    "国防部例行记者会在周四举行。", "台湾的记者报导了这件事。", "Putin met the Chinese general.",
    "中国外交部发言人回答了提问。", "莫斯科的天气很冷。", "双方同意继续合作。",
]
QUERIES = ["普京", "中国", "军事", "經濟", "putin", "峰会", "g20", "中国 -台湾", '"met the"', "侠", "莫", "会见 代表团"]


def _articles(n: int = 36) -> list[Article]:
    out = []
    for i in range(n):
        # Every article its own mix of sentences (and a number), so none is a near copy of another.
        rng = random.Random(i)
        own = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(80))  # unlike any other article
        body = "\n".join([own, *(SENTENCES[(i * k + k) % len(SENTENCES)] for k in range(1, 2 + i % 5))])
        kind = {0: {}, 1: {"page_kind": "video"}, 2: {"page_kind": "image_post"}}[i % 3 if i % 4 == 0 else 0]
        language = "en" if i % 5 == 0 else "zh"
        article = make_article(
            f"https://{['rfi', 'bbc', 'ecns'][i % 3]}.example/{i}", outlet=["rfi", "bbc", "ecns"][i % 3],
            title=f"标题{i} {SENTENCES[i % len(SENTENCES)][:6]}", body=body,
            published_at=None if i % 7 == 0 else f"2024-03-{1 + i % 9:02d}T08:00:00Z", extra=kind,
        )
        out.append(article.replace(language=language) if language != "zh" else article)
    return out


@pytest.fixture
def second_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Another empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'bulk.db'}"
    return cast(Callable[[], str], request.getfixturevalue("pg_databases"))()


def _answers(db: Database) -> list[object]:
    out: list[object] = []
    with db.read_session() as session:
        for q in QUERIES:
            for extra in ({}, {"outlet": "bbc"}, {"kind": "video"}, {"kind": "article"}, {"sort": "relevance"}):
                filters = SearchFilters(q=q, limit=5, **extra)  # type: ignore[arg-type]
                page = search_queries.search(session, filters, with_facets=True)
                hits = [(h.id, h.title, h.url, h.outlet, h.language, h.published_at, h.version_count, h.body)
                        for h in page.hits]
                out.append((q, extra, hits, page.next_after, page.facets, search_queries.count(session, filters)))
    return out


def test_bulk_built_database_answers_like_one_built_by_record(db_url: str, second_url: str) -> None:
    articles = _articles()
    recorded, bulk = open_database(db_url), open_database(second_url)
    try:
        store = Store(recorded)
        for article in articles:
            outcome = store.record(article, None)
            assert outcome.status == "new", article.url  # no article is a copy of another
        now = datetime.now(UTC)
        # Half with the caller's tokens (as the benchmark passes them), half computed.
        items = [BulkItem(a, now, index_text(a.title, a.body) if i % 2 else None) for i, a in enumerate(articles)]
        with deferred_search_index(bulk):
            assert bulk_record(bulk, items[:20]) == list(range(1, 21))
            assert bulk_record(bulk, items[20:]) == list(range(21, len(items) + 1))
        answers = _answers(recorded)
        assert answers == _answers(bulk)
        assert sum(1 for a in answers if a[2]) > 40  # the queries do find things
        if not recorded.is_sqlite:
            def vectors(db: Database) -> list[object]:
                with db.engine.connect() as connection:
                    return connection.execute(text("SELECT article_id, tsv::text FROM article_search ORDER BY 1")).all()
            assert vectors(recorded) == vectors(bulk)
        # Recording continues after bulk-loaded ids (the PostgreSQL sequence was moved on).
        later = Store(bulk).record(make_article("https://rfi.example/later", body="后来的文章提到了普京。"), None)
        assert later.article_id == len(articles) + 1
    finally:
        recorded.dispose()
        bulk.dispose()


def test_newest_first_pages_equal_a_scan_whatever_the_window(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL walks the key a bounded way, then sorts the GIN bitmap's matches: either way
    the pages are what a scan finds (on SQLite the same assertions hold for the FTS5 walk)."""
    # Walk at most one row per wanted match, sample 4 rows: both PostgreSQL ways get used.
    monkeypatch.setattr(search_pg, "PG_WALK_PER_MATCH", 1)
    monkeypatch.setattr(search_pg, "PG_SAMPLE", 4)
    articles = _articles(40)
    db = open_database(db_url)
    try:
        bulk_record(db, [BulkItem(a, datetime.now(UTC)) for a in articles])
        tokens = {i + 1: tokenize(a.title) + tokenize(a.body) for i, a in enumerate(articles)}
        with db.read_session() as session:
            for q in QUERIES:
                expected = sorted((i for i, t in tokens.items() if matches(parse_query(q), t)), reverse=True)
                seen: list[int] = []
                after = None
                while True:
                    page = search_queries.search(session, SearchFilters(q=q, limit=3, after=after))
                    seen += [h.id for h in page.hits]
                    if page.next_after is None:
                        break
                    after = page.next_after
                assert seen == expected, q
                facets = search_queries.facet_counts(session, SearchFilters(q=q))
                assert sum(f.count for f in facets["outlet"]) == len(expected), q
    finally:
        db.dispose()
