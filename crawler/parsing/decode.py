"""Bytes to text, once, in our code: trafilatura and lxml only ever see ``str``.

A charset declaration is a claim, not a fact.  A GBK page served as ``utf-8``
decodes (with replacement) into U+FFFD soup, and a UTF-8 page served as ``gbk``
decodes cleanly into mojibake, so every declaration is checked against the bytes
before it is believed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

import charset_normalizer

from crawler.parsing.page import ParseError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# WHATWG-style aliases: GB2312 and GBK pages routinely use GB18030-only code
# points, and "latin-1" on the web means windows-1252.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "utf8": "utf-8",
}

_CHARSET_PARAM = re.compile(rb"charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.IGNORECASE)
_META_SCAN_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Decoded:
    """The page text and how it was obtained."""

    text: str
    #: Python codec name actually used.
    encoding: str
    #: What the header or ``<meta>`` claimed, normalised; ``None`` if nothing was declared.
    declared: str | None
    #: True when a declaration existed and the bytes contradicted it.
    conflict: bool
    #: What sniffing the bytes concluded, when the declaration was not simply believed.
    detected: str | None = None
    #: Undecodable byte sequences replaced by U+FFFD (0: the bytes decoded cleanly).
    replacements: int = 0
    #: Control characters removed from the text after decoding (NUL, ESC, ...).
    controls_removed: int = 0

    def provenance(self) -> dict[str, object]:
        """How the bytes became text: recorded on an article when they were damaged."""
        return {
            "declared": self.declared,
            "detected": self.detected,
            "used": self.encoding,
            "replacements": self.replacements,
            "controls_removed": self.controls_removed,
        }


def normalise_encoding(label: str) -> str | None:
    """A codec name for a charset label, or ``None`` if Python does not know it."""
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_utf8_with_multibyte(body: bytes) -> bool:
    # Real GBK or Latin-1 text almost never forms valid multi-byte UTF-8
    # sequences, so valid non-ASCII UTF-8 outweighs any declaration.
    return not body.isascii() and _strict(body, "utf-8") is not None


def _declared_in_header(headers: Mapping[str, str]) -> str | None:
    content_type = headers.get("content-type", "")
    match = _CHARSET_PARAM.search(content_type.encode("latin-1", "replace"))
    return match.group(1).decode("ascii") if match else None


def _declared_in_meta(body: bytes) -> str | None:
    head = body[:_META_SCAN_BYTES]
    for tag in re.finditer(rb"<meta\b[^>]*>", head, re.IGNORECASE):
        match = _CHARSET_PARAM.search(tag.group(0))
        if match:
            return match.group(1).decode("ascii")
    return None


def _accept_declared(body: bytes, label: str | None) -> tuple[str, str] | None:
    """(text, codec) when the declared label decodes the bytes cleanly."""
    if label is None:
        return None
    encoding = normalise_encoding(label)
    if encoding is None:
        return None
    if encoding != "utf-8" and _is_utf8_with_multibyte(body):
        return None
    text = _strict(body, encoding)
    return None if text is None else (text, encoding)


def decode_body(body: bytes, headers: Mapping[str, str] | None = None) -> Decoded:
    """Decode a page: BOM, then a validated header or ``<meta>`` charset, then sniffing.

    Raises ``ParseError`` when no encoding decodes the bytes.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom) and (text := _strict(body, encoding)) is not None:
            return Decoded(text.lstrip("\ufeff"), encoding, declared=None, conflict=False)

    labels = (_declared_in_header(headers or {}), _declared_in_meta(body))
    declared = next((normalise_encoding(label) for label in labels if label), None)
    for label in labels:
        accepted = _accept_declared(body, label)
        if accepted is not None:
            text, encoding = accepted
            return Decoded(text, encoding, declared, conflict=encoding != declared)

    for encoding in ("utf-8", "gb18030"):
        text = _strict(body, encoding)
        if text is not None:
            conflict = declared is not None and declared != encoding
            return Decoded(text, encoding, declared, conflict, detected=encoding)

    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        encoding = normalise_encoding(best.encoding) or best.encoding
        conflict = declared is not None and declared != encoding
        return Decoded(str(best), encoding, declared, conflict, detected=encoding)
    return _decode_damaged(body, declared)


def _decode_damaged(body: bytes, declared: str | None) -> Decoded:
    """Nothing decodes cleanly: the likeliest encoding, with U+FFFD for the bad bytes.

    One invalid byte must not cost a whole article; a page is refused only when most
    of it is undecodable.  UTF-8 is believed when its valid multi-byte characters far
    outnumber its errors (GB18030 would decode UTF-8 bytes into mojibake with few
    errors, so error counts alone cannot choose).
    """
    utf8 = body.decode("utf-8", "replace")
    utf8_bad = utf8.count("\ufffd")
    utf8_good = sum(1 for char in utf8 if char > "\x7f") - utf8_bad
    if utf8_good >= 10 * utf8_bad:
        encoding, text, bad = "utf-8", utf8, utf8_bad
    else:
        tried = [e for e in (declared, "gb18030") if e and e != "utf-8"] or ["gb18030"]
        encoding, text = tried[0], body.decode(tried[0], "replace")
        bad = text.count("\ufffd")
        for other in tried[1:]:
            candidate = body.decode(other, "replace")
            if candidate.count("\ufffd") < bad:
                encoding, text, bad = other, candidate, candidate.count("\ufffd")
    if bad * 2 > len(text.strip()):
        raise ParseError(f"binary content (undecodable bytes: {bad:,} of {len(text):,} characters)")
    conflict = declared is not None and declared != encoding
    return Decoded(text, encoding, declared, conflict, detected=encoding, replacements=bad)
