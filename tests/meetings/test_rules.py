"""SPEC §3 "Meetings", one test per sentence, on Meeting rows built directly."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.deals.models import Deal
from cadency.ledger.models import Event
from cadency.meetings.models import (
    AttendeeResponse,
    Meeting,
    MeetingAttendee,
    MeetingLink,
    MeetingSource,
    MeetingStatus,
)
from cadency.meetings.rules import apply_meeting, endings_for
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    StepRun,
    StepRunState,
    UnenrollReason,
)
from cadency.sequences.services.enrollment import enroll, pause
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


def rep(username: str, first_name: str) -> User:
    user = make_user(username, first_name=first_name, last_name="Example")
    make_mailbox(user)
    return user


@pytest.fixture
def alice() -> User:
    """The rep who enrolls the contact."""
    return rep("alice", "Alice")


@pytest.fixture
def carol() -> User:
    """Another rep."""
    return rep("carol", "Carol")


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", company=make_company("Acme", "acme.test"))


def enrolled(contact: Contact, user: User) -> Enrollment:
    return enroll(
        contact=contact,
        sequence=make_sequence(user, name=f"Intro {contact.email}"),
        user=user,
        run_first_step=False,
    )


def meeting(
    organizer: User,
    source: MeetingSource,
    attendees: list[Contact | str],
    *,
    starts_in: dt.timedelta = dt.timedelta(days=2),
    **fields: object,
) -> Meeting:
    starts_at = timezone.now() + starts_in
    row = Meeting.objects.create(
        organizer=organizer,
        title="Discovery call",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        source=source,
        **fields,
    )
    for attendee in attendees:
        if isinstance(attendee, Contact):
            MeetingAttendee.objects.create(meeting=row, email=attendee.email, contact=attendee)
        else:
            MeetingAttendee.objects.create(meeting=row, email=attendee)
    return row


def link_of(user: User) -> MeetingLink:
    return MeetingLink.objects.create(user=user, slug="intro", title="Intro call")


def still_open(enrollment: Enrollment) -> bool:
    enrollment.refresh_from_db()
    return enrollment.status in {EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED}


def ended_by_meeting(enrollment: Enrollment) -> bool:
    enrollment.refresh_from_db()
    return (
        enrollment.status == EnrollmentStatus.UNENROLLED
        and enrollment.reason == UnenrollReason.MEETING_BOOKED
    )


# --- "Booking through the enrolling user's meeting link, or through any meeting link
# that was in a sequence email sent to this contact (even another user's), unenrolls."


def test_booking_through_the_enrolling_users_link_unenrolls(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    booked = meeting(alice, MeetingSource.BOOKING, [jane], link=link_of(alice))
    assert apply_meeting(booked) == [enrollment]
    assert ended_by_meeting(enrollment)
    assert enrollment.evidence["rule"] == "enrolling_users_link"


def test_booking_through_another_users_link_from_a_sequence_email_of_this_enrollment_unenrolls(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    booked = meeting(
        carol, MeetingSource.BOOKING, [jane], link=link_of(carol), via_enrollment=enrollment
    )
    apply_meeting(booked)
    assert ended_by_meeting(enrollment)
    assert enrollment.evidence["rule"] == "link_in_sequence_email"
    assert enrollment.evidence["link"] == booked.link_id


def test_booking_through_another_users_link_not_from_a_sequence_email_does_not_unenroll(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    booked = meeting(carol, MeetingSource.BOOKING, [jane], link=link_of(carol))
    assert apply_meeting(booked) == []
    assert still_open(enrollment)


def test_a_link_from_an_earlier_sequence_email_to_this_contact_still_counts(
    alice: User, carol: User, jane: Contact
) -> None:
    """ "A sequence email sent to this contact": the email may belong to a past enrollment."""
    earlier = enrolled(jane, carol)
    earlier.status = EnrollmentStatus.FINISHED
    earlier.save(update_fields=["status"])
    current = enrolled(jane, alice)
    booked = meeting(
        carol, MeetingSource.BOOKING, [jane], link=link_of(carol), via_enrollment=earlier
    )
    apply_meeting(booked)
    assert ended_by_meeting(current)


def test_booking_from_a_sequence_email_with_another_address_ends_that_emails_enrollment(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    booked = meeting(
        carol,
        MeetingSource.BOOKING,
        ["jane.private@home.test"],
        link=link_of(carol),
        via_enrollment=enrollment,
    )
    apply_meeting(booked)
    assert ended_by_meeting(enrollment)
    assert enrollment.evidence["attendee"] == ""


def test_a_link_from_another_contacts_sequence_email_ends_only_that_contacts_enrollment(
    alice: User, carol: User, jane: Contact
) -> None:
    sam = make_contact("sam@globex.test", first_name="Sam")
    janes = enrolled(jane, alice)
    sams = enrolled(sam, alice)
    # Jane forwarded the sequence email carrying Carol's link; Sam booked through it.
    booked = meeting(carol, MeetingSource.BOOKING, [sam], link=link_of(carol), via_enrollment=janes)
    apply_meeting(booked)
    assert ended_by_meeting(janes)
    assert still_open(sams)


# --- "A meeting created on the contact record, or found on a connected calendar,
# unenrolls only when its organizer is the user who enrolled the contact."


def test_created_on_the_contact_record_by_the_enrolling_user_unenrolls(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(alice, MeetingSource.CONTACT_RECORD, [jane], created_by=alice))
    assert ended_by_meeting(enrollment)


def test_created_on_the_contact_record_by_another_user_does_not_unenroll(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    assert (
        apply_meeting(meeting(carol, MeetingSource.CONTACT_RECORD, [jane], created_by=carol)) == []
    )
    assert still_open(enrollment)


def test_on_the_contact_record_the_organizer_decides_not_who_logged_it(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(carol, MeetingSource.CONTACT_RECORD, [jane], created_by=alice))
    assert still_open(enrollment)
    apply_meeting(meeting(alice, MeetingSource.CONTACT_RECORD, [jane], created_by=carol))
    assert ended_by_meeting(enrollment)


def test_found_on_a_calendar_organized_by_the_enrolling_user_unenrolls(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(alice, MeetingSource.CALENDAR, [jane], ical_uid="abc@calendar.test"))
    assert ended_by_meeting(enrollment)
    assert enrollment.evidence["source"] == "calendar"


def test_found_on_a_calendar_organized_by_another_user_does_not_unenroll(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(carol, MeetingSource.CALENDAR, [jane], ical_uid="abc@calendar.test"))
    assert still_open(enrollment)


def test_an_accepted_invitation_from_the_enrolling_user_unenrolls(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(carol, MeetingSource.INVITATION, [jane], status=MeetingStatus.ACCEPTED))
    assert still_open(enrollment)
    apply_meeting(meeting(alice, MeetingSource.INVITATION, [jane], status=MeetingStatus.ACCEPTED))
    assert ended_by_meeting(enrollment)


# --- "A meeting logged on an associated record (company, deal) counts only if it is
# also associated with the contact."


def test_logged_on_the_company_record_with_the_contact_as_attendee_unenrolls(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(alice, MeetingSource.COMPANY_RECORD, [jane], company=jane.company))
    assert ended_by_meeting(enrollment)
    assert enrollment.evidence["rule"] == "associated_with_contact"


def test_logged_on_the_company_record_without_the_contact_does_not_unenroll(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    colleague = make_contact("tom@acme.test", first_name="Tom", company=jane.company)
    apply_meeting(meeting(alice, MeetingSource.COMPANY_RECORD, [colleague], company=jane.company))
    assert still_open(enrollment)


def test_logged_on_the_deal_record_with_the_contact_as_attendee_unenrolls(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    deal = Deal.objects.create(name="Acme rollout", company=jane.company)
    apply_meeting(meeting(alice, MeetingSource.DEAL_RECORD, [jane], deal=deal))
    assert ended_by_meeting(enrollment)


def test_logged_on_the_deal_record_without_the_contact_does_not_unenroll_even_if_on_the_deal(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    deal = Deal.objects.create(name="Acme rollout", company=jane.company)
    deal.contacts.add(jane)
    apply_meeting(meeting(alice, MeetingSource.DEAL_RECORD, ["buyer@acme.test"], deal=deal))
    assert still_open(enrollment)


@pytest.mark.parametrize("source", [MeetingSource.COMPANY_RECORD, MeetingSource.DEAL_RECORD])
def test_on_an_associated_record_another_users_meeting_does_not_unenroll(
    alice: User, carol: User, jane: Contact, source: MeetingSource
) -> None:
    """As on the contact record: associated with the contact, but not the enrolling user's."""
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(carol, source, [jane], company=jane.company))
    assert still_open(enrollment)


# --- "What counts is that the meeting was logged while the contact was enrolled,
# even if the meeting itself is in the past."


def test_logged_while_enrolled_counts_even_if_the_meeting_is_in_the_past(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    past = meeting(alice, MeetingSource.CONTACT_RECORD, [jane], starts_in=-dt.timedelta(days=30))
    assert past.starts_at < enrollment.started_at <= past.logged_at
    apply_meeting(past)
    assert ended_by_meeting(enrollment)


def test_logged_before_the_enrollment_does_not_count(alice: User, jane: Contact) -> None:
    earlier = meeting(
        alice,
        MeetingSource.CONTACT_RECORD,
        [jane],
        logged_at=timezone.now() - dt.timedelta(hours=1),
    )
    enrollment = enrolled(jane, alice)
    assert apply_meeting(earlier) == []
    assert still_open(enrollment)


def test_logged_before_the_enrollment_does_not_count_even_when_booked_through_the_link(
    alice: User, jane: Contact
) -> None:
    earlier = meeting(
        alice,
        MeetingSource.BOOKING,
        [jane],
        link=link_of(alice),
        logged_at=timezone.now() - dt.timedelta(hours=1),
    )
    enrollment = enrolled(jane, alice)
    apply_meeting(earlier)
    assert still_open(enrollment)


# --- what "a meeting was booked" does not cover


def test_a_cancelled_meeting_does_not_unenroll(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    cancelled = meeting(
        alice, MeetingSource.BOOKING, [jane], link=link_of(alice), status=MeetingStatus.CANCELLED
    )
    assert apply_meeting(cancelled) == []
    assert still_open(enrollment)


def test_an_attendee_who_declined_has_not_booked(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    declined = meeting(alice, MeetingSource.CALENDAR, [jane])
    declined.attendees.update(response=AttendeeResponse.DECLINED)
    apply_meeting(declined)
    assert still_open(enrollment)


def test_an_address_that_is_no_contacts_ends_nothing(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(alice, MeetingSource.CONTACT_RECORD, ["stranger@elsewhere.test"]))
    assert still_open(enrollment)


def test_a_paused_enrollment_ends_too(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    pause(enrollment=enrollment, actor=alice)
    apply_meeting(meeting(alice, MeetingSource.CONTACT_RECORD, [jane]))
    assert ended_by_meeting(enrollment)


# --- "Each automatic unenrollment stores its evidence and a sentence a person can read."


def test_the_enrollment_stores_the_meeting_as_evidence_and_a_readable_sentence(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    booked = meeting(
        carol,
        MeetingSource.BOOKING,
        [jane],
        link=link_of(carol),
        via_enrollment=enrollment,
        time_zone="Europe/Paris",
    )
    apply_meeting(booked)
    enrollment.refresh_from_db()
    assert enrollment.evidence == {
        "meeting": booked.pk,
        "title": "Discovery call",
        "starts_at": booked.starts_at.isoformat(),
        "link": booked.link_id,
        "via_enrollment": enrollment.pk,
        "source": "booking",
        "organizer": carol.pk,
        "attendee": "jane@acme.test",
        "rule": "link_in_sequence_email",
    }
    local = booked.starts_at.astimezone(ZoneInfo("Europe/Paris"))
    assert enrollment.reason_text == (
        f"Jane Doe (jane@acme.test) booked «Discovery call» for {local:%Y-%m-%d %H:%M} "
        "Europe/Paris through Carol Example's meeting link in a sequence email; "
        f"unenrolled from «{enrollment.sequence.name}» (meeting booked)."
    )
    unenrolled = Event.objects.get(kind="unenrolled", enrollment=enrollment)
    assert unenrolled.sentence == enrollment.reason_text
    assert unenrolled.data["evidence"]["meeting"] == booked.pk
    summary = Event.objects.get(kind="meeting_unenrolled")
    assert summary.data == {"meeting": booked.pk, "enrollments": [enrollment.pk]}


def test_the_sentence_names_the_organizer_for_a_meeting_on_a_record(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(alice, MeetingSource.CALENDAR, [jane]))
    enrollment.refresh_from_db()
    assert "organized by Alice Example (found on a connected calendar)" in enrollment.reason_text


def test_ending_cancels_the_steps_still_to_run(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    apply_meeting(meeting(alice, MeetingSource.CONTACT_RECORD, [jane]))
    states = set(StepRun.objects.filter(enrollment=enrollment).values_list("state", flat=True))
    assert states <= {StepRunState.CANCELLED}


def test_applying_a_meeting_twice_ends_the_enrollment_once(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    booked = meeting(alice, MeetingSource.CONTACT_RECORD, [jane])
    assert apply_meeting(booked) == [enrollment]
    assert apply_meeting(booked) == []
    assert Event.objects.filter(kind="unenrolled", enrollment=enrollment).count() == 1
    assert Event.objects.filter(kind="meeting_unenrolled").count() == 1


def test_deciding_writes_nothing(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    before = Event.objects.count()
    [ending] = endings_for(meeting(alice, MeetingSource.CONTACT_RECORD, [jane]))
    assert ending.enrollment == enrollment
    assert Event.objects.count() == before
    assert still_open(enrollment)
