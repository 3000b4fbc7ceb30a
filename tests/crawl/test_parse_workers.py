"""Parsing in worker processes (crawler.parsepool): deadlines, dead workers, orphans, same results.

Everything runs through the real ``newswatch replay`` command with real worker
processes; a worker is found as a descendant of the crawl process in /proc.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from tests.support.cli_helpers import FIXTURES, NEWSWATCH, REPO, newswatch

CORPUS_PAGES = REPO.parent / "shared" / "corpus" / "pages"
SLOW_NAME = "zz_slow.html"
SEED_ECNS = FIXTURES / "ecns" / "002_7f4bb0f97d81d91b.txt"
#: Times that differ between two runs of the same input.
TIME_FIELDS = ("fetched_at", "first_seen_at", "last_seen_at")


def slow_page(paragraphs: int = 50_000) -> bytes:
    """A real page that takes our parser tens of seconds: ~4 MB of paragraphs for trafilatura."""
    text = "".join(
        f"<p>Paragraph {i} of a very long report on the weather, the markets and the news.</p>"
        for i in range(paragraphs)
    )
    return f"<html><head><title>A slow page</title></head><body><article>{text}</article></body></html>".encode()


def fixtures_with_slow_page(root: Path) -> Path:
    """The five seeds plus one slow page, last of the rfi folder (wechat's seed comes after it)."""
    tree = root / "tree"
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.expected.json"))
    (tree / "rfi" / SLOW_NAME).write_bytes(slow_page())
    return tree


def start_replay(tree: Path, db_url: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(NEWSWATCH), "replay", str(tree), "--db", db_url, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, **env},
    )


def replay(tree: Path, db_url: str, workers: int, **env: str) -> dict[str, Any]:
    result = newswatch(
        "replay", str(tree), "--db", db_url, "--json", timeout=600,
        env={"NEWSWATCH_PARSE_WORKERS": str(workers), **env},
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stored_count(db_url: str) -> int:
    try:
        with sqlite3.connect(f"file:{make_url(db_url).database}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:  # not created or migrated yet
        return 0


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from "state" on


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def parse_workers(crawl_pid: int) -> set[int]:
    """The workers: processes forked by the forkserver, itself a child of the crawl process."""
    children = {p for p in descendants(crawl_pid) if (s := _stat(p)) and int(s[1]) == crawl_pid}
    return {p for p in descendants(crawl_pid) - children if alive(p)}


def cpu_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else -1  # utime + stime


def busy_worker(crawl_pid: int) -> int | None:
    """The worker using the CPU (the one parsing the slow page), measured over half a second."""
    before = {pid: cpu_ticks(pid) for pid in parse_workers(crawl_pid)}
    time.sleep(0.5)
    gained = {pid: cpu_ticks(pid) - ticks for pid, ticks in before.items() if alive(pid)}
    busy = [pid for pid, delta in gained.items() if delta > 0]
    return busy[0] if len(busy) == 1 else None


def test_a_slow_page_is_dropped_at_its_deadline_and_the_rest_is_stored(tmp_path: Path, sqlite_url: str) -> None:
    tree = fixtures_with_slow_page(tmp_path)
    summary = replay(tree, sqlite_url, workers=2, NEWSWATCH_PARSE_TIMEOUT="2")
    assert [(p["url"], p["reason"]) for p in summary["problems"]] == [
        (f"fixture:rfi/{SLOW_NAME}", "parse timeout after 2 s")
    ]
    assert summary["counts"]["new"] == 5 and summary["counts"]["dropped"] == 1
    assert summary["status"] == "finished"


def test_killing_one_parse_worker_costs_exactly_its_page(tmp_path: Path, sqlite_url: str) -> None:
    tree = fixtures_with_slow_page(tmp_path)
    crawl = start_replay(tree, sqlite_url, NEWSWATCH_PARSE_WORKERS="2", NEWSWATCH_PARSE_TIMEOUT="600")
    try:
        # Outlets are replayed in turn: bbc, ecns, portal, then rfi's seed before its slow page.
        wait_for(lambda: stored_count(sqlite_url) == 4, 300, "the seeds before the slow page")
        victim = wait_for(lambda: busy_worker(crawl.pid), 60, "the worker parsing the slow page")
        os.kill(victim, signal.SIGKILL)
        out, err = crawl.communicate(timeout=300)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert crawl.returncode == 1, err[-3000:]
    assert "Traceback" not in err
    summary = json.loads(out)
    assert [(p["url"], p["reason"]) for p in summary["problems"]] == [
        (f"fixture:rfi/{SLOW_NAME}", "parse worker died (killed by signal 9)")
    ]
    assert summary["counts"]["new"] == 5 and summary["status"] == "finished"


def test_ctrl_c_ends_the_run_as_interrupted_without_waiting_for_the_slow_page(
    tmp_path: Path, sqlite_url: str
) -> None:
    tree = fixtures_with_slow_page(tmp_path)
    crawl = start_replay(tree, sqlite_url, NEWSWATCH_PARSE_WORKERS="2", NEWSWATCH_PARSE_TIMEOUT="600")
    try:
        wait_for(lambda: stored_count(sqlite_url) == 4, 300, "the seeds before the slow page")
        workers = parse_workers(crawl.pid)
        wait_for(lambda: busy_worker(crawl.pid), 60, "a worker busy on the slow page")
        crawl.send_signal(signal.SIGINT)
        out, err = crawl.communicate(timeout=120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert "Traceback" not in err, err[-3000:]
    summary = json.loads(out)
    assert summary["status"] == "interrupted", summary
    # Dropped when the pool closed, not parsed to the end; wechat's crawl never started.
    assert [(p["url"], p["reason"]) for p in summary["problems"]] == [
        (f"fixture:rfi/{SLOW_NAME}", "parse pool closed")
    ]
    assert summary["counts"]["new"] == 4
    wait_for(lambda: not any(alive(pid) for pid in workers), 15, "the workers to exit")


def test_killing_the_crawl_process_leaves_no_parse_worker_alive(tmp_path: Path, sqlite_url: str) -> None:
    tree = fixtures_with_slow_page(tmp_path)
    crawl = start_replay(tree, sqlite_url, NEWSWATCH_PARSE_WORKERS="2", NEWSWATCH_PARSE_TIMEOUT="600")
    try:
        # Outlets are replayed in turn: bbc, ecns, portal, then rfi's seed before its slow page.
        wait_for(lambda: stored_count(sqlite_url) == 4, 300, "the seeds before the slow page")
        wait_for(lambda: busy_worker(crawl.pid), 60, "a worker busy on the slow page")
        workers = parse_workers(crawl.pid)
        everything = descendants(crawl.pid)
        assert len(workers) == 2, workers
        crawl.kill()
        crawl.wait(timeout=30)
        killed = time.monotonic()
        wait_for(lambda: not any(alive(pid) for pid in everything), 15, f"{everything} to exit")
        assert time.monotonic() - killed < 15
    finally:
        if crawl.poll() is None:
            crawl.kill()
        crawl.communicate()


def _comparable(db_url: str) -> list[dict[str, Any]]:
    export = newswatch("items", "export", "--db", db_url)
    assert export.returncode == 0, export.stderr
    records = [json.loads(line) for line in export.stdout.splitlines()]
    for record in records:
        for name in TIME_FIELDS:
            record.pop(name, None)
    return sorted(records, key=lambda r: r["id"])


def _summary_without_times(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "counts": summary["counts"],
        "status": summary["status"],
        "problems": sorted((p["url"], p["reason"]) for p in summary["problems"]),
    }


def corpus_tree(root: Path, pages_per_outlet: int = 60, extra_pages: int = 80) -> Path:
    """Real saved pages from the shared corpus, the seeds, and exact copies of some (duplicates)."""
    tree = root / "tree"
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.expected.json"))
    folders = {"wechat": "wechat", "portal": "portal", "english_state": "ecns", "bbc": "bbc", "rfi": "rfi"}
    for folder, outlet in folders.items():
        pages = sorted(p for p in (CORPUS_PAGES / folder).glob("*.html") if ".expected" not in p.name)
        for page in pages[:pages_per_outlet]:
            shutil.copy(page, tree / outlet / page.name)
        for page in pages[:3]:  # the same page twice: one is the original, one a duplicate
            shutil.copy(page, tree / outlet / f"zz_copy_{page.name}")
    benchmark = CORPUS_PAGES.parent / "benchmark"
    for page in sorted((benchmark / "magic_html" / "htmls").glob("*.html"))[:extra_pages]:
        shutil.copy(page, tree / "portal" / f"magic_{page.name}")
    for page in sorted((benchmark / "scrapinghub_aeb" / "html").glob("*.html.gz"))[:extra_pages]:
        (tree / "ecns" / f"aeb_{page.name.removesuffix('.gz')}").write_bytes(gzip.decompress(page.read_bytes()))
    return tree


@pytest.mark.skipif(not CORPUS_PAGES.is_dir(), reason="the shared corpus is not beside the checkout")
def test_zero_and_two_workers_store_the_same_records_outcomes_and_duplicates(tmp_path: Path) -> None:
    tree = corpus_tree(tmp_path)
    pages = sum(1 for p in tree.rglob("*") if p.is_file())
    assert pages >= 250

    urls = {w: f"sqlite:///{tmp_path / f'w{w}.db'}" for w in (0, 2)}
    summaries = {w: replay(tree, urls[w], workers=w) for w in (0, 2)}
    assert _summary_without_times(summaries[0]) == _summary_without_times(summaries[2])
    assert summaries[0]["counts"]["duplicate"] >= 15
    records = {w: _comparable(urls[w]) for w in (0, 2)}
    assert records[0] == records[2]



def test_the_first_listed_copy_is_the_original_even_when_it_parses_last(tmp_path: Path, sqlite_url: str) -> None:
    """Storage order is the replay listing order, not the order the workers finish in."""
    tree = tmp_path / "tree"
    (tree / "ecns").mkdir(parents=True)
    seed = SEED_ECNS.read_bytes()
    # Padded with a menu the parser discards: the same article, but ~1000x slower to parse,
    # so the second worker finishes the plain copy long before the first finishes this one.
    menu = "".join(f'<li><a href="/n/{i}">Menu item {i}</a></li>' for i in range(60_000))
    (tree / "ecns" / "000_padded_copy.txt").write_bytes(seed + f"<nav><ul>{menu}</ul></nav>".encode())
    (tree / "ecns" / "001_plain_copy.txt").write_bytes(seed)
    summary = replay(tree, sqlite_url, workers=2)
    assert summary["counts"]["new"] == 1 and summary["counts"]["duplicate"] == 1
    by_name = {r["url"].rsplit("/", 1)[-1]: r for r in _comparable(sqlite_url)}
    padded, plain = by_name["000_padded_copy.txt"], by_name["001_plain_copy.txt"]
    assert padded["duplicate_of"] is None and plain["duplicate_of"] == padded["id"]
    assert padded["content_hash"] == plain["content_hash"]
