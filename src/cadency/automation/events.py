"""Which ledger events automation reacts to, and whom they concern."""

from typing import Any

from django.db.models import Q

from cadency.automation.models import TriggerType
from cadency.contacts.models import Contact
from cadency.deals.models import Deal
from cadency.ledger.models import Event

REPLY_LABELS = ("human_reply",)

SIMPLE_KINDS: dict[str, TriggerType] = {
    "contact_created": TriggerType.CONTACT_CREATED,
    "contact_updated": TriggerType.CONTACT_PROPERTY_CHANGED,
    "list_member_added": TriggerType.LIST_JOINED,
    "list_member_removed": TriggerType.LIST_LEFT,
    "company_updated": TriggerType.COMPANY_PROPERTY_CHANGED,
    "deal_created": TriggerType.DEAL_CREATED,
    "deal_stage_changed": TriggerType.DEAL_STAGE_CHANGED,
    "email_sent": TriggerType.EMAIL_SENT,
    "opened": TriggerType.EMAIL_OPENED,
    "clicked": TriggerType.EMAIL_CLICKED,
    "meeting_booked": TriggerType.MEETING_BOOKED,
    "meeting_logged": TriggerType.MEETING_BOOKED,
    "meeting_found_on_calendar": TriggerType.MEETING_BOOKED,
    "enrolled": TriggerType.ENROLLMENT_STARTED,
    "finished": TriggerType.ENROLLMENT_ENDED,
}
# Kinds that can mean something only after looking at their data.
DATA_KINDS = ("message_received", "unenrolled")
KINDS = (*SIMPLE_KINDS, *DATA_KINDS)


def trigger_types_of(event: Event) -> list[TriggerType]:
    """The workflow trigger types this ledger event is an instance of."""
    return trigger_types_for(event.kind, event.data or {})


def trigger_types_for(kind: str, data: dict[str, Any]) -> list[TriggerType]:
    simple = SIMPLE_KINDS.get(kind)
    if simple is not None:
        return [simple]
    if kind == "message_received":
        label = data.get("label")
        if label in REPLY_LABELS:
            return [TriggerType.EMAIL_REPLIED]
        if label == "bounce_hard":
            return [TriggerType.EMAIL_BOUNCED]
        return []
    if kind == "unenrolled":
        types = [TriggerType.ENROLLMENT_ENDED]
        # A bounce at SMTP time has no message on the timeline: this is its only trace.
        if data.get("reason") == "bounced" and "smtp_code" in (data.get("evidence") or {}):
            types.append(TriggerType.EMAIL_BOUNCED)
        return types
    return []


def company_of(event: Event) -> int | None:
    data = event.data or {}
    if event.kind == "company_updated":
        return data.get("company")
    if event.kind in ("deal_created", "deal_stage_changed"):
        deal = data.get("deal")
        if not isinstance(deal, int):
            return None
        return Deal.objects.filter(pk=deal).values_list("company", flat=True).first()
    return None


def contacts_of(event: Event) -> list[int]:
    """The live contacts the event concerns: its contact, or for a company or deal
    event the company's contacts and the deal's contacts."""
    if event.kind in ("deal_created", "deal_stage_changed", "company_updated"):
        company = company_of(event)
        deal = (event.data or {}).get("deal")
        q = Q(pk__in=[])
        if company is not None:
            q |= Q(company_id=company)
        if deal is not None:
            q |= Q(deals=deal)
        return list(
            Contact.objects.filter(q, deleted_at__isnull=True)
            .values_list("pk", flat=True)
            .distinct()
            .order_by("pk")
        )
    if event.contact_id is None:
        return []
    return [event.contact_id]
