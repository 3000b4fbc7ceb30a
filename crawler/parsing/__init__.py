"""Pure page parsers: ``RawPage`` in, ``Article`` out; no Scrapy, no database.

``parse(page, "portal")`` dispatches to the named parser.  Every parser reads
the outlet's live HTML as well as its archived snapshot forms, and raises
``ParseError`` (bad input) or ``NotAnArticle`` (a valid page with no article).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from importlib import import_module

from crawler.items import Article
from crawler.parsing.page import NotAnArticle, ParseError, RawPage

Parser = Callable[[RawPage], Article]


class ParserTable(Mapping[str, Parser]):
    """Parsers by name; the parser named ``x`` is ``crawler.parsing.x.parse``.

    Each module is imported at its parser's first lookup: the names alone (which the
    outlets config is checked against) must not load lxml and trafilatura, which
    commands that only read the config never need.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = names
        self._loaded: dict[str, Parser] = {}

    def __getitem__(self, name: str) -> Parser:
        function = self._loaded.get(name)
        if function is None:
            if name not in self._names:
                raise KeyError(name)
            function = self._loaded[name] = import_module(f"{__name__}.{name}").parse
        return function

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


#: The outlet types: each has a parser here, a spider (crawler.spiders.outlets) and may be
#: named as an outlet's ``spider`` in the config.  The one list of them.
OUTLET_PARSERS = ParserTable(("wechat", "portal", "ecns", "rfi", "bbc"))

#: Every parser by name: the outlet parsers, and the generic one they fall back on.
PARSERS = ParserTable((*OUTLET_PARSERS, "generic"))

__all__ = ["OUTLET_PARSERS", "PARSERS", "NotAnArticle", "ParseError", "ParserTable", "RawPage", "parse"]


def parse(page: RawPage, parser: str) -> Article:
    """Parse ``page`` with the parser registered as ``parser``."""
    try:
        function = PARSERS[parser]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise KeyError(f"unknown parser {parser!r}; known parsers: {known}") from None
    return function(page)
