"""The ledger: every state change Cadency made, oldest first, in sentences."""

import datetime as dt
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from cadency.api.common import Id, Text, UserRef, check_exists, get_or_404
from cadency.api.errors import errors
from cadency.api.pagination import Page
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.sequences.models import Enrollment, Sequence

router = Router(tags=["events"])


class EventOut(Schema):
    id: int
    occurred_at: dt.datetime
    kind: str
    sentence: str
    contact: int | None
    enrollment: int | None
    sequence: int | None
    actor: UserRef | None
    data: dict[str, Any]

    @staticmethod
    def resolve_contact(obj: Event) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_enrollment(obj: Event) -> int | None:
        return obj.enrollment_id

    @staticmethod
    def resolve_sequence(obj: Event) -> int | None:
        return obj.sequence_id


class EventFilter(Schema):
    contact: Id | None = None
    enrollment: Id | None = None
    sequence: Id | None = None
    kind: Annotated[Text, Field(max_length=64, examples=["unenrolled"])] = ""


@router.get("/events", response={200: list[EventOut], **errors(404)})
@paginate(Page)
def list_events(request: HttpRequest, filters: Query[EventFilter]) -> QuerySet[Event]:
    """Ledger events, oldest first; every filter given must hold."""
    check_exists(Contact.objects.all(), filters.contact, "contact")
    check_exists(Enrollment.objects.all(), filters.enrollment, "enrollment")
    check_exists(Sequence.objects.all(), filters.sequence, "sequence")
    events = Event.objects.select_related("actor").order_by("occurred_at", "pk")
    if filters.contact is not None:
        events = events.filter(contact_id=filters.contact)
    if filters.enrollment is not None:
        events = events.filter(enrollment_id=filters.enrollment)
    if filters.sequence is not None:
        events = events.filter(sequence_id=filters.sequence)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    return events


@router.get("/events/{event_id}", response={200: EventOut, **errors(404)})
def get_event(request: HttpRequest, event_id: Id) -> Event:
    return get_or_404(Event.objects.select_related("actor"), event_id, "event")
