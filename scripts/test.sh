#!/usr/bin/env bash
# README command 2: the full check, as CI runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The checks before pytest use one core each: they run side by side (mypy alone takes as long as the
# drift gate, ruff and the docs together), each into its own log, printed in order once all are done.
# Any failure stops the run before pytest, as one after the other did.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
drift_gate() { .venv/bin/python scripts/regenerate.py --check; }
lint() { .venv/bin/ruff check --no-cache .; }
types() {
  # One run over everything: `tests` is a package, so its conftest.py files and helpers have distinct names.
  local targets
  targets=$(for d in overrides mock bulk contract scripts contract_tests benchmarks tests conftest.py; do [ -e "$d" ] && echo "$d"; done)
  # shellcheck disable=SC2086
  .venv/bin/mypy --cache-dir /dev/null $targets   # no cache: as clean as CI, nothing left behind
}
docs() {
  # One process: Sybil keeps a document's skip directives in order, which xdist workers would split.
  .venv/bin/python -m pytest -p no:xdist -q --docs README.md docs contract_tests/README.md
}
steps=(drift_gate lint types docs)
titles=("drift gate: scripts/regenerate.py --check" "ruff" "mypy --strict (hand-written code)"
        "docs: every code block of README.md, docs/ and contract_tests/README.md (conftest.py)")
run_step() {  # its output into its log, its exit status beside it
  if "$1" >"$logs/$1" 2>&1; then echo 0 >"$logs/$1.rc"; else echo $? >"$logs/$1.rc"; fi
}
( run_step drift_gate; run_step lint; run_step docs ) &
first=$!
run_step types &
second=$!
wait "$first" "$second"
failed=()
for index in "${!steps[@]}"; do
  step=${steps[$index]}
  echo "== ${titles[$index]}"
  cat "$logs/$step"
  [ "$(cat "$logs/$step.rc")" = 0 ] || failed+=("$step")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi

echo "== pytest"
# pytest-xdist: one worker per core (-n auto), each with its own mock servers on free ports. Tests
# go out one at a time (--maxschedchunk 1), the long ones first (conftest.py: LONG_FIRST), so they
# spread over the workers and the short ones fill the gaps at the end.
# `./scripts/test.sh -n 0` runs everything in one process.
pytest_started=$SECONDS
.venv/bin/python -m pytest -n auto --maxschedchunk 1 "$@"
echo "== the full check took $SECONDS s (pytest $((SECONDS - pytest_started)) s) on $(nproc) cores"
