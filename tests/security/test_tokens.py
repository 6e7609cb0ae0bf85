"""Forged, altered, replayed, expired or misdirected tokens, beyond the unit tests of
each token module (tests/outbound, tests/tracking, tests/meetings, tests/sidebar,
tests/accounts, tests/api). docs/security.md tabulates every token and its tests."""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.tokens import create_token, revoke_token
from cadency.contacts.models import Suppression
from cadency.meetings.links_in_email import MANAGE_SALT, make_ref, manage_token, read_ref
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingSource, MeetingStatus
from cadency.outbound import unsubscribe_tokens
from cadency.outbound.unsubscribe_tokens import make_token
from cadency.sequences.models import Enrollment, EnrollmentStatus
from cadency.sequences.services.enrollment import enroll
from cadency.sidebar.models import Client as PanelClient
from cadency.sidebar.pairing import approve_pairing, start_pairing
from cadency.tracking.tokens import ClickClaim, make_click_token, make_open_token
from tests.security.world import World, changes, snapshot

OTHER_DEPLOYMENT_KEY = "another-deployments-secret-key-0123456789"


@contextmanager
def another_deployment(settings: SettingsWrapper) -> Iterator[None]:
    """Tokens made inside are signed with another installation's secret key."""
    ours = settings.SECRET_KEY
    settings.SECRET_KEY = OTHER_DEPLOYMENT_KEY
    try:
        yield
    finally:
        settings.SECRET_KEY = ours


def unsubscribe_path(enrollment: Enrollment) -> str:
    return f"/u/{make_token(enrollment_id=enrollment.pk, email=enrollment.email)}/"


def one_click(path: str) -> int:
    """What a mail provider sends for RFC 8058 one-click: a POST, no cookie, no CSRF."""
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    return response.status_code


# --- unsubscribe links ----------------------------------------------------------------


def test_a_replayed_one_click_unsubscribe_changes_nothing_more(world: World) -> None:
    path = unsubscribe_path(world.enrollment)
    assert one_click(path) == 200
    world.enrollment.refresh_from_db()
    assert world.enrollment.status == EnrollmentStatus.UNENROLLED
    assert Suppression.objects.filter(email=world.enrollment.email).count() == 1
    after_first = snapshot()
    for _ in range(3):
        assert one_click(path) == 200
        assert Client().get(path).status_code == 200  # the page says it is done
    assert changes(after_first) == []


def test_a_token_for_one_contact_does_not_unsubscribe_another(world: World) -> None:
    """The token names the enrollment and the address it was sent to: both must match,
    even for a token Cadency itself signed."""
    kim = enroll(contact=world.other_contact, sequence=world.sequence, user=world.alice)
    mixed = make_token(enrollment_id=kim.pk, email=world.enrollment.email)
    before = snapshot()
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/u/{mixed}/")
        assert response.status_code == 400
        assert "does not match any email we sent" in response.content.decode()
    assert changes(before) == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda e: "x" + make_token(enrollment_id=e.pk, email=e.email)[1:],
        lambda e: make_token(enrollment_id=e.pk, email=e.email)[:-2],
        lambda e: signing.dumps({"e": e.pk, "a": e.email}, salt="cadency.meetings.manage"),
        lambda e: signing.dumps({"e": e.pk, "a": e.email}),
        lambda e: make_ref(e.pk),
    ],
    ids=["altered", "truncated", "another salt", "no salt", "a booking ref"],
)
def test_an_altered_or_borrowed_unsubscribe_token_changes_nothing(
    world: World, forge: Callable[[Enrollment], str]
) -> None:
    before = snapshot()
    path = f"/u/{forge(world.enrollment)}/"
    assert Client().get(path).status_code == 400
    assert one_click(path) == 400
    assert changes(before) == []


def test_an_unsubscribe_token_of_another_installation_changes_nothing(
    world: World, settings: SettingsWrapper
) -> None:
    with another_deployment(settings):
        path = unsubscribe_path(world.enrollment)
    before = snapshot()
    assert one_click(path) == 400
    assert changes(before) == []


def test_an_unsubscribe_link_keeps_working_for_years(world: World) -> None:
    """By design (docs/security.md): an address must be able to leave however old
    the email is, so the link carries no expiry."""
    path = unsubscribe_path(world.enrollment)
    with time_machine.travel(timezone.now() + dt.timedelta(days=3 * 365), tick=False):
        assert one_click(path) == 200
    assert Suppression.objects.filter(email=world.enrollment.email).exists()


def test_unsubscribe_payloads_of_another_shape_are_refused() -> None:
    for payload in ([1, "a@acme.test"], {"e": 1}, "1"):
        token = signing.dumps(payload, salt=unsubscribe_tokens.SALT, compress=True)
        with pytest.raises(unsubscribe_tokens.InvalidToken):
            unsubscribe_tokens.read_token(token)


# --- tracked links and the open image ----------------------------------------------------


def test_tracking_tokens_of_another_installation_record_nothing(
    world: World, settings: SettingsWrapper
) -> None:
    run = world.enrollment.step_runs.order_by("position").first()
    assert run is not None
    with another_deployment(settings):
        click = make_click_token(ClickClaim(run_id=run.pk, index=0, url="https://acme.test/"))
        image = make_open_token(run.pk)
    before = snapshot()
    response = Client().get(f"/t/c/{click}/")
    assert response.status_code == 400 and "Location" not in response
    pixel = Client().get(f"/t/o/{image}.gif")
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    assert changes(before) == []


# --- booking links: cancel and move, and the ?ref= of a sequence email ---------------------


def booked(world: World, *, starts_in: dt.timedelta) -> Meeting:
    start = timezone.now() + starts_in
    meeting = Meeting.objects.create(
        organizer=world.alice,
        title="Intro call",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        source=MeetingSource.BOOKING,
        link=world.meeting_link,
        ical_uid=f"booking-{start.timestamp()}@example.test",
    )
    MeetingAttendee.objects.create(meeting=meeting, email="guest@globex.test", name="Guest")
    return meeting


def test_a_replayed_cancel_link_changes_nothing_more(world: World) -> None:
    meeting = booked(world, starts_in=dt.timedelta(days=2))
    cancel = f"/meet/booking/{manage_token(meeting)}/cancel/"
    assert Client().post(cancel).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    after_first = snapshot()
    assert Client().post(cancel).status_code == 302
    assert changes(after_first) == []


def test_an_expired_booking_link_no_longer_cancels_or_moves_the_meeting(world: World) -> None:
    meeting = booked(world, starts_in=dt.timedelta(hours=-2))  # it took place
    token = manage_token(meeting)
    world.calendar.delete()  # the picker would read its busy times (and note it failing)
    before = snapshot()
    cancelled = Client().post(f"/meet/booking/{token}/cancel/", follow=True)
    assert "This meeting is over" in cancelled.content.decode()
    moved = Client().post(
        f"/meet/booking/{token}/reschedule/",
        {"start": (timezone.now() + dt.timedelta(days=1)).isoformat()},
    )
    assert moved.status_code in {400, 409}
    assert changes(before) == []
    assert Client().get(f"/meet/booking/{token}/").status_code == 200  # still viewable


def test_a_booking_link_for_one_meeting_opens_no_other(world: World) -> None:
    """The token names the meeting and its iCalendar UID: guessing another meeting's
    id is not enough, even under Cadency's own key."""
    first = booked(world, starts_in=dt.timedelta(days=2))
    second = booked(world, starts_in=dt.timedelta(days=3))
    mixed = signing.dumps({"m": second.pk, "u": first.ical_uid}, salt=MANAGE_SALT)
    before = snapshot()
    assert Client().get(f"/meet/booking/{mixed}/").status_code == 400
    assert Client().post(f"/meet/booking/{mixed}/cancel/").status_code == 400
    assert changes(before) == []


def test_a_booking_link_of_another_installation_opens_nothing(
    world: World, settings: SettingsWrapper
) -> None:
    meeting = booked(world, starts_in=dt.timedelta(days=2))
    with another_deployment(settings):
        token = manage_token(meeting)
    before = snapshot()
    assert Client().post(f"/meet/booking/{token}/cancel/").status_code == 400
    assert changes(before) == []


def test_a_ref_is_not_interchangeable_with_other_signed_values(
    world: World, settings: SettingsWrapper
) -> None:
    enrollment = world.enrollment.pk
    assert read_ref(make_ref(enrollment)) == enrollment
    assert read_ref(make_token(enrollment_id=enrollment, email="jane@acme.test")) is None
    assert read_ref(signing.dumps(enrollment, salt=MANAGE_SALT)) is None
    assert read_ref(make_open_token(enrollment)) is None
    with another_deployment(settings):
        foreign = make_ref(enrollment)
    assert read_ref(foreign) is None


# --- sidebar pairing and API tokens -------------------------------------------------------


def claim(secret: str) -> int:
    return (
        Client(enforce_csrf_checks=True)
        .post("/sidebar/pairing/claim/", {"pairing": secret}, "application/json")
        .status_code
    )


def test_the_code_shown_on_screen_is_not_the_pairing_secret(world: World) -> None:
    started = start_pairing(client=PanelClient.GMAIL)
    approve_pairing(code=started.pairing.code, user=world.alice)
    before = snapshot()
    for guess in (started.pairing.code, started.pairing.code.replace("-", ""), "", " "):
        assert claim(guess) in {400, 404}
    assert changes(before) == []
    assert claim(started.secret) == 200  # the panel's secret still works, once
    assert claim(started.secret) == 410


def test_an_approved_pairing_claimed_after_it_expired_gives_nothing(world: World) -> None:
    started = start_pairing(client=PanelClient.GMAIL)
    approve_pairing(code=started.pairing.code, user=world.alice)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11), tick=False):
        before = snapshot()
        assert claim(started.secret) == 410
        assert changes(before) == []


def test_a_wrong_api_token_is_no_oracle(world: World) -> None:
    """Unknown prefix, right prefix with a wrong secret, revoked, malformed: one answer,
    word for word, so a guesser learns nothing about which part was right."""
    live = create_token(user=world.bob, name="live")
    revoked = create_token(user=world.bob, name="old")
    revoke_token(token=revoked.token, actor=world.bob)
    wrong_secret = live.secret[:-6] + ("A" * 6 if not live.secret.endswith("A" * 6) else "B" * 6)
    candidates = {
        "unknown prefix": "cdy_00000000_" + live.secret[13:],
        "wrong secret": wrong_secret,
        "revoked": revoked.secret,
        "malformed": "cdy_xyz",
        "not ours": "ghp_" + "a" * 36,
    }
    answers = set()
    for token in candidates.values():
        response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/contacts")
        answers.add((response.status_code, response.content))
    assert len(answers) == 1 and next(iter(answers))[0] == 401
    panel = {
        Client(headers={"Authorization": f"Bearer {token}"}).get("/sidebar/panel/").status_code
        for token in candidates.values()
    }
    assert panel == {401}
