"""Peak memory of a replay that meets a huge file, against the same replay without it.

Measures in the same run, each as a fresh ``newswatch replay`` child process into a fresh
SQLite database:

  (a) the bundled fixtures (five seeds): the baseline;
  (b) the same plus a 1 GiB file (sparse: no disk used) that the size limit refuses;

and prints both peak RSS figures and the ratio (b)/(a).  Before the fix the file was read
whole before the size check (about 1.2 GB peak); the target is (b)/(a) < 1.2: the file is
refused by ``fstat`` before a byte of it is read.

    .venv/bin/python benchmarks/replay_memory.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEWSWATCH = Path(sys.executable).with_name("newswatch")


def peak_rss_mib(tree: Path, home: Path) -> float:
    """Peak RSS of one ``newswatch replay`` child (ru_maxrss of the newest reaped child)."""
    db = f"sqlite:///{home / 'bench.db'}"
    code = (
        "import resource, subprocess, sys; "
        f"subprocess.run([{str(NEWSWATCH)!r}, 'replay', {str(tree)!r}, '--db', {db!r}, '--json'], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    # A fresh parent per measurement: RUSAGE_CHILDREN is the maximum over all its children.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "NEWSWATCH_HOME": str(home)})
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = root / "base"
        shutil.copytree(REPO / "fixtures", base, ignore=shutil.ignore_patterns("*.expected.json"))
        huge = root / "huge"
        shutil.copytree(base, huge)
        with (huge / "portal" / "huge.html").open("wb") as handle:
            handle.truncate(args.size_mib * 1024 * 1024)
        (root / "home-a").mkdir()
        (root / "home-b").mkdir()
        baseline = peak_rss_mib(base, root / "home-a")
        with_huge = peak_rss_mib(huge, root / "home-b")
    print(f"(a) fixtures only:            peak RSS {baseline:7.1f} MiB")
    print(f"(b) fixtures + {args.size_mib} MiB file:  peak RSS {with_huge:7.1f} MiB")
    print(f"ratio (b)/(a): {with_huge / baseline:.2f}  (target < 1.2)")


if __name__ == "__main__":
    main()
