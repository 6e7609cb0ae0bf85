"""HTML and script typed into names, subjects and bodies never reach a page or an
email's HTML part as markup. Every page URL, walked from the URL resolver, is
rendered for a world whose every name is a payload (tests/security/world.py)."""

import datetime as dt
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cadency.accounts.tokens import create_token
from cadency.meetings.links_in_email import manage_token
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingSource
from cadency.outbound.unsubscribe_tokens import make_token
from cadency.sequences.models import StepRun
from cadency.sequences.services.claiming import fix_message
from cadency.sequences.services.enrollment import enroll
from cadency.sidebar.models import Client as SidebarClient
from cadency.sidebar.pairing import start_pairing
from tests.factories import ALWAYS_OPEN, make_contact, make_sequence
from tests.security.routes import app_routes
from tests.security.test_another_reps_objects_pages import ROUTES as ACCESS
from tests.security.test_another_reps_objects_pages import url_for
from tests.security.world import IMG, PAYLOADS, SCRIPT, World

ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
QUERIES: dict[str, Callable[[World], str]] = {
    "contacts:forecast": lambda w: f"?sequence={w.sequence.pk}",
    "contacts:list": lambda w: "?q=acme",
}


def booked_meeting(world: World) -> Meeting:
    start = timezone.now() + dt.timedelta(days=3)
    meeting = Meeting.objects.create(
        organizer=world.alice,
        title=f"Booked {SCRIPT}",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        source=MeetingSource.BOOKING,
        link=world.meeting_link,
        ical_uid="booked-1@example.test",
    )
    MeetingAttendee.objects.create(meeting=meeting, email="jane@acme.test", name=SCRIPT)
    return meeting


def page_urls(world: World) -> dict[str, str]:
    """A URL for every page: Alice's objects for ids, working tokens for tokens."""
    tokens = {
        "unsubscribe": {
            "token": make_token(enrollment_id=world.enrollment.pk, email=world.enrollment.email)
        },
        "meetings:booking_manage": {"token": manage_token(booked_meeting(world))},
        "meetings:book": {"username": world.alice.username, "slug": world.meeting_link.slug},
        "sidebar:approve": {"code": start_pairing(client=SidebarClient.GMAIL).pairing.code},
    }
    urls = {}
    for route in app_routes():
        if not route.name:
            continue
        if route.int_kwargs:
            url = url_for(route, ACCESS[route.name], world)
        elif route.kwargs:
            kwargs = tokens.get(route.name)
            if kwargs is None:
                continue  # cancel/reschedule: the manage page links to them; tracking: no HTML
            url = reverse(route.name, kwargs=kwargs)
        else:
            url = reverse(route.name)
        query = QUERIES.get(route.name)
        urls[route.name] = url + (query(world) if query else "")
    reschedule = reverse("meetings:booking_reschedule", kwargs=tokens["meetings:booking_manage"])
    urls["meetings:booking_reschedule"] = reschedule
    return urls


def raw_payloads(html: str) -> list[str]:
    return [payload for payload in PAYLOADS if payload in html]


def shows_escaped(html: str) -> bool:
    return any(
        escaped in html for escaped in (ESCAPED_SCRIPT, "&quot;&gt;&lt;img", "&lt;b&gt;bold")
    )


@pytest.mark.parametrize("who", ["alice", "bob", "manager"])
def test_no_page_shows_a_payload_as_markup(world: World, who: str) -> None:
    client = world.client_for(getattr(world, who))
    shown, checked = [], 0
    for name, url in page_urls(world).items():
        response = client.get(url)
        if not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        checked += 1
        assert not raw_payloads(html), (name, url, raw_payloads(html))
        if ESCAPED_SCRIPT in html:
            shown.append(name)
    assert checked > 60
    # The payloads are on the pages (escaped), so the check above means something.
    must_show = {
        "contacts:record",
        "contacts:list",
        "sequences:dashboard",
        "sequences:enrollments",
        "sequences:steps",
        "sequences:scheduled",
        "automation:workflows",
        "automation:lists",
    }
    assert must_show <= set(shown), must_show - set(shown)


def test_the_pages_of_alices_own_things_show_them_escaped(world: World) -> None:
    client = world.client_for(world.alice)
    for url in (
        "/alerts/",
        "/tasks/",
        "/inbound/",
        f"/inbound/{world.message.pk}/",
        "/account/",
        f"/mailboxes/{world.mailbox.pk}/",
        "/calendars/",
        "/meetings/links/",
        f"/sequences/{world.sequence.pk}/performance/",
        f"/workflows/{world.workflow.pk}/",
        f"/lists/{world.dynamic_list.pk}/",
        f"/deals/{world.deal.pk}/",
    ):
        html = client.get(url).content.decode()
        assert not raw_payloads(html), (url, raw_payloads(html))
        assert shows_escaped(html), url


def test_the_raw_message_download_is_not_rendered_as_a_page(world: World) -> None:
    response = world.client_for(world.alice).get(f"/inbound/{world.message.pk}/raw/")
    assert response.status_code == 200
    assert not response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"].startswith("attachment")


def test_the_sidebar_panel_escapes_names(world: World) -> None:
    token = create_token(user=world.alice, name="sidebar").secret
    client = Client(headers={"Authorization": f"Bearer {token}"})
    response = client.get("/sidebar/panel/", {"emails": f"{world.contact.email},{SCRIPT}"})
    html = response.content.decode()
    assert response.status_code == 200
    assert not raw_payloads(html) and ESCAPED_SCRIPT in html


def test_the_booking_page_escapes_the_link_title(world: World) -> None:
    html = Client().get(f"/meet/alice/{world.meeting_link.slug}/").content.decode()
    assert not raw_payloads(html) and ESCAPED_SCRIPT in html


# --- the email a step sends -------------------------------------------------------

STEP = {
    "type": "automated_email",
    "subject": "Hello {{ contact.first_name }}",
    "body": "Hi {{ contact.first_name }} {{ contact.last_name }},\n\n"
    "See https://acme.test/offer?for={{ contact.first_name }} and <b>bold</b>.",
}


def sent_email(world: World, *, tracking: bool) -> EmailMessage:
    contact = make_contact("eve@acme.test", first_name=SCRIPT, last_name=IMG)
    sequence = make_sequence(world.alice, steps=[STEP], name="Mail", **ALWAYS_OPEN)
    enrollment = enroll(contact=contact, sequence=sequence, user=world.alice, run_first_step=False)
    enrollment.send_settings = {
        **enrollment.send_settings,
        "track_clicks": tracking,
        "track_opens": tracking,
    }
    run = StepRun.objects.get(enrollment=enrollment)
    message = message_from_bytes(bytes(fix_message(enrollment, run).raw), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize("tracking", [False, True], ids=["plain", "tracked"])
def test_a_sent_email_escapes_the_name_in_html_and_keeps_it_as_text(
    world: World, tracking: bool
) -> None:
    message = sent_email(world, tracking=tracking)
    assert message["Subject"] == f"Hello {SCRIPT}"
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert f"Hi {SCRIPT} {IMG}," in text and "<b>bold</b>" in text
    assert not raw_payloads(html), raw_payloads(html)
    assert f"Hi {ESCAPED_SCRIPT} &quot;&gt;&lt;img src=x onerror=alert(1)&gt;," in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script" not in html
