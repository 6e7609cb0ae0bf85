"""The demo, for real: seeded data, the worker's first emails, a button that mails the
rep's inbox through Postfix, and the watcher's decision."""

import pytest
from django.test import Client

from cadency.demo.seeding import DemoData, enroll_demo_contacts
from cadency.inbound.models import InboundMessage
from cadency.inbound.watcher import sync_inbox_now
from cadency.outbound.smtp_send import pool
from cadency.sequences.models import Enrollment
from tests.e2e.conftest import run_worker_until_idle
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_smtp_connections() -> None:
    pool.close_all()


@pytest.fixture
def started_demo(mailstack: MailStack, demo: DemoData, demo_mode: None) -> DemoData:
    """The demo after `cadency demo` enrolled everyone and the worker sent step 1."""
    enroll_demo_contacts(demo)
    run_worker_until_idle()
    return demo


def press(demo: DemoData, button: str, contact_id: int) -> None:
    client = Client()
    client.force_login(demo.rep)
    response = client.post(f"/demo/contacts/{contact_id}/{button}/")
    assert response.status_code == 302


def test_reply_as_this_contact_ends_the_enrollment_as_replied(
    mailstack: MailStack, started_demo: DemoData
) -> None:
    jane = Enrollment.objects.get(email="jane@acme.test", status="active")
    first_email = jane.messages.get()
    assert first_email.accepted_at is not None

    press(started_demo, "reply", jane.contact_id)
    [arrived] = mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(started_demo.mailbox)

    assert arrived["In-Reply-To"] == first_email.message_id
    jane.refresh_from_db()
    assert (jane.status, jane.reason) == ("unenrolled", "replied")
    assert jane.evidence["from"] == "jane@acme.test"
    assert jane.step_runs.get(position=2).state == "cancelled"
    others = Enrollment.objects.exclude(pk=jane.pk)
    assert set(others.values_list("status", flat=True)) == {"active"}


def test_an_out_of_office_as_this_contact_leaves_the_enrollment_running(
    mailstack: MailStack, started_demo: DemoData
) -> None:
    ana = Enrollment.objects.get(email="ana@globex.test", status="active")

    press(started_demo, "out-of-office", ana.contact_id)
    [arrived] = mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(started_demo.mailbox)

    assert arrived["Auto-Submitted"] == "auto-replied"
    assert arrived["Return-Path"] == "<>"
    inbound = InboundMessage.objects.get()
    assert inbound.label == "auto_reply"
    ana.refresh_from_db()
    assert ana.status == "active"
    assert ana.step_runs.get(position=2).state == "scheduled"
