"""Show (and with ``--write``, store) how parser output differs from the golden files.

Goldens are reviewed by hand against the source page before they are
committed: this tool only prepares the candidate and prints a unified diff
against what is stored.  Without ``--write`` it changes nothing; it never runs
git.

    .venv/bin/python tools/bless_goldens.py [--seeds] [--corpus] [--write] [NAME ...]

NAME filters by substring of the fixture or page path.  A corpus golden's
hand-written review (``note``, ``hand_check``, ``body_reference``, ``excluded``,
``known_wrong``) is kept when the file is rewritten.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.parser_cases import (  # noqa: E402
    corpus_golden_path,
    corpus_pages,
    corpus_summary,
    dump,
    seed_files,
    seed_golden_path,
    seed_record,
)

#: What a reviewer wrote into a corpus golden; kept when the file is rewritten.
REVIEW_KEYS = ("note", "hand_check", "body_reference", "excluded", "known_wrong")


def _candidates(seeds: bool, corpus: bool, names: list[str]) -> Iterator[tuple[Path, str]]:
    if seeds:
        for path in seed_files():
            if not names or any(name in str(path) for name in names):
                yield seed_golden_path(path), dump(seed_record(path))
    if corpus:
        for page in corpus_pages():
            if names and not any(name in str(page) for name in names):
                continue
            golden = corpus_golden_path(page)
            summary = corpus_summary(page)
            if golden.exists():
                stored = json.loads(golden.read_text(encoding="utf-8"))
                for key in REVIEW_KEYS:
                    if key in stored:
                        summary[key] = stored[key]
            yield golden, dump(summary)


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--seeds", action="store_true", help="the five seed fixtures")
    options.add_argument("--corpus", action="store_true", help="the real pages in ../shared/corpus")
    options.add_argument("--write", action="store_true", help="store the candidates")
    options.add_argument("names", nargs="*", help="only paths containing one of these")
    args = options.parse_args(argv)
    seeds, corpus = (args.seeds, args.corpus) if args.seeds or args.corpus else (True, True)

    changed = 0
    for golden, candidate in _candidates(seeds, corpus, args.names):
        stored = golden.read_text(encoding="utf-8") if golden.exists() else ""
        if stored == candidate:
            continue
        changed += 1
        relative = golden.relative_to(REPO)
        sys.stdout.writelines(
            difflib.unified_diff(
                stored.splitlines(keepends=True),
                candidate.splitlines(keepends=True),
                fromfile=f"a/{relative}" if stored else "/dev/null",
                tofile=f"b/{relative}",
            )
        )
        if args.write:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(candidate, encoding="utf-8")
    verb = "written" if args.write else "would change (use --write to store)"
    print(f"{changed} golden file(s) {verb}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
