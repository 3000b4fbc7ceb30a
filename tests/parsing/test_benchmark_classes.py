"""Classes of extraction failure found on the public benchmarks, each tried on real pages that carry it.

- boxes named for what they are: overlays (report forms, login pop-ups), comment
  threads, sign-up forms: their text leaves the tree, the article's stays, and an
  article box that carries such a name ("modal-enabled") stays;
- lists of other stories' headlines at the end of the extracted body, and
  breadcrumb links above it.

The pages are in ../shared/corpus/benchmark (magic_html, scrapinghub_aeb).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.parsing import RawPage, furniture, parse
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


def _parsed_body(folder: str, prefix: str) -> str:
    """The body our English/fallback parser gives for a benchmark page."""
    (path,) = sorted(Path(BENCHMARK, folder).glob(f"{prefix}*"))
    body = path.read_bytes()
    page = RawPage(
        url=f"fixture:benchmark/{prefix}",
        body=gzip.decompress(body) if path.suffix == ".gz" else body,
        headers={},
        outlet="benchmark",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return parse(page, "ecns").body


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


def test_headline_list_after_the_story_is_not_body() -> None:
    # cbssports: "Jones tells Belichick story from '90s The Cowboys owner …" and five
    # more links of other stories follow the last paragraph.
    body = _parsed_body("scrapinghub_aeb/html", "08f793762792")
    assert body.splitlines()[-2].startswith('"I like the fact that we lost to them')
    assert "Jones tells Belichick story" not in body


def test_breadcrumbs_and_related_links_around_a_story_are_not_body() -> None:
    # bhaskar.com: "Hindi News / Jeevan mantra / Dharm" above, four headline links below.
    lines = _parsed_body("magic_html/htmls", "6fa03f75b5b2").splitlines()
    assert lines[0].startswith("Vaishakh Month Purnima On 23 May")
    assert lines[-1].startswith("पूर्णिमा पर जरूरतमंद लोगों को धन")


def test_a_story_ending_in_linked_words_keeps_its_last_paragraphs() -> None:
    from crawler.parsing.generic import drop_link_tail

    document = load_document(
        "<html><body><p>Story paragraph one, long enough.</p><p>See the <a href='/r'>full report</a>.</p>"
        "<p><a href='/a'>Annex one: the tables</a></p><p><a href='/b'>Annex two: the maps</a></p></body></html>"
    )
    lines = ["Story paragraph one, long enough.", "See the full report.", "Annex one: the tables", "Annex two: the maps"]
    # Two linked lines are not a list of other stories (three are).
    assert drop_link_tail(document, lines) == lines


@pytest.mark.parametrize(
    ("folder", "prefix", "last", "gone"),
    [
        # mashable video page: "Watch Next" / "Latest Videos" and their teasers.
        ("magic_html/htmls", "8f203971ba54", "two rotting heads of Michael Emerson.\"", "Watch Next"),
        # cleveland.com: "You may also like..." ends the story.
        ("scrapinghub_aeb/html", "35b158918c67", "third place in the annual Fan Vote.", "You may also like"),
    ],
)
def test_english_related_list_headings_end_the_body(folder: str, prefix: str, last: str, gone: str) -> None:
    body = _parsed_body(folder, prefix)
    assert gone not in body
    assert body.splitlines()[-1].endswith(last)


def test_an_up_next_section_of_an_ap_recap_stays() -> None:
    # mysanantonio (AP): the story's own closing section is headed "UP NEXT".
    assert "UP NEXT" in _parsed_body("scrapinghub_aeb/html", "eecd2575093b")


def test_read_more_links_inside_the_body_are_not_body() -> None:
    # cityam: two "Read more: <other story>" lines between paragraphs.
    body = _parsed_body("scrapinghub_aeb/html", "360c732d1fdb")
    assert "Read more: Tencent profit falls" not in body
    assert "Alibaba" in body.splitlines()[0]


def test_chinese_read_also_line_goes_and_a_sentence_about_reading_stays() -> None:
    from crawler.parsing.cleaning import COMMON_FURNITURE, drop

    lines = ["推荐阅读：绥德交警：8月1日起，专项整治电动车、二轮车、三轮车违法行为", "Read more about the plan in our report."]
    assert drop(lines, COMMON_FURNITURE) == ["Read more about the plan in our report."]


def test_dated_recommendation_list_goes_with_its_heading() -> None:
    # 39.net: <em>健康资讯推荐</em>, then a <div> of <li><span>2021-01-19</span><a>…</a></li>:
    # the dates make it less than 80% linked, the list items make it a list.
    document = _page("magic_html/htmls", "0987b0ff61a8")
    furniture.strip(document.tree, lists=True)
    text = _text(document)
    assert "健康资讯推荐" not in text and "沈阳治疗外阴白斑需要多少费用" not in text
    assert "掌握好水量和火候" in text


def test_a_recommendation_heading_over_prose_stays() -> None:
    body = (
        "<div><p>第一段正文。</p><h3>景点推荐</h3><p>沿江的古镇值得一去，<a href='/a'>码头</a>"
        "和<a href='/b'>老街</a>都保留着旧貌，<a href='/c'>茶馆</a>里还能听评书，<a href='/d'>渡口</a>有船。</p></div>"
    )
    document = load_document(f"<html><body>{body}</body></html>")
    furniture.strip(document.tree, lists=True)
    assert "景点推荐" in _text(document)
