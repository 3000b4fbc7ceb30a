"""What ``Store.record`` writes on each of its paths, field by field.

The outcome alone hides silent corruption: an edit recorded under the wrong run, with
the wrong change kinds, a sighting with the wrong version, a search index that still
answers for the old text, a copy that forgets its original when it is edited, a page
that came back after a takedown without its "restored" version, or a writer that loses
the race to insert an article.  Each test reads back what was stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from storage import dedup, lifecycle, search_queries
from storage.db import open_database
from storage.models import ArticleRecord, Sighting
from storage.queries import versions
from storage.repository import Outcome, Store, _serialise_same_story
from storage.search_queries import SearchFilters
from tests.support.factories import BODY, make_article

OLD_WORDS = "越来越重要"  # only in the first text
NEW_WORDS = "日益紧密"  # only in the edited text
EDITED_BODY = BODY.replace(OLD_WORDS, NEW_WORDS)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = open_database(db_url)
    yield Store(db)
    db.dispose()


def _found(store: Store, query: str) -> list[int]:
    with store.db.read_session() as session:
        return [hit.id for hit in search_queries.search(session, SearchFilters(q=query)).hits]


def _sightings(store: Store, article_id: int) -> list[tuple[int | None, int, str]]:
    with store.db.read_session() as session:
        return [
            (s.run_id, s.version, s.outcome)
            for s in session.scalars(select(Sighting).where(Sighting.article_id == article_id).order_by(Sighting.id))
        ]


def _row(store: Store, article_id: int) -> ArticleRecord:
    with store.db.read_session() as session:
        return session.get_one(ArticleRecord, article_id)


def test_a_new_article_is_stored_under_its_run_and_indexed(store: Store) -> None:
    run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="replay")
    outcome = store.record(make_article(), run)

    assert outcome == Outcome("new", outcome.article_id, 1, None, None)
    assert _row(store, outcome.article_id).first_run_id == run
    (version,) = _history(store, outcome.article_id)
    assert (version.version, version.run_id, version.changes, version.event) == (1, run, None, None)
    assert _sightings(store, outcome.article_id) == [(run, 1, "new")]
    assert _found(store, OLD_WORDS) == [outcome.article_id]


def _history(store: Store, article_id: int):  # noqa: ANN202  (a list of VersionRow)
    with store.db.read_session() as session:
        return versions(session, article_id)


@pytest.mark.parametrize(
    ("edit", "kinds"),
    [
        ({"body": EDITED_BODY}, ["body"]),
        ({"title": "张又侠会见俄总统"}, ["title"]),
        ({"published_at": "2023-11-09T08:00:00+01:00"}, ["date"]),
        ({"title": "张又侠会见俄总统", "published_at": "2023-11-09T08:00:00+01:00", "body": EDITED_BODY},
         ["title", "date", "body"]),
    ],
    ids=["body", "title", "date", "all three"],
)
def test_an_edit_is_a_version_of_its_run_with_what_changed(store: Store, edit: dict, kinds: list[str]) -> None:
    first_run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    first = store.record(make_article(), first_run)
    first_seen = _row(store, first.article_id).last_seen_at
    second_run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    edited = store.record(make_article(**edit, fetched_at="2023-11-09T16:00:00+00:00"), second_run)

    assert edited == Outcome("changed", first.article_id, 2, None, None)
    old, new = _history(store, first.article_id)
    assert (old.run_id, old.changes) == (first_run, None)
    assert (new.run_id, new.changes, new.event, new.event_reason) == (second_run, kinds, None, None)
    assert _sightings(store, first.article_id) == [(first_run, 1, "new"), (second_run, 2, "changed")]
    row = _row(store, first.article_id)
    assert (row.version_count, row.lifecycle, row.title) == (2, "live", edit.get("title", "张又侠今见普京"))
    assert row.last_seen_at > first_seen


def test_search_answers_for_the_new_text_only_after_an_edit(store: Store) -> None:
    first = store.record(make_article(title="张又侠今见普京"), None)
    store.record(make_article(title="张又侠会见俄总统", body=EDITED_BODY), None)

    assert _found(store, NEW_WORDS) == [first.article_id]
    assert _found(store, "会见俄总统") == [first.article_id]
    # Neither the old body's words nor the old title's are left in the index.
    assert _found(store, OLD_WORDS) == []
    assert _found(store, "今见") == []


def test_an_edited_copy_keeps_its_original_and_similarity(store: Store) -> None:
    original = store.record(make_article("https://www.rfi.fr/cn/a/1"), None)
    copy = store.record(make_article("https://mirror.example.cn/x.html", outlet="portal"), None)
    assert (copy.status, copy.duplicate_of, copy.similarity) == ("duplicate", original.article_id, 1.0)

    edited = store.record(make_article("https://mirror.example.cn/x.html", outlet="portal", body=EDITED_BODY), None)
    assert edited == Outcome("changed", copy.article_id, 2, original.article_id, copy.similarity)


def test_a_page_answered_again_after_its_takedown_is_restored_and_live(store: Store) -> None:
    first_run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    first = store.record(make_article(), first_run)
    removed = lifecycle.record_takedown(
        store.db, first.article_id, reason="http_404", evidence={"status": 404}, run_id=first_run, now=datetime.now(UTC)
    )
    assert removed == 2 and _row(store, first.article_id).lifecycle == "removed"

    # The same text as before the takedown: not "unchanged", a version that says it came back.
    back_run = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    back = store.record(make_article(), back_run)

    assert back == Outcome("changed", first.article_id, 3, None, None)
    restored = _history(store, first.article_id)[-1]
    assert (restored.version, restored.run_id, restored.event, restored.event_reason) == (3, back_run, "restored", "returned")
    assert restored.changes == ["cosmetic"]  # the text is the one that was taken down
    assert _row(store, first.article_id).lifecycle == "live"
    assert _sightings(store, first.article_id)[-1] == (back_run, 3, "changed")
    # Once back, the same text again is only a sighting.
    assert store.record(make_article(), back_run).status == "unchanged"


def _wait_for(db_url_engine, condition_sql: str, what: str) -> None:  # noqa: ANN001
    # The conditions look at this test's database only: tests running beside it on other
    # databases of the same server may be waiting on locks of their own.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db_url_engine.connect() as connection:
            if connection.execute(text(condition_sql)).scalar():
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.postgres
def test_a_writer_that_loses_the_insert_race_records_a_sighting_of_the_winner(pg_url: str) -> None:
    """Two writers, one new URL: the second's INSERT conflicts and it takes the first's row.

    The interleaving is forced, not hoped for: the test holds the story's advisory locks
    (the ones a writer takes right after inserting a new article), so the first writer
    waits there with its row inserted but not committed; the second writer's SELECT does
    not see that row and its INSERT waits on it.  Releasing the locks lets the first
    commit, and the second's INSERT then finds the URL taken.
    """
    store = Store(open_database(pg_url))
    article = make_article()
    gate = store.db.write_session()
    try:
        gate.begin()
        _serialise_same_story(gate, dedup.fingerprint(article.body))
        results: dict[str, Outcome | BaseException] = {}

        def write(name: str) -> None:
            try:
                results[name] = Store(store.db).record(article, None)
            except BaseException as exc:  # reported by the assertions below
                results[name] = exc

        engine = store.db.engine
        first = threading.Thread(target=write, args=("first",))
        first.start()
        _wait_for(engine, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                  " AND wait_event = 'advisory'", "the first writer to wait")
        second = threading.Thread(target=write, args=("second",))
        second.start()
        _wait_for(engine, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                  " AND wait_event = 'transactionid'",
                  "the second writer's INSERT to wait on the first's row")
    finally:
        gate.rollback()
        gate.close()
    first.join(timeout=60)
    second.join(timeout=60)

    assert isinstance(results["first"], Outcome) and isinstance(results["second"], Outcome), results
    assert (results["first"].status, results["first"].version) == ("new", 1)
    assert results["second"] == Outcome("unchanged", results["first"].article_id, 1, None, None)
    assert [outcome for _, _, outcome in _sightings(store, results["first"].article_id)] == ["new", "unchanged"]
    store.db.dispose()


def test_a_fingerprint_made_from_another_text_is_redone_and_a_matching_one_is_used(store: Store) -> None:
    article = make_article()
    # Another text, whitespace apart: the same body hash, but not this body's fingerprint.
    stale = dedup.fingerprint(article.body.replace("\n", "\n\n"))
    assert stale.body_hash == dedup.body_hash(article.body)
    assert stale.text_digest != dedup.fingerprint(article.body).text_digest
    foreign = dedup.fingerprint(EDITED_BODY)
    outcome = store.record(article, None, foreign)
    assert _row(store, outcome.article_id).body_hash == dedup.body_hash(article.body)  # redone, not the foreign one

    copy = make_article(url="https://example.com/copy", title="另一个标题")
    # A matching fingerprint with a marker body hash: used as handed over, not recomputed.
    handed = dedup.fingerprint(copy.body)
    marked = dedup.Fingerprint("f" * 64, handed.signature_bytes, handed.band_keys, handed.text_digest)
    second = store.record(copy, None, marked)
    assert _row(store, second.article_id).body_hash == "f" * 64
