"""BBC News 中文 (www.bbc.com/zhongwen and the old www.bbc.co.uk/zhongwen), live and archived.

The current site is one React ``<main>`` whose furniture is labelled for
screen readers and tests (``data-e2e="media-player"``, ``role="list"``,
``role="text"`` image credits), so it is removed by structure, not by
guessing.  The 2012 template keeps the story in ``div.bodytext``.
"""

from __future__ import annotations

import re

from lxml.etree import XPath

from crawler.items import Article
from crawler.parsing import cleaning
from crawler.parsing.dates import parse_iso
from crawler.parsing.generic import draft_from_html
from crawler.parsing.html import block_lines, extract_lines, load_document
from crawler.parsing.page import RawPage
from crawler.parsing.record import finish
from crawler.parsing.snapshot import read_snapshot

_BODY = XPath("(//div[contains(@class, 'bodytext')] | //main)[1]")
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


def parse(page: RawPage) -> Article:
    snapshot = read_snapshot(page)
    document = load_document(snapshot.content, fragment=snapshot.form != "html")
    # Read before the furniture pass, which removes <time> elements from the text.
    stamped = parse_iso(_TIME(document.tree))
    updated = _UPDATED_LINE.search(_UPDATED(document.tree))
    body = _BODY(document.tree)
    if body:
        for node in _FURNITURE_NODES(body[0]):
            node.drop_tree()
        lines = block_lines(body[0])
    else:
        lines = extract_lines(document.tree)
    draft = draft_from_html(document, cleaning.drop(cleaning.cut_at(lines, _CUT), _FURNITURE))
    draft.title = snapshot.header_title or draft.title
    draft.language = "zh"
    draft.published_at = (
        draft.published_at
        or next(
            (parse_iso(document.meta.get(key)) for key in _CREATED_METAS if key in document.meta),
            None,
        )
        or stamped
    )
    if updated:
        day = f"{updated['year']}-{int(updated['month']):02d}-{int(updated['day']):02d}"
        draft.extra["updated_at"] = parse_iso(f"{day}T{updated['hm']}:00+00:00")
    draft.lines = [line for line in draft.lines if line != draft.title]
    return finish(page, snapshot, draft)
