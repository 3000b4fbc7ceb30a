"""Search latency of the web page's queries at 100k (and 1M) articles, SQLite and PostgreSQL.

Not part of the test run.  Loads N synthetic articles (the storage_scale generator: 65 %
Chinese bodies of 1,500-3,000 characters, 35 % English-like), with two planted words:
普京 in 0.5 % of the articles (rare) and 中国 in 40 % (common).  The search index is
filled with ``storage.textsearch.index_text``, exactly as ``Store.record`` fills it.
Then, through the real query functions of storage/search_queries.py on a read session:

  search        newest 50 hits + capped count       (what /search.json does without facets)
  facets page   the same + outlet/language/day facets (what /search does for a query)

and, in the same run, the LIKE baseline (``body LIKE '%word%' OR title LIKE …`` over the
current versions, newest 50 + capped count, and the same facets by GROUP BY over LIKE).
Each figure is p50/p95 in ms over --samples calls after 3 warm-up calls, or fewer when
--op-budget seconds run out (n is printed).  Targets (issue 12): p95 <= 50 ms for the
search of a two-character word at 1M, <= 300 ms for the page with facets.

    .venv/bin/python benchmarks/search_latency.py [--sizes 100000,1000000] \\
        [--backends sqlite,postgres] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] \\
        [--samples 30] [--op-budget 20] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage_scale import BASE_TIME, synth_article  # noqa: E402  (the shared synthetic population)

from storage import search_queries  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
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

    def __init__(self, size: int = 400) -> None:
        self.paragraphs: dict[str, list[tuple[str, str]]] = {"zh": [], "en": []}
        for index in range(size):
            a = synth_article(10_000_000 + index, fast=True)
            for part in a.body.split("\n"):
                if part.strip():
                    self.paragraphs[a.language].append((part, " ".join(tokenize(part))))
        self.planted = {word: (f"{word}表示，双方将继续合作。", " ".join(tokenize(f"{word}表示，双方将继续合作。")))
                        for word in (RARE, COMMON)}


def articles(pool: Pool, start: int, stop: int) -> Iterator[tuple[int, Any, str, str]]:
    """(id, article, body, index entry) with the planted words, deterministic per index."""
    for index in range(start, stop):
        rng = np.random.default_rng([7, index])
        a = synth_article_meta(index)
        paragraphs = pool.paragraphs[a["language"]]
        chosen = [paragraphs[int(i)] for i in rng.integers(0, len(paragraphs), size=int(rng.integers(4, 8)))]
        for word, share in ((RARE, 0.005), (COMMON, 0.40)):
            if rng.random() < share:
                chosen.insert(int(rng.integers(0, len(chosen) + 1)), pool.planted[word])
        body = "\n".join(part for part, _ in chosen)
        tokens = " ".join([" ".join(tokenize(a["title"])), *(t for _, t in chosen)])
        yield index + 1, a, body, tokens


_META_RNG_TITLES = ["俄中关系与地区安全", "经济数据发布", "Talks resume in capital", "国防部例行记者会", "Markets close higher"]


def synth_article_meta(index: int) -> dict[str, Any]:
    """Outlet, language, title, dates and URL of article ``index`` (no body)."""
    rng = np.random.default_rng([11, index])
    outlet, language = [("rfi", "zh"), ("bbc", "zh"), ("wechat", "zh"), ("portal", "zh"), ("ecns", "en")][
        int(np.searchsorted([0.2, 0.35, 0.5, 0.65, 1.0], rng.random()))]
    published = BASE_TIME + timedelta(minutes=index)
    title = f"{_META_RNG_TITLES[index % len(_META_RNG_TITLES)]} {index}"
    return {
        "outlet": outlet, "language": language, "title": title,
        "published_at": published.isoformat(timespec="seconds"),
        "when": published.strftime("%Y-%m-%d %H:%M:%S"),
        "url": f"https://{outlet}.example/{published:%Y/%m%d}/{index}",
    }


def _rows(pool: Pool, start: int, stop: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    arts, versions, index = [], [], []
    for article_id, a, body, tokens in articles(pool, start, stop):
        digest = hashlib.sha256(body.encode()).hexdigest()
        arts.append({
            "id": article_id, "canonical_url": a["url"], "url": a["url"], "outlet": a["outlet"], "title": a["title"],
            "published_at": a["published_at"], "language": a["language"], "fetched_at": a["when"],
            "content_hash": digest, "body_hash": digest, "first_seen_at": a["when"],
            "last_seen_at": a["when"], "body_chars": len(body), "extra": "{}",
        })
        versions.append({
            "article_id": article_id, "url": a["url"], "title": a["title"], "published_at": a["published_at"],
            "language": a["language"], "content_hash": digest, "fetched_at": a["when"], "recorded_at": a["when"],
            "extra": "{}", "body": body,
        })
        index.append({"id": article_id, "tokens": tokens})
    return arts, versions, index


def load(dbs: list[Database], pool: Pool, size: int, have: int) -> None:
    insert_articles = text(
        "INSERT INTO articles (id, canonical_url, url, outlet, title, published_at, language, fetched_at,"
        " content_hash, body_hash, version_count, first_seen_at, last_seen_at, body_chars, extra)"
        " VALUES (:id, :canonical_url, :url, :outlet, :title, :published_at, :language, :fetched_at,"
        " :content_hash, :body_hash, 1, :first_seen_at, :last_seen_at, :body_chars, :extra)"
    )
    insert_versions = text(
        "INSERT INTO article_versions (article_id, version, url, title, published_at, language, content_hash,"
        " fetched_at, recorded_at, extra, body) VALUES (:article_id, 1, :url, :title, :published_at, :language,"
        " :content_hash, :fetched_at, :recorded_at, :extra, :body)"
    )
    started = time.perf_counter()
    for start in range(have, size, BATCH):
        arts, versions, index = _rows(pool, start, min(size, start + BATCH))
        for db in dbs:  # every backend gets the same rows, built once
            insert_index = text(
                "INSERT INTO article_search (rowid, tokens) VALUES (:id, :tokens)" if db.is_sqlite
                else "INSERT INTO article_search (article_id, tsv) VALUES (:id, to_tsvector('simple', :tokens))"
            )
            with db.engine.begin() as connection:
                connection.execute(insert_articles, arts)
                connection.execute(insert_versions, versions)
                connection.execute(insert_index, index)
        if (start // BATCH) % 25 == 0:
            log(f"loaded {start + len(arts):,} / {size:,} ({time.perf_counter() - started:.0f} s)")
    for db in dbs:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    log(f"loaded {size:,} in {time.perf_counter() - started:.0f} s")


def _like_where(word: str) -> tuple[str, dict[str, str]]:
    return (
        " FROM articles a JOIN article_versions v ON v.article_id = a.id AND v.version = a.version_count"
        " WHERE (v.body LIKE :pattern OR v.title LIKE :pattern)",
        {"pattern": f"%{word}%"},
    )


def like_search(db: Database, word: str, facets: bool) -> int:
    source, params = _like_where(word)
    with db.read_session() as session:
        ids = session.execute(text(f"SELECT a.id{source} ORDER BY a.id DESC LIMIT 51"), params).all()
        session.execute(text(f"SELECT count(*) FROM (SELECT 1{source} LIMIT 10001) AS c"), params).scalar()
        if facets:
            for expression in ("a.outlet", "a.language", "substr(a.published_at, 1, 10)"):
                session.execute(
                    text(f"SELECT {expression}, count(*){source} GROUP BY {expression} ORDER BY 2 DESC LIMIT 31"),
                    params,
                ).all()
    return len(ids)


def index_search(db: Database, word: str, facets: bool) -> int:
    filters = SearchFilters(q=word)
    with db.read_session() as session:
        page = search_queries.search(session, filters, with_facets=facets)
        search_queries.count(session, filters)
    return len(page.hits)


def timed(call: Callable[[], int], samples: int, budget: float) -> tuple[list[float], int]:
    hits = 0
    for _ in range(3):
        hits = call()
    times: list[float] = []
    spent = time.perf_counter()
    while len(times) < samples and (not times or time.perf_counter() - spent < budget):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return times, hits


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(db: Database, backend: str, size: int, samples: int, budget: float) -> list[dict[str, Any]]:
    results = []
    for word in (RARE, COMMON):
        for facets in (False, True):
            kind = "facets page" if facets else "search"
            for method, call in (("index", index_search), ("LIKE", like_search)):
                times, hits = timed(lambda c=call, f=facets, w=word: c(db, w, f), samples, budget)
                row = {"backend": backend, "size": size, "word": word, "kind": kind, "method": method,
                       "n": len(times), "p50_ms": statistics.median(times), "p95_ms": p(times, 0.95), "hits": hits}
                results.append(row)
                print(f"{backend:8} {size:>9,} {word} {kind:11} {method:5}  p50 {row['p50_ms']:9.1f} ms"
                      f"  p95 {row['p95_ms']:9.1f} ms  (n={len(times)}, page={hits})", flush=True)
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
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    results: list[dict[str, Any]] = []
    if args.existing:
        for spec in args.existing:
            backend, url = spec.split("=", 1)
            db = open_database(url)
            with db.engine.begin() as connection:
                size = int(connection.execute(text("SELECT count(*) FROM articles")).scalar_one())
                connection.execute(text("ANALYZE"))
            try:
                results += measure(db, backend, size, args.samples, args.op_budget)
            finally:
                db.dispose()
        print_ratios(results, args.json)
        return 0
    dbs: dict[str, Database] = {}
    cleanups: list[Callable[[], None]] = []
    pool = Pool()
    check = next(articles(pool, 0, 1))
    assert check[3] == index_text(check[1]["title"], check[2]), "pooled tokens differ from index_text"
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'search.db'}"
            else:
                url, cleanup = pg_database(args.pg_url)
                cleanups.append(cleanup)
            dbs[backend] = open_database(url)
        have = 0
        for size in sizes:
            load(list(dbs.values()), pool, size, have)
            have = size
            for backend, db in dbs.items():
                results += measure(db, backend, size, args.samples, args.op_budget)
    finally:
        for db in dbs.values():
            db.dispose()
            if args.keep:
                log(f"kept {db.url}")
        for cleanup in [] if args.keep else cleanups:
            cleanup()
    print_ratios(results, args.json)
    return 0


def print_ratios(results: list[dict[str, Any]], json_path: Path | None) -> None:
    print("\nratios LIKE / index (p50), same run:")
    for row in results:
        if row["method"] == "index":
            like = next(r for r in results if r["method"] == "LIKE" and all(r[k] == row[k] for k in ("backend", "size", "word", "kind")))
            print(f"  {row['backend']:8} {row['size']:>9,} {row['word']} {row['kind']:11} "
                  f"{like['p50_ms'] / max(row['p50_ms'], 0.001):8.1f}x  (index p95 {row['p95_ms']:.1f} ms)")
    if json_path:
        json_path.write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
