"""/users/{id}/absence: set a user away, end it, look at it."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from cadency.accounts.models import User
from cadency.sequences.models import Absence, Enrollment, EnrollmentStatus, Task
from tests.api.support import Api, enrolled, error_of, snapshot, task_first_sequence

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)
BACK = "2027-03-08"


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def with_enrollments(user: User, count: int = 2) -> list[Enrollment]:
    sequence = task_first_sequence(user, name=f"Calls {user.username}")
    return [enrolled(user, sequence) for _ in range(count)]


def absence_snapshot() -> tuple[Any, ...]:
    return (*snapshot(), list(Absence.objects.values_list("pk", "ended_at")))


def test_setting_yourself_away(as_alice: Api, alice: User) -> None:
    with_enrollments(alice)
    response = as_alice.post(f"/users/{alice.pk}/absence", {"until": BACK, "note": "Holiday"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["until"] == BACK and body["note"] == "Holiday"
    assert body["user"]["username"] == "alice" and body["created_by"]["username"] == "alice"
    assert body["returns_at"] == "2027-03-08T00:00:00Z"
    assert body["enrollments_held"] == 2 and body["tasks_moved"] == 2
    assert body["ended_at"] is None
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.PAUSED}
    assert all(t.due_at >= dt.datetime(2027, 3, 8, tzinfo=dt.UTC) for t in Task.objects.all())


def test_reading_an_absence(as_bob: Api, alice: User) -> None:
    assert as_bob.get(f"/users/{alice.pk}/absence").json() == {
        "user": {"id": alice.pk, "username": "alice", "name": "Alice Archer"},
        "away": False,
        "absence": None,
    }
    Absence.objects.create(
        user=alice, starts_at=MONDAY, until=dt.date(2027, 3, 8), returns_at=MONDAY
    )
    status = as_bob.get(f"/users/{alice.pk}/absence").json()
    assert status["away"] is True and status["absence"]["until"] == BACK


def test_ending_an_absence_early(as_alice: Api, alice: User, clock: Any) -> None:
    with_enrollments(alice)
    as_alice.post(f"/users/{alice.pk}/absence", {"until": BACK})
    clock.move_to(dt.datetime(2027, 3, 3, 8, tzinfo=dt.UTC))
    response = as_alice.delete(f"/users/{alice.pk}/absence")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resumed"] == 2 and body["left_as_they_were"] == 0
    assert body["absence"]["ended_at"] == "2027-03-03T08:00:00Z"
    assert body["absence"]["ended_by"]["username"] == "alice"
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.ACTIVE}
    before = absence_snapshot()
    message = error_of(as_alice.delete(f"/users/{alice.pk}/absence"), 409, "conflict")
    assert "alice is not away" in message
    assert absence_snapshot() == before


def test_a_manager_sets_a_rep_away(as_maya: Api, alice: User) -> None:
    with_enrollments(alice, 1)
    response = as_maya.post(f"/users/{alice.pk}/absence", {"until": BACK})
    assert response.status_code == 201
    assert response.json()["created_by"]["username"] == "maya"
    assert as_maya.delete(f"/users/{alice.pk}/absence").json()["resumed"] == 1


def test_a_rep_cannot_set_another_rep_away(as_bob: Api, alice: User) -> None:
    with_enrollments(alice)
    before = absence_snapshot()
    message = error_of(as_bob.post(f"/users/{alice.pk}/absence", {"until": BACK}), 403, "forbidden")
    assert "bob is a rep" in message
    assert absence_snapshot() == before


def test_a_rep_cannot_end_another_reps_absence(as_alice: Api, as_bob: Api, alice: User) -> None:
    as_alice.post(f"/users/{alice.pk}/absence", {"until": BACK})
    before = absence_snapshot()
    error_of(as_bob.delete(f"/users/{alice.pk}/absence"), 403, "forbidden")
    assert absence_snapshot() == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"until": "2027-03-01"}, "must be after today"),
        ({"until": "2026-01-01"}, "must be after today"),
        ({"until": "2029-01-01"}, "more than 365 days"),
        ({"until": "soon"}, "until"),
        ({"until": 20270308}, "ISO 8601 date"),
        ({}, "until"),
        ({"until": BACK, "note": "x" * 501}, "note"),
        ({"until": BACK, "colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    as_alice: Api, alice: User, body: dict[str, Any], expected: str
) -> None:
    with_enrollments(alice)
    before = absence_snapshot()
    assert expected in error_of(as_alice.post(f"/users/{alice.pk}/absence", body), 400, "invalid")
    assert absence_snapshot() == before


def test_going_away_twice_is_a_conflict(as_alice: Api, alice: User) -> None:
    as_alice.post(f"/users/{alice.pk}/absence", {"until": BACK})
    before = absence_snapshot()
    response = as_alice.post(f"/users/{alice.pk}/absence", {"until": "2027-03-10"})
    assert "already away until 2027-03-08" in error_of(response, 409, "conflict")
    assert absence_snapshot() == before


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_user_is_not_found(as_alice: Api, method: str) -> None:
    if method == "post":
        response = as_alice.post("/users/999999/absence", {"until": BACK})
    else:
        response = getattr(as_alice, method)("/users/999999/absence")
    assert "there is no user with id 999999" in error_of(response, 404, "not_found")


def test_it_needs_a_token(alice: User) -> None:
    from tests.api.support import api_for

    error_of(api_for().get(f"/users/{alice.pk}/absence"), 401, "unauthorized")
