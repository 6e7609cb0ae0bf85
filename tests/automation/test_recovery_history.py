"""The automation sweep steps look only at unfinished tasks: finished reactions and
deliveries, however many and however old, are never queued again."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.automation.models import WebhookDelivery
from cadency.automation.recovery import (
    DELIVER_TASK,
    REACT_TASK,
    requeue_lost_deliveries,
    requeue_stale_reactions,
)
from cadency.contacts.editing import set_contact_field
from tests.automation.support import property_workflow, queued, run_automation
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(days=30)


def finished_history(task_path: str, args: list[Any], count: int = 20) -> None:
    started = timezone.now() - LONG_AGO
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            status=TaskResultStatus.FAILED if n % 2 else TaskResultStatus.SUCCESSFUL,
            args_kwargs={"args": args, "kwargs": {}},
            task_path=task_path,
            backend_name="default",
            run_after=started,
            started_at=started,
            finished_at=started,
            exception_class_path="",
            traceback="",
        )
        for n in range(count)
    )


def test_finished_reactions_are_never_queued_again_however_old() -> None:
    finished_history(REACT_TASK, [1, 1])
    assert requeue_stale_reactions() == 0
    assert queued("react") == []


def test_a_stale_reaction_among_finished_ones_is_queued_again_once() -> None:
    property_workflow({"type": "create_task", "title": "t", "assignee": "workflow_owner"})
    set_contact_field(contact=make_contact(), field="properties.a", value="1", actor=None)
    (task,) = queued("react")
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    finished_history(REACT_TASK, task.args_kwargs["args"])
    assert requeue_stale_reactions() == 1
    assert requeue_stale_reactions() == 0
    assert len(queued("react")) == 1


def test_finished_delivery_tasks_do_not_count_as_waiting(settings: Any) -> None:
    settings.CADENCY_WEBHOOKS_ALLOW_HTTP = True
    property_workflow({"type": "webhook", "url": "http://127.0.0.1:9/hook"})
    set_contact_field(contact=make_contact(), field="properties.a", value="1", actor=None)
    run_automation(only="react")
    (waiting,) = queued("deliver_webhook")
    delivery = WebhookDelivery.objects.get()
    DBTaskResult.objects.filter(pk=waiting.pk).delete()
    finished_history(DELIVER_TASK, [delivery.pk])
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    assert requeue_lost_deliveries() == 1
    assert len(queued("deliver_webhook")) == 1
