"""Real saved pages (../shared/corpus/pages) give their reviewed summaries.

Each page has ``tests/goldens/corpus/<folder>__<stem>.expected.json``: title, date,
author, language, canonical URL and ``extra`` exactly; the first and last 40
characters of the body exactly; the body length within 10%.  Pages WeChat
serves instead of an article must raise ``NotAnArticle``.  A golden's ``note``
records where our output is knowingly imperfect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.parsing import NotAnArticle, parse
from tests.support.parser_cases import (
    CORPUS,
    EDGE,
    LENGTH_TOLERANCE,
    bigram_f1,
    corpus_golden_path,
    corpus_page,
    corpus_pages,
)

if not (CORPUS / "pages").is_dir():
    pytest.skip(f"shared corpus not found at {CORPUS / 'pages'}", allow_module_level=True)

BODY_F1 = 0.9
PAGES = {f"{page.parent.name}/{page.name}": page for page in corpus_pages()}
EDGE_PAGES = [
    "wechat/wae_deleted_01.html",
    "wechat/wae_violation_01.html",
    "wechat/wae_unavailable_01.html",
    "wechat/wechatsogou_expired_link.html",
]


def _golden(page: Path) -> dict[str, Any]:
    path = corpus_golden_path(page)
    assert path.exists(), (
        f"no golden for {page.name}: run tools/bless_goldens.py --corpus and review it"
    )
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_outlet_folder_is_covered() -> None:
    counts = {
        folder: sum(1 for key in PAGES if key.startswith(f"{folder}/"))
        for folder in ("wechat", "portal", "english_state", "bbc")
    }
    assert counts == {"wechat": 21, "portal": 46, "english_state": 7, "bbc": 9}
    assert sum(1 for key in PAGES if key.startswith("rfi/")) == 1


@pytest.mark.parametrize("key", sorted(PAGES))
def test_page_matches_golden(key: str) -> None:
    page = PAGES[key]
    golden = _golden(page)
    raw, parser = corpus_page(page)
    assert (raw.url, parser) == (golden["page_url"], golden["parser"])
    if "not_an_article" in golden:
        with pytest.raises(NotAnArticle) as refusal:
            parse(raw, parser)
        assert golden["not_an_article"] in refusal.value.reason
        assert refusal.value.kind == golden["kind"]
        return
    article = parse(raw, parser)
    expected = golden["expected"]
    for field in ("title", "published_at", "author", "language", "declared_canonical_url", "extra"):
        assert getattr(article, field) == expected[field], f"{key}: field {field!r} differs"
    assert article.body[:EDGE] == expected["body_start"], f"{key}: body start differs"
    assert article.body[-EDGE:] == expected["body_end"], f"{key}: body end differs"
    low, high = (expected["body_length"] * (1 + sign * LENGTH_TOLERANCE) for sign in (-1, 1))
    assert low <= len(article.body) <= high, f"{key}: body length {len(article.body)} outside ±10%"


REVIEWED = sorted(key for key, page in PAGES.items() if "hand_check" in _golden(page))


@pytest.mark.parametrize("key", REVIEWED)
def test_hand_checked_body_is_close_and_clean(key: str) -> None:
    """Hand-checked pages: bigram F1 >= 0.9 against the reviewed text, no excluded string."""
    golden = _golden(PAGES[key])
    body = parse(*corpus_page(PAGES[key])).body
    assert bigram_f1(body, golden["body_reference"]) >= BODY_F1
    if "body" in golden.get("known_wrong", []):
        pytest.xfail(golden["note"])
    for excluded in golden["excluded"]:
        assert excluded not in body, f"{key}: excluded {excluded!r} in the body"


# Every page of the corpus that is not an article, with what it is.
NOT_ARTICLES = {
    **{f"bbc/radarflow_topic_{topic}.html": "listing" for topic in (
        "c1ez1k4emn0t", "c83plve5vmjt", "cd6qem06z92t", "cezw73jk755t", "cgvl47l38e1t",
        "cq8nqywy37yt",
    )},
    "wechat/eve-tools_wx_article_param_error.html": "error",
    "wechat/j-lab-10404_wechat_article_verify.html": "interstitial",
    "wechat/wae_deleted_01.html": "takedown",
    "wechat/wae_violation_01.html": "takedown",
    "wechat/wae_unavailable_01.html": "takedown",
    "wechat/wechatsogou_expired_link.html": "error",
}  # fmt: skip


@pytest.mark.parametrize(("key", "kind"), sorted(NOT_ARTICLES.items()))
def test_listing_error_and_check_pages_are_classified(key: str, kind: str) -> None:
    with pytest.raises(NotAnArticle) as refusal:
        parse(*corpus_page(PAGES[key]))
    assert refusal.value.kind == kind, refusal.value.reason


def test_every_other_corpus_page_is_an_article() -> None:
    for key, page in PAGES.items():
        if key not in NOT_ARTICLES and "wae_image_share" not in key:
            parse(*corpus_page(page))  # raises NotAnArticle if misclassified


@pytest.mark.parametrize("key", EDGE_PAGES)
def test_wechat_edge_pages_are_not_articles(key: str) -> None:
    raw, parser = corpus_page(PAGES[key])
    with pytest.raises(NotAnArticle):
        parse(raw, parser)


def test_two_copies_of_one_bbc_article_give_one_record() -> None:
    records = [parse(*corpus_page(PAGES[f"bbc/{name}"])) for name in (
        "goose3_bbczhongwen_2012.html", "newspaper4k_bbczhongwen_2012.html",
    )]  # fmt: skip
    assert records[0].content_hash == records[1].content_hash
    assert records[0].body == records[1].body


def test_no_page_keeps_obvious_furniture() -> None:
    furniture = (
        "分享到",
        "返回搜狐",
        "网友评论仅供其表达个人看法",
        "Copyright",
        "责任编辑：",
        "相关阅读",
        "微信扫一扫",
    )
    for key, page in PAGES.items():
        golden = _golden(page)
        if "not_an_article" in golden or "body" in golden.get("known_wrong", []):
            continue
        body = parse(*corpus_page(page)).body
        for junk in furniture:
            assert junk not in body, f"{key}: furniture {junk!r} in the body"
