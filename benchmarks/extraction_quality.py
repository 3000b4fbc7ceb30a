"""Body-text quality of our parsers against bare ``trafilatura.extract``, on two public benchmarks.

Benchmarks (in ../shared/corpus/benchmark):

- ``scrapinghub_aeb``: ``html/<id>.html.gz`` + ``ground-truth.json`` (``articleBody``);
- ``magic_html``: ``htmls/<id>.html`` + ``base.json`` (``content``; only pages present).

Score: character-bigram F1 per page (multiset of adjacent character pairs of the
whitespace-collapsed text), averaged.  A page whose ground truth is empty (a
listing page) scores 1 for an empty answer and 0 otherwise.  Ours: Chinese pages
go to the ``portal`` parser, all others to ``ecns`` (which falls back to the
shared generic path for sites it does not know); a ``ParseError`` counts as an
empty answer.  Theirs: ``trafilatura.extract`` with default options on the same
decoded text.

    .venv/bin/python benchmarks/extraction_quality.py [--limit N] [--worst K]

Exits 1 when our mean is below trafilatura's on either benchmark or overall.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.parsing import ParseError, RawPage, parse  # noqa: E402
from crawler.parsing.decode import decode_body  # noqa: E402

BENCHMARKS = REPO.parent / "shared" / "corpus" / "benchmark"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
_WHITESPACE = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Case:
    benchmark: str
    page_id: str
    url: str
    body: bytes
    truth: str


def aeb_cases() -> Iterator[Case]:
    folder = BENCHMARKS / "scrapinghub_aeb"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id in sorted(truth):
        path = folder / "html" / f"{page_id}.html.gz"
        if path.exists():
            entry = truth[page_id]
            body = gzip.decompress(path.read_bytes())
            yield Case("scrapinghub_aeb", page_id, entry.get("url", ""), body, entry["articleBody"])


def magic_cases() -> Iterator[Case]:
    folder = BENCHMARKS / "magic_html"
    truth = json.loads((folder / "base.json").read_text(encoding="utf-8"))
    for page_id in sorted(truth):
        path = folder / "htmls" / f"{page_id}.html"
        if path.exists():
            entry = truth[page_id]
            yield Case(
                "magic_html", page_id, entry.get("url", ""), path.read_bytes(), entry["content"]
            )


def bigrams(text: str) -> Counter[str]:
    text = _WHITESPACE.sub(" ", text).strip()
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def bigram_f1(predicted: str, truth: str) -> float:
    expected, got = bigrams(truth), bigrams(predicted)
    if not expected:
        return 1.0 if not got else 0.0
    if not got:
        return 0.0
    overlap = sum((expected & got).values())
    precision, recall = overlap / sum(got.values()), overlap / sum(expected.values())
    return 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)


def parser_for(text: str) -> str:
    """``portal`` for Chinese pages, ``ecns`` for the rest (by the share of Han characters)."""
    sample = text[:200_000]
    han = len(_HAN.findall(sample))
    return "portal" if han >= 200 or han * 20 >= len(sample) else "ecns"


def ours(case: Case, text: str) -> str:
    page = RawPage(url=case.url or f"fixture:benchmark/{case.page_id}", body=case.body,
                   headers={}, outlet="benchmark", fetched_at=FETCHED_AT)  # fmt: skip
    try:
        return parse(page, parser_for(text)).body
    except ParseError:
        return ""


def theirs(text: str) -> str:
    return trafilatura.extract(text) or ""


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--limit", type=int, default=None, help="first N pages of each benchmark")
    options.add_argument(
        "--worst", type=int, default=0, help="list the K pages where ours loses most"
    )
    args = options.parse_args(argv)

    scores: dict[str, list[tuple[float, float, Case]]] = {}
    for cases in (aeb_cases(), magic_cases()):
        for index, case in enumerate(cases):
            if args.limit is not None and index >= args.limit:
                break
            text = decode_body(case.body).text
            row = (
                bigram_f1(ours(case, text), case.truth),
                bigram_f1(theirs(text), case.truth),
                case,
            )
            scores.setdefault(case.benchmark, []).append(row)

    failed = False
    everything = [row for rows in scores.values() for row in rows]
    print(f"{'benchmark':<18}{'pages':>6}{'ours':>9}{'trafilatura':>13}{'ours worse':>12}")
    for name, rows in [*scores.items(), ("overall", everything)]:
        mean_ours = sum(row[0] for row in rows) / len(rows)
        mean_theirs = sum(row[1] for row in rows) / len(rows)
        worse = sum(1 for row in rows if row[0] < row[1] - 1e-9)
        failed |= mean_ours < mean_theirs
        print(f"{name:<18}{len(rows):>6}{mean_ours:>9.4f}{mean_theirs:>13.4f}{worse:>12}")
    if args.worst:
        print("\nlargest losses (ours - trafilatura):")
        for mine, other, case in sorted(everything, key=lambda row: row[0] - row[1])[: args.worst]:
            print(f"  {mine - other:+.3f}  {case.benchmark}/{case.page_id[:12]}  {case.url[:90]}")
    if failed:
        print("FAIL: our mean is below trafilatura's", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
