"""The full-text index: kept by Store.record, built by the migration, rebuilt on a tokenizer change,
and queried with user input that is never query syntax.  SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage import search, search_queries
from storage.bulk import BulkItem, bulk_record
from storage.db import Database, DatabaseError, _alembic_config, open_database, open_readonly
from storage.repository import Store
from storage.search_queries import SearchFilters
from storage.textsearch import TOKENIZER_VERSION
from tests.support.factories import make_article


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


def _ids(db: Database, q: str, **filters: object) -> list[int]:
    with db.read_session() as session:
        return [h.id for h in search_queries.search(session, SearchFilters(q=q, **filters)).hits]  # type: ignore[arg-type]


def _seed(db: Database) -> dict[str, int]:
    store = Store(db)
    ids = {}
    ids["rfi"] = store.record(make_article("https://rfi.example/1"), None).article_id
    ids["trad"] = store.record(
        make_article("https://rfi.example/2", title="國防新聞", body="中俄軍事合作進一步加強。台灣的記者報導了這件事。" * 3,
                     published_at="2023-11-09T08:00:00Z"),
        None,
    ).article_id
    ids["en"] = store.record(
        make_article("https://bbc.example/3", outlet="bbc", title="Putin meets Zhang",
                     body="Vladimir Putin met the Chinese general in Moscow. The G20峰会 was mentioned. " * 3,
                     published_at="2023-11-10T10:00:00Z"),
        None,
    ).article_id
    return ids


def test_record_indexes_new_articles_for_chinese_and_english_words(db: Database) -> None:
    ids = _seed(db)
    assert _ids(db, "普京") == [ids["rfi"]]
    assert _ids(db, "军事") == [ids["trad"], ids["rfi"]]  # newest first
    assert _ids(db, "軍事") == [ids["trad"], ids["rfi"]]  # traditional finds simplified
    assert _ids(db, "PUTIN") == [ids["en"]]
    assert _ids(db, "峰会") == [ids["en"]]
    assert _ids(db, "军事合作") == [ids["trad"], ids["rfi"]]  # a phrase of bigrams
    assert _ids(db, "军事 -台湾") == [ids["rfi"]]
    assert _ids(db, '"met the chinese"') == [ids["en"]]
    assert _ids(db, '"the met"') == []
    assert _ids(db, "侠") == [ids["rfi"]]  # one Chinese character: a prefix of the bigrams
    assert _ids(db, "普京 putin") == []


def test_filters_and_keyset_pages(db: Database) -> None:
    ids = _seed(db)
    assert _ids(db, "军事", outlet="rfi", date_from=date(2023, 11, 9)) == [ids["trad"]]
    assert _ids(db, "", outlet="bbc") == [ids["en"]]
    with db.read_session() as session:
        first = search_queries.search(session, SearchFilters(q="军事", limit=1))
        assert [h.id for h in first.hits] == [ids["trad"]] and first.next_after == ids["trad"]
        second = search_queries.search(session, SearchFilters(q="军事", limit=1, after=first.next_after))
        assert [h.id for h in second.hits] == [ids["rfi"]] and second.next_after is None
        facets = search_queries.facet_counts(session, SearchFilters(q="莫斯科 OR putin"))
        assert facets["outlet"] == []  # OR is a word here, not an operator
        facets = search_queries.facet_counts(session, SearchFilters(q="军事"))
        assert [(f.value, f.count) for f in facets["outlet"]] == [("rfi", 2)]
        assert [(f.value, f.count) for f in facets["day"]] == [("2023-11-09", 1), ("2023-11-08", 1)]
        assert search_queries.count(session, SearchFilters(q="军事")) == (2, False)
        relevance = search_queries.search(session, SearchFilters(q="普京", sort="relevance"))
        assert [h.id for h in relevance.hits] == [ids["rfi"]]


def test_a_new_version_replaces_the_indexed_text(db: Database) -> None:
    store = Store(db)
    article_id = store.record(make_article(title="会见", body="第一版提到了普京和北京。" * 5), None).article_id
    store.record(make_article(title="会见", body="第二版只提到了莫斯科。" * 5), None)
    assert _ids(db, "普京") == []
    assert _ids(db, "莫斯科") == [article_id]
    store.record(make_article(title="会见", body="第三版又提到了普京。" * 5), None)
    assert _ids(db, "普京") == [article_id]
    assert _ids(db, "莫斯科") == []


@pytest.mark.parametrize(
    "hostile",
    ['"', '""', "'", "\\", "*", "NEAR(a b)", "title:普京", "a OR b", "^x", "-", "- -", "(", ")",
     "!!", "&|", "普京' OR '1'='1", 'x" OR "y', "普京:*", "\x00", "a\u200bb", "😀", "-普京"],
)
def test_hostile_queries_are_only_text(db: Database, hostile: str) -> None:
    _seed(db)
    with db.read_session() as session:
        page = search_queries.search(session, SearchFilters(q=hostile), with_facets=True)
        search_queries.count(session, SearchFilters(q=hostile))
    if hostile == "普京' OR '1'='1":
        assert len(page.hits) == 0  # the words 1 and or are not in any text
    if hostile == "普京:*":
        assert len(page.hits) == 1


def test_migration_builds_the_index_for_an_existing_database(db_url: str) -> None:
    db = open_database(db_url)
    ids = _seed(db)
    config = _alembic_config(db_url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    db.dispose()
    again = open_database(db_url)  # upgrades: the migration indexes the stored articles
    assert _ids(again, "普京") == [ids["rfi"]]
    again.dispose()


def test_a_tokenizer_version_change_rebuilds_the_index(db_url: str) -> None:
    db = open_database(db_url)
    ids = _seed(db)
    with db.engine.begin() as connection:
        connection.execute(text(f"UPDATE {search.STATE_TABLE} SET value = value - 1"))
        if db.is_sqlite:
            connection.execute(text(f"INSERT INTO {search.SEARCH_TABLE}({search.SEARCH_TABLE}) VALUES ('delete-all')"))
        else:
            connection.execute(text(f"DELETE FROM {search.SEARCH_TABLE}"))
    assert _ids(db, "普京") == []
    db.dispose()
    again = open_database(db_url)
    assert _ids(again, "普京") == [ids["rfi"]]
    with again.engine.connect() as connection:
        assert search.stored_version(connection) == TOKENIZER_VERSION
    again.dispose()


def test_read_only_database_refuses_writes(db_url: str) -> None:
    db = open_database(db_url)
    _seed(db)
    db.dispose()
    readonly = open_readonly(db_url)
    assert _ids(readonly, "普京")
    with pytest.raises(DBAPIError), readonly.read_session() as session:
        session.execute(text("DELETE FROM articles"))
        session.commit()
    readonly.dispose()


def test_read_only_open_of_a_missing_sqlite_file_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseError, match="no SQLite database"):
        open_readonly(f"sqlite:///{tmp_path / 'nothing.db'}")


def test_fts5_expression_quotes_everything() -> None:
    from storage.textsearch import parse_query

    assert search.fts5_match(parse_query('军事合作 -台湾 "a b" 侠')) == (
        '(tokens : (("军事 事合 合作" AND "a b" AND "侠"*) NOT "台湾"))'
    )
    expression, params = search.pg_tsquery(parse_query("军事 -台湾 侠"))
    assert ":q0" in expression and params == {"q0": "军事", "q1": "'侠':*", "q2": "台湾"}


def test_the_count_stops_at_its_cap_and_says_so(db: Database) -> None:
    """Exactly COUNT_CAP matches are counted exactly; one more is "COUNT_CAP+" (and so on both databases)."""
    cap = search_queries.COUNT_CAP
    seen = datetime(2024, 3, 1, tzinfo=UTC)
    bulk_record(db, [BulkItem(make_article(f"https://cap.example/{i}", title=f"会见{i}", body=f"普京第{i}次会见。" * 3), seen)
                     for i in range(cap)])
    bulk_record(db, [BulkItem(make_article("https://cap.example/other", title="另一篇", body="与此无关的一篇文章。" * 3), seen)])

    def counted(q: str) -> tuple[int | None, bool]:
        with db.read_session() as session:
            page = search_queries.search(session, SearchFilters(q=q, limit=10), with_count=True)
        return page.total, page.total_capped

    assert counted("普京") == (cap, False)
    bulk_record(db, [BulkItem(make_article("https://cap.example/one-more", title="又一次", body="普京又一次会见。" * 3), seen)])
    assert counted("普京") == (cap, True)
    assert counted("无关") == (1, False)


def _index_rows(db: Database) -> list[object]:
    """Every entry of the index as the engine holds it: FTS5's (term, article, column,
    position) instances (a contentless table keeps no text), PostgreSQL's rows."""
    with db.engine.begin() as connection:
        if db.is_sqlite:
            connection.execute(text(
                f"CREATE VIRTUAL TABLE temp.search_terms USING fts5vocab(main, {search.SEARCH_TABLE}, 'instance')"
            ))
            rows = connection.execute(text("SELECT term, doc, col, offset FROM temp.search_terms ORDER BY 2, 3, 4, 1")).all()
            connection.execute(text("DROP TABLE temp.search_terms"))
            return list(rows)
        return list(connection.execute(text(
            f"SELECT article_id, tsv::text, outlet, language, day FROM {search.SEARCH_TABLE} ORDER BY 1"
        )).all())


def test_a_rebuild_indexes_in_batches_what_recording_indexed(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rebuild writes a batch of entries at a time; the index it leaves is the one that
    recording (new articles, then edits replacing their entries) left."""
    monkeypatch.setattr(search, "REBUILD_BATCH", 3)  # several batches, the last one short
    store = Store(db)
    _seed(db)
    for i in range(7):
        store.record(make_article(
            f"https://bbc.example/r{i}", outlet=["bbc", "rfi"][i % 2], title=f"第{i}篇 Talks {i}",
            body=f"第{i}篇文章提到了北京和Moscow。" * 3 + ("普京会见了代表团。" if i % 3 == 0 else "Markets closed higher."),
            published_at=None if i == 4 else f"2024-03-0{1 + i}T08:00:00Z",
        ), None)
    # Edits: each replaces its article's entry (its words, its date) with the new version's.
    edited = store.record(make_article("https://bbc.example/r1", outlet="rfi", title="第1篇 改版",
                                       body="改版后只提到了莫斯科。" * 3, published_at="2024-04-01T08:00:00Z"), None)
    assert edited.status == "changed"
    assert store.record(make_article("https://bbc.example/r2", outlet="bbc", title="第2篇", body="第二次改版提到了普京。" * 3,
                                     published_at=None), None).status == "changed"
    queries = [("普京", {}), ("莫斯科", {}), ("moscow", {}), ("北京", {"outlet": "bbc"}), ("改版", {"lang": "zh"}),
               ("北京", {"date_from": date(2024, 3, 3), "date_to": date(2024, 3, 6)}), ("talks -markets", {}), ("", {})]
    recorded_rows = _index_rows(db)
    recorded_answers = [_ids(db, q, **filters) for q, filters in queries]
    assert all(recorded_answers[:6])  # the queries do find things

    with db.engine.begin() as connection:
        assert search.rebuild(connection) == 10

    assert _index_rows(db) == recorded_rows
    assert [_ids(db, q, **filters) for q, filters in queries] == recorded_answers
