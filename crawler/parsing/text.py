"""Text normalisation shared by every parser: one paragraph a line, stable hashes."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata

# \s covers U+3000 (ideographic space) and U+00A0; zero-width characters are not
# whitespace to Python but are invisible furniture in pasted Chinese text.
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# Control characters (an ``&#27;`` entity, a NUL) are never text: removed, not kept.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Either of the two (one class made of both): one search tells whether the two
# substitutions can change anything.
CONTROL_OR_ZERO_WIDTH = re.compile(f"[{_CONTROL.pattern[1:-1]}{_ZERO_WIDTH.pattern[1:-1]}]")


def clean_line(line: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    # The usual line has neither kind of character (and NFC never makes one): one scan
    # instead of two substitutions, and no NFC copy of a line that is already NFC.
    if CONTROL_OR_ZERO_WIDTH.search(line) is None:
        if not unicodedata.is_normalized("NFC", line):
            line = unicodedata.normalize("NFC", line)
    else:
        line = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", _CONTROL.sub(" ", line)))
    return _INLINE_SPACE.sub(" ", line).strip()


def normalise_body(text: str) -> str:
    """Plain text, one paragraph a line, no blank lines, no surrounding spaces."""
    lines = (clean_line(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def normalise_title(title: str) -> str:
    """One line, whitespace collapsed; an ideographic space (U+3000) stays as the
    publisher's separator between the two halves of a Chinese headline."""
    halves = (clean_line(part) for part in re.split("\u3000+", title.replace("\n", " ")))
    return "\u3000".join(half for half in halves if half)


def comparable(text: str) -> str:
    """The text with all whitespace removed: what a whitespace-only edit cannot change."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", _ZERO_WIDTH.sub("", text)))


def content_hash(title: str, published_at: str | None, body: str) -> str:
    """sha256 over what makes a new version: title, publication date and body.

    Whitespace is removed first, so re-wrapped paragraphs or a changed indent are
    not an edit.
    """
    payload = json.dumps(
        [comparable(title), published_at or "", comparable(body)], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
