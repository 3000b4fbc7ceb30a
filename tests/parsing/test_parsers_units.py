"""The small pieces the parsers share: dates, URLs, snapshot forms, credit lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.parsing import NotAnArticle, RawPage, parse
from crawler.parsing.credits import credit_fields
from crawler.parsing.dates import (
    PARIS,
    from_epoch,
    parse_chinese,
    parse_day_first,
    parse_iso,
    utc_iso,
)
from crawler.parsing.record import declared_canonical
from crawler.parsing.snapshot import classify, truncation_reason
from crawler.parsing.urls import display_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布时间：2024年5月1日", "2024-05-01"),
        ("2024年05月01日 08:30", "2024-05-01T08:30:00+08:00"),
        ("2025-05-30 17:43:44", "2025-05-30T17:43:44+08:00"),
        ("时间:2025-05-30 17:43:44 作者:某某 浏览量:36876", "2025-05-30T17:43:44+08:00"),
        ("2019年06月15日08:18  来源：人民网", "2019-06-15T08:18:00+08:00"),
        ("2024年5月1日下午3:05", "2024-05-01T15:05:00+08:00"),
        ("2023-02-30 10:00", None),  # no such day
        ("2024年", None),  # a bare year is not a date (htmldate would say 2024-01-01)
        ("浏览量:36876", None),
        ("", None),
    ],
)
def test_chinese_dates(text: str, expected: str | None) -> None:
    assert parse_chinese(text) == expected


def test_meta_dates_keep_their_stated_zone() -> None:
    assert parse_iso("2020-02-29T18:34:31+08:00") == "2020-02-29T18:34:31+08:00"
    assert parse_iso("2012-05-10T14:29:05.000Z") == "2012-05-10T14:29:05+00:00"
    assert parse_iso("2024-04-24") == "2024-04-24"
    assert parse_iso("soon") is None


def test_rfi_time_is_paris_time() -> None:
    assert parse_day_first("08/11/2023 - 15:23", PARIS) == "2023-11-08T15:23:00+01:00"
    assert parse_day_first("08/07/2023 - 15:23", PARIS) == "2023-07-08T15:23:00+02:00"


def test_wechat_epoch_seconds() -> None:
    assert from_epoch("1581517074") == "2020-02-12T22:17:54+08:00"
    assert from_epoch("") is None


def test_fetch_times_are_utc_with_z() -> None:
    assert utc_iso(datetime(2023, 11, 8, 16, 45, 1, tzinfo=PARIS)) == "2023-11-08T15:45:01Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_iso(datetime(2023, 11, 8))  # noqa: DTZ001


def test_chinese_only_date_line_is_never_january_first() -> None:
    page = RawPage(
        url="https://example.cn/a/1.html",
        body=(
            "<html><head><title>标题</title></head><body>"
            "<div class='info'>发布时间：2024年5月1日</div><div id='artibody'>"
            "<p>这是一篇只写了中文日期的新闻稿件，正文足够长，可以被识别为文章内容。</p>"
            "</div></body></html>"
        ).encode(),
        outlet="portal",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert parse(page, "portal").published_at == "2024-05-01"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20231108-%E5%BC%A0%E5%8F%88%E4%BE%A0",
            "https://www.rfi.fr/cn/中国/20231108-张又侠",
        ),
        ("https://x.cn/a%2Fb%20c?q=%e4%b8%ad", "https://x.cn/a%2Fb%20c?q=中"),
        ("https://x.cn/%E2%80%AEevil", "https://x.cn/%E2%80%AEevil"),  # bidi override stays escaped
        ("https://x.cn/%E4%B8", "https://x.cn/%E4%B8"),  # truncated UTF-8 stays escaped
        ("https://x.cn/%E3%80%80", "https://x.cn/%E3%80%80"),  # ideographic space stays escaped
    ],
)
def test_display_url(url: str, shown: str) -> None:
    assert display_url(url) == shown


@pytest.mark.parametrize(
    ("href", "page", "expected"),
    [
        (
            "https://news.sina.com.cn/c/1.shtml",
            "https://news.sina.com.cn/c/1.shtml?x=1",
            "https://news.sina.com.cn/c/1.shtml",
        ),
        ("www.sohu.com/a/1_2", "https://www.sohu.com/a/1_2?spm=x", "https://www.sohu.com/a/1_2"),
        ("/a/1.html", "https://www.163.com/a/1.html?x", "https://www.163.com/a/1.html"),
        ("https://other.example.com/a/1", "https://news.sina.com.cn/c/1.shtml", None),
        ("http://www.china.com.cn/", "http://news.china.com.cn/2024-05/13/content_1.shtml", None),
        ("https://news.sina.com.cn/c/1.shtml", "fixture:portal/x.html", None),
    ],
)
def test_declared_canonical(href: str, page: str, expected: str | None) -> None:
    assert declared_canonical(href, page) == expected


@pytest.mark.parametrize(
    ("content", "form"),
    [
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        ("<!-- saved from url --><html><body></body></html>", "html"),
        ("<div><p>片段</p></div>", "fragment"),
        ("标题\n===\n\n![img](https://a/b.png)\n\n正文", "markdown"),
        ("首页\n\n时间:2025-05-30 17:43:44\n\n正文", "text"),
    ],
)
def test_snapshot_forms(content: str, form: str) -> None:
    assert classify(content) == form


def test_truncation_needs_an_open_construct() -> None:
    assert truncation_reason("<html><body><p>no closing html</p>") is None
    assert (
        truncation_reason("<html><body><p>x</p><img src='a")
        == "truncated HTML: document ends inside a <img tag"
    )


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        ("来源：央视新闻", {"source": "央视新闻"}),
        ("（编辑：严玉洁 王辉）", {"editor": "严玉洁 王辉"}),
        (
            "编辑|张维纳 语音|徐佳 剪辑|李春 校读|刘永杰",
            {"editor": "张维纳", "proofreader": "刘永杰"},
        ),
        ("来源｜新周刊（ID：new-weekly）", {"source": "新周刊"}),
        ("本文来源：新华社责任编辑：李曦_NN2587", {"source": "新华社", "editor": "李曦_NN2587"}),
        ("中青报·中青网记者 魏其濛 来源：中国青年报", {"author": "魏其濛", "source": "中国青年报"}),
        (
            "（原标题：国务院联防联控机制印发通知）",
            {"original_title": "国务院联防联控机制印发通知"},
        ),
        ("责任编辑：", {}),
        ("记者：据报道，近日中俄防长举行视频通话，请问发言人有何评论？", None),
        ("编辑部认为这件事值得关注。", None),
    ],
)
def test_credit_lines(line: str, fields: dict[str, str] | None) -> None:
    assert credit_fields(line) == fields


def _raw(html: str, url: str = "https://example.cn/list/") -> RawPage:
    return RawPage(
        url=url, body=html.encode(), outlet="x", fetched_at=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_listing_page_is_not_an_article() -> None:
    items = "".join(
        f"<li><a href='/a/{n}.html'>第{n}条新闻标题：某地举办活动</a>"
        f"<p>活动现场人头攒动，吸引了众多市民... 详情</p></li>"
        for n in range(12)
    )
    page = _raw(f"<html><head><title>新闻列表</title></head><body><ul>{items}</ul></body></html>")
    for parser in ("portal", "ecns", "generic"):
        with pytest.raises(NotAnArticle, match="listing page"):
            parse(page, parser)


def test_wechat_picture_post_without_text_is_not_an_article() -> None:
    html = (
        "<html><head><title></title></head><body><div id='js_image_content'></div>"
        "<script>window.item_show_type = '8' || '';\n"
        "var data = {content_noencode: JsDecode(''), nick_name: JsDecode('某号')};</script>"
        "</body></html>"
    )
    with pytest.raises(NotAnArticle, match="image-only"):
        parse(_raw(html, "https://mp.weixin.qq.com/s/x"), "wechat")
