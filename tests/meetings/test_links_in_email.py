"""Meeting links in sequence emails carry a signed reference to the enrollment; the
``{{ sender.meeting_link }}`` token."""

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import User
from cadency.meetings.links_in_email import add_enrollment_ref, make_ref, read_ref
from cadency.sequences.models import StepRun
from cadency.sequences.services.claiming import fix_message
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.errors import EnrollmentRefused, RefusalCode
from cadency.sequences.services.templates import MissingToken, check_template, render
from tests.factories import make_contact, make_mailbox, make_sequence, make_user
from tests.meetings.booking_support import make_link

BASE = "http://testserver"  # CADENCY_BASE_URL in tests (tests/conftest.py)


def ref_of(url: str) -> int | None:
    refs = parse_qs(urlsplit(url).query).get("ref", [])
    assert len(refs) == 1, url
    return read_ref(refs[0])


# --- the signed reference -----------------------------------------------------------


def test_a_reference_names_the_enrollment_and_resists_forgery() -> None:
    assert read_ref(make_ref(42)) == 42
    assert read_ref("") is None
    assert read_ref("42") is None
    assert read_ref(make_ref(42)[:-1] + "x") is None
    assert read_ref(signing.dumps(42, salt="another-salt")) is None
    assert read_ref(signing.dumps("42", salt="meeting-ref")) is None
    assert read_ref(signing.dumps(True, salt="meeting-ref")) is None


def test_a_booking_url_gets_the_reference() -> None:
    body = f"Hi Jane,\n\nPick a time: {BASE}/meet/alice/intro/\n\nAlice"
    result = add_enrollment_ref(body, 7)
    url = result.split("Pick a time: ")[1].split("\n")[0]
    assert url.startswith(f"{BASE}/meet/alice/intro/?ref=")
    assert ref_of(url) == 7
    assert result.replace(url, f"{BASE}/meet/alice/intro/") == body


def test_any_users_booking_url_gets_it_and_other_parameters_stay() -> None:
    body = f"Bob's calendar: {BASE}/meet/bob.stone@acme/demo-call?duration=60#top"
    url = add_enrollment_ref(body, 3).removeprefix("Bob's calendar: ")
    parts = urlsplit(url)
    assert parts.path == "/meet/bob.stone@acme/demo-call"
    assert parse_qs(parts.query)["duration"] == ["60"]
    assert parts.fragment == "top"
    assert ref_of(url) == 3


def test_an_existing_reference_is_replaced_not_doubled() -> None:
    earlier = add_enrollment_ref(f"{BASE}/meet/alice/intro/", 1)
    again = add_enrollment_ref(earlier, 2)
    assert ref_of(again) == 2


def test_every_booking_url_in_the_body_gets_it_and_punctuation_stays_outside() -> None:
    body = f"Either {BASE}/meet/alice/intro/, or ({BASE}/meet/bob/demo/). Thanks!"
    result = add_enrollment_ref(body, 5)
    assert result.count("ref=") == 2
    assert result.startswith(f"Either {BASE}/meet/alice/intro/?ref=")
    assert "/meet/bob/demo/?ref=" in result
    assert result.endswith("). Thanks!")
    first = result.split(" ")[1].rstrip(",")
    assert ref_of(first) == 5


@pytest.mark.parametrize(
    "body",
    [
        "https://elsewhere.example.com/meet/alice/intro/",  # another site
        f"{BASE}/contacts/3/",  # not a booking page
        f"{BASE}/meet/alice/",  # no link slug
        f"{BASE}/meet/alice/intro/extra/",  # a deeper page
        f"{BASE}/meet/booking/abc:def:ghi/",  # a visitor's manage link
        "No links at all.",
    ],
)
def test_other_urls_are_left_alone(body: str) -> None:
    assert add_enrollment_ref(body, 9) == body


def test_the_base_url_setting_decides_which_urls_are_ours(settings: SettingsWrapper) -> None:
    settings.CADENCY_BASE_URL = "https://cadency.example.com"
    assert "ref=" in add_enrollment_ref("https://cadency.example.com/meet/a/b/", 1)
    assert add_enrollment_ref(f"{BASE}/meet/a/b/", 1) == f"{BASE}/meet/a/b/"


# --- the hook where a sequence email is rendered ----------------------------------


@pytest.fixture
def alice(db: None) -> User:
    user = make_user("alice", first_name="Alice", last_name="Martin")
    make_mailbox(user, "rep@example.test")
    return user


def text_of(raw: bytes) -> str:
    """The plain-text part of a composed message, decoded."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_sequence_email_carries_the_reference_of_its_enrollment(alice: User) -> None:
    bob = make_user("bob")
    make_link(bob, slug="demo")
    sequence = make_sequence(
        alice,
        steps=[
            {
                "type": "automated_email",
                "subject": "Hello",
                "body": f"Book with Bob: {BASE}/meet/bob/demo/ or reply.",
            }
        ],
    )
    enrollment = enroll(
        contact=make_contact("jane@acme.test"),
        sequence=sequence,
        user=alice,
        start_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    run = StepRun.objects.select_related("step").get(enrollment=enrollment)
    text = text_of(bytes(fix_message(enrollment, run).raw))
    url = text.split("Book with Bob: ")[1].split(" ")[0]
    assert url.startswith(f"{BASE}/meet/bob/demo/?ref=")
    assert ref_of(url) == enrollment.pk


# --- {{ sender.meeting_link }} ----------------------------------------------------


def test_the_meeting_link_token_is_the_senders_first_active_link(alice: User) -> None:
    make_link(alice, slug="old", active=False)
    make_link(alice, slug="intro")
    make_link(alice, slug="later")
    check_template("Book: {{ sender.meeting_link }}")
    text = render("Book: {{ sender.meeting_link }}", contact=make_contact(), sender=alice)
    assert text == f"Book: {BASE}/meet/alice/intro/"


def test_without_an_active_link_the_token_needs_its_fallback(alice: User) -> None:
    make_link(alice, active=False)
    jane = make_contact()
    with pytest.raises(MissingToken):
        render("Book: {{ sender.meeting_link }}", contact=jane, sender=alice)
    text = render(
        'Book: {{ sender.meeting_link | "reply to this email" }}', contact=jane, sender=alice
    )
    assert text == "Book: reply to this email"


def test_enrolling_with_the_token_and_no_link_is_refused_with_a_clear_error(alice: User) -> None:
    sequence = make_sequence(
        alice,
        steps=[{"type": "automated_email", "subject": "Hi", "body": "{{ sender.meeting_link }}"}],
    )
    with pytest.raises(EnrollmentRefused) as refused:
        enroll(contact=make_contact(), sequence=sequence, user=alice, run_first_step=False)
    assert refused.value.code == RefusalCode.MISSING_TOKEN
    assert "sender.meeting_link" in refused.value.message
