#!/usr/bin/env bash
# Every benchmark in bench/, against loopback services started as for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

scripts/services/install.sh
SERVICES_DIR=$(mktemp -d /tmp/cadency-bench-XXXXXX)
cleanup() { scripts/services/stop.sh "$SERVICES_DIR" || true; }
trap cleanup EXIT
scripts/services/start.sh "$SERVICES_DIR"
export CADENCY_TEST_SERVICES_DIR="$SERVICES_DIR"

"$BIN/python" bench/run_all.py "$@"
