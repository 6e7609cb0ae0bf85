"""The Google Calendar adapter and sync, against recorded API payloads on a local server."""

import datetime as dt

import pytest

from cadency.accounts.models import User
from cadency.calendars.busy import busy_from_calendars
from cadency.calendars.models import CalendarConnection, CalendarEvent
from cadency.calendars.services import ConnectionRefused, connect_google
from cadency.calendars.sync import sync_connection
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.meetings.models import AttendeeResponse, Meeting, MeetingStatus
from cadency.sequences.models import EnrollmentStatus, UnenrollReason
from tests.calendars.conftest import enrolled, google_connection
from tests.calendars.fake_google import FakeGoogle
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

INTRO_UID = "5q6j2b0c3hl0s3k1d6f5r0qj1o@google.com"
DEMO_UID = "7hq0k9m3v2r1s6t5u4w8x0y2z1@google.com"
FIRST_TOKEN = "CPDAlvWDx70CEPDAlvWDx70CGAU="
SECOND_TOKEN = "CKCbrJvpx70CEKCbrJvpx70CGAU="


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2031, 3, day, hour, minute, tzinfo=dt.UTC)


def full_sync(fake: FakeGoogle, connection: CalendarConnection) -> None:
    fake.queue("events", (200, "events_full_page1.json"), (200, "events_full_page2.json"))
    assert sync_connection(connection).error == ""


def test_full_sync_reads_every_page_records_meetings_with_contacts_and_keeps_the_sync_token(
    fake_google: FakeGoogle, rep: User, rep2: User, jane: Contact
) -> None:
    john = make_contact("john@acme.test", first_name="John", last_name="Roe")
    janes, johns = enrolled(rep, jane), enrolled(rep, john)
    connection = google_connection(rep)
    fake_google.queue("events", (200, "events_full_page1.json"), (200, "events_full_page2.json"))

    report = sync_connection(connection)

    assert (report.error, report.created, report.ignored) == ("", 2, 2)  # lunch, offsite
    assert report.ended_enrollments == [janes.pk]
    intro = Meeting.objects.get(ical_uid=INTRO_UID)
    assert (intro.organizer, intro.title, intro.time_zone) == (
        rep,
        "Intro call: Acme",
        "Europe/Paris",
    )
    assert (intro.starts_at, intro.ends_at) == (utc(4, 9), utc(4, 9, 30))
    assert intro.location == "https://meet.google.com/abc-defg-hij"
    assert list(intro.attendees.values_list("email", "contact", "response")) == [
        ("jane@acme.test", jane.pk, AttendeeResponse.ACCEPTED)
    ]
    demo = Meeting.objects.get(ical_uid=DEMO_UID)
    assert demo.organizer == rep2
    assert sorted(demo.attendees.values_list("email", "response")) == [
        ("john@acme.test", AttendeeResponse.TENTATIVE),
        ("rep@example.test", AttendeeResponse.NEEDS_ACTION),
    ]  # the organizer and the meeting room are not attendees
    janes.refresh_from_db()
    johns.refresh_from_db()
    assert (janes.status, janes.reason) == (
        EnrollmentStatus.UNENROLLED,
        UnenrollReason.MEETING_BOOKED,
    )
    assert johns.status == EnrollmentStatus.ACTIVE  # rep2 organized it, rep enrolled John
    connection.refresh_from_db()
    assert (connection.sync_token, connection.health) == (FIRST_TOKEN, "ok")

    first, second = fake_google.requests
    assert first.path == "/calendar/v3/calendars/rep@example.test/events"
    assert first.headers["Authorization"] == "Bearer ya29.a0AfB_byC-recorded-test-token"
    assert first.query["showDeleted"] == "true" and "syncToken" not in first.query
    assert dt.datetime.fromisoformat(first.query["timeMin"]) == connection.created_at.replace(
        microsecond=0
    )
    assert second.query["pageToken"].startswith("EjYKKzVxNmoy")


def test_incremental_sync_sends_the_token_updates_moved_events_and_follows_deletions(
    fake_google: FakeGoogle, rep: User, rep2: User, jane: Contact
) -> None:
    make_contact("john@acme.test")
    make_contact("mary@acme.test")
    connection = google_connection(rep)
    full_sync(fake_google, connection)
    fake_google.queue("events", (200, "events_incremental.json"))

    report = sync_connection(connection)

    request = fake_google.requests[-1]
    assert request.query["syncToken"] == FIRST_TOKEN and "timeMin" not in request.query
    assert (report.updated, report.created, report.cancelled, report.ignored) == (1, 0, 0, 1)
    intro = Meeting.objects.get(ical_uid=INTRO_UID)
    assert (intro.starts_at, intro.ends_at) == (utc(4, 13), utc(4, 13, 45))
    assert Meeting.objects.count() == 2  # not duplicated; Mary's call was cancelled unseen
    # The demo is rep2's: deleted from rep's calendar, it is no longer followed there,
    # but only its organizer's calendar can cancel it.
    assert Meeting.objects.get(ical_uid=DEMO_UID).status == MeetingStatus.SCHEDULED
    assert not CalendarEvent.objects.filter(uid=DEMO_UID).exists()
    connection.refresh_from_db()
    assert connection.sync_token == SECOND_TOKEN


def test_expired_sync_token_410_gone_means_a_full_resync(
    fake_google: FakeGoogle, rep: User, jane: Contact
) -> None:
    connection = google_connection(rep)
    full_sync(fake_google, connection)
    fake_google.queue(
        "events", (410, "error_410_full_sync_required.json"), (200, "events_after_resync.json")
    )

    report = sync_connection(connection)

    expired, resync = fake_google.requests[-2:]
    assert expired.query["syncToken"] == FIRST_TOKEN
    assert "syncToken" not in resync.query and "timeMin" in resync.query
    assert (report.error, report.cancelled) == ("", 1)
    assert Meeting.objects.get(ical_uid=INTRO_UID).status == MeetingStatus.CANCELLED
    connection.refresh_from_db()
    assert (connection.sync_token, connection.health) == ("CJjPzN7rx70CEJjPzN7rx70CGAU=", "ok")


def test_syncing_the_same_payload_twice_changes_nothing(
    fake_google: FakeGoogle, rep: User, jane: Contact
) -> None:
    connection = google_connection(rep)
    full_sync(fake_google, connection)
    events = Event.objects.count()
    connection.refresh_from_db()
    connection.sync_token = ""

    fake_google.queue("events", (200, "events_full_page1.json"), (200, "events_full_page2.json"))
    report = sync_connection(connection)

    assert (report.created, report.updated, report.cancelled, report.unchanged) == (0, 0, 0, 1)
    assert Meeting.objects.count() == CalendarEvent.objects.count() == 1
    assert Event.objects.count() == events


def test_revoked_access_token_marks_the_connection_failing_with_a_clear_error(
    fake_google: FakeGoogle, rep: User
) -> None:
    connection = google_connection(rep)
    fake_google.queue("events", (401, "error_401_invalid_credentials.json"))

    report = sync_connection(connection)

    assert "expired or was revoked" in report.error
    assert "Request had invalid authentication credentials" in report.error
    connection.refresh_from_db()
    assert connection.health == "failing" and "connect the calendar again" in connection.last_error
    assert not Meeting.objects.exists()


def test_busy_times_come_from_free_busy_query_merged(fake_google: FakeGoogle, rep: User) -> None:
    google_connection(rep)
    fake_google.queue("freeBusy", (200, "freebusy.json"))

    found = busy_from_calendars(rep, utc(4, 0), utc(5, 0))

    assert found == [(utc(4, 9), utc(4, 9, 30)), (utc(4, 13), utc(4, 14))]
    (request,) = fake_google.requests
    assert request.method == "POST" and request.path == "/calendar/v3/freeBusy"
    assert request.body == {
        "timeMin": "2031-03-04T00:00:00Z",
        "timeMax": "2031-03-05T00:00:00Z",
        "items": [{"id": "rep@example.test"}],
    }


def test_connect_google_checks_the_token_before_saving(fake_google: FakeGoogle, rep: User) -> None:
    fake_google.queue(
        "calendar", (401, "error_401_invalid_credentials.json"), (200, "calendar.json")
    )

    with pytest.raises(ConnectionRefused, match="expired or was revoked"):
        connect_google(user=rep, calendar_id="rep@example.test", access_token="ya29.revoked")
    assert not CalendarConnection.objects.exists()

    connection = connect_google(
        user=rep, calendar_id="rep@example.test", access_token="ya29.good", refresh_token="1//0g"
    )
    assert (connection.name, connection.health) == ("Rep Example", "ok")
    assert (connection.secret, connection.refresh_token) == ("ya29.good", "1//0g")
    assert fake_google.requests[-1].path == "/calendar/v3/calendars/rep@example.test"
