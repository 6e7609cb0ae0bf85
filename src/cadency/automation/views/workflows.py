"""The workflows list, a workflow's page (trigger, conditions and actions in words, the
webhook secret, runs and webhook deliveries), and its On/Off and secret buttons.

Everyone signed in sees every workflow; changing one is for its owner, a manager or
an admin (``automation.permissions``), refused with 403 otherwise."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.core.paginator import Page
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cadency.automation.describe import Names, in_words
from cadency.automation.forms_workflows import ACTION_LABELS
from cadency.automation.models import RunStatus, WebhookDelivery, Workflow, WorkflowRun
from cadency.automation.permissions import check_may_edit_workflow, may_edit_workflow
from cadency.automation.services.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER
from cadency.automation.services.workflows import rotate_secret, set_enabled
from cadency.web.pagination import page_of
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user

RUNS_PER_PAGE = 25
DELIVERIES_PER_PAGE = 25
RUN_BADGES = {
    RunStatus.SUCCEEDED: "active",
    RunStatus.PARTLY: "paused",
    RunStatus.FAILED: "unenrolled",
    RunStatus.SKIPPED: "",
}
DELIVERY_BADGES = {"delivered": "active", "pending": "paused", "failed": "unenrolled"}


def get_workflow(pk: int) -> Workflow:
    return get_object_or_404(Workflow.objects.select_related("owner"), pk=pk)


def with_run_summary(workflows: QuerySet[Workflow]) -> QuerySet[Workflow]:
    return workflows.annotate(run_count=Count("runs"), last_run_at=Max("runs__started_at"))


@dataclass(frozen=True)
class ListRow:
    workflow: Any
    trigger: str
    may_edit: bool


@require_GET
def workflow_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    page = page_of(
        request, with_run_summary(Workflow.objects.select_related("owner")).order_by("name", "pk")
    )
    workflows = list(page.object_list)
    names = Names.of(workflows)
    rows = [
        ListRow(workflow, in_words(workflow, names).trigger, may_edit_workflow(user, workflow))
        for workflow in workflows
    ]
    return render(request, "automation/workflow_list.html", {"page": page, "rows": rows})


@dataclass(frozen=True)
class RunStep:
    number: int
    label: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class RunRow:
    run: WorkflowRun
    badge: str
    steps: list[RunStep]


def run_rows(page: Page[WorkflowRun]) -> list[RunRow]:
    return [
        RunRow(
            run,
            RUN_BADGES.get(RunStatus(run.status), ""),
            [
                RunStep(
                    number,
                    ACTION_LABELS.get(step.get("action", ""), str(step.get("action", ""))),
                    str(step.get("outcome", "")).replace("_", " "),
                    str(step.get("detail", "")),
                )
                for number, step in enumerate(run.steps, start=1)
            ],
        )
        for run in page.object_list
    ]


@dataclass(frozen=True)
class Attempt:
    at: dt.datetime | None
    status_code: int | None
    error: str
    seconds: float | None


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    badge: str
    attempts: list[Attempt]


def attempt_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def delivery_rows(page: Page[WebhookDelivery]) -> list[DeliveryRow]:
    return [
        DeliveryRow(
            delivery,
            DELIVERY_BADGES.get(delivery.status, ""),
            [
                Attempt(
                    attempt_time(attempt.get("at")),
                    attempt.get("status_code"),
                    str(attempt.get("error") or ""),
                    attempt.get("seconds"),
                )
                for attempt in delivery.attempts
            ],
        )
        for delivery in page.object_list
    ]


@require_GET
def workflow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    workflow = get_workflow(pk)
    runs = page_of(
        request,
        WorkflowRun.objects.filter(workflow=workflow)
        .select_related("contact", "event")
        .order_by("-started_at", "-pk"),
        per_page=RUNS_PER_PAGE,
    )
    deliveries = page_of(
        request,
        WebhookDelivery.objects.filter(run__workflow=workflow)
        .select_related("run__contact")
        .order_by("-created_at", "-pk"),
        per_page=DELIVERIES_PER_PAGE,
        param="deliveries_page",
    )
    may_edit = may_edit_workflow(user, workflow)
    context = {
        "workflow": workflow,
        "words": in_words(workflow),
        "may_edit": may_edit,
        "secret": workflow.webhook_secret if may_edit else "",
        "signature_header": SIGNATURE_HEADER,
        "delivery_header": DELIVERY_HEADER,
        "has_webhook": any(a.get("type") == "webhook" for a in workflow.actions),
        "page": runs,
        "runs": run_rows(runs),
        "run_count": runs.paginator.count,
        "deliveries": deliveries,
        "delivery_rows": delivery_rows(deliveries),
    }
    return render(request, "automation/workflow_detail.html", context)


@require_POST
def switch(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a workflow on or off; the ``enabled`` field ("on" or "off") says which, so
    a button pressed twice changes nothing the second time."""
    user = signed_in_user(request)
    workflow = get_workflow(pk)
    check_may_edit_workflow(user, workflow)
    wanted = request.POST.get("enabled")
    if wanted not in ("on", "off"):
        raise BadRequest("the form must say whether to turn the workflow on or off")
    if set_enabled(workflow=workflow, enabled=wanted == "on", actor=user):
        messages.success(request, f"The workflow «{workflow.name}» is now {wanted}.")
    else:
        messages.info(request, f"The workflow «{workflow.name}» was already {wanted}.")
    return redirect_back(request, reverse("automation:workflow", args=[workflow.pk]))


@require_POST
def replace_secret(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    workflow = get_workflow(pk)
    check_may_edit_workflow(user, workflow)
    rotate_secret(workflow=workflow, actor=user)
    messages.success(
        request,
        f"Replaced the webhook secret of «{workflow.name}»: deliveries from now on are "
        "signed with the new one; update your receivers.",
    )
    return redirect(reverse("automation:workflow", args=[workflow.pk]) + "#webhook-secret")
