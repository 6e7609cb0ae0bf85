"""What automation does when a ledger event arrives: keep dynamic lists in step,
run the workflows it triggers, end the enrollments an unenrollment trigger names."""

import logging

from cadency.automation.dispatch import LIST_INPUTS, running_automation
from cadency.automation.events import contacts_of, trigger_types_of
from cadency.automation.services.lists import refresh_memberships
from cadency.automation.services.triggers import fire_triggers
from cadency.automation.services.workflows import run_workflows
from cadency.ledger.models import Event

logger = logging.getLogger("cadency.automation")


def react_to(event_ids: list[int], *, depth: int) -> int:
    acted = 0
    with running_automation(depth):
        for event in Event.objects.filter(pk__in=event_ids).order_by("pk"):
            types = set(trigger_types_of(event))
            contacts = contacts_of(event)
            if types & LIST_INPUTS or event.kind == "contact_deleted":
                acted += refresh_memberships(contacts)
            if not types:
                continue
            acted += run_workflows(event, types, contacts)
            acted += fire_triggers(event, types, contacts)
    return acted
