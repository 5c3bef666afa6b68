#!/usr/bin/env bash
# README command 1: set up, rebuild the spec and the generated client from the sources (report drift),
# then walk a payout through the embedded mock with the client.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if .venv/bin/python scripts/regenerate.py --check; then
  echo "main: spec/openapi.yaml and generated/ are up to date with spec/source and spec/overlays"
else
  echo "main: the sources changed; regenerating (review and commit the diff above)"
  .venv/bin/python scripts/regenerate.py
fi
echo "== demo: one payout through the embedded mock FedaPay with the client (no account, loopback only)"
.venv/bin/python scripts/demo.py
