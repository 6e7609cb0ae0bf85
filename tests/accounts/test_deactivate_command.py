"""`cadency user deactivate USERNAME [--reassign-tasks-to U] --as ACTOR`."""

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.sequences.models import EnrollmentStatus, Task, TaskStatus
from tests.api.support import enrolled, task_first_sequence
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def run(*args: str) -> Any:
    out = io.StringIO()
    call_command("user", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue()) if "--json" in args else out.getvalue()


def test_a_manager_deactivates_a_rep_and_hands_their_tasks_over(alice: User, bob: User) -> None:
    make_user("mo", role=Role.MANAGER)
    enrollment = enrolled(alice, task_first_sequence(alice))
    task = Task.objects.create(
        assignee=alice, contact=make_contact(), kind="call", title="Call", due_at=timezone.now()
    )

    result = run(
        "deactivate", "alice", "--reassign-tasks-to", "bob", "--as", "mo", "--yes", "--json"
    )

    assert result["enrollments_ended"] == 1
    assert (result["tasks_reassigned"], result["tasks_cancelled"]) == (1, 0)
    assert result["tasks_reassigned_to"] == "bob"
    assert result["user"]["is_active"] is False
    enrollment.refresh_from_db()
    task.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == (
        EnrollmentStatus.UNENROLLED,
        "user_deactivated",
    )
    assert (task.assignee, task.status) == (bob, TaskStatus.OPEN)


def test_without_an_heir_the_tasks_are_cancelled(alice: User, admin: User) -> None:
    task = Task.objects.create(
        assignee=alice, contact=make_contact(), kind="call", title="Call", due_at=timezone.now()
    )
    text = run("deactivate", "alice", "--as", "ada", "--yes")
    assert "Deactivated alice; 0 open enrollment(s) ended, 1 open task(s) cancelled." in text
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deactivate", "alice", "--as", "bob", "--yes"], "only a manager or an admin"),
        (["deactivate", "ada", "--as", "mo", "--yes"], "only an admin may deactivate them"),
        (["deactivate", "mo", "--as", "mo", "--yes"], "cannot deactivate yourself"),
        (["deactivate", "alice", "--reassign-tasks-to", "alice", "--as", "mo", "--yes"],
         "cannot be reassigned to alice"),
        (["deactivate", "alice", "--reassign-tasks-to", "ghost", "--as", "mo", "--yes"],
         "no user named 'ghost'"),
    ],
)  # fmt: skip
def test_a_refused_deactivation_changes_nothing(
    args: list[str], message: str, alice: User, bob: User, admin: User
) -> None:
    make_user("mo", role=Role.MANAGER)
    enrollment = enrolled(alice, task_first_sequence(alice))
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert User.objects.filter(is_active=False).count() == 0
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
