#!/usr/bin/env python3
"""Smoke-test the loopback services started by start.sh (stdlib only).

Usage: python3 scripts/services/check.py BASE [--skip-restart]

Prints one line per check and exits non-zero if any fails. It sends a few
messages and leaves them in the mailboxes; --skip-restart skips stopping and
restarting Postfix and Dovecot with smtp.sh and imap.sh.
"""

import base64
import imaplib
import json
import os
import pathlib
import pwd
import secrets
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
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

    def port(self, name):
        return int(self.env[f"CADENCY_TEST_{name}_PORT"])

    def imap(self, user=None):
        conn = imaplib.IMAP4(self.env["CADENCY_TEST_IMAP_HOST"], self.port("IMAP"), timeout=10)
        if user:
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
                    raise AssertionError(
                        f"nothing matching {criteria} in {user} {mailbox} after {timeout} s"
                    )
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


@check("STARTTLS on SMTP 2525 and IMAP 1143, implicit TLS on 2465 and 1993 (checked with CA file)")
def check_tls(s):
    with s.smtp() as smtp:
        smtp.starttls(context=s.ctx)
        smtp.login("rep@example.test", s.password)
    with smtplib.SMTP_SSL(s.host, s.port("SMTPS"), context=s.ctx, timeout=10) as smtp:
        smtp.login("rep@example.test", s.password)
    imap = s.imap()
    imap.starttls(ssl_context=s.ctx)
    imap.login("jane@acme.test", s.password)
    version = imap.sock.version()
    imap.logout()
    imap = imaplib.IMAP4_SSL(s.host, s.port("IMAPS"), ssl_context=s.ctx, timeout=10)
    imap.login("jane@acme.test", s.password)
    imap.logout()
    strict = ssl.create_default_context(cafile=s.env["CADENCY_TEST_CA_FILE"])
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with (
        socket.create_connection((s.host, s.port("IMAPS")), timeout=10) as raw,
        strict.wrap_socket(raw, server_hostname="localhost"),
    ):
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
        imap = s.imap()
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
        assert any(b"\\Sent" in b and b"Sent" in b for b in boxes), boxes
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
    criteria = ["TEXT", msg["Message-ID"], "HEADER", "Content-Type", "report"]
    waited = s.wait_for("rep@example.test", criteria, timeout=10)
    return f"DSN after {waited * 1000:.0f} ms"


@check("mail to someone@deferred.test: a 'delayed' DSN lands in rep2@example.test INBOX")
def check_delay_dsn(s):
    msg = make_message("rep2@example.test", "someone@deferred.test", "check.py delay")
    with s.smtp() as smtp:  # unauthenticated from 127.0.0.0/8 (mynetworks)
        smtp.send_message(msg)
    criteria = ["TEXT", msg["Message-ID"], "SUBJECT", "delayed"]
    waited = s.wait_for("rep2@example.test", criteria, timeout=15)
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
        criteria = ["SUBJECT", f'"{subject}"', "HEADER", "Auto-Submitted", "auto-replied"]
        waited = s.wait_for("john@acme.test", criteria, timeout=10)
    finally:
        for leftover in home.glob(".dovecot.svbin"):
            leftover.unlink()
        script.unlink()
    return f"auto-reply after {waited * 1000:.0f} ms"


@check("smtp.sh stop closes 2525; smtp.sh start brings it back")
def check_smtp_restart(s):
    def run(action):
        t0 = time.monotonic()
        subprocess.run(  # noqa: S603 (our own script)
            [HERE / "smtp.sh", action, s.base],
            check=True,
            stdout=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
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
        subprocess.run(  # noqa: S603 (our own script)
            [HERE / "imap.sh", action, s.base],
            check=True,
            stdout=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
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
    back = time.monotonic() - t0
    return f"stop {stop:.1f} s, start {start:.1f} s, SMTP AUTH back after {back:.1f} s"


def xoauth2(user, token):
    """The SASL XOAUTH2 client response (before base64), as Google and Microsoft document it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def smtp_xoauth2(smtp, user, token):
    """AUTH XOAUTH2 with an initial response; an error challenge is answered empty.

    Returns the challenges the server sent after the initial response.
    """
    challenges = []

    def respond(challenge=None):
        if challenge is None:
            return xoauth2(user, token)
        challenges.append(challenge)
        return ""

    smtp.auth("XOAUTH2", respond)
    return challenges


def imap_xoauth2(imap, user, token):
    challenges = []

    def respond(challenge):
        challenges.append(challenge)
        return xoauth2(user, token).encode() if len(challenges) == 1 else b""

    imap.authenticate("XOAUTH2", respond)
    return challenges[1:]


def expect_smtp_refusal(s, user, token):
    t0 = time.monotonic()
    with s.smtp() as smtp:
        smtp.starttls(context=s.ctx)
        try:
            smtp_xoauth2(smtp, user, token)
        except smtplib.SMTPAuthenticationError as exc:
            code = exc.smtp_code
        else:
            raise AssertionError(f"SMTP accepted XOAUTH2 for {user} with token {token[:6]}...")
    took = time.monotonic() - t0
    assert code == 535, code
    assert took < 2, f"SMTP refusal took {took:.1f} s"
    return took


def expect_imap_refusal(s, user, token):
    t0 = time.monotonic()
    imap = s.imap()
    try:
        imap.starttls(ssl_context=s.ctx)
        imap_xoauth2(imap, user, token)
    except imaplib.IMAP4.error as exc:
        assert "AUTHENTICATIONFAILED" in str(exc), exc
    else:
        raise AssertionError(f"IMAP accepted XOAUTH2 for {user} with token {token[:6]}...")
    finally:
        imap.shutdown()
    took = time.monotonic() - t0
    assert took < 2, f"IMAP refusal took {took:.1f} s"
    return took


@check("OAuth2 introspection on 8089: 200 active for a token from BASE/env, 401 for an unknown one")
def check_introspection(s):
    url = s.env["CADENCY_TEST_OAUTH2_INTROSPECTION_URL"]

    def introspect(token):
        body = f"token={token}".encode()
        try:
            with urllib.request.urlopen(url, body, timeout=5) as response:  # noqa: S310
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    status, answer = introspect(s.env["CADENCY_TEST_OAUTH2_TOKEN_REP"])
    assert (status, answer["active"], answer["username"]) == (200, True, "rep@example.test"), answer
    status, answer = introspect("never-issued")
    assert (status, answer) == (401, {"active": False}), (status, answer)


@check("XOAUTH2: valid token logs in to SMTP 2525 (STARTTLS) and 2465, IMAP 1143 and 1993")
def check_xoauth2(s):
    token = s.env["CADENCY_TEST_OAUTH2_TOKEN_REP"]
    with s.smtp() as smtp:
        smtp.ehlo()
        advertised = smtp.esmtp_features.get("auth", "").split()
        assert {"XOAUTH2", "OAUTHBEARER"} <= set(advertised), advertised
        smtp.starttls(context=s.ctx)
        assert not smtp_xoauth2(smtp, "rep@example.test", token)
        refused = smtp.send_message(make_message("rep@example.test", "jane@acme.test", "xoauth2"))
        assert not refused, refused
    with smtplib.SMTP_SSL(s.host, s.port("SMTPS"), context=s.ctx, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp_xoauth2(smtp, "rep@example.test", token)
    imap = s.imap()
    try:
        imap.starttls(ssl_context=s.ctx)
        assert "AUTH=XOAUTH2" in imap.capabilities, imap.capabilities
        assert not imap_xoauth2(imap, "rep@example.test", token)
        assert imap.select("Sent")[0] == "OK"
    finally:
        imap.logout()
    imap = imaplib.IMAP4_SSL(s.host, s.port("IMAPS"), ssl_context=s.ctx, timeout=10)
    try:
        assert not imap_xoauth2(imap, "rep2@example.test", s.env["CADENCY_TEST_OAUTH2_TOKEN_REP2"])
    finally:
        imap.logout()
    return "EHLO advertises " + " ".join(advertised)


@check("XOAUTH2: wrong, another user's or revoked token refused fast by SMTP (535) and IMAP (NO)")
def check_xoauth2_refused(s):
    rep2_token = s.env["CADENCY_TEST_OAUTH2_TOKEN_REP2"]
    times = [
        expect_smtp_refusal(s, "rep@example.test", "never-issued-token"),
        expect_imap_refusal(s, "rep@example.test", "never-issued-token"),
        expect_smtp_refusal(s, "rep@example.test", rep2_token),
        expect_imap_refusal(s, "rep@example.test", rep2_token),
        expect_imap_refusal(s, "rep@example.test", s.password),  # the password is no token
    ]
    # Tokens are read from BASE/oauth2/tokens on every request: mint one, then revoke it.
    tokens = pathlib.Path(s.env["CADENCY_TEST_OAUTH2_TOKENS_FILE"])
    original = tokens.read_text()
    minted = secrets.token_urlsafe(24)
    try:
        tokens.write_text(f"{original}{minted} rep@example.test\n")
        with s.smtp() as smtp:
            smtp.starttls(context=s.ctx)
            smtp_xoauth2(smtp, "rep@example.test", minted)
        tokens.write_text(original)
        times.append(expect_smtp_refusal(s, "rep@example.test", minted))
        times.append(expect_imap_refusal(s, "rep@example.test", minted))
    finally:
        tokens.write_text(original)
    return f"each refusal {min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms"


@check("PLAIN passwords still work next to XOAUTH2; a token is no password")
def check_plain_next_to_xoauth2(s):
    with s.smtp() as smtp:
        smtp.starttls(context=s.ctx)
        smtp.auth("PLAIN", lambda challenge=None: f"\0rep@example.test\0{s.password}")
    imap = s.imap()
    try:
        imap.authenticate("PLAIN", lambda challenge: f"\0rep@example.test\0{s.password}".encode())
    finally:
        imap.logout()
    s.imap("rep@example.test").logout()  # IMAP LOGIN
    token = s.env["CADENCY_TEST_OAUTH2_TOKEN_REP"]
    imap = s.imap()
    try:
        imap.login("rep@example.test", token)
    except imaplib.IMAP4.error:
        pass
    else:
        raise AssertionError("IMAP LOGIN accepted an OAuth2 token as the password")
    finally:
        imap.shutdown()
    return "SMTP AUTH PLAIN, IMAP AUTHENTICATE PLAIN and LOGIN"


@check("PostgreSQL: connect with CADENCY_TEST_PG_URL, CREATE and DROP DATABASE")
def check_postgres(s):
    url = s.env["CADENCY_TEST_PG_URL"]
    name = f"check_{uuid.uuid4().hex[:8]}"
    sql = ["SELECT current_user", f"CREATE DATABASE {name}", f"DROP DATABASE {name}"]
    out = subprocess.run(  # noqa: S603
        ["psql", url, "-X", "-qtA", "-v", "ON_ERROR_STOP=1", *(f"-c{c}" for c in sql)],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert out.stdout.split()[0] == "cadency", out.stdout
    return "role cadency can CREATE DATABASE"


def caldav_request(url, user, password, method="PROPFIND", body=b"", headers=None):
    """One WebDAV request with Basic auth; returns (status, body text)."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(url, data=body or None, method=method)  # noqa: S310
    request.add_header("Authorization", f"Basic {auth}")
    for name, value in (headers or {"Depth": "0"}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@check(
    "Radicale (CalDAV) on 5232: rep@ and rep2@ log in, a wrong password gets 401, "
    "a calendar and an event can be created, free-busy answers"
)
def check_caldav(s):
    url = s.env["CADENCY_TEST_CALDAV_URL"]
    user, password = s.env["CADENCY_TEST_CALDAV_USER"], s.env["CADENCY_TEST_CALDAV_PASSWORD"]
    status, body = caldav_request(url, user, password)
    assert status == 207 and "current-user-principal" in body, (status, body[:200])
    status, _ = caldav_request(url, s.env["CADENCY_TEST_CALDAV_USER2"], password)
    assert status == 207, status
    status, _ = caldav_request(url, user, "wrong-password")
    assert status == 401, status
    calendar = f"{url}{user}/check-{uuid.uuid4().hex[:8]}/"
    status, body = caldav_request(calendar, user, password, "MKCALENDAR")
    assert status == 201, (status, body[:200])
    try:
        event = "\r\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Cadency//check.py//EN",
                "BEGIN:VEVENT",
                "UID:check@example.test",
                "DTSTAMP:20300101T090000Z",
                "DTSTART:20300101T100000Z",
                "DTEND:20300101T103000Z",
                "SUMMARY:check",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        )
        status, _ = caldav_request(
            f"{calendar}check.ics",
            user,
            password,
            "PUT",
            event.encode(),
            {"Content-Type": "text/calendar"},
        )
        assert status == 201, status
        query = (
            '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<C:time-range start="20300101T000000Z" end="20300102T000000Z"/>'
            "</C:free-busy-query>"
        )
        status, body = caldav_request(
            calendar, user, password, "REPORT", query.encode(), {"Depth": "1"}
        )
        assert status == 200 and "20300101T100000Z/20300101T103000Z" in body, (status, body)
        status, _ = caldav_request(calendar, s.env["CADENCY_TEST_CALDAV_USER2"], password)
        assert status in (403, 404), f"rep2 read rep's calendar: {status}"
    finally:
        caldav_request(calendar, user, password, "DELETE")
    return "PROPFIND 207, wrong password 401, MKCALENDAR + PUT + free-busy, owner only"


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
    check_introspection(s)
    check_xoauth2(s)
    check_xoauth2_refused(s)
    check_plain_next_to_xoauth2(s)
    if "--skip-restart" not in sys.argv:
        check_smtp_restart(s)
        check_imap_restart(s)
    check_postgres(s)
    check_caldav(s)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
