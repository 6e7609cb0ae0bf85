"""Connecting and checking mailboxes."""

import imaplib
import smtplib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.ledger.services import record_event
from cadency.mailboxes.connections import (
    ImapLoginRefused,
    encode_imap_folder,
    open_imap,
    open_smtp,
)
from cadency.mailboxes.health import Side, record_mailbox_failure, record_mailbox_working
from cadency.mailboxes.models import AuthMethod, Health, Mailbox, Security, SentCopy
from cadency.sequences.services.scheduling import resolve_zone


class MailboxError(ValueError):
    pass


@dataclass(frozen=True)
class MailboxCheck:
    smtp_ok: bool
    imap_ok: bool
    sent_folder_ok: bool
    errors: list[str]
    smtp_error: str = ""
    imap_error: str = ""

    @property
    def ok(self) -> bool:
        return self.smtp_ok and self.imap_ok and self.sent_folder_ok


class MailboxCheckFailed(MailboxError):
    def __init__(self, check: MailboxCheck) -> None:
        super().__init__("the connection test failed: " + "; ".join(check.errors))
        self.check = check


def add_mailbox(
    *,
    user: User,
    email: str,
    secret: str,
    smtp_host: str,
    imap_host: str,
    username: str = "",
    display_name: str = "",
    auth_method: AuthMethod = AuthMethod.PASSWORD,
    smtp_port: int = 587,
    smtp_security: Security = Security.STARTTLS,
    imap_port: int = 993,
    imap_security: Security = Security.TLS,
    sent_folder: str = "Sent",
    sent_copy: SentCopy = SentCopy.APPEND,
    daily_limit: int = 500,
    per_minute_limit: int = 20,
    time_zone: str = "UTC",
    check: bool = False,
) -> Mailbox:
    """Save a mailbox. With ``check``, log in first and save nothing if that fails."""
    try:
        address = normalize_email(email)
    except InvalidAddress as exc:
        raise MailboxError(str(exc)) from exc
    if time_zone and resolve_zone(time_zone).key != time_zone:
        raise MailboxError(f"unknown time zone {time_zone!r}")
    if daily_limit < 1 or per_minute_limit < 1:
        raise MailboxError("send limits must be at least 1")
    if Mailbox.objects.filter(user=user, email=address).exists():
        raise MailboxError(f"{user.display_name} already has the mailbox {address}")
    mailbox = Mailbox(
        user=user,
        email=address,
        display_name=display_name,
        username=username or address,
        auth_method=auth_method,
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        smtp_security=smtp_security,
        imap_host=imap_host,
        imap_port=imap_port,
        imap_security=imap_security,
        sent_folder=sent_folder,
        sent_copy=sent_copy,
        daily_limit=daily_limit,
        per_minute_limit=per_minute_limit,
        time_zone=time_zone,
    )
    mailbox.set_secret(secret)
    if check:
        # Tested before any write, so no database lock is held during the network calls.
        result = test_connection(mailbox)
        if not result.ok:
            raise MailboxCheckFailed(result)
        mailbox.health = Health.OK
        mailbox.last_checked_at = timezone.now()
    with transaction.atomic():
        mailbox.save()
        record_event(
            kind="mailbox_connected",
            actor=user,
            sentence=f"{user.display_name} connected the mailbox {address}.",
            data={"mailbox": mailbox.pk},
        )
    return mailbox


def _credential_kind(mailbox: Mailbox) -> str:
    if mailbox.auth_method == AuthMethod.XOAUTH2:
        return "OAuth2 access token invalid, expired or revoked"
    return "wrong username or password"


def check_mailbox(mailbox: Mailbox, *, via: str = "connection test") -> MailboxCheck:
    """Test the connection and record the mailbox's health: a side that logged in
    counts as working (what Cadency paused for it may resume), one that did not
    counts as a failure (``mailboxes.health``)."""
    result = test_connection(mailbox)
    record_check(mailbox, result, via=via)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        health=Health.OK if result.ok else Health.FAILING,
        last_error="; ".join(result.errors),
        last_checked_at=timezone.now(),
    )
    mailbox.refresh_from_db()
    return result


def record_check(mailbox: Mailbox, result: MailboxCheck, *, via: str) -> None:
    working = [
        side for side, ok in ((Side.SMTP, result.smtp_ok), (Side.IMAP, result.imap_ok)) if ok
    ]
    if working:
        record_mailbox_working(mailbox, working, via=via)
    if not result.smtp_ok:
        record_mailbox_failure(mailbox, Side.SMTP, result.smtp_error)
    if not result.imap_ok:
        record_mailbox_failure(mailbox, Side.IMAP, result.imap_error)


def update_mailbox_secret(*, mailbox: Mailbox, actor: User, secret: str) -> MailboxCheck:
    """New credentials (a changed password, a fresh OAuth2 token): tested first and
    saved only if SMTP and IMAP accept them (MailboxCheckFailed otherwise, and
    nothing changes). Then what Cadency paused for the mailbox resumes."""
    if not secret:
        raise MailboxError("enter the new password or access token")
    trial = Mailbox.objects.get(pk=mailbox.pk)
    trial.set_secret(secret)
    result = test_connection(trial)
    if not (result.smtp_ok and result.imap_ok):
        raise MailboxCheckFailed(result)
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(secret_encrypted=trial.secret_encrypted)
        record_event(
            kind="mailbox_credentials_changed",
            actor=actor,
            sentence=f"{actor.display_name} entered new credentials for the mailbox "
            f"{mailbox.email}; SMTP and IMAP accepted them.",
            data={"mailbox": mailbox.pk},
        )
    mailbox.refresh_from_db()
    record_check(mailbox, result, via="new credentials")
    Mailbox.objects.filter(pk=mailbox.pk).update(
        health=Health.OK if result.ok else Health.FAILING,
        last_error="; ".join(result.errors),
        last_checked_at=timezone.now(),
    )
    mailbox.refresh_from_db()
    return result


def test_connection(mailbox: Mailbox) -> MailboxCheck:
    """Log in to SMTP and IMAP and open the Sent folder. Touches no database row."""
    errors: list[str] = []
    smtp_ok = imap_ok = sent_ok = False
    try:
        open_smtp(mailbox, timeout=15).quit()
        smtp_ok = True
    except smtplib.SMTPAuthenticationError as exc:
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        errors.append(
            f"SMTP {mailbox.smtp_host}:{mailbox.smtp_port}: login refused "
            f"({_credential_kind(mailbox)}): {exc.smtp_code} {reply}"
        )
    except (OSError, smtplib.SMTPException) as exc:
        errors.append(f"SMTP {mailbox.smtp_host}:{mailbox.smtp_port}: {exc}")
    smtp_error = "" if smtp_ok else errors[-1]
    try:
        client = open_imap(mailbox, timeout=15)
        imap_ok = True
        try:
            status, _ = client.select(encode_imap_folder(mailbox.sent_folder), readonly=True)
            sent_ok = status == "OK" or mailbox.sent_copy == SentCopy.NONE
            if not sent_ok:
                errors.append(f"IMAP: there is no folder named {mailbox.sent_folder!r}")
        finally:
            client.logout()
    except ImapLoginRefused as exc:
        errors.append(
            f"IMAP {mailbox.imap_host}:{mailbox.imap_port}: login refused "
            f"({_credential_kind(mailbox)}): {exc}"
        )
    except (OSError, imaplib.IMAP4.error) as exc:
        errors.append(f"IMAP {mailbox.imap_host}:{mailbox.imap_port}: {exc}")
    imap_error = "" if imap_ok else errors[-1]
    return MailboxCheck(smtp_ok, imap_ok, sent_ok, errors, smtp_error, imap_error)


LIMIT_FIELDS = {
    "daily_limit": "Daily send limit",
    "per_minute_limit": "Per-minute send limit",
    "time_zone": "Time zone",
}


def update_mailbox_limits(
    *, mailbox: Mailbox, actor: User, daily_limit: int, per_minute_limit: int, time_zone: str
) -> list[str]:
    """Change a mailbox's send limits and time zone; returns the changes, as sentences."""
    if daily_limit < 1 or per_minute_limit < 1:
        raise MailboxError("send limits must be at least 1")
    if resolve_zone(time_zone).key != time_zone:
        raise MailboxError(f"unknown time zone {time_zone!r}")
    after = {
        "daily_limit": daily_limit,
        "per_minute_limit": per_minute_limit,
        "time_zone": time_zone,
    }
    before = {name: getattr(mailbox, name) for name in LIMIT_FIELDS}
    changes = [
        f"{label} {before[name]} → {after[name]}"
        for name, label in LIMIT_FIELDS.items()
        if before[name] != after[name]
    ]
    if not changes:
        return []
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(**after)
        record_event(
            kind="mailbox_limits_changed",
            actor=actor,
            sentence=f"{actor.display_name} changed the mailbox {mailbox.email}: "
            f"{'; '.join(changes)}.",
            data={"mailbox": mailbox.pk, "before": before, "after": after},
        )
    mailbox.refresh_from_db()
    return changes
