"""Any news page: trafilatura for the text, ``<meta>``/JSON-LD for the rest.

The outlet parsers build on these readers and add what they know about their
sites; this module alone is the ``generic`` parser for pages of unknown outlets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crawler.items import Article
from crawler.parsing import cleaning, markdown
from crawler.parsing.dates import SHANGHAI, parse_iso
from crawler.parsing.html import HtmlDocument, extract_lines, load_document
from crawler.parsing.page import NotAnArticle, RawPage
from crawler.parsing.record import Draft, canonical_href, finish
from crawler.parsing.snapshot import Snapshot, read_snapshot
from crawler.parsing.text import clean_line

#: Publication-date metas, most specific first (og:time and apub:time are Chinese portals').
PUBLISHED_METAS = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "datepublished",
    "publishdate",
    "pubdate",
    "publish_date",
    "og:time",
    "apub:time",
    "cxenseparse:publishtime",
    "sailthru.date",
    "dc.date.issued",
    "date",
)

_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# "Headline - Site", "Headline_频道_网站", "Headline--频道--人民网", "Headline | Site",
# "Headline-新华网": the last separator and what follows it.
_TITLE_TAIL = re.compile(
    r"(?:\s*(?:[_|｜]|--)\s*|\s[-–—]\s|-(?=[\u3400-\u9fff]))(?P<tail>[^_|｜]*)$"
)
# Listing pages: their "text" is headlines (link texts) and teasers ("标题... 摘要", "[详细]").
_TEASER = re.compile(r"(?:\.\.\.|…)\s*\S|\[详细\]$|更多\s*>>$")
_LISTING_MIN_LINES, _LISTING_SHARE, _LISTING_MAX_PROSE = 4, 0.5, 300

# A site or section name is short; a longer tail is part of the headline.
_MAX_SITE_NAME_HAN, _MAX_SITE_NAME_LATIN = 10, 24


def language_of(text: str) -> str:
    """``zh`` when there is a Han character for every three Latin letters or fewer, else ``en``.

    The item knows only ``zh`` and ``en``; other languages (seen only on the
    benchmark pages) come out as ``en``.
    """
    sample = text[:5000]
    return "zh" if len(_HAN.findall(sample)) * 3 >= len(_LATIN.findall(sample)) else "en"


def strip_site_suffix(title: str) -> str:
    """Remove trailing site and section names, one short segment at a time."""
    while match := _TITLE_TAIL.search(title):
        tail = match["tail"].strip()
        if len(tail) > (_MAX_SITE_NAME_HAN if _HAN.search(tail) else _MAX_SITE_NAME_LATIN):
            break
        stripped = title[: match.start()].strip()
        if len(stripped) < 4 or len(stripped) <= len(match["tail"]):
            break
        title = stripped
    return title


def read_title(document: HtmlDocument) -> str | None:
    for candidate in (
        document.meta_value("og:title", "twitter:title"),
        document.jsonld_value("headline"),
    ):
        if isinstance(candidate, str) and clean_line(candidate):
            return strip_site_suffix(clean_line(candidate))
    h1 = document.h1_texts()
    if len(h1) == 1:
        return h1[0]
    return strip_site_suffix(document.title_tag) if document.title_tag else None


def read_published(document: HtmlDocument, metas: Sequence[str] = PUBLISHED_METAS) -> str | None:
    for key in metas:
        published = parse_iso(document.meta.get(key), SHANGHAI)
        if published:
            return published
    value = document.jsonld_value("datePublished")
    return parse_iso(value) if isinstance(value, str) else None


def _person_name(value: object) -> str | None:
    if isinstance(value, list):
        names = [name for item in value if (name := _person_name(item))]
        return ", ".join(names) or None
    if isinstance(value, dict):
        if value.get("@type") == "Organization":
            return None
        value = value.get("name")
    if not isinstance(value, str):
        return None
    name = clean_line(value)
    # CMS ids ("105092") and URLs are not bylines.
    if not name or name.isdigit() or "://" in name or len(name) > 60:
        return None
    return name


def read_author(document: HtmlDocument) -> str | None:
    return _person_name(document.jsonld_value("author"))


def listing_reason(document: HtmlDocument, lines: list[str]) -> str | None:
    """Why the page looks like a listing rather than an article, or ``None``."""
    if document.meta.get("og:type") == "article" or len(lines) < _LISTING_MIN_LINES:
        return None
    anchors = {clean_line(link.text_content()) for link in document.tree.iter("a")}
    listed = [line for line in lines if line in anchors or _TEASER.search(line)]
    prose = sum(len(line) for line in lines) - sum(len(line) for line in listed)
    if len(listed) >= len(lines) * _LISTING_SHARE and prose < _LISTING_MAX_PROSE:
        return "listing page: the text is headlines and teasers"
    return None


def draft_from_html(document: HtmlDocument, lines: list[str]) -> Draft:
    """Title, date, author and canonical from metadata; body lines as given."""
    return Draft(
        title=read_title(document),
        published_at=read_published(document),
        author=read_author(document),
        language=language_of("\n".join(lines)),
        lines=lines,
        canonical_href=canonical_href(document),
    )


def parse_document(page: RawPage, snapshot: Snapshot) -> Article:
    if snapshot.form in ("html", "fragment"):
        document = load_document(snapshot.content, fragment=snapshot.form == "fragment")
        lines = cleaning.drop(extract_lines(document.tree), cleaning.COMMON_FURNITURE)
        if reason := listing_reason(document, lines):
            raise NotAnArticle(reason)
        return finish(page, snapshot, draft_from_html(document, lines))
    lines = markdown.render(snapshot.content)
    title = (
        snapshot.header_title or markdown.heading(snapshot.content) or (lines[0] if lines else "")
    )
    body = [line for line in lines if line != title]
    return finish(
        page, snapshot, Draft(title=title, language=language_of(snapshot.content), lines=body)
    )


def parse(page: RawPage) -> Article:
    return parse_document(page, read_snapshot(page))
