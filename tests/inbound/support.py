"""Builders for the inbound tests: literal RFC 5322 messages, sent sequence
emails, stored inbound messages, and Classification objects built directly."""

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.inbound.classification import Classification, FailedRecipient, Flag, Label
from cadency.inbound.models import InboundMessage
from cadency.inbound.pipeline import process_classified, store_message
from cadency.mailboxes.models import Mailbox
from cadency.outbound.models import SentMessage
from cadency.sequences.models import Enrollment, Sequence, StepRun, StepRunState
from cadency.sequences.services.enrollment import enroll
from tests.factories import ALWAYS_OPEN, make_mailbox, make_sequence, make_user

_uid = itertools.count(1)
_mid = itertools.count(1)

DATE = "Sat, 28 Nov 2026 10:02:00 +0000"
WHEN = dt.datetime(2026, 11, 28, 10, 2, tzinfo=dt.UTC)


def rep(username: str = "alice") -> tuple[User, Mailbox]:
    user = make_user(username)
    return user, make_mailbox(user)


def sequence(owner: User, **settings: Any) -> Sequence:
    return make_sequence(owner, **{**ALWAYS_OPEN, **settings})


def enrolled(
    user: User,
    contact: Contact,
    seq: Sequence | None = None,
    *,
    sent_steps: int = 1,
    pause_on_out_of_office: bool = False,
) -> Enrollment:
    """An open enrollment whose first ``sent_steps`` emails went out (recorded
    as the send stage would: a sent run and its SentMessage)."""
    enrollment = enroll(
        contact=contact, sequence=seq or sequence(user), user=user, run_first_step=False
    )
    enrollment.started_at = WHEN - dt.timedelta(days=7)
    enrollment.send_settings = {
        **enrollment.send_settings,
        "pause_on_out_of_office": pause_on_out_of_office,
    }
    enrollment.save(update_fields=["started_at", "send_settings"])
    for position in range(1, sent_steps + 1):
        mark_sent(enrollment, position)
    return enrollment


def our_id(enrollment: Enrollment, position: int) -> str:
    return f"<cadency.{enrollment.pk}.{position}@example.test>"


def mark_sent(enrollment: Enrollment, position: int) -> SentMessage:
    steps = list(enrollment.sequence.current_steps())
    run = StepRun.objects.filter(enrollment=enrollment, position=position).first()
    if run is None:
        run = StepRun.objects.create(
            enrollment=enrollment,
            step=steps[position - 1],
            position=position,
            mailbox=enrollment.mailbox,
            due_at=WHEN - dt.timedelta(days=8 - position),
        )
    subject = "Quick question" if position == 1 else "Re: Quick question"
    run.state = StepRunState.SENT
    run.message_id = our_id(enrollment, position)
    run.subject = subject
    run.save()
    sent = SentMessage.objects.create(
        step_run=run,
        enrollment=enrollment,
        message_id=run.message_id,
        to_email=enrollment.email,
        subject=subject,
        raw=b"Subject: " + subject.encode() + b"\r\n\r\nHi\r\n",
        accepted_at=timezone.now(),
    )
    SentMessage.objects.filter(pk=sent.pk).update(created_at=WHEN - dt.timedelta(days=6))
    return sent


def rfc5322(
    *,
    sender: str = "Jane Doe <jane@acme.test>",
    to: str = "alice@example.test",
    subject: str = "Re: Quick question",
    body: str = "Thanks, happy to talk on Tuesday.\n",
    in_reply_to: str | None = None,
    references: str | None = None,
    message_id: str | None = None,
    date: str = DATE,
    headers: dict[str, str] | None = None,
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: {message_id or f'<inbound.{next(_mid)}@mail.acme.test>'}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def stored(mailbox: Mailbox, raw: bytes | None = None, **fields: Any) -> InboundMessage:
    message, created = store_message(
        mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=next(_uid), raw=raw or rfc5322(**fields)
    )
    assert created
    return message


def classified(
    label: Label = Label.HUMAN_REPLY,
    *,
    reasons: list[str] | None = None,
    failed: list[tuple[str, str]] | None = None,
    return_date: dt.date | None = None,
    flags: frozenset[Flag] = frozenset(),
    original_message_id: str | None = None,
) -> Classification:
    return Classification(
        label=label,
        confidence=0.95,
        reasons=reasons or [f"test: {label.value}"],
        failed_recipients=[
            FailedRecipient(address=a, status=s, action="failed") for a, s in failed or []
        ],
        return_date=return_date,
        flags=flags,
        original_message_id=original_message_id,
        classifier_version="test-1",
    )


def process(mailbox: Mailbox, classification: Classification, **fields: Any) -> InboundMessage:
    """Store a literal message and run identify → decide → act with a given classification."""
    message = stored(mailbox, **fields)
    return process_classified(message, classification, now=WHEN)


def reply_to(enrollment: Enrollment, position: int = 1, **fields: Any) -> dict[str, Any]:
    """Headers of a reply in the thread of step ``position``."""
    return {"in_reply_to": our_id(enrollment, position), **fields}
