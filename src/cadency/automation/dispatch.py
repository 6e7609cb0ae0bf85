"""From the ledger to the task queue: events automation may react to are queued in
the transaction that records them, so a rolled-back change queues nothing and a
committed one is never lost."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

from cadency.automation.events import trigger_types_for, trigger_types_of
from cadency.automation.models import (
    ContactList,
    ListKind,
    TriggerKind,
    TriggerType,
    UnenrollTrigger,
    Workflow,
)
from cadency.ledger.models import Event
from cadency.ledger.signals import events_recorded, uniform_events_recorded

logger = logging.getLogger("cadency.automation")

# Changes after which dynamic lists are re-checked for the contacts concerned.
LIST_INPUTS = frozenset(
    {
        TriggerType.CONTACT_CREATED,
        TriggerType.CONTACT_PROPERTY_CHANGED,
        TriggerType.COMPANY_PROPERTY_CHANGED,
    }
)
TRIGGER_KINDS_LISTENING: dict[TriggerType, tuple[TriggerKind, ...]] = {
    TriggerType.CONTACT_PROPERTY_CHANGED: (TriggerKind.PROPERTY_VALUE,),
    TriggerType.COMPANY_PROPERTY_CHANGED: (TriggerKind.PROPERTY_VALUE,),
    TriggerType.DEAL_CREATED: (TriggerKind.DEAL_CREATED, TriggerKind.DEAL_STAGE),
    TriggerType.DEAL_STAGE_CHANGED: (TriggerKind.DEAL_STAGE,),
    TriggerType.LIST_JOINED: (TriggerKind.LIST_JOINED,),
}

CONTACT_DELETED = "contact_deleted"

# How many automations deep the current code runs (0: a person or the mail pipeline).
_chain_depth: ContextVar[int] = ContextVar("automation_chain_depth", default=0)


@contextmanager
def running_automation(depth: int) -> Iterator[None]:
    """Events recorded inside are marked as caused by automation ``depth`` levels deep."""
    token = _chain_depth.set(depth)
    try:
        yield
    finally:
        _chain_depth.reset(token)


def wanted(types: set[TriggerType], contact_deleted: bool) -> bool:
    """Is any enabled workflow, unenrollment trigger or dynamic list interested?"""
    if not types and not contact_deleted:
        return False
    if Workflow.objects.filter(enabled=True, trigger_type__in=types).exists():
        return True
    kinds = {kind for t in types for kind in TRIGGER_KINDS_LISTENING.get(t, ())}
    if kinds and UnenrollTrigger.objects.filter(enabled=True, kind__in=kinds).exists():
        return True
    return bool(
        (types & LIST_INPUTS or contact_deleted)
        and ContactList.objects.filter(kind=ListKind.DYNAMIC).exists()
    )


def stop_chain(event_ids: list[int], kinds: set[str], depth: int) -> None:
    from cadency.ledger.services import record_event

    logger.warning("automation chain stopped at depth %s (events %s)", depth, event_ids)
    first = Event.objects.select_related("contact").get(pk=event_ids[0])
    record_event(
        kind="automation_chain_stopped",
        contact=first.contact,
        sentence=f"Automation did not react to {', '.join(sorted(kinds))}: it was "
        f"caused by {depth} automations in a row (CADENCY_AUTOMATION_MAX_CHAIN), which looks "
        "like workflows triggering each other in a loop.",
        data={"events": event_ids, "depth": depth},
    )


def on_events_recorded(sender: Any, events: list[Event], **kwargs: Any) -> None:
    relevant = [e for e in events if trigger_types_of(e) or e.kind == CONTACT_DELETED]
    if relevant:
        queue_reaction(
            [e.pk for e in relevant],
            kinds={e.kind for e in relevant},
            types={t for e in relevant for t in trigger_types_of(e)},
        )


def on_uniform_events_recorded(
    sender: Any, kind: str, data: dict[str, Any], event_ids: list[int], **kwargs: Any
) -> None:
    types = set(trigger_types_for(kind, data))
    if types or kind == CONTACT_DELETED:
        queue_reaction(event_ids, kinds={kind}, types=types)


def queue_reaction(event_ids: list[int], *, kinds: set[str], types: set[TriggerType]) -> None:
    if not wanted(types, CONTACT_DELETED in kinds):
        return
    depth = _chain_depth.get()
    if depth >= settings.CADENCY_AUTOMATION_MAX_CHAIN:
        stop_chain(event_ids, kinds, depth)
        return
    from cadency.automation.tasks import react

    react.enqueue(event_ids, depth + 1)


def connect() -> None:
    events_recorded.connect(on_events_recorded, dispatch_uid="automation-dispatch")
    uniform_events_recorded.connect(
        on_uniform_events_recorded, dispatch_uid="automation-dispatch-uniform"
    )
