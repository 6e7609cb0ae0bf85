"""The Tasks queue: overdue, due today and upcoming open tasks; complete or skip them.

Days are counted in the viewer's time zone: their first mailbox's, else UTC.
Reps act on their own tasks, managers and admins on everyone's (SPEC §1).
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.sequences.models import StepKind, Task, TaskStatus
from cadency.sequences.services import scheduling
from cadency.sequences.services.task_completion import TaskNotOpen, complete_task
from cadency.web.pagination import page_of
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user

PAGE_SIZE = 25
KIND_LABELS = dict(StepKind.choices)


@dataclass(frozen=True)
class TaskRow:
    task: Task
    kind_label: str
    may_act: bool


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    empty: str
    page: Page[Task]
    rows: list[TaskRow]
    previous_url: str
    next_url: str


def zone_of(user: User) -> tuple[ZoneInfo, str]:
    """The zone that decides what "today" is, and a phrase saying where it comes from."""
    mailbox = user.mailboxes.order_by("pk").first()
    if mailbox is None:
        return ZoneInfo("UTC"), "UTC: connect a mailbox to use its time zone"
    zone = scheduling.resolve_zone(mailbox.time_zone)
    return zone, f"{zone.key}, the time zone of your mailbox {mailbox.email}"


def day_bounds(now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    today = now.astimezone(zone).date()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def chosen_assignee(request: HttpRequest, viewer: User) -> User | None:
    """Whose queue to show: the viewer's by default, anyone's, or everyone's (None)."""
    value = request.GET.get("assignee", "").strip()
    if value in {"", str(viewer.pk)}:
        return viewer
    if value == "all":
        return None
    if not value.isdigit():
        raise BadRequest("assignee must be a user id or 'all'")
    return get_object_or_404(User, pk=int(value))


def page_url(request: HttpRequest, param: str, number: int) -> str:
    query = request.GET.copy()
    query[param] = str(number)
    return f"?{query.urlencode()}"


def section(
    request: HttpRequest,
    viewer: User,
    tasks: QuerySet[Task],
    *,
    key: str,
    title: str,
    empty: str,
) -> Section:
    param = f"{key}_page"
    page = page_of(request, tasks, per_page=PAGE_SIZE, param=param)
    rows = [
        TaskRow(task, KIND_LABELS.get(task.kind, task.kind), may_act_on(viewer, task.assignee_id))
        for task in page.object_list
    ]
    return Section(
        key=key,
        title=title,
        empty=empty,
        page=page,
        rows=rows,
        previous_url=page_url(request, param, page.number - 1) if page.has_previous() else "",
        next_url=page_url(request, param, page.number + 1) if page.has_next() else "",
    )


@require_GET
def tasks_page(request: HttpRequest) -> HttpResponse:
    viewer = signed_in_user(request)
    assignee = chosen_assignee(request, viewer)
    zone, zone_note = zone_of(viewer)
    start_of_today, start_of_tomorrow = day_bounds(timezone.now(), zone)
    open_tasks = Task.objects.filter(status=TaskStatus.OPEN)
    if assignee is not None:
        open_tasks = open_tasks.filter(assignee=assignee)
    rows = open_tasks.select_related(
        "contact", "assignee", "step_run__enrollment__sequence"
    ).order_by("due_at", "pk")
    sections = [
        section(
            request,
            viewer,
            rows.filter(due_at__lt=start_of_today),
            key="overdue",
            title="Overdue",
            empty="Nothing overdue.",
        ),
        section(
            request,
            viewer,
            rows.filter(due_at__gte=start_of_today, due_at__lt=start_of_tomorrow),
            key="today",
            title="Due today",
            empty="Nothing due today.",
        ),
        section(
            request,
            viewer,
            rows.filter(due_at__gte=start_of_tomorrow),
            key="upcoming",
            title="Upcoming",
            empty="Nothing upcoming.",
        ),
    ]
    return render(
        request,
        "sequences/tasks.html",
        {
            "sections": sections,
            "assignee": assignee,
            "viewer": viewer,
            "users": User.objects.filter(is_active=True).order_by("username")[:500],
            "zone": zone,
            "zone_note": zone_note,
            "today": start_of_today,
        },
    )


def finish(request: HttpRequest, task_id: int, *, skipped: bool) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("assignee"), pk=task_id)
    actor = signed_in_user(request)
    if not may_act_on(actor, task.assignee_id):
        raise PermissionDenied(
            f"task {task.pk} is assigned to {task.assignee.display_name}; "
            f"a {actor.role} may only act on their own tasks"
        )
    verb = "skip" if skipped else "complete"
    try:
        complete_task(task=task, actor=actor, skipped=skipped)
    except TaskNotOpen as exc:
        messages.warning(request, f"Could not {verb} “{task.title}”: {exc}; nothing was changed.")
    else:
        done = "Skipped" if skipped else "Completed"
        messages.success(request, f"{done} “{task.title}”.")
    return redirect_back(request, reverse("sequences:tasks"))


@require_POST
def complete(request: HttpRequest, task_id: int) -> HttpResponse:
    return finish(request, task_id, skipped=False)


@require_POST
def skip(request: HttpRequest, task_id: int) -> HttpResponse:
    return finish(request, task_id, skipped=True)
