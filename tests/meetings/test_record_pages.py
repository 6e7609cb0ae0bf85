"""The Meetings sections of the contact and company records: the list, "Log a meeting", cancel."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.contacts.models import Company, Contact
from cadency.contacts.services import add_alias
from cadency.contacts.timeline import EntryKind, LedgerEntry, MeetingEntry, contact_timeline
from cadency.ledger.models import Event
from cadency.meetings.models import AttendeeResponse, Meeting, MeetingAttendee, MeetingStatus
from cadency.meetings.services import log_meeting
from cadency.sequences.models import Enrollment, EnrollmentStatus, UnenrollReason
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


def rep(username: str, role: Role = Role.REP) -> User:
    user = make_user(username, role=role, first_name=username.capitalize(), last_name="Example")
    make_mailbox(user)
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


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
    sequence = make_sequence(user, name="Intro")
    return enroll(contact=contact, sequence=sequence, user=user, run_first_step=False)


def form(organizer: User, /, **overrides: str) -> dict[str, Any]:
    return {
        "title": "Discovery call",
        "starts_at": "2026-12-03T15:00",
        "ends_at": "2026-12-03T15:45",
        "time_zone": "Europe/Paris",
        "organizer": str(organizer.pk),
        "attendees": "",
        "location": "",
        "notes": "",
    } | overrides


def logged(user: User, on: Contact | Company, **fields: Any) -> Meeting:
    starts = timezone.now() + dt.timedelta(days=1)
    arguments: dict[str, Any] = {
        "actor": user,
        "organizer": user,
        "title": "Discovery call",
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(minutes=30),
        "time_zone": "UTC",
        "attendees": [],
        "on": on,
    }
    return log_meeting(**(arguments | fields))


def nothing_written(before: tuple[int, int, int]) -> bool:
    now = (Meeting.objects.count(), MeetingAttendee.objects.count(), Event.objects.count())
    return now == before


def counts() -> tuple[int, int, int]:
    return (Meeting.objects.count(), MeetingAttendee.objects.count(), Event.objects.count())


# --- the contact record


def test_the_contact_record_lists_its_meetings_with_responses(
    alice: User, carol: User, jane: Contact
) -> None:
    meeting = logged(alice, jane, organizer=carol, attendees=["pat@partner.test"])
    meeting.attendees.filter(email="jane@acme.test").update(response=AttendeeResponse.ACCEPTED)
    page = signed_in(alice).get(f"/contacts/{jane.pk}/").content.decode()
    section = page[page.index('id="meetings"') : page.index('id="timeline-title"')]
    assert "Discovery call" in section
    assert "Carol Example" in section
    assert "Created on the contact record" in section
    assert "Accepted" in section and "Needs Action" in section
    assert "pat@partner.test" in section
    assert "Scheduled" in section
    assert "Log a meeting" in section


def test_the_log_form_defaults_to_me_among_active_users(
    alice: User, carol: User, jane: Contact
) -> None:
    rep("gone").__class__.objects.filter(username="gone").update(is_active=False)
    page = signed_in(alice).get(f"/contacts/{jane.pk}/").content.decode()
    assert f'<option value="{alice.pk}" selected>Alice Example</option>' in page
    assert "Carol Example</option>" in page
    assert "Gone Example</option>" not in page


def test_logging_from_the_contact_record_by_the_enrolling_user_unenrolls(
    alice: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    client = signed_in(alice)
    response = client.post(f"/contacts/{jane.pk}/meetings/new/", form(alice))
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{jane.pk}/#meetings"
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", UnenrollReason.MEETING_BOOKED)
    page = client.get(response["Location"]).content.decode()
    assert "Logged «Discovery call». Jane Doe (jane@acme.test) was unenrolled from «Intro»" in page


def test_the_times_are_read_in_the_chosen_zone_and_a_duration_gives_the_end(
    alice: User, jane: Contact
) -> None:
    data = form(alice, ends_at="", duration="45")
    assert signed_in(alice).post(f"/contacts/{jane.pk}/meetings/new/", data).status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.starts_at == dt.datetime(2026, 12, 3, 14, 0, tzinfo=dt.UTC)
    assert meeting.ends_at == dt.datetime(2026, 12, 3, 14, 45, tzinfo=dt.UTC)
    assert meeting.time_zone == "Europe/Paris"


def test_logging_for_another_organizer_leaves_the_enrollment(
    alice: User, carol: User, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    signed_in(alice).post(f"/contacts/{jane.pk}/meetings/new/", form(carol))
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert Meeting.objects.get().organizer == carol


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_at": "2026-12-03T14:00"}, "The meeting must end after it starts."),
        ({"ends_at": "", "duration": ""}, "Give an end time or a duration."),
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone &#x27;Mars/Olympus&#x27;"),
        ({"starts_at": "tomorrow"}, "Enter a valid date/time."),
        ({"title": ""}, "This field is required."),
        ({"attendees": "pat@@partner"}, "is not a valid email address"),
        ({"organizer": "999999"}, "Choose an active user as organizer."),
    ],
)
def test_bad_input_gets_a_specific_error_and_writes_nothing(
    alice: User, jane: Contact, overrides: dict[str, str], message: str
) -> None:
    before = counts()
    response = signed_in(alice).post(f"/contacts/{jane.pk}/meetings/new/", form(alice, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was written." in response.content.decode()
    assert nothing_written(before)


def test_an_inactive_organizer_is_refused(alice: User, carol: User, jane: Contact) -> None:
    carol.is_active = False
    carol.save()
    before = counts()
    response = signed_in(alice).post(f"/contacts/{jane.pk}/meetings/new/", form(carol))
    assert response.status_code == 400
    assert "Choose an active user as organizer." in response.content.decode()
    assert nothing_written(before)


def test_an_unknown_contact_is_not_found(alice: User) -> None:
    assert signed_in(alice).post("/contacts/999999/meetings/new/", form(alice)).status_code == 404


def test_a_deleted_contact_offers_no_form_and_refuses_a_meeting(alice: User, jane: Contact) -> None:
    jane.deleted_at = timezone.now()
    jane.save()
    client = signed_in(alice)
    assert "Log a meeting" not in client.get(f"/contacts/{jane.pk}/").content.decode()
    before = counts()
    response = client.post(f"/contacts/{jane.pk}/meetings/new/", form(alice))
    assert response.status_code == 400
    assert "This contact was deleted" in response.content.decode()
    assert nothing_written(before)


def test_the_form_page_alone_is_offered_too(alice: User, jane: Contact) -> None:
    page = signed_in(alice).get(f"/contacts/{jane.pk}/meetings/new/").content.decode()
    assert "Log a meeting on Jane Doe" in page
    assert 'name="time_zone"' in page


def test_meeting_text_is_escaped_on_the_record_and_the_timeline(alice: User, jane: Contact) -> None:
    logged(alice, jane, title="<script>alert(1)</script>", location="<b>HQ</b>", notes="<i>x</i>")
    page = signed_in(alice).get(f"/contacts/{jane.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "<b>HQ</b>" not in page and "<i>x</i>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # the section and the timeline


def test_the_timeline_shows_the_meeting_with_its_logged_sentence(
    alice: User, jane: Contact
) -> None:
    logged(alice, jane)
    page = signed_in(alice).get(f"/contacts/{jane.pk}/").content.decode()
    timeline = page[page.index('id="timeline-title"') :]
    assert "<strong>Meeting</strong> “Discovery call” organized by Alice Example" in timeline
    assert "Alice Example logged the meeting «Discovery call»" in timeline


def test_the_record_costs_the_same_queries_with_few_or_many_meetings(
    alice: User, carol: User, jane: Contact
) -> None:
    client = signed_in(alice)
    logged(alice, jane, attendees=["pat@partner.test"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/contacts/{jane.pk}/").status_code == 200
    for n in range(5):
        logged(carol, jane, attendees=[f"guest{n}@partner.test", f"other{n}@partner.test"])
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert page.count("guest") >= 5
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the company record


def test_the_company_record_lists_meetings_logged_on_it_or_with_its_contacts(
    alice: User, acme: Company, jane: Contact
) -> None:
    logged(alice, acme, title="Quarterly review", attendees=["cfo@acme.test"])
    logged(alice, jane, title="Intro with Jane")
    logged(alice, make_contact("sam@globex.test"), title="Elsewhere")
    page = signed_in(alice).get(f"/companies/{acme.pk}/").content.decode()
    assert "Quarterly review" in page and "Intro with Jane" in page
    assert "Elsewhere" not in page
    assert f'value="{jane.pk}"' in page, "its contacts are offered as attendees"


def test_logging_on_the_company_without_the_contact_leaves_the_enrollment(
    alice: User, acme: Company, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    response = signed_in(alice).post(
        f"/companies/{acme.pk}/meetings/new/", form(alice, attendees="cfo@acme.test")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/companies/{acme.pk}/#meetings"
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert Meeting.objects.get().company == acme


def test_logging_on_the_company_with_the_contact_chosen_unenrolls(
    alice: User, acme: Company, jane: Contact
) -> None:
    enrollment = enrolled(jane, alice)
    data = form(alice) | {"contacts": [str(jane.pk)]}
    assert signed_in(alice).post(f"/companies/{acme.pk}/meetings/new/", data).status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.reason == UnenrollReason.MEETING_BOOKED


def test_a_company_meeting_needs_an_attendee_and_takes_only_its_contacts(
    alice: User, acme: Company
) -> None:
    client = signed_in(alice)
    before = counts()
    response = client.post(f"/companies/{acme.pk}/meetings/new/", form(alice))
    assert response.status_code == 400
    assert "Add at least one attendee." in response.content.decode()
    outsider = make_contact("sam@globex.test")
    data = form(alice) | {"contacts": [str(outsider.pk)]}
    response = client.post(f"/companies/{acme.pk}/meetings/new/", data)
    assert response.status_code == 400
    assert "Choose attendees among the contacts listed." in response.content.decode()
    assert nothing_written(before)


# --- cancelling


def test_another_rep_may_not_cancel(alice: User, carol: User, jane: Contact) -> None:
    meeting = logged(alice, jane)
    before = counts()
    assert signed_in(carol).post(f"/meetings/{meeting.pk}/cancel/").status_code == 403
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    assert nothing_written(before)


@pytest.mark.parametrize("who", ["organizer", "logger", "manager", "admin"])
def test_the_organizer_the_logger_a_manager_or_an_admin_may_cancel(
    alice: User, carol: User, jane: Contact, who: str
) -> None:
    meeting = logged(alice, jane, organizer=carol)
    user = {
        "organizer": carol,
        "logger": alice,
        "manager": rep("maya", Role.MANAGER),
        "admin": rep("root", Role.ADMIN),
    }[who]
    response = signed_in(user).post(
        f"/meetings/{meeting.pk}/cancel/", {"next": f"/contacts/{jane.pk}/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{jane.pk}/"
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED


def test_cancel_never_redirects_off_site_and_says_when_already_cancelled(
    alice: User, jane: Contact
) -> None:
    meeting = logged(alice, jane)
    client = signed_in(alice)
    response = client.post(f"/meetings/{meeting.pk}/cancel/", {"next": "https://evil.test/"})
    assert response["Location"] == f"/contacts/{jane.pk}/"
    response = client.post(f"/meetings/{meeting.pk}/cancel/", follow=True)
    assert "was already cancelled" in response.content.decode()
    assert Event.objects.filter(kind="meeting_cancelled").count() == 1


def test_cancel_needs_a_post_and_a_known_meeting(alice: User, jane: Contact) -> None:
    meeting = logged(alice, jane)
    client = signed_in(alice)
    assert client.get(f"/meetings/{meeting.pk}/cancel/").status_code == 405
    assert client.post("/meetings/999999/cancel/").status_code == 404


def test_the_cancel_button_shows_only_to_who_may_cancel(
    alice: User, carol: User, jane: Contact
) -> None:
    meeting = logged(alice, jane)
    action = f'action="/meetings/{meeting.pk}/cancel/"'
    assert action in signed_in(alice).get(f"/contacts/{jane.pk}/").content.decode()
    assert action not in signed_in(carol).get(f"/contacts/{jane.pk}/").content.decode()


@pytest.mark.parametrize(
    "path", ["/contacts/1/meetings/new/", "/companies/1/meetings/new/", "/meetings/1/cancel/"]
)
def test_signed_out_visitors_go_to_the_login_page(path: str) -> None:
    response = Client().post(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


# --- the contact timeline


def test_the_timeline_has_one_meeting_entry_with_its_logged_event_folded_in(
    alice: User, jane: Contact
) -> None:
    add_alias(contact=jane, email="jane.doe@acme.test")
    meeting = logged(alice, jane, attendees=["jane.doe@acme.test"], location="Room 4")
    entries = contact_timeline(jane)
    [entry] = [e for e in entries if isinstance(e, MeetingEntry)]
    assert (entry.kind, entry.meeting_id, entry.at, entry.location) == (
        EntryKind.MEETING,
        meeting.pk,
        meeting.starts_at,
        "Room 4",
    )
    assert (entry.organizer, entry.source, entry.status, entry.response) == (
        "Alice Example",
        "contact_record",
        "scheduled",
        "needs_action",
    )
    assert [e.event_kind for e in entry.events] == ["meeting_logged"]
    assert not any(isinstance(e, LedgerEntry) and e.event_kind == "meeting_logged" for e in entries)


def test_the_timeline_costs_five_queries_however_many_meetings(
    alice: User, jane: Contact, django_assert_num_queries: Any
) -> None:
    for _ in range(3):
        logged(alice, jane, attendees=["pat@partner.test"])
    with django_assert_num_queries(5):
        entries = contact_timeline(jane)
    assert len([e for e in entries if isinstance(e, MeetingEntry)]) == 3
