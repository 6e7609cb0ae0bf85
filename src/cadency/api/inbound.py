"""Inbound messages: what the watcher received, its label and the decision; relabel.

Access follows the Inbound page (``inbound.views``): a rep sees the mail of their
own mailboxes; managers and admins everyone's.
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from cadency.api.auth import actor_of
from cadency.api.common import Id, MailboxRef, UserRef, check_exists, get_or_404
from cadency.api.errors import conflict, errors
from cadency.api.pagination import Page
from cadency.contacts.models import Contact
from cadency.inbound.classification import Label
from cadency.inbound.models import DecisionCode, InboundMessage, InboundStatus
from cadency.inbound.relabel import RelabelError, relabel
from cadency.inbound.selectors import visible_messages
from cadency.mailboxes.models import Mailbox
from cadency.mailboxes.selectors import check_may_see
from cadency.sequences.models import Enrollment

router = Router(tags=["inbound"])


class InboundOut(Schema):
    id: int
    mailbox: MailboxRef
    folder: str
    received_at: dt.datetime
    sent_at: dt.datetime | None
    message_id: str
    from_address: str
    from_name: str
    subject: str
    status: InboundStatus
    label: Label | None
    decision: DecisionCode | None
    sentence: str | None
    contact: int | None
    enrollment: int | None
    original_label: str | None
    relabeled_by: UserRef | None
    relabeled_at: dt.datetime | None

    @staticmethod
    def resolve_label(obj: InboundMessage) -> str | None:
        return obj.label or None

    @staticmethod
    def resolve_decision(obj: InboundMessage) -> str | None:
        return obj.decision or None

    @staticmethod
    def resolve_sentence(obj: InboundMessage) -> str | None:
        sentence = obj.decision_evidence.get("sentence")
        return str(sentence) if sentence else None

    @staticmethod
    def resolve_contact(obj: InboundMessage) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_enrollment(obj: InboundMessage) -> int | None:
        return obj.enrollment_id

    @staticmethod
    def resolve_original_label(obj: InboundMessage) -> str | None:
        return obj.original_label or None


class InboundDetailOut(InboundOut):
    classification: dict[str, Any] = {}
    decision_evidence: dict[str, Any] = {}
    error: str


class InboundFilter(Schema):
    mailbox: Id | None = None
    label: Label | None = None
    decision: DecisionCode | None = None
    status: InboundStatus | None = None
    contact: Id | None = None
    enrollment: Id | None = None


class RelabelIn(Schema):
    label: Label


def messages_for(request: HttpRequest) -> QuerySet[InboundMessage]:
    return visible_messages(actor_of(request)).select_related("mailbox", "relabeled_by")


@router.get("/inbound", response={200: list[InboundOut], **errors(404)})
@paginate(Page)
def list_messages(request: HttpRequest, filters: Query[InboundFilter]) -> QuerySet[InboundMessage]:
    """Received messages, newest first, with their label and decision."""
    check_exists(Mailbox.objects.all(), filters.mailbox, "mailbox")
    check_exists(Contact.objects.all(), filters.contact, "contact")
    check_exists(Enrollment.objects.all(), filters.enrollment, "enrollment")
    found = messages_for(request).defer("raw").order_by("-received_at", "-pk")
    for name in ("mailbox", "contact", "enrollment"):
        value = getattr(filters, name)
        if value is not None:
            found = found.filter(**{f"{name}_id": value})
    for name in ("label", "decision", "status"):
        value = getattr(filters, name)
        if value is not None:
            found = found.filter(**{name: value.value})
    return found


def visible_message(request: HttpRequest, message_id: int) -> InboundMessage:
    message = get_or_404(
        InboundMessage.objects.select_related("mailbox", "relabeled_by").defer("raw"),
        message_id,
        "inbound message",
    )
    check_may_see(actor_of(request), message.mailbox)
    return message


@router.get("/inbound/{message_id}", response={200: InboundDetailOut, **errors(403, 404)})
def get_message(request: HttpRequest, message_id: Id) -> InboundMessage:
    """A message with its classification (reasons, confidence) and decision evidence."""
    return visible_message(request, message_id)


@router.post(
    "/inbound/{message_id}/relabel",
    response={200: InboundDetailOut, **errors(403, 404, 409)},
)
def relabel_message(request: HttpRequest, message_id: Id, body: RelabelIn) -> InboundMessage:
    """Correct the label and decide again (a machine message relabelled a human
    reply ends the enrollment). 409 if it already has that label or is our own copy."""
    message = visible_message(request, message_id)
    try:
        relabel(message=message, label=body.label, actor=actor_of(request))
    except RelabelError as exc:
        raise conflict(str(exc)) from exc
    return visible_message(request, message_id)
