from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from cadency.demo.seeding import DemoData, MailServers, seed_demo
from cadency.outbound.compose import OutgoingEmail, message_bytes, new_message_id
from cadency.outbound.models import SentMessage
from cadency.sequences.models import Enrollment
from tests.mailstack import mailstack_or_none


@pytest.fixture
def demo_mode(settings: SettingsWrapper) -> None:
    settings.CADENCY_DEMO = True


@pytest.fixture
def servers() -> MailServers:
    stack = mailstack_or_none()
    if stack is None:
        return MailServers(smtp_port=2525, imap_port=1143, password="secret")
    return MailServers(
        smtp_port=stack.smtp_port, imap_port=stack.imap_port, password=stack.password
    )


@pytest.fixture
def demo(servers: MailServers, db: Any) -> DemoData:
    return seed_demo(servers)


def pretend_sent(enrollment: Enrollment, subject: str = "Quick question about Acme") -> SentMessage:
    """Record a first sequence email as if SMTP had accepted it (no mail server needed)."""
    mailbox = enrollment.mailbox
    message_id = new_message_id(mailbox)
    raw = message_bytes(
        OutgoingEmail(
            mailbox=mailbox,
            sender_name=mailbox.display_name,
            to_name=enrollment.contact.full_name,
            to_email=enrollment.email,
            subject=subject,
            body="Hi Jane,\n\nWould a 15-minute call next week help?\n\nAlice",
            message_id=message_id,
            enrollment_id=enrollment.pk,
        )
    )
    return SentMessage.objects.create(
        step_run=enrollment.step_runs.get(position=1),
        enrollment=enrollment,
        message_id=message_id,
        to_email=enrollment.email,
        subject=subject,
        raw=raw,
        accepted_at=timezone.now(),
    )
