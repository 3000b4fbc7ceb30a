"""From what a parser found to the one ``Article``: the rules every outlet shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawler.items import Article
from crawler.parsing.dates import plausible, utc_iso
from crawler.parsing.html import HtmlDocument
from crawler.parsing.page import EMPTY, NotAnArticle, RawPage
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
    #: Where the title and the dates were read (``meta:og:title``, ``h1``, ``jsonld:datePublished``).
    title_source: str | None = None
    published_source: str | None = None
    #: Last modification the page states (``dateModified``, "更新时间"), with its source.
    updated_at: str | None = None
    updated_source: str | None = None

    def offer_published(self, value: str | None, source: str) -> None:
        """Take ``value`` as the publication date unless one was already found."""
        if value and not self.published_at:
            self.published_at, self.published_source = value, source

    def offer_updated(self, value: str | None, source: str) -> None:
        if value and not self.updated_at:
            self.updated_at, self.updated_source = value, source


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


def _checked_dates(
    draft: Draft, fetched: datetime, extra: dict[str, Any], *, record_sources: bool
) -> str | None:
    """The publication date after the plausibility check; the update and rejections go to ``extra``."""
    published, reason = plausible(draft.published_at, fetched)
    if reason:
        extra["published_rejected"] = reason
    updated, reason = plausible(draft.updated_at, fetched)
    if reason:
        extra["updated_rejected"] = reason
    # An update equal to the publication is no update.
    if updated and updated != published and "updated_at" not in extra:
        extra["updated_at"] = updated
        if record_sources and draft.updated_source:
            extra["updated_source"] = draft.updated_source
    if published and record_sources and draft.published_source:
        extra["published_source"] = draft.published_source
    return published


def finish(page: RawPage, snapshot: Snapshot, draft: Draft) -> Article:
    """The steps every outlet shares: normalise, check dates, drop the title line, hash.

    An archived capture's header title (the archive's record of the headline)
    wins over what the parser read, and a body line that repeats the title is
    the headline printed above the text, not text.  Raise ``NotAnArticle`` when
    nothing is left.
    """
    title = normalise_title(snapshot.header_title or draft.title or "")
    body = normalise_body("\n".join(line for line in draft.lines if normalise_title(line) != title))
    if not body:
        raise NotAnArticle("no article text found", kind=EMPTY)
    extra = {key: value for key, value in draft.extra.items() if value not in (None, "", [], {})}
    # Sources are recorded for live HTML pages, where several declare each field;
    # an archived capture has one (its header), so its record stays as it was.
    record_sources = snapshot.form == "html"
    fetched = snapshot.archived_at or page.fetched_at
    published = _checked_dates(draft, fetched, extra, record_sources=record_sources)
    if record_sources and draft.title_source and not snapshot.header_title:
        extra["title_source"] = draft.title_source
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
    return Article(
        url=url,
        outlet=page.outlet,
        title=title,
        published_at=published,
        author=normalise_title(draft.author) if draft.author else None,
        language=draft.language,
        body=body,
        extra=extra,
        fetched_at=utc_iso(fetched),
        content_hash=content_hash(title, published, body),
        declared_canonical_url=declared_canonical(draft.canonical_href, url),
    )
