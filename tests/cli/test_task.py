import pytest

from cadency.accounts.models import Role
from cadency.sequences.models import StepRunState, Task, TaskStatus
from tests.cli.conftest import Fails, Run, enrolled
from tests.factories import ALWAYS_OPEN, make_sequence, make_user

pytestmark = pytest.mark.django_db

WAITING = [
    {"type": "call", "title": "Call {{ contact.first_name }}", "pause_until_complete": True},
    {"type": "task", "delay": 1, "title": "Send the brochure"},
]


def open_task(username: str = "ada") -> Task:
    user = make_user(username)
    enrolled(user, make_sequence(user, steps=WAITING, **ALWAYS_OPEN))
    return Task.objects.get(assignee=user)


def test_it_lists_open_tasks(run: Run) -> None:
    task = open_task()
    rows = run("task", "list", "--json").json
    assert [(t["id"], t["kind"], t["title"], t["status"]) for t in rows] == [
        (task.pk, "call", "Call Jane", "open")
    ]
    assert rows[0]["enrollment"] is not None
    assert "Call Jane" in run("task", "list", "--user", "ada").out
    assert run("task", "list", "--user", "ada", "--status", "completed", "--json").json == []


def test_completing_a_task_moves_the_sequence_on(run: Run) -> None:
    task = open_task()
    result = run("task", "complete", str(task.pk), "--as", "ada", "--json")
    assert result.json["status"] == "completed"
    task.refresh_from_db()
    assert task.step_run is not None
    assert task.step_run.state == StepRunState.DONE
    assert task.step_run.enrollment.step_runs.filter(position=2).exists()


def test_skipping_a_task(run: Run) -> None:
    task = open_task()
    assert "Skipped task" in run("task", "skip", str(task.pk), "--as", "ada").out
    task.refresh_from_db()
    assert task.status == TaskStatus.SKIPPED


def test_another_rep_may_not_complete_the_task(fails: Fails) -> None:
    task = open_task("ada")
    make_user("bo")
    fails("task", "complete", str(task.pk), "--as", "bo", match="assigned to ada")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_manager_may_complete_anyones_task(run: Run) -> None:
    task = open_task("ada")
    make_user("mo", role=Role.MANAGER)
    run("task", "complete", str(task.pk), "--as", "mo")
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_a_done_task_or_unknown_id_is_a_clear_error(run: Run, fails: Fails) -> None:
    task = open_task()
    run("task", "complete", str(task.pk), "--as", "ada")
    fails("task", "skip", str(task.pk), "--as", "ada", match="already completed")
    fails("task", "complete", "999", "--as", "ada", match="no task with id 999")
    fails("task", "list", "--user", "ghost", match="no user named 'ghost'")
