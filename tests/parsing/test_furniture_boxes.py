"""Boxes named for what they are: overlays (report forms, login pop-ups), comment threads, sign-up forms.

Each class is tried on real pages of the public benchmarks (../shared/corpus/benchmark)
that carry it: the box's text leaves the tree and the article's text stays.  The
guards are tried on a real page whose article box carries such a name
("modal-enabled") and must stay.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from crawler.parsing import furniture
from crawler.parsing.decode import decode_body
from crawler.parsing.html import HtmlDocument, block_lines, load_document
from tests.support.parser_cases import CORPUS

BENCHMARK = CORPUS / "benchmark"
if not BENCHMARK.is_dir():
    pytest.skip(f"benchmark pages not found at {BENCHMARK}", allow_module_level=True)


def _page(folder: str, prefix: str) -> HtmlDocument:
    (path,) = sorted(Path(BENCHMARK, folder).glob(f"{prefix}*"))
    body = path.read_bytes()
    return load_document(decode_body(gzip.decompress(body) if path.suffix == ".gz" else body).text)


def _text(document: HtmlDocument) -> str:
    return "\n".join(block_lines(document.tree))


def test_report_form_and_login_box_leave_a_csdn_post() -> None:
    document = _page("magic_html/htmls", "71bfee3a8935")  # blog.csdn.net
    assert "选择你想要举报的内容" in _text(document)
    assert furniture.strip(document.tree) >= 2
    text = _text(document)
    for overlay in ("选择你想要举报的内容", "内容涉黄", "登录后您可以享受以下权益"):
        assert overlay not in text
    assert "SolVES模型的生态系统社会价值评估代做" in text


def test_login_popup_leaves_a_1905_news_page() -> None:
    document = _page("magic_html/htmls", "3e863fa9ac34")  # 1905.com, "common-popup-lr"
    furniture.strip(document.tree)
    assert "注册电影网账号" not in _text(document)


@pytest.mark.parametrize(
    ("prefix", "comment", "article"),
    [
        # gsmarena: <div id="user-comments">; haber7: <div class="news-comment-section">.
        ("6a096b630c67", "So a Premier League footballer is going to give up", "TCL"),
        ("84fc492060f7", "Şikayet Et", "Galatasaray"),
    ],
)
def test_comment_threads_named_so_leave_the_tree(prefix: str, comment: str, article: str) -> None:
    document = _page("magic_html/htmls", prefix)
    assert comment in _text(document)
    furniture.strip(document.tree)
    text = _text(document)
    assert comment not in text and article in text


def test_newsletter_signup_form_leaves_a_patch_article() -> None:
    document = _page("magic_html/htmls", "1427dd7f3923")  # patch.com, "SubscribeForm"
    furniture.strip(document.tree)
    text = _text(document)
    assert "Find out what's happening in Murrieta" not in text
    assert "mountain biker" in text


def test_an_article_box_named_modal_enabled_stays() -> None:
    # nypost: <div class="box article modal-enabled">
    document = _page("scrapinghub_aeb/html", "a1fca19b884e")
    furniture.strip(document.tree)
    assert "were handed over to US" in _text(document)
