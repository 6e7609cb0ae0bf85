"""Calendar replies by email, end to end: the contact accepts the rep's invitation from
their calendar, the answer travels through Postfix and Dovecot to the rep's inbox,
the watcher's sync reads it, and the enrollment ends ``meeting_booked``; an
Exchange out-of-office answer to the same invitation changes nothing."""

import datetime as dt
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from cadency.inbound.models import InboundMessage
from cadency.inbound.watcher import sync_inbox_now
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingSource
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.e2e.test_watcher import send_as
from tests.inbound.test_calendar_replies import calendar_reply
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]

UID = "7f3c2a9e41d84b0c9e5a@example.test"
INVITATION_ID = "<invitation.7f3c2a9e41d84b0c9e5a@example.test>"


@pytest.fixture
def enrollment(rep: Any, jane: Any, two_step_sequence: Any) -> Enrollment:
    later = timezone.now() + dt.timedelta(days=1)  # the first step waits: the inbox stays quiet
    return enroll(contact=jane, sequence=two_step_sequence, user=rep, start_at=later)


@pytest.fixture
def meeting(rep: Any, jane: Any) -> Meeting:
    """The rep's invitation to Jane, emailed with this UID and not answered yet."""
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    meeting = Meeting.objects.create(
        organizer=rep,
        title="Intro call",
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        source=MeetingSource.INVITATION,
        ical_uid=UID,
    )
    MeetingAttendee.objects.create(meeting=meeting, email=jane.email, name="Jane Doe", contact=jane)
    return meeting


def deliver_and_read(stack: MailStack, rep: Any, message: EmailMessage) -> InboundMessage:
    send_as(stack, "jane@acme.test", message)
    stack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(rep.mailboxes.get())
    return InboundMessage.objects.get(message_id=message["Message-ID"])


def test_the_contacts_accepted_reply_ends_the_enrollment_meeting_booked(
    mailstack: MailStack, rep: Any, enrollment: Enrollment, meeting: Meeting
) -> None:
    accepted = calendar_reply("outlook", uid=UID, organizer="rep@example.test")
    accepted["In-Reply-To"] = INVITATION_ID

    message = deliver_and_read(mailstack, rep, accepted)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")
    assert (enrollment.evidence["meeting"], enrollment.evidence["inbound_message"]) == (
        meeting.pk,
        message.pk,
    )
    meeting.refresh_from_db()
    assert meeting.status == "accepted"
    assert meeting.attendees.get().response == "accepted"
    assert (message.label, message.decision) == ("calendar_reply", "unenrolled")


def test_an_exchange_out_of_office_answer_to_the_invitation_changes_nothing(
    mailstack: MailStack, rep: Any, enrollment: Enrollment, meeting: Meeting
) -> None:
    auto = EmailMessage()
    auto["From"] = "Jane Doe <jane@acme.test>"
    auto["To"] = "Alice Martin <rep@example.test>"
    auto["Subject"] = "Automatic reply: Intro call"
    auto["Date"] = "Sat, 28 Nov 2026 10:02:00 +0000"
    auto["Message-ID"] = "<oof.1@acme.test>"
    auto["In-Reply-To"] = INVITATION_ID
    auto["Thread-Topic"] = "Intro call"
    auto["Auto-Submitted"] = "auto-replied"
    auto["X-Auto-Response-Suppress"] = "All"
    auto["X-MS-Exchange-Inbox-Rules-Loop"] = "jane@acme.test"
    auto.set_content(
        "I am out of the office until 7 December with no access to email. "
        "For urgent matters please contact john@acme.test.\n"
    )

    message = deliver_and_read(mailstack, rep, auto)

    assert message.label == "auto_reply"
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    meeting.refresh_from_db()
    assert (meeting.status, meeting.attendees.get().response) == ("scheduled", "needs_action")
