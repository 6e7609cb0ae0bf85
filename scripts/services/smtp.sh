#!/usr/bin/env bash
# Usage: smtp.sh stop|start BASE
# Stop or (re)start only Postfix (ports 2525 and 2465), e.g. to test that
# sending waits while the SMTP server is down. Queued mail is kept.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
action=${1:-}
init_base "${2:-}"
case $action in
    stop) stop_postfix ;;
    start) start_postfix ;;
    *) die "usage: $0 stop|start BASE" ;;
esac
