"""The Calendars page: list, connect (tested first), sync now, disconnect — and who may."""

from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import Role, User
from cadency.calendars.models import CalendarConnection
from cadency.ledger.models import Event
from cadency.meetings.models import Meeting
from tests.calendars.conftest import RadicaleCalendar, caldav_connection, google_connection
from tests.calendars.fake_google import FakeGoogle
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def connect_form(calendar: RadicaleCalendar, **fields: Any) -> dict[str, Any]:
    return {
        "url": calendar.url,
        "username": calendar.username,
        "password": calendar.password,
        "name": "",
        **fields,
    }


def test_the_page_lists_only_the_users_own_calendars(rep: User, rep2: User) -> None:
    google_connection(rep)
    theirs = google_connection(rep2, "rep2@example.test")
    theirs.name = "Someone else's"
    theirs.save()

    page = signed_in(rep).get("/calendars/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Rep Example" in text and "Someone else" not in text
    assert 'action="/calendars/connect/"' in text


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    assert Client().get("/calendars/")["Location"].startswith("/login/")


@pytest.mark.mail
def test_connecting_a_calendar_tests_it_then_saves_it(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    response = signed_in(rep).post("/calendars/connect/", connect_form(rep_calendar), follow=True)

    assert response.status_code == 200
    assert "Connected «Work»" in response.content.decode()
    connection = CalendarConnection.objects.get()
    assert (connection.user, connection.calendar_url) == (rep, rep_calendar.url)


@pytest.mark.mail
def test_a_wrong_password_shows_the_error_and_saves_nothing(
    rep: User, rep_calendar: RadicaleCalendar
) -> None:
    response = signed_in(rep).post(
        "/calendars/connect/", connect_form(rep_calendar, password="wrong")
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "nothing was saved" in text and "refused the username or password" in text
    assert not CalendarConnection.objects.exists()
    assert not Event.objects.exists()


def test_a_malformed_form_is_refused_field_by_field(rep: User) -> None:
    response = signed_in(rep).post(
        "/calendars/connect/", {"url": "not a url", "username": "", "password": ""}
    )

    assert response.status_code == 400
    assert response.content.decode().count('class="errorlist"') >= 3
    assert not CalendarConnection.objects.exists()


def test_sync_now_reads_the_calendar_and_says_what_it_found(
    fake_google: FakeGoogle, rep: User
) -> None:
    connection = google_connection(rep)
    fake_google.queue("events", (200, "events_full_page1.json"), (200, "events_full_page2.json"))

    response = signed_in(rep).post(f"/calendars/{connection.pk}/sync/", follow=True)

    assert "Read «Rep Example»: 0 new" in response.content.decode()
    connection.refresh_from_db()
    assert connection.last_synced_at is not None


def test_sync_now_shows_a_server_error(fake_google: FakeGoogle, rep: User) -> None:
    connection = google_connection(rep)
    fake_google.queue("events", (401, "error_401_invalid_credentials.json"))

    response = signed_in(rep).post(f"/calendars/{connection.pk}/sync/", follow=True)

    text = response.content.decode()
    assert "could not be read" in text and "expired or was revoked" in text
    assert "failing" in text


def test_disconnecting_forgets_the_calendar_and_keeps_its_meetings(
    fake_google: FakeGoogle, rep: User, jane: Any
) -> None:
    connection = google_connection(rep)
    fake_google.queue("events", (200, "events_full_page1.json"), (200, "events_full_page2.json"))
    signed_in(rep).post(f"/calendars/{connection.pk}/sync/")

    response = signed_in(rep).post(f"/calendars/{connection.pk}/disconnect/", follow=True)

    assert "Disconnected «Rep Example»" in response.content.decode()
    assert not CalendarConnection.objects.exists()
    assert Meeting.objects.count() == 1
    assert Event.objects.filter(kind="calendar_disconnected").count() == 1


def test_another_rep_may_not_sync_or_disconnect_my_calendar(rep: User, rep2: User) -> None:
    connection = google_connection(rep)
    other = signed_in(rep2)

    assert other.post(f"/calendars/{connection.pk}/sync/").status_code == 403
    assert other.post(f"/calendars/{connection.pk}/disconnect/").status_code == 403
    assert CalendarConnection.objects.filter(pk=connection.pk, last_synced_at=None).exists()


def test_an_admin_may_disconnect_anyones_calendar(rep: User) -> None:
    connection = google_connection(rep)
    admin = make_user("admin", role=Role.ADMIN)

    assert signed_in(admin).post(f"/calendars/{connection.pk}/disconnect/").status_code == 302
    assert not CalendarConnection.objects.exists()


def test_unknown_calendar_is_404_and_get_is_not_allowed(rep: User) -> None:
    connection = google_connection(rep)
    client = signed_in(rep)

    assert client.post("/calendars/999999/sync/").status_code == 404
    assert client.post("/calendars/999999/disconnect/").status_code == 404
    assert client.get(f"/calendars/{connection.pk}/disconnect/").status_code == 405
    assert CalendarConnection.objects.exists()


@pytest.mark.mail
def test_page_shows_health_and_last_error(rep: User, rep_calendar: RadicaleCalendar) -> None:
    connection = caldav_connection(rep, rep_calendar)
    connection.health, connection.last_error = "failing", "the server refused <the password>"
    connection.save()

    text = signed_in(rep).get("/calendars/").content.decode()

    assert "failing" in text
    assert "refused &lt;the password&gt;" in text
