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
# Each test folder has its own conftest.py and helpers, so each is checked on its own.
targets=$(for d in overrides mock bulk scripts contract_tests benchmarks; do [ -e "$d" ] && echo "$d"; done)
# shellcheck disable=SC2086
.venv/bin/mypy --no-incremental $targets
for d in tests/*/; do
  .venv/bin/mypy --no-incremental "$d"
done
echo "== pytest"
.venv/bin/python -m pytest "$@"
