#!/usr/bin/env bash
# Every benchmark in bench/, against loopback services started as for the tests,
# then one table (bench/run_all.py; arguments are passed on, e.g. --quick).
# The services get their own ports (CADENCY_SERVICES_PORT_OFFSET, default 1030),
# so `make bench` and `make test` can run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

scripts/services/install.sh
export CADENCY_SERVICES_PORT_OFFSET=${CADENCY_SERVICES_PORT_OFFSET:-1030}
SERVICES_DIR=$(mktemp -d /tmp/cadency-bench-XXXXXX)
# The services' data (a million-row database after scale.py) goes with them.
cleanup() {
    scripts/services/stop.sh "$SERVICES_DIR" || true
    rm -rf "$SERVICES_DIR"
}
trap cleanup EXIT
scripts/services/start.sh "$SERVICES_DIR"
export CADENCY_TEST_SERVICES_DIR="$SERVICES_DIR"

"$BIN/python" bench/run_all.py "$@"
