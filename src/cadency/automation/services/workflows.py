"""Workflows: saving one (everything checked first), switching it on and off, and
running the enabled ones an event triggers."""

import logging
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.automation.actions import ActionError, RunContext, check_action, perform
from cadency.automation.conditions import (
    ConditionError,
    as_json,
    matches,
    parse_conditions,
)
from cadency.automation.models import RunStatus, TriggerType, Workflow, WorkflowRun
from cadency.contacts.models import Contact
from cadency.deals.models import DealStage
from cadency.ledger.models import Event
from cadency.ledger.services import record_event
from cadency.sequences.models import Sequence, UnenrollReason

logger = logging.getLogger("cadency.automation")

# The event filters each trigger type accepts.
FILTERS: dict[str, tuple[str, ...]] = {
    TriggerType.CONTACT_PROPERTY_CHANGED: ("field", "value"),
    TriggerType.COMPANY_PROPERTY_CHANGED: ("field", "value"),
    TriggerType.LIST_JOINED: ("list",),
    TriggerType.LIST_LEFT: ("list",),
    TriggerType.DEAL_CREATED: ("stage",),
    TriggerType.DEAL_STAGE_CHANGED: ("stage",),
    TriggerType.EMAIL_SENT: ("sequence",),
    TriggerType.EMAIL_OPENED: ("sequence",),
    TriggerType.EMAIL_CLICKED: ("sequence",),
    TriggerType.EMAIL_REPLIED: ("sequence",),
    TriggerType.EMAIL_BOUNCED: ("sequence",),
    TriggerType.ENROLLMENT_STARTED: ("sequence",),
    TriggerType.ENROLLMENT_ENDED: ("sequence", "reason"),
}


class WorkflowError(ValueError):
    """A workflow that cannot be saved as written; the message says why."""


def check_filters(trigger_type: str, raw: Any) -> dict[str, Any]:
    if trigger_type not in TriggerType.values:
        raise WorkflowError(f"unknown trigger {trigger_type!r}")
    raw = raw or {}
    if not isinstance(raw, dict):
        raise WorkflowError("trigger filters are an object")
    allowed = FILTERS.get(trigger_type, ())
    unknown = sorted(set(k for k, v in raw.items() if v not in (None, "")) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) or "none"
        raise WorkflowError(f"{trigger_type} takes no filter {unknown[0]!r} (accepted: {accepted})")
    clean: dict[str, Any] = {}
    for key in allowed:
        value = raw.get(key)
        if value in (None, ""):
            continue
        if key in ("list", "sequence"):
            from cadency.automation.models import ContactList

            model = ContactList if key == "list" else Sequence
            try:
                pk = int(str(value))
            except (TypeError, ValueError) as exc:
                raise WorkflowError(f"filter {key} must be an id") from exc
            if not model.objects.filter(pk=pk).exists():
                raise WorkflowError(f"filter {key}: no {key} {pk}")
            clean[key] = pk
        elif key == "stage" and value not in DealStage.values:
            raise WorkflowError(f"filter stage: unknown deal stage {value!r}")
        elif key == "reason" and value not in UnenrollReason.values:
            raise WorkflowError(f"filter reason: unknown reason {value!r}")
        else:
            clean[key] = str(value).strip()
    if "value" in clean and "field" not in clean:
        raise WorkflowError("filter value needs a field")
    return clean


def check_workflow(
    *, name: str, trigger_type: str, trigger_filters: Any, conditions: Any, actions: Any
) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 200:
        raise WorkflowError("give the workflow a name of at most 200 characters")
    filters = check_filters(trigger_type, trigger_filters)
    try:
        parsed = as_json(parse_conditions(conditions))
    except ConditionError as exc:
        raise WorkflowError(str(exc)) from exc
    if not isinstance(actions, list) or not actions:
        raise WorkflowError("a workflow needs at least one action")
    if len(actions) > 20:
        raise WorkflowError("at most 20 actions")
    try:
        checked = [check_action(raw, i) for i, raw in enumerate(actions, start=1)]
    except ActionError as exc:
        raise WorkflowError(str(exc)) from exc
    return {
        "name": name,
        "trigger_type": trigger_type,
        "trigger_filters": filters,
        "conditions": parsed,
        "actions": checked,
    }


def check_enrolling_as(actor: User, actions: list[dict[str, Any]]) -> None:
    """Enrolling sends from the chosen user's mailbox: a rep may enroll only as
    themselves; managers and admins may pick the contact's owner or anyone."""
    if actor.can_act_on_all_enrollments():
        return
    for position, action in enumerate(actions, start=1):
        if action["type"] == "enroll" and action["as"] not in ("workflow_owner", actor.pk):
            raise WorkflowError(
                f"action {position} (enroll): a rep's workflow enrolls as the rep "
                "(the workflow owner); only a manager or an admin may enroll as the "
                "contact's owner or another user"
            )


def create_workflow(*, owner: User, enabled: bool = False, **spec: Any) -> Workflow:
    """Raises WorkflowError, writing nothing, when anything in ``spec`` is wrong."""
    clean = check_workflow(**spec)
    check_enrolling_as(owner, clean["actions"])
    with transaction.atomic():
        workflow = Workflow(owner=owner, enabled=enabled, **clean)
        workflow.set_webhook_secret(secrets.token_urlsafe(32))
        workflow.save()
        record_event(
            kind="workflow_created",
            actor=owner,
            sentence=f"{owner.display_name} created the workflow «{workflow.name}»"
            f"{' (on)' if enabled else ' (off)'}.",
            data={"workflow": workflow.pk},
        )
    return workflow


def update_workflow(*, workflow: Workflow, actor: User, **spec: Any) -> Workflow:
    clean = check_workflow(**spec)
    check_enrolling_as(actor, clean["actions"])
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        for key, value in clean.items():
            setattr(locked, key, value)
        locked.save()
        record_event(
            kind="workflow_changed",
            actor=actor,
            sentence=f"{actor.display_name} changed the workflow «{locked.name}».",
            data={"workflow": locked.pk},
        )
    workflow.refresh_from_db()
    return workflow


def set_enabled(*, workflow: Workflow, enabled: bool, actor: User) -> bool:
    """Switch it on or off; False when it already was."""
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if locked.enabled == enabled:
            return False
        locked.enabled = enabled
        locked.save(update_fields=["enabled", "updated_at"])
        record_event(
            kind="workflow_enabled" if enabled else "workflow_disabled",
            actor=actor,
            sentence=f"{actor.display_name} turned the workflow «{locked.name}» "
            f"{'on' if enabled else 'off'}.",
            data={"workflow": locked.pk},
        )
    workflow.refresh_from_db()
    return True


def rotate_secret(*, workflow: Workflow, actor: User) -> str:
    secret = secrets.token_urlsafe(32)
    workflow.set_webhook_secret(secret)
    workflow.save(update_fields=["webhook_secret_encrypted", "updated_at"])
    record_event(
        kind="workflow_secret_rotated",
        actor=actor,
        sentence=f"{actor.display_name} replaced the webhook secret of «{workflow.name}».",
        data={"workflow": workflow.pk},
    )
    return secret


def event_sequence(event: Event) -> int | None:
    return event.sequence_id


def new_value(data: dict[str, Any], field: str) -> str:
    """The value a change event gave the field (owners by username), as text."""
    value = data["changes"][field][1]
    if field == "owner" and value is not None:
        return User.objects.filter(pk=value).values_list("username", flat=True).first() or ""
    return "" if value is None else str(value)


def passes_filters(workflow: Workflow, event: Event, contact: Contact) -> bool:
    filters = workflow.trigger_filters or {}
    data = event.data or {}
    if "list" in filters and data.get("list") != filters["list"]:
        return False
    if "sequence" in filters and event_sequence(event) != filters["sequence"]:
        return False
    if "reason" in filters and data.get("reason", "finished") != filters["reason"]:
        return False
    if "stage" in filters and filters["stage"] != data.get("to", data.get("stage")):
        return False
    if "field" in filters:
        field = filters["field"]
        if field not in (data.get("changes") or {}):
            return False
        if "value" in filters and new_value(data, field).lower() != filters["value"].lower():
            return False
    return True


def run_workflows(event: Event, types: set[TriggerType], contact_ids: list[int]) -> int:
    """Run every enabled workflow this event triggers, once per contact concerned."""
    workflows = list(
        Workflow.objects.filter(enabled=True, trigger_type__in=types)
        .select_related("owner")
        .order_by("pk")
    )
    if not workflows or not contact_ids:
        return 0
    ran = 0
    for contact_id in contact_ids:
        for workflow in workflows:
            ran += run_one(workflow, event, contact_id)
    return ran


def run_one(workflow: Workflow, event: Event, contact_id: int) -> int:
    """Run one workflow for one contact: the run row and every effect commit together,
    and the unique (workflow, event, contact) row makes a second run impossible."""
    try:
        with transaction.atomic():
            contact = (
                Contact.objects.select_related("company", "owner")
                .prefetch_related("company__domains")
                .get(pk=contact_id)
            )
            if contact.deleted_at is not None:
                return 0
            if not passes_filters(workflow, event, contact):
                return 0
            if not matches(contact, parse_conditions(workflow.conditions)):
                return 0
            now = timezone.now()
            run = WorkflowRun.objects.create(
                workflow=workflow,
                event=event,
                contact=contact,
                status=RunStatus.SUCCEEDED,
                started_at=now,
                finished_at=now,
            )
            ctx = RunContext(workflow.pk, workflow.name, workflow.owner, run.pk, event.pk)
            steps: list[dict[str, Any]] = []
            status = RunStatus.SUCCEEDED
            for action in workflow.actions:
                try:
                    with transaction.atomic():
                        outcome = perform(action, contact, ctx)
                except Exception as exc:  # recorded on the run; the next actions do not run
                    logger.exception("workflow %s run %s failed", workflow.pk, run.pk)
                    error = f"{type(exc).__name__}: {exc}"
                    steps.append({"action": action["type"], "outcome": "error", "detail": error})
                    status = RunStatus.FAILED
                    break
                steps.append(outcome.as_json(action))
                if outcome.refused:
                    status = RunStatus.PARTLY
                contact.refresh_from_db()
            run.steps = steps
            run.status = status
            run.finished_at = timezone.now()
            run.save(update_fields=["steps", "status", "finished_at"])
    except IntegrityError:
        return 0  # this workflow already ran for this event and contact
    return 1
