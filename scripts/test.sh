#!/usr/bin/env bash
# README command 2: the full check, as CI runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== drift gate: scripts/regenerate.py --check"
.venv/bin/python scripts/regenerate.py --check
echo "== ruff"
.venv/bin/ruff check --no-cache .
echo "== mypy --strict (hand-written code)"
# One run over everything: `tests` is a package, so its conftest.py files and helpers have distinct names.
targets=$(for d in overrides mock bulk contract scripts contract_tests benchmarks tests conftest.py; do [ -e "$d" ] && echo "$d"; done)
# shellcheck disable=SC2086
.venv/bin/mypy --cache-dir /dev/null $targets   # no cache: as clean as CI, nothing left behind
echo "== pytest"
# pytest-xdist: one worker per core (-n auto), each with its own mock servers on free ports. Tests
# go out one at a time (--maxschedchunk 1), so the long ones at the front (the contract suite's
# parts, the broken variants) spread over the workers instead of queueing on the first.
# `./scripts/test.sh -n 0` runs everything in one process.
.venv/bin/python -m pytest -n auto --maxschedchunk 1 "$@"
echo "== docs: every code block of README.md, docs/ and contract_tests/README.md (conftest.py)"
# One process: Sybil keeps a document's skip directives in order, which xdist workers would split.
.venv/bin/python -m pytest -p no:xdist -q --docs README.md docs contract_tests/README.md
