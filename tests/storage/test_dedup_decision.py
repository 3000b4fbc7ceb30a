"""The near-duplicate decision and the changed/unchanged decision, through a real Store.

Each row is a form copies take on real sites (a reprint with related links and a
footer, a truncated reprint, a reprint of a reprint, full-width digits); the texts
are the bundled seed articles (tests/storage/test_similarity.py reads them).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from scrapy.settings import Settings
from sqlalchemy import func, select

from newswatch.runs import dedup_policy
from storage import dedup, similarity
from storage.db import open_database
from storage.dedup import DedupPolicy, body_hash, fingerprint
from storage.models import ArticleRecord, ArticleSignature, MinhashBand
from storage.repository import Store
from tests.storage.test_similarity import SEEDS, _sentences
from tests.support.factories import make_article

RFI = SEEDS["rfi"]  # 18 sentences of Chinese
WECHAT = SEEDS["wechat"]  # another Chinese article, unrelated to RFI's
PORTAL = SEEDS["portal"]
FOOTER = "\n版权声明：本文来源于网络，版权归原作者所有。"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = open_database(db_url)
    yield Store(db)
    db.dispose()


def _policy_store(db_url: str, threshold: float) -> Store:
    return Store(open_database(db_url), DedupPolicy(threshold=threshold))


def _record(store: Store, n: int, body: str, outlet: str = "portal"):
    return store.record(make_article(f"https://site{n}.example.cn/a.html", body=body, outlet=outlet), None)


def _containment(a: str, b: str) -> float:
    return similarity.estimated_containment(similarity.minhash(a), similarity.minhash(b))


# RFI's text followed by 80 % of WeChat's: RFI is wholly inside it (containment 1.0),
# WeChat mostly (about 0.93).  Both are copies by the default threshold.
RFI_PLUS_MOST_OF_WECHAT = RFI + "\n" + "".join(_sentences(WECHAT)[: int(len(_sentences(WECHAT)) * 0.8)])


def test_the_rows_measure_what_the_tests_say() -> None:
    # The premises of the tests below, so a change of the scheme shows up here first.
    assert _containment(RFI, RFI_PLUS_MOST_OF_WECHAT) == 1.0
    assert 0.9 < _containment(WECHAT, RFI_PLUS_MOST_OF_WECHAT) < 0.95
    assert _containment(RFI, WECHAT) == 0.0


def test_the_best_candidate_wins_not_the_first(store: Store) -> None:
    weaker = _record(store, 1, WECHAT)  # recorded first: the lower id
    stronger = _record(store, 2, RFI)
    copy = _record(store, 3, RFI_PLUS_MOST_OF_WECHAT)
    assert (weaker.status, stronger.status) == ("new", "new")
    assert (copy.status, copy.duplicate_of, copy.similarity) == ("duplicate", stronger.article_id, 1.0)


def test_equal_candidates_go_to_the_earliest(store: Store) -> None:
    first = _record(store, 1, RFI)
    second = _record(store, 2, RFI + FOOTER)  # a copy of the first
    assert second.duplicate_of == first.article_id
    later = _record(store, 3, RFI + FOOTER + "\n责任编辑：王五")
    assert later.duplicate_of == first.article_id


def test_a_copy_of_a_copy_links_to_the_original(store: Store) -> None:
    sentences = _sentences(RFI)
    original = _record(store, 1, RFI)
    # A reprint: the first 90 % of the text plus another page's related-links block ...
    reprint = "".join(sentences[: int(len(sentences) * 0.9)]) + "\n" + PORTAL[:600]
    copy = _record(store, 2, reprint)
    # ... and a reprint of that reprint: closer to the copy than to the original.
    assert _containment(reprint + FOOTER, reprint) > _containment(reprint + FOOTER, RFI)
    copy_of_copy = _record(store, 3, reprint + FOOTER)
    exact_copy_of_copy = _record(store, 4, reprint)

    assert (copy.status, copy.duplicate_of) == ("duplicate", original.article_id)
    assert (copy_of_copy.status, copy_of_copy.duplicate_of) == ("duplicate", original.article_id)
    assert copy_of_copy.similarity is not None and copy_of_copy.similarity > 0.99
    assert (exact_copy_of_copy.duplicate_of, exact_copy_of_copy.similarity) == (original.article_id, 1.0)


def test_different_articles_are_not_copies(store: Store) -> None:
    outcomes = [_record(store, n, SEEDS[name]) for n, name in enumerate(SEEDS)]
    assert [o.status for o in outcomes] == ["new"] * len(SEEDS)
    assert all(o.duplicate_of is None and o.similarity is None for o in outcomes)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (0.9, "duplicate"),  # under the measured ~0.93: a copy
        (0.95, "new"),  # over it: not a copy
        (similarity.THRESHOLD, "duplicate"),
    ],
)
def test_the_threshold_decides(db_url: str, threshold: float, expected: str) -> None:
    store = _policy_store(db_url, threshold)
    try:
        original = _record(store, 1, WECHAT)
        copy = _record(store, 2, RFI_PLUS_MOST_OF_WECHAT)
        assert copy.status == expected
        if expected == "duplicate":
            assert copy.duplicate_of == original.article_id
            assert copy.similarity == round(_containment(WECHAT, RFI_PLUS_MOST_OF_WECHAT), 4)
    finally:
        store.db.dispose()


def test_the_threshold_setting_reaches_the_policy() -> None:
    assert dedup_policy(Settings({"NEWSWATCH_NEAR_DUPLICATE_THRESHOLD": "0.95"})).threshold == 0.95
    assert dedup_policy(Settings({"NEWSWATCH_NEAR_DUPLICATE_THRESHOLD": 0.7})).threshold == 0.7
    assert dedup_policy(Settings({"NEWSWATCH_NEAR_DUPLICATE_THRESHOLD": ""})).threshold == similarity.THRESHOLD
    assert dedup_policy(Settings({})).threshold == similarity.THRESHOLD
    assert DedupPolicy().threshold == similarity.THRESHOLD


def test_the_threshold_environment_variable_reaches_the_shipped_settings() -> None:
    # The project settings read NEWSWATCH_* from the environment when first imported:
    # a fresh process, as `newswatch crawl` and `scrapy crawl` are.
    code = (
        "from newswatch.runs import dedup_policy, project_settings\n"
        "print(dedup_policy(project_settings()).threshold)"
    )
    env = {**os.environ, "NEWSWATCH_NEAR_DUPLICATE_THRESHOLD": "0.93"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "0.93", out.stderr


# -- the body hash: exact copies whatever their Unicode form ---------------------------

BODY_HASH_EQUAL = [
    ("２０２４年ＧＤＰ增长５％", "2024年GDP增长5%"),  # full-width letters and digits (NFKC)
    ("北京，上海：广州！", "北京,上海:广州!"),  # full-width punctuation
    ("Cafe\u0301 de Flore", "Café de Flore"),  # decomposed accent
    ("ﬁnance", "finance"),  # ligature
    ("第一段。\n\n  第二段。\t", "第一段。第二段。"),  # whitespace anywhere
    ("a\u3000b\u00a0c", "abc"),  # ideographic and no-break spaces
]


@pytest.mark.parametrize(("a", "b"), BODY_HASH_EQUAL)
def test_body_hash_folds_unicode_forms_and_whitespace(a: str, b: str) -> None:
    assert body_hash(a) == body_hash(b)


def test_body_hash_is_the_sha256_of_the_folded_text() -> None:
    # Stored hashes must stay comparable across versions of this code.
    assert body_hash(" Ａ b\n") == hashlib.sha256(b"Ab").hexdigest()
    assert body_hash("abc") != body_hash("abd")
    assert body_hash("Abc") != body_hash("abc")  # case is content


def test_full_width_reprint_is_an_exact_copy(store: Store) -> None:
    body = "２０２４年ＧＤＰ增长５％。" + RFI
    folded = "2024年GDP增长5%。" + RFI
    original = _record(store, 1, folded)
    copy = _record(store, 2, body)
    assert (copy.status, copy.duplicate_of, copy.similarity) == ("duplicate", original.article_id, 1.0)


def test_a_short_text_matches_only_an_exact_copy(store: Store) -> None:
    short = "新华社北京5月1日电。"
    fp = fingerprint(short)
    assert fp.band_keys == () and fp.signature_bytes is None
    assert fingerprint(RFI).signature_bytes is not None and len(fingerprint(RFI).band_keys) == similarity.BANDS
    first = _record(store, 1, short)
    exact = _record(store, 2, short)
    near = _record(store, 3, short + "记者张三")
    assert (exact.status, exact.duplicate_of) == ("duplicate", first.article_id)
    assert (near.status, near.duplicate_of) == ("new", None)


def test_find_original_never_returns_the_article_itself(store: Store) -> None:
    only = _record(store, 1, RFI)
    with store.db.read_session() as session:
        assert dedup.find_original(session, only.article_id, fingerprint(RFI), DedupPolicy()) is None
        other = dedup.find_original(session, only.article_id + 1, fingerprint(RFI + FOOTER), DedupPolicy())
    assert other == dedup.Match(only.article_id, other.similarity) and other.similarity > 0.95


# -- changed or unchanged -----------------------------------------------------------


def _rows(store: Store, model: type, article_id: int) -> int:
    with store.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.article_id == article_id))


def test_an_edit_replaces_the_fingerprint(store: Store) -> None:
    url = "https://www.rfi.fr/cn/a/1"
    first = store.record(make_article(url, body=RFI, outlet="rfi"), None)
    assert _rows(store, MinhashBand, first.article_id) == similarity.BANDS
    edited = store.record(make_article(url, body=WECHAT, outlet="rfi"), None)
    assert (edited.status, edited.article_id, edited.version) == ("changed", first.article_id, 2)
    assert _rows(store, MinhashBand, first.article_id) == similarity.BANDS
    assert _rows(store, ArticleSignature, first.article_id) == 1
    # Copies are now judged against the new text only.
    of_old = _record(store, 2, RFI + FOOTER)
    of_new = _record(store, 3, WECHAT + FOOTER)
    exact_new = _record(store, 4, WECHAT)
    assert (of_old.status, of_old.duplicate_of) == ("new", None)
    assert (of_new.status, of_new.duplicate_of) == ("duplicate", first.article_id)
    assert exact_new.duplicate_of == first.article_id


def test_changed_and_unchanged(store: Store) -> None:
    url = "https://www.rfi.fr/cn/a/9"
    new = store.record(make_article(url, body=RFI, outlet="rfi"), None)
    same = store.record(make_article(url, body=RFI, outlet="rfi"), None)
    retitled = store.record(make_article(url, body=RFI, outlet="rfi", title="新标题"), None)
    redated = store.record(
        make_article(url, body=RFI, outlet="rfi", title="新标题", published_at="2023-11-09"), None
    )
    other_outlet = store.record(make_article(url, body=WECHAT, outlet="portal"), None)
    by_canonical = store.record(
        make_article("https://www.rfi.fr/cn/a/9?utm=x", canonical_url=url, body=RFI, outlet="rfi",
                     title="新标题", published_at="2023-11-09"),
        None,
    )
    assert [(o.status, o.version) for o in (new, same, retitled, redated, other_outlet, by_canonical)] == [
        ("new", 1), ("unchanged", 1), ("changed", 2), ("changed", 3), ("unchanged", 3), ("unchanged", 3),
    ]
    assert {o.article_id for o in (same, retitled, redated, other_outlet, by_canonical)} == {new.article_id}
    with store.db.read_session() as session:
        row = session.get_one(ArticleRecord, new.article_id)
        assert (row.title, row.version_count, row.url) == ("新标题", 3, "https://www.rfi.fr/cn/a/9?utm=x")


def test_a_duplicate_keeps_its_link_through_later_sightings(store: Store) -> None:
    original = _record(store, 1, RFI)
    copy = _record(store, 2, RFI + FOOTER)
    again = _record(store, 2, RFI + FOOTER)
    edited = _record(store, 2, RFI + FOOTER + "\n（完）")
    assert (again.status, again.duplicate_of, again.similarity) == ("unchanged", original.article_id, copy.similarity)
    assert (edited.status, edited.version, edited.duplicate_of) == ("changed", 2, original.article_id)
