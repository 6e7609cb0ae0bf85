"""iCalendar invitations: METHOD:REQUEST / CANCEL with the meeting's UID and SEQUENCE,
sent after the booking commits, retried on failure, never losing the booking."""

import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.mailboxes.models import Health, Mailbox
from cadency.meetings import invitations
from cadency.meetings.booking import book, cancel_booking, reschedule_booking
from cadency.meetings.invitations import Delivery, deliver
from cadency.meetings.models import Meeting, MeetingLink
from cadency.outbound.smtp_send import SendOutcome, SendStatus
from tests.e2e.conftest import run_worker_until_idle
from tests.factories import make_mailbox, make_user
from tests.mailstack import MailStack
from tests.meetings.booking_support import MONDAY_MORNING, at_paris, make_link

MONDAY = dt.date(2026, 3, 2)
TEN = at_paris(MONDAY, "10:00")


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        yield


@pytest.fixture
def alice(db: None) -> User:
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "rep@example.test", display_name="Alice Martin")
    return user


@pytest.fixture
def link(alice: User) -> MeetingLink:
    return make_link(alice)


@pytest.fixture
def meeting(link: MeetingLink) -> Meeting:
    return book(
        link=link,
        duration_minutes=30,
        start=TEN,
        name="Jane Doe",
        email="jane@acme.test",
        visitor_time_zone="America/New_York",
    )


Sent = list[tuple[str, bytes]]


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Record what would be handed to SMTP; every send is accepted."""
    sent: Sent = []

    def accept(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
        sent.append((recipient, raw))
        return SendOutcome(SendStatus.ACCEPTED)

    monkeypatch.setattr(invitations, "send_message", accept)
    return sent


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def calendar_part(message: EmailMessage) -> tuple[EmailMessage, Calendar]:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert isinstance(part, EmailMessage)
    return part, Calendar.from_ical(part.get_content())


def event_of(calendar: Calendar) -> dict[str, object]:
    (event,) = calendar.walk("VEVENT")
    return dict(event)


def test_the_invitation_is_a_request_with_the_meetings_uid_organizer_and_attendee(
    meeting: Meeting, smtp: Sent
) -> None:
    assert deliver(meeting.pk, 0) == Delivery.SENT
    assert [recipient for recipient, _ in smtp] == ["jane@acme.test", "rep@example.test"]
    message = parsed(smtp[0][1])
    assert message["From"] == "Alice Martin <rep@example.test>"
    assert message["To"] == "Jane Doe <jane@acme.test>"
    assert message["Subject"] == f"Invitation: {meeting.title}"
    part, calendar = calendar_part(message)
    assert part.get_param("method") == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = event_of(calendar)
    assert str(event["UID"]) == meeting.ical_uid
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == TEN  # type: ignore[attr-defined]
    assert event["DTEND"].dt == TEN + dt.timedelta(minutes=30)  # type: ignore[attr-defined]
    assert str(event["ORGANIZER"]) == "mailto:rep@example.test"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:jane@acme.test"
    assert attendee.params["RSVP"] == "TRUE"  # type: ignore[attr-defined]
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"  # type: ignore[attr-defined]
    assert b"DTSTART:20260302T090000Z" in part.get_content().encode()


def test_the_attendee_gets_the_time_in_their_zone_and_a_link_to_cancel_or_move(
    meeting: Meeting, smtp: Sent
) -> None:
    deliver(meeting.pk, 0)
    text = parsed(smtp[0][1]).get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "Monday 2 March 2026, 04:00 to 04:30 (America/New_York)" in content
    assert "http://testserver/meet/booking/" in content
    organizer_text = parsed(smtp[1][1]).get_body(("plain",))
    assert organizer_text is not None
    assert "/meet/booking/" not in organizer_text.get_content()
    assert "10:00 to 10:30 (Europe/Paris)" in organizer_text.get_content()


def test_an_invitation_is_sent_once_per_recipient(meeting: Meeting, smtp: Sent) -> None:
    deliver(meeting.pk, 0)
    deliver(meeting.pk, 0)  # a duplicate task
    assert len(smtp) == 2
    sent = Event.objects.filter(kind="invitation_sent").order_by("pk")
    assert [e.data["recipient"] for e in sent] == ["jane@acme.test", "rep@example.test"]
    assert all(e.contact == meeting.attendees.get().contact for e in sent)


def test_a_moved_meeting_gets_the_same_uid_with_the_next_sequence(
    meeting: Meeting, smtp: Sent
) -> None:
    reschedule_booking(meeting=meeting, start=at_paris(MONDAY, "11:00"))
    assert deliver(meeting.pk, 0) == Delivery.SUPERSEDED  # the first invitation's task
    assert smtp == []
    assert deliver(meeting.pk, 1) == Delivery.SENT
    message = parsed(smtp[0][1])
    assert message["Subject"].startswith("Updated invitation:")
    event = event_of(calendar_part(message)[1])
    assert (str(event["UID"]), event["SEQUENCE"]) == (meeting.ical_uid, 1)
    assert event["DTSTART"].dt == at_paris(MONDAY, "11:00")  # type: ignore[attr-defined]


def test_a_cancelled_meeting_sends_method_cancel(meeting: Meeting, smtp: Sent) -> None:
    cancel_booking(meeting=meeting)
    assert deliver(meeting.pk, 1) == Delivery.SENT
    part, calendar = calendar_part(parsed(smtp[0][1]))
    assert part.get_param("method") == "CANCEL"
    assert str(calendar["METHOD"]) == "CANCEL"
    event = event_of(calendar)
    assert (str(event["UID"]), event["SEQUENCE"], str(event["STATUS"])) == (
        meeting.ical_uid,
        1,
        "CANCELLED",
    )


def test_a_temporary_failure_is_retried_later_and_shows_in_the_ledger(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
        return SendOutcome(SendStatus.TEMPORARY, 421, "421 4.3.2 try later")

    monkeypatch.setattr(invitations, "send_message", refuse)
    DBTaskResult.objects.all().delete()
    assert deliver(meeting.pk, 0) == Delivery.RETRY_LATER
    (retry,) = DBTaskResult.objects.filter(task_path__endswith="send_invitation")
    assert retry.args_kwargs["args"] == [meeting.pk, 0, 2]
    assert retry.run_after > MONDAY_MORNING
    delayed = Event.objects.get(kind="invitation_delayed")
    assert "421 4.3.2 try later" in delayed.sentence
    assert delayed.contact == meeting.attendees.get().contact
    # The booking stands.
    meeting.refresh_from_db()
    assert meeting.status == "scheduled"


def test_after_the_last_attempt_the_failure_is_recorded_and_the_booking_stands(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        invitations,
        "send_message",
        lambda mailbox, raw, recipient: SendOutcome(SendStatus.TEMPORARY, None, "cannot connect"),
    )
    assert deliver(meeting.pk, 0, attempt=invitations.MAX_ATTEMPTS) == Delivery.FAILED
    failed = Event.objects.get(kind="invitation_failed")
    assert "cannot connect" in failed.sentence and "The meeting stands" in failed.sentence
    assert Meeting.objects.filter(pk=meeting.pk, status="scheduled").exists()


def test_a_refused_recipient_is_recorded_and_the_others_still_get_it(
    meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def refuse_jane(mailbox: Mailbox, raw: bytes, recipient: str) -> SendOutcome:
        if recipient == "jane@acme.test":
            return SendOutcome(SendStatus.RECIPIENT_REJECTED, 550, "550 5.1.1 no such user")
        sent.append(recipient)
        return SendOutcome(SendStatus.ACCEPTED)

    monkeypatch.setattr(invitations, "send_message", refuse_jane)
    assert deliver(meeting.pk, 0) == Delivery.SENT
    assert sent == ["rep@example.test"]
    assert "550 5.1.1" in Event.objects.get(kind="invitation_failed").sentence


def test_without_a_working_mailbox_the_invitation_waits(meeting: Meeting, smtp: Sent) -> None:
    Mailbox.objects.update(health=Health.FAILING)
    assert deliver(meeting.pk, 0) == Delivery.RETRY_LATER
    assert smtp == []
    assert "no working mailbox" in Event.objects.get(kind="invitation_delayed").sentence


def test_an_unknown_meeting_sends_nothing(db: None, smtp: Sent) -> None:
    assert deliver(404, 0) == Delivery.MISSING
    assert smtp == []


@pytest.mark.mail
@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections
def test_the_invitation_arrives_in_the_contacts_mailbox(
    meeting: Meeting, mailstack: MailStack
) -> None:
    run_worker_until_idle()

    (received,) = mailstack.wait_for_messages("jane@acme.test", 1)
    part, calendar = calendar_part(received)
    assert part.get_param("method") == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = event_of(calendar)
    assert str(event["UID"]) == meeting.ical_uid
    assert event["DTSTART"].dt == TEN  # type: ignore[attr-defined]
    (copy,) = mailstack.wait_for_messages("rep@example.test", 1)
    assert str(event_of(calendar_part(copy)[1])["UID"]) == meeting.ical_uid

    cancel_booking(meeting=meeting)
    run_worker_until_idle()
    cancelled = mailstack.wait_for_messages("jane@acme.test", 2)[-1]
    part, calendar = calendar_part(cancelled)
    assert part.get_param("method") == "CANCEL"
    assert (str(event_of(calendar)["UID"]), event_of(calendar)["SEQUENCE"]) == (
        meeting.ical_uid,
        1,
    )
