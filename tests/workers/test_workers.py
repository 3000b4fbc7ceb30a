"""Crawl workers on several machines (here: processes with their own homes), for real.

Real RabbitMQ (and Redis), real PostgreSQL, real `newswatch worker` and `scheduler run
--dispatch celery` processes, and local sites on 127.0.0.1 (tests/workers/newsroom.py).
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workers.cluster import RABBITMQ, REDIS, Cluster, reachable, soon
from tests.workers.newsroom import Site, outlets_toml

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    started: list[Site] = []
    yield started
    for site in started:
        site.stop()


@pytest.fixture
def cluster_factory(pg_url: str, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    made: list[Cluster] = []

    def make(broker: str, sites: list[Site]) -> Cluster:
        host, port = ("127.0.0.1", 5672) if broker.startswith("amqp") else ("127.0.0.1", 6379)
        if not reachable(host, port):
            pytest.skip(f"no broker at {host}:{port} (.ci/run starts RabbitMQ and Redis)")
        config = tmp_path / "outlets.toml"
        config.write_text(outlets_toml(sites, every="1h"), encoding="utf-8")
        cluster = Cluster(tmp_path, pg_url, broker, config)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


@pytest.mark.parametrize("broker", [RABBITMQ, REDIS], ids=["rabbitmq", "redis"])
def test_three_workers_store_every_article_of_twelve_outlets_exactly_once(broker, sites, cluster_factory) -> None:
    for n in range(12):
        sites.append(Site(f"outlet{n:02d}", 50, delay_s=0.01).start())
    cluster = cluster_factory(broker, sites)
    for name in ("w1", "w2", "w3"):
        cluster.start_worker(name, concurrency=2)
    cluster.wait_ready()
    # Two schedulers: one holds the lease, the other stands by; neither may send a due time twice.
    cluster.start_scheduler("scheduler1")
    cluster.start_scheduler("scheduler2")
    outlets = [site.name for site in sites]
    cluster.make_due(outlets, soon(1))

    def all_finished() -> bool:
        runs = cluster.runs()
        return len(runs) >= 12 and all(r.status != "running" for r in runs)

    cluster.wait_for(all_finished, 240, "12 runs")
    time.sleep(2)  # a duplicate job would start by now
    runs = cluster.runs()
    assert [r.status for r in runs] == ["finished"] * 12, [(r.id, r.status, r.message) for r in runs]
    # One job per outlet and due time: one dispatch each, one run each.
    assert sorted(k.split("@")[0] for k in cluster.dispatches()) == sorted(outlets)
    assert Counter(r.job_key for r in runs) == Counter({k: 1 for k in cluster.dispatches()})
    assert {r.worker for r in runs} == {"w1@test", "w2@test", "w3@test"}
    urls = cluster.urls()
    assert len(urls) == len(set(urls)) == 600
    assert set(urls) == {site.base + path for site in sites for path in site.article_paths()}
    assert sum(r.new_count for r in runs) == 600
    for site in sites:  # every page fetched once, in full
        assert site.count_status(200) == 50 and site.count_status(304) == 0, site.name
    shown = json.loads(cluster.run("workers", "--json").stdout)
    assert {r["worker"] for r in shown} == {"w1@test", "w2@test", "w3@test"}


def test_a_killed_workers_job_is_redelivered_and_revalidates_what_was_stored(sites, cluster_factory) -> None:
    site = Site("slow", 80, delay_s=0.1).start()
    sites.append(site)
    cluster = cluster_factory(RABBITMQ, sites)
    cluster.start_worker("w1", concurrency=1)
    cluster.start_worker("w2", concurrency=1)
    cluster.wait_ready()
    result = cluster.run("crawl", "slow", "--enqueue")
    assert result.returncode == 0 and "enqueued slow@" in result.stdout, result.stdout + result.stderr
    cluster.wait_for(lambda: cluster.articles() >= 20, 120, "20 stored articles")
    victim = next(r.worker for r in cluster.runs() if r.status == "running").split("@")[0]
    cluster.kill(victim)
    stored_before = set(cluster.urls())
    assert 20 <= len(stored_before) < 80

    def done() -> bool:
        return any(r.status == "finished" for r in cluster.runs())

    cluster.wait_for(done, 120, "the redelivered job")
    runs = cluster.runs()
    assert len(runs) == 2, [(r.id, r.worker, r.status) for r in runs]
    killed, redone = runs
    assert killed.worker == f"{victim}@test" and killed.status == "interrupted", killed.message
    assert redone.worker != killed.worker and redone.status == "finished"
    assert killed.job_key == redone.job_key
    urls = cluster.urls()
    assert len(urls) == len(set(urls)) == 80  # every article exactly once
    for url in stored_before:  # revalidated: one full download before the kill, a 304 after
        path = url.removeprefix(site.base)
        assert (site.hits(path, 200), site.hits(path, 304)) == (1, 1), path
    assert redone.unchanged_count == len(stored_before)
    assert redone.new_count == 80 - len(stored_before)


def test_two_workers_recording_near_copies_at_once_give_one_new_one_duplicate_per_pair(sites, cluster_factory) -> None:
    original = Site("wire", 50).start()
    copy = Site("copier", 50, twin_of="wire").start()
    sites.extend([original, copy])
    cluster = cluster_factory(RABBITMQ, sites)
    cluster.start_worker("w1", concurrency=1)
    cluster.start_worker("w2", concurrency=1)
    cluster.wait_ready()
    result = cluster.run("crawl", "wire", "copier", "--enqueue")
    assert result.returncode == 0, result.stderr
    cluster.wait_for(lambda: len(cluster.runs()) == 2 and all(r.status != "running" for r in cluster.runs()),
                     120, "both crawls")
    runs = cluster.runs()
    assert {r.status for r in runs} == {"finished"} and {r.worker for r in runs} == {"w1@test", "w2@test"}
    assert sum(r.new_count for r in runs) == 50 and sum(r.duplicate_count for r in runs) == 50
    records = cluster.records()
    for path in original.article_paths():  # per pair: one original, and the other copy points at it
        first, second = records[original.base + path], records[copy.base + path]
        pair = sorted([first, second], key=lambda r: r[1] is not None)
        assert pair[0][1] is None and pair[1][1] == pair[0][0], (path, first, second)


def test_a_second_sigterm_stops_a_workers_running_crawl(sites, cluster_factory) -> None:
    # `newswatch worker --help`: "SIGTERM: no new job, running crawls finish; a second one stops them."
    site = Site("long", 400, delay_s=1.0).start()  # about 100 s of crawling at 4 pages at once
    sites.append(site)
    cluster = cluster_factory(RABBITMQ, sites)
    cluster.start_worker("w1", concurrency=1)
    cluster.wait_ready()
    result = cluster.run("crawl", "long", "--enqueue")
    assert result.returncode == 0, result.stderr
    cluster.wait_for(lambda: cluster.articles() >= 4, 60, "a crawl under way")
    worker = cluster.workers["w1"]
    worker.send_signal(signal.SIGTERM)
    cluster.wait_for(lambda: "Warm shutdown" in cluster.log("w1"), 10, "the first signal handled")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=40) == 0, cluster.log("w1")
    [run] = cluster.runs()
    assert (run.status, run.message) == ("interrupted", "stopped by worker shutdown (second signal)")
    assert cluster.articles() < 400


def test_a_crawl_timeout_given_to_a_job_holds_on_the_worker(sites, cluster_factory) -> None:
    # `schedule add --timeout` and `crawl --enqueue --timeout` are a hard limit on the crawl
    # the worker runs, not only on a crawl of this machine (each outlet's own is 5 min here).
    scheduled, enqueued = Site("scheduled", 400, delay_s=1.0).start(), Site("enqueued", 400, delay_s=1.0).start()
    sites.extend([scheduled, enqueued])
    cluster = cluster_factory(RABBITMQ, sites)
    cluster.start_worker("w1", concurrency=2)
    cluster.wait_ready()
    added = cluster.run("schedule", "add", "scheduled", "--every", "1h", "--timeout", "3s")
    assert added.returncode == 0, added.stderr
    from newswatch.scheduling import job_id, job_store

    with job_store(cluster.db) as scheduler:
        scheduler.modify_job(job_id("scheduled"), next_run_time=soon(1))
    cluster.start_scheduler("scheduler1")
    result = cluster.run("crawl", "enqueued", "--enqueue", "--timeout", "3s")
    assert result.returncode == 0, result.stderr
    # The crawl process closes its run as interrupted on SIGTERM; the worker then records why.
    cluster.wait_for(lambda: [(r.status, r.message) for r in cluster.runs()] == [("failed", "killed after 3s timeout")] * 2,
                     60, "both crawls stopped at their 3 s timeout")
    assert cluster.articles() < 800
