"""Replay throughput and memory against a bare trafilatura loop over the same pages.

Builds a replay tree of at least --pages pages (default 2,000) from the real saved
pages in ../shared/corpus and the seed fixtures, each under a distinct URL, then
measures in the same run:

  (a) a bare loop of ``trafilatura.extract`` over the same page bytes, in one process;
  (b) ``newswatch replay`` of the tree into a fresh SQLite database (a child process:
      engine start-up, parsing, deduplication and storage all included);

and prints pages per second for both, the ratio (b)/(a) and peak RSS of each.
Target: (b)/(a) >= 0.8 and (b)'s peak RSS under 400 MB.

    .venv/bin/python benchmarks/replay_speed.py [--pages 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def bare_trafilatura(bodies: list[bytes]) -> tuple[float, int]:
    import trafilatura

    start = time.perf_counter()
    extracted = sum(1 for body in bodies if trafilatura.extract(body, deduplicate=False))
    return time.perf_counter() - start, extracted


def newswatch_replay(tree: Path, db: Path) -> tuple[float, dict, int]:
    newswatch = Path(sys.executable).with_name("newswatch")
    start = time.perf_counter()
    result = subprocess.run(
        [str(newswatch), "replay", str(tree), "--db", f"sqlite:///{db}", "--json"],
        capture_output=True, text=True, env={**os.environ, "NEWSWATCH_HOME": str(db.parent)},
    )
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):  # 1: some pages were dropped, which is expected here
        sys.exit(f"replay failed ({result.returncode}):\n{result.stderr[-3000:]}")
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, json.loads(result.stdout), rss_kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="Build the tree here and keep it.")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} not found: the shared corpus must be beside the checkout")

    workdir = Path(tempfile.mkdtemp(prefix="newswatch-bench-"))
    tree = args.keep or workdir / "tree"
    try:
        bodies = build_tree(tree, args.pages)
        baseline_s, baseline_ok = bare_trafilatura(bodies)
        baseline_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        replay_s, summary, replay_rss_kb = newswatch_replay(tree, workdir / "bench.db")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    n = len(bodies)
    a, b = n / baseline_s, n / replay_s
    counts = summary["counts"]
    print(f"pages: {n} ({len({*map(hash, bodies)})} distinct bodies)")
    print(f"(a) bare trafilatura.extract loop: {baseline_s:7.1f} s  {a:7.1f} pages/s  "
          f"({baseline_ok} with text)  peak RSS {baseline_rss_kb / 1024:.0f} MB")
    print(f"(b) newswatch replay into SQLite:  {replay_s:7.1f} s  {b:7.1f} pages/s  "
          f"peak RSS {replay_rss_kb / 1024:.0f} MB")
    print("    outcomes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"ratio (b)/(a): {b / a:.2f}  (target >= 0.8)   peak RSS (b) under 400 MB: {replay_rss_kb / 1024 < 400}")


if __name__ == "__main__":
    main()
