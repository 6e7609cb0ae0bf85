"""Static and dynamic contact lists.

A static list holds the contacts people (or workflows) put in it. A dynamic list
holds every live contact matching its conditions; its memberships are kept in step
by ``refresh_memberships`` whenever a contact or their company changes, so that
"the contact joins a list" is an event like any other.
"""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.automation.conditions import (
    ConditionError,
    as_json,
    as_q,
    matches,
    parse_conditions,
)
from cadency.automation.models import ContactList, ListKind, ListMembership
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.ledger.services import record_events


class ListError(ValueError):
    """A list cannot be created or changed as asked; the message says why."""


def create_list(*, name: str, kind: str, actor: User | None, conditions: Any = None) -> ContactList:
    name = name.strip()
    if not name or len(name) > 200:
        raise ListError("give the list a name of at most 200 characters")
    if kind not in ListKind.values:
        raise ListError(f"unknown list kind {kind!r} (static or dynamic)")
    try:
        parsed = parse_conditions(conditions)
    except ConditionError as exc:
        raise ListError(str(exc)) from exc
    if kind == ListKind.STATIC and parsed:
        raise ListError("a static list has no conditions: people add contacts to it")
    if kind == ListKind.DYNAMIC and not parsed:
        raise ListError("a dynamic list needs at least one condition")
    try:
        with transaction.atomic():
            contact_list = ContactList.objects.create(
                name=name, kind=kind, conditions=as_json(parsed), owner=actor
            )
    except IntegrityError as exc:
        raise ListError(f"a list called {name!r} already exists") from exc
    if kind == ListKind.DYNAMIC:
        rebuild_list(contact_list)
    return contact_list


def change_conditions(*, contact_list: ContactList, conditions: Any, actor: User | None) -> int:
    """New conditions for a dynamic list; returns how many memberships changed."""
    if contact_list.kind != ListKind.DYNAMIC:
        raise ListError("only a dynamic list has conditions")
    try:
        parsed = parse_conditions(conditions)
    except ConditionError as exc:
        raise ListError(str(exc)) from exc
    if not parsed:
        raise ListError("a dynamic list needs at least one condition")
    contact_list.conditions = as_json(parsed)
    contact_list.save(update_fields=["conditions"])
    return rebuild_list(contact_list)


def _membership_event(
    kind: str, contact_list: ContactList, contact_id: int, actor: User | None, why: str
) -> Event:
    verb = "Added to" if kind == "list_member_added" else "Removed from"
    return Event(
        occurred_at=timezone.now(),
        kind=kind,
        contact_id=contact_id,
        actor=actor,
        sentence=f"{verb} the list «{contact_list.name}» {why}.",
        data={"list": contact_list.pk, "list_name": contact_list.name},
    )


def _who(actor: User | None) -> str:
    return f"by {actor.display_name}" if actor else "by Cadency"


def add_to_list(*, contact_list: ContactList, contact: Contact, actor: User | None) -> bool:
    """Put a contact in a static list; False when already there."""
    if contact_list.kind != ListKind.STATIC:
        raise ListError(f"«{contact_list.name}» is dynamic: its conditions decide who is in it")
    if contact.deleted_at is not None:
        raise ListError(f"{contact.email} was deleted")
    with transaction.atomic():
        _, created = ListMembership.objects.get_or_create(
            contact_list=contact_list, contact=contact
        )
        if created:
            record_events(
                [
                    _membership_event(
                        "list_member_added", contact_list, contact.pk, actor, _who(actor)
                    )
                ]
            )
    return created


def remove_from_list(*, contact_list: ContactList, contact: Contact, actor: User | None) -> bool:
    if contact_list.kind != ListKind.STATIC:
        raise ListError(f"«{contact_list.name}» is dynamic: its conditions decide who is in it")
    with transaction.atomic():
        removed, _ = ListMembership.objects.filter(
            contact_list=contact_list, contact=contact
        ).delete()
        if removed:
            record_events(
                [
                    _membership_event(
                        "list_member_removed", contact_list, contact.pk, actor, _who(actor)
                    )
                ]
            )
    return bool(removed)


def _apply(contact_list: ContactList, joining: Iterable[int], leaving: Iterable[int]) -> int:
    joining, leaving = sorted(set(joining)), sorted(set(leaving))
    why = "(its conditions now match)"
    ListMembership.objects.bulk_create(
        [ListMembership(contact_list=contact_list, contact_id=pk) for pk in joining],
        ignore_conflicts=True,
    )
    ListMembership.objects.filter(contact_list=contact_list, contact_id__in=leaving).delete()
    record_events(
        [_membership_event("list_member_added", contact_list, pk, None, why) for pk in joining]
        + [
            _membership_event(
                "list_member_removed", contact_list, pk, None, "(its conditions no longer match)"
            )
            for pk in leaving
        ]
    )
    return len(joining) + len(leaving)


def rebuild_list(contact_list: ContactList) -> int:
    """Make a dynamic list's memberships match its conditions over every live contact."""
    conditions = parse_conditions(contact_list.conditions)
    with transaction.atomic():
        ContactList.objects.select_for_update().get(pk=contact_list.pk)
        wanted = set(
            Contact.objects.filter(as_q(conditions), deleted_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        present = set(contact_list.memberships.values_list("contact_id", flat=True))
        return _apply(contact_list, wanted - present, present - wanted)


def refresh_memberships(contact_ids: Iterable[int]) -> int:
    """Re-check every dynamic list for these contacts (after they or their company
    changed). Returns how many memberships changed."""
    changed = 0
    lists = list(ContactList.objects.filter(kind=ListKind.DYNAMIC).order_by("pk"))
    if not lists:
        return 0
    contacts = list(
        Contact.objects.filter(pk__in=list(contact_ids))
        .select_related("company", "owner")
        .prefetch_related("company__domains")
    )
    for contact_list in lists:
        conditions = parse_conditions(contact_list.conditions)
        with transaction.atomic():
            ContactList.objects.select_for_update().get(pk=contact_list.pk)
            present = set(
                contact_list.memberships.filter(contact__in=contacts).values_list(
                    "contact_id", flat=True
                )
            )
            fits = {c.pk for c in contacts if c.deleted_at is None and matches(c, conditions)}
            changed += _apply(contact_list, fits - present, present - fits)
    return changed


def lists_of(contact: Contact) -> list[ContactList]:
    return list(
        ContactList.objects.filter(memberships__contact=contact).order_by("name").distinct()
    )
