"""What a page file is, recognised from its content: the forms our seeds and crawls take.

Forms:

- ``html``: a full HTML document (live crawl or saved page);
- ``fragment``: HTML without ``<html>``/``<body>`` (the archived RFI/BBC seeds);
- ``markdown``: a Markdown rendering of an article (the WeChat seed);
- ``text``: a plain-text scrape (the portal and ECNS seeds).

Any of them may sit under an archive header::

    <!--1699458301000-->            archive time, epoch milliseconds
    [title](https://real/url)       headline and the article's real address
    ------

Bad input (empty, binary, truncated, too large) raises ``ParseError`` with a
one-line reason before any parser sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from crawler.parsing.decode import Decoded, decode_body
from crawler.parsing.page import ParseError, RawPage

Form = Literal["html", "fragment", "markdown", "text"]

#: Decoded text above this is refused: trafilatura's run time grows superlinearly
#: (10 MB of paragraphs takes 16 s) and no article is that long.
MAX_TEXT_CHARS = 5_000_000

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"%PDF-", "PDF document"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"(\xb5/\xfd", "zstd-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\x00\x00\x01\x00", "ICO image"),
)
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")

_ARCHIVE_HEADER = re.compile(
    r"\A\s*<!--\s*(?P<epoch>\d{13})\s*-->[ \t]*\r?\n"
    r"[ \t]*\[(?P<title>[^\n]*)\]\((?P<url>[^)\s]+)\)[ \t]*\r?\n"
    r"[ \t]*-{3,}[ \t]*\r?\n"
)
_DOCUMENT_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<head[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_HAS_BODY_OR_HEAD = re.compile(r"<(?:html|head|body)[\s>]", re.IGNORECASE)
_STARTS_WITH_TAG = re.compile(r"\A\s*<[a-zA-Z!?]")
_HTML_TAG = re.compile(
    r"</?(?:div|p|span|section|article|main|img|a|br|h[1-6]|ul|li|table)\b", re.I
)
_MARKDOWN_SIGNS = (
    re.compile(r"^!?\[[^\]\n]*\]\([^)\n]+\)", re.MULTILINE),  # [text](url), ![alt](src)
    re.compile(r"^[^\n]+\n(?:={3,}|-{3,})[ \t]*$", re.MULTILINE),  # setext heading
    re.compile(r"^#{1,6} \S", re.MULTILINE),  # ATX heading
)
# C0 controls but tab, newline, carriage return and form feed; DEL; C1 controls.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# The same characters as UTF-8 bytes: C0 and DEL are their own byte, C1 is \xc2 and one
# of 0x80-0x9f.  UTF-8 decoding (strict or not) makes one of them from nothing else.
_CONTROL_BYTES = bytes(byte for byte in range(0x80) if _CONTROLS.match(chr(byte)))
_C1_AS_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")


def _may_hold_controls(decoded: Decoded, body: bytes) -> bool:
    """False when the decoded text surely has no character ``_CONTROLS`` removes.

    For UTF-8 the bytes tell, four times faster than searching the text (an average
    page is 200,000 characters): deleting the control bytes is a plain C loop, and the
    C1 pattern starts with a literal byte.
    """
    if decoded.encoding != "utf-8":
        return True
    return (
        len(body.translate(None, _CONTROL_BYTES)) != len(body)
        or _C1_AS_UTF8.search(body) is not None
    )


_TAG_NAME = re.compile(r"<\s*(/?[a-zA-Z][a-zA-Z0-9-]*|!--|!\w+)?")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A decoded page, its form, and what an archive header said about it."""

    form: Form
    #: The document without the archive header.
    content: str
    decoded: Decoded
    #: Archive (fetch) time from the header, UTC.
    archived_at: datetime | None = None
    #: The article's real address from the header, as written there.
    source_url: str | None = None
    #: The headline from the header.
    header_title: str | None = None


def _check_bytes(body: bytes) -> None:
    if not body.strip():
        raise ParseError("empty file" if not body else "whitespace-only file")
    for magic, kind in _MAGIC:
        if body.startswith(magic):
            raise ParseError(f"binary content ({kind})")
    if body[4:12] in (b"ftypavif", b"ftypheic") or body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        raise ParseError("binary content (image)")
    # A stray NUL is damage to strip; many of them is a binary file (or BOM-less UTF-16).
    nuls = body.count(b"\x00", 0, 65536)
    if nuls > max(1, min(len(body), 65536) // 1000) and not body.startswith(_UNICODE_BOMS):
        raise ParseError("binary content (NUL bytes)")


def _check_text(text: str) -> None:
    if not text.strip():
        raise ParseError("whitespace-only file")
    if len(text) > MAX_TEXT_CHARS:
        size, limit = len(text) / 1e6, MAX_TEXT_CHARS / 1e6
        raise ParseError(f"page too large: {size:.1f} M characters (limit {limit:.0f} M)")
    controls = sum(1 for char in text[:4096] if char < " " and char not in "\t\r\n\f")
    if controls > 40:
        raise ParseError("binary content (control characters)")


def _rfind_any_case(text: str, needle: str) -> int:
    # Searching back from the end in lower and upper case is far cheaper than
    # lower-casing a 3 MB page; mixed-case tags ("<Script") are not worth a copy.
    # The upper-case form matters only after the last lower-case one: searching just
    # that part gives the same maximum without scanning the whole page for "<SCRIPT",
    # which most pages never contain.
    lower = text.rfind(needle)
    return max(lower, text.rfind(needle.upper(), lower + 1))


def truncation_reason(html: str) -> str | None:
    """Why a full HTML document looks cut off, or ``None``.

    A missing ``</html>`` is normal for saved pages; ending inside a tag, a
    comment, a script or a style block is not.
    """
    tail = html.rstrip()
    last_open, last_close = tail.rfind("<"), tail.rfind(">")
    if tail.rfind("<!--") > tail.rfind("-->"):
        return "truncated HTML: document ends inside a <!-- comment"
    for element in ("script", "style"):
        if _rfind_any_case(tail, f"<{element}") > _rfind_any_case(tail, f"</{element}"):
            return f"truncated HTML: document ends inside a <{element}> block"
    if last_open > last_close:
        name = _TAG_NAME.match(tail, last_open)
        tag = name.group(1) if name and name.group(1) else ""
        what = f"a <{tag} tag" if tag else "a tag"
        return f"truncated HTML: document ends inside {what}"
    return None


def classify(content: str) -> Form:
    if _DOCUMENT_START.match(content) or (
        _STARTS_WITH_TAG.match(content) and _HAS_BODY_OR_HEAD.search(content[:20000])
    ):
        return "html"
    if _STARTS_WITH_TAG.match(content) and _HTML_TAG.search(content[:20000]):
        return "fragment"
    if any(sign.search(content) for sign in _MARKDOWN_SIGNS):
        return "markdown"
    return "text"


_CORPUS_WRAPPER = re.compile(r"\A\s*<text\s+id=[\"'][^>]*>\s*(?=<)", re.IGNORECASE)


def read_snapshot(page: RawPage) -> Snapshot:
    """Check, decode and classify a page; raise ``ParseError`` for bad input."""
    _check_bytes(page.body)
    decoded = decode_body(page.body, page.headers)
    _check_text(decoded.text)
    content, removed = (
        _CONTROLS.subn("", decoded.text)
        if _may_hold_controls(decoded, page.body)
        else (decoded.text, 0)
    )
    if removed:
        decoded = replace(decoded, text=content, controls_removed=removed)
    archived_at = source_url = header_title = None
    header = _ARCHIVE_HEADER.match(content)
    if header:
        archived_at = datetime.fromtimestamp(int(header["epoch"]) / 1000, tz=UTC)
        source_url, header_title = header["url"], header["title"]
        content = content[header.end() :]
        if not content.strip():
            raise ParseError("archived snapshot has a header but no content")
    # Crawl corpora of the 2000s (CleanEval and its successors) wrap each page in
    # <text id=URL title=…>; left in, it becomes the document root and hides <html>.
    if wrapper := _CORPUS_WRAPPER.match(content):
        content = content[wrapper.end() :].removesuffix("</text>").rstrip()
    form = classify(content)
    if form == "html":
        reason = truncation_reason(content)
        if reason:
            raise ParseError(reason)
    return Snapshot(form, content, decoded, archived_at, source_url, header_title)
