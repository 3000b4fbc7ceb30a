"""Inputs and golden expectations of the parser tests, shared with ``tools/bless_goldens.py``.

Seeds: ``fixtures/<parser>/<file>`` with the full expected record in
``<file>.expected.json``.  Corpus pages: ``../shared/corpus/pages/<folder>/<page>``
with a reviewed summary in ``tests/goldens/corpus/<folder>__<stem>.expected.json``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from crawler.parsing import NotAnArticle, RawPage, parse

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"
CORPUS_GOLDENS = REPO / "tests" / "goldens" / "corpus"

#: Seeds carry no fetch time of their own (003 and 004 carry an archive time, which wins).
SEED_FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
#: Which parser reads which corpus folder (``english_state`` pages are ECNS/China Daily peers).
CORPUS_PARSERS = {
    "wechat": "wechat", "portal": "portal", "english_state": "ecns", "bbc": "bbc", "rfi": "rfi",
}  # fmt: skip
#: When the corpus pages were collected (SOURCES.md); their dates are checked against it.
CORPUS_FETCHED_AT = datetime(2026, 11, 29, tzinfo=UTC)
#: Characters of body kept at each end in a corpus golden.
EDGE = 40
#: Allowed drift of the body length from the golden.
LENGTH_TOLERANCE = 0.10

# Rows name a page as "pages/<folder>/<file>" or (in later sections) "<folder>/<file>".
_SOURCES_ROW = re.compile(
    r"^\| (?:pages/)?(?P<file>[a-z_]+/[^ |/]+\.html) \|(?:[^|]*\|){4} (?P<url>[^|]+?) \|", re.MULTILINE
)


def seed_files() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.glob("*/*")
        if path.is_file() and not path.name.endswith((".json", ".meta.json"))
    )


def seed_page(
    path: Path, body: bytes | None = None, headers: dict[str, str] | None = None
) -> RawPage:
    outlet = path.parent.name
    return RawPage(
        url=f"fixture:{outlet}/{path.name}",
        body=path.read_bytes() if body is None else body,
        headers=headers or {},
        outlet=outlet,
        fetched_at=SEED_FETCHED_AT,
    )


def seed_record(path: Path) -> dict[str, Any]:
    return parse(seed_page(path), path.parent.name).to_dict()


def seed_golden_path(path: Path) -> Path:
    return path.with_name(path.name + ".expected.json")


def corpus_pages() -> list[Path]:
    folders = (CORPUS / "pages" / folder for folder in CORPUS_PARSERS)
    return sorted(
        page for folder in folders for page in folder.glob("*.html") if ".expected" not in page.name
    )


@cache
def source_urls() -> dict[str, str]:
    """Original URL of each corpus page, from the SOURCES.md table ("not recorded" left out)."""
    table = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    return {
        f"pages/{match['file']}": match["url"].split()[0]
        for match in _SOURCES_ROW.finditer(table)
        if match["url"].startswith("http")
    }


def corpus_golden_path(page: Path) -> Path:
    return CORPUS_GOLDENS / f"{page.parent.name}__{page.stem}.expected.json"


def corpus_page(page: Path) -> tuple[RawPage, str]:
    """The page as a crawl would see it (its original URL when known), and its parser."""
    folder = page.parent.name
    key = f"pages/{folder}/{page.name}"
    url = source_urls().get(key, f"fixture:{folder}/{page.name}")
    raw = RawPage(
        url=url, body=page.read_bytes(), headers={}, outlet=folder, fetched_at=CORPUS_FETCHED_AT
    )
    return raw, CORPUS_PARSERS[folder]


def corpus_summary(page: Path) -> dict[str, Any]:
    """What a corpus golden records: the fields, the body's ends and length, or the refusal."""
    raw, parser = corpus_page(page)
    summary: dict[str, Any] = {"source": f"pages/{page.parent.name}/{page.name}", "parser": parser}
    summary["page_url"] = raw.url
    try:
        article = parse(raw, parser)
    except NotAnArticle as refusal:
        summary["not_an_article"] = refusal.reason
        summary["kind"] = refusal.kind
        return summary
    summary["expected"] = {
        "title": article.title,
        "published_at": article.published_at,
        "author": article.author,
        "language": article.language,
        "declared_canonical_url": article.declared_canonical_url,
        "body_start": article.body[:EDGE],
        "body_end": article.body[-EDGE:],
        "body_length": len(article.body),
        "extra": article.extra,
    }
    return summary


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def bigrams(text: str) -> list[str]:
    """Character bigrams of the text without whitespace (Chinese has no word breaks)."""
    text = re.sub(r"\s+", "", text)
    return [text[i : i + 2] for i in range(len(text) - 1)]


def bigram_f1(produced: str, reference: str) -> float:
    """F1 of the bigram multisets of two texts: the body check of the corpus goldens."""
    from collections import Counter

    ours, theirs = Counter(bigrams(produced)), Counter(bigrams(reference))
    overlap = sum((ours & theirs).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(ours.values()), overlap / sum(theirs.values())
    return 2 * precision * recall / (precision + recall)
