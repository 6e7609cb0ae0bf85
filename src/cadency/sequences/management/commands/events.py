from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cadency.ledger.models import Event
from cadency.lib.cli_helpers import (
    get_contact,
    get_enrollment,
    iso,
    positive_int,
    short_time,
    write_json,
)


def event_data(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "occurred_at": iso(event.occurred_at),
        "kind": event.kind,
        "sentence": event.sentence,
        "contact": event.contact.email if event.contact else None,
        "enrollment": event.enrollment_id,
        "sequence": event.sequence_id,
        "actor": event.actor.username if event.actor else None,
        "data": event.data,
    }


class Command(BaseCommand):
    help = "Show the ledger (every state change, in order) of a contact or an enrollment."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--contact", metavar="EMAIL", help="a contact's address")
        which.add_argument("--enrollment", type=positive_int, metavar="ID")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        events = Event.objects.select_related("contact", "actor").order_by("occurred_at", "pk")
        if options["contact"]:
            subject = get_contact(options["contact"], include_deleted=True)
            events = events.filter(contact=subject)
        else:
            events = events.filter(enrollment=get_enrollment(options["enrollment"]))
        if options["json"]:
            write_json(self.stdout, [event_data(e) for e in events])
            return
        rows = list(events)
        if not rows:
            self.stdout.write("No events.")
        width = max((len(e.kind) for e in rows), default=0)
        for event in rows:
            self.stdout.write(
                f"{short_time(event.occurred_at)}  {event.kind.ljust(width)}  {event.sentence}"
            )
