"""Mutation score per module from mutmut's results in mutants/ (run by tools/mutation.sh).

score = killed / (killed + survived), timeouts counted as killed.  A mutant no selected
test reaches ("no tests") counts as survived: nothing would notice it.  Mutants named in
tests/mutation-equivalents.md (as `module.x_function__mutmut_N`) are judged equivalent
(no behaviour to observe) and are left out of the second score.
Exits 1 when a module's score without the equivalents is under 85 %.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

TARGET = 0.85
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # failures, pytest errors, timeouts, type check
SURVIVED = {0, 5, 33}  # passed, or no test covers the mutated function
ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutation results: run tools/mutation.sh first", file=sys.stderr)
        return 2
    listed = set(re.findall(r"`([\w.]+__mutmut_\d+)`", _read(ROOT / "tests/mutation-equivalents.md")))
    failed = False
    print(f"{'module':42} {'killed':>6} {'surv':>5} {'equiv':>5} {'other':>5} {'score':>6} {'w/o eq':>6}")
    for meta in metas:
        module = str(meta.relative_to(ROOT / "mutants"))[: -len(".meta")]
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        count: Counter[str] = Counter()
        for name, code in codes.items():
            if code in KILLED:
                count["killed"] += 1
            elif code in SURVIVED:
                count["equivalent" if name in listed else "survived"] += 1
            else:
                count["other"] += 1  # not run yet, skipped, segfault, suspicious
        killed, survived, equivalent = count["killed"], count["survived"], count["equivalent"]
        raw = killed / max(1, killed + survived + equivalent)
        without = killed / max(1, killed + survived)
        failed |= without < TARGET
        print(
            f"{module:42} {killed:6} {survived:5} {equivalent:5} {count['other']:5} "
            f"{raw:6.1%} {without:6.1%}"
        )
    return 1 if failed else 0


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


if __name__ == "__main__":
    sys.exit(main())
