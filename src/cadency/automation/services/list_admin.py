"""Who may change a list, deleting one, and the look-ups the list pages, the API and
the command share. Membership rules themselves live in ``services/lists.py``.

Permissions: anyone signed in may see every list, create lists and add or remove
the contacts of a static list. Changing a dynamic list's conditions or deleting a
list is for its owner, a manager or an admin (a list whose owner was removed: a
manager or an admin only).
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from cadency.accounts.models import User
from cadency.automation.conditions import as_q, parse_conditions
from cadency.automation.models import (
    ContactList,
    ListKind,
    ListMembership,
    TriggerKind,
    UnenrollTrigger,
    Workflow,
)
from cadency.automation.services.lists import ListError
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Contact
from cadency.contacts.services import address_owner
from cadency.ledger.services import record_event

LIVE_MEMBER = Q(memberships__contact__deleted_at__isnull=True)


def may_change_list(actor: User, contact_list: ContactList) -> bool:
    """The owner, a manager or an admin may change the conditions or delete the list."""
    if actor.can_act_on_all_enrollments():
        return True
    return contact_list.owner_id is not None and contact_list.owner_id == actor.pk


def check_may_change_list(actor: User, contact_list: ContactList) -> None:
    """Refuse (403) a change of conditions or a deletion by someone else's rep."""
    if not may_change_list(actor, contact_list):
        raise PermissionDenied(
            f"«{contact_list.name}» belongs to another user; a {actor.role} may only change "
            "or delete the lists they own (a manager or an admin may change any)"
        )


def lists_with_counts() -> QuerySet[ContactList]:
    """Every list with ``member_count`` (live contacts only), by name."""
    return (
        ContactList.objects.select_related("owner")
        .annotate(member_count=Count("memberships", filter=LIVE_MEMBER))
        .order_by("name", "pk")
    )


def members_of(contact_list: ContactList) -> QuerySet[ListMembership]:
    """The list's live contacts, most recently added first."""
    return (
        ListMembership.objects.filter(contact_list=contact_list, contact__deleted_at__isnull=True)
        .select_related("contact", "contact__company", "contact__owner")
        .order_by("-added_at", "-pk")
    )


def count_matching(conditions: Any) -> int:
    """How many live contacts these conditions match now (raises ConditionError)."""
    parsed = parse_conditions(conditions)
    return Contact.objects.filter(as_q(parsed), deleted_at__isnull=True).count()


def find_list(ref: str) -> ContactList | None:
    """A list by id or by exact name (letter case ignored)."""
    ref = ref.strip()
    if ref.isdigit():
        found = ContactList.objects.filter(pk=int(ref)).first()
        if found is not None:
            return found
    return ContactList.objects.filter(name__iexact=ref).first()


def contact_by_address(text: str) -> Contact:
    """The live contact owning this address (primary or alias); ListError otherwise."""
    try:
        address = normalize_email(text)
    except InvalidAddress as exc:
        raise ListError(str(exc)) from exc
    contact = address_owner(address)
    if contact is None:
        raise ListError(f"there is no contact with the address {address}")
    return contact


def users_of(contact_list: ContactList) -> list[str]:
    """What refers to the list and would break if it went away."""
    users = [
        f"the workflow «{w.name}»"
        for w in Workflow.objects.filter(trigger_filters__list=contact_list.pk).order_by("name")
    ]
    users += [
        f"an unenrollment trigger of «{t.sequence.name}»"
        for t in UnenrollTrigger.objects.filter(
            kind=TriggerKind.LIST_JOINED, config__list=contact_list.pk
        )
        .select_related("sequence")
        .order_by("pk")
    ]
    return users


def delete_list(*, contact_list: ContactList, actor: User | None) -> int:
    """Delete a list and its memberships; returns how many live contacts were in it.

    One ``list_deleted`` event is written; the contacts' ``list_member_added`` and
    ``list_member_removed`` events stay in the ledger (leaving a deleted list is not
    "the contact left the list": no workflow fires). Refused with ListError while a
    workflow or an unenrollment trigger refers to the list."""
    in_use = users_of(contact_list)
    if in_use:
        raise ListError(
            f"«{contact_list.name}» is used by {', '.join(in_use)}: change or remove "
            f"{'it' if len(in_use) == 1 else 'them'} first"
        )
    with transaction.atomic():
        locked = ContactList.objects.select_for_update().get(pk=contact_list.pk)
        members = locked.memberships.filter(contact__deleted_at__isnull=True).count()
        who = actor.display_name if actor else "Cadency"
        record_event(
            kind="list_deleted",
            actor=actor,
            sentence=f"{who} deleted the {locked.kind} list «{locked.name}» "
            f"({members} contact{'s' if members != 1 else ''}).",
            data={
                "list": locked.pk,
                "list_name": locked.name,
                "kind": locked.kind,
                "conditions": locked.conditions,
                "members": members,
            },
        )
        locked.delete()
    return members


def is_static(contact_list: ContactList) -> bool:
    return contact_list.kind == ListKind.STATIC
