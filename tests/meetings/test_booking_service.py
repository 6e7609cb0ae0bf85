"""Booking through a meeting link (SPEC §3 "Meetings"): the contact, the meeting, the
enrollments it ends, and what a bad request leaves unchanged."""

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.core import signing
from django_tasks_db.models import DBTaskResult

from cadency.accounts.models import User
from cadency.contacts.models import Contact, ContactEmail
from cadency.contacts.services import add_alias
from cadency.ledger.models import Event
from cadency.meetings.booking import (
    BookingError,
    SlotTaken,
    book,
    cancel_booking,
    reschedule_booking,
)
from cadency.meetings.links_in_email import make_ref
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingLink, MeetingSource
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.meetings.booking_support import MONDAY_MORNING, at_paris, make_link

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)
TEN = at_paris(MONDAY, "10:00")


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        yield


@pytest.fixture
def alice() -> User:
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "rep@example.test")
    return user


@pytest.fixture
def bob() -> User:
    user = make_user("bob", first_name="Bob", last_name="Stone")
    make_mailbox(user, "rep2@example.test")
    return user


@pytest.fixture
def link(alice: User) -> MeetingLink:
    return make_link(alice)


def enrolled(contact: Contact, user: User) -> Enrollment:
    """An open enrollment whose first email is due in two days (nothing is sent now)."""
    return enroll(
        contact=contact,
        sequence=make_sequence(user, name=f"Intro by {user.username}"),
        user=user,
        start_at=MONDAY_MORNING + dt.timedelta(days=2),
    )


def invitation_tasks() -> list[list[int]]:
    """The arguments of each queued invitation task, oldest first."""
    queued = DBTaskResult.objects.filter(task_path__endswith="send_invitation")
    return [
        row["args"] for row in queued.order_by("enqueued_at").values_list("args_kwargs", flat=True)
    ]


def counts() -> tuple[int, int, int, int, int]:
    return (
        Meeting.objects.count(),
        MeetingAttendee.objects.count(),
        Contact.objects.count(),
        Event.objects.count(),
        len(invitation_tasks()),
    )


def test_booking_creates_the_contact_the_meeting_and_queues_the_invitation(
    link: MeetingLink, alice: User
) -> None:
    meeting = book(
        link=link,
        duration_minutes=30,
        start=TEN,
        name="Jane Doe",
        email="Jane@Acme.test",
        visitor_time_zone="America/New_York",
    )
    assert meeting.source == MeetingSource.BOOKING
    assert (meeting.organizer, meeting.link, meeting.via_enrollment) == (alice, link, None)
    assert (meeting.starts_at, meeting.ends_at) == (TEN, TEN + dt.timedelta(minutes=30))
    assert meeting.ical_uid and meeting.ical_sequence == 0
    assert meeting.time_zone == "America/New_York"
    attendee = meeting.attendees.get()
    contact = Contact.objects.get(email="jane@acme.test")
    assert (attendee.email, attendee.name, attendee.contact) == (
        "jane@acme.test",
        "Jane Doe",
        contact,
    )
    assert (contact.first_name, contact.last_name, contact.time_zone) == (
        "Jane",
        "Doe",
        "America/New_York",
    )
    booked = Event.objects.get(kind="meeting_booked")
    assert booked.contact == contact
    assert booked.data == {"meeting": meeting.pk, "link": link.pk, "via_enrollment": None}
    assert invitation_tasks() == [[meeting.pk, 0]]


def test_booking_matches_an_existing_contact_by_alias_and_changes_nothing_about_it(
    link: MeetingLink,
) -> None:
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    add_alias(contact=jane, email="j.doe@acme.test")
    meeting = book(
        link=link, duration_minutes=30, start=TEN, name="Someone Else", email="J.Doe@acme.test"
    )
    attendee = meeting.attendees.get()
    assert (attendee.contact, attendee.email) == (jane, "j.doe@acme.test")
    jane.refresh_from_db()
    assert (jane.first_name, jane.last_name) == ("Jane", "Doe")
    assert Contact.objects.count() == 1 and ContactEmail.objects.count() == 1


def test_booking_through_the_enrolling_users_link_unenrolls(link: MeetingLink, alice: User) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, alice)
    meeting = book(link=link, duration_minutes=30, start=TEN, name="Jane Doe", email=jane.email)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")
    assert enrollment.evidence["meeting"] == meeting.pk
    assert enrollment.evidence["link"] == link.pk


def test_booking_another_users_link_without_a_reference_does_not_unenroll(
    link: MeetingLink, bob: User
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, bob)  # Bob enrolled her; the link is Alice's
    book(link=link, duration_minutes=30, start=TEN, name="Jane Doe", email=jane.email)
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


def test_a_link_from_a_sequence_email_unenrolls_even_when_it_is_another_users(
    link: MeetingLink, bob: User
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, bob)
    meeting = book(
        link=link,
        duration_minutes=30,
        start=TEN,
        name="Jane Doe",
        email=jane.email,
        ref=make_ref(enrollment.pk),
    )
    assert meeting.via_enrollment == enrollment
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")
    assert enrollment.evidence["rule"] == "link_in_sequence_email"


def with_altered_value(enrollment: Enrollment) -> str:
    """A genuine reference whose value part names another enrollment."""
    genuine, other = make_ref(enrollment.pk), make_ref(enrollment.pk + 1)
    return other.split(":")[0] + genuine[genuine.index(":") :]


FORGERIES: dict[str, Callable[[Enrollment], str]] = {
    "bare-id": lambda e: str(e.pk),
    "altered-signature": lambda e: make_ref(e.pk)[:-3] + "abc",
    "altered-value": with_altered_value,
    "other-salt": lambda e: signing.dumps(e.pk, salt="cadency.outbound.unsubscribe"),
    "not-an-id": lambda e: signing.dumps(str(e.pk), salt="meeting-ref"),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_or_altered_reference_books_but_ends_nothing_through_the_link_rule(
    link: MeetingLink, bob: User, forgery: str
) -> None:
    jane = make_contact("jane@acme.test")
    enrollment = enrolled(jane, bob)
    meeting = book(
        link=link,
        duration_minutes=30,
        start=TEN,
        name="Jane Doe",
        email=jane.email,
        ref=FORGERIES[forgery](enrollment),
    )
    assert meeting.via_enrollment is None
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert Event.objects.get(kind="meeting_booked").data["via_enrollment"] is None


def test_a_reference_to_an_unknown_enrollment_is_ignored(link: MeetingLink) -> None:
    meeting = book(
        link=link,
        duration_minutes=30,
        start=TEN,
        name="Jane",
        email="jane@acme.test",
        ref=make_ref(999),
    )
    assert meeting.via_enrollment is None


def test_a_taken_slot_is_refused_and_nothing_is_written(link: MeetingLink) -> None:
    book(link=link, duration_minutes=30, start=TEN, name="Jane Doe", email="jane@acme.test")
    before = counts()
    with pytest.raises(SlotTaken, match="This time was just taken"):
        book(link=link, duration_minutes=30, start=TEN, name="John Roe", email="john@acme.test")
    assert counts() == before
    assert not Contact.objects.filter(email="john@acme.test").exists()


@pytest.mark.parametrize(
    "start",
    [
        at_paris(MONDAY, "08:00"),  # before working hours
        at_paris(MONDAY, "10:10"),  # not a slot start
        at_paris(dt.date(2026, 3, 7), "10:00"),  # a Saturday
        MONDAY_MORNING - dt.timedelta(hours=1),  # in the past
        MONDAY_MORNING + dt.timedelta(days=40),  # beyond the horizon
    ],
    ids=["before-hours", "off-grid", "saturday", "past", "beyond-horizon"],
)
def test_a_time_not_offered_is_refused(link: MeetingLink, start: dt.datetime) -> None:
    before = counts()
    with pytest.raises(SlotTaken):
        book(link=link, duration_minutes=30, start=start, name="Jane", email="jane@acme.test")
    assert counts() == before


@pytest.mark.parametrize(
    ("name", "email", "minutes", "message"),
    [
        ("", "jane@acme.test", 30, "Please give your name"),
        ("Jane", "not-an-address", 30, "Please check your email address"),
        ("Jane", "jane@acme.test", 45, "Choose one of the durations offered"),
    ],
)
def test_bad_visitor_input_is_refused_with_a_clear_error(
    link: MeetingLink, name: str, email: str, minutes: int, message: str
) -> None:
    before = counts()
    with pytest.raises(BookingError, match=message):
        book(link=link, duration_minutes=minutes, start=TEN, name=name, email=email)
    assert counts() == before


def test_a_deactivated_link_takes_no_booking(link: MeetingLink) -> None:
    link.active = False
    link.save()
    with pytest.raises(BookingError, match="no longer takes bookings"):
        book(link=link, duration_minutes=30, start=TEN, name="Jane", email="jane@acme.test")
    assert Meeting.objects.count() == 0


def test_cancelling_marks_the_meeting_cancelled_frees_the_slot_and_queues_a_cancel(
    link: MeetingLink,
) -> None:
    meeting = book(link=link, duration_minutes=30, start=TEN, name="Jane", email="jane@acme.test")
    assert cancel_booking(meeting=meeting)
    assert (meeting.status, meeting.ical_sequence) == ("cancelled", 1)
    assert Event.objects.filter(kind="meeting_cancelled").count() == 1
    assert invitation_tasks() == [[meeting.pk, 0], [meeting.pk, 1]]
    assert not cancel_booking(meeting=meeting)  # idempotent
    assert meeting.ical_sequence == 1
    # The time is free again.
    book(link=link, duration_minutes=30, start=TEN, name="John", email="john@acme.test")


def test_rescheduling_keeps_the_uid_and_raises_the_sequence(link: MeetingLink) -> None:
    meeting = book(link=link, duration_minutes=30, start=TEN, name="Jane", email="jane@acme.test")
    uid = meeting.ical_uid
    eleven = at_paris(MONDAY, "11:00")
    reschedule_booking(meeting=meeting, start=eleven)
    assert (meeting.starts_at, meeting.ends_at) == (eleven, eleven + dt.timedelta(minutes=30))
    assert (meeting.ical_uid, meeting.ical_sequence) == (uid, 1)
    assert Event.objects.filter(kind="meeting_rescheduled").count() == 1
    assert invitation_tasks() == [[meeting.pk, 0], [meeting.pk, 1]]
    # The old time is free again.
    book(link=link, duration_minutes=30, start=TEN, name="John", email="john@acme.test")


def test_rescheduling_onto_a_taken_time_changes_nothing(link: MeetingLink) -> None:
    jane = book(link=link, duration_minutes=30, start=TEN, name="Jane", email="jane@acme.test")
    eleven = at_paris(MONDAY, "11:00")
    book(link=link, duration_minutes=30, start=eleven, name="John", email="john@acme.test")
    before = counts()
    with pytest.raises(SlotTaken):
        reschedule_booking(meeting=jane, start=eleven)
    jane.refresh_from_db()
    assert (jane.starts_at, jane.ical_sequence) == (TEN, 0)
    assert counts() == before


def test_a_cancelled_meeting_cannot_be_moved(link: MeetingLink) -> None:
    meeting = book(link=link, duration_minutes=30, start=TEN, name="Jane", email="jane@acme.test")
    cancel_booking(meeting=meeting)
    with pytest.raises(BookingError, match="cancelled"):
        reschedule_booking(meeting=meeting, start=at_paris(MONDAY, "11:00"))
