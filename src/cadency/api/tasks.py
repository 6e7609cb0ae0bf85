"""Tasks: yours by default; complete or skip them (a sequence waiting on one moves on)."""

import datetime as dt
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.api.auth import actor_of
from cadency.api.common import ContactRef, Id, UserRef, check_exists, get_or_404
from cadency.api.errors import conflict, errors, forbidden
from cadency.api.pagination import Page
from cadency.contacts.models import Contact
from cadency.sequences.models import Task, TaskStatus
from cadency.sequences.services.task_completion import TaskNotOpen, complete_task

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    notes: str
    status: TaskStatus
    assignee: UserRef
    contact: ContactRef
    enrollment: int | None
    step: int | None
    due_at: dt.datetime
    completed_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_enrollment(obj: Task) -> int | None:
        return obj.step_run.enrollment_id if obj.step_run else None

    @staticmethod
    def resolve_step(obj: Task) -> int | None:
        return obj.step_run.position if obj.step_run else None


class TaskFilter(Schema):
    assignee: Id | None = Field(None, description="a user's id; default: you")
    everyone: bool = Field(False, description="every user's tasks (overrides assignee)")
    status: TaskStatus | Literal["all"] = TaskStatus.OPEN
    contact: Id | None = None


def tasks() -> QuerySet[Task]:
    return Task.objects.select_related("assignee", "contact", "step_run")


@router.get("/tasks", response={200: list[TaskOut], **errors(404)})
@paginate(Page)
def list_tasks(request: HttpRequest, filters: Query[TaskFilter]) -> QuerySet[Task]:
    """Tasks, soonest due first: your open ones unless the filters say otherwise."""
    check_exists(User.objects.all(), filters.assignee, "user")
    check_exists(Contact.objects.all(), filters.contact, "contact")
    found = tasks().order_by("due_at", "pk")
    if not filters.everyone:
        found = found.filter(assignee_id=filters.assignee or actor_of(request).pk)
    if filters.status != "all":
        found = found.filter(status=filters.status)
    if filters.contact is not None:
        found = found.filter(contact_id=filters.contact)
    return found


@router.get("/tasks/{task_id}", response={200: TaskOut, **errors(404)})
def get_task(request: HttpRequest, task_id: Id) -> Task:
    return get_or_404(tasks(), task_id, "task")


def finish(request: HttpRequest, task_id: int, *, skipped: bool) -> Task:
    actor = actor_of(request)
    task = get_or_404(tasks(), task_id, "task")
    if not may_act_on(actor, task.assignee_id):
        raise forbidden(
            f"task {task.pk} is assigned to {task.assignee.username}; "
            f"a {actor.role} may only act on their own tasks"
        )
    try:
        complete_task(task=task, actor=actor, skipped=skipped)
    except TaskNotOpen as exc:
        raise conflict(f"task {task.pk}: {exc}") from exc
    return tasks().get(pk=task.pk)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **errors(403, 404, 409)})
def complete_task_now(request: HttpRequest, task_id: Id) -> Task:
    """Mark an open task done; 409 if it is not open."""
    return finish(request, task_id, skipped=False)


@router.post("/tasks/{task_id}/skip", response={200: TaskOut, **errors(403, 404, 409)})
def skip_task(request: HttpRequest, task_id: Id) -> Task:
    """Skip an open task; 409 if it is not open."""
    return finish(request, task_id, skipped=True)
