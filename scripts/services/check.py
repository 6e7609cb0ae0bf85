#!/usr/bin/env python3
"""Smoke-test the loopback services started by start.sh (stdlib only).

Usage: python3 scripts/services/check.py BASE [--skip-restart]

Prints one line per check and exits non-zero if any fails. It sends a few
messages and leaves them in the mailboxes; --skip-restart skips stopping and
restarting Postfix and Dovecot with smtp.sh and imap.sh.
"""

import imaplib
import os
import pathlib
import pwd
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

HERE = pathlib.Path(__file__).resolve().parent
FAILURES = []


def check(name):
    def wrap(fn):
        def run(*args):
            t0 = time.monotonic()
            try:
                detail = fn(*args)
            except Exception as exc:  # report and carry on with the next check
                FAILURES.append(name)
                print(f"FAIL {name}: {type(exc).__name__}: {exc}")
            else:
                ms = (time.monotonic() - t0) * 1000
                print(f"ok   {name} ({ms:.0f} ms){': ' + detail if detail else ''}")

        return run

    return wrap


def read_env(base):
    env = {}
    for line in (pathlib.Path(base) / "env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    return env


def make_message(sender, to, subject):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="example.test")
    msg.set_content("Hello from check.py\n")
    return msg


class Services:
    def __init__(self, base):
        self.base = base
        self.env = read_env(base)
        self.host = self.env["CADENCY_TEST_SMTP_HOST"]
        self.password = self.env["CADENCY_TEST_MAIL_PASSWORD"]
        self.ctx = ssl.create_default_context(cafile=self.env["CADENCY_TEST_CA_FILE"])

    def smtp(self, user=None):
        conn = smtplib.SMTP(self.host, int(self.env["CADENCY_TEST_SMTP_PORT"]), timeout=10)
        if user:
            conn.login(user, self.password)
        return conn

    def imap(self, user):
        conn = imaplib.IMAP4(self.env["CADENCY_TEST_IMAP_HOST"], int(self.env["CADENCY_TEST_IMAP_PORT"]), timeout=10)
        conn.login(user, self.password)
        return conn

    def wait_for(self, user, criteria, timeout, mailbox="INBOX"):
        """Poll MAILBOX with NOOP until SEARCH criteria match; return seconds waited."""
        t0 = time.monotonic()
        imap = self.imap(user)
        try:
            imap.select(mailbox)
            while True:
                typ, data = imap.search(None, *criteria)
                if typ == "OK" and data[0].split():
                    return time.monotonic() - t0
                if time.monotonic() - t0 > timeout:
                    raise AssertionError(f"nothing matching {criteria} in {user} {mailbox} after {timeout} s")
                time.sleep(0.05)
                imap.noop()
        finally:
            imap.logout()


@check("SMTP AUTH on 2525 as rep@example.test, delivered to jane@acme.test INBOX over IMAP 1143")
def check_send_and_receive(s):
    msg = make_message("rep@example.test", "jane@acme.test", "check.py delivery")
    with s.smtp("rep@example.test") as smtp:
        smtp.send_message(msg)
    waited = s.wait_for("jane@acme.test", ["HEADER", "Message-ID", msg["Message-ID"]], timeout=5)
    return f"in INBOX after {waited * 1000:.0f} ms"


@check("STARTTLS on SMTP 2525 and IMAP 1143, implicit TLS on 2465 and 1993 (verified against CA file)")
def check_tls(s):
    with s.smtp() as smtp:
        smtp.starttls(context=s.ctx)
        smtp.login("rep@example.test", s.password)
    with smtplib.SMTP_SSL(s.host, int(s.env["CADENCY_TEST_SMTPS_PORT"]), context=s.ctx, timeout=10) as smtp:
        smtp.login("rep@example.test", s.password)
    imap = imaplib.IMAP4(s.host, int(s.env["CADENCY_TEST_IMAP_PORT"]), timeout=10)
    imap.starttls(ssl_context=s.ctx)
    imap.login("jane@acme.test", s.password)
    version = imap.sock.version()
    imap.logout()
    imap = imaplib.IMAP4_SSL(s.host, int(s.env["CADENCY_TEST_IMAPS_PORT"]), ssl_context=s.ctx, timeout=10)
    imap.login("jane@acme.test", s.password)
    imap.logout()
    strict = ssl.create_default_context(cafile=s.env["CADENCY_TEST_CA_FILE"])
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection((s.host, int(s.env["CADENCY_TEST_IMAPS_PORT"])), timeout=10) as raw:
        with strict.wrap_socket(raw, server_hostname="localhost"):
            pass
    return f"{version}; also valid for hostname localhost under VERIFY_X509_STRICT"


@check("RCPT to nobody@acme.test refused synchronously with 550 5.1.1")
def check_unknown_user(s):
    with s.smtp("rep@example.test") as smtp:
        smtp.mail("rep@example.test")
        code, text = smtp.rcpt("nobody@acme.test")
    text = text.decode()
    assert code == 550 and text.startswith("5.1.1"), (code, text)
    return f"{code} {text}"


@check("wrong passwords refused; no login penalty builds up for 127.0.0.1")
def check_wrong_password(s):
    for _ in range(3):
        with s.smtp() as smtp:
            smtp.ehlo()
            try:
                smtp.auth("PLAIN", lambda challenge=None: "\0rep@example.test\0wrong")
            except smtplib.SMTPAuthenticationError as exc:
                smtp_code = exc.smtp_code
            else:
                raise AssertionError("SMTP accepted a wrong password")
        imap = imaplib.IMAP4(s.host, int(s.env["CADENCY_TEST_IMAP_PORT"]), timeout=10)
        try:
            imap.login("rep@example.test", "wrong")
        except imaplib.IMAP4.error:
            pass
        else:
            raise AssertionError("IMAP accepted a wrong password")
        finally:
            imap.shutdown()
    t0 = time.monotonic()
    s.imap("rep@example.test").logout()
    login = time.monotonic() - t0
    assert login < 0.5, f"good login took {login:.1f} s after failures"
    return f"SMTP {smtp_code}, IMAP NO (each ~0.5 s); next good login {login * 1000:.0f} ms"


@check("APPEND to Sent as rep@example.test, found by SEARCH HEADER Message-ID")
def check_append_sent(s):
    msg = make_message("rep@example.test", "jane@acme.test", "check.py sent copy")
    imap = s.imap("rep@example.test")
    try:
        typ, boxes = imap.list()
        assert any(b'\\Sent' in b and b'Sent' in b for b in boxes), boxes
        typ, data = imap.append("Sent", "(\\Seen)", None, msg.as_bytes())
        assert typ == "OK", data
        imap.select("Sent")
        typ, data = imap.search(None, "HEADER", "Message-ID", msg["Message-ID"])
        assert typ == "OK" and len(data[0].split()) == 1, data
    finally:
        imap.logout()
    return "folders: " + " ".join(b.decode().rsplit(" ", 1)[-1] for b in boxes)


@check("mail to someone@lmtp-bounce.test: accepted, then a DSN lands in rep@example.test INBOX")
def check_async_bounce(s):
    msg = make_message("rep@example.test", "someone@lmtp-bounce.test", "check.py bounce")
    with s.smtp("rep@example.test") as smtp:
        refused = smtp.send_message(msg)
    assert not refused, refused
    waited = s.wait_for("rep@example.test", ["TEXT", msg["Message-ID"], "HEADER", "Content-Type", "report"], timeout=10)
    return f"DSN after {waited * 1000:.0f} ms"


@check("mail to someone@deferred.test: a 'delayed' DSN lands in rep2@example.test INBOX")
def check_delay_dsn(s):
    msg = make_message("rep2@example.test", "someone@deferred.test", "check.py delay")
    with s.smtp() as smtp:  # unauthenticated from 127.0.0.0/8 (mynetworks)
        smtp.send_message(msg)
    waited = s.wait_for("rep2@example.test", ["TEXT", msg["Message-ID"], "SUBJECT", "delayed"], timeout=15)
    return f"after {waited:.1f} s"


@check("Sieve vacation for mary@acme.test auto-replies to john@acme.test (via submission_host)")
def check_vacation(s):
    home = pathlib.Path(s.base) / "vmail" / "acme.test" / "mary"
    script = home / ".dovecot.sieve"
    vmail = pwd.getpwnam("vmail")
    subject = f"out of office {uuid.uuid4().hex[:8]}"
    script.write_text(f'require "vacation";\nvacation :days 1 :subject "{subject}" "I am away.";\n')
    os.chown(script, vmail.pw_uid, vmail.pw_gid)
    try:
        with s.smtp("john@acme.test") as smtp:
            smtp.send_message(make_message("john@acme.test", "mary@acme.test", "check.py vacation"))
        waited = s.wait_for("john@acme.test", ["SUBJECT", f'"{subject}"', "HEADER", "Auto-Submitted", "auto-replied"], timeout=10)
    finally:
        for leftover in home.glob(".dovecot.svbin"):
            leftover.unlink()
        script.unlink()
    return f"auto-reply after {waited * 1000:.0f} ms"


@check("smtp.sh stop closes 2525; smtp.sh start brings it back")
def check_smtp_restart(s):
    def run(action):
        t0 = time.monotonic()
        subprocess.run([HERE / "smtp.sh", action, s.base], check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        return time.monotonic() - t0

    stop = run("stop")
    try:
        s.smtp().close()
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("port 2525 still accepts connections")
    start = run("start")
    with s.smtp("rep@example.test") as smtp:
        smtp.noop()
    return f"stop {stop:.1f} s, start {start:.1f} s"


@check("imap.sh stop closes 1143; imap.sh start brings IMAP and SMTP AUTH back")
def check_imap_restart(s):
    def run(action):
        t0 = time.monotonic()
        subprocess.run([HERE / "imap.sh", action, s.base], check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        return time.monotonic() - t0

    stop = run("stop")
    try:
        s.imap("rep@example.test")
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("port 1143 still accepts connections")
    start = run("start")
    s.imap("rep@example.test").logout()
    t0 = time.monotonic()
    while True:  # Postfix respawns smtpd (service_throttle_time = 1s)
        try:
            with s.smtp("rep@example.test") as smtp:
                smtp.noop()
            break
        except (smtplib.SMTPException, OSError):
            if time.monotonic() - t0 > 5:
                raise
            time.sleep(0.1)
    return f"stop {stop:.1f} s, start {start:.1f} s, SMTP AUTH back after {time.monotonic() - t0:.1f} s"


@check("PostgreSQL: connect with CADENCY_TEST_PG_URL, CREATE and DROP DATABASE")
def check_postgres(s):
    url = s.env["CADENCY_TEST_PG_URL"]
    name = f"check_{uuid.uuid4().hex[:8]}"
    sql = ["SELECT current_user", f"CREATE DATABASE {name}", f"DROP DATABASE {name}"]
    out = subprocess.run(["psql", url, "-X", "-qtA", "-v", "ON_ERROR_STOP=1", *(f"-c{c}" for c in sql)],
                         check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert out.stdout.split()[0] == "cadency", out.stdout
    return "role cadency can CREATE DATABASE"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    s = Services(str(pathlib.Path(args[0]).resolve()))
    check_send_and_receive(s)
    check_tls(s)
    check_unknown_user(s)
    check_wrong_password(s)
    check_append_sent(s)
    check_async_bounce(s)
    check_delay_dsn(s)
    check_vacation(s)
    if "--skip-restart" not in sys.argv:
        check_smtp_restart(s)
        check_imap_restart(s)
    check_postgres(s)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
