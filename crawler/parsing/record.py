"""From what a parser found to the one ``Article``: the rules every outlet shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.items import Article
from crawler.parsing.dates import utc_iso
from crawler.parsing.html import HtmlDocument
from crawler.parsing.page import NotAnArticle, RawPage
from crawler.parsing.snapshot import Snapshot
from crawler.parsing.text import content_hash, normalise_body, normalise_title
from crawler.parsing.urls import absolute_url, display_url, same_site

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s")
_MAX_STAND_IN_TITLE = 80


@dataclass(slots=True)
class Draft:
    """The fields an outlet parser fills in; ``finish`` turns it into an ``Article``."""

    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    language: str = "zh"
    lines: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: Raw ``<link rel=canonical>`` / ``og:url`` href, checked in ``finish``.
    canonical_href: str | None = None


def page_url(page: RawPage, snapshot: Snapshot) -> str:
    """The archive header's real address wins over the replay address."""
    return display_url(snapshot.source_url or page.url)


def declared_canonical(href: str | None, url: str) -> str | None:
    """The declared canonical URL when it stays on the page's site and names a page.

    Templates that put the home page in ``og:url`` (china.com.cn) declare nothing.
    """
    if not href:
        return None
    resolved = absolute_url(href, url)
    if resolved is None or not same_site(resolved, url):
        return None
    if urlsplit(resolved).path in ("", "/") and urlsplit(url).path not in ("", "/"):
        return None
    return display_url(resolved)


def canonical_href(document: HtmlDocument) -> str | None:
    return document.canonical or document.meta_value("og:url")


def finish(page: RawPage, snapshot: Snapshot, draft: Draft) -> Article:
    """Normalise, check and hash; raise ``NotAnArticle`` when nothing is left."""
    title = normalise_title(draft.title or "")
    body = normalise_body("\n".join(draft.lines))
    if not body:
        raise NotAnArticle("no article text found")
    extra = {key: value for key, value in draft.extra.items() if value not in (None, "", [], {})}
    if not title:
        # A body without a headline is still news; the first sentence stands in
        # for it, and the record says so.
        title = _SENTENCE_END.split(body.splitlines()[0], maxsplit=1)[0][:_MAX_STAND_IN_TITLE]
        extra["title_from_body"] = True
    url = page_url(page, snapshot)
    if snapshot.decoded.conflict:
        # The transport lied about the charset: worth knowing when reading the text.
        extra["encoding_conflict"] = {
            "declared": snapshot.decoded.declared,
            "decoded_as": snapshot.decoded.encoding,
        }
    if snapshot.decoded.replacements:
        # Undecodable bytes were replaced, not trusted: the record says how.  (A stray
        # control character is removed silently, like extra whitespace.)
        extra["encoding"] = snapshot.decoded.provenance()
    fetched = snapshot.archived_at or page.fetched_at
    return Article(
        url=url,
        outlet=page.outlet,
        title=title,
        published_at=draft.published_at,
        author=normalise_title(draft.author) if draft.author else None,
        language=draft.language,
        body=body,
        extra=extra,
        fetched_at=utc_iso(fetched),
        content_hash=content_hash(title, draft.published_at, body),
        declared_canonical_url=declared_canonical(draft.canonical_href, url),
    )
