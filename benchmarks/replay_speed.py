"""Replay throughput and memory against trafilatura loops over the same pages.

Builds a replay tree of at least --pages pages (default 2,000) from the real saved
pages in ../shared/corpus and the seed fixtures, each under a distinct URL, then
measures in the same run, on the same page bytes:

  (a)   a bare loop of ``trafilatura.extract(page, with_metadata=True)``, default settings
        (what a user would write instead of newswatch);
  (a')  the same loop with exactly newswatch's trafilatura settings
        (``crawler.parsing.html.TRAFILATURA_OPTIONS``: fast mode etc.);
  (a'') (a') spread over a ``ProcessPoolExecutor`` with one process per core (the
        physical limit of the machine for this extractor);
  (b)   ``newswatch replay`` of the tree into a fresh SQLite database with 0 parse
        workers (parsing in the crawl process), and
  (b')  the same with one parse worker per core (the default);

each (b) a child process, engine start-up, parsing, deduplication and storage included.
It prints pages per second, the ratios (b')/(a), (b')/(a'') and (b)/(a'), and the peak
memory of (b) and (b') summed over the whole process tree (crawl process, forkserver,
workers): PSS (shared pages divided among the processes sharing them) and RSS, and the
CPU seconds the tree used (user + system, summed over its processes: a figure that, unlike
pages per second, holds on a machine shared with other work).  ``--profile`` adds a
run of (b) under cProfile and prints where its CPU goes (decoding, lxml parsing,
trafilatura, our cleaning, MinHash, database, Scrapy, start-up: see replay_profile.py).
Targets on a 2-core machine: (b')/(a) >= 3.5, (b')/(a'') >= 0.75, (b)/(a') >= 0.8,
memory <= 400 MB + 80 MB per worker.

    .venv/bin/python benchmarks/replay_speed.py [--pages 2000] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"

# Which spider reads which corpus folder.
PAGE_FOLDERS = {"wechat": "wechat", "portal": "portal", "english_state": "ecns", "bbc": "bbc"}


def source_pages() -> list[tuple[str, str, bytes]]:
    """(outlet, name, bytes) for every real page we have, seeds included."""
    pages: list[tuple[str, str, bytes]] = []
    for folder, outlet in PAGE_FOLDERS.items():
        for path in sorted((CORPUS / "pages" / folder).glob("*.html")):
            if ".expected" not in path.name:
                pages.append((outlet, path.name, path.read_bytes()))
    for path in sorted((CORPUS / "benchmark" / "magic_html" / "htmls").glob("*.html")):
        pages.append(("portal", path.name, path.read_bytes()))
    for path in sorted((CORPUS / "benchmark" / "scrapinghub_aeb" / "html").glob("*.html.gz")):
        pages.append(("ecns", path.name.removesuffix(".gz"), gzip.decompress(path.read_bytes())))
    for path in sorted((REPO / "fixtures").glob("*/*")):
        if path.is_file() and not path.name.endswith(".json"):
            pages.append((path.parent.name, path.name, path.read_bytes()))
    return pages


def build_tree(root: Path, target: int) -> list[bytes]:
    """Write copies of the source pages until there are ``target``; return their bodies."""
    sources = source_pages()
    bodies: list[bytes] = []
    copy = 0
    while len(bodies) < target:
        for outlet, name, body in sources:
            if len(bodies) >= target:
                break
            folder = root / outlet
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"c{copy:02d}_{name}"
            path.write_bytes(body)
            meta = {"url": f"https://bench.invalid/{outlet}/{copy}/{name}", "fetched_at": "2026-11-23T00:00:00+00:00"}
            path.with_name(path.name + ".meta.json").write_text(json.dumps(meta))
            bodies.append(body)
        copy += 1
    return bodies


def trafilatura_loop(bodies: list[bytes], options: dict[str, Any]) -> tuple[float, int]:
    import trafilatura

    start = time.perf_counter()
    extracted = sum(1 for body in bodies if trafilatura.extract(body, **options))
    return time.perf_counter() - start, extracted


def _extract_ours(body: bytes) -> bool:
    import trafilatura

    from crawler.parsing.html import TRAFILATURA_OPTIONS

    return bool(trafilatura.extract(body, **TRAFILATURA_OPTIONS))


def trafilatura_pool(bodies: list[bytes], workers: int) -> tuple[float, int]:
    start = time.perf_counter()  # pool start-up included, as in (b')
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        extracted = sum(pool.map(_extract_ours, bodies, chunksize=8))
    return time.perf_counter() - start, extracted


def _tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process so far (its own, not its children's)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _tree_memory_kb(pids: list[int]) -> tuple[int, int]:
    """(PSS, RSS) in kB summed over ``pids``."""
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return pss, rss


def newswatch_replay(tree: Path, db: Path, workers: int) -> tuple[float, dict[str, Any], int, int, float]:
    """Seconds, the run summary, peak PSS and RSS (kB) and CPU seconds of the whole process tree."""
    newswatch = Path(sys.executable).with_name("newswatch")
    env = {**os.environ, "NEWSWATCH_HOME": str(db.parent), "NEWSWATCH_PARSE_WORKERS": str(workers)}
    start = time.perf_counter()
    child = subprocess.Popen(
        [str(newswatch), "replay", str(tree), "--db", f"sqlite:///{db}", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    peak = [0, 0]
    # Last CPU reading of every process of the tree (workers come and go).
    cpu: dict[int, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def sample() -> None:
        while child.poll() is None:
            pids = _tree_pids(child.pid)
            pss, rss = _tree_memory_kb(pids)
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)
            for pid in pids:
                if (seconds := _cpu_seconds(pid)) is not None:
                    cpu[pid] = seconds
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):  # 1: some pages were dropped, which is expected here
        sys.exit(f"replay failed ({child.returncode}):\n{err[-3000:]}")
    # The crawl process exactly (getrusage, after it exited), plus its descendants (the
    # forkserver and the parse workers) as last sampled: nobody waits for them, so
    # getrusage never sees them (checked: with 2 workers it reports the crawl process
    # alone).  Each descendant may be up to one sampling interval short.
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    descendants = sum(seconds for pid, seconds in cpu.items() if pid != child.pid)
    return elapsed, json.loads(out), peak[0], peak[1], reaped + descendants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="Build the tree here and keep it.")
    parser.add_argument("--profile", action="store_true", help="Also profile (b) and print where its CPU goes.")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} not found: the shared corpus must be beside the checkout")
    from crawler.parsing.html import TRAFILATURA_OPTIONS

    cores = len(os.sched_getaffinity(0))
    workdir = Path(tempfile.mkdtemp(prefix="newswatch-bench-"))
    tree = args.keep or workdir / "tree"
    try:
        bodies = build_tree(tree, args.pages)
        n = len(bodies)
        print(f"pages: {n} ({len({*map(hash, bodies)})} distinct bodies), {cores} cores", flush=True)
        timings: dict[str, float] = {}
        for label, run in (
            ("(a)   bare trafilatura.extract(with_metadata=True)", lambda: trafilatura_loop(bodies, {"with_metadata": True})),
            ("(a')  trafilatura.extract, our settings          ", lambda: trafilatura_loop(bodies, TRAFILATURA_OPTIONS)),
            (f"(a'') (a') over a pool of {cores} processes         ", lambda: trafilatura_pool(bodies, cores)),
        ):
            seconds, ok = run()
            timings[label[:5].strip()] = n / seconds
            print(f"{label} {seconds:7.1f} s  {n / seconds:7.1f} pages/s  ({ok} with text)", flush=True)
        for label, workers in (("(b)", 0), ("(b')", cores)):
            db = workdir / f"bench-{workers}.db"
            seconds, summary, pss_kb, rss_kb, cpu = newswatch_replay(tree, db, workers)
            timings[label] = n / seconds
            budget = 400 + 80 * workers
            print(f"{label:5} newswatch replay, {workers} parse workers {' ' * (8 - len(str(workers)))}"
                  f"{seconds:7.1f} s  {n / seconds:7.1f} pages/s  peak tree memory: PSS {pss_kb / 1024:.0f} MB, "
                  f"RSS {rss_kb / 1024:.0f} MB (budget {budget} MB: {'ok' if pss_kb / 1024 <= budget else 'OVER'})",
                  flush=True)
            print(f"      CPU (user + system, whole process tree): {cpu:.1f} s, {cpu * 1000 / n:.1f} s per 1,000 pages",
                  flush=True)
            print("      outcomes: " + ", ".join(f"{k} {v}" for k, v in summary["counts"].items()), flush=True)
        if args.profile:
            from replay_profile import profile_replay

            profile_replay(tree, n)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    a, a1, a2, b, b1 = (timings[k] for k in ("(a)", "(a')", "(a'')", "(b)", "(b')"))
    print(f"ratio (b')/(a):   {b1 / a:5.2f}  (target >= 3.5)")
    print(f"ratio (b')/(a''): {b1 / a2:5.2f}  (target >= 0.75)")
    print(f"ratio (b)/(a'):   {b / a1:5.2f}  (target >= 0.8)")


if __name__ == "__main__":
    main()
