import datetime as dt

from django.conf import settings
from django.db import models

from cadency.lib import crypto
from cadency.mailboxes.models import Health


class CalendarKind(models.TextChoices):
    CALDAV = "caldav", "CalDAV"
    GOOGLE = "google", "Google Calendar"


class CalendarConnection(models.Model):
    """A user's calendar that Cadency reads: meetings with contacts, and busy times."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_connections"
    )
    kind = models.CharField(max_length=16, choices=CalendarKind.choices)
    name = models.CharField(max_length=200, help_text="The calendar's name, as the user sees it.")

    caldav_url = models.URLField(max_length=500, blank=True, help_text="The address given.")
    calendar_url = models.URLField(
        max_length=500, blank=True, help_text="The calendar collection found at that address."
    )
    username = models.CharField(max_length=254, blank=True)
    google_calendar_id = models.CharField(max_length=300, blank=True)
    secret_encrypted = models.TextField(
        blank=True, help_text="CalDAV password or Google OAuth2 access token, encrypted."
    )
    refresh_token_encrypted = models.TextField(blank=True)

    # CalDAV: the collection's DAV:sync-token and CalendarServer ctag; Google: nextSyncToken.
    sync_token = models.TextField(blank=True)
    ctag = models.CharField(max_length=300, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A sync in progress holds the connection until then."
    )

    health = models.CharField(max_length=16, choices=Health.choices, default=Health.UNKNOWN)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "calendar_url", "google_calendar_id"],
                name="calendar_connection_unique_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()}, {self.user})"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted) if self.refresh_token_encrypted else ""

    def set_refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = crypto.encrypt(value) if value else ""

    @property
    def address(self) -> str:
        return self.calendar_url if self.kind == CalendarKind.CALDAV else self.google_calendar_id

    @property
    def watched_from(self) -> dt.datetime:
        """Events that ended before the calendar was connected are history, never imported."""
        return self.created_at

    @property
    def is_working(self) -> bool:
        return self.health != Health.FAILING


class CalendarEvent(models.Model):
    """An event of a connected calendar that Cadency keeps as a meeting."""

    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="events"
    )
    uid = models.CharField(max_length=300, help_text="The iCalendar UID.")
    remote_id = models.CharField(
        max_length=1000, help_text="The CalDAV resource path or the Google event id."
    )
    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="calendar_events"
    )
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(
        max_length=64, help_text="A hash of what Cadency records of the event."
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "uid"], name="calendar_event_unique_uid")
        ]
        indexes = [models.Index(fields=["connection", "remote_id"])]

    def __str__(self) -> str:
        return f"{self.uid} on {self.connection_id}"
