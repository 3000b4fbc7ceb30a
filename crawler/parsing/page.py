"""What a parser reads: one fetched (or saved) page, with no Scrapy inside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RawPage:
    """A page as it came off the wire or out of a fixture file."""

    #: The URL requested (or ``fixture:<outlet>/<file>`` for a saved page of unknown address).
    url: str
    #: The raw bytes, undecoded: the parser decides the encoding.
    body: bytes
    #: Response headers, keys lower-cased; empty for a fixture file.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Outlet name recorded on the article.
    outlet: str
    #: When the page was fetched (timezone-aware).
    fetched_at: datetime


class ParseError(Exception):
    """The page cannot give an article; ``reason`` is one line for the run summary."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: What a page that is not stored as an article turned out to be.
LISTING = "listing"  # a home, section or topic page: its links feed discovery
ERROR = "error"  # the site's error page (bad parameters, not found)
TAKEDOWN = "takedown"  # deleted by its author or removed by the platform
INTERSTITIAL = "interstitial"  # an anti-bot check or a consent wall instead of the page
IMAGE_POST = "image_post"  # pictures without text
VIDEO = "video"  # a video page without text
EMPTY = "empty"  # an HTML page with no text the parser could find
PAGE_KINDS = (LISTING, ERROR, TAKEDOWN, INTERSTITIAL, IMAGE_POST, VIDEO, EMPTY)


class NotAnArticle(ParseError):
    """The page is valid but is not an article; ``kind`` says what it is (``PAGE_KINDS``)."""

    def __init__(self, reason: str, *, kind: str = EMPTY) -> None:
        super().__init__(reason)
        self.kind = kind
