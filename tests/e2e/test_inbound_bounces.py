"""A 5.7.x policy refusal does the same whether the server says it during the SMTP
session or later in a delivery report (DSN): the enrollment pauses until someone
resumes it, the rep is alerted, and the contact's address is never suppressed."""

import smtplib
from typing import Any

import pytest

from cadency.contacts.models import Suppression
from cadency.inbound.models import InboundMessage
from cadency.inbound.watcher import sync_inbox_now
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll, resume
from tests.e2e.test_watcher import sent_message_id
from tests.factories import make_contact
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


def policy_dsn(recipient: str, original_id: str) -> bytes:
    """A remote MTA's report (RFC 3464): it accepted the message, then its filter refused it."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>
To: rep@example.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.57@mx.acme.test>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b57"

--b57
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.acme.test.

Your message could not be delivered to one or more recipients.

<{recipient}>: 550 5.7.1 Message rejected as spam by content filter

--b57
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 550 5.7.1 Message rejected as spam by content filter

--b57
Content-Type: text/rfc822-headers

Message-ID: {original_id}
From: rep@example.test
To: {recipient}
Subject: Quick question, Jane

--b57--
""".replace("\n", "\r\n").encode()


def test_a_policy_refusal_in_a_dsn_pauses_and_alerts_like_one_at_smtp_time(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    at_smtp_time = enroll(
        contact=make_contact("policy@acme.test"), sequence=two_step_sequence, user=rep
    )
    later = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    assert later.status == "active", "accepted at SMTP time"
    dsn = policy_dsn("jane@acme.test", sent_message_id(later))
    with smtplib.SMTP("127.0.0.1", mailstack.smtp_port, timeout=10) as client:
        client.sendmail("", ["rep@example.test"], dsn)  # a DSN has a null return path
    mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(rep.mailboxes.get())

    assert InboundMessage.objects.get().decision == "send_blocked"
    for enrollment in (at_smtp_time, later):
        enrollment = Enrollment.objects.get(pk=enrollment.pk)
        assert enrollment.status == "paused", enrollment.email
        alert = Event.objects.get(enrollment=enrollment, kind="send_blocked")
        assert "5.7.1" in alert.sentence and "not the contact" in alert.sentence
    assert not Suppression.objects.exists()

    later = Enrollment.objects.get(pk=later.pk)
    assert resume(enrollment=later, actor=rep), "the rep resumes it once the sending is fixed"
    assert later.step_runs.get(position=2).state == "scheduled"
