"""A workflow's actions: what each one checks when the workflow is saved, and what it
does when it runs. A refusal (e.g. the contact cannot be enrolled) is recorded in the
run and the next action still runs."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.editing import set_contact_field, update_company
from cadency.contacts.models import Contact
from cadency.contacts.services import ContactError
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, Sequence, StepKind, Task, UnenrollReason
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.enrollment import contact_label, enroll, unenroll
from cadency.sequences.services.errors import EnrollmentRefused

ACTION_TYPES = ("enroll", "unenroll", "set_property", "create_task", "webhook")
# Who an action acts as, or whom a task is for.
PEOPLE = ("contact_owner", "workflow_owner")
TASK_KINDS = tuple(kind.value for kind in StepKind if kind.is_task)


class ActionError(ValueError):
    """An action that cannot be saved as written; the message says which and why."""


@dataclass(frozen=True)
class RunContext:
    workflow_id: int
    workflow_name: str
    workflow_owner: User
    run_id: int
    event_id: int


@dataclass(frozen=True)
class Outcome:
    outcome: str
    detail: str = ""
    refused: bool = False

    def as_json(self, action: dict[str, Any]) -> dict[str, Any]:
        return {"action": action["type"], "outcome": self.outcome, "detail": self.detail}


def _int(raw: dict[str, Any], key: str, where: str) -> int:
    try:
        return int(raw[key])
    except (KeyError, TypeError, ValueError) as exc:
        raise ActionError(f"{where}: {key} must be a number") from exc


def _person(raw: dict[str, Any], key: str, where: str) -> str | int:
    value = raw.get(key, "workflow_owner")
    if value in PEOPLE:
        return str(value)
    user_id = _int(raw, key, where)
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        raise ActionError(f"{where}: no active user {user_id}")
    return user_id


def _sequence(raw: dict[str, Any], where: str) -> int:
    pk = _int(raw, "sequence", where)
    if not Sequence.objects.filter(pk=pk, archived_at__isnull=True).exists():
        raise ActionError(f"{where}: no sequence {pk} (or it was deleted)")
    return pk


def check_action(raw: Any, position: int) -> dict[str, Any]:
    """The action as stored; raises ActionError when it cannot run as written."""
    if not isinstance(raw, dict) or raw.get("type") not in ACTION_TYPES:
        raise ActionError(f"action {position}: type must be one of {', '.join(ACTION_TYPES)}")
    kind = raw["type"]
    where = f"action {position} ({kind})"
    match kind:
        case "enroll":
            mailbox = raw.get("mailbox")
            clean: dict[str, Any] = {
                "type": kind,
                "sequence": _sequence(raw, where),
                "as": _person(raw, "as", where),
                "mailbox": _int(raw, "mailbox", where) if mailbox not in (None, "") else None,
            }
            if clean["mailbox"] is not None:
                box = Mailbox.objects.filter(pk=clean["mailbox"]).first()
                if box is None:
                    raise ActionError(f"{where}: no mailbox {clean['mailbox']}")
                if clean["as"] in PEOPLE and clean["as"] != "workflow_owner":
                    raise ActionError(
                        f"{where}: a mailbox can be chosen only when enrolling as a given "
                        "user (the contact owner's mailbox is their own)"
                    )
            return clean
        case "unenroll":
            sequence = raw.get("sequence")
            return {
                "type": kind,
                "sequence": None if sequence in (None, "", "all") else _sequence(raw, where),
            }
        case "set_property":
            field = str(raw.get("field", "")).strip()
            value = str(raw.get("value", ""))
            if not field:
                raise ActionError(f"{where}: name the field to set")
            from cadency.contacts.editing import check_contact_field, property_key

            try:
                if field.startswith("company.properties."):
                    property_key(field.removeprefix("company."))
                else:
                    check_contact_field(field, value)
            except ContactError as exc:
                raise ActionError(f"{where}: {exc}") from exc
            return {"type": kind, "field": field, "value": value.strip()}
        case "create_task":
            title = str(raw.get("title", "")).strip()
            if not title or len(title) > 300:
                raise ActionError(f"{where}: a title of 1 to 300 characters")
            task_kind = raw.get("kind", "task")
            if task_kind not in TASK_KINDS:
                raise ActionError(f"{where}: kind must be one of {', '.join(TASK_KINDS)}")
            due = _int({"d": raw.get("due_in_days", 0)}, "d", where)
            if not 0 <= due <= 365:
                raise ActionError(f"{where}: due_in_days between 0 and 365")
            return {
                "type": kind,
                "title": title,
                "kind": task_kind,
                "assignee": _person(raw, "assignee", where),
                "due_in_days": due,
                "notes": str(raw.get("notes", ""))[:5000],
            }
        case _:
            from cadency.automation.services.webhooks import check_url

            url = str(raw.get("url", "")).strip()
            problem = check_url(url)
            if problem:
                raise ActionError(f"{where}: {problem}")
            return {"type": kind, "url": url}


def person(choice: str | int, contact: Contact, ctx: RunContext) -> User | None:
    if choice == "contact_owner":
        return contact.owner
    if choice == "workflow_owner":
        return ctx.workflow_owner
    return User.objects.filter(pk=choice).first()


def do_enroll(action: dict[str, Any], contact: Contact, ctx: RunContext) -> Outcome:
    user = person(action["as"], contact, ctx)
    if user is None:
        return Outcome("refused", "the contact has no owner to enroll as", refused=True)
    sequence = Sequence.objects.get(pk=action["sequence"])
    mailbox = Mailbox.objects.filter(pk=action["mailbox"]).first() if action["mailbox"] else None
    try:
        enrollment = enroll(
            contact=contact, sequence=sequence, user=user, mailbox=mailbox, run_first_step=False
        )
    except EnrollmentRefused as exc:
        return Outcome("refused", f"{exc.code}: {exc.message}", refused=True)
    return Outcome("enrolled", f"enrollment {enrollment.pk} in «{sequence.name}» as {user}")


def do_unenroll(action: dict[str, Any], contact: Contact, ctx: RunContext) -> Outcome:
    enrollments = Enrollment.objects.filter(contact=contact, status__in=OPEN_STATUSES)
    if action["sequence"] is not None:
        enrollments = enrollments.filter(sequence_id=action["sequence"])
    ended = []
    for enrollment in enrollments.select_related("sequence", "contact"):
        sentence = (
            f"{contact_label(contact)} was unenrolled from «{enrollment.sequence.name}» by the "
            f"workflow «{ctx.workflow_name}» (run {ctx.run_id})."
        )
        if unenroll(
            enrollment=enrollment,
            reason=UnenrollReason.WORKFLOW,
            sentence=sentence,
            evidence={
                "workflow": ctx.workflow_id,
                "workflow_name": ctx.workflow_name,
                "run": ctx.run_id,
                "event": ctx.event_id,
            },
        ):
            ended.append(enrollment.sequence.name)
    if not ended:
        return Outcome("not_enrolled", "no open enrollment to end")
    return Outcome("unenrolled", ", ".join(f"«{name}»" for name in ended))


def do_set_property(action: dict[str, Any], contact: Contact, ctx: RunContext) -> Outcome:
    field, value = action["field"], action["value"]
    try:
        if field.startswith("company."):
            if contact.company is None:
                return Outcome("refused", "the contact has no company", refused=True)
            changes = update_company(
                company=contact.company,
                actor=None,
                properties={field.removeprefix("company.properties."): value},
            )
            changed = bool(changes)
        else:
            changed = set_contact_field(contact=contact, field=field, value=value, actor=None)
    except ContactError as exc:
        return Outcome("refused", str(exc), refused=True)
    return Outcome("set" if changed else "unchanged", f"{field} = {value!r}")


def do_create_task(action: dict[str, Any], contact: Contact, ctx: RunContext) -> Outcome:
    assignee = person(action["assignee"], contact, ctx)
    if assignee is None:
        return Outcome("refused", "the contact has no owner to give the task to", refused=True)
    due = timezone.now() + dt.timedelta(days=action["due_in_days"])
    task = Task.objects.create(
        assignee=assignee,
        contact=contact,
        kind=action["kind"],
        title=action["title"],
        notes=action["notes"],
        due_at=due,
    )
    record_event(
        kind="task_created",
        contact=contact,
        sentence=f"The workflow «{ctx.workflow_name}» created the task “{task.title}” for "
        f"{assignee.display_name}, due {due:%Y-%m-%d}.",
        data={"task": task.pk, "workflow": ctx.workflow_id, "run": ctx.run_id},
    )
    return Outcome("created", f"task {task.pk} for {assignee}")


def do_webhook(action: dict[str, Any], contact: Contact, ctx: RunContext) -> Outcome:
    from cadency.automation.services.webhooks import queue_delivery

    delivery = queue_delivery(run_id=ctx.run_id, url=action["url"])
    return Outcome("queued", f"delivery {delivery.pk} to {action['url']}")


PERFORM: dict[str, Callable[[dict[str, Any], Contact, RunContext], Outcome]] = {
    "enroll": do_enroll,
    "unenroll": do_unenroll,
    "set_property": do_set_property,
    "create_task": do_create_task,
    "webhook": do_webhook,
}


def perform(action: dict[str, Any], contact: Contact, ctx: RunContext) -> Outcome:
    return PERFORM[action["type"]](action, contact, ctx)
