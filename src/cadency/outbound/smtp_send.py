"""Handing a message to the mailbox's SMTP server and reading what it answered."""

import re
import smtplib
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from cadency.mailboxes.connections import open_smtp
from cadency.mailboxes.models import Mailbox

ENHANCED_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


class SendStatus(StrEnum):
    ACCEPTED = "accepted"
    # The recipient's address does not exist: the contact cannot be reached.
    RECIPIENT_REJECTED = "recipient_rejected"
    # The server refused the sender (policy, reputation): the rep's problem.
    POLICY_BLOCKED = "policy_blocked"
    # Try again later: 4xx, mailbox full, connection or login failure.
    TEMPORARY = "temporary"


@dataclass(frozen=True)
class SendOutcome:
    status: SendStatus
    code: int | None = None
    detail: str = ""
    enhanced_status: str = ""
    mailbox_fault: bool = False  # connection or authentication: the mailbox is unhealthy


def enhanced_status_of(text: str) -> str:
    match = ENHANCED_STATUS.search(text)
    return ".".join(match.groups()) if match else ""


def classify_refusal(code: int, text: str) -> SendOutcome:
    enhanced = enhanced_status_of(text)
    detail = f"{code} {text}".strip()
    if code < 500 or enhanced.startswith(("4.", "5.2.2")):
        return SendOutcome(SendStatus.TEMPORARY, code, detail, enhanced)
    if enhanced.startswith("5.7."):
        return SendOutcome(SendStatus.POLICY_BLOCKED, code, detail, enhanced)
    return SendOutcome(SendStatus.RECIPIENT_REJECTED, code, detail, enhanced)


def _decode(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class SmtpPool:
    """Keeps one authenticated connection per mailbox in a worker process.

    Re-authenticating for every message would cost more than the message
    itself; a connection is reused for a while, then closed. One that sat idle
    is checked with a NOOP first (servers drop idle sessions); one in steady use
    is not, which would add a round trip to every message of a burst.
    """

    def __init__(
        self,
        *,
        max_age_seconds: float = 60,
        max_messages: int = 200,
        check_after_idle_seconds: float = 2,
    ) -> None:
        self.max_age_seconds = max_age_seconds
        self.max_messages = max_messages
        self.check_after_idle_seconds = check_after_idle_seconds
        # One connection per mailbox and sending thread: client, opened, uses, last used.
        self._open: dict[tuple[int, int], tuple[smtplib.SMTP, float, int, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(mailbox: Mailbox) -> tuple[int, int]:
        return mailbox.pk, threading.get_ident()

    def take(self, mailbox: Mailbox) -> smtplib.SMTP:
        with self._lock:
            held = self._open.pop(self._key(mailbox), None)
        now = time.monotonic()
        if held is not None:
            client, opened, used, last_used = held
            fresh = now - opened < self.max_age_seconds and used < self.max_messages
            busy = now - last_used < self.check_after_idle_seconds
            if fresh and (busy or _alive(client)):
                with self._lock:
                    self._open[self._key(mailbox)] = (client, opened, used + 1, now)
                return client
            self._close(client)
        client = open_smtp(mailbox)
        with self._lock:
            self._open[self._key(mailbox)] = (client, time.monotonic(), 1, time.monotonic())
        return client

    def discard(self, mailbox: Mailbox) -> None:
        with self._lock:
            held = self._open.pop(self._key(mailbox), None)
        if held is not None:
            self._close(held[0])

    def close_all(self) -> None:
        with self._lock:
            held, self._open = list(self._open.values()), {}
        for client, *_ in held:
            self._close(client)

    @staticmethod
    def _close(client: smtplib.SMTP) -> None:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


pool = SmtpPool()


def send_message(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
    """Send the exact bytes to one recipient through the mailbox's SMTP server."""
    try:
        client = pool.take(mailbox)
    except smtplib.SMTPAuthenticationError as exc:
        return SendOutcome(
            SendStatus.TEMPORARY,
            exc.smtp_code,
            f"login refused: {_decode(exc.smtp_error)}",
            mailbox_fault=True,
        )
    except (OSError, smtplib.SMTPException) as exc:
        return SendOutcome(SendStatus.TEMPORARY, None, f"cannot connect: {exc}", mailbox_fault=True)
    try:
        client.sendmail(mailbox.email, [recipient], raw)
    except smtplib.SMTPRecipientsRefused as exc:
        _reset(mailbox, client)
        code, text = next(iter(exc.recipients.values()))
        return classify_refusal(code, _decode(text))
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        _reset(mailbox, client)
        outcome = classify_refusal(exc.smtp_code, _decode(exc.smtp_error))
        if outcome.status == SendStatus.RECIPIENT_REJECTED:
            # A refusal after RCPT is about the message or the sender, not the address.
            return SendOutcome(
                SendStatus.POLICY_BLOCKED,
                outcome.code,
                outcome.detail,
                outcome.enhanced_status,
            )
        return outcome
    except (OSError, smtplib.SMTPException) as exc:
        pool.discard(mailbox)
        return SendOutcome(
            SendStatus.TEMPORARY, None, f"connection lost: {exc}", mailbox_fault=True
        )
    return SendOutcome(SendStatus.ACCEPTED)


def _alive(client: smtplib.SMTP) -> bool:
    try:
        return client.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def _reset(mailbox: Mailbox, client: smtplib.SMTP) -> None:
    try:
        client.rset()
    except (OSError, smtplib.SMTPException):
        pool.discard(mailbox)
