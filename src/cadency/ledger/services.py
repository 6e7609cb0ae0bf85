from typing import Any

from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.ledger.signals import events_recorded, uniform_events_recorded
from cadency.sequences.models import Enrollment, Sequence


def record_event(
    *,
    kind: str,
    sentence: str,
    contact: Contact | None = None,
    enrollment: Enrollment | None = None,
    sequence: Sequence | None = None,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    if enrollment is not None:
        contact = contact or enrollment.contact
        sequence = sequence or enrollment.sequence
    event = Event.objects.create(
        occurred_at=timezone.now(),
        kind=kind,
        contact=contact,
        enrollment=enrollment,
        sequence=sequence,
        actor=actor,
        sentence=sentence,
        data=data or {},
    )
    events_recorded.send(sender=Event, events=[event])
    return event


def record_events(events: list[Event]) -> None:
    """Write many ledger rows at once (bulk operations)."""
    written = Event.objects.bulk_create(events, batch_size=2000)
    events_recorded.send(sender=Event, events=written)


def announce_uniform(kind: str, data: dict[str, Any], event_ids: list[int]) -> None:
    """Tell automation about ledger rows written in bulk by SQL, all of one kind
    and data, in the writer's transaction."""
    if event_ids:
        uniform_events_recorded.send(sender=Event, kind=kind, data=data, event_ids=event_ids)
