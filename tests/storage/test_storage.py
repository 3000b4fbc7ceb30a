"""storage.record: new, unchanged, changed and duplicate sightings; runs and their counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.db import open_database
from storage.models import ArticleRecord, ArticleVersion, CrawlRun, Sighting
from storage.queries import versions
from storage.repository import Store
from tests.support.factories import BODY, make_article


@pytest.fixture
def store(db_url: str) -> Store:
    db = open_database(db_url)
    yield Store(db)
    db.dispose()


def _count(store: Store, model: type) -> int:
    with store.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_same_article_twice_is_one_record_one_version(store: Store) -> None:
    run1 = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="replay")
    first = store.record(make_article(), run1)
    run2 = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="replay")
    second = store.record(make_article(fetched_at="2023-11-09T16:00:00+00:00"), run2)

    assert (first.status, first.version) == ("new", 1)
    assert (second.status, second.version, second.article_id) == ("unchanged", 1, first.article_id)
    assert _count(store, ArticleRecord) == 1
    assert _count(store, ArticleVersion) == 1
    with store.db.read_session() as session:
        row = session.get_one(ArticleRecord, first.article_id)
        assert row.last_seen_at > row.first_seen_at
        assert session.scalar(select(func.count()).where(Sighting.run_id == run2)) == 1


def test_edit_makes_a_new_version_and_keeps_the_old(store: Store) -> None:
    run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    original = store.record(make_article(), run)
    edited_body = BODY.replace("越来越重要", "日益重要")
    edited = store.record(make_article(body=edited_body), run)
    retitled = store.record(make_article(body=edited_body, title="张又侠会见普京"), run)

    assert (edited.status, edited.version) == ("changed", 2)
    assert (retitled.status, retitled.version) == ("changed", 3)
    with store.db.read_session() as session:
        history = versions(session, original.article_id)
        row = session.get_one(ArticleRecord, original.article_id)
    assert [v.version for v in history] == [1, 2, 3]
    assert history[0].body == BODY and history[1].body == edited_body
    assert row.title == "张又侠会见普京" and row.version_count == 3


def test_whitespace_only_difference_is_not_an_edit(store: Store) -> None:
    store.record(make_article(), None)
    reflowed = "\n".join("  " + line.replace("。", "。 ") for line in BODY.splitlines())
    outcome = store.record(make_article(body=reflowed), None)
    assert outcome.status == "unchanged"


def test_exact_copy_under_another_url_is_a_duplicate_of_the_first(store: Store) -> None:
    original = store.record(make_article("https://www.rfi.fr/cn/a/1"), None)
    copy = store.record(make_article("https://mirror.example.cn/x.html", title="转载", outlet="portal"), None)
    copy_of_copy = store.record(make_article("https://other.example.cn/y", outlet="portal"), None)

    assert copy.status == "duplicate"
    assert (copy.duplicate_of, copy.similarity) == (original.article_id, 1.0)
    assert copy_of_copy.duplicate_of == original.article_id
    assert _count(store, ArticleRecord) == 3


def test_run_counts_come_from_what_the_run_recorded(store: Store) -> None:
    run = store.start_run(spiders=["rfi", "bbc"], outlets=["rfi", "bbc"], mode="replay")
    store.record(make_article("https://www.rfi.fr/cn/a/1"), run)
    store.record(make_article("https://www.rfi.fr/cn/a/1"), run)
    store.record(make_article("https://www.rfi.fr/cn/a/2", body=BODY + "\n另一段。"), run)  # a near copy
    store.record(make_article("https://www.rfi.fr/cn/a/3", body="完全不同的另一篇报道。" * 3), run)
    store.record_problem(run, kind="dropped", url="fixture:rfi/empty.txt", reason="empty file")
    store.record_problem(run, kind="error", url="https://www.rfi.fr/x", reason="download failed")
    finished = store.finish_run(run, status="finished")

    assert finished.status == "finished" and finished.finished_at is not None
    assert (finished.new_count, finished.unchanged_count, finished.duplicate_count) == (2, 1, 1)
    assert finished.changed_count == 0
    assert (finished.dropped_count, finished.error_count) == (1, 1)


def test_run_of_a_dead_process_is_marked_interrupted(store: Store) -> None:
    run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    with store.db.write_session() as session, session.begin():
        session.get_one(CrawlRun, run).pid = 2**22 + 12345  # no such process
    assert store.mark_interrupted_runs() == [run]
    with store.db.read_session() as session:
        row = session.get_one(CrawlRun, run)
    assert row.status == "interrupted" and "killed" in row.message


def test_stale_heartbeat_on_another_host_is_interrupted(store: Store) -> None:
    run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    with store.db.write_session() as session, session.begin():
        row = session.get_one(CrawlRun, run)
        row.host = "elsewhere"
        row.heartbeat_at = datetime.now(UTC) - timedelta(hours=1)
    assert store.mark_interrupted_runs(stale_after_s=600) == [run]


def test_live_run_is_left_alone(store: Store) -> None:
    run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    assert store.mark_interrupted_runs(is_alive=lambda pid: True) == []
    with store.db.read_session() as session:
        assert session.get_one(CrawlRun, run).status == "running"


def test_another_outlet_reading_the_same_page_makes_no_version(store: Store) -> None:
    first = store.record(make_article(outlet="rfi"), None)
    other = store.record(make_article(outlet="portal", body=BODY + "\n转载页面的附加文字。"), None)
    assert (other.status, other.article_id, other.version) == ("unchanged", first.article_id, 1)
