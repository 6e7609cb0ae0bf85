"""Meeting links and bookings: create and change links; book, cancel and move a meeting.

A booking is written whole or not at all: under a lock on the organizer's row
the slot is checked again, so of two visitors racing for one slot exactly one
gets it (PostgreSQL waits on the row lock; SQLite's IMMEDIATE transactions
serialise writers). The meeting then ends the enrollments SPEC §3 says it ends
(``rules.apply_meeting``), and its invitation is queued in the same transaction.
"""

import datetime as dt
import re
import uuid
from dataclasses import asdict, dataclass
from itertools import pairwise
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Contact
from cadency.contacts.services import ContactError, address_owner, upsert_contact
from cadency.ledger.services import record_event
from cadency.meetings import rules
from cadency.meetings.availability import END_OF_DAY, is_bookable
from cadency.meetings.links_in_email import booking_url, read_ref
from cadency.meetings.models import (
    Meeting,
    MeetingAttendee,
    MeetingLink,
    MeetingSource,
    MeetingStatus,
)
from cadency.meetings.tasks import queue_invitation
from cadency.sequences.models import Enrollment

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,78}[a-z0-9])?")
HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DURATION_RANGE = (5, 720)
MAX_BUFFER_MINUTES = 240
MAX_NOTICE_MINUTES = 60 * 24 * 30
MAX_HORIZON_DAYS = 365


class LinkError(ValueError):
    """A meeting link cannot be saved as asked; the message says why."""


class BookingError(ValueError):
    """A booking cannot be made as asked; the message is for the visitor."""


class SlotTaken(BookingError):
    """Someone else booked this time a moment ago, or it is no longer offered."""

    def __init__(self) -> None:
        super().__init__("This time was just taken. Please pick another.")


WorkingHours = dict[str, list[list[str]]]


@dataclass(frozen=True)
class LinkSettings:
    title: str
    slug: str
    durations: list[int]
    working_hours: WorkingHours
    time_zone: str
    buffer_minutes: int = 0
    minimum_notice_minutes: int = 240
    horizon_days: int = 30


# --- meeting links ------------------------------------------------------------------


def check_link_settings(wanted: LinkSettings) -> LinkSettings:
    """The settings, normalised; LinkError naming the first problem otherwise."""
    title = wanted.title.strip()
    if not title or len(title) > 200:
        raise LinkError("Give the link a title of 1 to 200 characters.")
    slug = wanted.slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise LinkError(
            "The address part may use lower-case letters, digits, '-' and '_' "
            "(up to 80, starting and ending with a letter or digit)."
        )
    low, high = DURATION_RANGE
    durations = sorted(set(wanted.durations))
    if not durations or any(not low <= minutes <= high for minutes in durations):
        raise LinkError(f"Offer at least one duration, each from {low} to {high} minutes.")
    try:
        ZoneInfo(wanted.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LinkError(f"Unknown time zone {wanted.time_zone!r}.") from exc
    check_range(wanted.buffer_minutes, 0, MAX_BUFFER_MINUTES, "The buffer (minutes)")
    check_range(wanted.minimum_notice_minutes, 0, MAX_NOTICE_MINUTES, "The minimum notice")
    check_range(wanted.horizon_days, 1, MAX_HORIZON_DAYS, "How far ahead (days)")
    return LinkSettings(
        title=title,
        slug=slug,
        durations=durations,
        working_hours=checked_working_hours(wanted.working_hours),
        time_zone=wanted.time_zone,
        buffer_minutes=wanted.buffer_minutes,
        minimum_notice_minutes=wanted.minimum_notice_minutes,
        horizon_days=wanted.horizon_days,
    )


def check_range(value: int, low: int, high: int, what: str) -> None:
    if not low <= value <= high:
        raise LinkError(f"{what} must be from {low} to {high}.")


def checked_working_hours(hours: WorkingHours) -> WorkingHours:
    """Weekday "0" (Monday) … "6" → sorted, non-overlapping ["HH:MM", "HH:MM"] intervals."""
    result: WorkingHours = {}
    for key, intervals in hours.items():
        if key not in {str(day) for day in range(7)}:
            raise LinkError(f"Unknown weekday {key!r} in the working hours.")
        day = WEEKDAYS[int(key)]
        cleaned = sorted([str(start), str(end)] for start, end in intervals)
        for start, end in cleaned:
            if not HHMM.fullmatch(start) or not (HHMM.fullmatch(end) or end == END_OF_DAY):
                raise LinkError(f"{day}: write times as HH:MM (00:00 to 24:00).")
            if start >= end:
                raise LinkError(f"{day}: {start}-{end} ends before it starts.")
        for (_, end), (start, _) in pairwise(cleaned):
            if start < end:
                raise LinkError(f"{day}: the intervals overlap ({start} is before {end}).")
        if cleaned:
            result[key] = cleaned
    if not result:
        raise LinkError("Give working hours on at least one day.")
    return result


def check_slug_free(user: User, slug: str, *, except_link: MeetingLink | None = None) -> None:
    taken = MeetingLink.objects.filter(user=user, slug=slug)
    if except_link is not None:
        taken = taken.exclude(pk=except_link.pk)
    if taken.exists():
        raise LinkError(f"You already have a link at /meet/{user.username}/{slug}/.")


def create_link(*, user: User, wanted: LinkSettings) -> MeetingLink:
    checked = check_link_settings(wanted)
    with transaction.atomic():
        check_slug_free(user, checked.slug)
        link = MeetingLink.objects.create(user=user, **asdict(checked))
        record_event(
            kind="meeting_link_created",
            actor=user,
            sentence=f"{user.display_name} created the meeting link «{link.title}» "
            f"({booking_url(link)}).",
            data={"link": link.pk},
        )
    return link


def update_link(*, link: MeetingLink, actor: User, wanted: LinkSettings) -> list[str]:
    """Save new settings; the names of the settings that changed (none: nothing written)."""
    checked = check_link_settings(wanted)
    with transaction.atomic():
        link = MeetingLink.objects.select_for_update().get(pk=link.pk)
        check_slug_free(link.user, checked.slug, except_link=link)
        changed = [name for name, value in asdict(checked).items() if getattr(link, name) != value]
        if not changed:
            return []
        for name in changed:
            setattr(link, name, getattr(checked, name))
        link.save(update_fields=changed)
        record_event(
            kind="meeting_link_updated",
            actor=actor,
            sentence=f"{actor.display_name} changed the {', '.join(changed).replace('_', ' ')} "
            f"of the meeting link «{link.title}».",
            data={"link": link.pk, "fields": changed},
        )
    return changed


def set_link_active(*, link: MeetingLink, actor: User, active: bool) -> bool:
    """Take a link offline (its page says so; booked meetings stay) or back online."""
    with transaction.atomic():
        updated = MeetingLink.objects.filter(pk=link.pk, active=not active).update(active=active)
        if updated:
            verb = "reactivated" if active else "deactivated"
            record_event(
                kind=f"meeting_link_{verb}",
                actor=actor,
                sentence=f"{actor.display_name} {verb} the meeting link «{link.title}».",
                data={"link": link.pk},
            )
    link.active = active
    return bool(updated)


# --- booking ------------------------------------------------------------------------


def new_ical_uid() -> str:
    host = urlsplit(settings.CADENCY_BASE_URL).hostname or "cadency.invalid"
    return f"{uuid.uuid4().hex}@{host}"


def lock_organizer(link: MeetingLink) -> User:
    """Serialise every booking of one organizer (their row lock)."""
    return User.objects.select_for_update().get(pk=link.user_id)


def clean_visitor(name: str, email: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name:
        raise BookingError("Please give your name.")
    if len(name) > 200:
        raise BookingError("Your name is too long (200 characters at most).")
    try:
        return name, normalize_email(email)
    except InvalidAddress as exc:
        raise BookingError(f"Please check your email address: {exc}.") from exc


def contact_for_visitor(email: str, name: str, time_zone: str) -> Contact | None:
    """The contact owning the address (primary or alias), else a new one.

    An existing contact is never changed by what a visitor typed. None when the
    address belongs to a deleted contact: the meeting keeps the bare address."""
    owner = address_owner(email)
    if owner is not None:
        return owner
    first, _, last = name.partition(" ")
    try:
        contact, _ = upsert_contact(
            email=email, first_name=first[:100], last_name=last[:100], time_zone=time_zone
        )
    except ContactError:
        return None
    return contact


def enrollment_from_ref(ref: str) -> Enrollment | None:
    """The enrollment a signed ``ref`` names; None when missing, forged or unknown."""
    enrollment_id = read_ref(ref)
    if enrollment_id is None:
        return None
    return Enrollment.objects.filter(pk=enrollment_id).first()


def check_bookable_link(link: MeetingLink) -> None:
    if not link.active or not link.user.is_active:
        raise BookingError("This booking page no longer takes bookings.")


def valid_zone(name: str, default: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


def book(
    *,
    link: MeetingLink,
    duration_minutes: int,
    start: dt.datetime,
    name: str,
    email: str,
    ref: str = "",
    visitor_time_zone: str = "",
    now: dt.datetime | None = None,
) -> Meeting:
    """Book the slot for the visitor. BookingError (SlotTaken for a lost race) writes nothing."""
    check_bookable_link(link)
    name, email = clean_visitor(name, email)
    if duration_minutes not in link.durations:
        raise BookingError("Choose one of the durations offered.")
    if timezone.is_naive(start):
        raise BookingError("The time chosen has no time zone.")
    start = start.astimezone(dt.UTC)
    zone = valid_zone(visitor_time_zone, link.time_zone)
    via = enrollment_from_ref(ref)
    with transaction.atomic():
        organizer = lock_organizer(link)
        if not is_bookable(link, duration_minutes, start, now=now):
            raise SlotTaken()
        contact = contact_for_visitor(email, name, "" if zone == link.time_zone else zone)
        meeting = Meeting.objects.create(
            organizer=organizer,
            title=f"{link.title}: {name} and {organizer.display_name}",
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=duration_minutes),
            time_zone=zone,
            source=MeetingSource.BOOKING,
            link=link,
            via_enrollment=via,
            ical_uid=new_ical_uid(),
            logged_at=timezone.now(),
        )
        MeetingAttendee.objects.create(meeting=meeting, email=email, name=name, contact=contact)
        record_event(
            kind="meeting_booked",
            contact=contact,
            actor=None,
            sentence=f"{name} ({email}) booked «{link.title}» with {organizer.display_name} "
            f"for {start:%Y-%m-%d %H:%M} UTC ({duration_minutes} minutes).",
            data={
                "meeting": meeting.pk,
                "link": link.pk,
                "via_enrollment": meeting.via_enrollment_id,
            },
        )
        rules.apply_meeting(meeting)
        queue_invitation(meeting)
    return meeting


# --- the visitor's cancel and reschedule links --------------------------------------


def check_not_over(meeting: Meeting, now: dt.datetime | None = None) -> None:
    """A visitor's link cancels or moves a meeting until it ends, not after."""
    if meeting.ends_at <= (now or timezone.now()):
        raise BookingError("This meeting is over: it can no longer be cancelled or moved.")


def cancel_booking(*, meeting: Meeting, now: dt.datetime | None = None) -> bool:
    """Cancel the meeting and queue the CANCEL invitation; False if it was already
    cancelled; BookingError, changing nothing, once it is over."""
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.CANCELLED:
            return False
        check_not_over(locked, now)
        locked.status = MeetingStatus.CANCELLED
        locked.ical_sequence += 1
        locked.save(update_fields=["status", "ical_sequence"])
        attendee = locked.attendees.select_related("contact").first()
        record_event(
            kind="meeting_cancelled",
            contact=attendee.contact if attendee else None,
            sentence=f"{attendee.name if attendee else 'The visitor'} cancelled «{locked.title}» "
            f"of {locked.starts_at:%Y-%m-%d %H:%M} UTC.",
            data={"meeting": locked.pk},
        )
        queue_invitation(locked)
    meeting.refresh_from_db()
    return True


def reschedule_booking(
    *, meeting: Meeting, start: dt.datetime, now: dt.datetime | None = None
) -> Meeting:
    """Move the meeting to another free slot of its link: same UID, SEQUENCE + 1."""
    link = meeting.link
    if link is None or meeting.status == MeetingStatus.CANCELLED:
        raise BookingError("This meeting was cancelled; book a new time instead.")
    check_bookable_link(link)
    if timezone.is_naive(start):
        raise BookingError("The time chosen has no time zone.")
    start = start.astimezone(dt.UTC)
    minutes = int(meeting.duration.total_seconds() // 60)
    with transaction.atomic():
        lock_organizer(link)
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.CANCELLED:
            raise BookingError("This meeting was cancelled; book a new time instead.")
        check_not_over(locked, now)
        if not is_bookable(link, minutes, start, now=now, exclude_meeting_id=locked.pk):
            raise SlotTaken()
        before = locked.starts_at
        locked.starts_at = start
        locked.ends_at = start + dt.timedelta(minutes=minutes)
        locked.ical_sequence += 1
        locked.save(update_fields=["starts_at", "ends_at", "ical_sequence"])
        attendee = locked.attendees.select_related("contact").first()
        record_event(
            kind="meeting_rescheduled",
            contact=attendee.contact if attendee else None,
            sentence=f"{attendee.name if attendee else 'The visitor'} moved «{locked.title}» "
            f"from {before:%Y-%m-%d %H:%M} to {start:%Y-%m-%d %H:%M} UTC.",
            data={"meeting": locked.pk, "from": before.isoformat(), "to": start.isoformat()},
        )
        queue_invitation(locked)
    meeting.refresh_from_db()
    return meeting
