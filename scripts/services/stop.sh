#!/usr/bin/env bash
# Usage: stop.sh BASE
# Stop the daemons start.sh started from BASE (by their recorded PIDs).
# Daemons that are already stopped are skipped. Data under BASE is kept.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ -n ${1:-} && ! -d $1 ]]; then
    echo "stop.sh: $1 does not exist, nothing to stop"
    exit 0
fi
init_base "${1:-}"
stop_postfix
stop_dovecot
stop_oauth2
stop_postgres
stop_radicale
