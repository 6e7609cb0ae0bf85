"""Connecting a CalDAV calendar and reading busy times (the real Radicale on loopback)."""

import datetime as dt

import pytest

from cadency.accounts.models import User
from cadency.calendars import busy
from cadency.calendars.busy import busy_from_calendars
from cadency.calendars.caldav_client import resource_path
from cadency.calendars.models import CalendarConnection, CalendarKind
from cadency.calendars.services import ConnectionRefused, connect_caldav
from cadency.ledger.models import Event
from tests.calendars.conftest import RadicaleCalendar, caldav_connection, soon
from tests.mailstack import CalDavServer

pytestmark = [pytest.mark.django_db, pytest.mark.mail]

CLOSED_PORT_URL = "http://127.0.0.1:9/calendars/work/"


def test_connecting_with_the_calendar_url_tests_it_and_saves_the_password_encrypted(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    connection = connect_caldav(
        user=rep, url=rep_calendar.url, username=rep_calendar.username, password="secret"
    )

    connection.refresh_from_db()
    assert (connection.kind, connection.name, connection.health) == (
        CalendarKind.CALDAV,
        "Work",
        "ok",
    )
    assert connection.calendar_url == rep_calendar.url
    assert "secret" not in connection.secret_encrypted
    assert connection.secret == "secret"
    assert Event.objects.get(kind="calendar_connected").data["calendar"] == connection.pk


def test_connecting_with_the_account_url_finds_its_calendar(
    rep: User, radicale: CalDavServer, rep_calendar: RadicaleCalendar
) -> None:
    """(Its first calendar: the one this test made, unless an earlier run left another.)"""
    connection = connect_caldav(
        user=rep,
        url=f"{radicale.url}{radicale.user}/",
        username=radicale.user,
        password=radicale.password,
        name="My work calendar",
    )

    found = resource_path(connection.calendar_url)
    assert found.startswith(f"/{radicale.user}/") and found != f"/{radicale.user}/"
    assert connection.name == "My work calendar"


@pytest.mark.parametrize(
    ("password", "url", "reason"),
    [
        ("wrong-password", None, "refused the username or password"),
        ("secret", CLOSED_PORT_URL, "cannot connect to the server"),
        ("secret", "ftp://127.0.0.1/calendars/", "is not an http:// or https:// address"),
    ],
)
def test_bad_credentials_or_address_are_refused_and_nothing_is_saved(
    rep: User, rep_calendar: RadicaleCalendar, password: str, url: str | None, reason: str
) -> None:
    with pytest.raises(ConnectionRefused, match=reason):
        connect_caldav(
            user=rep, url=url or rep_calendar.url, username=rep_calendar.username, password=password
        )

    assert not CalendarConnection.objects.exists()
    assert not Event.objects.exists()


def test_another_accounts_calendar_is_refused(
    rep2: User, radicale: CalDavServer, rep_calendar: RadicaleCalendar
) -> None:
    with pytest.raises(ConnectionRefused, match=r"may not read this calendar \(403\)"):
        connect_caldav(
            user=rep2, url=rep_calendar.url, username=radicale.user2, password=radicale.password
        )
    assert not CalendarConnection.objects.exists()


def test_the_same_calendar_cannot_be_connected_twice(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    connect_caldav(
        user=rep, url=rep_calendar.url, username=rep_calendar.username, password="secret"
    )

    with pytest.raises(ConnectionRefused, match="already has this calendar connected"):
        connect_caldav(
            user=rep, url=rep_calendar.url, username=rep_calendar.username, password="secret"
        )
    assert CalendarConnection.objects.count() == 1


def test_busy_times_come_from_the_free_busy_report_without_transparent_or_cancelled_events(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    rep_calendar.put("busy@example.test", start=soon(days=5, hour=9), minutes=60)
    rep_calendar.put("overlap@example.test", start=soon(days=5, hour=9) + dt.timedelta(minutes=30))
    rep_calendar.put("free@example.test", start=soon(days=5, hour=11), transparent=True)
    rep_calendar.put("off@example.test", start=soon(days=5, hour=13), status="CANCELLED")
    rep_calendar.put("maybe@example.test", start=soon(days=5, hour=15), status="TENTATIVE")
    rep_calendar.put("other-day@example.test", start=soon(days=9, hour=9))
    caldav_connection(rep, rep_calendar)

    found = busy_from_calendars(rep, soon(days=5, hour=0), soon(days=6, hour=0))

    nine = soon(days=5, hour=9)
    assert found == [
        (nine, nine + dt.timedelta(minutes=60)),
        (soon(days=5, hour=15), soon(days=5, hour=15) + dt.timedelta(minutes=30)),
    ]


def test_busy_times_are_kept_a_few_seconds(
    rep: User, rep_calendar: RadicaleCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep_calendar.put("cached@example.test", start=soon(days=5, hour=9))
    caldav_connection(rep, rep_calendar)
    window = (soon(days=5, hour=0), soon(days=6, hour=0))
    first = busy_from_calendars(rep, *window)

    rep_calendar.delete("cached@example.test")
    assert busy_from_calendars(rep, *window) == first  # from the cache

    monkeypatch.setattr(busy, "CACHE_SECONDS", 0.0)
    busy.clear_cache()
    assert busy_from_calendars(rep, *window) == []


def test_unreachable_calendar_is_marked_failing_and_the_others_still_count(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    rep_calendar.put("busy@example.test", start=soon(days=5, hour=9))
    caldav_connection(rep, rep_calendar)
    broken = CalendarConnection(
        user=rep,
        kind=CalendarKind.CALDAV,
        name="Old server",
        caldav_url=CLOSED_PORT_URL,
        calendar_url=CLOSED_PORT_URL,
        username="rep",
    )
    broken.set_secret("secret")
    broken.save()
    window = (soon(days=5, hour=0), soon(days=6, hour=0))

    found = busy_from_calendars(rep, *window)

    assert found == [(soon(days=5, hour=9), soon(days=5, hour=9) + dt.timedelta(minutes=30))]
    broken.refresh_from_db()
    assert broken.health == "failing"
    assert "cannot connect to the server" in broken.last_error
    busy.clear_cache()
    assert busy_from_calendars(rep, *window) == found  # the failing one is no longer asked
