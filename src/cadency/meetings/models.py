import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


def default_durations() -> list[int]:
    return [30]


def default_working_hours() -> dict[str, list[list[str]]]:
    """Weekday (0 = Monday) → intervals of local wall-clock time."""
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


class MeetingLink(models.Model):
    """A booking page: /meet/<username>/<slug>."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_links"
    )
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    durations = models.JSONField(default=default_durations, help_text="Minutes offered.")
    working_hours = models.JSONField(default=default_working_hours)
    time_zone = models.CharField(max_length=64, default="UTC")
    buffer_minutes = models.PositiveIntegerField(default=0)
    minimum_notice_minutes = models.PositiveIntegerField(default=240)
    horizon_days = models.PositiveIntegerField(default=30, help_text="How far ahead to offer.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "slug"], name="meeting_link_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.slug}"


class MeetingSource(models.TextChoices):
    BOOKING = "booking", "Booked through a meeting link"
    CONTACT_RECORD = "contact_record", "Created on the contact record"
    COMPANY_RECORD = "company_record", "Logged on the company record"
    DEAL_RECORD = "deal_record", "Logged on the deal record"
    CALENDAR = "calendar", "Found on a connected calendar"
    INVITATION = "invitation", "Answered an emailed invitation"


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


class Meeting(models.Model):
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organized_meetings"
    )
    title = models.CharField(max_length=300)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, default="UTC")
    location = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=32, choices=MeetingSource.choices)
    status = models.CharField(
        max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    # The records it is logged on besides its attendees (SPEC §3 "Meetings").
    company = models.ForeignKey(
        "contacts.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    deal = models.ForeignKey(
        "deals.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    link = models.ForeignKey(
        MeetingLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    # The enrollment whose sequence email carried the link the booking came through.
    via_enrollment = models.ForeignKey(
        "sequences.Enrollment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings_booked_from_email",
    )
    ical_uid = models.CharField(max_length=300, blank=True, db_index=True)
    ical_sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    logged_at = models.DateTimeField(
        default=timezone.now, help_text="When Cadency learned of it (what the rules compare)."
    )

    class Meta:
        indexes = [models.Index(fields=["organizer", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M})"

    @property
    def duration(self) -> dt.timedelta:
        return self.ends_at - self.starts_at


class AttendeeResponse(models.TextChoices):
    NEEDS_ACTION = "needs_action"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"


class MeetingAttendee(models.Model):
    """Someone invited; ``contact`` is set when the address is a contact's."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_attendances",
    )
    response = models.CharField(
        max_length=16, choices=AttendeeResponse.choices, default=AttendeeResponse.NEEDS_ACTION
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "email"], name="attendee_unique_email")
        ]

    def __str__(self) -> str:
        return self.email
