#!/bin/sh
# Mutation testing of ONE module with only its own fast tests, one mutant at a time
# (the machine is shared; tools/mutation.sh runs every configured module at once).
# mutmut reads its settings from ./pyproject.toml only, so this copies the tracked tree to
# .mutation/<module>/ (git-ignored), narrows [tool.mutmut] there to the one file and the
# given tests, runs mutmut and prints the score (tools/mutation_scores.py).
# Usage: tools/mutation_module.sh crawler/middlewares/offsite.py tests/crawl/test_ssrf.py [-k EXPR]
# Env: MUTATION_JOBS (default 1), MUTATION_NAMES (mutant-name glob, default: the module's),
# MUTATION_MARKERS (pytest -m expression, default pyproject's "not slow and not postgres";
# e.g. "not slow" with NEWSWATCH_TEST_PG set, for code that only PostgreSQL reaches).
# The copy is kept: a rerun retests only the mutants not killed before (and those of edited
# code); `rm -rf .mutation/<module>` for a clean measurement.
set -eu
cd "$(dirname "$0")/.."
module=$1; shift
root=$(pwd)
work="$root/.mutation/$(echo "$module" | tr / _ | sed 's/\.py$//')"
mkdir -p "$work"
# Refresh the copy of the tracked files (and the working-tree edits), keep mutants/.
git ls-files -z --cached --others --exclude-standard | grep -zv '^\.venv\(/\|$\)' \
    | rsync -a --from0 --files-from=- ./ "$work/"
[ -L "$work/.venv" ] || rm -rf "$work/.venv"
ln -sfn "$root/.venv" "$work/.venv"
export NEWSWATCH_SHARED_DIR="${NEWSWATCH_SHARED_DIR:-$(cd "$root/.." && pwd)/shared}"
.venv/bin/python - "$work/pyproject.toml" "$module" "$@" <<'PY'
import json, os, re, sys
path, module, *tests = sys.argv[1:]
text = open(path, encoding="utf-8").read()
section = re.search(r"^\[tool\.mutmut\]\n(?:(?!^\[).*\n?)*", text, re.M)
assert section, "no [tool.mutmut] in pyproject.toml"
body = section.group(0)
body = re.sub(r"^only_mutate = \[.*?^\]\n", f"only_mutate = {json.dumps([module])}\n", body, flags=re.M | re.S)
body = re.sub(
    r"^pytest_add_cli_args_test_selection = \[.*?^\]\n",
    f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n", body, flags=re.M | re.S,
)
markers = os.environ.get("MUTATION_MARKERS")
if markers:
    body = re.sub(r'"-m", "[^"]*"', f'"-m", {json.dumps(markers)}', body)
open(path, "w", encoding="utf-8").write(text.replace(section.group(0), body))
PY
cd "$work"
if [ -n "${MUTATION_NAMES:-}" ]; then
    names=$MUTATION_NAMES
elif [ -f "mutants/$module.meta" ]; then
    # A rerun: mutmut reruns named mutants only, so name those not yet killed (new tests
    # may kill them; mutants of edited code are "not checked" and listed too).
    results=$(.venv/bin/mutmut results 2>/dev/null)
    names=$(echo "$results" | grep -v ': timeout$' | sed -n 's/^ *\([^ :]*\): .*/\1/p' | tr '\n' ' ')
    # Edited code has new mutants mutmut only runs unnamed: take the whole module then.
    if echo "$results" | grep -q ': not checked$'; then
        names="$(echo "$module" | sed 's/\.py$//; s#/#.#g').*"
    fi
    [ -n "$names" ] || exec .venv/bin/python tools/mutation_scores.py
else
    names="$(echo "$module" | sed 's/\.py$//; s#/#.#g').*"
fi
# shellcheck disable=SC2086  # names is a list
.venv/bin/mutmut run --max-children "${MUTATION_JOBS:-1}" $names || true
exec .venv/bin/python tools/mutation_scores.py
