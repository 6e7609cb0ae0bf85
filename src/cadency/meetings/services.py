"""Logging and cancelling meetings on a contact, a company or a deal."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Company, Contact
from cadency.contacts.services import address_owner
from cadency.deals.models import Deal
from cadency.ledger.services import record_event
from cadency.meetings import rules
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingSource, MeetingStatus
from cadency.sequences.services.enrollment import contact_label

TITLE_LIMIT = 300
LOCATION_LIMIT = 300


class MeetingError(ValueError):
    """A meeting cannot be logged or changed as asked; the message says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # the form field at fault, when there is one


@dataclass(frozen=True)
class Invitee:
    email: str
    name: str
    contact: Contact | None


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise MeetingError(
            f"Unknown time zone {name!r}: use a name like Europe/Paris or America/New_York.",
            field="time_zone",
        ) from exc


def _invitees(attendees: Iterable[Contact | str]) -> list[Invitee]:
    """Each attendee once, by address; an address that is a contact's (alias or not) finds it."""
    found: dict[str, Invitee] = {}
    for attendee in attendees:
        if isinstance(attendee, Contact):
            if attendee.deleted_at is not None:
                raise MeetingError(
                    f"{attendee.email} belongs to a deleted contact.", field="attendees"
                )
            found.setdefault(attendee.email, Invitee(attendee.email, attendee.full_name, attendee))
            continue
        try:
            email = normalize_email(attendee)
        except InvalidAddress as exc:
            raise MeetingError(str(exc), field="attendees") from exc
        owner = address_owner(email)
        found.setdefault(email, Invitee(email, owner.full_name if owner else "", owner))
    if not found:
        raise MeetingError("Add at least one attendee.", field="attendees")
    return list(found.values())


def _check(
    *, organizer: User, title: str, starts_at: dt.datetime, ends_at: dt.datetime, location: str
) -> None:
    if not title:
        raise MeetingError("Give the meeting a title.", field="title")
    if len(title) > TITLE_LIMIT:
        raise MeetingError(f"The title is longer than {TITLE_LIMIT} characters.", field="title")
    if len(location) > LOCATION_LIMIT:
        raise MeetingError(
            f"The location is longer than {LOCATION_LIMIT} characters.", field="location"
        )
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise MeetingError("Start and end must carry their time zone.", field="starts_at")
    if ends_at <= starts_at:
        raise MeetingError("The meeting must end after it starts.", field="ends_at")
    if not organizer.is_active:
        raise MeetingError(
            f"{organizer.display_name} is deactivated and cannot organize meetings.",
            field="organizer",
        )


def _where(on: Contact | Company | Deal) -> tuple[MeetingSource, Company | None, Deal | None]:
    if isinstance(on, Contact):
        if on.deleted_at is not None:
            raise MeetingError("This contact was deleted; meetings can no longer be logged on it.")
        return MeetingSource.CONTACT_RECORD, None, None
    if isinstance(on, Company):
        return MeetingSource.COMPANY_RECORD, on, None
    return MeetingSource.DEAL_RECORD, on.company, on


def _record_label(on: Contact | Company | Deal) -> str:
    if isinstance(on, Contact):
        return f"the record of {contact_label(on)}"
    if isinstance(on, Company):
        return f"the company {on.name}"
    return f"the deal «{on.name}»"


def log_meeting(
    *,
    actor: User,
    organizer: User,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    time_zone: str,
    attendees: Iterable[Contact | str],
    on: Contact | Company | Deal,
    notes: str = "",
    location: str = "",
) -> Meeting:
    """Log a meeting (past or future) on a record and end the enrollments it ends.

    Raises MeetingError, writing nothing, when the input cannot make a meeting."""
    title, location = title.strip(), location.strip()
    _check(
        organizer=organizer, title=title, starts_at=starts_at, ends_at=ends_at, location=location
    )
    zone_named(time_zone)
    source, company, deal = _where(on)
    invitees = _invitees([on, *attendees] if isinstance(on, Contact) else attendees)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            organizer=organizer,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=time_zone,
            location=location,
            notes=notes.strip(),
            source=source,
            company=company,
            deal=deal,
            created_by=actor,
        )
        MeetingAttendee.objects.bulk_create(
            MeetingAttendee(meeting=meeting, email=i.email, name=i.name, contact=i.contact)
            for i in invitees
        )
        who = ", ".join(contact_label(i.contact) if i.contact else i.email for i in invitees)
        by = "" if organizer.pk == actor.pk else f", organized by {organizer.display_name}"
        record_event(
            kind="meeting_logged",
            contact=_ledger_contact(meeting),
            actor=actor,
            sentence=(
                f"{actor.display_name} logged the meeting «{title}» on "
                f"{rules.meeting_when(meeting)} with {who}{by}, on {_record_label(on)}."
            ),
            data={
                "meeting": meeting.pk,
                "source": source.value,
                "organizer": organizer.pk,
                "attendees": [i.email for i in invitees],
                "company": company.pk if company else None,
                "deal": deal.pk if deal else None,
            },
        )
        rules.apply_meeting(meeting)
    return meeting


def _ledger_contact(meeting: Meeting) -> Contact | None:
    """The contact a meeting's ledger rows are filed under: the one whose record it was
    logged on, else its only contact attendee, else none (the rows name the meeting)."""
    contacts: dict[int, Contact] = {}
    attending = meeting.attendees.filter(contact__isnull=False).select_related("contact")
    for attendee in attending.order_by("pk"):
        assert attendee.contact is not None
        contacts.setdefault(attendee.contact.pk, attendee.contact)
    ordered = list(contacts.values())
    if meeting.source == MeetingSource.CONTACT_RECORD and ordered:
        return ordered[0]
    return ordered[0] if len(ordered) == 1 else None


def may_cancel(actor: User, meeting: Meeting) -> bool:
    """The organizer, the user who logged it, a manager or an admin."""
    return actor.can_act_on_all_enrollments() or actor.pk in {
        meeting.organizer_id,
        meeting.created_by_id,
    }


def cancel_meeting(*, meeting: Meeting, actor: User) -> None:
    """Mark the meeting cancelled. Enrollments it already ended stay ended.

    Raises MeetingError, writing nothing, when it was already cancelled; the
    caller checks ``may_cancel`` first."""
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.CANCELLED:
            raise MeetingError(f"«{locked.title}» was already cancelled.")
        locked.status = MeetingStatus.CANCELLED
        locked.save(update_fields=["status"])
        record_event(
            kind="meeting_cancelled",
            contact=_ledger_contact(locked),
            actor=actor,
            sentence=(
                f"{actor.display_name} cancelled the meeting «{locked.title}» of "
                f"{rules.meeting_when(locked)}."
            ),
            data={"meeting": locked.pk},
        )
    meeting.refresh_from_db()
