"""One tokenizer for search and watches: Chinese as overlapping bigrams, other scripts as words.

SQLite's FTS5 tokenizers do not fit Chinese: ``unicode61`` keeps a whole run of Chinese
characters as one token (普京 would only match a sentence that is exactly 普京), and
``trigram`` cannot match a two-character word at all; PostgreSQL's pg_bigm and zhparser are
not available here.  So text is tokenized once, here, in Python, and both backends index
the resulting tokens as plain space-separated words (FTS5 ``unicode61``, PostgreSQL
``to_tsvector('simple', ...)``).  Queries go through the same function, so a query token
always has the same form as an indexed one.

Normalisation: NFKC (full-width Ｌａｔｉｎ and compatibility forms), case folding, and
traditional-to-simplified Chinese (OpenCC ``t2s``), so 軍事 finds 军事.

Chinese runs become overlapping bigrams (中国军队 -> 中国 国军 军队) plus the run's last
character alone, so that every character of the text starts some token: a one-character
query is then a prefix query (``俄*``) that finds the character wherever it stands.
Latin letters and digits are words, split where they touch Chinese (G20峰会 -> g20 峰会).

Change anything here and bump :data:`TOKENIZER_VERSION`: stored indexes record the version
they were built with and are rebuilt when it differs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

#: Bumped on any change to the tokens produced; indexes built with another version are rebuilt.
TOKENIZER_VERSION = 1

# CJK unified ideographs (with extension A and the compatibility block) are "Han".
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+")
_IS_HAN = re.compile(rf"[{_HAN}]")
# A query term: a double-quoted phrase or a bare word, optionally excluded with a leading '-'.
_QUERY_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """NFKC, case-folded, traditional Chinese folded to simplified."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return str(_t2s().convert(folded)) if _IS_HAN.search(folded) else folded


def _run_tokens(run: str) -> list[str]:
    if not _IS_HAN.match(run):
        return [run]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def tokenize(text: str) -> list[str]:
    """The tokens of ``text``, in order (a text's index entry is these joined by spaces)."""
    tokens: list[str] = []
    for match in _RUN.finditer(normalise(text)):
        tokens.extend(_run_tokens(match.group(0)))
    return tokens


def index_text(*parts: str | None) -> str:
    """What an index stores for a document: the tokens of its parts, space-separated."""
    return " ".join(" ".join(tokenize(part)) for part in parts if part)


@dataclass(frozen=True)
class Term:
    """One query term: tokens that must stand together, in order.

    ``prefix`` is set for a one-character Chinese term, matched as a token prefix.
    """

    tokens: tuple[str, ...]
    prefix: bool = False


def _term(text: str) -> Term | None:
    parts: list[str] = []
    for match in _RUN.finditer(normalise(text)):
        run = match.group(0)
        if _IS_HAN.match(run) and len(run) > 1:
            parts.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            parts.append(run)
    if not parts:
        return None
    single_han = len(parts) == 1 and len(parts[0]) == 1 and bool(_IS_HAN.match(parts[0]))
    return Term(tuple(parts), prefix=single_han)


@dataclass(frozen=True)
class Query:
    """A parsed search: every ``include`` term must match, no ``exclude`` term may."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...]

    @property
    def empty(self) -> bool:
        return not self.include


def parse_query(text: str) -> Query:
    """Words and ``"quoted phrases"``; ``-word`` excludes.  Never raises on user input.

    A Chinese word of two characters is one token; a longer one is a phrase of its bigrams
    (the index's final single character is not needed: every bigram of the query is there).
    """
    include: list[Term] = []
    exclude: list[Term] = []
    for match in _QUERY_TERM.finditer(text):
        negate = bool(match.group(1) or match.group(3))
        term = _term(match.group(2) if match.group(2) is not None else match.group(4))
        if term is not None:
            (exclude if negate else include).append(term)
    return Query(tuple(include), tuple(exclude))


def _term_in(term: Term, tokens: list[str]) -> bool:
    width = len(term.tokens)
    if term.prefix:
        return any(token.startswith(term.tokens[0]) for token in tokens)
    first = term.tokens[0]
    return any(
        tokens[i] == first and tuple(tokens[i : i + width]) == term.tokens
        for i in range(len(tokens) - width + 1)
    )


def matches(query: Query, tokens: list[str]) -> bool:
    """Whether a document with these tokens (from :func:`tokenize`) answers ``query``."""
    if query.empty:
        return False
    return all(_term_in(t, tokens) for t in query.include) and not any(
        _term_in(t, tokens) for t in query.exclude
    )
