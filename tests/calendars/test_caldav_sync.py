"""Meetings found on a CalDAV calendar (the real Radicale on loopback)."""

import datetime as dt

import pytest

from cadency.accounts.models import User
from cadency.calendars.models import CalendarEvent
from cadency.calendars.sync import sync_connection
from cadency.contacts.models import Contact, ContactEmail
from cadency.ledger.models import Event
from cadency.meetings.models import (
    AttendeeResponse,
    Meeting,
    MeetingAttendee,
    MeetingSource,
    MeetingStatus,
)
from cadency.sequences.models import EnrollmentStatus, UnenrollReason
from tests.calendars.conftest import (
    RadicaleCalendar,
    caldav_connection,
    enrolled,
    radicale_calendar,
    soon,
)
from tests.factories import make_contact, make_mailbox, make_user
from tests.mailstack import CalDavServer

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


def test_meeting_organized_by_the_enrolling_rep_ends_the_enrollment(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    enrollment = enrolled(rep, jane)
    rep_calendar.put("intro-1@example.test", start=soon(days=5, hour=9), minutes=45)
    connection = caldav_connection(rep, rep_calendar)

    report = sync_connection(connection)

    assert (report.created, report.error, report.ended_enrollments) == (1, "", [enrollment.pk])
    meeting = Meeting.objects.get()
    assert meeting.source == MeetingSource.CALENDAR
    assert meeting.organizer == rep
    assert meeting.ical_uid == "intro-1@example.test"
    assert meeting.starts_at == soon(days=5, hour=9)
    assert meeting.duration.total_seconds() == 45 * 60
    (attendee,) = meeting.attendees.all()
    assert (attendee.email, attendee.contact, attendee.response) == (
        "jane@acme.test",
        jane,
        AttendeeResponse.ACCEPTED,
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert enrollment.reason == UnenrollReason.MEETING_BOOKED
    found = Event.objects.get(kind="meeting_found_on_calendar")
    assert found.contact == jane and found.data["meeting"] == meeting.pk
    connection.refresh_from_db()
    assert connection.health == "ok" and connection.sync_token and connection.last_synced_at


def test_meeting_organized_by_another_user_does_not_end_the_enrollment(
    rep: User, rep2: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    enrollment = enrolled(rep, jane)
    rep_calendar.put(
        "demo-1@example.test",
        organizer="rep2@example.test",
        attendees=[("rep@example.test", "ACCEPTED"), ("jane@acme.test", "ACCEPTED")],
    )

    report = sync_connection(caldav_connection(rep, rep_calendar))

    assert (report.created, report.ended_enrollments) == (1, [])
    meeting = Meeting.objects.get()
    assert meeting.organizer == rep2
    assert sorted(meeting.attendees.values_list("email", flat=True)) == [
        "jane@acme.test",
        "rep@example.test",
    ]
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_contact_who_declined_on_the_calendar_stays_enrolled(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    enrollment = enrolled(rep, jane)
    rep_calendar.put("declined-1@example.test", attendees=[("jane@acme.test", "DECLINED")])

    report = sync_connection(caldav_connection(rep, rep_calendar))

    assert (report.created, report.ended_enrollments) == (1, [])
    assert Meeting.objects.get().attendees.get().response == AttendeeResponse.DECLINED
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_organizer_found_by_mailbox_address_and_attendee_by_contact_alias(
    rep_calendar: RadicaleCalendar,
) -> None:
    rep = make_user("ada", email="ada@example.test")
    make_mailbox(rep, "rep@example.test")
    contact = make_contact("jane.doe@acme.test")
    ContactEmail.objects.create(contact=contact, email="jane@acme.test")
    enrollment = enrolled(rep, contact)
    rep_calendar.put("alias-1@example.test")

    report = sync_connection(caldav_connection(rep, rep_calendar))

    assert report.ended_enrollments == [enrollment.pk]
    meeting = Meeting.objects.get()
    assert meeting.organizer == rep
    assert meeting.attendees.get().contact == contact


def test_event_without_organizer_is_the_calendar_owners(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    enrollment = enrolled(rep, jane)
    rep_calendar.put("no-organizer@example.test", organizer=None)

    report = sync_connection(caldav_connection(rep, rep_calendar))

    assert report.ended_enrollments == [enrollment.pk]
    assert Meeting.objects.get().organizer == rep


def test_changed_event_updates_the_meeting_and_is_not_duplicated(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    rep_calendar.put("move-1@example.test", start=soon(days=3))
    connection = caldav_connection(rep, rep_calendar)
    sync_connection(connection)
    first_seen = Meeting.objects.get().logged_at

    rep_calendar.put(
        "move-1@example.test",
        start=soon(days=4, hour=15),
        summary="Intro call (moved)",
        attendees=[("jane@acme.test", "TENTATIVE")],
        sequence=1,
    )
    report = sync_connection(connection)

    assert (report.created, report.updated) == (0, 1)
    meeting = Meeting.objects.get()
    assert meeting.title == "Intro call (moved)"
    assert meeting.starts_at == soon(days=4, hour=15)
    assert meeting.logged_at == first_seen
    assert meeting.attendees.get().response == AttendeeResponse.TENTATIVE
    assert CalendarEvent.objects.count() == 1
    assert Event.objects.filter(kind="calendar_meeting_updated").count() == 1


def test_syncing_twice_changes_nothing(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    enrolled(rep, jane)
    rep_calendar.put("twice-1@example.test")
    rep_calendar.put("twice-2@example.test", attendees=[("nobody@globex.test", "ACCEPTED")])
    connection = caldav_connection(rep, rep_calendar)
    sync_connection(connection)
    events_before = Event.objects.count()
    connection.refresh_from_db()
    token = connection.sync_token

    again = sync_connection(connection)
    connection.sync_token = ""  # a full listing again: every etag is compared
    full = sync_connection(connection)

    assert (again.created, again.updated, again.cancelled) == (0, 0, 0)
    assert (full.created, full.updated, full.cancelled, full.unchanged) == (0, 0, 0, 0)
    assert Meeting.objects.count() == CalendarEvent.objects.count() == 1
    assert Event.objects.count() == events_before
    connection.refresh_from_db()
    assert connection.sync_token == token


def test_cancelled_event_cancels_the_meeting(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    rep_calendar.put("cancel-1@example.test")
    connection = caldav_connection(rep, rep_calendar)
    sync_connection(connection)

    rep_calendar.put("cancel-1@example.test", status="CANCELLED", sequence=1)
    report = sync_connection(connection)

    assert report.cancelled == 1
    assert Meeting.objects.get().status == MeetingStatus.CANCELLED
    assert Event.objects.filter(kind="calendar_meeting_cancelled").count() == 1


def test_event_deleted_from_the_organizers_calendar_cancels_the_meeting(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    rep_calendar.put("delete-1@example.test")
    connection = caldav_connection(rep, rep_calendar)
    sync_connection(connection)

    rep_calendar.delete("delete-1@example.test")
    report = sync_connection(connection)

    assert report.cancelled == 1
    assert Meeting.objects.get().status == MeetingStatus.CANCELLED
    assert not CalendarEvent.objects.exists()


def test_same_event_on_two_users_calendars_is_one_meeting(
    rep: User, rep2: User, jane: Contact, radicale: CalDavServer
) -> None:
    for user, username in ((rep, radicale.user), (rep2, radicale.user2)):
        for calendar in radicale_calendar(radicale, username):
            calendar.put("shared-1@example.test", organizer="rep2@example.test")
            report = sync_connection(caldav_connection(user, calendar))
            assert (report.created, report.error) == (1 if user == rep else 0, "")

    meeting = Meeting.objects.get()
    assert meeting.organizer == rep2
    assert CalendarEvent.objects.filter(meeting=meeting).count() == 2


def test_event_of_a_meeting_cadency_already_has_is_linked_not_duplicated(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    start = soon(days=6, hour=14)
    booked = Meeting.objects.create(
        organizer=rep,
        title="Intro call",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        source=MeetingSource.BOOKING,
        status=MeetingStatus.ACCEPTED,
        ical_uid="booked-1@example.test",
    )
    MeetingAttendee.objects.create(
        meeting=booked, email="jane@acme.test", contact=jane, response=AttendeeResponse.ACCEPTED
    )
    MeetingAttendee.objects.create(meeting=booked, email="john@acme.test")
    rep_calendar.put(
        "booked-1@example.test", start=start, attendees=[("jane@acme.test", "NEEDS-ACTION")]
    )

    report = sync_connection(caldav_connection(rep, rep_calendar))

    assert (report.created, report.unchanged) == (0, 1)
    assert Meeting.objects.get() == booked
    assert CalendarEvent.objects.get().meeting == booked
    booked.refresh_from_db()
    assert (booked.source, booked.status) == (MeetingSource.BOOKING, MeetingStatus.ACCEPTED)
    assert sorted(booked.attendees.values_list("email", "response")) == [
        ("jane@acme.test", AttendeeResponse.ACCEPTED),  # the calendar has no answer yet
        ("john@acme.test", AttendeeResponse.NEEDS_ACTION),  # kept: the booking knows him
    ]


def test_events_without_contacts_or_ended_before_connecting_are_not_stored(
    rep: User, jane: Contact, rep_calendar: RadicaleCalendar
) -> None:
    enrollment = enrolled(rep, jane, days_ago=30)
    rep_calendar.put("internal@example.test", attendees=[("rep2@example.test", "ACCEPTED")])
    rep_calendar.put("stranger@example.test", organizer="someone@globex.test")
    rep_calendar.put("last-week@example.test", start=soon(days=-7))
    rep_calendar.put("cancelled@example.test", status="CANCELLED")

    report = sync_connection(caldav_connection(rep, rep_calendar))

    assert (report.created, report.ignored) == (0, 4)
    assert not Meeting.objects.exists()
    assert not CalendarEvent.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_wrong_password_marks_the_connection_failing(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    connection = caldav_connection(rep, rep_calendar)
    connection.set_secret("not-the-password")
    connection.save()

    report = sync_connection(connection)

    assert "refused the username or password" in report.error
    connection.refresh_from_db()
    assert connection.health == "failing"
    assert "refused the username or password" in connection.last_error
    assert Event.objects.filter(kind="calendar_failing").count() == 1

    connection.set_secret(rep_calendar.password)
    connection.save()
    assert sync_connection(connection).error == ""
    connection.refresh_from_db()
    assert (connection.health, connection.last_error) == ("ok", "")
    assert Event.objects.filter(kind="calendar_recovered").count() == 1
