#!/usr/bin/env bash
# README command 2: the full check, as CI runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The checks (drift gate, ruff, mypy, the docs' code blocks) run beside pytest, each into its own log:
# pytest's two workers leave a core idle now and then (a test waiting on a server, a child starting,
# the last tests), and the checks fill those gaps instead of taking ~10 s of their own before pytest.
# Their logs are printed once pytest is done; any failure, theirs or pytest's, fails the run.
logs=$(mktemp -d)
checks=""
cleanup() {
  [ -n "$checks" ] && kill "$checks" 2>/dev/null
  rm -rf "$logs"
}
trap cleanup EXIT
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
  .venv/bin/python -m pytest -p no:xdist -p no:cacheprovider -q --docs README.md docs contract_tests/README.md
}
steps=(drift_gate lint types docs)
titles=("drift gate: scripts/regenerate.py --check" "ruff" "mypy --strict (hand-written code)"
        "docs: every code block of README.md, docs/ and contract_tests/README.md (conftest.py)")
run_step() {  # its output into its log, its exit status beside it
  if "$1" >"$logs/$1" 2>&1; then echo 0 >"$logs/$1.rc"; else echo $? >"$logs/$1.rc"; fi
}
# One after the other, on whatever core pytest leaves free (mypy, the longest, first).
( for step in types drift_gate lint docs; do run_step "$step"; done ) &
checks=$!

echo "== pytest (the checks run beside it; their output follows)"
# pytest-xdist: one worker per core (-n auto), each with its own mock servers on free ports. Tests
# go out one at a time (--maxschedchunk 1), the long ones first (conftest.py: LONG_FIRST), so they
# spread over the workers and the short ones fill the gaps at the end.
# `./scripts/test.sh -n 0` runs everything in one process.
status=0
.venv/bin/python -m pytest -n auto --maxschedchunk 1 "$@" || status=$?
pytest_done=$SECONDS
wait "$checks" || true
checks=""
failed=()
for index in "${!steps[@]}"; do
  step=${steps[$index]}
  echo "== ${titles[$index]}"
  cat "$logs/$step"
  [ "$(cat "$logs/$step.rc" 2>/dev/null)" = 0 ] || failed+=("$step")
done
echo "== the full check took $SECONDS s on $(nproc) cores (pytest done after $pytest_done s)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
exit "$status"
