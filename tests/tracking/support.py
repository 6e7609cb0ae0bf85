"""Builders for the tracking tests: a step email fixed for sending with tracking on or off,
and the parts of the message as the contact receives it."""

import datetime as dt
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from django.test import Client
from django.utils import timezone

from cadency.accounts.models import User
from cadency.outbound.models import SentMessage
from cadency.sequences.models import Enrollment, Sequence, StepRun, StepRunState
from cadency.sequences.services.claiming import claim
from cadency.sequences.services.enrollment import enroll
from tests.factories import ALWAYS_OPEN, make_contact, make_sequence

BODY = (
    "Hi {{ contact.first_name }},\n\n"
    "Our pricing is at https://www.example.com/pricing?plan=team&seats=5.\n"
    "The case study (https://docs.example.com/cases/acme_(2024)) shows more.\n"
    "Write to sales@example.com or mailto:sales@example.com, no tracking there.\n\n"
    "A <b>call</b>? https://cal.example.org/book"
)
ORIGINAL_URLS = [
    "https://www.example.com/pricing?plan=team&seats=5",
    "https://docs.example.com/cases/acme_(2024)",
    "https://cal.example.org/book",
]
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
CLICK_URL = re.compile(r"http://testserver(/t/c/[^/\s]+/)")
OPEN_URL = re.compile(r'src="http://testserver(/t/o/[^"]+\.gif)"')


def tracked_sequence(
    owner: User, *, clicks: bool = True, opens: bool = True, body: str = BODY
) -> Sequence:
    return make_sequence(
        owner,
        steps=[{"type": "automated_email", "subject": "Pricing", "body": body}],
        **{**ALWAYS_OPEN, "track_clicks": clicks, "track_opens": opens},
    )


def sent_run(
    owner: User, sequence: Sequence, email: str = "jane@acme.test", seconds_ago: int = 600
) -> StepRun:
    """Enroll a contact, fix the first email as a worker would, and mark it delivered
    ``seconds_ago`` (nothing goes through SMTP here)."""
    contact = make_contact(email, first_name="Jane", last_name="Doe")
    enrollment = enroll(contact=contact, sequence=sequence, user=owner, run_first_step=False)
    run = enrollment.step_runs.get(position=1)
    claim(run.pk)
    StepRun.objects.filter(pk=run.pk).update(
        state=StepRunState.SENT, executed_at=timezone.now() - dt.timedelta(seconds=seconds_ago)
    )
    run.refresh_from_db()
    return run


def received(run: StepRun) -> EmailMessage:
    raw = bytes(SentMessage.objects.get(step_run=run).raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(run: StepRun) -> tuple[str, str]:
    """The text and HTML parts of the email the run sent."""
    message = received(run)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def click_paths(run: StepRun) -> list[str]:
    return [str(path) for path in CLICK_URL.findall(parts(run)[0])]


def open_path(run: StepRun) -> str:
    [path] = OPEN_URL.findall(parts(run)[1])
    return str(path)


def click(path: str, method: str = "get", **headers: Any) -> Any:
    headers = {"User-Agent": CHROME, **headers}
    return getattr(Client(headers=headers), method)(path)


def enrollment_of(run: StepRun) -> Enrollment:
    return Enrollment.objects.get(pk=run.enrollment_id)
