"""/tasks: yours by default, by filter; complete and skip (a waiting sequence moves on)."""

import pytest

from cadency.accounts.models import User
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, StepRunState, Task
from cadency.sequences.services.enrollment import enroll
from tests.api.support import Api, error_of, snapshot
from tests.factories import ALWAYS_OPEN, make_contact, make_sequence

pytestmark = pytest.mark.django_db

WAITING = [
    {"type": "call", "title": "Call them", "pause_until_complete": True},
    {"type": "linkedin", "delay": 1, "title": "Connect"},
]


def task_of(user: User, email: str) -> Task:
    """An open task that the enrollment waits on."""
    sequence = make_sequence(user, steps=WAITING, name=f"Calls {email}", **ALWAYS_OPEN)
    enrollment = enroll(contact=make_contact(email), sequence=sequence, user=user)
    return Task.objects.get(step_run__enrollment=enrollment)


def test_it_lists_your_open_tasks_soonest_first(as_alice: Api, alice: User, bob: User) -> None:
    mine = task_of(alice, "a@acme.test")
    task_of(bob, "b@acme.test")
    page = as_alice.get("/tasks").json()
    assert [t["id"] for t in page["items"]] == [mine.pk]
    task = page["items"][0]
    assert (task["kind"], task["status"], task["assignee"]["username"]) == ("call", "open", "alice")
    assert task["enrollment"] == mine.step_run.enrollment_id and task["step"] == 1


def test_it_lists_by_filter(as_alice: Api, alice: User, bob: User) -> None:
    task_of(alice, "a@acme.test")
    bobs = task_of(bob, "b@acme.test")
    assert as_alice.get("/tasks", everyone=True).json()["count"] == 2
    assert [t["id"] for t in as_alice.get("/tasks", assignee=bob.pk).json()["items"]] == [bobs.pk]
    assert as_alice.get("/tasks", status="completed").json()["count"] == 0
    assert (
        as_alice.get("/tasks", status="all", contact=bobs.contact_id, everyone=True).json()["count"]
        == 1
    )


def test_completing_a_task_moves_the_sequence_on(as_alice: Api, alice: User) -> None:
    task = task_of(alice, "a@acme.test")
    response = as_alice.post(f"/tasks/{task.pk}/complete")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    enrollment = Enrollment.objects.get(pk=task.step_run.enrollment_id)
    runs = dict(enrollment.step_runs.values_list("position", "state"))
    assert runs == {1: StepRunState.DONE, 2: StepRunState.SCHEDULED}
    assert Event.objects.filter(kind="task_completed", actor=alice).exists()


def test_skipping_a_task(as_alice: Api, alice: User) -> None:
    task = task_of(alice, "a@acme.test")
    assert as_alice.post(f"/tasks/{task.pk}/skip").json()["status"] == "skipped"


def test_a_task_that_is_not_open_is_a_conflict(as_alice: Api, alice: User) -> None:
    task = task_of(alice, "a@acme.test")
    as_alice.post(f"/tasks/{task.pk}/complete")
    before = snapshot()
    assert "completed" in error_of(as_alice.post(f"/tasks/{task.pk}/skip"), 409, "conflict")
    assert snapshot() == before


def test_a_rep_cannot_complete_another_reps_task(as_alice: Api, bob: User) -> None:
    task = task_of(bob, "b@acme.test")
    before = snapshot()
    error_of(as_alice.post(f"/tasks/{task.pk}/complete"), 403, "forbidden")
    assert snapshot() == before


def test_a_manager_may_complete_a_reps_task(as_maya: Api, bob: User) -> None:
    task = task_of(bob, "b@acme.test")
    assert as_maya.post(f"/tasks/{task.pk}/complete").status_code == 200


def test_unknown_and_malformed(as_alice: Api) -> None:
    error_of(as_alice.get("/tasks/999"), 404, "not_found")
    error_of(as_alice.post("/tasks/999/complete"), 404, "not_found")
    error_of(as_alice.get("/tasks", status="someday"), 400, "invalid")
    error_of(as_alice.get("/tasks", assignee=999), 404, "not_found")
