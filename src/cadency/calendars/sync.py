"""Meetings found on connected calendars (SPEC §3 "Meetings").

An event becomes a meeting (source ``calendar``) when its organizer is a Cadency
user — by the user's email or one of their mailboxes' addresses; an event with
no ORGANIZER is the calendar owner's own — and one of its attendees is a contact
(by primary address or alias). ``logged_at`` is when Cadency first saw it, and
``meetings.rules.apply_meeting`` decides which enrollments it ends. Other
events are not stored. Events that ended before the calendar was connected are
history and never imported; any event added or changed later is, whatever its date.

A changed event updates its meeting; a cancelled event (STATUS:CANCELLED) cancels
it; an event deleted from the organizer's own calendar cancels it too, while one
deleted from an attendee's calendar only stops being followed there. An event
whose UID and organizer Cadency already knows (the same event on another user's
calendar, a booking, an emailed invitation) is that meeting, not a new one.
Running a sync twice changes nothing.
"""

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cadency.accounts.models import User
from cadency.calendars.adapters import adapter_for
from cadency.calendars.models import CalendarConnection, CalendarEvent
from cadency.calendars.remote import CalendarError, EventStatus, RemoteEvent, SyncState
from cadency.calendars.services import mark_failing, mark_synced
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Contact
from cadency.contacts.services import address_owner
from cadency.ledger.services import record_event
from cadency.lib.crypto import SecretUnreadable
from cadency.mailboxes.models import Mailbox
from cadency.meetings import rules
from cadency.meetings.models import (
    AttendeeResponse,
    Meeting,
    MeetingAttendee,
    MeetingSource,
    MeetingStatus,
)
from cadency.sequences.services.enrollment import contact_label

logger = logging.getLogger("cadency.calendars")

LEASE = dt.timedelta(minutes=5)
TITLE_LIMIT = 300
LOCATION_LIMIT = 300
NAME_LIMIT = 200


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    ignored: int = 0
    ended_enrollments: list[int] = field(default_factory=list)
    error: str = ""
    skipped: bool = False  # another process was syncing this connection

    def __str__(self) -> str:
        if self.skipped:
            return "skipped: another sync is running"
        if self.error:
            return f"failed: {self.error}"
        return (
            f"{self.created} new, {self.updated} changed, {self.cancelled} cancelled, "
            f"{self.unchanged} unchanged, {self.ignored} ignored; "
            f"{len(self.ended_enrollments)} enrollment(s) ended"
        )


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str
    response: str
    contact: Contact | None


# --- who is who --------------------------------------------------------------------------


def clean_address(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidAddress:
        return ""


def user_with_address(email: str) -> User | None:
    """The active user whose email, or one of whose mailboxes, is this address."""
    if not email:
        return None
    user = User.objects.filter(email__iexact=email, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    mailbox = (
        Mailbox.objects.filter(email=email, user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return mailbox.user if mailbox else None


def addresses_of(user: User) -> set[str]:
    emails = {user.email.lower()} if user.email else set()
    return emails | set(Mailbox.objects.filter(user=user).values_list("email", flat=True))


def organizer_of(event: RemoteEvent, connection: CalendarConnection) -> User | None:
    if not event.organizer_email:
        return connection.user
    return user_with_address(clean_address(event.organizer_email))


def attendees_of(event: RemoteEvent, organizer: User) -> list[Attendee]:
    """Each invited address once (the organizer's own addresses left out), with its contact."""
    own = addresses_of(organizer)
    found: dict[str, Attendee] = {}
    for attendee in event.attendees:
        email = clean_address(attendee.email)
        if email and email not in own and email not in found:
            found[email] = Attendee(
                email, attendee.name[:NAME_LIMIT], attendee.response, address_owner(email)
            )
    return list(found.values())


def fingerprint(event: RemoteEvent, organizer: User, attendees: list[Attendee]) -> str:
    recorded = [
        organizer.pk,
        event.title,
        event.starts_at.isoformat(),
        event.ends_at.isoformat(),
        event.time_zone,
        event.location,
        event.status,
        attendee_rows(attendees),
    ]
    return hashlib.sha256(json.dumps(recorded).encode()).hexdigest()


# --- writing meetings --------------------------------------------------------------------


def ledger_contact(meeting: Meeting) -> Contact | None:
    """Its contact when it has exactly one (the ledger row then shows on that record)."""
    contacts = {a.contact for a in meeting.attendees.select_related("contact") if a.contact}
    return contacts.pop() if len(contacts) == 1 else None


def with_whom(attendees: list[Attendee]) -> str:
    return ", ".join(contact_label(a.contact) if a.contact else a.email for a in attendees)


def meeting_fields(event: RemoteEvent, organizer: User, current: str) -> dict[str, object]:
    """What the meeting should say. Its status follows the event only into and out of
    ``cancelled`` (an ``accepted`` meeting stays accepted)."""
    if event.status == EventStatus.CANCELLED:
        status = MeetingStatus.CANCELLED
    elif current == MeetingStatus.CANCELLED:
        status = MeetingStatus.SCHEDULED
    else:
        status = MeetingStatus(current)
    return {
        "organizer": organizer,
        "title": (event.title or "(no title)")[:TITLE_LIMIT],
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "time_zone": event.time_zone,
        "location": event.location[:LOCATION_LIMIT],
        "status": status,
    }


def merged_attendees(meeting: Meeting, attendees: list[Attendee]) -> list[Attendee]:
    """The event's attendees, keeping an answer Cadency already has (e.g. from an emailed
    reply) when the calendar has none yet. A meeting made elsewhere (a booking, a record)
    keeps attendees its calendar copy lacks."""
    known = {a.email: a for a in meeting.attendees.select_related("contact")}
    merged = []
    for attendee in attendees:
        before = known.pop(attendee.email, None)
        if before is not None and attendee.response == AttendeeResponse.NEEDS_ACTION:
            attendee = replace(attendee, response=before.response)
        merged.append(attendee)
    if meeting.source != MeetingSource.CALENDAR:
        merged += [Attendee(a.email, a.name, a.response, a.contact) for a in known.values()]
    return merged


def attendee_rows(attendees: list[Attendee]) -> list[tuple[str, str, int | None]]:
    return sorted((a.email, a.response, a.contact.pk if a.contact else None) for a in attendees)


def set_attendees(meeting: Meeting, attendees: list[Attendee]) -> None:
    wanted = {a.email: a for a in attendees}
    meeting.attendees.exclude(email__in=list(wanted)).delete()
    existing = {a.email: a for a in meeting.attendees.all()}
    for email, attendee in wanted.items():
        row = existing.get(email) or MeetingAttendee(meeting=meeting, email=email)
        row.name, row.response, row.contact = attendee.name, attendee.response, attendee.contact
        row.save()


def calendar_label(connection: CalendarConnection) -> str:
    return f"the calendar «{connection.name}» of {connection.user.display_name}"


def record_meeting(
    connection: CalendarConnection,
    event: RemoteEvent,
    organizer: User,
    attendees: list[Attendee],
    print_: str,
    report: SyncReport,
) -> None:
    """Record the event as a meeting, or link it to the meeting Cadency already has for this
    UID and organizer (another user's calendar, a booking, an invitation), and apply the
    rules."""
    meeting = Meeting.objects.filter(ical_uid=event.uid, organizer=organizer).order_by("pk").first()
    if meeting is not None:
        if update_meeting(connection, meeting, event, organizer, attendees):
            report.updated += 1
        else:
            report.unchanged += 1
    else:
        report.created += 1
        meeting = Meeting.objects.create(
            source=MeetingSource.CALENDAR,
            ical_uid=event.uid,
            **meeting_fields(event, organizer, MeetingStatus.SCHEDULED),
        )
        set_attendees(meeting, attendees)
        record_event(
            kind="meeting_found_on_calendar",
            contact=ledger_contact(meeting),
            sentence=(
                f"The meeting «{meeting.title}» on {rules.meeting_when(meeting)} with "
                f"{with_whom(attendees)}, organized by {organizer.display_name}, "
                f"was found on {calendar_label(connection)}."
            ),
            data={
                "meeting": meeting.pk,
                "calendar": connection.pk,
                "uid": event.uid,
                "organizer": organizer.pk,
                "attendees": [a.email for a in attendees],
            },
        )
    CalendarEvent.objects.create(
        connection=connection,
        uid=event.uid,
        remote_id=event.remote_id,
        meeting=meeting,
        etag=event.etag,
        last_modified=event.last_modified,
        fingerprint=print_,
    )
    report.ended_enrollments += [e.pk for e in rules.apply_meeting(meeting)]


def update_meeting(
    connection: CalendarConnection,
    meeting: Meeting,
    event: RemoteEvent,
    organizer: User,
    attendees: list[Attendee],
) -> bool:
    """Bring the meeting in line with the event; whether anything changed."""
    fields = meeting_fields(event, organizer, meeting.status)
    changed = [name for name, value in fields.items() if getattr(meeting, name) != value]
    attendees = merged_attendees(meeting, attendees)
    before = sorted(meeting.attendees.values_list("email", "response", "contact_id"))
    after = attendee_rows(attendees)
    if not changed and before == after:
        return False
    for name in changed:
        setattr(meeting, name, fields[name])
    meeting.save()
    set_attendees(meeting, attendees)
    cancelled = "status" in changed and meeting.status == MeetingStatus.CANCELLED
    record_event(
        kind="calendar_meeting_cancelled" if cancelled else "calendar_meeting_updated",
        contact=ledger_contact(meeting),
        sentence=(
            f"The meeting «{meeting.title}» on {rules.meeting_when(meeting)} was "
            f"{'cancelled' if cancelled else 'changed'} on {calendar_label(connection)}."
        ),
        data={
            "meeting": meeting.pk,
            "calendar": connection.pk,
            "uid": event.uid,
            "changed": changed + (["attendees"] if before != after else []),
        },
    )
    return True


def apply_event(connection: CalendarConnection, event: RemoteEvent, report: SyncReport) -> None:
    link = (
        CalendarEvent.objects.filter(connection=connection, uid=event.uid)
        .select_related("meeting")
        .first()
    )
    if link is not None and event.etag and link.etag == event.etag:
        report.unchanged += 1
        return
    organizer = organizer_of(event, connection)
    if organizer is None:
        report.ignored += 1
        return
    attendees = attendees_of(event, organizer)
    print_ = fingerprint(event, organizer, attendees)
    if link is None:
        history = event.ends_at < connection.watched_from and not event.recurring
        with_contact = any(a.contact for a in attendees)
        if event.status == EventStatus.CANCELLED or history or not with_contact:
            report.ignored += 1
            return
        record_meeting(connection, event, organizer, attendees, print_, report)
        return
    if link.fingerprint != print_:
        meeting = link.meeting
        was_cancelled = meeting.status == MeetingStatus.CANCELLED
        if update_meeting(connection, meeting, event, organizer, attendees):
            if meeting.status == MeetingStatus.CANCELLED and not was_cancelled:
                report.cancelled += 1
            else:
                report.updated += 1
            report.ended_enrollments += [e.pk for e in rules.apply_meeting(meeting)]
        else:
            report.unchanged += 1
    else:
        report.unchanged += 1
    link.remote_id, link.etag, link.fingerprint = event.remote_id, event.etag, print_
    link.last_modified = event.last_modified
    link.save()


def apply_removal(connection: CalendarConnection, remote_id: str, report: SyncReport) -> None:
    """An event deleted from the calendar: cancelled if this is its organizer's calendar."""
    for link in CalendarEvent.objects.filter(
        connection=connection, remote_id=remote_id
    ).select_related("meeting"):
        meeting = link.meeting
        organizers_calendar = meeting.organizer_id == connection.user_id
        if organizers_calendar and meeting.status != MeetingStatus.CANCELLED:
            meeting.status = MeetingStatus.CANCELLED
            meeting.save(update_fields=["status"])
            record_event(
                kind="calendar_meeting_cancelled",
                contact=ledger_contact(meeting),
                sentence=(
                    f"The meeting «{meeting.title}» on {rules.meeting_when(meeting)} was "
                    f"deleted from {calendar_label(connection)}: it is cancelled."
                ),
                data={"meeting": meeting.pk, "calendar": connection.pk, "uid": link.uid},
            )
            report.cancelled += 1
        link.delete()


# --- running a sync ----------------------------------------------------------------------


def claim(connection: CalendarConnection) -> bool:
    """Hold the connection for this sync (one sync at a time, across workers)."""
    now = timezone.now()
    return bool(
        CalendarConnection.objects.filter(pk=connection.pk)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_until=now + LEASE)
    )


def release(connection: CalendarConnection) -> None:
    CalendarConnection.objects.filter(pk=connection.pk).update(sync_lease_until=None)


def sync_connection(connection: CalendarConnection) -> SyncReport:
    """Read what changed on the calendar and record the meetings. Idempotent; a server
    error marks the connection failing and is returned in the report (never raised)."""
    report = SyncReport()
    if not claim(connection):
        report.skipped = True
        return report
    try:
        known = dict(
            CalendarEvent.objects.filter(connection=connection).values_list("remote_id", "etag")
        )
        state = SyncState(token=connection.sync_token, ctag=connection.ctag)
        try:
            changes = adapter_for(connection).changes(state, connection.watched_from, known)
        except (CalendarError, SecretUnreadable) as exc:
            report.error = str(exc)
            mark_failing(connection, report.error)
            return report
        for event in changes.events:
            with transaction.atomic():
                apply_event(connection, event, report)
        for remote_id in changes.removed:
            with transaction.atomic():
                apply_removal(connection, remote_id, report)
        connection.sync_token, connection.ctag = changes.state.token, changes.state.ctag
        mark_synced(connection)
        return report
    finally:
        release(connection)


def due_connections(now: dt.datetime | None = None) -> list[CalendarConnection]:
    """Connections not synced for CADENCY_CALENDAR_SYNC_SECONDS (failing ones included:
    the sync is also how they recover)."""
    now = now or timezone.now()
    due = now - dt.timedelta(seconds=settings.CADENCY_CALENDAR_SYNC_SECONDS)
    return list(
        CalendarConnection.objects.filter(user__is_active=True)
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=due))
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .select_related("user")
        .order_by(F("last_synced_at").asc(nulls_first=True), "pk")
    )


def sync_due_connections() -> dict[int, SyncReport]:
    reports: dict[int, SyncReport] = {}
    for connection in due_connections():
        reports[connection.pk] = report = sync_connection(connection)
        if report.error:
            logger.warning("calendar %s (%s): %s", connection.pk, connection.name, report.error)
        elif report.created or report.updated or report.cancelled:
            logger.info("calendar %s (%s): %s", connection.pk, connection.name, report)
    return reports
