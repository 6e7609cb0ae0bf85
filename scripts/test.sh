#!/usr/bin/env bash
# Every test: lint, then the whole suite on SQLite and again on PostgreSQL,
# against real Postfix + Dovecot + PostgreSQL started on loopback for the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

scripts/services/install.sh

"$BIN/ruff" check src tests bench clients fuzz
"$BIN/ruff" format --check src tests bench clients fuzz
"$BIN/mypy" src clients/build.py clients/icons.py fuzz
"$BIN/python" bench/classify.py --gate

SERVICES_DIR=$(mktemp -d /tmp/cadency-test-XXXXXX)
cleanup() { scripts/services/stop.sh "$SERVICES_DIR" || true; }
trap cleanup EXIT
scripts/services/start.sh "$SERVICES_DIR"

export CADENCY_TEST_SERVICES_DIR="$SERVICES_DIR"
export CADENCY_REQUIRE_SERVICES=1
PG_URL=$(grep '^CADENCY_TEST_PG_URL=' "$SERVICES_DIR/env" | cut -d= -f2-)

echo "== tests on SQLite"
env -u DATABASE_URL "$BIN/pytest" -q "$@"
echo "== tests on PostgreSQL"
DATABASE_URL="$PG_URL" "$BIN/pytest" -q "$@"
