"""XOAUTH2 logins against the loopback Postfix + Dovecot, end to end.

Dovecot checks access tokens with its oauth2 passdb against
scripts/services/oauth2_introspect.py, which reads BASE/oauth2/tokens (`TOKEN
USER` lines, re-read on every request); Postfix gets XOAUTH2 through Dovecot SASL.
"""

import json
import re
import secrets
import smtplib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cadency.accounts.models import User
from cadency.mailboxes.connections import _XOAuth2, open_imap, open_smtp
from cadency.mailboxes.models import AuthMethod, Health, Mailbox, Security
from cadency.mailboxes.services import check_mailbox
from cadency.outbound.smtp_send import pool
from cadency.sequences.models import StepRunState
from cadency.sequences.services.enrollment import enroll
from tests.e2e.conftest import run_worker_until_idle
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import MailStack, read_env

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]

REP = "rep@example.test"


@dataclass
class Tokens:
    """The introspection server's token file: mint and revoke tokens at runtime."""

    path: Path
    rep: str
    rep2: str

    def mint(self, user: str) -> str:
        token = secrets.token_urlsafe(24)
        with self.path.open("a") as file:
            file.write(f"{token} {user}\n")
        return token

    def revoke(self, token: str) -> None:
        lines = self.path.read_text().splitlines(keepends=True)
        self.path.write_text("".join(line for line in lines if line.split()[:1] != [token]))


@pytest.fixture
def tokens(mailstack: MailStack) -> Iterator[Tokens]:
    env = read_env(mailstack.base / "env")
    path = mailstack.base / "oauth2" / "tokens"
    original = path.read_text()
    yield Tokens(path, env["CADENCY_TEST_OAUTH2_TOKEN_REP"], env["CADENCY_TEST_OAUTH2_TOKEN_REP2"])
    path.write_text(original)


@pytest.fixture(autouse=True)
def fresh_smtp_connections() -> Iterator[None]:
    pool.close_all()
    yield
    pool.close_all()


@pytest.fixture
def alice() -> User:
    return make_user("alice", first_name="Alice", last_name="Martin")


def xoauth2_mailbox(user: User, token: str, email: str = REP, **fields: object) -> Mailbox:
    mailbox = make_mailbox(user, email, auth_method=AuthMethod.XOAUTH2, **fields)
    mailbox.set_secret(token)
    mailbox.save()
    return mailbox


def implicit_tls_ports(stack: MailStack) -> dict[str, object]:
    env = read_env(stack.base / "env")
    return {
        "smtp_port": int(env["CADENCY_TEST_SMTPS_PORT"]),
        "smtp_security": Security.TLS,
        "imap_port": int(env["CADENCY_TEST_IMAPS_PORT"]),
        "imap_security": Security.TLS,
    }


def test_a_valid_token_logs_in_to_smtp_and_imap_over_starttls(
    mailstack: MailStack, tokens: Tokens, alice: User
) -> None:
    mailbox = xoauth2_mailbox(alice, tokens.rep, health=Health.UNKNOWN)
    result = check_mailbox(mailbox)
    assert result.ok, result.errors
    assert (result.smtp_ok, result.imap_ok, result.sent_folder_ok) == (True, True, True)
    assert (mailbox.health, mailbox.last_error) == (Health.OK, "")
    assert mailbox.last_checked_at is not None


def test_a_valid_token_logs_in_over_implicit_tls(
    mailstack: MailStack, tokens: Tokens, alice: User
) -> None:
    mailbox = xoauth2_mailbox(
        alice, tokens.rep, health=Health.UNKNOWN, **implicit_tls_ports(mailstack)
    )
    result = check_mailbox(mailbox)
    assert result.ok, result.errors
    assert mailbox.health == Health.OK


def test_the_connections_are_authenticated_as_the_tokens_user(
    mailstack: MailStack, tokens: Tokens
) -> None:
    mailbox = xoauth2_mailbox(make_user("bob"), tokens.rep2, email="rep2@example.test")
    smtp = open_smtp(mailbox, timeout=10)
    try:
        assert "XOAUTH2" in smtp.esmtp_features["auth"].split()
        assert smtp.noop()[0] == 250
    finally:
        smtp.quit()
    imap = open_imap(mailbox, timeout=10)
    try:
        assert imap.state == "AUTH"
        status, data = imap.namespace()
        assert status == "OK", data
        assert imap.select('"Sent"', readonly=True)[0] == "OK"
    finally:
        imap.logout()


def test_a_revoked_token_is_refused_fast_and_the_mailbox_is_failing(
    mailstack: MailStack, tokens: Tokens, alice: User
) -> None:
    token = tokens.mint(REP)
    mailbox = xoauth2_mailbox(alice, token)
    assert check_mailbox(mailbox).ok

    tokens.revoke(token)
    started = time.monotonic()
    result = check_mailbox(mailbox)
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"a refused token took {elapsed:.1f} s"
    assert not result.ok
    assert (result.smtp_ok, result.imap_ok) == (False, False)
    assert mailbox.health == Health.FAILING
    smtp_error, imap_error = result.errors
    assert smtp_error.startswith(
        f"SMTP 127.0.0.1:{mailstack.smtp_port}: login refused (OAuth2 access token"
    )
    assert "535" in smtp_error
    assert imap_error.startswith(
        f"IMAP 127.0.0.1:{mailstack.imap_port}: login refused (OAuth2 access token"
    )
    assert "AUTHENTICATIONFAILED" in imap_error
    assert "login refused" in mailbox.last_error


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("never-issued-token", id="unknown token"),
        pytest.param("rep2", id="another user's token"),
        pytest.param("secret", id="the password as a token"),
    ],
)
def test_a_token_that_is_not_rep_s_is_refused(
    mailstack: MailStack, tokens: Tokens, alice: User, secret: str
) -> None:
    token = tokens.rep2 if secret == "rep2" else secret
    mailbox = xoauth2_mailbox(alice, token, **implicit_tls_ports(mailstack))
    started = time.monotonic()
    result = check_mailbox(mailbox)
    assert time.monotonic() - started < 5
    assert not result.ok and not result.smtp_ok and not result.imap_ok
    assert mailbox.health == Health.FAILING
    assert all("login refused" in error for error in result.errors), result.errors


def test_the_server_reports_a_refused_token_with_a_challenge_answered_empty(
    mailstack: MailStack,
) -> None:
    """The XOAUTH2 error dialogue: 334 <base64 JSON>, an empty answer, then 535."""
    seen: list[bytes | None] = []
    client = _XOAuth2(REP, "never-issued-token")

    def respond(challenge: bytes | None = None) -> str:
        seen.append(challenge)
        return client.smtp(challenge)

    with smtplib.SMTP("127.0.0.1", mailstack.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=mailstack.tls())
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.auth("XOAUTH2", respond)
    assert refused.value.smtp_code == 535
    initial, error = seen
    assert initial is None
    assert error is not None
    assert json.loads(error)["status"] == "401"


def test_passwords_still_work_next_to_xoauth2(mailstack: MailStack, alice: User) -> None:
    mailbox = make_mailbox(alice, REP, health=Health.UNKNOWN)
    assert mailbox.auth_method == AuthMethod.PASSWORD
    assert check_mailbox(mailbox).ok
    assert mailbox.health == Health.OK

    mailbox.set_secret("wrong-password")
    mailbox.save()
    result = check_mailbox(mailbox)
    assert not result.ok
    assert all("login refused (wrong username or password)" in e for e in result.errors)


def smtp_session_of(stack: MailStack, message_id: str, timeout: float = 3) -> str:
    """Postfix's log line for the SMTP client that submitted MESSAGE_ID (SASL method, user)."""
    log = stack.base / "postfix.log"
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        queued = re.search(r" ([0-9A-F]+): message-id=" + re.escape(message_id), text)
        client = queued and re.search(rf" {queued.group(1)}: client=.*", text)
        if client:
            return client.group(0)
        assert time.monotonic() < deadline, f"no Postfix log of {message_id}"
        time.sleep(0.05)


def test_enrolling_through_an_xoauth2_mailbox_delivers_and_files_the_sent_copy(
    mailstack: MailStack, tokens: Tokens, alice: User
) -> None:
    mailbox = xoauth2_mailbox(alice, tokens.rep)
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    sequence = make_sequence(alice, name="Intro")

    started = time.monotonic()
    enrollment = enroll(contact=jane, sequence=sequence, user=alice)
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)
    assert time.monotonic() - started < 5

    run = enrollment.step_runs.get(position=1)
    assert run.state == StepRunState.SENT
    assert run.mailbox == mailbox
    assert received["Message-ID"] == run.message_id
    assert received["From"] == "Alice Martin <rep@example.test>"
    assert received["Subject"] == "Quick question, Jane"

    run_worker_until_idle()  # files the copy in rep's Sent folder over IMAP (XOAUTH2)
    [copy] = mailstack.wait_for_messages(REP, 1, folder="Sent")
    assert copy["Message-ID"] == run.message_id

    # The message came in over an SMTP session authenticated with XOAUTH2.
    session = smtp_session_of(mailstack, run.message_id)
    assert f"sasl_method=XOAUTH2, sasl_username={REP}" in session
    mailbox.refresh_from_db()
    assert mailbox.health == Health.OK


def test_a_revoked_token_holds_the_send_and_marks_the_mailbox_failing(
    mailstack: MailStack, tokens: Tokens, alice: User
) -> None:
    token = tokens.mint(REP)
    tokens.revoke(token)
    xoauth2_mailbox(alice, token)
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")

    enrollment = enroll(contact=jane, sequence=make_sequence(alice, name="Intro"), user=alice)
    run = enrollment.step_runs.get(position=1)
    assert run.state == StepRunState.SCHEDULED
    # The inbox is read before any send; a refused login holds the send.
    assert "could not be read" in run.last_error
    assert "AUTHENTICATIONFAILED" in run.last_error
    enrollment.mailbox.refresh_from_db()
    assert enrollment.mailbox.health == Health.FAILING
    assert mailstack.messages("jane@acme.test") == []
