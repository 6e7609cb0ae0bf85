"""Enrolling from the page sends the first email at once, through the real loopback SMTP server."""

from typing import Any

import pytest

from cadency.sequences.models import Enrollment, StepRunState
from tests.contacts.support import signed_in
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_smtp_connections() -> None:
    from cadency.outbound.smtp_send import pool

    pool.close_all()


def test_enrolling_now_sends_the_first_email_and_the_record_shows_it(mailstack: MailStack) -> None:
    rep = make_user("alice", first_name="Alice", last_name="Martin")
    mailbox = make_mailbox(rep, "rep@example.test")
    sequence = make_sequence(rep, name="Intro")
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    client = signed_in(rep)
    data: dict[str, Any] = {"sequence": sequence.pk, "start_step": 1, "mailbox": mailbox.pk}
    response = client.post(f"/contacts/{jane.pk}/enroll/", data)
    assert response.status_code == 302
    run = Enrollment.objects.get().step_runs.get(position=1)
    assert run.state == StepRunState.SENT
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)
    assert received["Subject"] == "Quick question, Jane"
    page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert "Step 1: sent." in page
    assert "“Quick question, Jane” to jane@acme.test" in page
    assert "Next: step 2 at" in page
