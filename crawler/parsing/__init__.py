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

#: The outlet types: each has a parser here, a spider (crawler.spiders.outlets) and may be
#: named as an outlet's ``spider`` in the config.  The one list of them.
OUTLET_PARSERS: dict[str, Parser] = {
    "wechat": wechat.parse,
    "portal": portal.parse,
    "ecns": ecns.parse,
    "rfi": rfi.parse,
    "bbc": bbc.parse,
}

#: Every parser by name: the outlet parsers, and the generic one they fall back on.
PARSERS: dict[str, Parser] = {**OUTLET_PARSERS, "generic": generic.parse}

__all__ = ["OUTLET_PARSERS", "PARSERS", "NotAnArticle", "ParseError", "RawPage", "parse"]


def parse(page: RawPage, parser: str) -> Article:
    """Parse ``page`` with the parser registered as ``parser``."""
    try:
        function = PARSERS[parser]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise KeyError(f"unknown parser {parser!r}; known parsers: {known}") from None
    return function(page)
