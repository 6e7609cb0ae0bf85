"""The public booking page, the visitor's cancel/reschedule page (signed links, no sign-in)."""

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.meetings.booking import book
from cadency.meetings.links_in_email import make_ref, manage_token
from cadency.meetings.models import Meeting, MeetingLink
from cadency.sequences.services.enrollment import enroll
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.meetings.booking_support import MONDAY_MORNING, at_paris, make_link

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)
TEN = at_paris(MONDAY, "10:00")
PAGE = "/meet/alice/intro/"


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with time_machine.travel(MONDAY_MORNING, tick=True):
        yield


@pytest.fixture
def alice() -> User:
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "rep@example.test")
    return user


@pytest.fixture
def link(alice: User) -> MeetingLink:
    return make_link(alice, durations=[30, 60])


@pytest.fixture
def visitor() -> Client:
    return Client()  # not signed in


def start_param(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def test_the_page_offers_durations_days_and_times_in_the_visitors_zone(
    link: MeetingLink, visitor: Client
) -> None:
    response = visitor.get(PAGE, {"tz": "America/New_York", "duration": "60"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Intro call" in page and "Alice Martin" in page
    assert "30 min" in page and "60 min" in page
    assert "Mon 2 Mar" in page
    # 09:00 in Paris is 03:00 in New York (still EST on 2 March).
    times = re.findall(r'start=[^"]+">(\d\d:\d\d)<', page)
    assert times[0] == "03:00" and times[-1] == "10:00"  # 09:00 to 17:00 in Paris
    assert 'value="America/New_York" selected' in page


def test_without_a_zone_the_page_asks_the_browser_and_shows_the_links_zone(
    link: MeetingLink, visitor: Client
) -> None:
    page = visitor.get(PAGE).content.decode()
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in page
    assert ">09:00<" in page
    assert 'value="Europe/Paris" selected' in page


def test_choosing_a_time_shows_the_details_form(link: MeetingLink, visitor: Client) -> None:
    page = visitor.get(PAGE, {"tz": "Europe/Paris", "start": start_param(TEN)}).content.decode()
    assert "Monday 2 March 2026, 10:00" in page
    assert 'name="name"' in page and 'name="email"' in page
    assert "Book this time" in page


def test_booking_from_the_page_redirects_to_the_confirmation(
    link: MeetingLink, visitor: Client
) -> None:
    response = visitor.post(
        f"{PAGE}?tz=Europe/Paris&duration=30&start={start_param(TEN)}",
        {"name": "Jane Doe", "email": "jane@acme.test"},
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/meet/booking/{manage_token(meeting)}/"
    page = visitor.get(response["Location"]).content.decode()
    assert "You are booked" in page
    assert "Monday 2 March 2026, 10:00\N{EN DASH}10:30 (Europe/Paris)" in page
    assert "Pick another time" in page and "Cancel this meeting" in page


def test_a_time_just_taken_is_refused_and_nothing_is_written(
    link: MeetingLink, visitor: Client
) -> None:
    book(link=link, duration_minutes=30, start=TEN, name="John", email="john@acme.test")
    before = (Meeting.objects.count(), Contact.objects.count(), Event.objects.count())
    response = visitor.post(
        f"{PAGE}?tz=Europe/Paris&duration=30&start={start_param(TEN)}",
        {"name": "Jane Doe", "email": "jane@acme.test"},
    )
    assert response.status_code == 409
    assert "This time was just taken. Please pick another." in response.content.decode()
    assert (Meeting.objects.count(), Contact.objects.count(), Event.objects.count()) == before


def test_a_bad_email_is_refused_with_a_clear_error(link: MeetingLink, visitor: Client) -> None:
    response = visitor.post(
        f"{PAGE}?tz=Europe/Paris&start={start_param(TEN)}",
        {"name": "Jane Doe", "email": "jane@"},
    )
    assert response.status_code == 400
    assert "Please check your email address" in response.content.decode()
    assert Meeting.objects.count() == 0


def test_a_post_without_a_time_is_refused(link: MeetingLink, visitor: Client) -> None:
    response = visitor.post(PAGE, {"name": "Jane Doe", "email": "jane@acme.test"})
    assert response.status_code == 400
    assert "Pick a time first." in response.content.decode()
    assert Meeting.objects.count() == 0


def test_a_time_no_longer_offered_says_so(link: MeetingLink, visitor: Client) -> None:
    page = visitor.get(PAGE, {"start": "2026-03-02T03:00Z"}).content.decode()
    assert "That time is no longer available: pick another." in page
    assert 'name="email"' not in page


def test_unknown_users_and_links_are_404(link: MeetingLink, visitor: Client) -> None:
    assert visitor.get("/meet/nobody/intro/").status_code == 404
    assert visitor.get("/meet/alice/nothing/").status_code == 404


def test_a_deactivated_link_says_it_takes_no_bookings(link: MeetingLink, visitor: Client) -> None:
    link.active = False
    link.save()
    response = visitor.get(PAGE)
    assert response.status_code == 404
    assert "no longer takes bookings" in response.content.decode()
    posted = visitor.post(f"{PAGE}?start={start_param(TEN)}", {"name": "J", "email": "j@acme.test"})
    assert posted.status_code == 404
    assert Meeting.objects.count() == 0


def test_the_reference_is_carried_through_and_says_nothing_about_the_enrollment(
    link: MeetingLink, alice: User, visitor: Client
) -> None:
    jane = make_contact("jane@acme.test", first_name="Jane", last_name="Doe")
    enrollment = enroll(
        contact=jane,
        sequence=make_sequence(alice, name="Secret plan"),
        user=alice,
        run_first_step=False,
    )
    ref = make_ref(enrollment.pk)
    page = visitor.get(PAGE, {"ref": ref, "tz": "Europe/Paris"}).content.decode()
    assert f"ref={ref}" in page.replace("%3A", ":")
    assert "Secret plan" not in page and "Jane" not in page
    response = visitor.post(
        f"{PAGE}?tz=Europe/Paris&start={start_param(TEN)}&ref={ref}",
        {"name": "Jane Doe", "email": "jane@acme.test"},
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")


def test_a_forged_reference_still_books_and_the_page_does_not_tell(
    link: MeetingLink, visitor: Client
) -> None:
    bob = make_user("bob")
    make_mailbox(bob, "rep2@example.test")
    jane = make_contact("jane@acme.test")
    enrollment = enroll(contact=jane, sequence=make_sequence(bob), user=bob, run_first_step=False)
    forged = make_ref(enrollment.pk)[:-4] + "abcd"
    response = visitor.post(
        f"{PAGE}?tz=Europe/Paris&start={start_param(TEN)}&ref={forged}",
        {"name": "Jane Doe", "email": "jane@acme.test"},
    )
    assert response.status_code == 302
    confirmation = visitor.get(response["Location"]).content.decode()
    assert "You are booked" in confirmation
    assert "enroll" not in confirmation.lower() and "sequence" not in confirmation.lower()
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


# --- the visitor's cancel and reschedule links ---------------------------------------


@pytest.fixture
def meeting(link: MeetingLink) -> Meeting:
    return book(link=link, duration_minutes=30, start=TEN, name="Jane Doe", email="jane@acme.test")


def altered(token: str) -> str:
    value, rest = token.split(":", 1)
    return value[:-1] + ("A" if value[-1] != "A" else "B") + ":" + rest


@pytest.mark.parametrize("path", ["/meet/booking/{}/", "/meet/booking/{}/reschedule/"])
@pytest.mark.parametrize("token", ["nonsense:token", "forged", "altered"])
def test_a_forged_or_altered_link_shows_a_clear_400_page(
    meeting: Meeting, visitor: Client, path: str, token: str
) -> None:
    bad = {"forged": "eyJtIjoxfQ:1abc:xyz", "altered": altered(manage_token(meeting))}.get(
        token, token
    )
    response = visitor.get(path.format(bad))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert "Nothing was changed" in response.content.decode()


def test_cancelling_with_an_altered_link_changes_nothing(meeting: Meeting, visitor: Client) -> None:
    response = visitor.post(f"/meet/booking/{altered(manage_token(meeting))}/cancel/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    meeting.refresh_from_db()
    assert (meeting.status, meeting.ical_sequence) == ("scheduled", 0)


def test_the_visitor_cancels_with_the_signed_link(meeting: Meeting, visitor: Client) -> None:
    token = manage_token(meeting)
    response = visitor.post(f"/meet/booking/{token}/cancel/")
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.ical_sequence) == ("cancelled", 1)
    page = visitor.get(f"/meet/booking/{token}/").content.decode()
    assert "This meeting is cancelled" in page
    assert "Pick another time" not in page


def test_the_visitor_moves_the_meeting_with_the_signed_link(
    meeting: Meeting, visitor: Client
) -> None:
    token = manage_token(meeting)
    page = visitor.get(f"/meet/booking/{token}/reschedule/", {"tz": "Europe/Paris"})
    assert page.status_code == 200
    assert "Move «" in page.content.decode()
    eleven = at_paris(MONDAY, "11:00")
    response = visitor.post(
        f"/meet/booking/{token}/reschedule/?tz=Europe/Paris&start={start_param(eleven)}"
    )
    assert response.status_code == 302
    uid = meeting.ical_uid
    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.ical_uid, meeting.ical_sequence) == (eleven, uid, 1)
    assert "was moved" in visitor.get(response["Location"]).content.decode()


def test_moving_onto_a_taken_time_is_refused(
    meeting: Meeting, link: MeetingLink, visitor: Client
) -> None:
    eleven = at_paris(MONDAY, "11:00")
    book(link=link, duration_minutes=30, start=eleven, name="John", email="john@acme.test")
    response = visitor.post(
        f"/meet/booking/{manage_token(meeting)}/reschedule/?start={start_param(eleven)}"
    )
    assert response.status_code == 409  # the taken time is no longer offered
    assert "This time was just taken. Please pick another." in response.content.decode()
    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.ical_sequence) == (TEN, 0)
