#!/usr/bin/env bash
# Usage: imap.sh stop|start BASE
# Stop or (re)start only Dovecot (IMAP 1143/1993, LMTP 2424, SASL for Postfix).
# While it is down Postfix defers local deliveries and refuses SMTP AUTH.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
action=${1:-}
init_base "${2:-}"
case $action in
    stop) stop_dovecot ;;
    start) start_dovecot ;;
    *) die "usage: $0 stop|start BASE" ;;
esac
