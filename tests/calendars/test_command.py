"""`cadency calendars`: connect, list, sync, disconnect."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cadency.accounts.models import User
from cadency.calendars.models import CalendarConnection
from cadency.meetings.models import Meeting
from tests.calendars.conftest import RadicaleCalendar, google_connection
from tests.calendars.fake_google import FakeGoogle

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("calendars", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def password_file(tmp_path: Path, secret: str) -> str:
    path = tmp_path / "password"
    path.write_text(f"{secret}\n")
    return str(path)


@pytest.mark.mail
def test_connect_a_caldav_calendar_with_a_password_file(
    rep: User, rep_calendar: RadicaleCalendar, tmp_path: Path
) -> None:
    out = run(
        "connect",
        "--caldav",
        rep_calendar.url,
        "--username",
        rep_calendar.username,
        "--as",
        "rep",
        "--password-file",
        password_file(tmp_path, rep_calendar.password),
    )

    connection = CalendarConnection.objects.get()
    assert out.startswith(f"Connected calendar {connection.pk}: «Work»")
    assert connection.secret == rep_calendar.password


@pytest.mark.mail
def test_connect_with_a_wrong_password_saves_nothing(
    rep: User, rep_calendar: RadicaleCalendar, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="refused the username or password"):
        run(
            "connect",
            "--caldav",
            rep_calendar.url,
            "--username",
            rep_calendar.username,
            "--as",
            "rep",
            "--password-file",
            password_file(tmp_path, "wrong"),
        )
    assert not CalendarConnection.objects.exists()


def test_connect_refuses_unknown_users_and_missing_usernames(rep: User, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="there is no user named 'nobody'"):
        run("connect", "--caldav", "http://127.0.0.1:9/", "--username", "u", "--as", "nobody")
    with pytest.raises(CommandError, match="needs --username"):
        run("connect", "--caldav", "http://127.0.0.1:9/", "--as", "rep")
    assert not CalendarConnection.objects.exists()


def test_list_sync_and_disconnect(fake_google: FakeGoogle, rep: User, jane: object) -> None:
    connection = google_connection(rep)
    fake_google.queue("events", (200, "events_full_page1.json"), (200, "events_full_page2.json"))

    synced = json.loads(run("sync", str(connection.pk), "--json"))
    listed = json.loads(run("list", "--json"))
    table = run("list")
    gone = run("disconnect", str(connection.pk), "--as", "rep")

    assert synced[0]["created"] == 1 and synced[0]["error"] is None
    assert listed[0]["address"] == "rep@example.test"
    assert listed[0]["health"] == "ok" and listed[0]["meetings"] == 1
    assert "secret" not in json.dumps(listed) and "ya29" not in table
    assert gone == f"Disconnected calendar {connection.pk} «Rep Example».\n"
    assert Meeting.objects.count() == 1


def test_a_failed_sync_exits_with_an_error(fake_google: FakeGoogle, rep: User) -> None:
    connection = google_connection(rep)
    fake_google.queue("events", (401, "error_401_invalid_credentials.json"))

    with pytest.raises(CommandError, match=f"the sync failed for calendar\\(s\\) {connection.pk}"):
        run("sync")


def test_unknown_ids_and_other_users_are_refused(rep: User, rep2: User) -> None:
    connection = google_connection(rep)

    with pytest.raises(CommandError, match="there is no calendar connection 999"):
        run("sync", "999")
    with pytest.raises(CommandError, match="rep2 may not disconnect"):
        run("disconnect", str(connection.pk), "--as", "rep2")
    assert CalendarConnection.objects.exists()
