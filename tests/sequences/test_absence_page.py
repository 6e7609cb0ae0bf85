"""/absence/: "away until", "I'm back", and managers setting it for a rep."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from pytest_django.fixtures import SettingsWrapper

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.sequences.models import Absence, Enrollment, EnrollmentStatus, Task
from cadency.sequences.services.absence import start_absence
from tests.factories import make_contact, make_sequence
from tests.sequences.pages import client_for, enroll_some, messages_of, person

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
BACK = "2027-03-08"


@pytest.fixture(autouse=True)
def fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann() -> User:
    user = person("ann")
    enroll_some(user, make_sequence(user), 2)
    Task.objects.create(
        assignee=user, contact=make_contact(), kind="call", title="Call", due_at=MONDAY
    )
    return user


def notices(response: Any) -> list[str]:
    return messages_of(response)


def snapshot() -> tuple[Any, ...]:
    return (
        list(Enrollment.objects.order_by("pk").values_list("pk", "status")),
        list(Task.objects.order_by("pk").values_list("pk", "due_at")),
        list(Absence.objects.order_by("pk").values_list("pk", "ended_at")),
        Event.objects.count(),
    )


def test_the_page_offers_away_until_with_a_confirmation(ann: User) -> None:
    response = client_for(ann).get("/absence/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "You are not away" in page
    assert 'data-confirm="Pause 2 active enrollments' in page
    assert 'min="2027-03-02"' in page
    assert 'id="absence-user"' not in page, "only managers choose whose absence"


def test_the_preview_counts_the_enrollments_and_tasks_for_the_date(ann: User) -> None:
    response = client_for(ann).get("/absence/preview/", {"until": BACK, "user": str(ann.pk)})
    text = response.content.decode()
    assert "2 active enrollments will pause and 1 open task due before Monday 8 March" in text
    assert 'data-question="Pause 2 active enrollments and move 1 open task until you are back' in (
        text
    )
    assert (
        "Pick the day" in client_for(ann).get("/absence/preview/", {"until": "x"}).content.decode()
    )


def test_setting_yourself_away(ann: User) -> None:
    client = client_for(ann)
    response = client.post("/absence/start/", {"until": BACK, "note": "Holiday"}, follow=True)
    assert response.redirect_chain[-1][0] == "/absence/"
    assert any(
        "You are away until Monday 8 March 2027: 2 enrollment(s) paused" in m
        for m in notices(response)
    )
    page = response.content.decode()
    assert "until Monday 8 March 2027" in page and "Holiday" in page and "I'm back</button>" in page
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.PAUSED}


def test_im_back_ends_the_absence(ann: User) -> None:
    start_absence(user=ann, until=dt.date(2027, 3, 8), actor=ann)
    response = client_for(ann).post("/absence/end/", follow=True)
    assert any("Welcome back: 2 enrollment(s) resumed" in m for m in notices(response))
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.ACTIVE}
    assert "Past absences" in response.content.decode()
    again = client_for(ann).post("/absence/end/", follow=True)
    assert any("not away; nothing was changed" in m for m in notices(again))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"until": "2027-03-01"}, "must be after today"),
        ({"until": "2026-12-24"}, "must be after today"),
        ({"until": "next week"}, "Enter a valid date"),
        ({}, "This field is required"),
        ({"until": BACK, "note": "x" * 501}, "at most 500 characters"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    ann: User, data: dict[str, str], error: str
) -> None:
    before = snapshot()
    response = client_for(ann).post("/absence/start/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert snapshot() == before


def test_a_rep_cannot_set_another_rep_away(ann: User) -> None:
    bob = person("bob")
    before = snapshot()
    assert (
        client_for(bob).post("/absence/start/", {"until": BACK, "user": ann.pk}).status_code == 403
    )
    assert snapshot() == before
    start_absence(user=ann, until=dt.date(2027, 3, 8), actor=ann)
    before = snapshot()
    assert client_for(bob).post("/absence/end/", {"user": ann.pk}).status_code == 403
    assert snapshot() == before


def test_a_rep_sees_another_reps_absence_without_buttons(ann: User) -> None:
    start_absence(user=ann, until=dt.date(2027, 3, 8), actor=ann)
    page = client_for(person("bob")).get(f"/absence/?user={ann.pk}").content.decode()
    assert "until Monday 8 March 2027" in page
    assert "is back</button>" not in page


def test_a_manager_sets_a_rep_away_and_back(ann: User) -> None:
    maya = person("maya", Role.MANAGER)
    client = client_for(maya)
    page = client.get(f"/absence/?user={ann.pk}").content.decode()
    assert 'id="absence-user"' in page
    response = client.post("/absence/start/", {"until": BACK, "user": ann.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/absence/?user={ann.pk}"
    assert Absence.objects.get(user=ann, ended_at=None).created_by == maya
    response = client.post("/absence/end/", {"user": ann.pk}, follow=True)
    assert any("Ann Example is back" in m for m in notices(response))


@pytest.mark.parametrize("user", ["abc", "999999"])
def test_an_unknown_user_is_a_clear_error(ann: User, user: str) -> None:
    response = client_for(ann).get("/absence/", {"user": user})
    assert response.status_code == (400 if user == "abc" else 404)
    before = snapshot()
    assert client_for(ann).post("/absence/start/", {"until": BACK, "user": user}).status_code in (
        400,
        404,
    )
    assert snapshot() == before


def test_the_page_needs_signing_in(ann: User) -> None:
    from django.test import Client

    response = Client().get("/absence/")
    assert response.status_code == 302 and "/login/" in response["Location"]
