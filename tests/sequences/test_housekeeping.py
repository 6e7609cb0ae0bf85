"""Finished background tasks are pruned after the retention, a bounded batch at a
time; unfinished tasks and everything Cadency's own tables hold stay."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.ledger.models import Event
from cadency.sequences.models import StepRun
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.housekeeping import prune_finished_tasks
from cadency.sequences.services.recovery import sweep
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

TASK_TABLE = DBTaskResult._meta.db_table


def task(status: str, *, finished_days_ago: float | None, started_days_ago: float = 0) -> Any:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="cadency.sequences.tasks.run_step",
        backend_name="default",
        run_after=now,
        started_at=now - dt.timedelta(days=started_days_ago),
        finished_at=(
            None if finished_days_ago is None else now - dt.timedelta(days=finished_days_ago)
        ),
        exception_class_path="",
        traceback="",
    )


def remaining() -> set[Any]:
    return set(DBTaskResult.objects.values_list("pk", flat=True))


def test_finished_tasks_older_than_the_retention_are_deleted(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 7
    succeeded = task(TaskResultStatus.SUCCESSFUL, finished_days_ago=8)
    failed = task(TaskResultStatus.FAILED, finished_days_ago=30)
    assert prune_finished_tasks() == 2
    assert not remaining() & {succeeded.pk, failed.pk}


def test_recently_finished_tasks_stay(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 7
    recent = {
        task(TaskResultStatus.SUCCESSFUL, finished_days_ago=6.9).pk,
        task(TaskResultStatus.FAILED, finished_days_ago=0).pk,
    }
    assert prune_finished_tasks() == 0
    assert remaining() == recent


def test_unfinished_tasks_stay_however_old(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 1
    unfinished = {
        task(TaskResultStatus.READY, finished_days_ago=None).pk,
        task(TaskResultStatus.RUNNING, finished_days_ago=None, started_days_ago=90).pk,
        # Ready again after an earlier attempt finished long ago: it still has work.
        task(TaskResultStatus.READY, finished_days_ago=90).pk,
        task(TaskResultStatus.RUNNING, finished_days_ago=90, started_days_ago=90).pk,
    }
    assert prune_finished_tasks() == 0
    assert remaining() == unfinished


def test_the_retention_setting_is_honoured(settings: Any) -> None:
    kept = task(TaskResultStatus.SUCCESSFUL, finished_days_ago=10)
    settings.CADENCY_TASK_RETENTION_DAYS = 30
    assert prune_finished_tasks() == 0
    settings.CADENCY_TASK_RETENTION_DAYS = 9
    assert prune_finished_tasks() == 1
    assert kept.pk not in remaining()


def test_one_call_deletes_at_most_one_batch_oldest_first(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 7
    by_age = [task(TaskResultStatus.SUCCESSFUL, finished_days_ago=10 + n).pk for n in range(5)]
    assert prune_finished_tasks(batch=2) == 2
    assert remaining() == set(by_age[:3]), "the two oldest went first"
    assert prune_finished_tasks(batch=2) == 2
    assert prune_finished_tasks(batch=2) == 1
    assert prune_finished_tasks(batch=2) == 0
    assert not remaining()


def test_the_sweep_prunes_and_reports_it(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 7
    task(TaskResultStatus.SUCCESSFUL, finished_days_ago=8)
    task(TaskResultStatus.SUCCESSFUL, finished_days_ago=1)
    assert sweep().tasks_pruned == 1
    assert sweep().tasks_pruned == 0
    assert DBTaskResult.objects.count() == 1


def queued_first_step() -> StepRun:
    rep = make_user("alice")
    make_mailbox(rep)
    enrollment = enroll(
        contact=make_contact(), sequence=make_sequence(rep), user=rep, run_first_step=False
    )
    run = enrollment.step_runs.get()
    assert run.task_id is not None
    return run


def test_pruning_leaves_step_runs_and_the_ledger_alone(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 7
    run = queued_first_step()
    enrollment = run.enrollment
    StepRun.objects.filter(pk=run.pk).update(due_at=timezone.now() + dt.timedelta(days=3))
    DBTaskResult.objects.filter(pk=run.task_id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now() - dt.timedelta(days=8)
    )
    events = Event.objects.filter(enrollment=enrollment).count()
    assert prune_finished_tasks() == 1
    run.refresh_from_db()
    assert run.task_id is not None, "the run keeps its (now dangling) task id"
    assert StepRun.objects.filter(enrollment=enrollment).count() == 1
    assert Event.objects.filter(enrollment=enrollment).count() == events


def test_a_due_run_whose_task_was_pruned_is_queued_again(settings: Any) -> None:
    settings.CADENCY_TASK_RETENTION_DAYS = 7
    run = queued_first_step()
    StepRun.objects.filter(pk=run.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    DBTaskResult.objects.filter(pk=run.task_id).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now() - dt.timedelta(days=8)
    )
    report = sweep()
    assert (report.requeued, report.tasks_pruned) == (1, 1)
    run.refresh_from_db()
    assert run.task_id is not None
    assert DBTaskResult.objects.filter(pk=run.task_id, status=TaskResultStatus.READY).exists()


def test_the_sweep_indexes_exist() -> None:
    with connection.cursor() as cursor:
        tasks = connection.introspection.get_constraints(cursor, TASK_TABLE)
    assert {"cadency_task_unfinished", "cadency_task_finished"} <= set(tasks)
    assert tasks["cadency_task_finished"]["columns"] == ["finished_at"]
