"""The shared HTML path: one lxml parse, cheap metadata reads, at most one trafilatura call.

trafilatura is the expensive step (and the one with known pathologies), so it is
called once per page, on the tree we already parsed, with ``deduplicate=False``
(its LRU is process-global: the same page extracted five times gives text three
times, then None) and with no metadata extraction (its htmldate search invents
Jan-1 dates from Chinese date lines; we read dates ourselves).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import trafilatura
from lxml.etree import ElementDefaultClassLookup, HTMLParser, XPath
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura.utils import is_dubious_html, load_html, repair_faulty_html

from crawler.parsing.page import ParseError
from crawler.parsing.text import clean_line

_META = XPath("//meta[@content]")
_JSON_LD = XPath("//script[@type='application/ld+json']/text()")
_CANONICAL = XPath("//link[translate(@rel, 'CANONICAL', 'canonical')='canonical']/@href")
_TITLE = XPath("string((//title)[1])")
_H1 = XPath("//h1")

#: Elements whose text is never article text.
_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "iframe", "svg", "button", "select",
     "textarea", "input", "object", "embed", "video", "audio", "canvas", "map"}
)  # fmt: skip
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "li",
     "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
     "pre", "table", "tr", "td", "th", "figure", "figcaption", "form", "fieldset",
     "center", "address", "hr", "caption", "tbody", "thead", "tfoot"}
)  # fmt: skip
_LIST_MARKER = re.compile(r"^- (?=\S)")

# A line break in the HTML source renders as a space, which Chinese text does
# not have: drop source breaks that sit next to CJK characters.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_PUNCT = "\u2018-\u201d\u2026\u2014"
_CJK_SOURCE_BREAK = re.compile(
    f"(?<=[{_CJK}])\\s*\\n\\s*(?=[{_CJK}{_CJK_PUNCT}])|(?<=[{_CJK}{_CJK_PUNCT}])\\s*\\n\\s*(?=[{_CJK}])"
)


def collapse_source_whitespace(text: str) -> str:
    """Whitespace of an HTML text node as a reader sees it, without CJK-breaking spaces."""
    return clean_line(_CJK_SOURCE_BREAK.sub("", text).replace("\n", " "))


@dataclass(slots=True)
class HtmlDocument:
    """One parsed page and the metadata every parser reads."""

    tree: HtmlElement
    #: ``<meta>`` contents by lower-cased name/property/itemprop (first non-empty wins).
    meta: dict[str, str] = field(default_factory=dict)
    #: JSON-LD objects, flattened out of ``@graph`` and lists.
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    canonical: str | None = None
    title_tag: str = ""

    def meta_value(self, *keys: str) -> str | None:
        for key in keys:
            value = self.meta.get(key)
            if value:
                return value
        return None

    def jsonld_value(self, key: str) -> Any:
        for item in self.jsonld:
            if item.get(key):
                return item[key]
        return None

    def h1_texts(self) -> list[str]:
        """Distinct ``<h1>`` texts in document order (templates often repeat the headline)."""
        texts = (clean_line(h1.text_content()) for h1 in _H1(self.tree))
        return list(dict.fromkeys(text for text in texts if text))


def _read_meta(tree: HtmlElement) -> dict[str, str]:
    meta: dict[str, str] = {}
    for element in _META(tree):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        value = (element.get("content") or "").strip()
        if key and value:
            meta.setdefault(key.strip().lower(), value)
    return meta


def _flatten_jsonld(value: Any, out: list[dict[str, Any]]) -> None:
    if isinstance(value, list):
        for item in value:
            _flatten_jsonld(item, out)
    elif isinstance(value, dict):
        out.append(value)
        if "@graph" in value:
            _flatten_jsonld(value["@graph"], out)


def _read_jsonld(tree: HtmlElement) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for raw in _JSON_LD(tree):
        try:
            _flatten_jsonld(json.loads(raw), items)
        except ValueError:
            continue  # publishers ship broken JSON-LD; the rest of the page still counts
    return items


def wrap_fragment(fragment: str) -> str:
    # trafilatura returns None for a lone block ("<p>…</p>"): a full skeleton
    # with one wrapping <div> makes it a document.
    return f"<html><body><div>{fragment}</div></body></html>"


# trafilatura's parser settings (``trafilatura.utils.HTML_PARSER``), with the element
# classes chosen in C: lxml.html's own parser asks a Python function for the class of
# every element lxml hands to Python, a few percent of a page's parse-and-extract time
# (it picks form-control classes no parser here uses; every element is an HtmlElement).
HTML_PARSER = HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
HTML_PARSER.set_element_class_lookup(
    ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def _load_html(content: str) -> HtmlElement | None:
    """``trafilatura.utils.load_html(content)``, parsing the page's UTF-8 bytes.

    trafilatura hands libxml2 the Python string, which lxml passes in a wide encoding
    for libxml2 to convert back: 40 % of the parse time.  Its own fallback is the
    UTF-8 bytes with the same parser (whose fixed encoding overrides any ``<meta
    charset>``), the same document.  Whenever that path would not stand in for
    trafilatura's exactly (a lone surrogate, a parser error, an empty or rejected
    tree), trafilatura's own function decides, as before.
    """
    beginning = content[:50].lower()
    try:
        data = repair_faulty_html(content, beginning).encode("utf-8")
        tree = fromstring(data, parser=HTML_PARSER)
    except Exception:  # whatever it is, trafilatura's path meets it as before
        return load_html(content)
    if tree is None or len(tree) < (2 if is_dubious_html(beginning) else 1):
        return load_html(content)
    return tree


def load_document(content: str, *, fragment: bool = False) -> HtmlDocument:
    """Parse once (with trafilatura's own parser settings) and read the metadata."""
    tree = _load_html(wrap_fragment(content) if fragment else content)
    if tree is None:
        raise ParseError("not HTML: the parser found no document")
    canonical = _CANONICAL(tree)
    return HtmlDocument(
        tree=tree,
        meta=_read_meta(tree),
        jsonld=_read_jsonld(tree),
        canonical=canonical[0].strip() if canonical else None,
        title_tag=clean_line(_TITLE(tree)),
    )


#: Our trafilatura.extract settings (see extract_lines); benchmarks/replay_speed.py reuses them.
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "fast": True,
    "favor_recall": True,
    "include_comments": False,
    "include_tables": True,
    "deduplicate": False,
    "with_metadata": False,
    "output_format": "txt",
}


def extract_lines(tree: HtmlElement) -> list[str]:
    """Main text by trafilatura, one paragraph a line; empty when it finds none.

    trafilatura runs in its fast mode (no readability/jusText comparison: half
    the time) favouring recall, since outlet furniture is removed by our own
    rules afterwards; on both public benchmarks this scores above its default
    mode.  Comments are excluded, and trafilatura works on its own copy, so
    ``tree`` stays usable.
    """
    text = _trafilatura_text(tree, fast=True)
    if len(text) < _SHORT_TEXT:
        # Fast mode misses some single-block layouts entirely (a long essay in one
        # <div> of <br>s); the full mode, with its fallbacks, is tried only then.
        fuller = _trafilatura_text(tree, fast=False)
        if len(fuller) > len(text) * _MUCH_LONGER and not _adds_teasers(text, fuller):
            text = fuller
    lines = (clean_line(_LIST_MARKER.sub("", line)) for line in text.splitlines())
    return [line for line in lines if line]


# A fast-mode result shorter than this may have missed the article.
_SHORT_TEXT = 1200
_MUCH_LONGER = 3


def _adds_teasers(text: str, fuller: str) -> bool:
    """Whether the longer text adds teasers of other stories ("…" at line end) rather than prose."""
    known = set(text.splitlines())
    added = [line.rstrip() for line in fuller.splitlines() if line.strip() and line not in known]
    return sum(line.endswith(("…", "...")) for line in added) >= 2


def _trafilatura_text(tree: HtmlElement, *, fast: bool) -> str:
    return (
        trafilatura.extract(tree, **{**TRAFILATURA_OPTIONS, "fast": fast})
        or ""
    )


def _walk(element: HtmlElement, lines: list[str], current: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIPPED or not tag:
        if element.tail:
            current.append(element.tail)
        return
    block = tag in _BLOCKS
    if block or tag == "br":
        _flush(lines, current)
    if element.text:
        current.append(element.text)
    for child in element:
        _walk(child, lines, current)
    if block:
        _flush(lines, current)
    if element.tail:
        current.append(element.tail)


def _flush(lines: list[str], current: list[str]) -> None:
    if current:
        line = collapse_source_whitespace("".join(current))
        if line:
            lines.append(line)
        current.clear()


def block_lines(element: HtmlElement) -> list[str]:
    """The visible text of one container, a line per block element or ``<br>``.

    Used where we know the article container (WeChat ``#js_content``, portal
    body divs): a plain walk keeps every paragraph, where a boilerplate
    classifier would drop short ones.
    """
    lines: list[str] = []
    current: list[str] = []
    if element.text:
        current.append(element.text)
    for child in element:
        _walk(child, lines, current)
    _flush(lines, current)
    return lines


_PARAGRAPHS = XPath("//p")
# A repeated block is a body chunk only when its class says it holds the story's text.
# ("content" or "article" alone name page regions too; "page" marks pagination,
# where the other pages are not this one's text.)
_BODY_CLASS = re.compile(r"body|chunk|paragraph|story-?text|article-?text", re.IGNORECASE)
_PAGINATED = re.compile(r"page", re.IGNORECASE)
_MAX_CHUNK_LINKED = 0.3
_SAME_CLASS = XPath("//*[@class=$css]")


def _linked_share(element: HtmlElement) -> float:
    total = len(collapse_source_whitespace(element.text_content()))
    linked = sum(len(collapse_source_whitespace(a.text_content())) for a in element.iter("a"))
    return linked / total if total else 1.0
# How far above the first paragraph a repeated body block may sit.
_CHUNK_CLIMB = 4
_MIN_CHUNK_GAIN = 1.3


def split_body_lines(tree: HtmlElement, lines: list[str]) -> list[str] | None:
    """The whole text when the article body is split into same-class sibling blocks.

    Templates that put ads between parts of a story repeat the body block
    (``<div class="body__container">`` several times); a boilerplate classifier
    keeps only the first.  ``None`` when the page is not built that way.
    """
    if not lines:
        return None
    start = lines[0][:40]
    first = next(
        (p for p in _PARAGRAPHS(tree) if collapse_source_whitespace(p.text_content()).startswith(start)),
        None,
    )
    node = first
    for _ in range(_CHUNK_CLIMB):
        if node is None or node.getparent() is None:
            return None
        node = node.getparent()
        css = node.get("class")
        if not css or not _BODY_CLASS.search(css) or _PAGINATED.search(css):
            continue
        # The first block named for the story's text: every block of that exact
        # class on the page, in order (the chunks may sit in separate wrappers).
        chunks = _SAME_CLASS(tree, css=css)
        if len(chunks) < 2 or any(_linked_share(chunk) > _MAX_CHUNK_LINKED for chunk in chunks):
            return None
        found = [line for chunk in chunks for line in block_lines(chunk)]
        if sum(map(len, found)) >= sum(map(len, lines)) * _MIN_CHUNK_GAIN:
            return found
        return None
    return None
