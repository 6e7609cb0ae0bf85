"""Calendar replies by email (issue 5, item 5): a contact's answer to an invitation,
as Google Calendar, Outlook / Exchange and Apple Calendar send it, through the
real classifier and the identify → decide → act stages, on real rows."""

import datetime as dt
import itertools
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact, ContactEmail
from cadency.inbound.calendar_replies import read_reply
from cadency.inbound.models import InboundMessage
from cadency.inbound.pipeline import process_message
from cadency.ledger.models import Event
from cadency.mailboxes.models import Mailbox
from cadency.meetings import rules
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingLink, MeetingSource
from cadency.sequences.models import Enrollment
from tests.factories import make_contact
from tests.inbound.support import enrolled, rep, sequence, stored

pytestmark = pytest.mark.django_db

UID = "cad-mtg-4k2v9x7q1m3z@example.test"
STARTS = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
STYLES = ("google", "outlook", "apple")
_ids = itertools.count(1)

# --- the messages: what each calendar sends -------------------------------------------


def google_ics(partstat: str, *, uid: str, attendee: str, organizer: str, comment: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REPLY",
        "BEGIN:VEVENT",
        "DTSTART:20261201T150000Z",
        "DTEND:20261201T153000Z",
        "DTSTAMP:20261128T100200Z",
        f"ORGANIZER;CN=Alice Martin:mailto:{organizer}",
        f"UID:{uid}",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT="
        f"{partstat};CN=Jane Doe;X-NUM-GUESTS=0:mailto:{attendee}",
        *([f"COMMENT:{comment}"] if comment else []),
        "CREATED:20261127T080000Z",
        "DESCRIPTION:",
        "LAST-MODIFIED:20261128T100200Z",
        "LOCATION:https://meet.example.test/alice/intro",
        "SEQUENCE:0",
        "STATUS:CONFIRMED",
        "SUMMARY:Intro call",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


OUTLOOK_PREFIX = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}
EMPTY_NOTE = "\\n"  # Outlook sends this COMMENT with every answer: an escaped new line


def outlook_ics(partstat: str, *, uid: str, attendee: str, organizer: str, comment: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "METHOD:REPLY",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "BEGIN:VTIMEZONE",
        "TZID:W. Europe Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"ORGANIZER;CN=Alice Martin:mailto:{organizer}",
        f"ATTENDEE;PARTSTAT={partstat};CN=Jane Doe:mailto:{attendee}",
        f"COMMENT;LANGUAGE=en-GB:{comment or EMPTY_NOTE}",
        f"SUMMARY;LANGUAGE=en-GB:{OUTLOOK_PREFIX[partstat]}: Intro call",
        "DTSTART;TZID=W. Europe Standard Time:20261201T160000",
        "DTEND;TZID=W. Europe Standard Time:20261201T163000",
        f"UID:{uid}",
        "CLASS:PUBLIC",
        "PRIORITY:5",
        "DTSTAMP:20261128T100200Z",
        "TRANSP:OPAQUE",
        "STATUS:CONFIRMED",
        "SEQUENCE:0",
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
        "X-MICROSOFT-ISRESPONSE:TRUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def apple_ics(partstat: str, *, uid: str, attendee: str, organizer: str, comment: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "CALSCALE:GREGORIAN",
        "VERSION:2.0",
        "METHOD:REPLY",
        "PRODID:-//Apple Inc.//macOS 15.6//EN",
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        "BEGIN:DAYLIGHT",
        "DTSTART:20070311T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
        "TZNAME:EDT",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:20071104T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
        "TZNAME:EST",
        "TZOFFSETFROM:-0400",
        "TZOFFSETTO:-0500",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f'ATTENDEE;CN="Jane Doe";CUTYPE=INDIVIDUAL;EMAIL="{attendee}";PARTSTAT={partstat}:',
        f" mailto:{attendee}",
        *([f"COMMENT:{comment}"] if comment else []),
        "DTEND;TZID=America/New_York:20261201T103000",
        "DTSTAMP:20261128T100200Z",
        "DTSTART;TZID=America/New_York:20261201T100000",
        "LAST-MODIFIED:20261128T100200Z",
        f'ORGANIZER;CN="Alice Martin";EMAIL="{organizer}":mailto:{organizer}',
        "SEQUENCE:0",
        "SUMMARY:Intro call",
        f"UID:{uid}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


SAYS = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentatively accepted"}


def calendar_reply(
    style: str,
    partstat: str = "ACCEPTED",
    *,
    uid: str = UID,
    attendee: str = "jane@acme.test",
    organizer: str = "alice@example.test",
    sender: str = "",
    to: str = "",
    comment: str = "",
    message_id: str = "",
) -> EmailMessage:
    """A METHOD:REPLY message shaped as ``style`` (google, outlook, apple) sends it."""
    fields = {"uid": uid, "attendee": attendee, "organizer": organizer, "comment": comment}
    message = EmailMessage()
    message["From"] = f"Jane Doe <{sender or attendee}>"
    message["To"] = to or f"Alice Martin <{organizer}>"
    message["Date"] = "Sat, 28 Nov 2026 10:02:00 +0000"
    message["Message-ID"] = message_id or f"<calendar-reply.{next(_ids)}@mail.acme.test>"
    says = f"Jane Doe has {SAYS[partstat]} this invitation."
    if style == "google":
        ics = google_ics(partstat, **fields)
        message["Subject"] = (
            f"{OUTLOOK_PREFIX[partstat]}: Intro call @ Tue 1 Dec 2026 15:00 - 15:30 (UTC) "
            f"({organizer})"
        )
        message["Sender"] = "Google Calendar <calendar-notification@google.test>"
        message["Reply-To"] = f"Jane Doe <{attendee}>"
        message.set_content(f"{says}\n\n{comment}\n\nInvitation from Google Calendar\n")
        message.add_alternative(f"<p>{says}</p>", subtype="html")
        message.add_alternative(ics, subtype="calendar", params={"method": "REPLY"}, cte="base64")
        message.add_attachment(
            ics.encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    elif style == "outlook":
        ics = outlook_ics(partstat, **fields)
        message["Subject"] = f"{OUTLOOK_PREFIX[partstat]}: Intro call"
        message["Thread-Topic"] = "Intro call"
        message["X-MS-Has-Attach"] = ""
        message["X-MS-TNEF-Correlator"] = ""
        message.set_content(f"{comment}\n")
        message.add_alternative(f"<html><body>{comment}</body></html>", subtype="html")
        message.add_alternative(ics, subtype="calendar", params={"method": "REPLY"}, cte="base64")
    else:
        ics = apple_ics(partstat, **fields)
        message["Subject"] = f"{OUTLOOK_PREFIX[partstat]}: Intro call"
        message["X-Mailer"] = "Apple Mail (2.3826.300.87.4.3)"
        message.set_content(f"Jane Doe has {SAYS[partstat]} your invitation.\n")
        message.add_attachment(
            ics,
            subtype="calendar",
            params={"method": "REPLY"},
            cte="quoted-printable",
            filename="iCal-20261128-100200.ics",
        )
    return message


# --- the rows --------------------------------------------------------------------------


@pytest.fixture
def alice() -> tuple[User, Mailbox]:
    return rep("alice")  # mailbox alice@example.test


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe")


def invitation(organizer: User, *attendees: Contact, **fields: Any) -> Meeting:
    """A meeting the organizer invited people to by email, not answered yet."""
    defaults: dict[str, Any] = {
        "title": "Intro call",
        "starts_at": STARTS,
        "ends_at": STARTS + dt.timedelta(minutes=30),
        "source": MeetingSource.INVITATION,
        "ical_uid": UID,
        "logged_at": timezone.now(),
    }
    meeting = Meeting.objects.create(organizer=organizer, **{**defaults, **fields})
    for contact in attendees:
        MeetingAttendee.objects.create(
            meeting=meeting, email=contact.email, name=contact.full_name, contact=contact
        )
    return meeting


def receive(mailbox: Mailbox, message: EmailMessage) -> InboundMessage:
    """The message reaches the mailbox: stored, classified for real, decided, acted on."""
    return process_message(stored(mailbox, raw=message.as_bytes()))


def fresh(enrollment: Enrollment) -> Enrollment:
    enrollment.refresh_from_db()
    return enrollment


def answer_of(meeting: Meeting) -> str:
    return meeting.attendees.get().response


def kinds(**filters: Any) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("pk").values_list("kind", flat=True))


# --- reading the answer ------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_each_calendars_reply_is_read_with_uid_attendee_organizer_and_time(style: str) -> None:
    reply = read_reply(calendar_reply(style, "TENTATIVE").as_bytes())
    assert reply is not None
    assert (reply.uid, reply.partstat, reply.attendee, reply.organizer) == (
        UID,
        "TENTATIVE",
        "jane@acme.test",
        "alice@example.test",
    )
    assert (reply.starts_at, reply.ends_at) == (STARTS, STARTS + dt.timedelta(minutes=30))
    assert reply.title == "Intro call", "Outlook's 'Tentative:' prefix is not the title"
    assert reply.comment == "", "Outlook's empty note is no note"


def test_an_invitation_or_a_broken_calendar_is_no_answer() -> None:
    ics = google_ics(
        "NEEDS-ACTION", uid=UID, attendee="j@acme.test", organizer="a@x.test", comment=""
    )
    request = (
        "From: Alice Martin <alice@example.test>\r\nSubject: Invitation: Intro call\r\n"
        "Content-Type: text/calendar; method=REQUEST\r\n\r\n"
        + ics.replace("METHOD:REPLY", "METHOD:REQUEST")
    )
    assert read_reply(request.encode()) is None
    broken = "Content-Type: text/calendar; method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n"
    assert read_reply(broken.encode()) is None


# --- accepted: a booked meeting ------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_an_accepted_reply_to_the_enrolling_users_invitation_ends_it_meeting_booked(
    style: str, alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    meeting = invitation(user, jane)

    message = receive(mailbox, calendar_reply(style))

    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")
    assert enrollment.reason_text == (
        "Jane Doe accepted Alice Example's invitation «Intro call» for 2026-12-01 15:00 UTC "
        "from jane@acme.test on 2026-11-28 10:02 UTC: a meeting booked; unenrolled from «Intro»."
    )
    evidence = enrollment.evidence
    assert (evidence["meeting"], evidence["inbound_message"]) == (meeting.pk, message.pk)
    assert evidence["message_id"] == message.message_id
    assert evidence["rule"] == "organizer_is_enrolling_user"
    assert evidence["inbound_rule"] == "meeting_accepted"
    assert evidence["match"] == "attendee:primary"
    assert evidence["calendar"]["uid"] == UID
    assert evidence["classification"]["label"] == "calendar_reply"
    meeting.refresh_from_db()
    assert (meeting.status, answer_of(meeting)) == ("accepted", "accepted")
    assert message.label == "calendar_reply"
    assert (message.decision, message.enrollment_id) == ("unenrolled", enrollment.pk)
    assert message.decision_evidence["rules"] == ["meeting_accepted"]
    assert message.decision_evidence["effects"][0]["outcome"] == "unenrolled"
    assert kinds(enrollment=enrollment)[-3:] == [
        "meeting_accepted",
        "unenrolled",
        "message_received",
    ]
    assert kinds(data__inbound_message=message.pk).count("meeting_unenrolled") == 1


def test_an_attendee_answering_from_an_alias_is_the_invited_contact(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    ContactEmail.objects.create(contact=jane, email="jane.doe@gmail.com")
    enrollment = enrolled(user, jane)
    meeting = invitation(user, jane)

    receive(mailbox, calendar_reply("google", attendee="Jane.Doe@googlemail.com"))

    enrollment = fresh(enrollment)
    assert enrollment.reason == "meeting_booked"
    assert enrollment.evidence["match"] == "attendee:googlemail+case"
    assert answer_of(meeting) == "accepted"


def test_an_unknown_uid_from_the_reps_own_calendar_becomes_a_meeting_that_ends_it(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)

    message = receive(mailbox, calendar_reply("outlook", uid="040000008200E00074C5B7101A82E008"))

    meeting = Meeting.objects.get()
    assert (meeting.source, meeting.organizer, meeting.status) == ("invitation", user, "accepted")
    assert (meeting.title, meeting.starts_at, meeting.ical_uid) == (
        "Intro call",
        STARTS,
        "040000008200E00074C5B7101A82E008",
    )
    assert timezone.now() - meeting.logged_at < dt.timedelta(minutes=1)
    attendee = meeting.attendees.get()
    assert (attendee.email, attendee.contact, attendee.response) == (
        "jane@acme.test",
        jane,
        "accepted",
    )
    enrollment = fresh(enrollment)
    assert enrollment.reason == "meeting_booked"
    assert enrollment.evidence["meeting"] == meeting.pk
    assert message.decision_evidence["effects"][0]["detail"] == (
        f"meeting {meeting.pk} created, accepted"
    )


def test_a_second_contact_accepting_the_same_invitation_joins_the_meeting(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    john = make_contact("john@acme.test", first_name="John", last_name="Roe")
    janes, johns = enrolled(user, jane), enrolled(user, john)

    receive(mailbox, calendar_reply("apple"))
    receive(mailbox, calendar_reply("apple", attendee="john@acme.test"))

    meeting = Meeting.objects.get()
    assert sorted(meeting.attendees.values_list("email", "response")) == [
        ("jane@acme.test", "accepted"),
        ("john@acme.test", "accepted"),
    ]
    assert fresh(janes).reason == fresh(johns).reason == "meeting_booked"


def test_a_replayed_reply_changes_nothing_the_second_time(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    reply = calendar_reply("google", uid="replayed-uid@example.test")

    first = receive(mailbox, reply)
    reply.replace_header("Message-ID", "<calendar-reply.resent@mail.acme.test>")
    again = receive(mailbox, reply)
    process_message(first, force=True)

    assert Meeting.objects.count() == 1
    assert kinds().count("meeting_accepted") == 1
    assert kinds().count("meeting_unenrolled") == 1
    assert kinds(enrollment=enrollment).count("unenrolled") == 1
    assert fresh(enrollment).evidence["inbound_message"] == first.pk
    assert again.decision == "no_enrollment"
    assert again.decision_evidence["effects"][0]["outcome"] == "already_recorded"


def test_a_meeting_booked_through_the_link_is_not_counted_again_when_accepted(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    link = MeetingLink.objects.create(user=user, slug="intro", title="Intro call")
    booked = invitation(user, jane, source=MeetingSource.BOOKING, link=link)
    rules.apply_meeting(booked)
    ended_by_booking = fresh(enrollment).evidence

    receive(mailbox, calendar_reply("outlook"))

    enrollment = fresh(enrollment)
    assert (enrollment.reason, enrollment.evidence) == ("meeting_booked", ended_by_booking)
    assert kinds(enrollment=enrollment).count("unenrolled") == 1
    assert kinds().count("meeting_unenrolled") == 1
    booked.refresh_from_db()
    assert (booked.status, answer_of(booked)) == ("accepted", "accepted")


# --- accepted, but not the enrolling user's booked meeting: the contact emailing ----------


def test_an_accepted_reply_to_another_users_invitation_does_not_book_a_meeting(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, _ = alice
    bob, bobs_mailbox = rep("bob")
    enrollment = enrolled(user, jane)
    meeting = invitation(bob, jane)

    receive(bobs_mailbox, calendar_reply("google", organizer="bob@example.test"))

    assert fresh(enrollment).status == "active", "Jane wrote to Bob, not to Alice"
    meeting.refresh_from_db()
    assert (meeting.status, answer_of(meeting)) == ("accepted", "accepted")


def test_an_unknown_uid_organized_by_another_user_counts_as_the_contact_emailing(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    rep("bob")
    enrollment = enrolled(user, jane)

    # Bob's invitation, the answer sent to Alice too (a shared calendar, a forward).
    receive(
        mailbox, calendar_reply("google", organizer="bob@example.test", to="alice@example.test")
    )

    assert (fresh(enrollment).status, fresh(enrollment).reason) == ("unenrolled", "emailed")
    assert not Meeting.objects.exists()


def test_accepting_a_meeting_logged_before_the_enrollment_counts_as_the_contact_emailing(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    meeting = invitation(user, jane, logged_at=enrollment.started_at - dt.timedelta(days=1))

    receive(mailbox, calendar_reply("apple"))

    assert fresh(enrollment).reason == "emailed"
    assert answer_of(meeting) == "accepted"


def test_a_counter_proposal_is_the_contact_emailing(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    meeting = invitation(user, jane)
    counter = calendar_reply("outlook")
    for part in counter.walk():
        if part.get_content_type() == "text/calendar":
            ics = outlook_ics(
                "TENTATIVE",
                uid=UID,
                attendee="jane@acme.test",
                organizer="alice@example.test",
                comment="Friday instead?",
            )
            part.set_content(
                ics.replace("METHOD:REPLY", "METHOD:COUNTER"),
                subtype="calendar",
                params={"method": "COUNTER"},
                cte="base64",
            )

    receive(mailbox, counter)

    assert fresh(enrollment).reason == "emailed"
    assert answer_of(meeting) == "needs_action"


def test_an_answer_from_someone_who_is_no_contact_changes_no_enrollment(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    meeting = invitation(user)
    MeetingAttendee.objects.create(meeting=meeting, email="ana@globex.test", name="Ana")

    message = receive(mailbox, calendar_reply("google", attendee="ana@globex.test"))

    assert fresh(enrollment).status == "active"
    assert answer_of(meeting) == "accepted"
    assert message.decision == "no_enrollment"


# --- declined or tentative: the enrollment runs on ---------------------------------------


@pytest.mark.parametrize("partstat", ["DECLINED", "TENTATIVE"])
@pytest.mark.parametrize("style", STYLES)
def test_a_decline_or_tentative_answer_without_a_note_leaves_the_enrollment_running(
    style: str, partstat: str, alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    meeting = invitation(user, jane)

    message = receive(mailbox, calendar_reply(style, partstat))

    assert fresh(enrollment).status == "active"
    meeting.refresh_from_db()
    assert (meeting.status, answer_of(meeting)) == ("scheduled", partstat.lower())
    assert message.decision == "timeline_only"
    assert message.decision_evidence["rules"] == [f"meeting_{partstat.lower()}"]
    assert message.decision_evidence["sentence"].endswith(
        "without a note: recorded; «Intro» continues."
    )
    assert kinds(enrollment=enrollment)[-2:] == [f"meeting_{partstat.lower()}", "message_received"]


def test_a_decline_of_an_unknown_invitation_of_the_rep_is_recorded_once(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)

    message = receive(mailbox, calendar_reply("google", "DECLINED", uid="sent-from-outlook@x.test"))
    process_message(message, force=True)

    assert fresh(enrollment).status == "active"
    assert not Meeting.objects.exists(), "a declined invitation makes no meeting"
    assert kinds().count("meeting_declined") == 1


@pytest.mark.parametrize("style", STYLES)
def test_a_decline_with_a_note_is_the_contact_writing_to_the_rep(
    style: str, alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrollment = enrolled(user, jane)
    meeting = invitation(user, jane)

    receive(mailbox, calendar_reply(style, "DECLINED", comment="Could we try Thursday instead?"))

    assert (fresh(enrollment).status, fresh(enrollment).reason) == ("unenrolled", "emailed")
    assert answer_of(meeting) == "declined"


@pytest.mark.parametrize(
    ("partstat", "colleague_after"),
    [
        ("DECLINED", ("active", "")),  # no conversation: nobody's enrollment ends
        ("ACCEPTED", ("unenrolled", "company_replied")),  # a person of the company answered
    ],
)
def test_the_company_rule_follows_what_the_answer_is(
    partstat: str, colleague_after: tuple[str, str], alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    accounts = sequence(user, name="Accounts", unenroll_same_company=True)
    john = make_contact("john@acme.test", first_name="John", last_name="Roe")
    janes, johns = enrolled(user, jane, accounts), enrolled(user, john, accounts)
    invitation(user, jane)

    receive(mailbox, calendar_reply("google", partstat))

    assert fresh(janes).status == ("active" if partstat == "DECLINED" else "unenrolled")
    assert (fresh(johns).status, fresh(johns).reason) == colleague_after


# --- the Inbound page ------------------------------------------------------------------------


def test_the_inbound_page_shows_the_meeting_decision(
    alice: tuple[User, Mailbox], jane: Contact
) -> None:
    user, mailbox = alice
    enrolled(user, jane)
    meeting = invitation(user, jane)
    message = receive(mailbox, calendar_reply("google"))
    client = Client()
    client.force_login(user)

    html = client.get(f"/inbound/{message.pk}/").content.decode()

    assert "meeting_accepted" in html
    assert "a meeting booked; unenrolled from «Intro»" in html
    assert f"meeting {meeting.pk} accepted" in html
    assert "meeting_unenrolled" in html
