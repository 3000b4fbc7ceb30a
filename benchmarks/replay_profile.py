"""Where a replay's CPU goes: ``newswatch replay`` (0 parse workers) under cProfile, by component.

Used by ``replay_speed.py --profile``; also runnable on its own on a replay tree:

    .venv/bin/python benchmarks/replay_profile.py TREE [--keep-stats FILE]

The child runs ``python -m cProfile -m newswatch.cli replay TREE`` with
NEWSWATCH_PARSE_WORKERS=0, so everything happens in one process the profiler sees.
Each function's own time goes to a component by the file it lives in; time in C
functions (regex, lxml, sqlite3) and unclaimed standard-library code goes to the
component of whoever called it.  Shares are of the profiled run (cProfile's clock,
inflated on a loaded machine, but evenly); the CPU seconds printed beside them are
the child's own (user + system, from ``getrusage``), so they hold on a busy machine.
cProfile slows Python-heavy code more than C-heavy code: compare shares between runs,
not with an unprofiled run.
"""

from __future__ import annotations

import argparse
import os
import pstats
import resource
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

Func = tuple[str, int, str]

#: (component, substrings of the file path), first match wins.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("start-up (imports)", ("<frozen importlib", ":<module>")),
    ("lxml parsing", ("lxml/html/__init__.py:document_fromstring", "trafilatura/utils.py:load_html")),
    ("trafilatura", ("/trafilatura/", "/justext/", "/htmldate/", "/courlan/")),
    ("decoding", ("/charset_normalizer/", "crawler/parsing/decode.py", "/encodings/")),
    ("MinHash", ("storage/fingerprint.py", "storage/similarity.py", "/numpy/")),
    ("our parsing and cleaning", ("crawler/parsing/", "crawler/parseworker.py")),
    ("database", ("/sqlalchemy/", "/storage/", "/alembic/", "/psycopg", "sqlite3")),
    ("Scrapy and Twisted", ("/scrapy/", "/twisted/", "/asyncio/", "/w3lib/", "/parsel/", "/itemadapter/",
                            "/zope/", "/queuelib/", "/logging/")),
    ("our crawl and run code", ("/crawler/", "/newswatch/")),
)  # fmt: skip


#: Blocking calls: cProfile's clock runs while the process waits, the CPU does not.
WAITING = ("method 'poll' of 'select.epoll'", "method 'select'", "time.sleep", "method 'acquire' of", "posix.waitpid")
IDLE = "(waiting, not CPU)"


def component(func: Func) -> str | None:
    filename, _, name = func
    where = f"{filename}:{name}"
    if filename == "~" and any(call in name for call in WAITING):
        return IDLE
    for label, needles in COMPONENTS:
        if any(needle in where for needle in needles):
            return label
    return None


def shares(stats_file: Path) -> dict[str, float]:
    """Seconds of profiled time per component (C and standard-library time go to the caller)."""
    table = pstats.Stats(str(stats_file)).stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}

    def owners(func: Func, depth: int = 0) -> dict[str, float]:
        label = component(func)
        if label or depth > 40:
            return {label or "other": 1.0}
        if func in memo:
            return memo[func]
        memo[func] = {"other": 1.0}  # recursion guard
        callers = table[func][4]
        weights = {caller: edge[2] or edge[1] for caller, edge in callers.items() if caller != func}
        total = sum(weights.values())
        split: dict[str, float] = defaultdict(float)
        if not total:
            split["other"] = 1.0
        for caller, weight in weights.items():
            for name, part in owners(caller, depth + 1).items():
                split[name] += part * weight / total
        memo[func] = dict(split)
        return memo[func]

    seconds: dict[str, float] = defaultdict(float)
    for func, (_, _, own, _, _) in table.items():
        for name, part in owners(func).items():
            seconds[name] += own * part
    return dict(seconds)


def profile_replay(tree: Path, pages: int, stats_file: Path | None = None) -> None:
    """Replay ``tree`` once under cProfile with 0 workers and print the components."""
    workdir = Path(tempfile.mkdtemp(prefix="newswatch-profile-"))
    stats_file = stats_file or workdir / "replay.prof"
    db = workdir / "profile.db"
    env = {**os.environ, "NEWSWATCH_HOME": str(workdir), "NEWSWATCH_PARSE_WORKERS": "0"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats_file), "-m", "newswatch.cli",
         "replay", str(tree), "--db", f"sqlite:///{db}", "--json"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not stats_file.exists():
        sys.exit(f"profiled replay failed ({child.returncode}):\n{child.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    seconds = shares(stats_file)
    idle = seconds.pop(IDLE, 0.0)
    total = sum(seconds.values())
    print(f"profile of (b), 0 workers, {pages} pages: {cpu:.1f} s CPU under cProfile "
          f"({cpu * 1000 / pages:.1f} s per 1,000 pages); profiled {total:.1f} s busy, {idle:.1f} s waiting")  # fmt: skip
    for name, value in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"      {name:26} {100 * value / total:5.1f} %  ~{cpu * value / total * 1000 / pages:6.1f} CPU s per 1,000 pages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path, help="A replay tree (<outlet>/<file>), e.g. from replay_speed.py --keep.")
    parser.add_argument("--keep-stats", type=Path, help="Write the cProfile stats here (for pstats or snakeviz).")
    args = parser.parse_args()
    pages = sum(1 for p in args.tree.glob("*/*") if p.is_file() and not p.name.endswith(".json"))
    profile_replay(args.tree, pages, args.keep_stats)


if __name__ == "__main__":
    main()
