#!/usr/bin/env bash
# README command 2: the full check, as CI runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# The checks (drift gate, ruff, mypy, the docs' code blocks) run beside pytest, not before it: pytest
# leaves part of each core idle while its tests wait on timers and sockets, and the checks fill it
# (the full check took 129-136 s against 137-138 s with the checks first; same machine, same hour).
# Each check writes its own log, printed in order after pytest. A check that fails still stops
# everything at once: pytest is stopped, the checks' logs are printed, and the run fails.
logs=$(mktemp -d)
pytest_pid=
cleanup() {  # on any exit, Ctrl-C included: pytest with its workers and their children, then the logs
  if [ -n "$pytest_pid" ]; then kill -TERM -- "-$pytest_pid" 2>/dev/null || true; fi
  # shellcheck disable=SC2046
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
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
print_checks() {  # every check's log in order; the names of the failed ones into `failed`
  failed=()
  for index in "${!steps[@]}"; do
    step=${steps[$index]}
    echo "== ${titles[$index]}"
    cat "$logs/$step"
    [ "$(cat "$logs/$step.rc")" = 0 ] || failed+=("$step")
  done
}
# Two lanes: mypy alone takes about as long as the drift gate, ruff and the docs together.
( run_step drift_gate; run_step lint; run_step docs ) &
first=$!
run_step types &
second=$!

echo "== pytest (the checks run beside it; their logs follow)"
# pytest-xdist: two workers per core and one more (FEDAPAY_TEST_WORKERS to choose), each with its own mock
# servers on free ports. Many tests wait on a timer or a socket (deadlines, retries, bulk polling, dripping
# servers): a worker that waits leaves its core to the others; more workers cost more CPU each (collection,
# caches, zygotes). The counts compared are in README.md ("The full check is bound by CPU").
# Tests go out one at a time (--maxschedchunk 1), the long ones first and the mostly waiting ones spread
# among the others (conftest.py: LONG_FIRST, MOSTLY_WAITING), so that waits overlap work and no long
# test finishes alone at the end.
# `./scripts/test.sh -n 0` runs everything in one process (a later -n wins).
workers=${FEDAPAY_TEST_WORKERS:-$(( $(nproc) * 2 + 1 ))}
started=$SECONDS
# Its own process group (setsid), so that a failed check can stop it with its workers and their children.
setsid .venv/bin/python -m pytest -n "$workers" --maxschedchunk 1 "$@" &
pytest_pid=$!

wait "$first" "$second"
if grep -qv '^0$' "$logs"/*.rc; then
  kill -TERM -- "-$pytest_pid" 2>/dev/null || true
  wait "$pytest_pid" 2>/dev/null || true
  pytest_pid=
  echo
  print_checks
  echo "FAILED: ${failed[*]} (pytest stopped)" >&2
  exit 1
fi
pytest_status=0
wait "$pytest_pid" || pytest_status=$?
pytest_pid=
print_checks
case " $* " in
  *" -n "*|*" -n"[0-9]*|*" --numprocesses"*) shown="pytest workers as given" ;;
  *) shown="$workers pytest workers" ;;
esac
echo "== the full check took $((SECONDS - started)) s on $(nproc) cores, $shown"
exit "$pytest_status"
