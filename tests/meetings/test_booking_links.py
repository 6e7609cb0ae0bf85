"""A user's meeting links: create, edit, deactivate (service rules and the pages)."""

from typing import Any

import pytest
from django.test import Client

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.meetings.booking import LinkError, LinkSettings, create_link, update_link
from cadency.meetings.models import MeetingLink
from tests.factories import make_user
from tests.meetings.booking_support import WEEKDAYS_9_TO_5, make_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    return make_user("alice", first_name="Alice", last_name="Martin")


@pytest.fixture
def bob() -> User:
    return make_user("bob", first_name="Bob", last_name="Stone")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def wanted(**changes: Any) -> LinkSettings:
    values: dict[str, Any] = {
        "title": "Intro call",
        "slug": "intro",
        "durations": [30, 15],
        "working_hours": WEEKDAYS_9_TO_5,
        "time_zone": "Europe/Paris",
        "buffer_minutes": 10,
        "minimum_notice_minutes": 60,
        "horizon_days": 14,
    }
    return LinkSettings(**(values | changes))


# --- the service --------------------------------------------------------------------


def test_creating_a_link_saves_it_normalised_and_writes_the_ledger(alice: User) -> None:
    link = create_link(user=alice, wanted=wanted(title="  Intro call ", slug="Intro"))
    assert (link.title, link.slug, link.durations) == ("Intro call", "intro", [15, 30])
    assert link.working_hours == WEEKDAYS_9_TO_5
    assert (link.buffer_minutes, link.minimum_notice_minutes, link.horizon_days) == (10, 60, 14)
    event = Event.objects.get(kind="meeting_link_created")
    assert event.actor == alice
    assert "http://testserver/meet/alice/intro/" in event.sentence


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": " "}, "title of 1 to 200"),
        ({"slug": "no spaces"}, "address part may use"),
        ({"slug": "-edge"}, "address part may use"),
        ({"durations": []}, "at least one duration"),
        ({"durations": [2]}, "from 5 to 720 minutes"),
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
        ({"buffer_minutes": 1000}, "buffer"),
        ({"horizon_days": 0}, "How far ahead"),
        ({"working_hours": {}}, "at least one day"),
        ({"working_hours": {"7": [["09:00", "10:00"]]}}, "Unknown weekday"),
        ({"working_hours": {"0": [["9", "10:00"]]}}, "Monday: write times as HH:MM"),
        ({"working_hours": {"1": [["12:00", "09:00"]]}}, "Tuesday: 12:00-09:00 ends before"),
        (
            {"working_hours": {"2": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "Wednesday: the intervals overlap",
        ),
    ],
)
def test_bad_settings_are_refused_with_a_clear_error(
    alice: User, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(LinkError, match=message):
        create_link(user=alice, wanted=wanted(**changes))
    assert MeetingLink.objects.count() == 0
    assert not Event.objects.exists()


def test_a_slug_is_unique_per_user_only(alice: User, bob: User) -> None:
    create_link(user=alice, wanted=wanted())
    with pytest.raises(LinkError, match="You already have a link at /meet/alice/intro/"):
        create_link(user=alice, wanted=wanted())
    create_link(user=bob, wanted=wanted())  # Bob's own /meet/bob/intro/
    assert MeetingLink.objects.count() == 2


def test_updating_records_what_changed(alice: User) -> None:
    link = create_link(user=alice, wanted=wanted())
    assert update_link(link=link, actor=alice, wanted=wanted()) == []
    changed = update_link(link=link, actor=alice, wanted=wanted(buffer_minutes=0, title="Demo"))
    assert changed == ["title", "buffer_minutes"]
    link.refresh_from_db()
    assert (link.title, link.buffer_minutes) == ("Demo", 0)
    assert Event.objects.get(kind="meeting_link_updated").data["fields"] == changed


# --- the pages ------------------------------------------------------------------------


FORM = {
    "title": "Demo call",
    "slug": "",
    "durations": "30, 60",
    "time_zone": "Europe/Paris",
    "buffer_minutes": "5",
    "minimum_notice_minutes": "120",
    "horizon_days": "21",
    "hours_0": "09:00-12:00, 13:00-17:00",
    "hours_1": "9:00-17:00",
    "hours_2": "",
    "hours_3": "",
    "hours_4": "",
    "hours_5": "",
    "hours_6": "",
}


def test_the_list_shows_only_my_links_with_their_public_addresses(alice: User, bob: User) -> None:
    make_link(alice, title="Alice's intro")
    make_link(bob, title="Bob's intro")
    page = signed_in(alice).get("/meetings/links/").content.decode()
    assert "Alice&#x27;s intro" in page and "http://testserver/meet/alice/intro/" in page
    assert "Bob" not in page


def test_the_links_pages_need_a_signed_in_user() -> None:
    response = Client().get("/meetings/links/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_creating_a_link_from_the_form(alice: User) -> None:
    response = signed_in(alice).post("/meetings/links/new/", FORM)
    assert response.status_code == 302
    link = MeetingLink.objects.get(user=alice)
    assert (link.slug, link.durations, link.time_zone) == ("demo-call", [30, 60], "Europe/Paris")
    assert link.working_hours == {
        "0": [["09:00", "12:00"], ["13:00", "17:00"]],
        "1": [["09:00", "17:00"]],
    }
    assert (link.buffer_minutes, link.minimum_notice_minutes, link.horizon_days) == (5, 120, 21)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hours_0": "nine to five"}, "Write each interval as HH:MM-HH:MM"),
        ({"durations": "half an hour"}, "Write minutes as whole numbers"),
        ({"hours_1": "17:00-09:00"}, "Tuesday: 17:00-09:00 ends before it starts"),
        ({"slug": "Not OK!"}, "The address part may use"),
    ],
)
def test_a_bad_form_is_refused_with_the_reason_and_saves_nothing(
    alice: User, changes: dict[str, str], message: str
) -> None:
    response = signed_in(alice).post("/meetings/links/new/", FORM | changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert MeetingLink.objects.count() == 0


def test_editing_my_link(alice: User) -> None:
    link = make_link(alice)
    client = signed_in(alice)
    form = client.get(f"/meetings/links/{link.pk}/").content.decode()
    assert 'value="09:00-17:00"' in form
    response = client.post(f"/meetings/links/{link.pk}/", FORM | {"slug": "intro"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.title, link.slug, link.durations) == ("Demo call", "intro", [30, 60])


def test_deactivating_and_reactivating_my_link(alice: User) -> None:
    link = make_link(alice)
    client = signed_in(alice)
    assert client.post(f"/meetings/links/{link.pk}/deactivate/").status_code == 302
    link.refresh_from_db()
    assert not link.active
    assert Client().get("/meet/alice/intro/").status_code == 404
    assert client.post(f"/meetings/links/{link.pk}/activate/").status_code == 302
    link.refresh_from_db()
    assert link.active
    kinds = list(Event.objects.values_list("kind", flat=True))
    assert kinds == ["meeting_link_deactivated", "meeting_link_reactivated"]


def test_deactivating_needs_a_post(alice: User) -> None:
    link = make_link(alice)
    assert signed_in(alice).get(f"/meetings/links/{link.pk}/deactivate/").status_code == 405
    link.refresh_from_db()
    assert link.active


@pytest.mark.parametrize("action", ["", "deactivate/"])
def test_another_users_link_is_refused_with_403_and_unchanged(
    alice: User, bob: User, action: str
) -> None:
    link = make_link(bob)
    client = signed_in(alice)
    response = client.post(f"/meetings/links/{link.pk}/{action}", FORM)
    assert response.status_code == 403
    link.refresh_from_db()
    assert (link.title, link.active) == ("Intro call", True)
    assert not Event.objects.exists()


def test_an_unknown_link_is_404(alice: User) -> None:
    assert signed_in(alice).get("/meetings/links/999/").status_code == 404
    assert signed_in(alice).post("/meetings/links/999/deactivate/").status_code == 404
