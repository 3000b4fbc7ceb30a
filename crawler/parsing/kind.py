"""What kind of page this is, from its structure, before any text is extracted.

An outlet serves more than articles: home, section and topic pages (listings),
error pages, anti-bot checks and consent walls (interstitials), video pages.
Only articles (and videos or image posts that carry text) become records; a
listing's links feed discovery; the rest are counted by kind.

The signals are structural, so they hold across templates: the JSON-LD
``@type`` (``NewsArticle`` vs ``CollectionPage``), ``og:type``, and for pages
that declare neither, the number of headline links (``<a>`` in ``h2``-``h4``)
and the share of the page's text that is linked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.etree import XPath

from crawler.parsing import metadata
from crawler.parsing.html import HtmlDocument
from crawler.parsing.page import ERROR, INTERSTITIAL, LISTING, TAKEDOWN, VIDEO, NotAnArticle
from crawler.parsing.text import CONTROL_OR_ZERO_WIDTH, clean_line

ARTICLE = "article"

_HEADLINE_LINKS = XPath(
    "//*[self::h2 or self::h3 or self::h4]//a[@href] | //a[@href][.//*[self::h2 or self::h3 or self::h4]]"
)
# Text nodes whose parent is not a script (a parent test, not an ancestor search: fast).
# (Plain strings: lxml's default "smart" strings, which know their parent, cost a third more.)
_VISIBLE_TEXT = XPath(
    "//body//*[not(self::script or self::style or self::noscript or self::template)]/text()",
    smart_strings=False,
)
_BODY_STRING = XPath("string(//body)")
_LINK_TEXT = XPath("//body//a")
# Pages with more headline links than this, and mostly linked text, list stories.
_MIN_HEADLINE_LINKS = 8
_LISTING_LINK_SHARE = 0.5
# An error or check page says so in a few words; a longer page is content.
_MAX_NOTICE_CHARS = 600
_MAX_NOTICE_PAGE_CHARS = 60_000
_INTERSTITIAL = re.compile(
    r"环境异常|完成验证后即可继续访问|安全验证|访问验证|人机验证|滑动验证|请输入验证码|Just a moment"
    r"|Attention Required|Checking your browser|verify you are human|captcha|Access denied",
    re.IGNORECASE,
)
_TAKEDOWN = re.compile(
    r"已被(?:发布者|作者)?删除|因违规无法查看|违反相关法律法规|内容已删除|has been removed|no longer available",
    re.IGNORECASE,
)
_ERROR = re.compile(
    r"参数错误|页面不存在|页面未找到|您访问的页面|找不到(?:该|此)?页面|内容不存在|文章不存在|已下线"
    r"|\b404\b|Page not found|Not Found|Error \d{3}",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    reason: str


def _visible_text(pieces: list[str]) -> str:
    """The page's visible text from its ``_VISIBLE_TEXT`` pieces."""
    return clean_line(" ".join(pieces))


# clean_line keeps every character that is not whitespace, a control or zero-width, but
# NFC may compose up to four of them into one (a base letter and three marks, Hangul jamo).
_MAX_NFC_SHRINK = 4


def _surely_longer_than(pieces: list[str], limit: int) -> bool:
    """Whether ``clean_line(" ".join(pieces))`` is surely over ``limit`` characters (a cheap bound)."""
    kept = "".join("".join(pieces).split())
    return (
        len(kept) > limit * _MAX_NFC_SHRINK
        and len(CONTROL_OR_ZERO_WIDTH.sub("", kept)) > limit * _MAX_NFC_SHRINK
    )


def classify(document: HtmlDocument) -> Verdict:
    """The page's kind and the structural signal that decided it."""
    types = metadata.jsonld_types(document)
    og_type = (document.meta.get("og:type") or "").lower()
    if types & (metadata.ARTICLE_TYPES - {"WebPage"}):
        return Verdict(ARTICLE, "JSON-LD " + "/".join(sorted(types & metadata.ARTICLE_TYPES)))
    if types & metadata.VIDEO_TYPES or og_type.startswith("video"):
        return Verdict(VIDEO, "JSON-LD VideoObject" if types & metadata.VIDEO_TYPES else f"og:type {og_type}")
    if og_type == "article":
        return Verdict(ARTICLE, "og:type article")
    if types & metadata.LISTING_TYPES:
        return Verdict(LISTING, "JSON-LD " + "/".join(sorted(types & metadata.LISTING_TYPES)))
    text: str | None = None
    raw = _BODY_STRING(document.tree)
    # Read once: the notice test below and the listing test after it both want them.
    pieces = _VISIBLE_TEXT(document.tree) if len(raw) <= _MAX_NOTICE_PAGE_CHARS else None
    # A notice page is small even with its scripts, and its visible text is short: only
    # then is it searched (the search costs more than finding a long text long).
    if (
        pieces is not None
        and not _surely_longer_than(pieces, _MAX_NOTICE_CHARS)
        and any(
            pattern.search(raw) or pattern.search(document.title_tag) for pattern in (_INTERSTITIAL, _TAKEDOWN, _ERROR)
        )
    ):
        # Only then is the visible text (without scripts) worth building.
        text = _visible_text(pieces)
    notice = " ".join((document.title_tag, text)) if text is not None and len(text) <= _MAX_NOTICE_CHARS else ""
    if notice and (found := _INTERSTITIAL.search(notice)):
        return Verdict(INTERSTITIAL, f"verification page: {found[0]}")
    if notice and (found := _TAKEDOWN.search(notice)):
        return Verdict(TAKEDOWN, f"takedown notice: {found[0]}")
    if notice and (found := _ERROR.search(notice)):
        return Verdict(ERROR, f"error page: {found[0]}")
    headline_links = {clean_line(a.text_content()) for a in _HEADLINE_LINKS(document.tree)}
    headline_links.discard("")
    if len(headline_links) >= _MIN_HEADLINE_LINKS and text is None:
        text = _visible_text(pieces if pieces is not None else _VISIBLE_TEXT(document.tree))
    if len(headline_links) >= _MIN_HEADLINE_LINKS and text:
        linked = sum(len(clean_line(a.text_content())) for a in _LINK_TEXT(document.tree))
        if linked / len(text) >= _LISTING_LINK_SHARE:
            return Verdict(LISTING, f"{len(headline_links)} headline links, {linked * 100 // len(text)}% of the text linked")
    return Verdict(ARTICLE, "no listing, error or check signal")


def refuse_non_article(document: HtmlDocument) -> str:
    """Raise ``NotAnArticle`` for listings, errors, takedowns and interstitials; else return the kind."""
    verdict = classify(document)
    if verdict.kind in (LISTING, ERROR, INTERSTITIAL, TAKEDOWN):
        raise NotAnArticle(f"{verdict.kind} page ({verdict.reason})", kind=verdict.kind)
    return verdict.kind
