#!/usr/bin/env bash
# Install what the loopback test services need (Postfix, Dovecot, PostgreSQL 15,
# OpenSSL), Chromium for the browser tests (Playwright drives /usr/bin/chromium;
# a font so pages and screenshots show text), Node.js + npm for the Outlook
# manifest validation and the `vmail` user.
# Idempotent: installs only what is missing.
# Run as root (CI does). Daemons are not started here: see start.sh.
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    echo "install.sh: must run as root" >&2
    exit 1
fi

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

missing=()
for pkg in postfix dovecot-imapd dovecot-lmtpd dovecot-sieve openssl \
    chromium fonts-liberation2; do
    have_pkg "$pkg" || missing+=("$pkg")
done
# Node.js and npm run Microsoft's Office add-in manifest tools in tests/clients
# (installed from the npm registry by the tests into var/). Any Node.js 18+ will do.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi
if [[ ! -x /usr/lib/postgresql/15/bin/initdb || ! -x /usr/lib/postgresql/15/bin/pg_ctl ]] \
    || ! command -v psql >/dev/null; then
    missing+=(postgresql-15 postgresql-client-15)
fi

if ((${#missing[@]})); then
    echo "install.sh: installing ${missing[*]}"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The image's policy-rc.d keeps apt from starting the stock daemons.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "install.sh: packages already installed"
fi

if ! id -u vmail >/dev/null 2>&1; then
    echo "install.sh: creating system user vmail"
    useradd --system --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin vmail
fi
