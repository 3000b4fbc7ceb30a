"""Finding article URLs in what an outlet publishes: feeds, sitemaps, listing pages, URL lists.

Pure functions over bytes and a base URL, so each is tested without a crawl.
XML is parsed with entity resolution and network access off (no XXE, no
billion laughs); feeds are never parsed from a string that could name a file.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree, html

#: What a discovery page turned out to be.
FEED, SITEMAP_INDEX, SITEMAP, URL_LIST, LISTING = "feed", "sitemap-index", "sitemap", "url-list", "listing"

_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, recover=True, remove_comments=True
)
#: The root elements of feeds and sitemaps, as whole tag names (not ``<feed-list>``).
_ROOT_TAG = re.compile(rb"<(rss|feed|rdf:rdf|sitemapindex|urlset)[\s>/]")
#: An HTML document (whatever it mentions later, in a script or a custom element).
_HTML_START = re.compile(rb"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.DOTALL)
_PAGINATION_TEXT = re.compile(r"^\s*(下一页|下页|next|next page|›|»|>)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Discovered:
    kind: str
    #: URLs that look like articles (fetched and parsed).
    articles: tuple[str, ...]
    #: URLs of further discovery pages (sub-sitemaps, next listing pages).
    follow: tuple[str, ...]
    #: Entries of a feed, sitemap or URL list that are no valid URL (as written).
    invalid: tuple[str, ...] = ()


def _join(base_url: str, ref: str) -> str:
    """``ref`` resolved against ``base_url``; as written when it cannot be (see :func:`is_valid_url`)."""
    try:
        return urljoin(base_url, ref)
    except ValueError:
        return ref


def is_valid_url(url: str) -> bool:
    """False for what urllib (and so scrapy.Request) refuses: an unclosed IPv6 bracket, a bad port."""
    try:
        urlsplit(url).port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        return False
    return True


def _entries(kind: str, urls: list[str], keep: Callable[[str], bool]) -> Discovered:
    """A feed's, sitemap's or URL list's entries: the valid ones ``keep`` accepts, and the invalid."""
    valid: list[str] = []
    invalid: list[str] = []
    for url in urls:
        (valid if is_valid_url(url) else invalid).append(url)
    if kind == SITEMAP_INDEX:
        return Discovered(kind, (), tuple(valid), tuple(invalid))
    return Discovered(kind, tuple(u for u in valid if keep(u)), (), tuple(invalid))


def sniff(body: bytes, content_type: str = "") -> str:
    head = body[:2048]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (lxml reads it)
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    head = head.lstrip().lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    roots = set() if _HTML_START.match(head) else {m.group(1) for m in _ROOT_TAG.finditer(head)}
    if roots & {b"rss", b"feed", b"rdf:rdf"}:
        return FEED
    if b"sitemapindex" in roots:
        return SITEMAP_INDEX
    if b"urlset" in roots:
        return SITEMAP
    if "text/plain" in content_type or (head.startswith(b"http") and b"<" not in head):
        return URL_LIST
    return LISTING


def gunzipped(body: bytes, limit: int) -> bytes:
    """``body`` unpacked if it is gzip (``sitemap.xml.gz``, served without Content-Encoding).

    Scrapy only unpacks a Content-Encoding; the sitemap protocol allows gzipped files.
    Raises ValueError for damaged gzip, or when it unpacks to more than ``limit`` bytes
    (a gzip bomb: only ``limit + 1`` bytes are ever inflated).
    """
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        unpacked = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"damaged gzip: {exc}") from None
    if len(unpacked) > limit:
        raise ValueError(f"gzipped document larger than {limit:,} bytes unpacked")
    return unpacked


def _from_declaration(body: bytes) -> bytes:
    """``body`` from its XML declaration on, when something was printed before it.

    A declaration may only come first, so what precedes it is not the document: typically
    a PHP notice (``<br /><b>Notice</b>: ...``) that would otherwise become the root element.
    """
    start = body.find(b"<?xml", 0, 4096)
    if start > 0 and body[:start].strip(b"\xef\xbb\xbf \t\r\n"):
        return body[start:]
    return body


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def feed_links(body: bytes, base_url: str) -> list[str]:
    """Entry links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in feed order.

    A relative link resolves against its ``xml:base`` (RFC 4287 §2; the nearest one,
    itself relative to the feed's address), else the feed's address.
    """
    root = etree.fromstring(_from_declaration(body), parser=_XML_PARSER, base_url=base_url)
    if root is None:
        return []
    links: list[str] = []
    for entry in root.iter():
        name = _local(entry.tag)
        if name == "item":
            link = next((c for c in entry if _local(c.tag) == "link"), None)
            guid = next((c for c in entry if _local(c.tag) == "guid"), None)
            text = (link.text if link is not None else None) or (
                guid.text if guid is not None and guid.get("isPermaLink", "true") != "false" else None
            )
            if text and text.strip():
                node = link if link is not None and link.text else guid
                links.append(_join(_base(node, base_url), text.strip()))
        elif name == "entry":
            candidates = [c for c in entry if _local(c.tag) == "link" and c.get("href")]
            preferred = [c for c in candidates if c.get("rel", "alternate") == "alternate"]
            chosen = (preferred or candidates)[:1]
            if chosen:
                links.append(_join(_base(chosen[0], base_url), chosen[0].get("href").strip()))
    return links


def _base(element: object, base_url: str) -> str:
    """The URL a relative link in ``element`` resolves against (its xml:base, or the page's)."""
    base = getattr(element, "base", None)
    return base if isinstance(base, str) and base.startswith(("http://", "https://")) else base_url


def sitemap_locs(body: bytes, base_url: str) -> list[str]:
    """The ``<loc>`` of each ``<url>`` (or ``<sitemap>``), in order.

    Only those: the image, video and news extensions nest their own ``<image:loc>``
    (a picture, not a page) inside a ``<url>``.
    """
    root = etree.fromstring(_from_declaration(body), parser=_XML_PARSER)
    if root is None:
        return []
    return [
        _join(base_url, loc.text.strip())
        for loc in root.iter()
        if _local(loc.tag) == "loc"
        and _local(getattr(loc.getparent(), "tag", None)) in ("url", "sitemap")
        and loc.text
        and loc.text.strip()
    ]


def url_list(body: bytes, base_url: str) -> list[str]:
    utf16 = body.startswith((b"\xff\xfe", b"\xfe\xff"))
    text = body.decode("utf-16" if utf16 else "utf-8-sig", errors="replace").lstrip("\ufeff")
    return [
        _join(base_url, line.strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def listing_links(body: bytes, base_url: str) -> tuple[list[str], list[str]]:
    """All link targets of an HTML page, and those that look like 'next page'."""
    try:
        document = html.document_fromstring(body, base_url=base_url)
    except (etree.ParserError, ValueError):
        return [], []
    base_url = _document_base(document, base_url)
    links, pagination = [], []
    for anchor in document.iter("a", "link"):
        href = anchor.get("href")
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = _join(base_url, href.strip())
        if not is_valid_url(url):  # an anchor, not an entry the site lists as an article
            continue
        rel = (anchor.get("rel") or "").lower()
        if anchor.tag == "link":
            if rel == "next":
                pagination.append(url)
            continue
        links.append(url)
        if rel == "next" or _PAGINATION_TEXT.match(anchor.text_content() or ""):
            pagination.append(url)
    return links, pagination


def _document_base(document: html.HtmlElement, page_url: str) -> str:
    """The URL relative links resolve against: the first ``<base href>`` (HTML §4.2.3), else the page's."""
    for element in document.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            base = _join(page_url, href)
            if base.startswith(("http://", "https://")) and is_valid_url(base):
                return base
            break  # only the first <base href> counts
    return page_url


def discover(
    body: bytes,
    base_url: str,
    *,
    content_type: str,
    is_article: ArticleMatcher,
    follow_patterns: tuple[re.Pattern[str], ...],
) -> Discovered:
    kind = sniff(body, content_type)
    if kind == FEED:
        # A feed lists articles; patterns only narrow it when the outlet gives its own.
        return _entries(kind, feed_links(body, base_url), lambda u: is_article(u, from_feed=True))
    if kind in (SITEMAP_INDEX, SITEMAP):
        return _entries(kind, sitemap_locs(body, base_url), is_article)
    if kind == URL_LIST:
        return _entries(kind, url_list(body, base_url), lambda u: is_article(u, from_feed=True))
    links, pagination = listing_links(body, base_url)
    follow = [u for u in links if any(p.search(u) for p in follow_patterns)] + pagination
    articles = [u for u in links if is_article(u)]
    return Discovered(kind, tuple(dict.fromkeys(articles)), tuple(dict.fromkeys(follow)))


class ArticleMatcher:
    """Decides whether a URL is an article page of this outlet."""

    def __init__(self, patterns: tuple[str, ...], *, outlet_given: bool) -> None:
        self.patterns = tuple(re.compile(p) for p in patterns)
        #: Patterns from the outlet config also filter feeds; the spider's defaults do not.
        self.outlet_given = outlet_given

    def __call__(self, url: str, *, from_feed: bool = False) -> bool:
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        if from_feed and not self.outlet_given:
            return True
        return any(p.search(url) for p in self.patterns)

