"""The sequence page's Automation tab: the workflows that enroll into or unenroll from
the sequence, its unenrollment triggers (added after a preview of the open enrollments
they would end at once, or removed), and what already ends an enrollment on its own.

Everyone signed in sees the tab; adding, previewing and removing a trigger need the
right to manage the sequence (its owner, a manager or an admin; 403 otherwise)."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_manage_sequence, may_manage_sequence
from cadency.automation.conditions import OPS
from cadency.automation.models import ContactList, TriggerKind, UnenrollTrigger
from cadency.automation.selectors import (
    WorkflowRow,
    triggers_of,
    workflows_enrolling_into,
    workflows_unenrolling_from,
)
from cadency.automation.services.triggers import (
    TriggerError,
    TriggerSpec,
    add_trigger,
    check_trigger,
    matching_enrollments,
    preview,
    remove_trigger,
)
from cadency.contacts.models import LifecycleStage
from cadency.deals.models import DealStage
from cadency.sequences.models import Enrollment, Sequence, UnenrollReason
from cadency.sequences.views.display import REASONS
from cadency.web.requests import signed_in_user

AUTOMATIC_NOW = (
    UnenrollReason.REPLIED,
    UnenrollReason.EMAILED,
    UnenrollReason.REPLIED_OTHER_ADDRESS,
    UnenrollReason.EMAILED_FROM_ALIAS,
    UnenrollReason.COMPANY_REPLIED,
    UnenrollReason.MEETING_BOOKED,
    UnenrollReason.UNSUBSCRIBED,
    UnenrollReason.BOUNCED,
    UnenrollReason.FINISHED,
    UnenrollReason.USER_DEACTIVATED,
    UnenrollReason.SEQUENCE_DELETED,
    UnenrollReason.CONTACT_DELETED,
)

PREVIEW_NAMES = 10
VALUE_MAX = 100
VALUES_MAX = 10
MAX_ID = 2**63 - 1
# The condition fields offered in the form; the last two take a property name.
FIELD_CHOICES = (
    ("lifecycle_stage", "Lifecycle stage"),
    ("owner", "Owner (username)"),
    ("company.name", "Company name"),
    ("properties", "Contact property…"),
    ("company.properties", "Company property…"),
)
PROPERTY_FIELDS = ("properties", "company.properties")
OP_LABELS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "is_any_of": "is any of (commas between)",
    "is_set": "is set",
    "is_not_set": "is not set",
}
DEFAULTS = {
    "kind": TriggerKind.PROPERTY_VALUE.value,
    "field": "lifecycle_stage",
    "property": "",
    "op": "is",
    "value": "",
    "stage": "",
    "list": "",
}


@dataclass(frozen=True)
class ReasonLine:
    code: str
    label: str
    line: str
    note: str = ""


@dataclass(frozen=True)
class TriggerPreview:
    spec: TriggerSpec
    would_end: int
    first: list[Enrollment]
    values: dict[str, str]

    @property
    def more(self) -> int:
        return self.would_end - len(self.first)


def form_values(data: QueryDict) -> dict[str, str]:
    """The add-a-trigger form as posted (defaults for what is missing)."""
    return {name: str(data.get(name, default)).strip() for name, default in DEFAULTS.items()}


def trigger_input(values: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The form's fields as the trigger kind and config the trigger services take."""
    if any("\x00" in value for value in values.values()):
        raise TriggerError("the form contains a NUL character")
    kind = values["kind"]
    if kind == TriggerKind.PROPERTY_VALUE:
        field_name = values["field"]
        if field_name in PROPERTY_FIELDS:
            key = values["property"].removeprefix(f"{field_name}.")
            if not key:
                raise TriggerError("name the property (for example plan)")
            field_name = f"{field_name}.{key}"
        op = values["op"]
        value: str | list[str] = values["value"]
        if len(values["value"]) > VALUE_MAX:
            raise TriggerError(f"the value is longer than {VALUE_MAX} characters")
        if op == "is_any_of":
            value = [v.strip() for v in values["value"].split(",") if v.strip()]
            if len(value) > VALUES_MAX:
                raise TriggerError(f"“is any of” takes at most {VALUES_MAX} values")
        return kind, {"condition": {"field": field_name, "op": op, "value": value}}
    if kind == TriggerKind.DEAL_STAGE:
        return kind, {"stage": values["stage"]}
    if kind == TriggerKind.LIST_JOINED:
        list_id = values["list"]
        if not list_id:
            raise TriggerError("choose a list")
        if not (list_id.isascii() and list_id.isdigit() and 0 < int(list_id) <= MAX_ID):
            raise TriggerError(f"no list {list_id!r}")
        return kind, {"list": int(list_id)}
    return kind, {}


def refuse_if_deleted(sequence: Sequence) -> None:
    if sequence.archived_at is not None:
        raise TriggerError(f"«{sequence.name}» was deleted: its triggers can no longer change")


def checked_spec(sequence: Sequence, values: dict[str, str]) -> TriggerSpec:
    refuse_if_deleted(sequence)
    spec = check_trigger(*trigger_input(values))
    return spec


def make_preview(sequence: Sequence, values: dict[str, str]) -> TriggerPreview:
    refuse_if_deleted(sequence)
    spec, would_end = preview(sequence, *trigger_input(values))
    first = list(
        matching_enrollments(sequence, spec)
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name", "pk")[:PREVIEW_NAMES]
    )
    return TriggerPreview(spec, would_end, first, values)


def reason_lines(sequence: Sequence) -> list[ReasonLine]:
    company_note = (
        "On for new enrollments of this sequence."
        if sequence.unenroll_same_company
        else "Off for this sequence: turn it on in Settings."
    )
    return [
        ReasonLine(
            code,
            REASONS[code].label,
            REASONS[code].line,
            company_note if code == UnenrollReason.COMPANY_REPLIED else "",
        )
        for code in AUTOMATIC_NOW
    ]


def page_of(
    request: HttpRequest,
    sequence: Sequence,
    *,
    values: dict[str, str] | None = None,
    trigger_preview: TriggerPreview | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    editable = may_manage_sequence(user, sequence) and sequence.archived_at is None
    return render(
        request,
        "sequences/automation.html",
        {
            "sequence": sequence,
            "tab": "automation",
            "may_manage": may_manage_sequence(user, sequence),
            "editable": editable,
            "enrolling": [WorkflowRow(w) for w in workflows_enrolling_into(sequence)],
            "unenrolling": workflows_unenrolling_from(sequence),
            "triggers": triggers_of(sequence),
            "values": values or DEFAULTS,
            "preview": trigger_preview,
            "error": error,
            "kinds": TriggerKind.choices,
            "fields": FIELD_CHOICES,
            "ops": [(op, OP_LABELS[op]) for op in OPS],
            "stages": DealStage.choices,
            "lists": ContactList.objects.order_by("name"),
            "lifecycle_stages": LifecycleStage.choices,
            "automatic": reason_lines(sequence),
        },
        status=status,
    )


def managed_sequence(request: HttpRequest, sequence_id: int) -> tuple[User, Sequence]:
    """The sequence, if the signed-in user may manage it (403 otherwise)."""
    user = signed_in_user(request)
    sequence = get_object_or_404(Sequence.objects.select_related("owner"), pk=sequence_id)
    check_may_manage_sequence(user, sequence)
    return user, sequence


def automation_page(request: HttpRequest, sequence_id: int) -> HttpResponse:
    sequence = get_object_or_404(Sequence.objects.select_related("owner"), pk=sequence_id)
    return page_of(request, sequence)


@require_POST
def trigger_preview(request: HttpRequest, sequence_id: int) -> HttpResponse:
    """The preview partial (htmx): what saving the trigger would end now, or why it
    cannot be saved. Writes nothing."""
    _, sequence = managed_sequence(request, sequence_id)
    values = form_values(request.POST)
    context: dict[str, Any] = {"sequence": sequence}
    try:
        context["preview"] = make_preview(sequence, values)
    except TriggerError as exc:
        context["error"] = str(exc)
    return render(request, "sequences/automation_trigger_preview.html", context)


@require_POST
def trigger_add(request: HttpRequest, sequence_id: int) -> HttpResponse:
    """Save the trigger (it ends at once the open enrollments it is already true for);
    with ``preview`` in the form, show the preview instead (the page without JS)."""
    user, sequence = managed_sequence(request, sequence_id)
    values = form_values(request.POST)
    try:
        if request.POST.get("preview"):
            shown = make_preview(sequence, values)
            return page_of(request, sequence, values=values, trigger_preview=shown)
        spec = checked_spec(sequence, values)
        with transaction.atomic():
            trigger, ended = add_trigger(
                sequence=sequence, kind=spec.kind, config=spec.config, actor=user
            )
    except TriggerError as exc:
        return page_of(request, sequence, values=values, error=str(exc), status=400)
    messages.success(
        request,
        f"Saved the trigger: the enrollment ends when {trigger.description}. It ended "
        f"{ended} open enrollment{'s' if ended != 1 else ''} it was already true for.",
    )
    return redirect("sequences:automation", sequence_id=sequence.pk)


@require_POST
def trigger_remove(request: HttpRequest, sequence_id: int, trigger_id: int) -> HttpResponse:
    user, sequence = managed_sequence(request, sequence_id)
    trigger = get_object_or_404(
        UnenrollTrigger.objects.select_related("sequence"), pk=trigger_id, sequence=sequence
    )
    description = trigger.description
    with transaction.atomic():
        remove_trigger(trigger=trigger, actor=user)
    messages.success(
        request,
        f"Removed the trigger: the enrollment ends when {description}. "
        "The enrollments it ended stay ended.",
    )
    return redirect("sequences:automation", sequence_id=sequence.pk)
