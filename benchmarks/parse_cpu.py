"""CPU per page of the parse alone, and a digest of what it gave: for changes meant to be faster only.

Runs what a parse worker does (``crawler.parseworker.parse_page``: decode, parse,
clean, fingerprint) in this process over every distinct real page that
``replay_speed.py`` uses (the shared corpus, both extraction benchmarks, the seeds),
each with the parser of its folder.  It prints the median and the lowest CPU
milliseconds per page over ``--repeats`` passes (after one warm-up pass), and a
digest of every result (the article's fields, or the reason a page was dropped).

Run it before and after a change: the CPU figure says what the change saved, and
the digest must not move when the change is meant to give the same results.
``--out FILE`` writes the results one per line, for ``diff`` when it does move.

    .venv/bin/python benchmarks/parse_cpu.py [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_speed import CORPUS, source_pages  # noqa: E402

from crawler.parseworker import Parsed, parse_page  # noqa: E402
from crawler.parsing import RawPage  # noqa: E402

FETCHED = datetime(2026, 11, 23, tzinfo=UTC)


def distinct_pages() -> list[RawPage]:
    pages: dict[bytes, RawPage] = {}
    for outlet, name, body in source_pages():
        url = f"https://bench.invalid/{outlet}/{name}"
        pages.setdefault(body, RawPage(url=url, body=body, outlet=outlet, fetched_at=FETCHED))
    return list(pages.values())


def parse_all(pages: list[RawPage]) -> list[str]:
    results = []
    for page in pages:
        result = parse_page(page, page.outlet)
        if isinstance(result, Parsed):
            fields = result.article.to_dict()
            results.append(json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False))
        else:
            results.append(repr(result)[:300])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="Write the results here, one per line.")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} not found: the shared corpus must be beside the checkout")
    pages = distinct_pages()
    results = parse_all(pages)  # warm-up: imports, compiled patterns, caches
    seconds = []
    for _ in range(max(1, args.repeats)):
        start = time.process_time()
        results = parse_all(pages)
        seconds.append(time.process_time() - start)
    seconds.sort()
    text = "\n".join(results)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    per_page = [1000 * s / len(pages) for s in seconds]
    print(f"{len(pages)} distinct pages: {per_page[len(per_page) // 2]:.2f} CPU ms per page "
          f"(median of {len(per_page)}, lowest {per_page[0]:.2f}); results digest {digest}")  # fmt: skip


if __name__ == "__main__":
    main()
