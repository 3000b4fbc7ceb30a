"""BBC News 中文 (www.bbc.com/zhongwen and the old www.bbc.co.uk/zhongwen), live and archived.

The current Next.js template ships the whole article as data in
``__NEXT_DATA__`` (headline, timestamps, text blocks): read first, since it has
no embed notices, consent banners or captions to remove.  Older React pages
are one ``<main>`` whose furniture is labelled for screen readers and tests
(``data-e2e="media-player"``, ``role="list"``, ``role="text"`` image credits),
removed by structure.  The 2012 template keeps the story in ``div.bodytext``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any

from lxml.etree import XPath

from crawler.items import Article
from crawler.parsing import cleaning, furniture
from crawler.parsing.dates import from_epoch, parse_iso
from crawler.parsing.generic import draft_from_html
from crawler.parsing.html import HtmlDocument, block_lines, extract_lines, load_document
from crawler.parsing.kind import refuse_non_article
from crawler.parsing.page import LISTING, NotAnArticle, RawPage
from crawler.parsing.record import finish
from crawler.parsing.snapshot import read_snapshot
from crawler.parsing.text import clean_line

_BODY = XPath("(//div[contains(@class, 'bodytext')] | //main)[1]")
_NEXT_DATA = XPath("string(//script[@id='__NEXT_DATA__'])")
_FURNITURE_NODES = XPath(
    ".//*[@data-e2e='media-player' or @data-e2e='advertisement' or @data-e2e='image-placeholder'"
    " or @data-e2e='related-content' or @data-e2e='top-stories-heading'"
    " or @role='list' or @role='region' or @aria-hidden='true' or self::time or self::figcaption"
    " or self::h1 or (self::p and @role='text') or (self::p and contains(@class, 'caption'))"
    " or self::header or self::nav or self::aside]"
)
_TIME = XPath("string((//time/@datetime)[1])")
_UPDATED = XPath("string(//div[@class='datestamp'])")
_UPDATED_LINE = re.compile(
    r"(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})日.*?格林尼治标准时间\s*(?P<hm>\d{1,2}:\d{2})"
)
_CUT = (re.compile(r"^(?:相关话题|更多相关内容|热门内容|相关内容|头条新闻|特别推荐)$"),)
_FURNITURE = (
    *cleaning.COMMON_FURNITURE,
    re.compile(r"^(?:视频|音频|图像来源|图片来源)\s*[:：，,]"),  # player captions, image credits
    re.compile(r"^(?:图像加注文字|图片说明)[，,:：]"),
    re.compile(r"^你的器材不支持播放多媒体材料$"),
    re.compile(r"^(?:前往|跳过).{0,10}(?:继续阅读|内容)$"),
)
#: Seconds-precision creation time the 2012 template declares in Dublin Core.
_CREATED_METAS = ("dcterms.created",)
#: ``__NEXT_DATA__`` block types that are article text.
_TEXT_BLOCKS = frozenset({"text", "subheadline"})
#: Page types of the Next.js template that list stories rather than tell one.
_LISTING_TYPES = frozenset({"IDX", "FIX", "TOPIC", "topic", "index", "home", "MOST_READ"})


def _paragraphs(block: dict[str, Any]) -> list[str]:
    """Paragraph texts of one content block, lists included, in order."""
    model = block.get("model") or {}
    if block.get("type") == "paragraph" and isinstance(model.get("text"), str):
        return [model["text"]]
    found: list[str] = []
    for child in model.get("blocks") or []:
        if isinstance(child, dict):
            found.extend(_paragraphs(child))
    return found


def _next_data(document: HtmlDocument) -> dict[str, Any] | None:
    raw = _NEXT_DATA(document.tree)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        page = data["props"]["pageProps"]["pageData"]
    except (ValueError, KeyError, TypeError):
        return None  # a template change: the HTML path still reads the page
    return page if isinstance(page, dict) else None


def _from_next_data(page_data: dict[str, Any]) -> tuple[str | None, list[str], dict[str, Any]]:
    """Headline, text lines and metadata (``type``, epoch-ms timestamps) of a Next.js page."""
    metadata = page_data.get("metadata") or {}
    blocks = ((page_data.get("content") or {}).get("model") or {}).get("blocks") or []
    headline = None
    lines: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "headline" and headline is None:
            headline = clean_line(" ".join(_paragraphs(block))) or None
        elif block.get("type") in _TEXT_BLOCKS:
            lines.extend(clean_line(text) for text in _paragraphs(block))
    return headline, [line for line in lines if line], metadata


def parse(page: RawPage) -> Article:
    snapshot = read_snapshot(page)
    document = load_document(snapshot.content, fragment=snapshot.form != "html")
    # Read before the furniture pass, which removes <time> elements from the text.
    stamped = parse_iso(_TIME(document.tree))
    updated = _UPDATED_LINE.search(_UPDATED(document.tree))
    if snapshot.form == "html":
        refuse_non_article(document)
    page_data = _next_data(document)
    headline, next_lines, next_meta = _from_next_data(page_data) if page_data else (None, [], {})
    if next_meta.get("type") in _LISTING_TYPES:
        raise NotAnArticle(f"BBC {next_meta['type']} page: a listing", kind=LISTING)
    if next_lines:
        lines = next_lines
    else:
        body = _BODY(document.tree)
        if body:
            furniture.strip(body[0])
            for node in _FURNITURE_NODES(body[0]):
                node.drop_tree()
            lines = block_lines(body[0])
        else:
            furniture.strip(document.tree)
            lines = extract_lines(document.tree)
    lines = cleaning.drop(cleaning.cut_at(lines, _CUT), _FURNITURE)
    draft = draft_from_html(document, lines, [headline] if headline else None)
    if headline and draft.title == headline and draft.title_source == "h1":
        draft.title_source = "next_data:headline"
    draft.language = "zh"
    draft.offer_published(from_epoch(next_meta.get("firstPublished"), UTC), "next_data:firstPublished")
    draft.offer_updated(from_epoch(next_meta.get("lastPublished"), UTC), "next_data:lastPublished")
    for key in _CREATED_METAS:
        draft.offer_published(parse_iso(document.meta.get(key)), f"meta:{key}")
    draft.offer_published(stamped, "time")
    if updated:
        day = f"{updated['year']}-{int(updated['month']):02d}-{int(updated['day']):02d}"
        draft.updated_at, draft.updated_source = parse_iso(f"{day}T{updated['hm']}:00+00:00"), "visible:更新时间"
    return finish(page, snapshot, draft)
