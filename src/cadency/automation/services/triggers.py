"""A sequence's unenrollment triggers (SPEC §3 ``unenroll_trigger``).

A trigger is checked twice: when it is saved, against current data (with a preview
of how many open enrollments it would end), and from then on whenever an event
makes it true for an enrolled contact.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from cadency.accounts.models import User
from cadency.automation.conditions import (
    Condition,
    ConditionError,
    as_q,
    condition_matches,
    parse_condition,
)
from cadency.automation.models import (
    ContactList,
    ListMembership,
    TriggerKind,
    TriggerType,
    UnenrollTrigger,
)
from cadency.contacts.models import Contact
from cadency.deals.models import Deal, DealStage
from cadency.ledger.models import Event
from cadency.ledger.services import record_event
from cadency.sequences.models import Enrollment, Sequence, UnenrollReason
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.enrollment import contact_label, unenroll

LISTENS: dict[TriggerKind, tuple[TriggerType, ...]] = {
    TriggerKind.PROPERTY_VALUE: (
        TriggerType.CONTACT_PROPERTY_CHANGED,
        TriggerType.COMPANY_PROPERTY_CHANGED,
    ),
    TriggerKind.DEAL_CREATED: (TriggerType.DEAL_CREATED,),
    TriggerKind.DEAL_STAGE: (TriggerType.DEAL_CREATED, TriggerType.DEAL_STAGE_CHANGED),
    TriggerKind.LIST_JOINED: (TriggerType.LIST_JOINED,),
}


ANY_COMPANY_FIELD = "company.*"


class TriggerError(ValueError):
    """A trigger that cannot be saved as written; the message says why."""


@dataclass(frozen=True)
class TriggerSpec:
    kind: TriggerKind
    config: dict[str, Any]
    description: str

    @property
    def condition(self) -> Condition:
        return parse_condition(self.config["condition"])


MAX_ID = 2**63 - 1
DESCRIPTION_LIMIT = 300


def record_id(value: Any) -> int | None:
    """A database id given as a whole number or its digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None


def shortened(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def check_trigger(kind: str, config: Any) -> TriggerSpec:
    if kind not in TriggerKind.values:
        raise TriggerError(f"unknown trigger kind {kind!r} ({', '.join(TriggerKind.values)})")
    config = config or {}
    if not isinstance(config, dict):
        raise TriggerError("the trigger's settings are an object")
    match TriggerKind(kind):
        case TriggerKind.PROPERTY_VALUE:
            try:
                condition = parse_condition(config.get("condition"))
            except ConditionError as exc:
                raise TriggerError(str(exc)) from exc
            return TriggerSpec(
                TriggerKind.PROPERTY_VALUE,
                {"condition": condition.as_json()},
                shortened(condition.describe()),
            )
        case TriggerKind.DEAL_CREATED:
            return TriggerSpec(
                TriggerKind.DEAL_CREATED, {}, "a deal is created for the contact or their company"
            )
        case TriggerKind.DEAL_STAGE:
            stage = config.get("stage")
            if not stage:
                raise TriggerError(f"choose a deal stage ({', '.join(DealStage.values)})")
            if stage not in DealStage.values:
                raise TriggerError(f"unknown deal stage {stage!r} ({', '.join(DealStage.values)})")
            return TriggerSpec(
                TriggerKind.DEAL_STAGE,
                {"stage": stage},
                f"a deal of the contact or their company reaches {DealStage(stage).label}",
            )
        case _:
            list_id = record_id(config.get("list"))
            if list_id is None:
                raise TriggerError("name the list (its id)")
            contact_list = ContactList.objects.filter(pk=list_id).first()
            if contact_list is None:
                raise TriggerError(f"no list {list_id}")
            return TriggerSpec(
                TriggerKind.LIST_JOINED,
                {"list": list_id},
                shortened(f"the contact joins the list «{contact_list.name}»"),
            )


def _deal_q(stage: str | None) -> Q:
    deals = Deal.objects.all() if stage is None else Deal.objects.filter(stage=stage)
    return Q(
        Exists(deals.filter(contacts=OuterRef("contact_id")))
        | Exists(deals.filter(company_id=OuterRef("contact__company_id")))
    )


def matching_enrollments(sequence: Sequence, spec: TriggerSpec) -> QuerySet[Enrollment]:
    """The sequence's open enrollments the trigger is true for right now."""
    enrollments = Enrollment.objects.filter(sequence=sequence, status__in=OPEN_STATUSES)
    match spec.kind:
        case TriggerKind.PROPERTY_VALUE:
            return enrollments.filter(as_q([spec.condition], prefix="contact__"))
        case TriggerKind.DEAL_CREATED:
            return enrollments.filter(_deal_q(None))
        case TriggerKind.DEAL_STAGE:
            return enrollments.filter(_deal_q(spec.config["stage"]))
        case _:
            members = ListMembership.objects.filter(
                contact_list_id=spec.config["list"], contact=OuterRef("contact_id")
            )
            return enrollments.filter(Exists(members))


def preview(sequence: Sequence, kind: str, config: Any) -> tuple[TriggerSpec, int]:
    """What saving this trigger would do now: its description and how many open
    enrollments it would end. Raises TriggerError when it cannot be saved."""
    spec = check_trigger(kind, config)
    return spec, matching_enrollments(sequence, spec).count()


def end_enrollment(trigger: UnenrollTrigger, enrollment: Enrollment, event: Event | None) -> bool:
    when = f"when {trigger.description}" if event else f"(“{trigger.description}” already true)"
    sentence = (
        f"{contact_label(enrollment.contact)} was unenrolled from «{enrollment.sequence.name}» "
        f"by the sequence's unenrollment trigger {when}."
    )
    evidence: dict[str, Any] = {"trigger": trigger.pk, "trigger_description": trigger.description}
    if event is not None:
        evidence.update(event=event.pk, event_kind=event.kind)
    else:
        evidence["on_save"] = True
    return unenroll(
        enrollment=enrollment,
        reason=UnenrollReason.UNENROLL_TRIGGER,
        sentence=sentence,
        evidence=evidence,
    )


def add_trigger(
    *, sequence: Sequence, kind: str, config: Any, actor: User
) -> tuple[UnenrollTrigger, int]:
    """Save the trigger and end the open enrollments it is already true for.
    Returns the trigger and how many enrollments ended."""
    spec = check_trigger(kind, config)
    if sequence.archived_at is not None:
        raise TriggerError(f"the sequence «{sequence.name}» was deleted")
    with transaction.atomic():
        return _add(sequence, spec, actor)


def _add(sequence: Sequence, spec: TriggerSpec, actor: User) -> tuple[UnenrollTrigger, int]:
    trigger = UnenrollTrigger.objects.create(
        sequence=sequence,
        kind=spec.kind,
        config=spec.config,
        description=spec.description,
        created_by=actor,
    )
    ended = 0
    for enrollment in matching_enrollments(sequence, spec).select_related("contact", "sequence"):
        ended += end_enrollment(trigger, enrollment, None)
    record_event(
        kind="unenroll_trigger_added",
        sequence=sequence,
        actor=actor,
        sentence=f"{actor.display_name} added the unenrollment trigger “{spec.description}” to "
        f"«{sequence.name}»; {ended} open enrollments it was already true for ended.",
        data={
            "trigger": trigger.pk,
            "kind": spec.kind.value,
            "config": spec.config,
            "ended": ended,
        },
    )
    return trigger, ended


def remove_trigger(*, trigger: UnenrollTrigger, actor: User) -> None:
    """Delete the trigger; the enrollments it ended keep it as evidence (by id and text)."""
    record_event(
        kind="unenroll_trigger_removed",
        sequence=trigger.sequence,
        actor=actor,
        sentence=f"{actor.display_name} removed the unenrollment trigger "
        f"“{trigger.description}” from «{trigger.sequence.name}».",
        data={"trigger": trigger.pk, "kind": trigger.kind, "config": trigger.config},
    )
    trigger.delete()


def changed_fields(event: Event) -> set[str]:
    """The condition fields an event changed: a contact's fields, or with the
    ``company.`` prefix its company's (moving to another company changes them all)."""
    changes = set((event.data or {}).get("changes") or {})
    if event.kind == "company_updated":
        return {f"company.{name}" for name in changes}
    if "company" in changes:
        changes.add(ANY_COMPANY_FIELD)
    return changes


def holds_for_event(trigger: UnenrollTrigger, event: Event, contact: Contact) -> bool:
    """Did this event make the trigger true for this contact?"""
    data = event.data or {}
    match trigger.kind:
        case TriggerKind.PROPERTY_VALUE:
            condition = parse_condition(trigger.config["condition"])
            changed = changed_fields(event)
            field = condition.field
            relevant = field in changed or (
                field.startswith("company.") and ANY_COMPANY_FIELD in changed
            )
            return relevant and condition_matches(contact, condition)
        case TriggerKind.DEAL_CREATED:
            return event.kind == "deal_created"
        case TriggerKind.DEAL_STAGE:
            return bool(trigger.config["stage"] == data.get("to", data.get("stage")))
        case _:
            return event.kind == "list_member_added" and bool(
                data.get("list") == trigger.config["list"]
            )


def fire_triggers(event: Event, types: set[TriggerType], contact_ids: list[int]) -> int:
    kinds = [kind for kind, listened in LISTENS.items() if types & set(listened)]
    if not kinds or not contact_ids:
        return 0
    triggers = list(UnenrollTrigger.objects.filter(enabled=True, kind__in=kinds).order_by("pk"))
    if not triggers:
        return 0
    by_sequence: dict[int, list[UnenrollTrigger]] = {}
    for trigger in triggers:
        by_sequence.setdefault(trigger.sequence_id, []).append(trigger)
    open_enrollments = (
        Enrollment.objects.filter(
            contact_id__in=contact_ids, status__in=OPEN_STATUSES, sequence_id__in=by_sequence
        )
        .select_related("contact__company", "contact__owner", "sequence")
        .prefetch_related("contact__company__domains")
    )
    ended = 0
    for enrollment in open_enrollments:
        for trigger in by_sequence[enrollment.sequence_id]:
            if holds_for_event(trigger, event, enrollment.contact):
                ended += end_enrollment(trigger, enrollment, event)
                break
    return ended
