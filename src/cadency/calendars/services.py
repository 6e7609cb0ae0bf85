"""Connecting, disconnecting and recording the health of calendar connections."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.calendars import google
from cadency.calendars.caldav_client import CalDavCalendar
from cadency.calendars.models import CalendarConnection, CalendarKind
from cadency.calendars.remote import CalendarError
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Health
from cadency.mailboxes.selectors import is_admin

NAME_LIMIT = 200


class ConnectionRefused(ValueError):
    """The calendar was not connected; the message says why. Nothing was saved."""


def already_connected(user: User, kind: CalendarKind, address: str) -> bool:
    field = "calendar_url" if kind == CalendarKind.CALDAV else "google_calendar_id"
    return CalendarConnection.objects.filter(user=user, kind=kind, **{field: address}).exists()


def _save_new(connection: CalendarConnection, actor: User) -> CalendarConnection:
    try:
        with transaction.atomic():
            connection.save()
            record_event(
                kind="calendar_connected",
                actor=actor,
                sentence=(
                    f"{actor.display_name} connected the {connection.get_kind_display()} "
                    f"calendar «{connection.name}» of {connection.user.display_name}."
                ),
                data={"calendar": connection.pk, "address": connection.address},
            )
    except IntegrityError as exc:
        raise ConnectionRefused(
            f"{connection.user.display_name} already has this calendar connected"
        ) from exc
    return connection


def connect_caldav(
    *, user: User, url: str, username: str, password: str, name: str = "", actor: User | None = None
) -> CalendarConnection:
    """Log in, find the calendar, and save the connection. Nothing is saved when the
    server refuses or cannot be reached (ConnectionRefused says why)."""
    url, username, name = url.strip(), username.strip(), name.strip()
    if not url or not username or not password:
        raise ConnectionRefused("a CalDAV address, a username and a password are all needed")
    if len(name) > NAME_LIMIT:
        raise ConnectionRefused(f"the name is longer than {NAME_LIMIT} characters")
    try:
        remote = CalDavCalendar(url=url, username=username, password=password)
        found_name = remote.check()  # before any write: no lock held during network calls
    except CalendarError as exc:
        raise ConnectionRefused(f"the connection test failed: {exc}") from exc
    if already_connected(user, CalendarKind.CALDAV, remote.calendar_url):
        raise ConnectionRefused(f"{user.display_name} already has this calendar connected")
    connection = CalendarConnection(
        user=user,
        kind=CalendarKind.CALDAV,
        name=(name or found_name)[:NAME_LIMIT],
        caldav_url=url,
        calendar_url=remote.calendar_url,
        username=username,
        health=Health.OK,
    )
    connection.set_secret(password)
    return _save_new(connection, actor or user)


def connect_google(
    *,
    user: User,
    calendar_id: str,
    access_token: str,
    refresh_token: str = "",
    name: str = "",
    actor: User | None = None,
) -> CalendarConnection:
    """Check the token against the calendar, then save. Nothing is saved on failure."""
    calendar_id, name = calendar_id.strip(), name.strip()
    if not calendar_id or not access_token:
        raise ConnectionRefused("a Google calendar id and an OAuth2 access token are needed")
    try:
        found_name = google.GoogleCalendar(
            calendar_id=calendar_id, access_token=access_token, api_base=google.API_BASE
        ).check()
    except CalendarError as exc:
        raise ConnectionRefused(f"the connection test failed: {exc}") from exc
    if already_connected(user, CalendarKind.GOOGLE, calendar_id):
        raise ConnectionRefused(f"{user.display_name} already has this calendar connected")
    connection = CalendarConnection(
        user=user,
        kind=CalendarKind.GOOGLE,
        name=(name or found_name)[:NAME_LIMIT],
        google_calendar_id=calendar_id,
        health=Health.OK,
    )
    connection.set_secret(access_token)
    connection.set_refresh_token(refresh_token)
    return _save_new(connection, actor or user)


def disconnect(*, connection: CalendarConnection, actor: User) -> None:
    """Forget the connection and its credentials; the meetings found on it stay."""
    with transaction.atomic():
        record_event(
            kind="calendar_disconnected",
            actor=actor,
            sentence=(
                f"{actor.display_name} disconnected the calendar «{connection.name}» "
                f"of {connection.user.display_name}."
            ),
            data={"calendar": connection.pk, "address": connection.address},
        )
        connection.delete()


def may_manage(actor: User, connection: CalendarConnection) -> bool:
    """Its owner, or an admin (as for mailboxes)."""
    return connection.user_id == actor.pk or is_admin(actor)


def mark_failing(connection: CalendarConnection, reason: str) -> None:
    """Record the error; the first failure after working writes a ledger event."""
    was_failing = connection.health == Health.FAILING
    with transaction.atomic():
        CalendarConnection.objects.filter(pk=connection.pk).update(
            health=Health.FAILING, last_error=reason
        )
        if not was_failing:
            record_event(
                kind="calendar_failing",
                sentence=f"The calendar «{connection.name}» stopped answering: {reason}",
                data={"calendar": connection.pk},
            )
    connection.health, connection.last_error = Health.FAILING, reason


def mark_synced(connection: CalendarConnection) -> None:
    """Record a successful sync (and the recovery of a failing connection)."""
    now = timezone.now()
    with transaction.atomic():
        CalendarConnection.objects.filter(pk=connection.pk).update(
            health=Health.OK,
            last_error="",
            last_synced_at=now,
            sync_token=connection.sync_token,
            ctag=connection.ctag,
        )
        if connection.health == Health.FAILING:
            record_event(
                kind="calendar_recovered",
                sentence=f"The calendar «{connection.name}» answers again.",
                data={"calendar": connection.pk},
            )
    connection.health, connection.last_error, connection.last_synced_at = Health.OK, "", now
