"""Building the email a step sends: headers, alternatives, threading, unsubscribe."""

import html
import random
import sys
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
MAX_LINE = 998
WIRE_POLICY = policy.compat32.clone(linesep="\r\n", max_line_length=MAX_LINE)
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


HeaderValue = str | Header


def build_message(email: OutgoingEmail) -> Message:
    return assemble(*contents(email))


def contents(email: OutgoingEmail) -> tuple[list[tuple[str, HeaderValue]], str, str]:
    """The top-level headers, the plain text and the HTML of the message."""
    link = unsubscribe_url(enrollment_id=email.enrollment_id, email=email.to_email)
    mailto = f"mailto:{email.mailbox.email}?subject=unsubscribe"
    text = f"{email.body.rstrip()}\n\n--\nTo stop these emails: {link}\n"
    footer = (
        f'<p style="color:#666;font-size:12px"><a href="{html.escape(link)}">Unsubscribe</a></p>'
    )
    content = text_to_html(email.body) if email.html_body is None else email.html_body
    markup = f"<html><body>{content}{footer}</body></html>"
    subject = reply_subject(email.thread.subject) if email.thread else email.subject
    headers: list[tuple[str, HeaderValue]] = [
        ("From", formataddr((email.sender_name, email.mailbox.email), charset="utf-8")),
        ("To", formataddr((email.to_name, email.to_email), charset="utf-8")),
        ("Subject", subject if subject.isascii() else Header(subject, "utf-8")),
        ("Date", format_datetime(timezone.now())),
        ("Message-ID", email.message_id),
    ]
    if email.thread and email.thread.message_ids:
        headers.append(("In-Reply-To", email.thread.message_ids[-1]))
        headers.append(("References", " ".join(email.thread.message_ids)))
    headers.append(("List-Unsubscribe", f"<{link}>, <{mailto}>"))
    headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return headers, text, markup


def assemble(headers: list[tuple[str, HeaderValue]], text: str, markup: str) -> Message:
    message = MIMEMultipart("alternative", policy=BUILD_POLICY)
    for name, value in headers:
        # Message accepts a Header object, typeshed declares str only.
        message[name] = value  # type: ignore[assignment]
    message.attach(text_part(text, "plain"))
    message.attach(text_part(markup, "html"))
    return message


def text_part(content: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, policy=BUILD_POLICY)
    part.set_payload(content, QUOTED_PRINTABLE_UTF8)
    return part


def message_bytes(email: OutgoingEmail) -> bytes:
    """The message exactly as it goes on the wire (CRLF line ends).

    When every header is a short ASCII line (the usual case), the bytes are
    written here, the very bytes ``email.generator`` writes for ``assemble``'s
    message at a fraction of its cost; other headers need its folding and encoding.
    """
    headers, text, markup = contents(email)
    if not all(is_plain(name, value) for name, value in headers):
        return assemble(headers, text, markup).as_bytes(policy=WIRE_POLICY)
    parts = [wire_part(text, "plain"), wire_part(markup, "html")]
    boundary = new_boundary("".join(parts))
    lines = [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        *(f"{name}: {value}" for name, value in headers),
        "",
        f"--{boundary}",
        parts[0],
        f"--{boundary}",
        parts[1],
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def is_plain(name: str, value: HeaderValue) -> bool:
    """A header the generator writes as it is: printable ASCII, short enough not to fold."""
    return (
        isinstance(value, str)
        and value.isascii()
        and value.isprintable()
        and len(name) + 2 + len(value) <= MAX_LINE
    )


def wire_part(content: str, subtype: str) -> str:
    """One alternative, as ``text_part`` makes it and the generator writes it."""
    body = QUOTED_PRINTABLE_UTF8.body_encode(content).replace("\n", "\r\n")
    return (
        "MIME-Version: 1.0\r\n"
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        f"\r\n{body}"
    )


def new_boundary(text: str) -> str:
    """Like the generator's: random, and absent from the parts it separates."""
    while True:
        boundary = f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="
        if boundary not in text:
            return boundary
