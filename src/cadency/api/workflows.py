"""Workflows: list, create, read, replace, switch on and off; their runs and the
webhook deliveries of a run (``automation.services.workflows`` decides what is valid).

Everyone sees every workflow; a rep changes only the workflows they own, managers
and admins all of them (``automation.permissions``: 403 otherwise). The webhook
secret is shown only to those who may change the workflow."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from cadency.accounts.models import User
from cadency.api.auth import actor_of
from cadency.api.common import (
    BodyBool,
    BodyId,
    BodyInt,
    ContactRef,
    Id,
    Text,
    UserRef,
    check_exists,
    get_or_404,
)
from cadency.api.errors import ApiError, errors, invalid
from cadency.api.pagination import Page
from cadency.automation.actions import TASK_KINDS
from cadency.automation.conditions import OPS
from cadency.automation.describe import in_words
from cadency.automation.models import (
    DeliveryStatus,
    RunStatus,
    TriggerType,
    WebhookDelivery,
    Workflow,
    WorkflowRun,
)
from cadency.automation.permissions import check_may_edit_workflow, may_edit_workflow
from cadency.automation.services.workflows import (
    WorkflowError,
    create_workflow,
    set_enabled,
    update_workflow,
)
from cadency.deals.models import DealStage
from cadency.sequences.models import UnenrollReason

router = Router(tags=["workflows"])

Person = Literal["contact_owner", "workflow_owner"] | BodyId
PERSON = "`contact_owner`, `workflow_owner` or a user's id"
Name = Annotated[Text, Field(min_length=1, max_length=200)]
Short = Annotated[Text, Field(max_length=200)]


class TriggerFiltersIn(Schema):
    """Filters on the event; which ones a trigger type takes is in docs/api.md."""

    model_config = ConfigDict(extra="forbid")

    field: Short | None = Field(
        None, description="a property that changed", examples=["lifecycle_stage"]
    )
    value: Text | None = Field(None, description="its new value (with `field`)")
    list: BodyId | None = None
    stage: DealStage | None = None
    sequence: BodyId | None = None
    reason: UnenrollReason | None = Field(None, description="why an enrollment ended")


class WorkflowConditionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    field: Short = Field(examples=["lifecycle_stage"])
    op: Short = Field("is", description=f"one of {', '.join(OPS)}")
    value: Text | list[Text] = Field("", description="a list for is_any_of; none for is(_not)_set")


class EnrollActionIn(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["enroll"]
    sequence: BodyId
    as_: Person = Field("workflow_owner", alias="as", description=f"who enrolls: {PERSON}")
    mailbox: BodyId | None = Field(None, description="with a given user: one of their mailboxes")


class UnenrollActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: Literal["unenroll"]
    sequence: BodyId | None = Field(None, description="none: from every sequence")


class SetPropertyActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: Literal["set_property"]
    field: Short = Field(examples=["lifecycle_stage", "properties.plan", "company.properties.tier"])
    value: Text = ""


class CreateTaskActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: Literal["create_task"]
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    kind: Short = Field("task", description=f"one of {', '.join(TASK_KINDS)}")
    assignee: Person = Field("workflow_owner", description=f"for whom: {PERSON}")
    due_in_days: BodyInt = Field(0, ge=0, le=365)
    notes: Annotated[Text, Field(max_length=5000)] = ""


class WebhookActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook"]
    url: Annotated[Text, Field(max_length=2000, examples=["https://hooks.example.com/cadency"])]


ActionIn = Annotated[
    EnrollActionIn | UnenrollActionIn | SetPropertyActionIn | CreateTaskActionIn | WebhookActionIn,
    Field(discriminator="type"),
]


class WorkflowSpecIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Name
    trigger_type: TriggerType
    trigger_filters: TriggerFiltersIn | None = None
    conditions: list[WorkflowConditionIn] = Field(default_factory=list, max_length=50)
    actions: list[ActionIn] = Field(min_length=1, max_length=20)

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trigger_type": self.trigger_type.value,
            "trigger_filters": (
                self.trigger_filters.model_dump(mode="json", exclude_none=True)
                if self.trigger_filters
                else {}
            ),
            "conditions": [c.model_dump(mode="json") for c in self.conditions],
            "actions": [a.model_dump(mode="json", by_alias=True) for a in self.actions],
        }


class WorkflowCreateIn(WorkflowSpecIn):
    enabled: BodyBool = Field(False, description="switch it on at once")


class WorkflowOut(Schema):
    id: int
    name: str
    owner: UserRef
    enabled: bool
    trigger_type: TriggerType
    trigger_filters: dict[str, Any]
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    runs: int
    last_run_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_runs(obj: Any) -> int:
        """From ``workflows()``'s annotation."""
        return int(obj.run_count)


class WorkflowWordsOut(Schema):
    trigger: str
    conditions: str
    actions: list[str]


class WorkflowDetailOut(WorkflowOut):
    description: WorkflowWordsOut
    webhook_secret: str | None = Field(
        description="signs its webhooks; null unless you may change the workflow"
    )

    @staticmethod
    def resolve_description(obj: Workflow) -> dict[str, Any]:
        words = in_words(obj)
        return {"trigger": words.trigger, "conditions": words.conditions, "actions": words.actions}

    @staticmethod
    def resolve_webhook_secret(obj: Workflow, context: dict[str, Any]) -> str | None:
        actor = actor_of(context["request"])
        return obj.webhook_secret if may_edit_workflow(actor, obj) else None


class WorkflowSwitchOut(Schema):
    changed: bool = Field(description="false when the workflow already was in that state")
    workflow: WorkflowOut


class RunEventOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime


class RunStepOut(Schema):
    action: str
    outcome: str
    detail: str


class WorkflowRunOut(Schema):
    id: int
    status: RunStatus
    contact: ContactRef
    event: RunEventOut
    steps: list[RunStepOut]
    deliveries: int
    started_at: dt.datetime
    finished_at: dt.datetime

    @staticmethod
    def resolve_deliveries(obj: Any) -> int:
        return int(obj.delivery_count)


class DeliveryAttemptOut(Schema):
    at: dt.datetime
    status_code: int | None
    error: str
    seconds: float | None = None


class WebhookDeliveryOut(Schema):
    id: int
    url: str
    status: DeliveryStatus
    attempts: list[DeliveryAttemptOut]
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    payload: dict[str, Any]


class WorkflowFilter(Schema):
    owner: Id | None = None
    enabled: bool | None = None
    trigger_type: TriggerType | None = None


def workflows() -> QuerySet[Workflow]:
    return Workflow.objects.select_related("owner").annotate(
        run_count=Count("runs"), last_run_at=Max("runs__started_at")
    )


def editable(request: HttpRequest, workflow_id: int) -> Workflow:
    workflow = get_or_404(workflows(), workflow_id, "workflow")
    check_may_edit_workflow(actor_of(request), workflow)
    return workflow


@router.get("/workflows", response={200: list[WorkflowOut], **errors(404)})
@paginate(Page)
def list_workflows(request: HttpRequest, filters: Query[WorkflowFilter]) -> QuerySet[Workflow]:
    """Every workflow, by name."""
    check_exists(User.objects.all(), filters.owner, "user")
    found = workflows().order_by("name", "pk")
    if filters.owner is not None:
        found = found.filter(owner_id=filters.owner)
    if filters.enabled is not None:
        found = found.filter(enabled=filters.enabled)
    if filters.trigger_type is not None:
        found = found.filter(trigger_type=filters.trigger_type)
    return found


@router.post("/workflows", response={201: WorkflowDetailOut, **errors()})
def create_workflow_from_spec(request: HttpRequest, body: WorkflowCreateIn) -> Status[Workflow]:
    """Create a workflow owned by you (off unless ``enabled``). A spec the rules refuse
    answers 400 with the reason, e.g. ``action 2 (enroll): no sequence 9``."""
    try:
        workflow = create_workflow(owner=actor_of(request), enabled=body.enabled, **body.spec())
    except WorkflowError as exc:
        raise invalid(f"{exc}; nothing was created") from exc
    return Status(201, workflows().get(pk=workflow.pk))


@router.get("/workflows/{workflow_id}", response={200: WorkflowDetailOut, **errors(404)})
def get_workflow(request: HttpRequest, workflow_id: Id) -> Workflow:
    """A workflow, with its trigger, conditions and actions in words."""
    return get_or_404(workflows(), workflow_id, "workflow")


@router.put("/workflows/{workflow_id}", response={200: WorkflowDetailOut, **errors(403, 404)})
def replace_workflow(request: HttpRequest, workflow_id: Id, body: WorkflowSpecIn) -> Workflow:
    """Replace the name, trigger, conditions and actions (on/off stays as it is)."""
    workflow = editable(request, workflow_id)
    try:
        update_workflow(workflow=workflow, actor=actor_of(request), **body.spec())
    except WorkflowError as exc:
        raise invalid(f"{exc}; nothing was changed") from exc
    return workflows().get(pk=workflow.pk)


def switch(request: HttpRequest, workflow_id: int, *, enabled: bool) -> dict[str, Any]:
    workflow = editable(request, workflow_id)
    changed = set_enabled(workflow=workflow, enabled=enabled, actor=actor_of(request))
    return {"changed": changed, "workflow": workflows().get(pk=workflow.pk)}


@router.post(
    "/workflows/{workflow_id}/enable", response={200: WorkflowSwitchOut, **errors(403, 404)}
)
def enable_workflow(request: HttpRequest, workflow_id: Id) -> dict[str, Any]:
    """Switch it on: from now on, the events it listens to run it."""
    return switch(request, workflow_id, enabled=True)


@router.post(
    "/workflows/{workflow_id}/disable", response={200: WorkflowSwitchOut, **errors(403, 404)}
)
def disable_workflow(request: HttpRequest, workflow_id: Id) -> dict[str, Any]:
    """Switch it off; its history stays."""
    return switch(request, workflow_id, enabled=False)


@router.get("/workflows/{workflow_id}/runs", response={200: list[WorkflowRunOut], **errors(404)})
@paginate(Page)
def list_workflow_runs(request: HttpRequest, workflow_id: Id) -> QuerySet[WorkflowRun]:
    """The workflow's runs, newest first: one per event and contact, with what each
    action did."""
    workflow = get_or_404(Workflow.objects.all(), workflow_id, "workflow")
    return (
        WorkflowRun.objects.filter(workflow=workflow)
        .select_related("contact", "event")
        .annotate(delivery_count=Count("deliveries"))
        .order_by("-started_at", "-pk")
    )


@router.get(
    "/workflows/{workflow_id}/runs/{run_id}/deliveries",
    response={200: list[WebhookDeliveryOut], **errors(404)},
)
@paginate(Page)
def list_run_deliveries(
    request: HttpRequest, workflow_id: Id, run_id: Id
) -> QuerySet[WebhookDelivery]:
    """The webhook deliveries of a run, with every attempt."""
    workflow = get_or_404(Workflow.objects.all(), workflow_id, "workflow")
    if not WorkflowRun.objects.filter(workflow=workflow, pk=run_id).exists():
        raise ApiError(404, "not_found", f"workflow {workflow_id} has no run with id {run_id}")
    return WebhookDelivery.objects.filter(run_id=run_id).order_by("created_at", "pk")
