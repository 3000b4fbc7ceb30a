"""Pure page parsers: ``RawPage`` in, ``Article`` out; no Scrapy, no database.

``parse(page, "portal")`` dispatches to the named parser.  Every parser reads
the outlet's live HTML as well as its archived snapshot forms, and raises
``ParseError`` (bad input) or ``NotAnArticle`` (a valid page with no article).
"""

from __future__ import annotations

from collections.abc import Callable

from crawler.items import Article
from crawler.parsing import bbc, ecns, generic, portal, rfi, wechat
from crawler.parsing.page import NotAnArticle, ParseError, RawPage

Parser = Callable[[RawPage], Article]

PARSERS: dict[str, Parser] = {
    "wechat": wechat.parse,
    "portal": portal.parse,
    "ecns": ecns.parse,
    "rfi": rfi.parse,
    "bbc": bbc.parse,
    "generic": generic.parse,
}

__all__ = ["PARSERS", "NotAnArticle", "ParseError", "RawPage", "parse"]


def parse(page: RawPage, parser: str) -> Article:
    """Parse ``page`` with the parser registered as ``parser``."""
    try:
        function = PARSERS[parser]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise KeyError(f"unknown parser {parser!r}; known parsers: {known}") from None
    return function(page)
