"""Which enrollments a meeting ends (SPEC §3 "Meetings"), and ending them.

The rule table (docs/meetings.md has an example for each row). A meeting ends an
open enrollment of one of its attendee contacts when:

- booked through a meeting link: the link is the enrolling user's, or the link
  came from a sequence email sent to this contact (any user's link; the signed
  link says whose email it was, so a booker using another address still ends
  the enrollment that email belonged to);
- created on the contact record, found on a connected calendar, or an emailed
  invitation the contact accepted: the organizer is the user who enrolled the
  contact;
- logged on a company or deal record: the contact is also an attendee
  (associated with the meeting), and, as on the contact record, the organizer
  is the user who enrolled the contact.

In every case the meeting must have been logged while the contact was enrolled
(``logged_at`` at or after the enrollment started), even if it took place in
the past. A cancelled meeting ends nothing; an attendee who declined it has not
booked it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import QuerySet

from cadency.accounts.models import User
from cadency.ledger.services import record_event
from cadency.meetings.models import (
    AttendeeResponse,
    Meeting,
    MeetingAttendee,
    MeetingSource,
    MeetingStatus,
)
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.enrollment import contact_label, unenroll

ORGANIZER_RULE_SOURCES = (
    MeetingSource.CONTACT_RECORD,
    MeetingSource.CALENDAR,
    MeetingSource.INVITATION,
)
ASSOCIATED_RECORD_SOURCES = (MeetingSource.COMPANY_RECORD, MeetingSource.DEAL_RECORD)

LINK_IN_SEQUENCE_EMAIL = "link_in_sequence_email"
ENROLLING_USERS_LINK = "enrolling_users_link"
ORGANIZER_IS_ENROLLING_USER = "organizer_is_enrolling_user"
ASSOCIATED_WITH_CONTACT = "associated_with_contact"


@dataclass(frozen=True)
class Ending:
    enrollment: Enrollment
    rule: str  # which row of the table above decided
    attendee: str  # the attendee address that is this contact's ("" when none is)


def endings_for(meeting: Meeting) -> list[Ending]:
    """The enrollments this meeting ends, and why; writes nothing."""
    if meeting.status == MeetingStatus.CANCELLED:
        return []
    attendees = _attending_contacts(meeting)
    candidates = Enrollment.objects.filter(
        status__in=OPEN_STATUSES, started_at__lte=meeting.logged_at
    ).select_related("contact", "sequence", "enrolled_by")
    if meeting.source == MeetingSource.BOOKING:
        return _booking_endings(meeting, attendees, candidates)
    if meeting.source in ORGANIZER_RULE_SOURCES:
        rule = ORGANIZER_IS_ENROLLING_USER
    elif meeting.source in ASSOCIATED_RECORD_SOURCES:
        rule = ASSOCIATED_WITH_CONTACT
    else:
        return []
    return [
        Ending(enrollment, rule, attendees[enrollment.contact_id])
        for enrollment in candidates.filter(
            contact_id__in=attendees, enrolled_by_id=meeting.organizer_id
        ).order_by("pk")
    ]


def _attending_contacts(meeting: Meeting) -> dict[int, str]:
    """Contact id → the address it attends with, for attendees who did not decline."""
    rows = (
        MeetingAttendee.objects.filter(meeting=meeting, contact__isnull=False)
        .exclude(response=AttendeeResponse.DECLINED)
        .order_by("pk")
        .values_list("contact_id", "email")
    )
    found: dict[int, str] = {}
    for contact_id, email in rows:
        found.setdefault(contact_id, email)
    return found


def _booking_endings(
    meeting: Meeting, attendees: dict[int, str], candidates: QuerySet[Enrollment]
) -> list[Ending]:
    emailed_contact = meeting.via_enrollment.contact_id if meeting.via_enrollment else None
    link_owner = meeting.link.user_id if meeting.link else None
    contact_ids = set(attendees) | ({emailed_contact} if emailed_contact else set())
    endings = []
    for enrollment in candidates.filter(contact_id__in=contact_ids).order_by("pk"):
        address = attendees.get(enrollment.contact_id, "")
        if enrollment.contact_id == emailed_contact:
            endings.append(Ending(enrollment, LINK_IN_SEQUENCE_EMAIL, address))
        elif link_owner is not None and link_owner == enrollment.enrolled_by_id:
            endings.append(Ending(enrollment, ENROLLING_USERS_LINK, address))
    return endings


def meeting_when(meeting: Meeting) -> str:
    """The start as the organizer reads it: local time in the meeting's zone."""
    try:
        zone = ZoneInfo(meeting.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, name = ZoneInfo("UTC"), "UTC"
    else:
        name = meeting.time_zone
    return f"{meeting.starts_at.astimezone(zone):%Y-%m-%d %H:%M} {name}"


def sentence_for(meeting: Meeting, ending: Ending) -> str:
    enrollment = ending.enrollment
    who = contact_label(enrollment.contact)
    when = meeting_when(meeting)
    link_owner = meeting.link.user.display_name if meeting.link else "a"
    if ending.rule == LINK_IN_SEQUENCE_EMAIL:
        how = f"booked «{meeting.title}» for {when} through {link_owner}'s meeting link "
        how += "in a sequence email"
    elif ending.rule == ENROLLING_USERS_LINK:
        how = f"booked «{meeting.title}» for {when} through {link_owner}'s meeting link"
    else:
        source = MeetingSource(meeting.source).label.lower()
        how = (
            f"has a meeting «{meeting.title}» on {when} organized by "
            f"{meeting.organizer.display_name} ({source})"
        )
    return f"{who} {how}; unenrolled from «{enrollment.sequence.name}» (meeting booked)."


def apply_meeting(
    meeting: Meeting,
    *,
    evidence: dict[str, Any] | None = None,
    actor: User | None = None,
    sentence_of: Callable[[Ending], str] | None = None,
) -> list[Enrollment]:
    """End every enrollment the meeting ends, with the meeting as evidence. Idempotent.

    ``evidence`` adds to each ending's evidence (e.g. the inbound message that
    accepted the invitation); ``sentence_of`` replaces the default sentence.
    """
    ended = []
    for ending in endings_for(meeting):
        if unenroll(
            enrollment=ending.enrollment,
            reason=UnenrollReason.MEETING_BOOKED,
            actor=actor,
            sentence=(sentence_of or partial(sentence_for, meeting))(ending),
            evidence={
                "meeting": meeting.pk,
                "title": meeting.title,
                "starts_at": meeting.starts_at.isoformat(),
                "link": meeting.link_id,
                "via_enrollment": meeting.via_enrollment_id,
                "source": meeting.source,
                "organizer": meeting.organizer_id,
                "attendee": ending.attendee,
                "rule": ending.rule,
                **(evidence or {}),
            },
        ):
            ended.append(ending.enrollment)
    if ended:
        data: dict[str, Any] = {"meeting": meeting.pk, "enrollments": [e.pk for e in ended]}
        if evidence and "inbound_message" in evidence:
            data["inbound_message"] = evidence["inbound_message"]
        record_event(
            kind="meeting_unenrolled",
            actor=actor,
            sentence=f"The meeting «{meeting.title}» ended {len(ended)} enrollment(s).",
            data=data,
        )
    return ended
