"""log_meeting and cancel_meeting: what they write, what they refuse, whom they unenroll."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.contacts.models import Company, Contact
from cadency.contacts.services import add_alias
from cadency.deals.models import Deal
from cadency.ledger.models import Event
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingSource, MeetingStatus
from cadency.meetings.services import MeetingError, cancel_meeting, log_meeting, may_cancel
from cadency.sequences.models import Enrollment, EnrollmentStatus, UnenrollReason
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def rep(username: str, role: Role = Role.REP) -> User:
    user = make_user(username, role=role, first_name=username.capitalize(), last_name="Example")
    make_mailbox(user)
    return user


@pytest.fixture
def alice() -> User:
    return rep("alice")


@pytest.fixture
def carol() -> User:
    return rep("carol")


@pytest.fixture
def acme() -> Company:
    return make_company("Acme", "acme.test")


@pytest.fixture
def jane(acme: Company) -> Contact:
    return make_contact("jane@acme.test", company=acme)


def enrolled(contact: Contact, user: User) -> Enrollment:
    sequence = make_sequence(user, name=f"Intro {contact.email}")
    return enroll(contact=contact, sequence=sequence, user=user, run_first_step=False)


def log(actor: User, on: Contact | Company | Deal, **overrides: Any) -> Meeting:
    starts = dt.datetime(2026, 12, 3, 15, 0, tzinfo=PARIS)
    arguments: dict[str, Any] = {
        "actor": actor,
        "organizer": actor,
        "title": "Discovery call",
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(minutes=30),
        "time_zone": "Europe/Paris",
        "attendees": [],
        "on": on,
        "notes": "",
        "location": "",
    }
    return log_meeting(**(arguments | overrides))


def counts() -> tuple[int, int, int, int]:
    return (
        Meeting.objects.count(),
        MeetingAttendee.objects.count(),
        Event.objects.count(),
        Enrollment.objects.filter(status=EnrollmentStatus.UNENROLLED).count(),
    )


# --- logging


def test_logging_on_the_contact_record_makes_the_contact_an_attendee(
    alice: User, jane: Contact
) -> None:
    meeting = log(alice, jane, attendees=["pat@partner.test"], location="Room 4", notes=" Agenda ")
    assert meeting.source == MeetingSource.CONTACT_RECORD
    assert (meeting.company, meeting.deal, meeting.created_by) == (None, None, alice)
    assert (meeting.location, meeting.notes, meeting.status) == ("Room 4", "Agenda", "scheduled")
    attendees = list(meeting.attendees.order_by("pk").values_list("email", "contact_id", "name"))
    assert attendees == [("jane@acme.test", jane.pk, "Jane Doe"), ("pat@partner.test", None, "")]


def test_an_address_of_a_contact_links_the_attendee_to_it_alias_included(
    alice: User, jane: Contact
) -> None:
    sam = make_contact("sam@globex.test", first_name="Sam", last_name="Stone")
    add_alias(contact=sam, email="samuel@stone.test")
    meeting = log(alice, jane, attendees=["SAMUEL@stone.test", "jane@acme.test"])
    rows = dict(meeting.attendees.values_list("email", "contact_id"))
    assert rows == {"jane@acme.test": jane.pk, "samuel@stone.test": sam.pk}


def test_logging_on_a_company_sets_the_company_and_takes_the_chosen_attendees(
    alice: User, acme: Company, jane: Contact
) -> None:
    meeting = log(alice, acme, attendees=[jane, "cfo@acme.test"])
    assert (meeting.source, meeting.company, meeting.deal) == ("company_record", acme, None)
    assert sorted(meeting.attendees.values_list("email", flat=True)) == [
        "cfo@acme.test",
        "jane@acme.test",
    ]


def test_logging_on_a_deal_sets_the_deal_and_its_company(
    alice: User, acme: Company, jane: Contact
) -> None:
    deal = Deal.objects.create(name="Acme rollout", company=acme)
    meeting = log(alice, deal, attendees=[jane])
    assert (meeting.source, meeting.deal, meeting.company) == ("deal_record", deal, acme)


@pytest.mark.parametrize("days", [-40, 40])
def test_past_and_future_meetings_are_both_logged(alice: User, jane: Contact, days: int) -> None:
    starts = timezone.now() + dt.timedelta(days=days)
    meeting = log(alice, jane, starts_at=starts, ends_at=starts + dt.timedelta(hours=1))
    assert meeting.starts_at == starts


def test_logging_writes_a_ledger_event_with_a_readable_sentence(
    alice: User, carol: User, jane: Contact
) -> None:
    meeting = log(alice, jane, organizer=carol, attendees=["pat@partner.test"])
    event = Event.objects.get(kind="meeting_logged")
    assert (event.actor, event.contact) == (alice, jane)
    assert event.sentence == (
        "Alice Example logged the meeting «Discovery call» on 2026-12-03 15:00 Europe/Paris "
        "with Jane Doe (jane@acme.test), pat@partner.test, organized by Carol Example, "
        "on the record of Jane Doe (jane@acme.test)."
    )
    assert event.data == {
        "meeting": meeting.pk,
        "source": "contact_record",
        "organizer": carol.pk,
        "attendees": ["jane@acme.test", "pat@partner.test"],
        "company": None,
        "deal": None,
    }


def test_a_company_meeting_with_several_contacts_is_filed_under_none_of_them(
    alice: User, acme: Company, jane: Contact
) -> None:
    tom = make_contact("tom@acme.test", first_name="Tom", company=acme)
    log(alice, acme, attendees=[jane, tom])
    event = Event.objects.get(kind="meeting_logged")
    assert event.contact is None
    assert "on the company Acme." in event.sentence


def test_logging_on_the_record_by_the_enrolling_user_unenrolls(alice: User, jane: Contact) -> None:
    enrollment = enrolled(jane, alice)
    meeting = log(alice, jane)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", UnenrollReason.MEETING_BOOKED)
    assert enrollment.evidence["meeting"] == meeting.pk


def test_logging_on_the_record_by_another_organizer_leaves_the_enrollment(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    log(alice, jane, organizer=carol)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_logging_on_the_company_without_the_contact_leaves_the_enrollment(
    alice: User, acme: Company, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    log(alice, acme, attendees=["cfo@acme.test"])
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_logging_on_the_company_with_the_contact_by_the_enrolling_user_unenrolls(
    alice: User, acme: Company, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    log(alice, acme, attendees=["JANE@acme.test"])
    enrollment.refresh_from_db()
    assert enrollment.reason == UnenrollReason.MEETING_BOOKED


# --- refusals: a clear error, nothing written


def refused(alice: User, on: Contact | Company | Deal, **overrides: Any) -> MeetingError:
    before = counts()
    with pytest.raises(MeetingError) as caught:
        log(alice, on, **overrides)
    assert counts() == before
    return caught.value


def test_an_end_before_the_start_is_refused(alice: User, jane: Contact) -> None:
    enrolled(jane, alice)
    starts = dt.datetime(2026, 12, 3, 15, 0, tzinfo=PARIS)
    error = refused(alice, jane, ends_at=starts - dt.timedelta(minutes=1))
    assert (str(error), error.field) == ("The meeting must end after it starts.", "ends_at")
    assert refused(alice, jane, ends_at=starts).field == "ends_at"


def test_a_meeting_without_attendees_is_refused(alice: User, acme: Company) -> None:
    error = refused(alice, acme, attendees=[])
    assert (str(error), error.field) == ("Add at least one attendee.", "attendees")


def test_an_unknown_time_zone_is_refused(alice: User, jane: Contact) -> None:
    error = refused(alice, jane, time_zone="Mars/Olympus_Mons")
    assert error.field == "time_zone"
    assert "Unknown time zone 'Mars/Olympus_Mons'" in str(error)


def test_an_inactive_organizer_is_refused(alice: User, carol: User, jane: Contact) -> None:
    carol.is_active = False
    carol.save()
    error = refused(alice, jane, organizer=carol)
    assert (str(error), error.field) == (
        "Carol Example is deactivated and cannot organize meetings.",
        "organizer",
    )


def test_an_invalid_attendee_address_is_refused(alice: User, jane: Contact) -> None:
    error = refused(alice, jane, attendees=["not-an-address"])
    assert error.field == "attendees"
    assert "'not-an-address' is not a valid email address" in str(error)


def test_an_empty_or_too_long_title_is_refused(alice: User, jane: Contact) -> None:
    assert str(refused(alice, jane, title="   ")) == "Give the meeting a title."
    assert refused(alice, jane, title="x" * 301).field == "title"


def test_times_without_a_zone_are_refused(alice: User, jane: Contact) -> None:
    naive = dt.datetime(2026, 12, 3, 15, 0)
    assert refused(alice, jane, starts_at=naive, ends_at=naive + dt.timedelta(hours=1)).field == (
        "starts_at"
    )


def test_a_deleted_contact_takes_no_meeting(alice: User, jane: Contact) -> None:
    jane.deleted_at = timezone.now()
    jane.save()
    assert "deleted" in str(refused(alice, jane))
    other = make_contact("pat@acme.test")
    other.deleted_at = timezone.now()
    other.save()
    assert refused(alice, make_company("Globex", "globex.test"), attendees=[other]).field == (
        "attendees"
    )


# --- cancelling


def test_cancelling_marks_the_meeting_and_writes_an_event(alice: User, jane: Contact) -> None:
    meeting = log(alice, jane, attendees=["pat@partner.test"])
    cancel_meeting(meeting=meeting, actor=alice)
    assert meeting.status == MeetingStatus.CANCELLED
    event = Event.objects.get(kind="meeting_cancelled")
    assert (event.actor, event.contact, event.data) == (alice, jane, {"meeting": meeting.pk})
    assert event.sentence == (
        "Alice Example cancelled the meeting «Discovery call» of 2026-12-03 15:00 Europe/Paris."
    )


def test_cancelling_ends_nothing_and_restores_nothing(
    alice: User, carol: User, jane: Contact
) -> None:
    ended = enrolled(jane, alice)
    meeting = log(alice, jane)
    sam = make_contact("sam@globex.test")
    sams = enrolled(sam, carol)
    cancel_meeting(meeting=meeting, actor=alice)
    ended.refresh_from_db()
    sams.refresh_from_db()
    assert ended.status == EnrollmentStatus.UNENROLLED
    assert sams.status == EnrollmentStatus.ACTIVE


def test_cancelling_twice_is_refused_and_writes_nothing(alice: User, jane: Contact) -> None:
    meeting = log(alice, jane)
    cancel_meeting(meeting=meeting, actor=alice)
    before = counts()
    with pytest.raises(MeetingError, match="already cancelled"):
        cancel_meeting(meeting=meeting, actor=alice)
    assert counts() == before


def test_the_organizer_the_logger_a_manager_and_an_admin_may_cancel_another_rep_may_not(
    alice: User, carol: User, jane: Contact
) -> None:
    meeting = log(alice, jane, organizer=carol)
    assert may_cancel(alice, meeting) and may_cancel(carol, meeting)
    assert may_cancel(rep("maya", Role.MANAGER), meeting)
    assert may_cancel(rep("root", Role.ADMIN), meeting)
    assert not may_cancel(rep("bob"), meeting)
