"""Who answered, end to end (the rest of SPEC §3 and §8 "Identity resolution"): a
free-mail colleague never counts as the company, a colleague answering with the
contact in Cc, the contact forwarding our email. Real mail through Postfix and
Dovecot, read by the watcher's sync."""

import datetime as dt
import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from cadency.inbound.watcher import sync_inbox_now
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.e2e.test_watcher import reply_to, send_as, sent_message_id
from tests.factories import ALWAYS_OPEN, make_contact, make_sequence
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


def fresh(enrollment: Enrollment) -> Enrollment:
    return Enrollment.objects.get(pk=enrollment.pk)


def send_from_outside(stack: MailStack, message: EmailMessage) -> None:
    """Mail from another provider's user, handed to Postfix without a login (it
    accepts loopback clients), as the receiving MX does."""
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as client:
        client.send_message(message)


@pytest.mark.parametrize(
    ("domain", "colleague_after"),
    [
        ("gmail.com", ("active", "")),  # free mail: two Gmail users are not one company
        ("acme.test", ("unenrolled", "company_replied")),  # the same setup, a company domain
    ],
)
def test_a_free_mail_colleague_emailing_never_ends_the_other_enrollment(
    mailstack: MailStack, rep: Any, domain: str, colleague_after: tuple[str, str]
) -> None:
    accounts = make_sequence(rep, name="Accounts", unenroll_same_company=True, **ALWAYS_OPEN)
    later = timezone.now() + dt.timedelta(days=1)  # nothing is sent: no bounce from Gmail

    def enrolled(address: str, first_name: str) -> Enrollment:
        contact = make_contact(address, first_name=first_name, last_name="Roe")
        return enroll(contact=contact, sequence=accounts, user=rep, start_at=later)

    jane = enrolled(f"jane.roe@{domain}", "Jane")
    john = enrolled(f"john.roe@{domain}", "John")
    note = EmailMessage()
    note["From"] = f"John Roe <john.roe@{domain}>"
    note["To"] = "Alice Martin <rep@example.test>"
    note["Subject"] = "Your call yesterday"
    note["Message-ID"] = f"<note.1@mail.{domain}>"
    note.set_content("Hi Alice,\n\nThanks for the call. Send me the figures?\n\nJohn\n")
    send_from_outside(mailstack, note)
    mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(rep.mailboxes.get())

    assert (fresh(john).status, fresh(john).reason) == ("unenrolled", "emailed")
    assert (fresh(jane).status, fresh(jane).reason) == colleague_after


def test_a_colleague_replying_with_the_contact_in_cc_ends_it_as_replied_other_address(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    answer = reply_to(
        sent_message_id(enrollment),
        sender="john@acme.test",
        Cc="Jane Doe <jane@acme.test>",
        body="Hi Alice, Jane asked me to follow up: can we talk on Tuesday?\n\nJohn\n",
    )
    answer.replace_header("From", "John Smith <john@acme.test>")
    send_as(mailstack, "john@acme.test", answer)
    mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(rep.mailboxes.get())

    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "replied_other_address")
    assert enrollment.evidence["contact_copied"] == "cc"
    assert enrollment.evidence["from"] == "john@acme.test"
    assert "with Jane Doe in Cc" in enrollment.reason_text


def test_the_contact_forwarding_our_email_as_an_attachment_ends_it_as_replied(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    (ours,) = mailstack.messages("jane@acme.test")  # as Jane's client received it
    forward = EmailMessage()
    forward["From"] = "Jane Doe <jane@acme.test>"
    forward["To"] = "John Smith <john@acme.test>"
    forward["Cc"] = "Alice Martin <rep@example.test>"
    forward["Subject"] = f"Fwd: {ours['Subject']}"
    forward["Message-ID"] = "<forward.1@acme.test>"
    forward.set_content("John, can you take this one? I'm copying Alice.\n\nJane\n")
    forward.add_attachment(ours)
    send_as(mailstack, "jane@acme.test", forward)
    mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(rep.mailboxes.get())

    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "replied")
    assert enrollment.evidence["thread"] == "forwarded"
