"""Search latency of the web page's queries at 100k and 1M articles, SQLite and PostgreSQL.

Not part of the test run.  Loads N synthetic articles (paragraphs of the storage_scale
generator: 65 % Chinese, 35 % English-like; 4-7 paragraphs make 1,500-3,000 characters,
``--paragraphs 1-2`` about 600), 3 % of them video pages, with two planted words: 普京 in
0.5 % of the articles (rare) and 中国 in 40 % (common).  Loading goes through
``storage.bulk.bulk_record``: the rows and index entries ``Store.record`` writes for a new
article (tests/storage/test_search_bulk.py checks that both answer every search alike),
many per transaction.  Then, through the real query functions on a read session:

  list page          the newest 50 articles + the capped count       (/ without a query)
  search             newest 50 hits + capped count                   (/search.json?q=)
  facets page        the same + outlet/language/day facets           (/search?q=)
  search outlet=bbc  the search with an outlet filter (the index's own, migration 0016)
  search lang=en     ... with a language filter (and the facets page with outlet=bbc)
  search from=to=…   ... with a one-day date range, an old day (day 10 of the population)
  relevance          the best 50 of the newest 1,000 hits

and, in the same run, the LIKE baseline (``body LIKE '%word%' OR title LIKE …`` over the
current versions: newest 50 + capped count, and facets by GROUP BY over every LIKE match).
Each figure is p50/p95 over --samples calls after up to 3 warm-up calls, or fewer when
--op-budget seconds run out (n is printed; a call longer than the budget is the only one).
Two clocks: wall time, and CPU time (this thread plus the PostgreSQL backend's, from
/proc/<pid>/schedstat): on a shared machine wall time is mostly waiting for a core, and
the load average is printed beside each figure.  Targets (issue 12): p95 <= 50 ms for the
search of a two-character word at 1M, <= 300 ms for the page with facets.

    .venv/bin/python benchmarks/search_latency.py [--sizes 100000,1000000] \\
        [--backends sqlite,postgres] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] \\
        [--samples 30] [--op-budget 20] [--workdir DIR] [--paragraphs 4-7] [--json FILE]

    # build once, keep, measure later (a 1M build takes most of an hour on 2 shared cores):
    ... --backends sqlite --sizes 100000,1000000 --load-only --snapshot --keep --workdir DIR
    ... --existing sqlite=sqlite:///DIR/search-100000.db --existing postgres=postgresql+psycopg://…

    # only the searches, without the LIKE baseline:
    ... --existing … --cases '^search' --no-like
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage_scale import BASE_TIME, synth_article  # noqa: E402  (the shared synthetic population)

from crawler.items import Article  # noqa: E402
from storage import search_queries  # noqa: E402
from storage.bulk import BulkItem, bulk_record, deferred_search_index  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.fingerprint import body_hash  # noqa: E402
from storage.search_queries import SearchFilters  # noqa: E402
from storage.textsearch import index_text, tokenize  # noqa: E402

RARE, COMMON = "普京", "中国"
BATCH = 2000


def log(message: str) -> None:
    print(f"# [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Pool:
    """Paragraphs from the storage_scale generator, tokenized once; articles are drawn from them.

    Generating and tokenizing 1M bodies one by one costs about an hour on this machine;
    an article made of 4-7 pooled paragraphs (1,500-3,000 characters) is distinct, costs
    nothing to build, and its index entry is the pooled paragraphs' tokens joined (the
    tokenizer splits at line ends, so that is exactly ``index_text`` of the body; checked).
    """

    def __init__(self, size: int = 400, per_article: tuple[int, int] = (4, 7)) -> None:
        #: Paragraphs per article: 4-7 make the storage_scale lengths (1,500-3,000 characters).
        self.per_article = per_article
        # Each piece: (text, its tokens, its whitespace-free NFKC form for the body hash).
        self.paragraphs: dict[str, list[tuple[str, str, str]]] = {"zh": [], "en": []}
        for index in range(size):
            a = synth_article(10_000_000 + index, fast=True)
            for part in a.body.split("\n"):
                if part.strip():
                    self.paragraphs[a.language].append(_piece(part))
        self.planted = {word: _piece(f"{word}表示，双方将继续合作。") for word in (RARE, COMMON)}


def _piece(part: str) -> tuple[str, str, str]:
    return part, " ".join(tokenize(part)), re.sub(r"\s+", "", unicodedata.normalize("NFKC", part))


def articles(pool: Pool, start: int, stop: int) -> Iterator[tuple[int, dict[str, Any], str, str, str]]:
    """(id, metadata, body, index entry, body hash) with the planted words, deterministic per index."""
    for index in range(start, stop):
        rng = random.Random(index * 7 + 1)
        a = synth_article_meta(index, rng)
        paragraphs = pool.paragraphs[a["language"]]
        chosen = [paragraphs[rng.randrange(len(paragraphs))] for _ in range(rng.randint(*pool.per_article))]
        for word, share in ((RARE, 0.005), (COMMON, 0.40)):
            if rng.random() < share:
                chosen.insert(rng.randint(0, len(chosen)), pool.planted[word])
        body = "\n".join(part for part, _, _ in chosen)
        tokens = " ".join([" ".join(tokenize(a["title"])), *(t for _, t, _ in chosen)])
        digest = hashlib.sha256("".join(bare for _, _, bare in chosen).encode()).hexdigest()
        yield index + 1, a, body, tokens, digest


_TITLES = ["俄中关系与地区安全", "经济数据发布", "Talks resume in capital", "国防部例行记者会", "Markets close higher"]
_OUTLETS = [("rfi", "zh"), ("bbc", "zh"), ("wechat", "zh"), ("portal", "zh"), ("ecns", "en")]


def synth_article_meta(index: int, rng: random.Random) -> dict[str, Any]:
    """Outlet, language, title, dates and URL of article ``index`` (no body)."""
    outlet, language = _OUTLETS[bisect.bisect_left([0.2, 0.35, 0.5, 0.65, 1.0], rng.random())]
    published = BASE_TIME + timedelta(minutes=index)
    title = f"{_TITLES[index % len(_TITLES)]} {index}"
    return {
        "outlet": outlet, "language": language, "title": title,
        "published_at": published.isoformat(timespec="seconds"),
        "url": f"https://{outlet}.example/{published:%Y/%m%d}/{index}",
    }


def _items(pool: Pool, start: int, stop: int) -> list[BulkItem]:
    items = []
    for article_id, a, body, tokens, digest in articles(pool, start, stop):
        # 3 % of the pages are video pages with text (extra.page_kind, as the parsers mark them).
        extra = {"page_kind": "video"} if article_id % 33 == 0 else {}
        article = Article(
            url=a["url"], outlet=a["outlet"], title=a["title"], published_at=a["published_at"], author=None,
            language=a["language"], body=body, extra=extra, fetched_at=a["published_at"],
            content_hash=hashlib.sha256(body.encode()).hexdigest(), canonical_url=a["url"],
        )
        items.append(BulkItem(article, datetime.fromisoformat(a["published_at"]), tokens, digest))
    return items


def load(dbs: list[Database], pool: Pool, size: int, have: int, *, defer_index: bool = False) -> None:
    """Grow every database from ``have`` to ``size`` articles (storage.bulk, same rows each)."""
    started = time.perf_counter()
    with ExitStack() as deferred:
        for db in dbs if defer_index else []:  # PostgreSQL's GIN index is built once, after the rows
            deferred.enter_context(deferred_search_index(db))
        for start in range(have, size, BATCH):
            items = _items(pool, start, min(size, start + BATCH))
            for db in dbs:  # every backend gets the same rows, built once
                bulk_record(db, items)
            if (start // BATCH) % 25 == 0:
                log(f"loaded {start + len(items):,} / {size:,} ({time.perf_counter() - started:.0f} s)")
        log(f"rows in ({time.perf_counter() - started:.0f} s); building the index")
    for db in dbs:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    log(f"loaded {size:,} in {time.perf_counter() - started:.0f} s")


def _like_where(case: Case) -> tuple[str, dict[str, str]]:
    clauses, params = [], {}
    if case.word:
        clauses.append("(v.body LIKE :pattern OR v.title LIKE :pattern)")
        params["pattern"] = f"%{case.word}%"
    for column, value in (("outlet", case.outlet), ("language", case.lang)):
        if value:
            clauses.append(f"a.{column} = :{column}")
            params[column] = value
    if case.day is not None:
        clauses.append("a.published_at >= :day AND a.published_at < :next_day")
        day = (BASE_TIME + timedelta(days=case.day)).date()
        params.update(day=day.isoformat(), next_day=(day + timedelta(days=1)).isoformat())
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return (
        " FROM articles a JOIN article_versions v ON v.article_id = a.id AND v.version = a.version_count" + where,
        params,
    )


def like_search(db: Database, case: Case) -> tuple[int, int]:
    """The LIKE baseline: the same page, count and (all-match) facets, by scanning the text."""
    source, params = _like_where(case)
    with db.read_session() as session, ServerCpu(session) as server:
        ids = session.execute(text(f"SELECT a.id{source} ORDER BY a.id DESC LIMIT 51"), params).all()
        session.execute(text(f"SELECT count(*) FROM (SELECT 1{source} LIMIT 10001) AS c"), params).scalar()
        if case.facets:
            for expression in ("a.outlet", "a.language", "substr(a.published_at, 1, 10)"):
                session.execute(
                    text(f"SELECT {expression}, count(*){source} GROUP BY {expression} ORDER BY 2 DESC LIMIT 31"),
                    params,
                ).all()
    return len(ids), server.ns


def index_search(db: Database, case: Case) -> tuple[int, int]:
    """What /search does: one page, the capped count, and the facets when asked for."""
    day = (BASE_TIME + timedelta(days=case.day)).date() if case.day is not None else None
    filters = SearchFilters(q=case.word or "", outlet=case.outlet, lang=case.lang, date_from=day, date_to=day,
                            sort=case.sort)
    with db.read_session() as session, ServerCpu(session) as server:
        page = search_queries.search(session, filters, with_facets=case.facets, with_count=True)
    return len(page.hits), server.ns


class ServerCpu:
    """CPU time the PostgreSQL backend of ``session`` spends inside the block (0 for SQLite).

    The machine is shared: wall times include waiting for a core.  CPU time (this thread's,
    plus the server process's from /proc/<pid>/schedstat, in ns) is the work itself.
    """

    def __init__(self, session: Any) -> None:
        self.pid = (session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                    if session.get_bind().dialect.name == "postgresql" else None)
        self.ns = 0

    def _now(self) -> int:
        return int(Path(f"/proc/{self.pid}/schedstat").read_text().split()[0]) if self.pid else 0

    def __enter__(self) -> ServerCpu:
        self.start = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ns = self._now() - self.start


@dataclass(frozen=True)
class Case:
    name: str
    word: str | None
    facets: bool = False
    outlet: str | None = None
    lang: str | None = None
    #: A one-day date range (from = to), this many days after the first article's.
    day: int | None = None
    sort: search_queries.Sort = "new"
    #: Whether LIKE can answer the same question (relevance it cannot).
    like: bool = True


CASES = (
    Case("list page", None, like=False),
    Case("search", RARE),
    Case("search", COMMON),
    Case("facets page", RARE, facets=True),
    Case("facets page", COMMON, facets=True),
    Case("search outlet=bbc", RARE, outlet="bbc"),
    Case("search outlet=bbc", COMMON, outlet="bbc"),
    Case("facets page outlet=bbc", COMMON, facets=True, outlet="bbc"),
    Case("search lang=en", RARE, lang="en"),
    Case("search lang=en", COMMON, lang="en"),
    # Day 10: an old day (1,440 articles), far from the newest at 100k and 1M.
    Case("search from=to=day10", RARE, day=10),
    Case("search from=to=day10", COMMON, day=10),
    Case("relevance", COMMON, sort="relevance", like=False),
)


def timed(call: Callable[[], tuple[int, int]], samples: int, budget: float) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds (this thread + the database server) of each call; the page size.

    Up to 3 warm-up calls; a call longer than ``budget`` seconds is the only sample (LIKE at 1M).
    """
    times: list[float] = []
    cpu: list[float] = []

    def one() -> int:
        t0, c0 = time.perf_counter(), time.thread_time_ns()
        hits, server_ns = call()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time_ns() - c0 + server_ns) / 1e6)
        return hits

    hits, warm = one(), time.perf_counter()
    if times[0] > budget * 1000:
        return times, cpu, hits
    times.clear()
    cpu.clear()
    for _ in range(2):
        one()
        if time.perf_counter() - warm > budget / 2:
            break
    times.clear()
    cpu.clear()
    spent = time.perf_counter()
    while len(times) < samples and (not times or time.perf_counter() - spent < budget):
        one()
    return times, cpu, hits


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(db: Database, backend: str, size: int, samples: int, budget: float,
            only: str | None = None, like: bool = True) -> list[dict[str, Any]]:
    results = []
    for case in CASES:
        if only and not re.search(only, case.name):
            continue
        methods = [("index", index_search)] + ([("LIKE", like_search)] if case.like and like else [])
        for method, call in methods:
            times, cpu, hits = timed(lambda c=call, k=case: c(db, k), samples, budget)
            row = {"backend": backend, "size": size, "word": case.word or "-", "kind": case.name, "method": method,
                   "n": len(times), "p50_ms": statistics.median(times), "p95_ms": p(times, 0.95),
                   "cpu_p50_ms": statistics.median(cpu), "cpu_p95_ms": p(cpu, 0.95), "hits": hits,
                   "load": os.getloadavg()[0]}
            results.append(row)
            print(f"{backend:8} {size:>9,} {row['word']:2} {case.name:20} {method:5}  p50 {row['p50_ms']:9.1f} ms"
                  f"  p95 {row['p95_ms']:9.1f} ms  cpu p50 {row['cpu_p50_ms']:8.1f} p95 {row['cpu_p95_ms']:8.1f} ms"
                  f"  (n={len(times)}, page={hits}, load {row['load']:.1f})", flush=True)
    return results


def pg_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"newswatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def snapshot(db: Database, size: int) -> str:
    """A copy of the database as it is now, kept for measuring later; its URL."""
    url = make_url(db.url)
    if db.is_sqlite:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        source = Path(str(url.database))
        target = source.with_name(f"{source.stem}-{size}{source.suffix}")
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    name = f"{url.database}_{size}"
    db.dispose()  # a template database must have no other session
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--op-budget", type=float, default=20.0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--existing", action="append", default=[], metavar="BACKEND=URL",
                        help="measure a database a --keep run left behind (no loading), e.g. sqlite=sqlite:///…")
    parser.add_argument("--keep", action="store_true", help="keep the databases (their URLs are printed)")
    parser.add_argument("--defer-index", action="store_true",
                        help="PostgreSQL: drop the GIN index while loading, build it after (no faster here: "
                             "about 4.6 ms per article either way on 2 cores)")
    parser.add_argument("--paragraphs", default="4-7",
                        help="paragraphs per article, MIN-MAX: 4-7 is 1,500-3,000 characters; 1-2 is about 600, "
                             "a quarter of the index work (the 1M run on this 2-core machine)")
    parser.add_argument("--load-only", action="store_true", help="build (and keep) the databases, measure nothing")
    parser.add_argument("--snapshot", action="store_true",
                        help="keep a copy of each database at every size but the last (measure it with --existing)")
    parser.add_argument("--cases", default=None, metavar="REGEX", help="measure only the cases whose name matches")
    parser.add_argument("--no-like", action="store_true", help="skip the LIKE baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    results: list[dict[str, Any]] = []
    dbs: dict[str, Database] = {}
    cleanups: list[Callable[[], None]] = []
    low, high = (int(n) for n in args.paragraphs.split("-"))
    pool = Pool(per_article=(low, high))
    check = next(articles(pool, 0, 1))
    assert check[3] == index_text(check[1]["title"], check[2]), "pooled tokens differ from index_text"
    assert check[4] == body_hash(check[2]), "pooled body hash differs from fingerprint.body_hash"
    try:
        for spec in args.existing:  # a kept database: measured, and grown to larger --sizes
            backend, url = spec.split("=", 1)
            dbs[backend] = open_database(url)
        for backend in [] if args.existing else args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'search.db'}"
            else:
                url, cleanup = pg_database(args.pg_url)
                cleanups.append(cleanup)
            dbs[backend] = open_database(url)
        counts = set()
        for db in dbs.values():
            with db.engine.connect() as connection:
                counts.add(int(connection.execute(text("SELECT count(*) FROM articles")).scalar_one()))
        assert len(counts) == 1, f"the databases hold different numbers of articles: {counts}"
        have = counts.pop()
        for size in sizes:
            if size > have:
                load(list(dbs.values()), pool, size, have, defer_index=args.defer_index)
                have = size
            elif size < have:
                continue
            if args.snapshot and size != sizes[-1]:
                for db in dbs.values():
                    log(f"snapshot at {size:,}: {snapshot(db, size)}")
            if args.load_only:
                continue
            for backend, db in dbs.items():
                with db.engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
                results += measure(db, backend, size, args.samples, args.op_budget, args.cases, not args.no_like)
                if args.json:  # written as it goes: a 1M run takes long
                    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    finally:
        for db in dbs.values():
            db.dispose()
            if args.keep or args.existing:
                log(f"kept {db.url}")
        for cleanup in [] if args.keep else cleanups:
            cleanup()
    print_ratios(results, args.json)
    return 0


def print_ratios(results: list[dict[str, Any]], json_path: Path | None) -> None:
    print("\nratios LIKE / index (p50 and p95), same run:")
    for row in results:
        if row["method"] == "index":
            like = next((r for r in results if r["method"] == "LIKE"
                         and all(r[k] == row[k] for k in ("backend", "size", "word", "kind"))), None)
            ratio = (f"{like['p50_ms'] / max(row['p50_ms'], 0.001):8.1f}x p50 "
                     f"{like['p95_ms'] / max(row['p95_ms'], 0.001):8.1f}x p95 "
                     f"{like['cpu_p50_ms'] / max(row['cpu_p50_ms'], 0.001):8.1f}x cpu p50") if like \
                else "       (no LIKE equivalent)"
            print(f"  {row['backend']:8} {row['size']:>9,} {row['word']:2} {row['kind']:20} {ratio}"
                  f"  (index p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms)")
    if json_path:
        json_path.write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
