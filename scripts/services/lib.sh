# shellcheck shell=bash
# Shared helpers for the loopback test services (sourced by start.sh, stop.sh,
# smtp.sh, imap.sh). Everything lives under one directory BASE:
#   env              KEY=value contract for the test suite
#   tls/             self-signed cert.pem + key.pem (127.0.0.1, localhost)
#   dovecot/         dovecot.conf, users (passwd-file), run/ (sockets)
#   vmail/DOMAIN/USER/Maildir   mailboxes (owned by vmail)
#   postfix/         main.cf, master.cf, vmailbox, transport
#   postfix-queue/ postfix-data/
#   pg/ pg-run/      PostgreSQL data directory and socket directory
#   oauth2/tokens    `TOKEN USER` lines for the OAuth2 introspection server
#   radicale/        Radicale (CalDAV) config, users (htpasswd), collections/
#   NAME.pid NAME.log NAME.err   per daemon (dovecot, postfix, postgres, oauth2,
#                    radicale)

MAIL_PASSWORD=secret
MAIL_DOMAINS="example.test acme.test globex.test"
SERVICES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# Radicale runs from the project's virtualenv (it is in the `test` extras).
RADICALE_PYTHON=${CADENCY_SERVICES_PYTHON:-$(cd "$SERVICES_DIR/../.." && pwd -P)/.venv/bin/python}
CALDAV_USERS="rep@example.test rep2@example.test"
PG_BIN=/usr/lib/postgresql/15/bin

die() { echo "services: $*" >&2; exit 1; }

# init_base DIR [create]: check DIR (creating it if asked), make it absolute
# and set the derived paths.
init_base() {
    [[ -n ${1:-} ]] || die "usage: $0 BASE"
    [[ $EUID -eq 0 ]] || die "must run as root"
    if [[ ${2:-} == create ]]; then mkdir -p "$1"; fi
    [[ -d $1 ]] || die "no such directory: $1"
    BASE=$(cd "$1" && pwd -P)
    [[ $BASE =~ ^/[A-Za-z0-9_./-]+$ ]] || die "BASE must be a plain path: $BASE"
    chmod 755 "$BASE" # postfix, vmail and postgres must traverse it
    TLS=$BASE/tls
    DOVECOT_DIR=$BASE/dovecot
    DOVECOT_RUN=$DOVECOT_DIR/run
    VMAIL=$BASE/vmail
    POSTFIX_DIR=$BASE/postfix
    POSTFIX_QUEUE=$BASE/postfix-queue
    PG_DATA=$BASE/pg
    PG_RUN=$BASE/pg-run
    OAUTH2_DIR=$BASE/oauth2
    RADICALE_DIR=$BASE/radicale
    # Several BASEs can run side by side when started with a different
    # CADENCY_SERVICES_PORT_OFFSET (e.g. 100); a BASE remembers its offset.
    local offset=${CADENCY_SERVICES_PORT_OFFSET:-0}
    if [[ -f $BASE/port-offset ]]; then offset=$(<"$BASE/port-offset"); fi
    [[ $offset =~ ^[0-9]+$ ]] || die "CADENCY_SERVICES_PORT_OFFSET must be a number"
    echo "$offset" >"$BASE/port-offset"
    SMTP_PORT=$((2525 + offset))
    SMTPS_PORT=$((2465 + offset))
    IMAP_PORT=$((1143 + offset))
    IMAPS_PORT=$((1993 + offset))
    LMTP_PORT=$((2424 + offset))
    PG_PORT=$((5433 + offset))
    OAUTH2_PORT=$((8089 + offset))
    CALDAV_PORT=$((5232 + offset))
}

mail_users() {
    printf '%s\n' rep@example.test rep2@example.test manager@example.test \
        sink@example.test jane@acme.test john@acme.test mary@acme.test \
        ana@globex.test bob@globex.test
    local i
    for i in $(seq 1 100); do printf 'contact%03d@acme.test\n' "$i"; done
}

# wait_port NAME PORT LOG: wait up to 15 s for a TCP port on 127.0.0.1.
wait_port() {
    local name=$1 port=$2 log=$3 i
    for ((i = 0; i < 150; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "services: $name did not open port $port within 15 s; log tail:" >&2
    tail -n 30 "$log" "$BASE/$name.err" >&2 2>/dev/null || true
    exit 1
}

# running PID: true while PID exists and is not a zombie (PID 1 may be slow
# to reap the daemons, which become its children when they detach).
running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# save_pid FROM TO: copy the PID on the first line of a daemon's own pid file.
save_pid() {
    local pid
    pid=$(head -n 1 "$1" | tr -dc 0-9)
    echo "$pid" >"$2"
}

# stop_pid NAME COMM SIGNAL [PIDFILE]: signal the daemon recorded in
# BASE/NAME.pid (or in its own PIDFILE) if it still runs as COMM, and wait
# for it to exit (at most 10 s), then SIGKILL what is left of its process group.
stop_pid() {
    local name=$1 comm=$2 sig=$3 file pid i
    for file in "$BASE/$name.pid" "${4:-}"; do
        [[ -f $file ]] || continue
        pid=$(head -n 1 "$file" | tr -dc 0-9)
        if [[ -z $pid ]] || ! running "$pid" \
            || [[ $(cat "/proc/$pid/comm" 2>/dev/null) != "$comm" ]]; then
            continue
        fi
        kill "-$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < 200; i++)); do
            running "$pid" || break
            sleep 0.05
        done
        if running "$pid"; then
            echo "services: $name (pid $pid) ignored SIG$sig, killing" >&2
        fi
        # Children can outlive the master (Dovecot's auth process waits for
        # Postfix's connections to close); they share its process group.
        kill -KILL -- "-$pid" 2>/dev/null || true
        echo "stopped $name (pid $pid)"
    done
    rm -f "$BASE/$name.pid"
}

ensure_tls() {
    [[ -s $TLS/cert.pem && -s $TLS/key.pem ]] && return 0
    mkdir -p "$TLS"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -days 3650 -subj "/CN=localhost" -keyout "$TLS/key.pem" -out "$TLS/cert.pem" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,digitalSignature,keyCertSign" \
        -addext "extendedKeyUsage=serverAuth" 2>/dev/null
    chmod 600 "$TLS/key.pem"
    chmod 644 "$TLS/cert.pem"
}

# ---------------------------------------------------------------- Dovecot
write_dovecot_conf() {
    local uid gid user
    uid=$(id -u vmail) gid=$(id -g vmail)
    mkdir -p "$DOVECOT_DIR/state"
    # Home directories exist up front (owned by vmail) so tests can drop a
    # .dovecot.sieve script or empty a Maildir without creating directories.
    local domain homes=()
    for domain in $MAIL_DOMAINS; do homes+=("$VMAIL/$domain"); done
    for user in $(mail_users); do homes+=("$VMAIL/${user#*@}/${user%@*}"); done
    install -d -o vmail -g vmail "$VMAIL" "${homes[@]}"
    for user in $(mail_users); do
        echo "$user:{PLAIN}$MAIL_PASSWORD:$uid:$gid::$VMAIL/${user#*@}/${user%@*}::"
    done >"$DOVECOT_DIR/users"
    cat >"$DOVECOT_DIR/dovecot.conf" <<EOF
# Generated by scripts/services/start.sh; edits are overwritten.
base_dir = $DOVECOT_RUN
state_dir = $DOVECOT_DIR/state
log_path = $BASE/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
hostname = mail.example.test
postmaster_address = postmaster@example.test
submission_host = 127.0.0.1:$SMTP_PORT

disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_verbose = yes
auth_username_format = %Lu
# Passwords (PLAIN, LOGIN, IMAP LOGIN) are checked against the passwd-file
# only; OAuth2 access tokens (XOAUTH2, OAUTHBEARER) only against the token
# introspection server (scripts/services/oauth2_introspect.py).
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%Lu $DOVECOT_DIR/users
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DOVECOT_DIR/oauth2.conf.ext
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $DOVECOT_DIR/users
}

first_valid_uid = $uid
last_valid_uid = $uid
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 200
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}

ssl = yes
ssl_cert = <$TLS/cert.pem
ssl_key = <$TLS/key.pem
ssl_dh = </usr/share/dovecot/dh.pem

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service anvil {
  # No anvil-auth-penalty socket: failed logins from 127.0.0.1 would otherwise
  # delay every later login from 127.0.0.1 by up to 15 s.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_vacation_min_period = 0
  sieve_vacation_dont_check_recipient = yes
  sieve_vacation_send_from_recipient = yes
}
EOF
    cat >"$DOVECOT_DIR/oauth2.conf.ext" <<EOF
# Generated by scripts/services/start.sh; edits are overwritten.
# RFC 7662 introspection: POST token=... to oauth2_introspect.py, which
# answers 200 {"active": true, "username": ...} or 401 for an unknown token.
introspection_mode = post
introspection_url = http://127.0.0.1:$OAUTH2_PORT/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
EOF
}

start_dovecot() {
    stop_dovecot >/dev/null
    rm -rf "$DOVECOT_RUN" # stale sockets from an earlier run
    dovecot -c "$DOVECOT_DIR/dovecot.conf" </dev/null >/dev/null 2>"$BASE/dovecot.err" || {
        tail -n 30 "$BASE/dovecot.err" "$BASE/dovecot.log" >&2 2>/dev/null || true
        die "dovecot failed to start"
    }
    wait_port dovecot "$IMAP_PORT" "$BASE/dovecot.log"
    wait_port dovecot "$IMAPS_PORT" "$BASE/dovecot.log"
    wait_port dovecot "$LMTP_PORT" "$BASE/dovecot.log"
    save_pid "$DOVECOT_RUN/master.pid" "$BASE/dovecot.pid"
}

stop_dovecot() { stop_pid dovecot dovecot TERM "$DOVECOT_RUN/master.pid"; }

# ---------------------------------------------------------------- Postfix
write_postfix_conf() {
    local user
    mkdir -p "$POSTFIX_DIR" "$BASE/postfix-data"
    chown postfix:postfix "$BASE/postfix-data"
    for user in $(mail_users); do echo "$user x"; done >"$POSTFIX_DIR/vmailbox"
    cat >"$POSTFIX_DIR/transport" <<EOF
lmtp-bounce.test lmtp:inet:127.0.0.1:$LMTP_PORT
deferred.test smtp:[127.0.0.1]:9
EOF
    # Recipients refused at RCPT with a chosen answer, for the send-outcome tests.
    cat >"$POSTFIX_DIR/recipient_access" <<EOF
busy@acme.test 450 4.2.1 Mailbox busy, try again later
full@acme.test 552 5.2.2 Mailbox full
policy@acme.test 550 5.7.1 Message refused by the recipient's policy
EOF
    cat >"$POSTFIX_DIR/main.cf" <<EOF
# Generated by scripts/services/start.sh; edits are overwritten.
compatibility_level = 3.6
queue_directory = $POSTFIX_QUEUE
data_directory = $BASE/postfix-data
maillog_file = $BASE/postfix.log
maillog_file_prefixes = $BASE
myhostname = mail.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP Cadency test server
smtpd_peername_lookup = no
smtp_dns_support_level = disabled

virtual_mailbox_domains = $MAIL_DOMAINS
virtual_mailbox_maps = texthash:$POSTFIX_DIR/vmailbox
# Plus-addressing: jane+news@acme.test is delivered to jane@acme.test.
recipient_delimiter = +
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
transport_maps = texthash:$POSTFIX_DIR/transport
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$POSTFIX_DIR/recipient_access

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DOVECOT_RUN/auth-postfix
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_tls_cert_file = $TLS/cert.pem
smtpd_tls_key_file = $TLS/key.pem

# No throttling: tests and benchmarks send thousands of messages quickly.
default_process_limit = 200
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
smtpd_client_auth_rate_limit = 0
smtpd_recipient_limit = 1000
message_size_limit = 52428800

# smtpd exits when Dovecot's auth socket is down (imap.sh stop); respawn it
# 1 s after that instead of the default 60 s.
service_throttle_time = 1s

# Short queue timings so delay and failure DSNs arrive within seconds.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 2s
maximal_queue_lifetime = 20s
bounce_queue_lifetime = 20s
EOF
    cat >"$POSTFIX_DIR/master.cf" <<EOF
# Generated by scripts/services/start.sh; edits are overwritten.
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
proxywrite unix - - n -     1 proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
lmtp      unix  - - n -     - lmtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
    # Postfix commands wait up to 2 s for a just-modified main.cf to settle.
    touch -d "1 minute ago" "$POSTFIX_DIR"/*
}

# empty_postfix_queue: drop queued mail while Postfix is stopped (postsuper
# -d needs it running and would let it deliver leftovers first).
empty_postfix_queue() {
    local dir
    for dir in active bounce corrupt defer deferred flush hold incoming maildrop saved trace; do
        rm -rf "${POSTFIX_QUEUE:?}/$dir/"*
    done
}

start_postfix() {
    stop_postfix >/dev/null
    mkdir -p "$POSTFIX_QUEUE"
    # Postfix's integrity checks take 1-2 s; they are only needed once, to
    # create the queue directories.
    if [[ -d $POSTFIX_QUEUE/pid ]]; then touch "$POSTFIX_QUEUE/quick-start"; fi
    if ! postfix -c "$POSTFIX_DIR" start </dev/null >/dev/null 2>"$BASE/postfix.err"; then
        # Retry with the full checks, under `script`: Postfix reports fatal
        # errors only to syslog or a terminal.
        rm -f "$POSTFIX_QUEUE/quick-start"
        if ! script -qec "postfix -c $POSTFIX_DIR start" /dev/null </dev/null >>"$BASE/postfix.err" 2>&1; then
            tail -n 30 "$BASE/postfix.err" "$BASE/postfix.log" >&2 2>/dev/null || true
            die "postfix failed to start"
        fi
    fi
    wait_port postfix "$SMTP_PORT" "$BASE/postfix.log"
    wait_port postfix "$SMTPS_PORT" "$BASE/postfix.log"
    save_pid "$POSTFIX_QUEUE/pid/master.pid" "$BASE/postfix.pid"
}

stop_postfix() { stop_pid postfix master TERM "$POSTFIX_QUEUE/pid/master.pid"; }

# ---------------------------------------------------------------- OAuth2
# write_oauth2_tokens: one fresh random access token each for rep@ and
# rep2@example.test (sets OAUTH2_TOKEN_REP and OAUTH2_TOKEN_REP2). Tokens
# minted by tests in an earlier run are dropped.
random_token() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

write_oauth2_tokens() {
    OAUTH2_TOKEN_REP=$(random_token)
    OAUTH2_TOKEN_REP2=$(random_token)
    install -d -m 700 "$OAUTH2_DIR"
    (
        umask 077
        cat >"$OAUTH2_DIR/tokens" <<EOF
# TOKEN USER, one pair per line; re-read on every introspection request.
$OAUTH2_TOKEN_REP rep@example.test
$OAUTH2_TOKEN_REP2 rep2@example.test
EOF
    )
}

start_oauth2() {
    local pid
    stop_oauth2 >/dev/null
    # wait_port cannot tell our server from another one on the port.
    if (exec 3<>"/dev/tcp/127.0.0.1/$OAUTH2_PORT") 2>/dev/null; then
        die "port $OAUTH2_PORT is already in use (an introspection server from another BASE?)"
    fi
    # setsid: its own process group, so stop_pid can kill the group safely.
    setsid python3 "$SERVICES_DIR/oauth2_introspect.py" "$BASE" "$OAUTH2_PORT" \
        </dev/null >/dev/null 2>>"$BASE/oauth2.log" &
    pid=$!
    echo "$pid" >"$BASE/oauth2.pid"
    wait_port oauth2 "$OAUTH2_PORT" "$BASE/oauth2.log"
    running "$pid" || die "the OAuth2 introspection server exited; see $BASE/oauth2.log"
}

stop_oauth2() { stop_pid oauth2 cadency-oauth2 TERM; }

# ---------------------------------------------------------------- PostgreSQL
start_postgres() {
    stop_postgres >/dev/null
    mkdir -p "$PG_RUN"
    touch "$BASE/postgres.log"
    chown postgres:postgres "$PG_RUN" "$BASE/postgres.log"
    if [[ ! -s $PG_DATA/PG_VERSION ]]; then
        rm -rf "$PG_DATA"
        install -d -o postgres -g postgres -m 700 "$PG_DATA"
        runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" --no-sync -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 --locale=C.UTF-8 -E UTF8 \
            </dev/null >/dev/null 2>"$BASE/postgres.err" || {
            tail -n 30 "$BASE/postgres.err" >&2
            die "initdb failed"
        }
    fi
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$BASE/postgres.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_RUN -c max_connections=200 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start </dev/null >/dev/null 2>"$BASE/postgres.err" || {
        tail -n 30 "$BASE/postgres.err" "$BASE/postgres.log" >&2
        die "postgres failed to start"
    }
    wait_port postgres "$PG_PORT" "$BASE/postgres.log"
    save_pid "$PG_DATA/postmaster.pid" "$BASE/postgres.pid"
    psql -q -X -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres \
        >/dev/null 2>>"$BASE/postgres.err" <<'SQL' || die "creating the cadency role failed (see $BASE/postgres.err)"
SELECT 'CREATE ROLE cadency LOGIN CREATEDB PASSWORD ''cadency'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cadency') \gexec
SELECT 'CREATE DATABASE cadency OWNER cadency'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'cadency') \gexec
SQL
}

stop_postgres() { stop_pid postgres postgres INT "$PG_DATA/postmaster.pid"; }

# ---------------------------------------------------------------- Radicale (CalDAV)
# Radicale from the project's virtualenv, plain HTTP on 127.0.0.1, htpasswd
# users (CALDAV_USERS, password MAIL_PASSWORD), each owning only their own
# collections. Calendars and events are kept across starts.
write_radicale_conf() {
    local user
    install -d -m 700 "$RADICALE_DIR" "$RADICALE_DIR/collections"
    (
        umask 077
        for user in $CALDAV_USERS; do echo "$user:$MAIL_PASSWORD"; done >"$RADICALE_DIR/users"
    )
    cat >"$RADICALE_DIR/config" <<EOF2
# Generated by scripts/services/start.sh; edits are overwritten.
[server]
hosts = 127.0.0.1:$CALDAV_PORT

[auth]
type = htpasswd
htpasswd_filename = $RADICALE_DIR/users
htpasswd_encryption = plain
# No pause after a wrong password (the default is about 1 s).
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $RADICALE_DIR/collections

[web]
type = none

[logging]
level = info
EOF2
}

start_radicale() {
    local pid
    stop_radicale >/dev/null
    if ! "$RADICALE_PYTHON" -c "import radicale" 2>/dev/null; then
        die "Radicale is not installed for $RADICALE_PYTHON: run \`make install\` (pip install -e '.[test]')"
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$CALDAV_PORT") 2>/dev/null; then
        die "port $CALDAV_PORT is already in use (a Radicale from another BASE?)"
    fi
    # setsid: its own process group, so stop_pid can kill the group safely;
    # a recognisable /proc/PID/comm, which stop_pid checks.
    setsid "$RADICALE_PYTHON" -c 'import pathlib, runpy
pathlib.Path("/proc/self/comm").write_text("cadency-caldav")
runpy.run_module("radicale", run_name="__main__", alter_sys=True)' \
        --config "$RADICALE_DIR/config" </dev/null >/dev/null 2>>"$BASE/radicale.log" &
    pid=$!
    echo "$pid" >"$BASE/radicale.pid"
}

# wait_radicale: after start_radicale (Python takes a moment to start, so
# start.sh starts the other daemons meanwhile).
wait_radicale() {
    wait_port radicale "$CALDAV_PORT" "$BASE/radicale.log"
    running "$(<"$BASE/radicale.pid")" || die "Radicale exited; see $BASE/radicale.log"
}

stop_radicale() { stop_pid radicale cadency-caldav TERM; }
