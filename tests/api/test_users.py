"""GET /users, POST /users/{id}/deactivate (managers and admins only)."""

import pytest
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.sequences.models import EnrollmentStatus, Task, TaskStatus
from tests.api.support import Api, api_for, enrolled, error_of, snapshot, task_first_sequence
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def test_anyone_lists_users(as_alice: Api, bob: User, maya: User) -> None:
    body = as_alice.get("/users", is_active="true").json()
    assert [u["username"] for u in body["items"]] == ["alice", "bob", "maya"]
    assert body["items"][2] | {"date_joined": None} == {
        "id": maya.pk,
        "username": "maya",
        "name": "Maya Manager",
        "email": "maya@example.test",
        "role": "manager",
        "is_active": True,
        "date_joined": None,
    }
    assert as_alice.get("/users", role="manager").json()["count"] == 1
    error_of(as_alice.get("/users/999999"), 404, "not_found")


def test_a_manager_deactivates_a_rep(as_maya: Api, alice: User, bob: User, maya: User) -> None:
    enrollment = enrolled(alice, task_first_sequence(alice))
    task = Task.objects.create(
        assignee=alice, contact=make_contact(), kind="call", title="Call", due_at=timezone.now()
    )

    response = as_maya.post(f"/users/{alice.pk}/deactivate", {"reassign_tasks_to": bob.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["is_active"] is False
    assert body["enrollments_ended"] == 1
    assert (body["tasks_reassigned"], body["tasks_cancelled"]) == (1, 0)
    assert body["tasks_reassigned_to"]["username"] == "bob"
    enrollment.refresh_from_db()
    task.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == (
        EnrollmentStatus.UNENROLLED,
        "user_deactivated",
    )
    assert enrollment.ended_by == maya
    assert (task.assignee, task.status) == (bob, TaskStatus.OPEN)
    error_of(as_maya.post(f"/users/{alice.pk}/deactivate"), 409, "conflict")


def test_without_an_heir_open_tasks_are_cancelled(as_maya: Api, alice: User) -> None:
    Task.objects.create(
        assignee=alice, contact=make_contact(), kind="call", title="Call", due_at=timezone.now()
    )
    body = as_maya.post(f"/users/{alice.pk}/deactivate").json()
    assert (body["tasks_reassigned"], body["tasks_cancelled"]) == (0, 1)
    assert body["tasks_reassigned_to"] is None


def test_a_deactivated_users_token_stops_working(as_maya: Api, alice: User) -> None:
    as_alice = api_for(alice)
    assert as_alice.get("/users").status_code == 200
    as_maya.post(f"/users/{alice.pk}/deactivate")
    error_of(as_alice.get("/users"), 401, "unauthorized")


def test_a_rep_may_not_deactivate_anyone(as_alice: Api, alice: User, bob: User) -> None:
    enrolled(bob, task_first_sequence(bob))
    before = snapshot()
    message = error_of(as_alice.post(f"/users/{bob.pk}/deactivate"), 403, "forbidden")
    assert "only a manager or an admin may deactivate users" in message
    assert snapshot() == before
    bob.refresh_from_db()
    assert bob.is_active


def test_a_manager_may_not_deactivate_an_admin(as_maya: Api) -> None:
    root = make_user("root", role=Role.ADMIN)
    message = error_of(as_maya.post(f"/users/{root.pk}/deactivate"), 403, "forbidden")
    assert "only an admin may deactivate them" in message
    root.refresh_from_db()
    assert root.is_active


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown_user", 404, "not_found"),
        ("unknown_heir", 404, "not_found"),
        ("heir_is_the_user", 409, "conflict"),
        ("heir_inactive", 409, "conflict"),
        ("self", 409, "conflict"),
        ("malformed_heir", 400, "invalid"),
        ("unknown_field", 400, "invalid"),
    ],
)
def test_bad_requests_get_a_clear_error_and_change_nothing(
    case: str, status: int, code: str, as_maya: Api, alice: User, maya: User
) -> None:
    enrolled(alice, task_first_sequence(alice))
    gone = make_user("gone")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    target, body = {
        "unknown_user": (999999, {}),
        "unknown_heir": (alice.pk, {"reassign_tasks_to": 999999}),
        "heir_is_the_user": (alice.pk, {"reassign_tasks_to": alice.pk}),
        "heir_inactive": (alice.pk, {"reassign_tasks_to": gone.pk}),
        "self": (maya.pk, {}),
        "malformed_heir": (alice.pk, {"reassign_tasks_to": "bob"}),
        "unknown_field": (alice.pk, {"reassign_to": maya.pk}),
    }[case]
    before = snapshot()
    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))

    error_of(as_maya.post(f"/users/{target}/deactivate", body), status, code)

    assert snapshot() == before
    assert set(User.objects.filter(is_active=True).values_list("pk", flat=True)) == active
