"""A contact books a meeting through the link in a sequence email (SPEC §3 "Meetings").

The worker sends the email to the contact's real mailbox (Postfix → Dovecot); the
test reads it over IMAP as the contact would, opens the link in Chromium and books.
"""

import re
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.meetings.models import Meeting, MeetingLink
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.browser.conftest import PageFactory
from tests.e2e.conftest import run_worker_until_idle
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.mailstack import MailStack

pytestmark = [pytest.mark.browser, pytest.mark.mail]

ALL_DAY_EVERY_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


@pytest.fixture
def base_url(live_server: LiveServer, settings: SettingsWrapper) -> str:
    """Links in emails point at the live server, as CADENCY_BASE_URL would in production."""
    settings.CADENCY_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def alice(mailstack: MailStack) -> User:
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "rep@example.test", display_name="Alice Martin")
    return user


@pytest.fixture
def jane() -> Contact:
    return make_contact("jane@acme.test", first_name="Jane", last_name="Doe")


def open_link(user: User, slug: str) -> MeetingLink:
    return MeetingLink.objects.create(
        user=user,
        slug=slug,
        title=f"Call with {user.first_name}",
        durations=[30],
        working_hours=ALL_DAY_EVERY_DAY,
        time_zone="UTC",
        minimum_notice_minutes=60,
        horizon_days=7,
    )


def enroll_with_body(contact: Contact, user: User, body: str) -> Enrollment:
    sequence = make_sequence(
        user,
        name="Intro",
        steps=[
            {"type": "automated_email", "subject": "A short call?", "body": body},
            {"type": "automated_email", "delay": 3, "body": "Hi again, any thoughts?"},
        ],
    )
    return enroll(contact=contact, sequence=sequence, user=user, run_first_step=False)


def link_in_received_email(mailstack: MailStack, base_url: str) -> str:
    """The worker sends the step; the booking link as the contact's mail client shows it."""
    run_worker_until_idle()
    (received,) = mailstack.wait_for_messages("jane@acme.test", 1)
    assert isinstance(received, EmailMessage)
    text = received.get_body(("plain",))
    assert text is not None, "the sequence email has a text part"
    found = re.search(rf"{re.escape(base_url)}/meet/\S+", text.get_content())
    assert found, text.get_content()
    return found.group(0)


def book_a_slot(page: Page, url: str, name: str, email: str) -> None:
    page.goto(url)
    expect(page).to_have_url(re.compile(r"[?&]tz="))  # the page asked the browser's zone
    pick_a_slot(page)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your email").fill(email)
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="You are booked")).to_be_visible()


def pick_a_slot(page: Page) -> None:
    """The last time of the second day offered: far enough ahead whatever the clock says."""
    page.get_by_role("list", name="Pick a day").get_by_role("link").nth(1).click()
    times = page.get_by_role("list", name=re.compile("^Times on"))
    times.get_by_role("link").last.click()
    expect(page.get_by_role("button", name="Book this time")).to_be_visible()


def test_booking_through_the_link_in_the_sequence_email_ends_the_enrollment(
    alice: User, jane: Contact, base_url: str, mailstack: MailStack, page: Page
) -> None:
    open_link(alice, "intro")
    enrollment = enroll_with_body(
        jane, alice, "Hi {{ contact.first_name }},\n\nPick a time: {{ sender.meeting_link }}\n"
    )
    url = link_in_received_email(mailstack, base_url)
    assert url.startswith(f"{base_url}/meet/alice/intro/?ref=")

    book_a_slot(page, url, "Jane Doe", "jane@acme.test")

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")
    meeting = Meeting.objects.get()
    assert meeting.via_enrollment_id == enrollment.pk
    assert enrollment.evidence["meeting"] == meeting.pk
    assert enrollment.evidence["link"] == meeting.link_id


def test_another_users_link_in_the_sequence_email_also_ends_it(
    alice: User, jane: Contact, base_url: str, mailstack: MailStack, page: Page
) -> None:
    bob = make_user("bob", first_name="Bob", last_name="Stone")
    make_mailbox(bob, "rep2@example.test")
    open_link(bob, "demo")
    enrollment = enroll_with_body(
        jane, alice, f"Hi Jane,\n\nMy colleague Bob can show you: {base_url}/meet/bob/demo/\n"
    )
    url = link_in_received_email(mailstack, base_url)
    assert url.startswith(f"{base_url}/meet/bob/demo/?ref=")

    # She books with another address of hers: the reference still says which enrollment.
    book_a_slot(page, url, "Jane Doe", "jane.doe@acme.test")

    meeting = Meeting.objects.get()
    assert meeting.organizer == bob
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "meeting_booked")
    assert enrollment.evidence["rule"] == "link_in_sequence_email"


def test_two_visitors_submitting_the_same_slot_one_is_refused(
    alice: User, base_url: str, new_page: PageFactory, app_url: Callable[[str], str]
) -> None:
    open_link(alice, "intro")
    first, second = new_page(), new_page()
    for page, name in ((first, "Jane"), (second, "John")):
        page.goto(app_url("/meet/alice/intro/?tz=UTC"))
        pick_a_slot(page)
        page.get_by_label("Your name").fill(f"{name} Doe")
        page.get_by_label("Your email").fill(f"{name.lower()}@acme.test")
    assert first.url == second.url, "both chose the same slot"

    # Both submit at once; neither waits for the other's answer.
    for page in (first, second):
        page.get_by_role("button", name="Book this time").click(no_wait_after=True)
    for page in (first, second):
        answered = page.get_by_role("heading", name="You are booked").or_(page.get_by_role("alert"))
        expect(answered).to_be_visible()

    booked = [p for p in (first, second) if p.get_by_role("heading", name="You are booked").count()]
    refused = [p for p in (first, second) if p not in booked]
    assert len(booked) == 1 and len(refused) == 1
    expect(refused[0].get_by_role("alert")).to_have_text(
        "This time was just taken. Please pick another."
    )
    assert Meeting.objects.count() == 1
