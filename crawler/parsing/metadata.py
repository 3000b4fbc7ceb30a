"""What a page declares about itself: headline, dates, site name and page type.

Structured data comes first (JSON-LD ``NewsArticle``/``ReportageNewsArticle``/
``VideoObject`` including ``@graph``, Open Graph and ``article:*`` metas), and
every value is returned with the name of its source so a record can say where
its title and dates came from (``extra.title_source`` / ``published_source``).

Site names are stripped with what the page itself declares (``og:site_name``,
JSON-LD ``publisher.name``, ``application-name``) before the generic
"short tail after a separator" rule, and the visible ``<h1>`` is reconciled with
the metadata: when a metadata title is the ``<h1>`` plus affixes (site name,
column name, SEO keywords) or an SEO rewording of it, the reader's headline wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crawler.parsing.dates import SHANGHAI, parse_iso
from crawler.parsing.html import HtmlDocument
from crawler.parsing.text import clean_line, comparable

#: JSON-LD types whose object describes the page's own story.
ARTICLE_TYPES = frozenset(
    {"NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "Article", "BlogPosting",
     "OpinionNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting", "Report", "WebPage"}
)  # fmt: skip
VIDEO_TYPES = frozenset({"VideoObject"})
LISTING_TYPES = frozenset({"CollectionPage", "ItemList", "SearchResultsPage", "SiteNavigationElement"})

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
UPDATED_METAS = ("article:modified_time", "og:updated_time", "datemodified", "last-modified")

_HAN = re.compile(r"[\u3400-\u9fff]")
# "Headline - Site", "Headline_频道_网站", "Headline--频道--人民网", "Headline | Site",
# "Headline-新华网": the last separator and what follows it.
_TITLE_TAIL = re.compile(
    r"(?:\s*(?:[_|｜]|--)\s*|\s[-–—]\s|-(?=[\u3400-\u9fff]))(?P<tail>[^_|｜]*)$"
)
_SEPARATOR = r"(?:\s*(?:[_|｜]|--|-)\s*|\s[-–—]\s)"
# A site or section name is short; a longer tail is part of the headline.
_MAX_SITE_NAME_HAN, _MAX_SITE_NAME_LATIN = 10, 24
# A headline shorter than this is a logo or a section name, not a story's headline.
_MIN_HEADLINE = 4
# Character-bigram Dice above which an <h1> and a metadata title are one headline worded twice.
_SAME_STORY = 0.5


@dataclass(frozen=True, slots=True)
class Sourced:
    """A value and where on the page it was read."""

    value: str
    source: str


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {value for value in kind if isinstance(value, str)}
    return set()


def jsonld_types(document: HtmlDocument) -> set[str]:
    return {kind for item in document.jsonld for kind in _types(item)}


def story_objects(document: HtmlDocument) -> list[dict[str, Any]]:
    """JSON-LD objects describing the story (articles first, then videos)."""
    articles = [item for item in document.jsonld if _types(item) & (ARTICLE_TYPES - {"WebPage"})]
    videos = [item for item in document.jsonld if _types(item) & VIDEO_TYPES]
    return articles + videos


def _story_value(document: HtmlDocument, key: str) -> Any:
    for item in story_objects(document):
        if item.get(key):
            return item[key]
    return document.jsonld_value(key)


def site_names(document: HtmlDocument) -> list[str]:
    """The names the page gives its own site, longest first (so a full name goes before a part)."""
    names = [document.meta.get("og:site_name"), document.meta.get("application-name")]
    for item in document.jsonld:
        publisher = item.get("publisher")
        for entry in publisher if isinstance(publisher, list) else [publisher]:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                names.append(entry["name"])
        is_site = _types(item) & {"WebSite", "NewsMediaOrganization", "Organization"}
        if is_site and isinstance(item.get("name"), str):
            names.append(item["name"])
    cleaned = {clean_line(name) for name in names if isinstance(name, str) and clean_line(name)}
    return sorted(cleaned, key=len, reverse=True)


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


def strip_declared_names(title: str, names: list[str]) -> str:
    """Remove a declared site name at either end of ``title`` (with its separator)."""
    for name in names:
        escaped = re.escape(name)
        for pattern in (f"{_SEPARATOR}{escaped}$", f"^{escaped}{_SEPARATOR}"):
            stripped = re.sub(pattern, "", title).strip()
            if len(stripped) >= _MIN_HEADLINE:
                title = stripped
    return title


def clean_title(raw: str, names: list[str]) -> str:
    return strip_site_suffix(strip_declared_names(clean_line(raw), names))


def _bigrams(text: str) -> set[str]:
    text = comparable(text).lower()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def similarity(first: str, second: str) -> float:
    """Dice coefficient over character bigrams (whitespace ignored)."""
    a, b = _bigrams(first), _bigrams(second)
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def metadata_titles(document: HtmlDocument) -> list[Sourced]:
    """Declared titles in order of trust: JSON-LD headline, Open Graph, Twitter, ``<title>``."""
    found: list[Sourced] = []
    headline = _story_value(document, "headline")
    if isinstance(headline, str):
        found.append(Sourced(headline, "jsonld:headline"))
    for key in ("og:title", "twitter:title"):
        if document.meta.get(key):
            found.append(Sourced(document.meta[key], f"meta:{key}"))
    if document.title_tag:
        found.append(Sourced(document.title_tag, "title"))
    return [item for item in found if clean_line(item.value)]


def reconcile_title(document: HtmlDocument, headings: list[str] | None = None) -> Sourced | None:
    """The page's headline: the visible ``<h1>`` when the metadata agrees it is the story's.

    ``headings`` are the visible headline candidates (default: the page's
    distinct ``<h1>`` texts); a parser that knows its template passes its own.
    """
    names = site_names(document)
    declared = metadata_titles(document)
    cleaned = [Sourced(clean_title(item.value, names), item.source) for item in declared]
    candidates = [
        text for text in (headings if headings is not None else document.h1_texts())
        if len(comparable(text)) >= _MIN_HEADLINE and text not in names
    ]  # fmt: skip
    for heading in candidates:
        key = comparable(heading)
        for item in cleaned:
            if comparable(item.value) == key:
                return Sourced(heading, item.source)
        for raw, item in zip(declared, cleaned, strict=True):
            # The metadata title is this headline plus affixes (site, column, keywords);
            # a logo or section name in an <h1> is a small part of it, not most of it.
            if key in comparable(raw.value) and len(key) * 2 >= len(comparable(item.value)):
                return Sourced(heading, "h1")
    if candidates and (not cleaned or len(candidates) == 1):
        heading = candidates[0]
        if not cleaned or similarity(heading, cleaned[0].value) >= _SAME_STORY:
            # An SEO title reworded from the visible headline: the reader's wins.
            return Sourced(heading, "h1")
    return cleaned[0] if cleaned else None


def _first_date(document: HtmlDocument, metas: tuple[str, ...], jsonld_key: str) -> Sourced | None:
    value = _story_value(document, jsonld_key)
    jsonld = parse_iso(value) if isinstance(value, str) else None
    for key in metas:
        parsed = parse_iso(document.meta.get(key), SHANGHAI)
        if parsed:
            return Sourced(parsed, f"meta:{key}")
    return Sourced(jsonld, f"jsonld:{jsonld_key}") if jsonld else None


def read_published(document: HtmlDocument) -> Sourced | None:
    return _first_date(document, PUBLISHED_METAS, "datePublished")


def read_updated(document: HtmlDocument) -> Sourced | None:
    return _first_date(document, UPDATED_METAS, "dateModified")
