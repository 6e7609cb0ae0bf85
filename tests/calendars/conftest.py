"""Calendars in tests: a fresh Radicale calendar of rep@example.test per test, and the
fake Google Calendar API serving recorded payloads."""

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import caldav
import pytest
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.calendars import busy, google
from cadency.calendars.models import CalendarConnection, CalendarKind
from cadency.contacts.models import Contact
from cadency.mailboxes.models import Health
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.calendars.fake_google import FakeGoogle
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import CalDavServer, caldav_or_none


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_busy_cache() -> Iterator[None]:
    busy.clear_cache()
    yield
    busy.clear_cache()


def soon(days: int = 7, hour: int = 10) -> dt.datetime:
    """A time a few days ahead (events must end after the calendar was connected)."""
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def ical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class RadicaleCalendar:
    """A calendar in Radicale, written with the caldav library as its owner would."""

    calendar: caldav.Calendar
    url: str
    username: str
    password: str

    def put(
        self,
        uid: str,
        *,
        organizer: str | None = "rep@example.test",
        attendees: Sequence[tuple[str, str]] = (("jane@acme.test", "ACCEPTED"),),
        start: dt.datetime | None = None,
        minutes: int = 30,
        summary: str = "Intro call",
        status: str = "CONFIRMED",
        transparent: bool = False,
        sequence: int = 0,
    ) -> None:
        start = start or soon()
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Cadency tests//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{ical_time(dt.datetime.now(dt.UTC))}",
            f"LAST-MODIFIED:{ical_time(dt.datetime.now(dt.UTC))}",
            f"SEQUENCE:{sequence}",
            f"DTSTART:{ical_time(start)}",
            f"DTEND:{ical_time(start + dt.timedelta(minutes=minutes))}",
            f"SUMMARY:{summary}",
            f"STATUS:{status}",
        ]
        if transparent:
            lines.append("TRANSP:TRANSPARENT")
        if organizer:
            lines.append(f"ORGANIZER;CN=Organizer:mailto:{organizer}")
        for email, partstat in attendees:
            lines.append(
                f"ATTENDEE;CN={email.split('@')[0].title()};PARTSTAT={partstat}:mailto:{email}"
            )
        lines += ["END:VEVENT", "END:VCALENDAR", ""]
        self.calendar.save_event("\r\n".join(lines))

    def delete(self, uid: str) -> None:
        self.calendar.event_by_uid(uid).delete()


def radicale_calendar(server: CalDavServer, user: str) -> Iterator[RadicaleCalendar]:
    client = caldav.DAVClient(url=server.url, username=user, password=server.password)
    calendar = client.principal().make_calendar(name="Work", cal_id=f"work-{uuid.uuid4().hex[:10]}")
    try:
        yield RadicaleCalendar(calendar, str(calendar.url), user, server.password)
    finally:
        calendar.delete()


@pytest.fixture
def radicale() -> CalDavServer:
    server = caldav_or_none()
    assert server is not None, "the loopback services have no Radicale: restart start.sh"
    return server


@pytest.fixture
def rep_calendar(radicale: CalDavServer) -> Iterator[RadicaleCalendar]:
    yield from radicale_calendar(radicale, radicale.user)


@pytest.fixture
def rep() -> User:
    return make_user("rep")  # rep@example.test


@pytest.fixture
def rep2() -> User:
    return make_user("rep2")  # rep2@example.test


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe")


def enrolled(user: User, contact: Contact, *, days_ago: int = 3) -> Enrollment:
    if not user.mailboxes.exists():
        make_mailbox(user)
    enrollment = enroll(
        contact=contact, sequence=make_sequence(user), user=user, run_first_step=False
    )
    enrollment.started_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    enrollment.save(update_fields=["started_at"])
    return enrollment


def caldav_connection(user: User, calendar: RadicaleCalendar) -> CalendarConnection:
    """A saved connection to ``calendar`` (as connect_caldav would save it, without the test)."""
    connection = CalendarConnection(
        user=user,
        kind=CalendarKind.CALDAV,
        name="Work",
        caldav_url=calendar.url,
        calendar_url=calendar.url,
        username=calendar.username,
        health=Health.OK,
    )
    connection.set_secret(calendar.password)
    connection.save()
    return connection


@pytest.fixture
def fake_google(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        monkeypatch.setattr(google, "API_BASE", fake.base)
        yield fake


def google_connection(user: User, calendar_id: str = "rep@example.test") -> CalendarConnection:
    connection = CalendarConnection(
        user=user,
        kind=CalendarKind.GOOGLE,
        name="Rep Example",
        google_calendar_id=calendar_id,
        health=Health.OK,
    )
    connection.set_secret("ya29.a0AfB_byC-recorded-test-token")
    connection.save()
    return connection
