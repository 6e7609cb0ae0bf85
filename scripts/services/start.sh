#!/usr/bin/env bash
# Usage: start.sh BASE
# Start Dovecot (IMAP 1143/1993, LMTP 2424), Postfix (SMTP 2525/2465), the
# OAuth2 token introspection server (8089, for XOAUTH2/OAUTHBEARER logins),
# PostgreSQL 15 (5433) and Radicale (CalDAV, 5232) on 127.0.0.1 with config and
# data under BASE (created if missing), then write BASE/env for the test suite.
# Daemons already running from BASE are restarted; mailboxes, databases and
# calendars are kept, queued mail is not.
# OAuth2 tokens are new at every start.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
init_base "${1:-}" create
t0=${EPOCHREALTIME/./}
# On failure, leave nothing half-started behind.
trap 'stop_postfix >&2; stop_dovecot >&2; stop_oauth2 >&2; stop_postgres >&2; stop_radicale >&2' EXIT

ensure_tls
write_dovecot_conf
write_postfix_conf
write_oauth2_tokens
write_radicale_conf
start_radicale
start_oauth2
start_dovecot
stop_postfix >/dev/null
empty_postfix_queue
start_postfix
postsuper -c "$POSTFIX_DIR" -d ALL 2>>"$BASE/postfix.err" \
    || die "postsuper failed, see $BASE/postfix.err"
start_postgres
wait_radicale

cat >"$BASE/env" <<EOF
CADENCY_TEST_SERVICES_DIR=$BASE
CADENCY_TEST_SMTP_HOST=127.0.0.1
CADENCY_TEST_SMTP_PORT=$SMTP_PORT
CADENCY_TEST_SMTPS_PORT=$SMTPS_PORT
CADENCY_TEST_IMAP_HOST=127.0.0.1
CADENCY_TEST_IMAP_PORT=$IMAP_PORT
CADENCY_TEST_IMAPS_PORT=$IMAPS_PORT
CADENCY_TEST_CA_FILE=$TLS/cert.pem
CADENCY_TEST_MAIL_PASSWORD=$MAIL_PASSWORD
CADENCY_TEST_PG_URL=postgres://cadency:cadency@127.0.0.1:$PG_PORT/cadency
CADENCY_TEST_OAUTH2_TOKEN_REP=$OAUTH2_TOKEN_REP
CADENCY_TEST_OAUTH2_TOKEN_REP2=$OAUTH2_TOKEN_REP2
CADENCY_TEST_OAUTH2_TOKENS_FILE=$OAUTH2_DIR/tokens
CADENCY_TEST_OAUTH2_INTROSPECTION_URL=http://127.0.0.1:$OAUTH2_PORT/introspect
CADENCY_TEST_CALDAV_URL=http://127.0.0.1:$CALDAV_PORT/
CADENCY_TEST_CALDAV_USER=rep@example.test
CADENCY_TEST_CALDAV_USER2=rep2@example.test
CADENCY_TEST_CALDAV_PASSWORD=$MAIL_PASSWORD
EOF
trap - EXIT
echo "services started in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms; settings in $BASE/env"
