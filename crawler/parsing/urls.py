"""URL helpers for parsers: the address as a browser shows it, and resolving declared links.

Same-site judgement lives in one place, :mod:`crawler.urls` (pure, no Scrapy), with the
rest of URL identity; it is re-exported here for the parsers.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urljoin, urlsplit

from crawler.urls import registrable_domain, same_site

_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")

# Characters a browser keeps escaped because they would hide or disguise the
# address: spaces, controls, bidi overrides and other format characters.
_KEEP_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn"})

__all__ = ["absolute_url", "display_url", "registrable_domain", "same_site"]


def _decode_run(run: str) -> str:
    data = bytes.fromhex(run.replace("%", ""))
    out: list[str] = []
    i = 0
    while i < len(data):
        byte = data[i]
        if byte < 0x80:
            # ASCII escapes (%2F, %20, %3F ...) change the meaning of a URL: keep them.
            out.append(run[3 * i : 3 * i + 3])
            i += 1
            continue
        length = 2 if byte >= 0xC0 else 1
        length = 3 if byte >= 0xE0 else length
        length = 4 if byte >= 0xF0 else length
        chunk = data[i : i + length]
        try:
            char = chunk.decode("utf-8")
        except UnicodeDecodeError:
            char = ""
        if len(char) == 1 and unicodedata.category(char) not in _KEEP_ESCAPED_CATEGORIES:
            out.append(char)
            i += length
        else:
            out.append(run[3 * i : 3 * i + 3])
            i += 1
    return "".join(out)


def display_url(url: str) -> str:
    """Decode percent-escapes of non-ASCII UTF-8 characters, as a browser's address bar does.

    ``https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x%2Fy`` becomes
    ``https://www.rfi.fr/cn/中国/x%2Fy``: ASCII escapes stay encoded, invalid
    UTF-8 and invisible characters stay escaped.
    """
    return _ESCAPE_RUN.sub(lambda match: _decode_run(match.group(0)), url)


def absolute_url(href: str, base: str) -> str | None:
    """Resolve a declared link against the page URL; accept only http(s) results.

    Some portals write ``og:url`` without a scheme (``www.sohu.com/a/1``), which a
    plain ``urljoin`` would treat as a relative path.  A link urllib cannot parse
    (an unclosed IPv6 bracket, a bad port) declares nothing: the page's markup is
    not ours to trust.
    """
    href = href.strip()
    if not href:
        return None
    try:
        if href.startswith("//"):
            href = f"{urlsplit(base).scheme or 'https'}:{href}"
        elif re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+/", href, re.IGNORECASE):
            href = f"{urlsplit(base).scheme or 'https'}://{href}"
        resolved = urljoin(base, href) if base.startswith(("http://", "https://")) else href
        urlsplit(resolved).port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return None
    return resolved if resolved.startswith(("http://", "https://")) else None
