#!/bin/sh
# Mutation testing of the core modules (outside `./dev test`): mutmut mutates the files
# listed under [tool.mutmut] in pyproject.toml, runs the fast in-process tests that cover
# each mutated function, then prints the score per module:
#   killed / (killed + survived), timeouts counted as killed.
# Usage: tools/mutation.sh [mutant-name globs]   (default: the globs below)
# Env: MUTATION_JOBS (parallel workers, default 2).  Results stay in mutants/ (git-ignored),
# so a rerun only retests what changed; `rm -rf mutants` for a clean measurement.
# Equivalent mutants: tests/mutation-equivalents.md.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || ./dev test --version >/dev/null
if [ $# -eq 0 ]; then
    # Of storage/repository.py only the new/changed/unchanged/duplicate decision
    # (Store._record, Store._record_new); its run bookkeeping is tested elsewhere.
    set -- "crawler.*" "storage.dedup.*" "storage.similarity.*" "storage.changes.*" "storage.repository.xǁStoreǁ_record*"
fi
.venv/bin/mutmut run --max-children "${MUTATION_JOBS:-2}" "$@" || true
exec .venv/bin/python tools/mutation_scores.py
