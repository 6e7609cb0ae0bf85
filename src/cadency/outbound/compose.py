"""Building the email a step sends: headers, alternatives, threading, unsubscribe."""

import html
from dataclasses import dataclass, field
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, make_msgid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cadency.mailboxes.models import Mailbox
from cadency.outbound.unsubscribe_tokens import make_token

# Messages are assembled with the lean compat32 classes (a burst of sends renders
# thousands of them) and written with CRLF. Headers stay unfolded up to RFC 5322's
# 998 characters: folding a long URL would break List-Unsubscribe. Non-ASCII
# names and subjects become RFC 2047 encoded-words; bodies are quoted-printable
# UTF-8, so no line ever exceeds SMTP's limit.
BUILD_POLICY = policy.compat32
WIRE_POLICY = policy.compat32.clone(linesep="\r\n", max_line_length=998)
QUOTED_PRINTABLE_UTF8 = Charset("utf-8")
QUOTED_PRINTABLE_UTF8.body_encoding = QP


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
    # The HTML part's content; None: the body, escaped (tracking sets it: links, open image).
    html_body: str | None = None


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


def build_message(email: OutgoingEmail) -> Message:
    link = unsubscribe_url(enrollment_id=email.enrollment_id, email=email.to_email)
    mailto = f"mailto:{email.mailbox.email}?subject=unsubscribe"
    text = f"{email.body.rstrip()}\n\n--\nTo stop these emails: {link}\n"
    footer = (
        f'<p style="color:#666;font-size:12px"><a href="{html.escape(link)}">Unsubscribe</a></p>'
    )
    content = text_to_html(email.body) if email.html_body is None else email.html_body
    markup = f"<html><body>{content}{footer}</body></html>"

    message = MIMEMultipart("alternative", policy=BUILD_POLICY)
    message["From"] = formataddr((email.sender_name, email.mailbox.email), charset="utf-8")
    message["To"] = formataddr((email.to_name, email.to_email), charset="utf-8")
    subject = reply_subject(email.thread.subject) if email.thread else email.subject
    # Message accepts a Header object, typeshed declares str only.
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = email.message_id
    if email.thread and email.thread.message_ids:
        message["In-Reply-To"] = email.thread.message_ids[-1]
        message["References"] = " ".join(email.thread.message_ids)
    message["List-Unsubscribe"] = f"<{link}>, <{mailto}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(text_part(text, "plain"))
    message.attach(text_part(markup, "html"))
    return message


def text_part(content: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, policy=BUILD_POLICY)
    part.set_payload(content, QUOTED_PRINTABLE_UTF8)
    return part


def message_bytes(email: OutgoingEmail) -> bytes:
    """The message exactly as it goes on the wire (CRLF line ends)."""
    return build_message(email).as_bytes(policy=WIRE_POLICY)
