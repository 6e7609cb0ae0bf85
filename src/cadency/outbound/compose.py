"""Building the email a step sends: headers, alternatives, threading, unsubscribe."""

import html
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cadency.mailboxes.models import Mailbox
from cadency.outbound.unsubscribe_tokens import make_token

# Headers are written unfolded up to RFC 5322's 998 characters: folding a long
# URL would turn List-Unsubscribe into an encoded-word no client can follow.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Thread:
    """The earlier messages a threaded follow-up answers."""

    subject: str
    message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutgoingEmail:
    mailbox: Mailbox
    sender_name: str
    to_name: str
    to_email: str
    subject: str
    body: str
    message_id: str
    enrollment_id: int
    thread: Thread | None = None


def new_message_id(mailbox: Mailbox) -> str:
    return make_msgid(idstring="cadency", domain=mailbox.domain)


def unsubscribe_url(*, enrollment_id: int, email: str) -> str:
    token = make_token(enrollment_id=enrollment_id, email=email)
    return settings.CADENCY_BASE_URL + reverse("unsubscribe", args=[token])


def reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def text_to_html(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def build_message(email: OutgoingEmail) -> EmailMessage:
    link = unsubscribe_url(enrollment_id=email.enrollment_id, email=email.to_email)
    mailto = f"mailto:{email.mailbox.email}?subject=unsubscribe"

    message = EmailMessage()
    message["From"] = Address(display_name=email.sender_name, addr_spec=email.mailbox.email)
    message["To"] = Address(display_name=email.to_name, addr_spec=email.to_email)
    message["Subject"] = reply_subject(email.thread.subject) if email.thread else email.subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = email.message_id
    if email.thread and email.thread.message_ids:
        message["In-Reply-To"] = email.thread.message_ids[-1]
        message["References"] = " ".join(email.thread.message_ids)
    message["List-Unsubscribe"] = f"<{link}>, <{mailto}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    text = f"{email.body.rstrip()}\n\n--\nTo stop these emails: {link}\n"
    footer = (
        f'<p style="color:#666;font-size:12px"><a href="{html.escape(link)}">Unsubscribe</a></p>'
    )
    message.set_content(text)
    message.add_alternative(f"<html><body>{text_to_html(email.body)}{footer}</body></html>", "html")
    return message


def message_bytes(email: OutgoingEmail) -> bytes:
    """The message exactly as it goes on the wire (CRLF line ends)."""
    return build_message(email).as_bytes(policy=WIRE_POLICY)
