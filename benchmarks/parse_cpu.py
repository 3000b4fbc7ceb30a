"""CPU per page of the parse alone, and a digest of what it gave: for changes meant to be faster only.

Runs what a parse worker does (``crawler.parseworker.parse_page``: decode, parse,
clean, fingerprint) in this process over every distinct real page that
``replay_speed.py`` uses (the shared corpus, both extraction benchmarks, the seeds),
each with the parser of its folder.  It prints the median and the lowest CPU
milliseconds per page over ``--repeats`` passes (after one warm-up pass), and a
digest of every result (the article's fields, or the reason a page was dropped).

Run it before and after a change: the CPU figure says what the change saved, and
the digest must not move when the change is meant to give the same results.

``--ceilings`` also times replay_speed.py's trafilatura loops on the same pages, in
the same passes: (a) ``trafilatura.extract(page, with_metadata=True)`` and (a') with
our settings.  A replay can be no faster than its parse, so these give the most its
ratios could be if deduplication, storage and the engine cost nothing and N workers
used N cores perfectly: (b)/(a') <= (a')/parse, (b')/(a'') <= (a')/parse and
(b')/(a) <= N * (a)/parse.
``--out FILE`` writes the results one per line, for ``diff`` when it does move.

    .venv/bin/python benchmarks/parse_cpu.py [--repeats 3] [--out FILE] [--ceilings]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_speed import CORPUS, source_pages  # noqa: E402

from crawler.parseworker import Parsed, parse_page  # noqa: E402
from crawler.parsing import RawPage  # noqa: E402
from crawler.parsing.html import TRAFILATURA_OPTIONS  # noqa: E402

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


def extract_all(pages: list[RawPage], options: dict[str, Any]) -> int:
    """One of replay_speed.py's trafilatura loops, from the page bytes."""
    return sum(1 for page in pages if trafilatura.extract(page.body, **options))


LOOPS = {"(a)": {"with_metadata": True}, "(a')": TRAFILATURA_OPTIONS}


def print_ceilings(pages: int, parse_ms: float, loop_seconds: dict[str, list[float]]) -> None:
    bare, ours = (1000 * median(loop_seconds[name]) / pages for name in LOOPS)
    cores = os.cpu_count() or 1
    print(f"(a)  trafilatura.extract(with_metadata=True): {bare:.2f} CPU ms per page (median)")
    print(f"(a') trafilatura.extract, our settings:        {ours:.2f} CPU ms per page (median)")
    print("ceilings if deduplication, storage and the engine cost nothing "
          f"({cores} cores): (b)/(a') <= {ours / parse_ms:.2f} (target 0.8), "
          f"(b')/(a'') <= {ours / parse_ms:.2f} (target 0.75), "
          f"(b')/(a) <= {cores * bare / parse_ms:.2f} (target 3.5)")  # fmt: skip


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="Write the results here, one per line.")
    parser.add_argument("--ceilings", action="store_true", help="Also time the trafilatura loops.")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} not found: the shared corpus must be beside the checkout")
    pages = distinct_pages()
    results = parse_all(pages)  # warm-up: imports, compiled patterns, caches
    loops = LOOPS if args.ceilings else {}
    for options in loops.values():
        extract_all(pages, options)
    seconds: list[float] = []
    loop_seconds: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(max(1, args.repeats)):
        start = time.process_time()
        results = parse_all(pages)
        seconds.append(time.process_time() - start)
        for name, options in loops.items():  # interleaved: a drifting machine drifts for both
            start = time.process_time()
            extract_all(pages, options)
            loop_seconds[name].append(time.process_time() - start)
    seconds.sort()
    text = "\n".join(results)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    per_page = [1000 * s / len(pages) for s in seconds]
    parse_ms = median(per_page)
    print(f"{len(pages)} distinct pages: {parse_ms:.2f} CPU ms per page "
          f"(median of {len(per_page)}, lowest {per_page[0]:.2f}); results digest {digest}")  # fmt: skip
    if loops:
        print_ceilings(len(pages), parse_ms, loop_seconds)


if __name__ == "__main__":
    main()
