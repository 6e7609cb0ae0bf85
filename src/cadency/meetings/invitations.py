"""iCalendar invitations of booked meetings, emailed from the organizer's mailbox.

A booking or a move sends METHOD:REQUEST, a cancellation METHOD:CANCEL; every
change keeps the meeting's UID and raises its SEQUENCE, so calendars update the
event in place. Each recipient (the attendees, then the organizer) gets their own
message: a text part and a ``text/calendar; method=…`` part with the same event.

Delivery runs in a background task after the booking commits. A recipient whose
copy was accepted is never sent it again (the ledger says so); a temporary
failure is retried with backoff and written to the ledger, so the booking is
never lost and the failure is visible on the contact's timeline.
"""

import datetime as dt
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime, formataddr
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from cadency.contacts.models import Contact
from cadency.ledger.models import Event as LedgerEvent
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Mailbox
from cadency.meetings.links_in_email import manage_url
from cadency.meetings.models import Meeting, MeetingStatus
from cadency.outbound.compose import BUILD_POLICY, WIRE_POLICY, new_message_id, text_part
from cadency.outbound.smtp_send import SendStatus, send_message
from cadency.sequences.services.enrollment import choose_mailbox
from cadency.sequences.services.errors import EnrollmentRefused
from cadency.sequences.services.scheduling import resolve_zone

PRODID = "-//Cadency//Meetings//EN"
MAX_ATTEMPTS = 8


class Delivery(StrEnum):
    SENT = "sent"
    RETRY_LATER = "retry_later"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # the meeting changed again: a newer invitation is queued
    MISSING = "missing"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    is_organizer: bool = False


def method_for(meeting: Meeting) -> str:
    return "CANCEL" if meeting.status == MeetingStatus.CANCELLED else "REQUEST"


def calendar_for(meeting: Meeting, mailbox: Mailbox, method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("sequence", meeting.ical_sequence)
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", meeting.starts_at.astimezone(dt.UTC))
    event.add("dtend", meeting.ends_at.astimezone(dt.UTC))
    event.add("summary", meeting.title)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if meeting.location:
        event.add("location", meeting.location)
    organizer = vCalAddress(f"mailto:{mailbox.email}")
    organizer.params["cn"] = vText(sender_name(meeting, mailbox))
    event["organizer"] = organizer
    for attendee in meeting.attendees.order_by("pk"):
        address = vCalAddress(f"mailto:{attendee.email}")
        if attendee.name:
            address.params["cn"] = vText(attendee.name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    return calendar


def sender_name(meeting: Meeting, mailbox: Mailbox) -> str:
    return mailbox.display_name or meeting.organizer.display_name


def when_text(meeting: Meeting, zone_name: str) -> str:
    tz = resolve_zone(zone_name)
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    return f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M} to {end:%H:%M} ({tz.key})"


def subject_for(meeting: Meeting, method: str) -> str:
    if method == "CANCEL":
        return f"Cancelled: {meeting.title}"
    prefix = "Updated invitation" if meeting.ical_sequence else "Invitation"
    return f"{prefix}: {meeting.title}"


def body_for(meeting: Meeting, recipient: Recipient, method: str) -> str:
    if recipient.is_organizer:
        zone = meeting.link.time_zone if meeting.link else meeting.time_zone
        who = ", ".join(f"{a.name} ({a.email})" for a in meeting.attendees.order_by("pk"))
        if method == "CANCEL":
            return f"{who} cancelled «{meeting.title}» of {when_text(meeting, zone)}.\n"
        verb = "moved" if meeting.ical_sequence else "booked"
        return f"{who} {verb} «{meeting.title}»: {when_text(meeting, zone)}.\n"
    hello = f"Hello {recipient.name.split(' ')[0]},\n\n" if recipient.name else ""
    when = when_text(meeting, meeting.time_zone)
    if method == "CANCEL":
        return f"{hello}«{meeting.title}» of {when} is cancelled.\n"
    verb = "was moved" if meeting.ical_sequence else "is booked"
    return (
        f"{hello}«{meeting.title}» {verb}: {when}.\n\n"
        f"To cancel or pick another time: {manage_url(meeting)}\n"
    )


def invitation_bytes(
    meeting: Meeting, mailbox: Mailbox, recipient: Recipient, method: str
) -> tuple[bytes, str]:
    """The message to one recipient, exactly as it goes on the wire, and its Message-ID."""
    message = MIMEMultipart("alternative", policy=BUILD_POLICY)
    message["From"] = formataddr((sender_name(meeting, mailbox), mailbox.email), charset="utf-8")
    message["To"] = formataddr((recipient.name, recipient.email), charset="utf-8")
    subject = subject_for(meeting, method)
    # Message accepts a Header object, typeshed declares str only.
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    message["Date"] = format_datetime(timezone.now())
    message_id = new_message_id(mailbox)
    message["Message-ID"] = message_id
    message.attach(text_part(body_for(meeting, recipient, method), "plain"))
    calendar = text_part(calendar_for(meeting, mailbox, method).to_ical().decode(), "calendar")
    calendar.set_param("method", method)
    message.attach(calendar)
    return message.as_bytes(policy=WIRE_POLICY), message_id


def recipients_of(meeting: Meeting, mailbox: Mailbox) -> list[Recipient]:
    attendees = [Recipient(a.email, a.name) for a in meeting.attendees.order_by("pk")]
    organizer = Recipient(mailbox.email, sender_name(meeting, mailbox), is_organizer=True)
    return [*attendees, organizer]


def attendee_contact(meeting: Meeting) -> Contact | None:
    attendee = meeting.attendees.exclude(contact=None).select_related("contact").first()
    return attendee.contact if attendee else None


def already_sent(meeting: Meeting, sequence: int, email: str) -> bool:
    return LedgerEvent.objects.filter(
        kind="invitation_sent",
        data__meeting=meeting.pk,
        data__sequence=sequence,
        data__recipient=email,
    ).exists()


def retry_delay(attempt: int) -> dt.timedelta:
    delays = settings.CADENCY_RETRY_DELAYS or [60]
    return dt.timedelta(seconds=delays[min(attempt, len(delays)) - 1])


def deliver(meeting_id: int, sequence: int, attempt: int = 1) -> Delivery:
    """Send the meeting's current invitation (for ``sequence``) to whoever has not got it."""
    meeting = Meeting.objects.select_related("organizer", "link").filter(pk=meeting_id).first()
    if meeting is None:
        return Delivery.MISSING
    if meeting.ical_sequence != sequence:
        return Delivery.SUPERSEDED
    try:
        mailbox = choose_mailbox(meeting.organizer, None)
    except EnrollmentRefused as exc:
        return retry_or_give_up(meeting, attempt, [exc.message])
    method = method_for(meeting)
    temporary: list[str] = []
    for recipient in recipients_of(meeting, mailbox):
        if already_sent(meeting, sequence, recipient.email):
            continue
        raw, message_id = invitation_bytes(meeting, mailbox, recipient, method)
        outcome = send_message(mailbox, raw, recipient.email)
        if outcome.status == SendStatus.ACCEPTED:
            record_sent(meeting, method, recipient, message_id, mailbox)
        elif outcome.status == SendStatus.TEMPORARY:
            temporary.append(f"{recipient.email}: {outcome.detail}")
        else:
            record_event(
                kind="invitation_failed",
                contact=attendee_contact(meeting),
                sentence=f"The invitation «{meeting.title}» ({method}) to {recipient.email} "
                f"was refused by {mailbox.email}'s server: {outcome.detail}",
                data={"meeting": meeting.pk, "sequence": sequence, "recipient": recipient.email},
            )
    if temporary:
        return retry_or_give_up(meeting, attempt, temporary)
    return Delivery.SENT


def record_sent(
    meeting: Meeting, method: str, recipient: Recipient, message_id: str, mailbox: Mailbox
) -> None:
    record_event(
        kind="invitation_sent",
        contact=attendee_contact(meeting),
        sentence=f"Sent the invitation «{meeting.title}» ({method}, update "
        f"{meeting.ical_sequence}) from {mailbox.email} to {recipient.email}.",
        data={
            "meeting": meeting.pk,
            "sequence": meeting.ical_sequence,
            "method": method,
            "recipient": recipient.email,
            "message_id": message_id,
        },
    )


def retry_or_give_up(meeting: Meeting, attempt: int, problems: list[str]) -> Delivery:
    from cadency.meetings.tasks import send_invitation

    what = "; ".join(problems)
    contact = attendee_contact(meeting)
    data = {"meeting": meeting.pk, "sequence": meeting.ical_sequence, "attempt": attempt}
    if attempt >= MAX_ATTEMPTS:
        record_event(
            kind="invitation_failed",
            contact=contact,
            sentence=f"Gave up sending the invitation «{meeting.title}» after {attempt} "
            f"attempts: {what}. The meeting stands; tell the attendee another way.",
            data=data,
        )
        return Delivery.FAILED
    later = timezone.now() + retry_delay(attempt)
    send_invitation.using(run_after=later).enqueue(meeting.pk, meeting.ical_sequence, attempt + 1)
    record_event(
        kind="invitation_delayed",
        contact=contact,
        sentence=f"The invitation «{meeting.title}» could not be sent yet ({what}); "
        f"trying again at {later:%Y-%m-%d %H:%M} UTC.",
        data=data,
    )
    return Delivery.RETRY_LATER
