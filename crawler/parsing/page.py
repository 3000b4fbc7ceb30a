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


class NotAnArticle(ParseError):
    """The page is valid but is not an article (a listing, a deleted or image-only post)."""
