"""What the demo buttons send: a contact's reply or out-of-office, by real SMTP.

The message answers the latest sequence email Cadency sent to the contact
(In-Reply-To and References), comes from the address it was sent to and goes to
the mailbox that sent it, so the watcher reads it like any other mail.
"""

import datetime as dt
import smtplib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from cadency.contacts.models import Contact
from cadency.mailboxes.connections import tls_context
from cadency.mailboxes.models import Mailbox, Security
from cadency.outbound.compose import reply_subject
from cadency.outbound.models import SentMessage

# Demo mail is only ever handed to a mail server on this machine.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
OUT_OF_OFFICE_DAYS = 7


class Answer(StrEnum):
    REPLY = "reply"
    OUT_OF_OFFICE = "out_of_office"


class DemoMailError(Exception):
    """Nothing was sent; the message says why."""


def send_as_contact(contact: Contact, answer: Answer) -> SentMessage:
    """Send the contact's answer to the latest sequence email; returns that email."""
    original = latest_sequence_email(contact)
    mailbox = original.enrollment.mailbox
    if answer == Answer.REPLY:
        message = reply_message(contact, original)
        envelope_from = original.to_email
    else:
        message = out_of_office_message(contact, original)
        envelope_from = ""  # RFC 3834: automatic replies go out with a null return path
    deliver(mailbox, message, envelope_from=envelope_from)
    return original


def latest_sequence_email(contact: Contact) -> SentMessage:
    sent = (
        SentMessage.objects.filter(enrollment__contact=contact, accepted_at__isnull=False)
        .select_related("enrollment__mailbox", "enrollment__enrolled_by")
        .order_by("-accepted_at", "-pk")
        .first()
    )
    if sent is None:
        raise DemoMailError(
            f"Cadency has not emailed {contact.email} yet: once the worker has sent "
            "the first step (a few seconds after enrolling), try again."
        )
    return sent


def reply_message(contact: Contact, original: SentMessage) -> EmailMessage:
    rep = original.enrollment.enrolled_by
    first_name = contact.first_name or contact.email.partition("@")[0]
    body = (
        f"Hi {rep.first_name or rep.get_username()},\n\n"
        "Thanks for reaching out. Yes, a short call would help: "
        "does Tuesday at 10:00 work for you?\n\n"
        f"Best,\n{first_name}\n\n{quoted(original)}"
    )
    message = answer_headers(contact, original, reply_subject(original.subject))
    message.set_content(body)
    return message


def out_of_office_message(contact: Contact, original: SentMessage) -> EmailMessage:
    back_on = timezone.localdate() + dt.timedelta(days=OUT_OF_OFFICE_DAYS)
    body = (
        "Thank you for your email. I am out of the office until "
        f"{back_on:%A %d %B %Y} with limited access to email, and I will answer "
        "when I am back.\n\n"
        f"{contact.full_name or contact.email}\n"
    )
    message = answer_headers(contact, original, f"Automatic reply: {original.subject}")
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    return message


def answer_headers(contact: Contact, original: SentMessage, subject: str) -> EmailMessage:
    headers = BytesParser(policy=policy.default).parsebytes(bytes(original.raw), headersonly=True)
    references = [*str(headers.get("References", "")).split(), original.message_id]
    mailbox = original.enrollment.mailbox
    message = EmailMessage()
    message["From"] = formataddr((contact.full_name, original.to_email))
    message["To"] = formataddr((mailbox.display_name, mailbox.email))
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=original.to_email.rpartition("@")[2])
    message["In-Reply-To"] = original.message_id
    message["References"] = " ".join(references)
    return message


def quoted(original: SentMessage) -> str:
    """The original's text, quoted the way mail clients do under a reply."""
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(original.raw))
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("plain",))
    text = part.get_content() if isinstance(part, EmailMessage) else ""
    when = format_datetime(original.accepted_at or original.created_at)
    lines = "\n".join(f"> {line}".rstrip() for line in text.rstrip().splitlines())
    return f"On {when}, {parsed['From']} wrote:\n{lines}\n"


def deliver(mailbox: Mailbox, message: EmailMessage, *, envelope_from: str) -> None:
    host, port = mailbox.smtp_host, mailbox.smtp_port
    if host not in LOOPBACK_HOSTS:
        raise DemoMailError(
            f"demo mail only goes to a mail server on this machine; {mailbox.email} "
            f"sends through {host}"
        )
    timeout = settings.CADENCY_SMTP_TIMEOUT_SECONDS
    try:
        client = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context())
            if mailbox.smtp_security == Security.TLS
            else smtplib.SMTP(host, port, timeout=timeout)
        )
        with client:
            if mailbox.smtp_security == Security.STARTTLS:
                client.starttls(context=tls_context())
            client.send_message(message, from_addr=envelope_from, to_addrs=[mailbox.email])
    except (OSError, smtplib.SMTPException) as exc:
        raise DemoMailError(
            f"the mail server {host}:{port} did not take the message: {exc}"
        ) from exc
