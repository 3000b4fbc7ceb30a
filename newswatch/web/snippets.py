"""A snippet of an article's text around the first match of a query, with the matches marked.

The index holds normalised tokens (NFKC, case-folded, simplified Chinese), so the match is
looked for in a normalised copy of the text whose characters map back to the original:
the snippet shows the article's own characters (軍事 stays 軍事 when 军事 was searched).
The result is a list of plain-text pieces; templates escape them, and mark the hits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from storage.textsearch import Query, Term, normalise

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Characters of context before the first match and the snippet's length.
BEFORE, LENGTH = 40, 160


@dataclass(frozen=True)
class Piece:
    text: str
    hit: bool = False


def _normalised_with_map(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the original one."""
    whole = normalise(text)
    if len(whole) == len(text):  # the usual case: every step kept one character per character
        return whole, list(range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = normalise(ch) if not ch.isascii() else ch.lower()
        chars.append(folded)
        origin.extend([i] * len(folded))
    return "".join(chars), origin


def _pattern(term: Term) -> str:
    # Overlapping Chinese bigrams (军事 事合 合作) chain back into the run 军事合作.
    pieces: list[str] = []
    for token in term.tokens:
        if pieces and len(token) == 2 and _HAN.match(token) and pieces[-1][-1] == token[0] and _HAN.match(pieces[-1][-1]):
            pieces[-1] += token[1]
        else:
            pieces.append(token)
    return r"[\W_]*".join(re.escape(p) for p in pieces)


def snippet(body: str, query: Query) -> list[Piece]:
    """About LENGTH characters of ``body`` around the first hit, hits marked; the start if none."""
    body = unicodedata.normalize("NFC", body)
    if query.empty:
        return [Piece(_shorten(body, 0))]
    normal, origin = _normalised_with_map(body)
    pattern = re.compile("|".join(f"(?:{_pattern(t)})" for t in query.include))
    spans = [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(normal) if m.end() > m.start()]
    if not spans:
        return [Piece(_shorten(body, 0))]
    start = max(0, spans[0][0] - BEFORE)
    end = min(len(body), start + LENGTH)
    pieces: list[Piece] = [Piece("…")] if start else []
    cursor = start
    for hit_start, hit_end in spans:
        if hit_start < cursor:
            continue
        if hit_start >= end:
            break
        pieces.append(Piece(body[cursor:hit_start]))
        pieces.append(Piece(body[hit_start:hit_end], hit=True))
        cursor = hit_end
    pieces.append(Piece(body[cursor:max(end, cursor)]))
    if max(end, cursor) < len(body):
        pieces.append(Piece("…"))
    return [p for p in pieces if p.text]


def _shorten(body: str, start: int) -> str:
    part = body[start : start + LENGTH]
    return part + ("…" if start + LENGTH < len(body) else "")


def plain(pieces: list[Piece]) -> str:
    return "".join(p.text for p in pieces)
