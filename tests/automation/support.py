"""Running the automation tasks a test queued, as the worker would."""

from typing import Any

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cadency.automation.models import TriggerType
from cadency.automation.services.workflows import create_workflow
from tests.factories import make_user

AUTOMATION_TASKS = "cadency.automation.tasks."


def queued(name: str = "") -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            task_path__startswith=AUTOMATION_TASKS + name, status="READY"
        ).order_by("enqueued_at")
    )


def is_due(result: DBTaskResult) -> bool:
    run_after = result.task.run_after
    return run_after is None or run_after <= timezone.now()


def run_automation(*, include_later: bool = False, rounds: int = 20, only: str = "") -> int:
    """Run queued automation tasks (and those they queue) until none is left;
    returns how many ran. Tasks due later run only with ``include_later``; ``only``
    limits it to one task (e.g. "react")."""
    ran = 0
    for _ in range(rounds):
        ready = [r for r in queued(only) if include_later or is_due(r)]
        if not ready:
            return ran
        for result in ready:
            result.status = "SUCCESSFUL"
            result.save(update_fields=["status"])
            args = result.args_kwargs
            result.task.func(*args["args"], **args["kwargs"])
            ran += 1
    raise AssertionError("automation tasks kept queuing more tasks")


def property_workflow(*actions: dict[str, Any]) -> None:
    """An enabled workflow of a new owner, run on any contact property change."""
    create_workflow(
        owner=make_user("ria"),
        enabled=True,
        name="W",
        trigger_type=TriggerType.CONTACT_PROPERTY_CHANGED,
        trigger_filters={},
        conditions=[],
        actions=list(actions),
    )
