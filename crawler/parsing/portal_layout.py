"""Where Chinese portals put the article and its date line: one pass over the tree.

Containers are matched by id or class token, each with a rank (lower wins when
a page has several).  Each is distinctive enough to trust on any host, since
mirrors copy the templates along with the text.  A single Python pass over the
elements is several times faster here than the equivalent XPath union.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement

from crawler.parsing.credits import credit_fields
from crawler.parsing.dates import SHANGHAI, parse_chinese
from crawler.parsing.html import HtmlDocument, collapse_source_whitespace
from crawler.parsing.urls import registrable_domain

CONTAINER_IDS = {
    "artibody": 0,  # sina
    "ArticleContent": 0,  # qq: inside .content-article, without the account header
    "Cnt-Main-Article-QQ": 1,  # qq (old)
    "endText": 2,  # 163 (old)
    "rwb_zw": 3,  # people.com.cn (old)
    "detailContent": 4,  # news.cn, xinhuanet
    "p-detail": 4,  # xinhuanet (2019-2020)
    "articleBody": 5,  # china.com.cn
    "fontzoom": 5,  # china.com.cn
    "contentMain": 6,  # gmw.cn (old)
    "mp-editor": 7,  # sohu
    "Content": 8,  # chinadaily (Chinese site)
    "ivs_content": 8,  # 021east
    "the_content": 8,  # caijing
    "article__content": 8,  # 360kuai
    "js_content": 9,  # WeChat articles copied with their markup
}
CONTAINER_CLASSES = {
    "content-article": 1,  # qq
    "post_body": 2,  # 163
    "rm_txt_con": 3,  # people.com.cn
    "artDet": 3,  # people.com.cn channels
    "u-mainText": 6,  # gmw.cn
    "TRS_Editor": 6,  # youth.cn and other TRS sites
    "tt-article-content": 7,  # toutiao
    "news_txt": 7,  # thepaper.cn
    "a-con": 7,  # huanqiu
    "article-content": 9,  # toutiao (old), baijiahao: generic, so last
}
CONTAINER_PREFIXES = (("index_text_", 7), ("main_content-", 7))  # ifeng's hashed classes
# sina: <div id="article" class="article">.  Other CMSs use the same pair for a
# wrapper around headline and toolbar, so it ranks first only on sina itself.
_SINA_ID, _SINA_DOMAINS = "article", frozenset({"sina.com.cn", "sina.cn"})
_SINA_RANK, _SINA_ELSEWHERE_RANK = 0, 10
_MIN_CONTAINER_CHARS = 60

# Visible date lines, by class token or id: the page states the time the reader sees.
DATE_CLASSES = frozenset(
    {"date", "time", "info", "pwz", "xinf-le", "date-source", "post_time_source", "post_info",
     "h-time", "a_time", "m-con-time", "news-time", "col-1-1", "pubTime", "article-meta",
     "article-sub", "inform", "news_about"}
)  # fmt: skip
DATE_IDS = frozenset({"pubtime_baidu", "pubTime"})
DATE_PREFIXES = ("time-",)  # ifeng
# "box-text-time", "pub_date": a class named for the time it holds.
DATE_SUFFIXES = ("-time", "_time", "-date", "_date")

# Credit lines outside the container ("本文来源：新华社 责任编辑：李曦", sina's
# <a class="source">参考消息</a>), by class token or id.
CREDIT_CLASSES = frozenset(
    {"ep-source", "post_author", "show_author", "editor", "source", "m-con-source", "a_source",
     "media-name", "where", "author"}
)  # fmt: skip
CREDIT_IDS = frozenset({"source", "source_baidu", "editor_baidu", "author_baidu"})
# Unlabelled text of these is the cited source itself.
_SOURCE_ONLY = frozenset({"source", "a_source", "media-name", "where"})
_MAX_CREDIT_CHARS = 80
_NOT_A_SOURCE = re.compile(r"[\d⋅·|]|评论")

# Inside a container: players, share bars, inline ads, tag lists.
CONTAINER_JUNK = XPath(
    ".//*[contains(@class, 'share') or contains(@class, 'ad_') or contains(@class, 'adv')"
    " or contains(@class, 'recommend') or contains(@class, 'related')"
    " or contains(@class, 'statement') or starts-with(@class, 'video-')"
    " or @id='backsohucom' or contains(@class, 'article-tag')]"
)
# Machine-readable times some portals keep outside <meta>: 163's page wrapper
# and qq's page data.
_PTIME = XPath("string(//*[@id='contain']/@data-ptime)")
_SCRIPT_PUBTIME = re.compile(
    r"""["']?pubtime["']?\s*:\s*["'](\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}(?::\d{2})?)"""
)


@dataclass(slots=True)
class Layout:
    """What one pass over a portal page found."""

    container: HtmlElement | None = None
    date_lines: list[HtmlElement] = field(default_factory=list)
    credit_lines: list[HtmlElement] = field(default_factory=list)


def _container_rank(ident: str | None, classes: list[str], on_sina: bool) -> int | None:
    ranks = [CONTAINER_IDS[ident]] if ident in CONTAINER_IDS else []
    if ident == _SINA_ID and "article" in classes:
        ranks.append(_SINA_RANK if on_sina else _SINA_ELSEWHERE_RANK)
    for name in classes:
        if name in CONTAINER_CLASSES:
            ranks.append(CONTAINER_CLASSES[name])
        ranks += [rank for prefix, rank in CONTAINER_PREFIXES if name.startswith(prefix)]
    return min(ranks) if ranks else None


def _is_date_line(element: HtmlElement, ident: str | None, classes: list[str]) -> bool:
    if ident in DATE_IDS or not DATE_CLASSES.isdisjoint(classes):
        return True
    if any(name.startswith(DATE_PREFIXES) or name.endswith(DATE_SUFFIXES) for name in classes):
        return True
    # people.com.cn: <div class="box01"><div class="fl">2019年06月15日08:18 来源：…
    parent = element.getparent()
    return classes == ["fl"] and parent is not None and parent.get("class") == "box01"


def scan(document: HtmlDocument, url: str) -> Layout:
    """The article container (best rank, then document order) and the date and credit lines."""
    on_sina = registrable_domain(urlsplit(url).hostname or "") in _SINA_DOMAINS
    layout = Layout()
    best_rank: int | None = None
    for element in document.tree.iter("div", "article", "span", "p", "em", "time", "section", "td"):
        ident, class_attr = element.get("id"), element.get("class")
        if ident is None and class_attr is None:
            continue
        classes = class_attr.split() if class_attr else []
        rank = _container_rank(ident, classes, on_sina)
        better = rank is not None and (best_rank is None or rank < best_rank)
        if better and len(element.text_content().strip()) >= _MIN_CONTAINER_CHARS:
            best_rank, layout.container = rank, element
        if _is_date_line(element, ident, classes):
            layout.date_lines.append(element)
        if ident in CREDIT_IDS or not CREDIT_CLASSES.isdisjoint(classes):
            layout.credit_lines.append(element)
    return layout


def without_junk(container: HtmlElement) -> HtmlElement:
    """The container with players, share bars and inline ads removed (in place)."""
    for junk in CONTAINER_JUNK(container):
        if junk is not container:
            junk.drop_tree()
    return container


def visible_published(layout: Layout) -> str | None:
    for element in layout.date_lines:
        text = collapse_source_whitespace(element.text_content())
        if 6 <= len(text) <= 120:
            published = parse_chinese(text, SHANGHAI)
            if published:
                return published
    return None


def page_credits(layout: Layout) -> dict[str, str]:
    """Source, editor and byline stated around (not inside) the article; first of each wins."""
    found: dict[str, str] = {}
    for element in layout.credit_lines:
        text = collapse_source_whitespace(element.text_content())
        if not text or len(text) > _MAX_CREDIT_CHARS:
            continue
        fields = credit_fields(text)
        if fields is None:
            classes = set((element.get("class") or "").split()) | {element.get("id") or ""}
            unlabelled_source = classes & _SOURCE_ONLY and not _NOT_A_SOURCE.search(text)
            fields = {"source": text} if unlabelled_source and len(text) <= 20 else {}
        for name, value in fields.items():
            found.setdefault(name, value)
    return found


def machine_published(document: HtmlDocument, raw_html: str) -> str | None:
    """Times a portal keeps for scripts rather than readers (163 ``data-ptime``, qq ``pubtime``)."""
    ptime = parse_chinese(_PTIME(document.tree), SHANGHAI)
    if ptime:
        return ptime
    # A plain substring search first: the regex alone crawls the whole page.
    start = raw_html.find("pubtime")
    match = _SCRIPT_PUBTIME.search(raw_html, max(0, start - 2)) if start >= 0 else None
    return parse_chinese(match.group(1), SHANGHAI) if match else None
