"""The worker's periodic calendar sync."""

import datetime as dt

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.calendars.models import CalendarConnection
from cadency.calendars.sync import due_connections, sync_due_connections
from tests.calendars.conftest import google_connection
from tests.calendars.fake_google import FakeGoogle
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def synced(connection: CalendarConnection, seconds_ago: float) -> CalendarConnection:
    connection.last_synced_at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    connection.save()
    return connection


def test_due_are_the_never_read_and_the_stale_but_not_the_fresh_held_or_deactivated(
    settings: SettingsWrapper, rep: User
) -> None:
    settings.CADENCY_CALENDAR_SYNC_SECONDS = 60
    never = google_connection(rep, "a@example.test")
    stale = synced(google_connection(rep, "b@example.test"), 61)
    synced(google_connection(rep, "c@example.test"), 10)
    held = google_connection(rep, "d@example.test")
    held.sync_lease_until = timezone.now() + dt.timedelta(minutes=1)
    held.save()
    google_connection(make_user("gone", is_active=False), "e@example.test")

    assert [c.pk for c in due_connections()] == [never.pk, stale.pk]


def test_sync_due_connections_reads_them_and_records_failures(
    fake_google: FakeGoogle, rep: User
) -> None:
    working = google_connection(rep)
    broken = google_connection(rep, "other@example.test")
    fake_google.queue(
        "events",
        (200, "events_full_page1.json"),
        (200, "events_full_page2.json"),
        (401, "error_401_invalid_credentials.json"),
    )

    reports = sync_due_connections()

    assert reports[working.pk].error == ""
    assert "expired or was revoked" in reports[broken.pk].error
    assert due_connections() == [broken]  # a failing calendar is tried again next time
    working.refresh_from_db()
    assert working.sync_lease_until is None
