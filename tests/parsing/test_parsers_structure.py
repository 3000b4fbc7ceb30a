"""What the page declares (titles, dates, site names), tree furniture rules and page kinds.

Each furniture rule is tried on a real corpus page that carries that furniture
(the count of removed elements is checked, and the text is checked to be
gone), and on a small page where the same words are article text (kept).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from lxml.etree import XPath

from crawler.parsing import NotAnArticle, RawPage, furniture, parse
from crawler.parsing.dates import plausible
from crawler.parsing.html import block_lines, load_document
from crawler.parsing.kind import classify
from crawler.parsing.metadata import reconcile_title, site_names, strip_declared_names
from crawler.parsing.snapshot import read_snapshot
from tests.support.parser_cases import CORPUS, corpus_page

PAGES = CORPUS / "pages"
if not PAGES.is_dir():
    pytest.skip(f"shared corpus not found at {PAGES}", allow_module_level=True)

FETCHED = datetime(2026, 11, 29, tzinfo=UTC)


def _document(relative: str):  # noqa: ANN202 - HtmlDocument
    raw, _ = corpus_page(PAGES / relative)
    return load_document(read_snapshot(raw).content)


def _html(head: str, body: str) -> bytes:
    return f"<html><head>{head}</head><body>{body}</body></html>".encode()


def _page(body: bytes, url: str = "https://example.cn/a/1.html") -> RawPage:
    return RawPage(url=url, body=body, headers={}, outlet="x", fetched_at=FETCHED)


# -- titles -----------------------------------------------------------------------


def test_declared_site_name_is_stripped_from_either_end() -> None:
    names = ["RFI - 法国国际广播电台", "BBC News 中文"]
    assert strip_declared_names("香港大火幸存者 - BBC News 中文", names) == "香港大火幸存者"
    assert strip_declared_names("BBC News 中文 | 香港大火幸存者", names) == "香港大火幸存者"
    # A name that is the whole title is not stripped to nothing.
    assert strip_declared_names("BBC News 中文", names) == "BBC News 中文"


def test_site_names_come_from_og_and_jsonld_publisher() -> None:
    names = site_names(_document("rfi/trafilatura-pr185_dataset_original_13.html"))
    assert "RFI - 法国国际广播电台" in names
    assert "BBC News 中文" in site_names(_document("bbc/radarflow_bbc_simp_article_cwyv1yz8yrno.html"))


def test_h1_wins_over_a_metadata_title_with_a_column_prefix() -> None:
    # og:title and JSON-LD: "法国报纸摘要 - 马克龙…"; the page's h1 is the headline alone.
    title = reconcile_title(_document("rfi/trafilatura-pr185_dataset_original_13.html"))
    assert title is not None and title.value == "马克龙星期一在莫斯科与普京会面"


def test_seo_title_reworded_from_the_h1_gives_the_h1() -> None:
    head = '<meta property="og:title" content="大埔宏福苑大火：幸存者说第一次觉得死亡和他有关 | 某台">'
    body = "<h1>香港大埔宏福苑大火幸存者：第一次觉得死亡和我有关</h1><p>正文。</p>"
    title = reconcile_title(load_document(_html(head, body).decode()))
    assert title is not None
    assert (title.value, title.source) == ("香港大埔宏福苑大火幸存者：第一次觉得死亡和我有关", "h1")


def test_logo_h1_does_not_replace_the_headline() -> None:
    head = "<title>故宫，你低调点！实力已不允许我继续低调_凤凰网资讯_凤凰网</title>"
    body = "<h1>凤凰网资讯</h1><p>正文。</p>"
    title = reconcile_title(load_document(_html(head, body).decode()))
    assert title is not None and title.value == "故宫，你低调点！实力已不允许我继续低调"


def test_title_and_date_sources_are_recorded_for_live_pages() -> None:
    article = parse(*corpus_page(PAGES / "bbc/radarflow_bbc_simp_article_cwyv1yz8yrno.html"))
    assert article.title == "香港大埔宏福苑大火幸存者：第一次觉得死亡和我有关"
    assert article.extra["published_source"] == "meta:article:published_time"
    assert article.extra["title_source"]


# -- dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kept", "reason"),
    [
        ("2025-11-30T02:35:18+00:00", True, None),
        ("2026-11-29", True, None),
        ("2027-01-01T00:00:00+08:00", False, "after the fetch time"),
        ("2026-12-05", False, "after the fetch time"),
        ("1989-12-31", False, "before 1990"),
        ("1990-01-01T08:00:00+08:00", True, None),
    ],
)
def test_plausible_dates(value: str, kept: bool, reason: str | None) -> None:
    result, why = plausible(value, FETCHED)
    assert (result == value) is kept
    assert (why is None) if reason is None else (reason in why)


def test_future_publication_date_is_rejected_with_a_reason() -> None:
    head = '<meta property="article:published_time" content="2031-05-01T08:00:00+08:00">'
    body = "<article><h1>某地举行活动</h1>" + "<p>这是一段足够长的新闻正文，讲述了活动的经过。</p>" * 5 + "</article>"
    article = parse(_page(_html(head, body)), "generic")
    assert article.published_at is None
    assert "after the fetch time" in article.extra["published_rejected"]


def test_modified_date_becomes_updated_at_with_its_source() -> None:
    article = parse(*corpus_page(PAGES / "portal/radarflow_8world_detail.html"))
    assert article.published_at == "2025-12-01T10:48:27+08:00"
    assert article.extra["updated_at"] == "2025-12-01T11:19:35+08:00"
    assert article.extra["updated_source"] == "jsonld:dateModified"


@pytest.mark.parametrize(
    ("script", "expected", "source"),
    [
        ('var ct = "1673305628";', "2023-01-10T07:07:08+08:00", "script:ct"),
        ("d.ct = '1673305628' * 1;", "2023-01-10T07:07:08+08:00", "script:ct"),
        ("var create_time = \"1673305628\" * 1;", "2023-01-10T07:07:08+08:00", "script:create_time"),
        ("create_time: '1770681158' * 1,", "2026-02-10T07:52:38+08:00", "script:create_time"),
        ('var publish_time = "2023-01-10" || "";', "2023-01-10", "script:publish_time"),
    ],
)
def test_wechat_dates_from_every_template(script: str, expected: str, source: str) -> None:
    body = _html(
        '<meta property="og:title" content="标题">',
        f"<div id='js_content'><p>正文第一段。</p></div><script>{script}</script>",
    )
    article = parse(_page(body, "https://mp.weixin.qq.com/s/abc"), "wechat")
    assert article.published_at == expected
    assert article.extra["published_source"] == source


def test_wechat_date_from_the_rendered_publish_time_element() -> None:
    body = _html("", "<em id='publish_time'>2023-01-10 07:07</em><div id='js_content'><p>正文。</p></div>")
    article = parse(_page(body, "https://mp.weixin.qq.com/s/abc"), "wechat")
    assert article.published_at == "2023-01-10T07:07:00+08:00"
    assert article.extra["published_source"] == "visible:#publish_time"


# -- furniture ----------------------------------------------------------------------

_BBC_BODY = XPath("//main")


def test_embed_and_consent_notices_leave_the_tree_of_a_real_bbc_page() -> None:
    document = _document("bbc/radarflow_bbc_simp_article_cwyv1yz8yrno.html")
    main = _BBC_BODY(document.tree)[0]
    assert furniture.strip(main) >= 3
    text = "\n".join(block_lines(main))
    for notice in ("跳过 Instagram 帖子", "接受并继续", "结尾 Instagram 帖子", "告知: BBC"):
        assert notice not in text
    assert "李先生住在宏昌阁" in text  # the paragraph before the embed stays


def test_rfi_date_and_reading_time_lines_leave_the_tree() -> None:
    document = _document("rfi/trafilatura-pr185_dataset_original_13.html")
    assert furniture.strip(document.tree, furniture.RFI_DATES) >= 2
    text = "\n".join(block_lines(document.tree))
    assert "发表时间" not in text
    assert not re.search(r"^\s*7 分钟$", text, re.MULTILINE)


def test_wechat_promo_tail_leaves_the_tree_of_a_real_post() -> None:
    document = _document("wechat/omnivore_readabilityjs_wechat_source.html")
    content = document.tree.xpath("//*[@id='js_content']")[0]
    assert furniture.strip(content, furniture.PROMO) >= 2
    text = "\n".join(block_lines(content))
    assert "后台聊天窗口回复" not in text and "感谢关注/点赞/分享" not in text
    assert "很不错的稍后读APP" in text


def test_related_list_under_a_heading_goes_with_its_heading() -> None:
    body = (
        "<div id='c'><p>第一段正文，讲述了事情的经过。</p><h3>理论新闻精选</h3>"
        "<ul><li><a href='/1'>另一篇文章标题一</a></li><li><a href='/2'>另一篇文章标题二</a></li></ul>"
        "<p>最后一段正文。</p></div>"
    )
    document = load_document(_html("", body).decode())
    furniture.strip(document.tree, lists=True)
    assert block_lines(document.tree) == ["第一段正文，讲述了事情的经过。", "最后一段正文。"]


def test_the_same_words_inside_prose_are_kept() -> None:
    body = (
        "<div><p>他说：“请点击接受并继续”这种弹窗设计，正在被监管部门调查，"
        + "相关企业表示将配合调查并整改。" * 12
        + "</p><p>今天也完成了学习打卡！<span>点赞！</span>晚安。</p></div>"
    )
    document = load_document(_html("", body).decode())
    assert furniture.strip(document.tree, (*furniture.COMMON, *furniture.PROMO)) == 0


# -- page kinds ------------------------------------------------------------------------


def test_listing_without_structured_data_is_found_by_its_headline_links() -> None:
    document = _document("bbc/radarflow_topic_c1ez1k4emn0t.html")
    # Take away what the page declares: the link structure alone must decide.
    document.jsonld.clear()
    document.meta.pop("og:type")
    verdict = classify(document)
    assert verdict.kind == "listing", verdict.reason
    assert "headline links" in verdict.reason


def test_article_with_related_headlines_is_still_an_article() -> None:
    for relative in ("portal/gne_163_8.html", "portal/magichtml_sina_2024.html", "bbc/goose3_bbczhongwen_2012.html"):
        assert classify(_document(relative)).kind == "article", relative


def test_not_an_article_carries_its_kind() -> None:
    with pytest.raises(NotAnArticle) as refusal:
        parse(*corpus_page(PAGES / "bbc/radarflow_topic_cq8nqywy37yt.html"))
    assert refusal.value.kind == "listing"
    with pytest.raises(NotAnArticle) as refusal:
        parse(*corpus_page(PAGES / "wechat/j-lab-10404_wechat_article_verify.html"))
    assert refusal.value.kind == "interstitial"


def test_anti_bot_check_page_is_an_interstitial_for_any_parser() -> None:
    body = _html("<title>安全验证</title>", "<div><p>请完成安全验证后继续访问</p><button>验证</button></div>")
    with pytest.raises(NotAnArticle) as refusal:
        parse(_page(body), "generic")
    assert refusal.value.kind == "interstitial"


# -- generic extraction classes ---------------------------------------------------------


def test_runs_of_teasers_are_dropped_but_a_prose_ellipsis_stays() -> None:
    from crawler.parsing.cleaning import drop_teaser_runs

    lines = ["正文第一段。", "他沉默了……", "另一篇报道的开头，男主携爱妻亮相，女主安雅·...", "第三篇报道的开头…", "正文结束。"]
    assert drop_teaser_runs(lines) == ["正文第一段。", "他沉默了……", "正文结束。"]
    assert drop_teaser_runs(["一行…", "正文。"]) == ["一行…", "正文。"]  # one alone is prose


def test_a_story_split_around_ads_is_read_whole() -> None:
    from crawler.parsing.html import split_body_lines

    chunk = "<div class='body__container article__body'>{}</div>"
    first = "".join(f"<p>First part paragraph {i} of the story, long enough to count.</p>" for i in range(3))
    second = "".join(f"<p>Second part paragraph {i} after the advert block.</p>" for i in range(4))
    html = (
        "<html><body><article><div class='grid'>" + chunk.format(first) + "</div>"
        "<aside class='ad'>Advert</aside><div class='grid'>" + chunk.format(second) + "</div></article></body></html>"
    )
    document = load_document(html)
    found = split_body_lines(document.tree, ["First part paragraph 0 of the story, long enough to count."])
    assert found is not None and len(found) == 7 and found[-1].startswith("Second part paragraph 3")


def test_pages_of_a_paginated_article_are_not_joined() -> None:
    from crawler.parsing.html import split_body_lines

    pages = "".join(
        f"<div class='article-page body'><p>Page {n} text of the article, long enough.</p></div>" for n in range(3)
    )
    document = load_document(f"<html><body>{pages}</body></html>")
    assert split_body_lines(document.tree, ["Page 0 text of the article, long enough."]) is None


def test_ad_slot_labels_are_not_text() -> None:
    head = "<title>Story</title>"
    body = "<article><h1>Story</h1>" + "<p>A paragraph of the story that is long enough to be text.</p>" * 4
    body += "<p>Advertisement</p>" + "<p>More of the story after the advert, long enough too.</p>" * 3 + "</article>"
    article = parse(_page(_html(head, body), "https://example.com/news/1"), "generic")
    assert "Advertisement" not in article.body.splitlines()
