"""Calendar replies by email (SPEC §3 "Meetings"; docs/inbound.md "Calendar replies by email").

A contact's answer to an invitation — a text/calendar part with METHOD:REPLY — is
recorded on the meeting it answers, found by its UID (``Meeting.ical_uid``):

- ACCEPTED, and the meetings rules (``meetings.rules``) end the contact's
  enrollment — the organizer is the user who enrolled them, for an invitation —:
  the meeting is accepted and the enrollment ends ``meeting_booked``, with the
  meeting and the message as evidence. An invitation the rep sent from their
  own calendar app (a UID Cadency does not know, the ORGANIZER one of the
  enrolling user's mailboxes) becomes a meeting (source ``invitation``).
- DECLINED or TENTATIVE, without a note, to an invitation of the enrolling user:
  recorded on the meeting and the timeline; the enrollment keeps running.
- Anything else (another organizer, an answer with a written note, a meeting
  that does not count): recorded on the meeting when there is one, and the
  reply counts as the contact emailing, as every calendar reply did before.

``meeting_answer`` gathers the facts for the decide stage (reads only);
``record_answer`` is the act stage's part.
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar
from icalendar.cal import Component

from cadency.accounts.models import User
from cadency.inbound.classifier.parsing import UnparseableMessage, content_type, parse, part_text
from cadency.inbound.identity import (
    GMAIL_DOMAINS,
    EnrollmentFacts,
    SenderMatch,
    address_forms,
    domain_of,
    enrollment_facts,
    enrollments,
    find_sender,
)
from cadency.inbound.models import InboundMessage
from cadency.ledger.models import Event
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Mailbox
from cadency.meetings import rules
from cadency.meetings.models import (
    AttendeeResponse,
    Meeting,
    MeetingAttendee,
    MeetingSource,
    MeetingStatus,
)
from cadency.sequences.models import Enrollment
from cadency.sequences.models.enrollment import OPEN_STATUSES

log = logging.getLogger(__name__)

ANSWERS = {
    "ACCEPTED": AttendeeResponse.ACCEPTED,
    "DECLINED": AttendeeResponse.DECLINED,
    "TENTATIVE": AttendeeResponse.TENTATIVE,
}
# Outlook and Exchange put the answer in the SUMMARY of a reply ("Accepted: Demo").
ANSWER_PREFIX = re.compile(
    r"^\s*(?:accepted|declined|tentative|tentatively accepted|zugesagt|angenommen|abgelehnt"
    r"|mit vorbehalt|accepté|refusé|provisoire|aceptado|rechazado|provisional|accettato"
    r"|rifiutato|geaccepteerd|afgewezen|voorlopig|aceito|recusado)\s*[:\uff1a]\s*",
    re.IGNORECASE,
)


# --- the answer in a message: pure ------------------------------------------------------


@dataclass(frozen=True)
class CalendarReply:
    uid: str
    partstat: str  # ACCEPTED, DECLINED, TENTATIVE, NEEDS-ACTION, DELEGATED...
    attendee: str  # the answering attendee's address, as written
    attendee_name: str
    organizer: str  # the ORGANIZER's address ("" when missing)
    summary: str
    location: str
    starts_at: dt.datetime | None  # UTC
    ends_at: dt.datetime | None
    time_zone: str  # the IANA zone of DTSTART, else "UTC"
    sequence: int
    comment: str  # a note the attendee wrote with the answer

    @property
    def response(self) -> AttendeeResponse | None:
        return ANSWERS.get(self.partstat)

    @property
    def title(self) -> str:
        return ANSWER_PREFIX.sub("", self.summary, count=1).strip()


def is_calendar_part(part: Message) -> bool:
    if content_type(part) == "text/calendar":
        return True
    try:
        return (part.get_filename() or "").lower().endswith(".ics")
    except Exception:  # a broken Content-Disposition: not an attachment we can name
        return False


def read_reply(raw: bytes) -> CalendarReply | None:
    """The first METHOD:REPLY event with an attendee in the message's calendar parts.

    None when there is none, or when the calendar cannot be read: the reply is then
    what it was before this module, a person's message."""
    try:
        parsed = parse(raw)
    except UnparseableMessage:
        return None
    for part in parsed.parts:
        if not is_calendar_part(part):
            continue
        try:
            calendar = Calendar.from_ical(part_text(part))
            if str(calendar.get("METHOD", "")).strip().upper() != "REPLY":
                continue
            for event in calendar.walk("VEVENT"):
                reply = reply_of(event, parsed.from_address)
                if reply is not None:
                    return reply
        except Exception:  # icalendar raises many kinds of errors on broken input
            log.debug("unreadable calendar part in %r", parsed.header("message-id"), exc_info=True)
    return None


def calendar_address(value: Any) -> str:
    """The address of an ATTENDEE or ORGANIZER: its mailto: URI, else its EMAIL parameter."""
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        return text[len("mailto:") :].strip()
    params = getattr(value, "params", {})
    return str(params.get("EMAIL", "")).strip()


def answering_attendee(event: Component, sender: str) -> Any:
    """The attendee who answered: the one the From address is, else the first with an answer."""
    found = event.get("ATTENDEE")
    attendees = found if isinstance(found, list) else [found] if found is not None else []
    answered = [a for a in attendees if str(getattr(a, "params", {}).get("PARTSTAT", ""))]
    for attendee in answered:
        if sender and address_forms(calendar_address(attendee), sender) is not None:
            return attendee
    return answered[0] if answered else None


def moment(event: Component, name: str) -> dt.datetime | None:
    """A DTSTART / DTEND in UTC; a floating time is read as UTC, a date as midnight UTC."""
    prop = event.get(name)
    value = getattr(prop, "dt", None)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return None


def reply_of(event: Component, sender: str) -> CalendarReply | None:
    uid = str(event.get("UID", "")).strip()
    attendee = answering_attendee(event, sender)
    if not uid or attendee is None:
        return None
    starts_at, ends_at = moment(event, "DTSTART"), moment(event, "DTEND")
    duration = getattr(event.get("DURATION"), "dt", None)
    if starts_at is not None and ends_at is None:
        all_day = not isinstance(getattr(event.get("DTSTART"), "dt", None), dt.datetime)
        default = dt.timedelta(days=1) if all_day else dt.timedelta(0)  # RFC 5545 §3.6.1
        ends_at = starts_at + (duration if isinstance(duration, dt.timedelta) else default)
    start_value = getattr(event.get("DTSTART"), "dt", None)
    zone = getattr(getattr(start_value, "tzinfo", None), "key", None)
    return CalendarReply(
        uid=uid[:300],
        partstat=str(attendee.params.get("PARTSTAT", "")).strip().upper(),
        attendee=calendar_address(attendee),
        attendee_name=str(attendee.params.get("CN", "")).strip()[:200],
        organizer=calendar_address(event.get("ORGANIZER", "")),
        summary=" ".join(str(event.get("SUMMARY", "")).split()),
        location=" ".join(str(event.get("LOCATION", "")).split())[:300],
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=zone if isinstance(zone, str) else "UTC",
        sequence=int(event.get("SEQUENCE", 0) or 0),
        comment=str(event.get("COMMENT", "")).strip(),
    )


# --- the facts the decide stage needs -------------------------------------------------


class Course(StrEnum):
    """What an answer does; None (no course) leaves the reply to the person rules."""

    BOOKS = "books"  # accepted: the meeting ends the enrollment, meeting_booked
    CONTINUES = "continues"  # a decline or tentative answer, no note: the enrollment runs on
    RECORDED = "recorded"  # recorded on the meeting; the person rules decide the rest


@dataclass(frozen=True)
class MeetingAnswer:
    reply: CalendarReply
    response: AttendeeResponse
    contact: SenderMatch | None  # the contact the ATTENDEE address is
    enrollment: EnrollmentFacts | None  # that contact's open enrollment
    meeting_id: int | None  # the meeting with this UID; None: none yet
    meeting_title: str
    organizer_id: int | None  # the meeting's organizer, else the user whose mailbox ORGANIZER is
    organizer_name: str
    attendee_id: int | None  # the meeting's attendee who answered, when invited
    joins: bool  # the rep's own invitation: create the meeting / add the attendee
    books: bool  # the meetings rules end ``enrollment`` once this answer is recorded

    @property
    def by_enrolling_user(self) -> bool:
        e = self.enrollment
        return e is not None and self.organizer_id == e.enrolled_by_id

    @property
    def course(self) -> Course | None:
        if self.books:
            return Course.BOOKS
        if (
            self.response != AttendeeResponse.ACCEPTED
            and self.by_enrolling_user
            and not self.reply.comment
        ):
            return Course.CONTINUES
        if self.attendee_id is not None or self.joins:
            return Course.RECORDED
        return None

    @property
    def match(self) -> str:
        return f"attendee:{self.contact.how}" if self.contact else "attendee:unknown"

    def sentence(self, at: str) -> str:
        who = self.contact.contact_name if self.contact else self.reply.attendee
        invitation = f"the invitation «{self.meeting_title}»"
        if self.organizer_name:
            invitation = f"{self.organizer_name}'s invitation «{self.meeting_title}»"
        if self.reply.starts_at is not None:
            invitation += f" for {self.reply.starts_at:%Y-%m-%d %H:%M} UTC"
        verb = {
            AttendeeResponse.ACCEPTED: "accepted",
            AttendeeResponse.DECLINED: "declined",
            AttendeeResponse.TENTATIVE: "tentatively accepted",
        }[self.response]
        head = f"{who} {verb} {invitation} from {self.reply.attendee} on {at}"
        e = self.enrollment
        match self.course:
            case Course.BOOKS if e is not None:
                return f"{head}: a meeting booked; unenrolled from «{e.sequence_name}»."
            case Course.CONTINUES if e is not None:
                return f"{head}, without a note: recorded; «{e.sequence_name}» continues."
        return f"{head}: recorded on the meeting."

    def data(self) -> dict[str, Any]:
        """What the act stage needs, and what the evidence keeps."""
        return {
            "calendar": {
                "uid": self.reply.uid,
                "partstat": self.reply.partstat,
                "attendee": self.reply.attendee,
                "organizer": self.reply.organizer,
                "comment": self.reply.comment[:500],
            },
            "meeting": self.meeting_id,
            "organizer": self.organizer_id,
            "joins": self.joins,
            "contact": self.contact.contact_id if self.contact else None,
        }


def meeting_answer(message: InboundMessage) -> MeetingAnswer | None:
    """The answer in a calendar reply and what it concerns; None when it holds no
    ACCEPTED, DECLINED or TENTATIVE answer (a COUNTER, a broken calendar)."""
    reply = read_reply(bytes(message.raw))
    response = reply.response if reply else None
    if reply is None or response is None:
        return None
    contact = find_sender(reply.attendee) if reply.attendee else None
    contact_id = contact.contact_id if contact else None
    enrollment = open_enrollment(contact_id)
    meeting = meeting_with_uid(reply.uid)
    organizer = meeting.organizer if meeting else mailbox_owner(reply.organizer)
    attendee = invited(meeting, reply.attendee, contact_id) if meeting else None
    joins = (
        response == AttendeeResponse.ACCEPTED
        and attendee is None
        and enrollment is not None
        and organizer is not None
        and organizer.pk == enrollment.enrolled_by_id
        and (meeting is None or meeting.source == MeetingSource.INVITATION)
    )
    books = False
    accepted = response == AttendeeResponse.ACCEPTED
    if accepted and enrollment is not None and (attendee is not None or joins):
        recording = Recording(reply, contact_id, joins, organizer.pk if organizer else None)
        books = enrollment.pk in recording.dry_run(message)
    return MeetingAnswer(
        reply=reply,
        response=response,
        contact=contact,
        enrollment=enrollment_facts(enrollment) if enrollment else None,
        meeting_id=meeting.pk if meeting else None,
        meeting_title=meeting.title if meeting else reply.title or "(no title)",
        organizer_id=organizer.pk if organizer else None,
        organizer_name=organizer.display_name if organizer else "",
        attendee_id=attendee.pk if attendee else None,
        joins=joins,
        books=books,
    )


def open_enrollment(contact_id: int | None) -> Enrollment | None:
    if contact_id is None:
        return None
    return (
        enrollments().filter(contact_id=contact_id, status__in=OPEN_STATUSES).order_by("pk").first()
    )


def meeting_with_uid(uid: str) -> Meeting | None:
    return Meeting.objects.select_related("organizer").filter(ical_uid=uid).order_by("pk").first()


def mailbox_owner(address: str) -> User | None:
    """The user one of whose mailboxes ``address`` is (any way of writing it)."""
    domain = domain_of(address)
    if not domain:
        return None
    query = Q()
    for name in GMAIL_DOMAINS if domain in GMAIL_DOMAINS else {domain}:
        query |= Q(email__iendswith=f"@{name}")
    for mailbox in Mailbox.objects.select_related("user").filter(query).order_by("pk"):
        if address_forms(address, mailbox.email) is not None:
            return mailbox.user
    return None


def invited(meeting: Meeting, address: str, contact_id: int | None) -> MeetingAttendee | None:
    """The meeting's attendee who is ``address`` (any way of writing it), else the
    attendee who is the same contact (they answered from an alias)."""
    rows = list(meeting.attendees.order_by("pk"))
    for row in rows:
        if address and address_forms(address, row.email) is not None:
            return row
    for row in rows:
        if contact_id is not None and row.contact_id == contact_id:
            return row
    return None


# --- act ---------------------------------------------------------------------------------


ANSWER_EVENTS = tuple(f"meeting_{r}" for r in ANSWERS.values())


@dataclass(frozen=True)
class Recording:
    """Writing one answer down: its meeting (created for the rep's own invitation),
    the attendee's response (the attendee added to such an invitation), the status."""

    reply: CalendarReply
    contact_id: int | None
    joins: bool
    organizer_id: int | None

    def meeting(self, message: InboundMessage) -> tuple[Meeting | None, bool]:
        """The meeting with the reply's UID, and whether it was created now."""
        found = meeting_with_uid(self.reply.uid)
        if found is not None or not self.joins or self.organizer_id is None:
            return found, False
        # The organizer's row lock serialises two answers to one new invitation, as bookings do.
        organizer = User.objects.select_for_update().get(pk=self.organizer_id)
        found = meeting_with_uid(self.reply.uid)
        if found is not None:
            return found, False
        reply, now = self.reply, timezone.now()
        starts_at = reply.starts_at or now
        source = f"From {reply.attendee}'s answer by email (inbound message {message.pk})"
        no_time = "" if reply.starts_at else "; it gave no time, so the start is when it came"
        meeting = Meeting.objects.create(
            organizer=organizer,
            title=(reply.title or "(no title)")[:300],
            starts_at=starts_at,
            ends_at=max(reply.ends_at or starts_at, starts_at),
            time_zone=reply.time_zone,
            location=reply.location,
            notes=f"{source}{no_time}.",
            source=MeetingSource.INVITATION,
            ical_uid=reply.uid,
            ical_sequence=max(reply.sequence, 0),
            logged_at=now,
        )
        return meeting, True

    def answer(self, meeting: Meeting) -> bool | None:
        """Set the attendee's response and, accepted, the meeting's status. True when
        the response changed, False when it already was this one, None when the
        answering attendee is not invited to the meeting."""
        reply = self.reply
        attendee = invited(meeting, reply.attendee, self.contact_id)
        if attendee is None and self.joins and meeting.source == MeetingSource.INVITATION:
            attendee = MeetingAttendee.objects.create(
                meeting=meeting,
                email=reply.attendee.lower(),
                name=reply.attendee_name,
                contact_id=self.contact_id,
            )
        if attendee is None:
            return None
        accepted = reply.response == AttendeeResponse.ACCEPTED
        if accepted and meeting.status == MeetingStatus.SCHEDULED:
            meeting.status = MeetingStatus.ACCEPTED
            meeting.save(update_fields=["status"])
        if attendee.response == reply.response:
            return False
        attendee.response = reply.response or attendee.response
        attendee.save(update_fields=["response"])
        return True

    def dry_run(self, message: InboundMessage) -> set[int]:
        """The enrollments the meetings rules end once this answer is recorded: it is
        recorded and rolled back, so the rules are asked, never copied."""
        with transaction.atomic():
            meeting, _ = self.meeting(message)
            if meeting is not None:
                self.answer(meeting)
            ended = {e.enrollment.pk for e in rules.endings_for(meeting)} if meeting else set()
            transaction.set_rollback(True)
        return ended


@dataclass(frozen=True)
class Recorded:
    outcome: str  # unenrolled, already_ended, not_ended, recorded, already_recorded
    detail: str


def record_answer(
    message: InboundMessage,
    data: dict[str, Any],
    *,
    enrollment: Enrollment | None,
    books: bool,
    sentence: str,
    actor: User | None,
) -> Recorded:
    """Record the answer on its meeting, write the ledger, and — accepted — end the
    enrollments the meeting ends, with the message in the evidence. Idempotent: the
    same answer again changes nothing and writes nothing."""
    reply = read_reply(bytes(message.raw))
    if reply is None or reply.response is None:  # decide read the same bytes
        return Recorded("not_recorded", "no answer in the message")
    contact, organizer = data.get("contact"), data.get("organizer")
    recording = Recording(
        reply,
        contact if isinstance(contact, int) else None,
        bool(data.get("joins")),
        organizer if isinstance(organizer, int) else None,
    )
    with transaction.atomic():
        meeting, created = recording.meeting(message)
        changed = recording.answer(meeting) if meeting is not None else None
        if changed or (changed is None and not answer_written(message)):
            record_event(
                kind=f"meeting_{reply.response}",
                contact=enrollment.contact if enrollment else None,
                enrollment=enrollment,
                actor=actor,
                sentence=sentence,
                data={
                    "inbound_message": message.pk,
                    "message_id": message.message_id,
                    "meeting": meeting.pk if meeting else None,
                    "meeting_created": created,
                    "calendar": data.get("calendar"),
                },
            )
        ended: list[int] = []
        if meeting is not None and reply.response == AttendeeResponse.ACCEPTED:
            ended = end_enrollments(meeting, message, data, sentence, enrollment, actor)
    return Recorded(
        outcome(enrollment, books, ended, bool(changed)), detail(meeting, reply, created)
    )


def outcome(enrollment: Enrollment | None, books: bool, ended: list[int], changed: bool) -> str:
    if books and enrollment is not None:
        if enrollment.pk in ended:
            return "unenrolled"
        enrollment.refresh_from_db(fields=["status"])
        return "not_ended" if enrollment.status in OPEN_STATUSES else "already_ended"
    return "recorded" if changed else "already_recorded"


def detail(meeting: Meeting | None, reply: CalendarReply, created: bool) -> str:
    if meeting is None:
        return f"{reply.response}; no meeting has the UID {reply.uid}"
    return f"meeting {meeting.pk} {'created, ' if created else ''}{reply.response}"


def answer_written(message: InboundMessage) -> bool:
    return Event.objects.filter(kind__in=ANSWER_EVENTS, data__inbound_message=message.pk).exists()


def end_enrollments(
    meeting: Meeting,
    message: InboundMessage,
    data: dict[str, Any],
    sentence: str,
    answered: Enrollment | None,
    actor: User | None,
) -> list[int]:
    """``rules.apply_meeting`` with the message in the evidence: every enrollment the
    meeting ends; the answering contact's with the decision's sentence. ``rule`` is
    the meetings rule, as for every meeting; ``inbound_rule`` the decision's."""
    from_message = {
        k: v for k, v in data.items() if k not in ("meeting", "organizer", "joins", "contact")
    }
    from_message["inbound_rule"] = from_message.pop("rule", "")
    from_message["inbound_message"] = message.pk
    if actor is not None:
        from_message["relabeled_by"] = actor.username

    def sentence_of(ending: rules.Ending) -> str:
        if answered is not None and ending.enrollment.pk == answered.pk:
            return sentence
        return rules.sentence_for(meeting, ending)

    ended = rules.apply_meeting(
        meeting, evidence=from_message, actor=actor, sentence_of=sentence_of
    )
    return [enrollment.pk for enrollment in ended]
