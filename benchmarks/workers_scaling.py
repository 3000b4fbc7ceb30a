"""Crawl throughput with 1, 2 and 3 Celery workers: pages per second and the scaling ratio.

For each worker count: a fresh PostgreSQL database, N ``newswatch worker`` processes
(concurrency 1 each, separate NEWSWATCH_HOMEs), one job per outlet sent with ``newswatch
crawl --enqueue`` (12 outlets of --pages/12 generated articles, each on its own port of
127.0.0.1, tests/workers/newsroom.py), timed from the first enqueue to the last run's end.
``--delay`` adds server latency per article (a real site is not on loopback).

    NEWSWATCH_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    .venv/bin/python benchmarks/workers_scaling.py [--pages 600] [--delay 0.05] [--broker amqp://…]

Prints pages/s for each count and the ratio to one worker (ideal: 2.0 and 3.0).  On a
2-core machine the ratio is bounded by the cores: parsing, storing and every worker's
Python start-up compete for them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.workers.cluster import RABBITMQ, Cluster  # noqa: E402
from tests.workers.newsroom import Site, outlets_toml  # noqa: E402

OUTLETS = 12


def measure(workers: int, pages: int, delay: float, broker: str, admin_url: str) -> tuple[float, int]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"workers_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    sites = [Site(f"bench{n:02d}", pages // OUTLETS, delay_s=delay).start() for n in range(OUTLETS)]
    cluster = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "outlets.toml"
            config.write_text(outlets_toml(sites), encoding="utf-8")
            cluster = Cluster(Path(tmp), db_url, broker, config)
            for n in range(workers):
                cluster.start_worker(f"w{n + 1}", concurrency=1)
            cluster.wait_ready(timeout=300)
            started = time.monotonic()
            result = cluster.run("crawl", *(s.name for s in sites), "--enqueue")
            assert result.returncode == 0, result.stderr

            def done() -> bool:
                runs = cluster.runs()  # type: ignore[union-attr]
                return len(runs) == OUTLETS and all(r.status != "running" for r in runs)

            cluster.wait_for(done, 3600, "every run")
            elapsed = time.monotonic() - started
            stored = cluster.articles()
    finally:
        if cluster is not None:
            cluster.stop()
        for site in sites:
            site.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return elapsed, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--delay", type=float, default=0.05, help="server latency per article (s)")
    parser.add_argument("--broker", default=os.environ.get("NEWSWATCH_BROKER_URL") or RABBITMQ)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args()
    admin_url = os.environ.get("NEWSWATCH_TEST_PG")
    if not admin_url:
        sys.exit("set NEWSWATCH_TEST_PG to a PostgreSQL server URL")
    os.environ.setdefault("NEWSWATCH_NETGUARD", "")
    base: float | None = None
    print(f"{args.pages} pages over {OUTLETS} outlets, {args.delay:g}s latency per article, broker {args.broker.split('@')[-1]}")
    for count in [int(n) for n in args.workers.split(",")]:
        elapsed, stored = measure(count, args.pages, args.delay, args.broker, admin_url)
        rate = stored / elapsed
        base = base or rate
        print(f"{count} worker(s): {stored} pages in {elapsed:.1f}s = {rate:.2f} pages/s, ratio {rate / base:.2f}", flush=True)


if __name__ == "__main__":
    main()
