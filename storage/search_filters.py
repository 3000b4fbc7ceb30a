"""The search page's filters (outlet, language, published day) as the full-text index holds them.

A filtered search of a common word used to find every match in the index and then join
each to its article row to test the filter: 83 ms of CPU for 中国 with ``outlet=`` at a
million articles on SQLite.  The index now holds the filter values itself, so the engine
answers word and filter together:

* SQLite: a second FTS5 column ``filters`` holds one token per value (:func:`filter_tokens`)
  and the MATCH expression ANDs them with the query (:func:`fts5_filters`); FTS5 intersects
  the doclists in rowid order and still stops after a page.  The user's query is confined
  to the ``tokens`` column, so no text can match a filter token.
* PostgreSQL: plain columns ``outlet``, ``language`` and ``day`` beside the tsvector, each
  with a btree index on (value, article_id): the newest-first walk runs down that index
  and de-TOASTs only the rows that pass the filter (storage/search_pg.py).

``day`` is the first ten characters of ``published_at`` (stored as the page gave it, ISO
8601), which is what the article-row filter compared: for a 10-character bound ``b``,
``published_at >= b`` exactly when ``published_at[:10] >= b``.  FTS5 has no ranges, so a
day is indexed at every level of its digits (``d2``, ``d20``, ``d202``, ``d2026``,
``d202611``, ``d20261129``) and a range becomes the OR of the fewest prefixes that cover it
(:func:`day_cover`: a few dozen at most).  A published date whose first ten characters are
not a calendar-shaped ``YYYY-MM-DD`` gets no day token (the pipeline only stores ISO dates).
"""

from __future__ import annotations

import re
from datetime import date

#: Token prefixes of the FTS5 ``filters`` column; values are hex-encoded (FTS5's
#: ``unicode61`` would split an outlet name such as ``rfi-zh`` at the dash).
OUTLET, LANGUAGE, DAY = "o", "l", "d"
_DAY = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
#: Lengths of the indexed prefixes of YYYYMMDD: millennium, century, decade, year, month, day.
_LEVELS = (1, 2, 3, 4, 6, 8)


def _hex(prefix: str, value: str) -> str:
    return prefix + value.encode().hex()


def day_of(published_at: str | None) -> str | None:
    """The published day as the filters compare it: the first ten characters."""
    return published_at[:10] if published_at else None


def filter_tokens(outlet: str, language: str, published_at: str | None) -> str:
    """The FTS5 ``filters`` column of an article: space-separated tokens."""
    tokens = [_hex(OUTLET, outlet), _hex(LANGUAGE, language)]
    match = _DAY.match(published_at or "")
    if match:
        key = "".join(match.groups())
        tokens += [DAY + key[:n] for n in _LEVELS]
    return " ".join(tokens)


def _key(day: date) -> str:
    return f"{day.year:04}{day.month:02}{day.day:02}"


def _children(prefix: str) -> list[str]:
    if len(prefix) < 4:
        return [prefix + digit for digit in "0123456789"]
    if len(prefix) == 4:
        return [f"{prefix}{month:02}" for month in range(1, 13)]
    return [f"{prefix}{day:02}" for day in range(1, 32)]


def day_cover(date_from: date | None, date_to: date | None) -> list[str]:
    """The fewest day-prefix tokens whose days are exactly those in [from, to] (inclusive).

    Either bound may be open.  Empty when the range is empty.
    """
    low = _key(date_from) if date_from else "00000101"
    high = _key(date_to) if date_to else "99991231"
    cover: list[str] = []

    def visit(prefix: str) -> None:
        first, last = prefix + "00000101"[len(prefix):], prefix + "99991231"[len(prefix):]
        if last < low or first > high:
            return
        if prefix and low <= first and last <= high:
            cover.append(DAY + prefix)
            return
        for child in _children(prefix):
            visit(child)

    if low <= high:
        visit("")
    return cover


def _fts5_or(tokens: list[str]) -> str:
    # Tokens are [a-z0-9]: no quoting needed beyond FTS5's string syntax.
    return "(" + " OR ".join(f'"{token}"' for token in tokens) + ")"


def fts5_filters(outlet: str | None, language: str | None, days: list[str] | None) -> str | None:
    """The filters' part of an FTS5 MATCH, or None without filters.

    ``days`` is :func:`day_cover` of the date range (None: no range); the caller tests an
    empty range itself (FTS5 has no empty OR).
    """
    parts = []
    if outlet:
        parts.append(f'filters : "{_hex(OUTLET, outlet)}"')
    if language:
        parts.append(f'filters : "{_hex(LANGUAGE, language)}"')
    if days:
        parts.append(f"filters : {_fts5_or(days)}")
    return " AND ".join(parts) if parts else None
