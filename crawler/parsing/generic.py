"""Any news page: trafilatura for the text, ``<meta>``/JSON-LD for the rest.

The outlet parsers build on these readers and add what they know about their
sites; this module alone is the ``generic`` parser for pages of unknown outlets.
"""

from __future__ import annotations

import re

from crawler.items import Article
from crawler.parsing import cleaning, furniture, kind, markdown, metadata
from crawler.parsing.html import HtmlDocument, extract_lines, load_document, split_body_lines
from crawler.parsing.page import LISTING, NotAnArticle, RawPage
from crawler.parsing.record import Draft, canonical_href, finish
from crawler.parsing.snapshot import Snapshot, read_snapshot
from crawler.parsing.text import clean_line

_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# Listing pages: their "text" is headlines (link texts) and teasers ("标题... 摘要", "[详细]").
_TEASER = re.compile(r"(?:\.\.\.|…)\s*\S|\[详细\]$|更多\s*>>$")
_LISTING_MIN_LINES, _LISTING_SHARE, _LISTING_MAX_PROSE = 4, 0.5, 300
# Lists of other stories: "2021-01-19标题" lines; a headline shorter than this is not one
# (a link line is matched on its first 2 × this many characters: a teaser may follow
# the linked headline on the line); at least this many headlines make a list, and this
# many link texts in a row a breadcrumb trail.
_DATE_PREFIX = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*")
_LINK_LINE_MIN, _LINK_TAIL_MIN, _CRUMBS_MIN = 8, 3, 2


def language_of(text: str) -> str:
    """``zh`` when there is a Han character for every three Latin letters or fewer, else ``en``.

    The item knows only ``zh`` and ``en``; other languages (seen only on the
    benchmark pages) come out as ``en``.
    """
    sample = text[:5000]
    return "zh" if len(_HAN.findall(sample)) * 3 >= len(_LATIN.findall(sample)) else "en"


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


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _linked_line(line: str, anchors: set[str], prefixes: set[str]) -> bool:
    """A headline link's text, or a date line of such a list."""
    bare = _squeezed(_DATE_PREFIX.sub("", line))
    if not bare:
        return True
    return len(bare) >= _LINK_LINE_MIN and (bare in anchors or bare[: _LINK_LINE_MIN * 2] in prefixes)


def drop_link_tail(document: HtmlDocument, lines: list[str]) -> list[str]:
    """The body without the other stories' headlines after it and the breadcrumbs above it.

    A boilerplate classifier often takes the "related"/"latest" list after the
    story for more of it: a run of three or more lines at the end that are each
    the text of a link on the page (a date before the headline allowed) is such
    a list.  Two or more link texts in a row before the first other line are a
    breadcrumb trail.  A story's own text is rarely all link text, line for line.
    Texts are compared without whitespace (cheap, and the template's line breaks
    inside a link do not matter).
    """
    if len(lines) < _CRUMBS_MIN + 1:
        return lines
    anchors = {_squeezed(link.text_content()) for link in document.tree.iter("a")}
    prefixes = {text[: _LINK_LINE_MIN * 2] for text in anchors if len(text) >= _LINK_LINE_MIN * 2}
    start = len(lines)
    while start > 0 and _linked_line(lines[start - 1], anchors, prefixes):
        start -= 1
    headlines = sum(1 for line in lines[start:] if _DATE_PREFIX.sub("", line))
    if headlines >= _LINK_TAIL_MIN and start > 0:
        lines = lines[:start]
    # Breadcrumbs above the story: a run of link texts ("Hindi News", "Dharm").
    end = 0
    while end < len(lines) and _squeezed(lines[end]) in anchors:
        end += 1
    if end >= _CRUMBS_MIN and end < len(lines):
        lines = lines[end:]
    return lines


def draft_from_html(
    document: HtmlDocument, lines: list[str], headings: list[str] | None = None
) -> Draft:
    """Title, dates, author and canonical from what the page declares; body lines as given."""
    draft = Draft(
        author=read_author(document),
        language=language_of("\n".join(lines)),
        lines=lines,
        canonical_href=canonical_href(document),
    )
    if title := metadata.reconcile_title(document, headings):
        draft.title, draft.title_source = title.value, title.source
    if published := metadata.read_published(document):
        draft.offer_published(published.value, published.source)
    if updated := metadata.read_updated(document):
        draft.offer_updated(updated.value, updated.source)
    return draft


def parse_document(page: RawPage, snapshot: Snapshot) -> Article:
    if snapshot.form in ("html", "fragment"):
        document = load_document(snapshot.content, fragment=snapshot.form == "fragment")
        page_kind = kind.refuse_non_article(document) if snapshot.form == "html" else kind.ARTICLE
        furniture.strip(document.tree, (*furniture.COMMON, *furniture.PROMO), lists=True)
        lines = extract_lines(document.tree)
        lines = cleaning.drop(split_body_lines(document.tree, lines) or lines, cleaning.COMMON_FURNITURE)
        if reason := listing_reason(document, lines):
            raise NotAnArticle(reason, kind=LISTING)
        draft = draft_from_html(document, cleaning.drop_teaser_runs(drop_link_tail(document, lines)))
        if page_kind != kind.ARTICLE:
            draft.extra["page_kind"] = page_kind
        return finish(page, snapshot, draft)
    lines = markdown.render(snapshot.content)
    title = markdown.heading(snapshot.content) or (lines[0] if lines else "")
    return finish(
        page, snapshot, Draft(title=title, language=language_of(snapshot.content), lines=lines)
    )


def parse(page: RawPage) -> Article:
    return parse_document(page, read_snapshot(page))
